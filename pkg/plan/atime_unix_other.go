//go:build unix && !linux

package plan

import (
	"io/fs"
	"time"
)

// atimeOf falls back to the modification time where hostfix does not read the access time.
func atimeOf(fi fs.FileInfo) time.Time { return fi.ModTime() }
