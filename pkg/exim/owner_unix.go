//go:build unix

package exim

import (
	"io/fs"
	"syscall"
)

// owner returns a file's uid and gid (-1, -1 when unknown).
func owner(fi fs.FileInfo) (int, int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
