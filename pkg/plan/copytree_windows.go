//go:build windows

package plan

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// keepMeta sets the copy's last-write time on its open handle. Permission bits mean
// little on NTFS (ACLs are inherited from the destination folder, as robocopy does by
// default without /SEC), so they are left alone.
func keepMeta(f *os.File, _ string, _ fs.FileMode, mtime time.Time) error {
	ft := windows.NsecToFiletime(mtime.UnixNano())
	return windows.SetFileTime(windows.Handle(f.Fd()), nil, nil, &ft)
}

// freeSpace is the space available to this user on dir's volume (local or a share).
func freeSpace(dir string) (int64, bool) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, false
	}
	var free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, nil, nil); err != nil {
		return 0, false
	}
	return int64(free), true
}
