//go:build !unix && !windows

package plan

import (
	"io/fs"
	"os"
	"time"
)

func keepMeta(f *os.File, name string, mode fs.FileMode, mtime time.Time) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	return os.Chtimes(name, mtime, mtime)
}

func freeSpace(string) (int64, bool) { return 0, false }
