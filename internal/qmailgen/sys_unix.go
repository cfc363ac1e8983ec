//go:build unix

package qmailgen

import (
	"os"
	"syscall"
)

func mkfifo(path string, mode uint32) error { return syscall.Mkfifo(path, mode) }

// inode is the message id qmail-queue uses: the inode number of the mess/ file.
func inode(path string, _ int) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}
