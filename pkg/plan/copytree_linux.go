//go:build linux

package plan

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// renameNew moves tmp to dst only if dst does not exist (renameat2 RENAME_NOREPLACE: one
// syscall, and no window in which a file appearing at dst would be replaced). It returns
// an error satisfying errors.Is(err, fs.ErrExist) when dst exists.
func renameNew(tmp, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &os.LinkError{Op: "rename", Old: tmp, New: dst, Err: fs.ErrExist}
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP):
		return renameChecked(tmp, dst) // a filesystem without RENAME_NOREPLACE (some network ones)
	}
	return &os.LinkError{Op: "rename", Old: tmp, New: dst, Err: err}
}

// canSyncFS: Linux can make a whole filesystem durable with one call.
const canSyncFS = true

// syncFS makes everything written to dir's filesystem durable (syncfs(2)).
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
