//go:build !linux

package mailq

import (
	"io/fs"
	"time"
)

// atimeOf falls back to the modification time where hostfix does not read the access
// time (a rollback of flush then sets both to the old mtime, as qmHandle -t sets both).
func atimeOf(fi fs.FileInfo) time.Time { return fi.ModTime() }
