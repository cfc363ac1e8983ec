//go:build unix

package mailq

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readExact reads a file of the directory that its listing said is regular and that is
// replaced, never grown, while open (Exim writes a new -H file and renames it): a first
// read into a 16 KiB buffer that comes back short is the whole file (open, read, close:
// two syscalls fewer than d.read per message on a big spool); a longer file, or one that
// is not regular after all, goes the fstat way. Its mtime is not filled in.
func (d dirFD) readExact(name string, buf []byte) (fileStat, []byte, error) {
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			st, err := d.stat(name)
			return st, nil, err
		}
		return fileStat{}, nil, err
	}
	defer unix.Close(fd)
	if cap(buf) < 16<<10 {
		buf = make([]byte, 0, 16<<10)
	}
	first := buf[:cap(buf)]
	n, err := unix.Read(fd, first)
	for err == unix.EINTR {
		n, err = unix.Read(fd, first)
	}
	if err == nil && n < len(first) {
		// A short read of a regular file is its end. (Something else swapped in since the
		// listing cannot hang the scan: O_NONBLOCK; a FIFO reads as empty, which the -H
		// parser reports as a damaged message.)
		return fileStat{regular: true, size: int64(n)}, first[:n], nil
	}
	// Longer than the buffer (or a read error): from the start, the size from fstat.
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		return fileStat{}, nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileStat{}, nil, err
	}
	fst := toFileStat(&st)
	if !fst.regular {
		return fst, nil, nil
	}
	if st.Size > maxEnvelope {
		return fileStat{}, nil, errors.New("spool file larger than 64 MB")
	}
	size := int(st.Size)
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:size]
	total, err := readFull(fd, buf)
	if err != nil {
		return fileStat{}, nil, err
	}
	return fst, buf[:total], nil
}
