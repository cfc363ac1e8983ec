package system

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("--root %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--root %s: not a directory", root)
	}
	if r == nil {
		r = ExecRunner{}
	}
	return &Host{Root: abs, Runner: r, Now: time.Now}, nil
}

// Live reports whether hostfix works on the running system rather than a tree under --root.
// Only a live host has a kernel to ask (netlink, sysctl writes that take effect, services).
func (h *Host) Live() bool { return h.Root == "/" }

// Path resolves a system path (absolute, as on the host) under Root. It is the one place
// that builds system paths: runbooks pass "/etc/sysctl.conf", never a joined string.
// A relative path is taken as relative to the host's /; ".." cannot climb above Root.
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

// ReadFile reads a system path.
func (h *Host) ReadFile(p string) ([]byte, error) { return os.ReadFile(h.Path(p)) }

// Open opens a system path for reading.
func (h *Host) Open(p string) (*os.File, error) { return os.Open(h.Path(p)) }

// Stat stats a system path, following symlinks.
func (h *Host) Stat(p string) (fs.FileInfo, error) { return os.Stat(h.Path(p)) }

// Lstat stats a system path without following a final symlink.
func (h *Host) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(h.Path(p)) }

// ReadDir lists a system directory.
func (h *Host) ReadDir(p string) ([]os.DirEntry, error) { return os.ReadDir(h.Path(p)) }

// Exists reports whether a system path exists (a dangling symlink counts).
func (h *Host) Exists(p string) bool {
	_, err := os.Lstat(h.Path(p))
	return err == nil
}

// Glob matches a system path pattern and returns host paths (not resolved ones).
func (h *Host) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(h.Path(pattern))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(m))
	for _, p := range m {
		out = append(out, h.Unroot(p))
	}
	return out, nil
}

// IsNotExist reports a missing file through any wrapping.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
