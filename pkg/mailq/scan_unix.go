//go:build unix

package mailq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// dirFD is an open directory of the queue for *at() calls: one open per directory, then
// fstatat/openat by name, never a path walk per file and never a symlink followed.
type dirFD struct {
	fd  int
	rel string
}

var noDir = dirFD{fd: -1}

func (d dirFD) valid() bool { return d.fd >= 0 }

func (d dirFD) close() {
	if d.fd >= 0 {
		unix.Close(d.fd)
	}
}

// openDirOnly opens a directory of the queue without reading it.
func (q *Queue) openDirOnly(rel string) (dirFD, error) {
	fd, err := unix.Open(q.root+"/"+rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return noDir, fmt.Errorf("queue %s: open %s/: %w", q.Dir, rel, err)
	}
	return dirFD{fd: fd, rel: rel}, nil
}

// openDir opens a directory of the queue and lists it.
func (q *Queue) openDir(rel string) (dirFD, []fs.DirEntry, error) {
	d, err := q.openDirOnly(rel)
	if err != nil {
		return noDir, nil, err
	}
	// os.File reads the entries (getdents with d_type, no stat); the fd stays ours for
	// openat/fstatat, so dup it for the File that closes its own copy.
	dup, err := unix.Dup(d.fd)
	if err != nil {
		d.close()
		return noDir, nil, fmt.Errorf("queue %s: open %s/: %w", q.Dir, rel, err)
	}
	f := os.NewFile(uintptr(dup), q.root+"/"+rel)
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		d.close()
		return noDir, nil, fmt.Errorf("queue %s: read %s/: %w", q.Dir, rel, err)
	}
	return d, ents, nil
}

func toFileStat(st *unix.Stat_t) fileStat {
	return fileStat{
		regular: st.Mode&unix.S_IFMT == unix.S_IFREG,
		size:    st.Size,
		mtime:   time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
	}
}

// stat is lstat of a file in the directory.
func (d dirFD) stat(name string) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fileStat{}, err
	}
	return toFileStat(&st), nil
}

// read reads a regular file in the directory without following symlinks; for anything
// else it returns the lstat and no data.
func (d dirFD) read(name string, buf []byte) (fileStat, []byte, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			// O_NOFOLLOW on a symlink: report it as what it is.
			st, err := d.stat(name)
			return st, nil, err
		}
		return fileStat{}, nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileStat{}, nil, err
	}
	fst := toFileStat(&st)
	if !fst.regular {
		return fst, nil, nil
	}
	size := int(min(st.Size, maxEnvelope))
	if cap(buf) < size+1 {
		buf = make([]byte, 0, size+1)
	}
	buf = buf[:size+1]
	total, err := readFull(fd, buf)
	if err != nil {
		return fileStat{}, nil, err
	}
	if total > size && st.Size >= maxEnvelope {
		return fileStat{}, nil, fmt.Errorf("envelope larger than %d bytes", maxEnvelope)
	}
	return fst, buf[:total], nil
}

// readSubject reads the header part of a mess/ file (never its body) for the Subject.
func (d dirFD) readSubject(name string) (string, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return "", errors.New("not a regular file")
	}
	buf := make([]byte, min(int64(maxHeader), st.Size))
	total, err := readFull(fd, buf)
	if err != nil {
		return "", err
	}
	return HeaderSubject(buf[:total]), nil
}

// readFull reads from fd until buf is full or the file ends, retrying on EINTR; it returns
// how many bytes it read.
func readFull(fd int, buf []byte) (int, error) {
	total := 0
	for total < len(buf) {
		n, err := unix.Read(fd, buf[total:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}
