package system

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// MaxLinks bounds symlink resolution, as the kernel does (ELOOP after 40).
const MaxLinks = 40

// Resolve returns the real path of the system path p, as a system path (absolute, as seen
// on the host; h.Path turns it into the path to open). Every symlink on the way is resolved
// component by component inside Root: an absolute link target is a system path again
// (resolved under Root), and ".." never climbs above Root, so the result can never lead
// outside the tree being worked on. Missing components are fine: the rest of p is kept as
// it is (a file about to be created). A link loop, or more than MaxLinks links, is an
// error wrapping syscall.ELOOP.
//
// On the live host (Root "/") the kernel resolves paths the same way; Resolve still
// returns the real path.
func (h *Host) Resolve(p string) (string, error) {
	p = filepath.Clean("/" + p)
	links := 0
	for {
		resolved, again, err := h.resolveOnce(p, &links)
		if err != nil {
			return "", err
		}
		if !again {
			return resolved, nil
		}
		p = resolved
	}
}

// resolveOnce walks p component by component; at the first symlink it splices the target
// in and asks the caller to start again.
func (h *Host) resolveOnce(p string, links *int) (string, bool, error) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		if part == "" {
			continue
		}
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(h.Path(next))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				// Nothing below a missing component can be a link: the rest is created.
				return filepath.Join(next, strings.Join(parts[i+1:], "/")), false, nil
			}
			return "", false, h.unrootErr(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		*links++
		if *links > MaxLinks {
			return "", false, &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := os.Readlink(h.Path(next))
		if err != nil {
			return "", false, h.unrootErr(err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(cur, target)
		}
		rest := strings.Join(parts[i+1:], "/")
		return filepath.Clean("/" + filepath.Join(target, rest)), true, nil
	}
	return cur, false, nil
}

// unrootErr shows a *fs.PathError's path as a system path.
func (h *Host) unrootErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: h.Unroot(pe.Path), Err: pe.Err}
	}
	return err
}

// RealPath is the path to open for the system path p: Resolve, then Path. It is for the
// layers that change files (pkg/plan); runbooks read through the Host's methods.
func (h *Host) RealPath(p string) (string, error) {
	r, err := h.Resolve(p)
	if err != nil {
		return "", err
	}
	return h.Path(r), nil
}

// ParentPath is the path to open for the system path p with its directories resolved
// (Resolve) but its last component left alone, as lstat, readlink, unlink and rename need
// it (they act on a link, not on its target).
func (h *Host) ParentPath(p string) (string, error) {
	p = filepath.Clean("/" + p)
	if p == "/" {
		return h.Root, nil
	}
	dir, err := h.Resolve(filepath.Dir(p))
	if err != nil {
		return "", err
	}
	return h.Path(filepath.Join(dir, filepath.Base(p))), nil
}

// openPath is the path a read of p opens: on the live host the kernel resolves it exactly
// as Resolve would; under --root, Resolve keeps it inside Root.
func (h *Host) openPath(p string) (string, error) {
	if h.Live() {
		return h.Path(p), nil
	}
	r, err := h.RealPath(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Clean("/"+p), err)
	}
	return r, nil
}

// lopenPath is openPath leaving the last component alone (Lstat, Readlink).
func (h *Host) lopenPath(p string) (string, error) {
	if h.Live() {
		return h.Path(p), nil
	}
	r, err := h.ParentPath(p)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Clean("/"+p), err)
	}
	return r, nil
}
