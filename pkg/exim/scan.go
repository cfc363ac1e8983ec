package exim

import (
	"bytes"
	"context"
	"errors"
	"io"
)

// Scanning reads a log in big chunks and looks only for the two markers with bytes.Index
// over the whole chunk (SIMD in the runtime), so a line that is neither an authenticator
// failure nor an authenticated reception is never split out or looked at: that is what
// makes a 1 GB log about as cheap as `grep -c`. Memory is one chunk (plus the longest
// line), whatever the size of the log.

const (
	chunkSize = 1 << 20
	// maxLine bounds the buffer a single line may grow it to; the rest of a longer line
	// is skipped (no Exim line of interest is that long).
	maxLine = 8 << 20
)

// Scan feeds every authenticator failure and authenticated reception of r to t.
func (t *Tally) Scan(ctx context.Context, r io.Reader) error {
	buf := make([]byte, chunkSize)
	tail := 0         // bytes of an incomplete last line kept at the front of buf
	skipping := false // inside a line longer than maxLine: drop up to its newline
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadAtLeast(r, buf[tail:], 1)
		t.Bytes += int64(n)
		data := buf[:tail+n]
		eof := err != nil
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if skipping {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				tail = 0
				if eof {
					return nil
				}
				continue
			}
			data = data[nl+1:]
			skipping = false
		}
		cut := len(data)
		if !eof {
			cut = bytes.LastIndexByte(data, '\n') + 1
		}
		t.chunk(data[:cut])
		rest := data[cut:]
		if eof {
			return nil
		}
		if len(rest) == len(buf) {
			// one line fills the whole buffer
			if len(buf) >= maxLine {
				t.LongLines++
				skipping = true
				tail = 0
				continue
			}
			nb := make([]byte, 2*len(buf))
			copy(nb, rest)
			buf = nb
			tail = len(rest)
			continue
		}
		tail = copy(buf, rest)
	}
}

// chunk handles whole lines.
func (t *Tally) chunk(data []byte) {
	for pos := 0; pos < len(data); {
		i := bytes.Index(data[pos:], markFailed)
		if i < 0 {
			break
		}
		i += pos
		start := bytes.LastIndexByte(data[:i], '\n') + 1
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		if f, ok := parseFailureAt(data[start:end], i-start, t.zone); ok {
			t.AddFailure(&f)
		}
		pos = end
	}
	if t.NoLogins {
		return
	}
	for pos := 0; pos < len(data); {
		i := bytes.Index(data[pos:], markAuth)
		if i < 0 {
			break
		}
		i += pos
		start := bytes.LastIndexByte(data[:i], '\n') + 1
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		if l, ok := parseLoginAt(data[start:end], i-start, t.zone); ok {
			t.AddLogin(&l)
		}
		pos = end
	}
}
