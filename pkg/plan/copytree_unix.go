//go:build unix

package plan

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// keepMeta gives the copy the source's permission bits and modification time.
func keepMeta(f *os.File, name string, mode fs.FileMode, mtime time.Time) error {
	if err := f.Chmod(mode); err != nil {
		return err
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, name, []unix.Timespec{ts, ts}, 0)
}

// freeSpace is what an unprivileged writer may still use on dir's filesystem.
func freeSpace(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
