//go:build !unix

package mailq

import (
	"io/fs"
	"time"
)

func atimeOf(fi fs.FileInfo) time.Time { return fi.ModTime() }
