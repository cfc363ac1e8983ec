//go:build !unix

package qmailgen

import "os"

// mkfifo: no FIFOs here; an empty file stands in for lock/trigger (qmail runs only on Unix,
// this only keeps the generator building and usable for layout tests elsewhere).
func mkfifo(path string, mode uint32) error {
	return os.WriteFile(path, nil, os.FileMode(mode))
}

// inode: no inode numbers; the writer's sequence number (offset so ids look like qmail's)
// is unique within one queue as long as one Writer fills it.
func inode(path string, seq int) (uint64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, err
	}
	return uint64(100000 + seq), nil
}
