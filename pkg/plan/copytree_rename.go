package plan

import (
	"io/fs"
	"os"
)

// renameChecked is renameNew where the system cannot refuse to replace: it checks first.
func renameChecked(tmp, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: dst, Err: fs.ErrExist}
	}
	return os.Rename(tmp, dst)
}
