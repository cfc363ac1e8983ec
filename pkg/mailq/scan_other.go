//go:build !unix

package mailq

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// dirFD is a directory of the queue by path: systems without *at() calls (qmail itself
// runs only on Unix; this keeps the module building and reading copied queues elsewhere).
// Every file is Lstat-ed before it is opened, and the open file is checked again.
type dirFD struct {
	path string
	rel  string
}

var noDir = dirFD{}

func (d dirFD) valid() bool { return d.path != "" }

func (d dirFD) close() {}

func (q *Queue) openDirOnly(rel string) (dirFD, error) {
	path := filepath.Join(q.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(path)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		return noDir, fmt.Errorf("queue %s: open %s/: %w", q.Dir, rel, err)
	}
	return dirFD{path: path, rel: rel}, nil
}

func (q *Queue) openDir(rel string) (dirFD, []fs.DirEntry, error) {
	d, err := q.openDirOnly(rel)
	if err != nil {
		return noDir, nil, err
	}
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return noDir, nil, fmt.Errorf("queue %s: read %s/: %w", q.Dir, rel, err)
	}
	return d, ents, nil
}

func toFileStat(fi fs.FileInfo) fileStat {
	return fileStat{regular: fi.Mode().IsRegular(), size: fi.Size(), mtime: fi.ModTime()}
}

func (d dirFD) stat(name string) (fileStat, error) {
	fi, err := os.Lstat(filepath.Join(d.path, name))
	if err != nil {
		return fileStat{}, err
	}
	return toFileStat(fi), nil
}

// openRegular opens name only if its lstat says regular file and the opened file is
// still one.
func (d dirFD) openRegular(name string) (*os.File, fileStat, error) {
	st, err := d.stat(name)
	if err != nil || !st.regular {
		return nil, st, err
	}
	f, err := os.Open(filepath.Join(d.path, name))
	if err != nil {
		return nil, fileStat{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fileStat{}, err
	}
	st = toFileStat(fi)
	if !st.regular {
		f.Close()
		return nil, st, nil
	}
	return f, st, nil
}

func (d dirFD) read(name string, buf []byte) (fileStat, []byte, error) {
	f, st, err := d.openRegular(name)
	if f == nil {
		return st, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEnvelope+1))
	if err != nil {
		return fileStat{}, nil, err
	}
	if len(data) > maxEnvelope {
		return fileStat{}, nil, fmt.Errorf("envelope larger than %d bytes", maxEnvelope)
	}
	return st, append(buf[:0], data...), nil
}

func (d dirFD) readSubject(name string) (string, error) {
	f, _, err := d.openRegular(name)
	if f == nil {
		if err == nil {
			err = errors.New("not a regular file")
		}
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHeader))
	if err != nil {
		return "", err
	}
	return HeaderSubject(data), nil
}
