//go:build !unix

package plan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// hostfix changes Unix hosts; on other systems it builds (for --root work on fixtures) but
// cannot read owners or test flocks.

func ownerOf(fs.FileInfo) (int, int) { return -1, -1 }

func tryFlock(*os.File) (bool, error) { return false, errors.ErrUnsupported }

type fileStat struct {
	mode     fs.FileMode
	uid, gid int
	size     int64
}

// dirSet is the path-based fallback of the Unix directory-handle set.
type dirSet struct{}

func newDirSet() *dirSet { return &dirSet{} }

func (*dirSet) stat(dir, name string) (fileStat, error) {
	fi, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{mode: fi.Mode(), uid: -1, gid: -1, size: fi.Size()}, nil
}

func (*dirSet) unlink(dir, name string) error { return os.Remove(filepath.Join(dir, name)) }

func (*dirSet) rename(dir, name, dstDir, dstName string) error {
	return os.Rename(filepath.Join(dir, name), filepath.Join(dstDir, dstName))
}

func (*dirSet) close() {}

func copyXattrs(string, *os.File) error { return nil }

// setTimes sets a file's access and modification times.
func setTimes(p string, atime, mtime time.Time) error { return os.Chtimes(p, atime, mtime) }

// atimeOf falls back to the modification time where the access time is not read.
func atimeOf(fi fs.FileInfo) time.Time { return fi.ModTime() }
