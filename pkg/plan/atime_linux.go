//go:build linux

package plan

import (
	"io/fs"
	"syscall"
	"time"
)

// atimeOf is a file's access time.
func atimeOf(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec))
	}
	return fi.ModTime()
}
