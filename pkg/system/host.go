package system

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/usage"
)

// Host is the machine hostfix works on, seen through Root.
type Host struct {
	// Root is the directory every system path is resolved under; "/" is the live system.
	Root string
	// Runner runs external commands.
	Runner Runner
	// Now is the clock; tests pin it.
	Now func() time.Time
}

// NewHost returns a Host rooted at root ("" means "/").
func NewHost(root string, r Runner) (*Host, error) {
	if root == "" {
		root = "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("--root %s: %w", usage.ClipPath(root), err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		// The reason without Go's "stat PATH" prefix: the path is named already.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--root %s: %w", usage.ClipPath(root), err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--root %s: not a directory", usage.ClipPath(root))
	}
	if r == nil {
		r = ExecRunner{}
	}
	return &Host{Root: abs, Runner: r, Now: time.Now}, nil
}

// Live reports whether hostfix works on the running system rather than a tree under --root.
// Only a live host has a kernel to ask (netlink, sysctl writes that take effect, services).
func (h *Host) Live() bool { return h.Root == "/" }

// Path joins a system path (absolute, as on the host) under Root, lexically: it does not
// follow symlinks (Resolve does; RealPath is both). It is the one place that builds
// system paths: runbooks pass "/etc/sysctl.conf", never a joined string. A relative path
// is taken as relative to the host's /; ".." cannot climb above Root.
func (h *Host) Path(p string) string {
	clean := filepath.Clean("/" + p)
	if h.Root == "/" {
		return clean
	}
	return filepath.Join(h.Root, clean)
}

// Unroot turns a resolved path back into the path as seen on the host, for messages and
// manifests. A path outside Root is returned unchanged.
func (h *Host) Unroot(p string) string {
	if h.Root == "/" {
		return p
	}
	rel, err := filepath.Rel(h.Root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p
	}
	return filepath.Clean("/" + rel)
}

// ReadFile reads a system path. Like every read method of Host it resolves symlinks
// inside Root (Resolve), so a link in a --root tree never leads to the real host.
func (h *Host) ReadFile(p string) ([]byte, error) {
	rp, err := h.openPath(p)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(rp)
}

// Open opens a system path for reading.
func (h *Host) Open(p string) (*os.File, error) {
	rp, err := h.openPath(p)
	if err != nil {
		return nil, err
	}
	return os.Open(rp)
}

// Stat stats a system path, following symlinks (inside Root).
func (h *Host) Stat(p string) (fs.FileInfo, error) {
	rp, err := h.openPath(p)
	if err != nil {
		return nil, err
	}
	return os.Stat(rp)
}

// Lstat stats a system path without following a final symlink.
func (h *Host) Lstat(p string) (fs.FileInfo, error) {
	rp, err := h.lopenPath(p)
	if err != nil {
		return nil, err
	}
	return os.Lstat(rp)
}

// Readlink returns the target of the symlink at a system path, as written in the link.
func (h *Host) Readlink(p string) (string, error) {
	rp, err := h.lopenPath(p)
	if err != nil {
		return "", err
	}
	return os.Readlink(rp)
}

// ReadDir lists a system directory.
func (h *Host) ReadDir(p string) ([]os.DirEntry, error) {
	rp, err := h.openPath(p)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(rp)
}

// Exists reports whether a system path exists (a dangling symlink counts).
func (h *Host) Exists(p string) bool {
	_, err := h.Lstat(p)
	return err == nil
}

// Glob matches a system path pattern (filepath.Match syntax per component) and returns
// host paths in the pattern's terms (not resolved ones), sorted. Directories are listed
// through Resolve, so a link in the tree never leads the match outside Root.
func (h *Host) Glob(pattern string) ([]string, error) {
	pattern = filepath.Clean("/" + pattern)
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	cur := []string{"/"}
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	for i, part := range parts {
		if part == "" {
			continue
		}
		last := i == len(parts)-1
		var next []string
		for _, dir := range cur {
			if !hasMeta(part) {
				p := filepath.Join(dir, part)
				if last {
					if h.Exists(p) {
						next = append(next, p)
					}
				} else {
					next = append(next, p)
				}
				continue
			}
			ents, err := h.ReadDir(dir)
			if err != nil {
				continue // as filepath.Glob: unreadable directories match nothing
			}
			for _, e := range ents {
				if ok, _ := filepath.Match(part, e.Name()); ok {
					next = append(next, filepath.Join(dir, e.Name()))
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			break
		}
	}
	if len(parts) == 1 && parts[0] == "" {
		return []string{"/"}, nil
	}
	sort.Strings(cur)
	return cur, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// IsNotExist reports a missing file through any wrapping.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
