//go:build unix

package exim

import (
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"golang.org/x/sys/unix"
)

// A plain log file is scanned through mmap in windows, one per worker at a time: no copy
// from the page cache into a buffer (read(2) costs a fifth of the scan otherwise), no
// reader goroutine in front of the workers, and — since each window is unmapped when
// done — resident memory stays a few windows, not the file.
const (
	mmapWindow = 8 << 20 // a multiple of every page size
	mmapSlack  = 1 << 20 // a line crossing a window's end may run this far into the next
	mmapMin    = 4 << 20 // smaller files are read; mapping them gains nothing
)

var errTruncated = errors.New("the file shrank while it was read (rotated with copytruncate?): run again")

// scanFile scans f (size bytes) by mmap; false when it did not (too small, or the
// mapping failed before anything was counted) and the caller should read it instead.
func (t *Tally) scanFile(ctx context.Context, f *os.File, size int64) (bool, error) {
	if size < mmapMin {
		return false, nil
	}
	fd := int(f.Fd())
	probe, err := unix.Mmap(fd, 0, 1, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return false, nil
	}
	unix.Munmap(probe)

	workers := max(1, min(runtime.GOMAXPROCS(0), maxWorkers))
	nwin := int((size + mmapWindow - 1) / mmapWindow)
	jobs := make(chan int, nwin)
	for i := 0; i < nwin; i++ {
		jobs <- i
	}
	close(jobs)
	forks := make([]*Tally, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range forks {
		forks[w] = t.fork()
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// A log truncated under us (logrotate's copytruncate) makes the mapped pages
			// past the new end fault with SIGBUS: turn that into this error, not a crash.
			debug.SetPanicOnFault(true)
			defer func() {
				if p := recover(); p != nil {
					if _, fault := p.(interface{ Addr() uintptr }); !fault {
						panic(p) // a bug, not a fault on the mapping
					}
					errs[w] = errTruncated
				}
			}()
			for i := range jobs {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				if err := forks[w].window(fd, size, int64(i)*mmapWindow); err != nil {
					errs[w] = err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	for _, w := range forks {
		t.merge(w)
	}
	t.Bytes += size
	for _, err := range errs {
		if err != nil {
			return true, err
		}
	}
	return true, nil
}

// window scans the lines that start in [start, start+mmapWindow). The mapping begins a
// page early, so it can see whether the byte before start ends a line.
func (t *Tally) window(fd int, size, start int64) error {
	end := min(start+mmapWindow, size)
	base := start
	if start > 0 {
		base = start - int64(os.Getpagesize())
	}
	length := min(end+mmapSlack, size) - base
	data, err := unix.Mmap(fd, base, int(length), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	defer unix.Munmap(data)
	unix.Madvise(data, unix.MADV_SEQUENTIAL)
	rel := int(start - base)
	own := int(end - base) // lines starting before this offset are ours
	b := rel
	if start > 0 && data[rel-1] != '\n' {
		// the line running into this window belongs to the previous one
		nl := indexNL(data[rel:own])
		if nl < 0 {
			return nil // one line covers the whole window
		}
		b = rel + nl + 1
	}
	e := len(data)
	if end < size {
		if nl := indexNL(data[own-1:]); nl >= 0 {
			e = own + nl
		} else {
			// the last line is longer than the slack: skipped, and counted
			t.LongLines++
			e = lastNL(data[:own]) + 1
		}
	}
	if b < e {
		t.chunk(data[b:e])
	}
	return nil
}
