//go:build linux

package plan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"

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

// openUnnamed opens an unnamed temp file in dir (O_TMPFILE): the copy has no name until
// linkUnnamed gives it its final one, so a kill leaves nothing behind, and creating it
// does not hold dir's lock while the filesystem allocates the inode (parallel copies into
// one folder do not queue behind each other). ok is false where this cannot work (no
// O_TMPFILE on the filesystem: NFS, CIFS, FUSE; no /proc to link it by): the caller uses a
// named temp file instead.
func openUnnamed(dir string) (f *os.File, ok bool) {
	if !procFD() {
		return nil, false
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	f = os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed)"))
	// Once per process: /proc/self/fd must name this process's files (a /proc mounted
	// from another PID namespace would not), or nothing could be linked.
	procSelf.once.Do(func() { procSelf.ok = sameFile(f, unnamedPath(f)) })
	if !procSelf.ok {
		f.Close()
		return nil, false
	}
	return f, true
}

var procSelf struct {
	once sync.Once
	ok   bool
}

// sameFile says whether path names f's inode.
func sameFile(f *os.File, path string) bool {
	var a, b unix.Stat_t
	return unix.Fstat(int(f.Fd()), &a) == nil && unix.Stat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

// unnamedPath names f's inode for calls that take a path (utimensat).
func unnamedPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

// linkUnnamed gives the unnamed file f the name dst; like renameNew it never replaces a
// file (errors.Is(err, fs.ErrExist) when dst exists). It links through /proc/self/fd,
// which needs no privilege (linkat's AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH).
func linkUnnamed(f *os.File, dst string) error {
	err := unix.Linkat(unix.AT_FDCWD, unnamedPath(f), unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &os.LinkError{Op: "link", Old: f.Name(), New: dst, Err: fs.ErrExist}
	}
	return &os.LinkError{Op: "link", Old: f.Name(), New: dst, Err: err}
}

var procFD = sync.OnceValue(func() bool {
	fi, err := os.Stat("/proc/self/fd")
	return err == nil && fi.IsDir()
})

// unnamedLimit is how many unnamed temp files a copy may hold open at once, waiting for
// their batch's syncfs: a quarter of the open-file limit (Go raises the soft limit to the
// hard one at start), so a low limit means named temp files, never EMFILE.
var unnamedLimit = sync.OnceValue(func() int64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return int64(min(rl.Cur, 1<<20) / 4)
})
