package mailq

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hostfix/hostfix/pkg/system"
)

// resolveDir is a system directory's real path under --root.
func resolveDir(h *system.Host, dir string) (string, error) {
	real, err := h.Resolve(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	return h.Path(real), nil
}

// openNoFollow opens a regular file without following a symlink in its last component:
// the file opened must be the one Lstat saw.
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !os.SameFile(fi, st) {
		f.Close()
		return nil, errors.New(path + ": replaced while opening it")
	}
	return f, nil
}

// readNoFollow reads up to max bytes of a regular file (see openNoFollow).
func readNoFollow(path string, max int64) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max))
}
