//go:build unix

package plan

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ownerOf returns a file's uid and gid (-1 when unknown).
func ownerOf(fi fs.FileInfo) (int, int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}

// tryFlock takes a non-blocking exclusive flock on f and releases it at once: it reports
// whether nobody else holds one.
func tryFlock(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, unix.Flock(int(f.Fd()), unix.LOCK_UN)
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}

// fileStat is what a bulk removal needs to know of one file.
type fileStat struct {
	mode     fs.FileMode
	uid, gid int
	size     int64
}

// dirSet keeps directories open so per-file calls are relative to them (fstatat,
// unlinkat, renameat): no full path walk per file, and a directory swapped for a symlink
// after it was checked cannot redirect the calls (it is opened with O_NOFOLLOW).
type dirSet struct {
	fds map[string]int
}

func newDirSet() *dirSet { return &dirSet{fds: map[string]int{}} }

func (d *dirSet) fd(dir string) (int, error) {
	if fd, ok := d.fds[dir]; ok {
		return fd, nil
	}
	if len(d.fds) >= 256 {
		d.close()
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	d.fds[dir] = fd
	return fd, nil
}

func (d *dirSet) stat(dir, name string) (fileStat, error) {
	fd, err := d.fd(dir)
	if err != nil {
		return fileStat{}, err
	}
	var st unix.Stat_t
	for {
		err = unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fileStat{}, &fs.PathError{Op: "lstat", Path: dir + "/" + name, Err: err}
	}
	mode := goMode(uint32(st.Mode) & 0o7777) // uint16 on the BSDs
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	default:
		mode |= fs.ModeIrregular
	}
	return fileStat{mode: mode, uid: int(st.Uid), gid: int(st.Gid), size: st.Size}, nil
}

func (d *dirSet) unlink(dir, name string) error {
	fd, err := d.fd(dir)
	if err != nil {
		return err
	}
	if err := unix.Unlinkat(fd, name, 0); err != nil {
		return &fs.PathError{Op: "unlink", Path: dir + "/" + name, Err: err}
	}
	return nil
}

func (d *dirSet) rename(dir, name, dstDir, dstName string) error {
	fd, err := d.fd(dir)
	if err != nil {
		return err
	}
	dfd, err := d.fd(dstDir)
	if err != nil {
		return err
	}
	if err := unix.Renameat(fd, name, dfd, dstName); err != nil {
		return &os.LinkError{Op: "rename", Old: dir + "/" + name, New: dstDir + "/" + dstName, Err: err}
	}
	return nil
}

func (d *dirSet) close() {
	for k, fd := range d.fds {
		unix.Close(fd)
		delete(d.fds, k)
	}
}

// copyXattrs gives dst the extended attributes of src: POSIX ACLs (system.posix_acl_*),
// the SELinux label (security.selinux) and user attributes, which a rename of a new file
// would otherwise drop. Attributes the filesystem or our privileges do not allow are
// skipped: keeping owner and mode is the guarantee, xattrs are best effort.
func copyXattrs(src string, dst *os.File) error {
	size, err := unix.Llistxattr(src, nil)
	if err != nil || size == 0 {
		return nil // no xattr support here, or none set
	}
	buf := make([]byte, size)
	n, err := unix.Llistxattr(src, buf)
	if err != nil {
		return nil
	}
	for _, name := range splitNul(buf[:n]) {
		vsize, err := unix.Lgetxattr(src, name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, vsize)
		vn, err := unix.Lgetxattr(src, name, val)
		if err != nil {
			continue
		}
		if err := unix.Fsetxattr(int(dst.Fd()), name, val[:vn], 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				continue
			}
			return &fs.PathError{Op: "setxattr " + name, Path: dst.Name(), Err: err}
		}
	}
	return nil
}

func splitNul(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	return out
}

// setTimes sets a file's access and modification times without following a symlink.
func setTimes(p string, atime, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	for {
		err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "utimensat", Path: p, Err: err}
		}
		return nil
	}
}
