package exim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
)

// Scanning reads a log in big chunks and looks only for the two markers with bytes.Index
// over the whole chunk (SIMD in the runtime), so a line that is neither an authenticator
// failure nor an authenticated reception is never split out or looked at: that is what
// makes a 1 GB log about as cheap as `grep -c`. Memory is a few chunks per worker,
// whatever the size of the log.

const (
	// chunkSize is one read; a line longer than that is skipped (counted in LongLines):
	// no Exim line of interest comes near it.
	chunkSize = 128 << 10
	// maxWorkers bounds the goroutines that scan chunks in parallel.
	maxWorkers = 4
)

// Scan feeds every authenticator failure and authenticated reception of r to t. One
// goroutine reads chunks cut at a newline; up to GOMAXPROCS (at most maxWorkers) scan
// them, each into its own Tally, merged at the end: the counts do not depend on order.
func (t *Tally) Scan(ctx context.Context, r io.Reader) error {
	workers := min(runtime.GOMAXPROCS(0), maxWorkers)
	if workers < 2 {
		// two buffers in turn: the one being scanned and the one read next
		var spare [][]byte
		get := func() []byte {
			if n := len(spare); n > 0 {
				b := spare[n-1]
				spare = spare[:n-1]
				return b
			}
			return make([]byte, chunkSize)
		}
		put := func(b []byte) { spare = append(spare, b[:cap(b)]) }
		return t.read(ctx, r, func(b []byte) { t.chunk(b); put(b) }, get, put)
	}
	free := make(chan []byte, workers+2)
	for i := 0; i < workers+2; i++ {
		free <- make([]byte, chunkSize)
	}
	work := make(chan []byte, workers)
	forks := make([]*Tally, workers)
	var wg sync.WaitGroup
	for i := range forks {
		forks[i] = t.fork()
		wg.Add(1)
		go func(w *Tally) {
			defer wg.Done()
			for b := range work {
				w.chunk(b)
				free <- b[:cap(b)]
			}
		}(forks[i])
	}
	err := t.read(ctx, r, func(b []byte) { work <- b }, func() []byte { return <-free }, func(b []byte) { free <- b })
	close(work)
	wg.Wait()
	for _, w := range forks {
		t.merge(w)
	}
	return err
}

// read cuts r into chunks of whole lines and hands each to emit; get returns an empty
// buffer (of chunkSize) and put gives back one that was not emitted.
func (t *Tally) read(ctx context.Context, r io.Reader, emit func([]byte), get func() []byte, put func([]byte)) error {
	buf := get()
	tail := 0         // bytes of an incomplete last line at the front of buf
	skipping := false // inside a line longer than chunkSize: drop up to its newline
	for {
		if err := ctx.Err(); err != nil {
			put(buf)
			return err
		}
		n, err := io.ReadAtLeast(r, buf[tail:], 1)
		t.Bytes += int64(n)
		data := buf[:tail+n]
		eof := err != nil
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			put(buf)
			return err
		}
		if skipping {
			nl := bytes.IndexByte(data, '\n')
			if nl < 0 {
				tail = 0
				if eof {
					put(buf)
					return nil
				}
				continue
			}
			copy(buf, data[nl+1:])
			data = buf[:len(data)-nl-1]
			skipping = false
		}
		cut := len(data)
		if !eof {
			cut = bytes.LastIndexByte(data, '\n') + 1
		}
		if cut == 0 && len(data) == len(buf) {
			t.LongLines++
			skipping = true
			tail = 0
			continue
		}
		next := get()
		tail = copy(next, data[cut:])
		if cut > 0 {
			emit(data[:cut])
		} else {
			put(buf)
		}
		if eof {
			put(next)
			return nil
		}
		buf = next
	}
}

// chunk handles whole lines. Exim starts every line with the same prefix (timestamp,
// optional .msec and offset, optional [pid]), so the hot path splits lines with
// IndexByte (memchr speed) and looks at the word after the prefix: a message id followed
// by "<=" is a reception, any other word followed by " authenticator failed for " is a
// failure, everything else is skipped after a few byte compares. A line without that
// prefix (piped through syslog, say) falls back to searching the markers in the line.
func (t *Tally) chunk(data []byte) {
	for len(data) > 0 {
		var line []byte
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			line, data = data, nil
		}
		p := afterPrefix(line)
		if p < 0 {
			t.generic(line)
			continue
		}
		rest := line[p:]
		if id := messageID(rest); id > 0 {
			if t.NoLogins || len(rest) < id+4 || rest[id+1] != '<' || rest[id+2] != '=' || rest[id+3] != ' ' {
				continue
			}
			if i := indexAuth(rest[id:]); i >= 0 {
				if l, ok := parseReception(line, p+id+i, t.zone); ok {
					t.AddLogin(&l)
				}
			}
			continue
		}
		sp := bytes.IndexByte(rest, ' ')
		if sp <= 0 || !bytes.HasPrefix(rest[sp:], markFailed) {
			continue
		}
		if f, ok := parseFailureAt(line, p+sp, t.zone); ok {
			t.AddFailure(&f)
		}
	}
}

// generic handles a line of unknown shape by searching for the markers.
func (t *Tally) generic(line []byte) {
	if f, ok := ParseFailure(line, t.zone); ok {
		t.AddFailure(&f)
		return
	}
	if t.NoLogins {
		return
	}
	if l, ok := ParseLogin(line, t.zone); ok {
		t.AddLogin(&l)
	}
}

// afterPrefix returns where the text after Exim's line prefix starts, or -1 when the line
// does not start with an Exim timestamp.
func afterPrefix(line []byte) int {
	if len(line) < 21 || line[4] != '-' || line[7] != '-' || line[10] != ' ' || line[13] != ':' || line[16] != ':' ||
		!isDigit(line[0]) || !isDigit(line[3]) || !isDigit(line[9]) || !isDigit(line[12]) || !isDigit(line[15]) || !isDigit(line[18]) {
		return -1
	}
	p := 19
	if line[p] != ' ' {
		if line[p] == '.' {
			p++
			for p < len(line) && isDigit(line[p]) {
				p++
			}
		}
		if p+6 <= len(line) && line[p] == ' ' && (line[p+1] == '+' || line[p+1] == '-') && isDigit(line[p+2]) {
			p += 6
		}
		if p+2 > len(line) || line[p] != ' ' {
			return -1
		}
	} else if p+6 <= len(line) && (line[p+1] == '+' || line[p+1] == '-') && isDigit(line[p+2]) {
		p += 6 // log_timezone without millisec
	}
	p++
	if p < len(line) && line[p] == '[' {
		// [pid]: a few digits, scanned here rather than with a call
		k := p + 1
		for k < len(line) && isDigit(line[k]) {
			k++
		}
		if k+1 >= len(line) || line[k] != ']' || line[k+1] != ' ' {
			return -1
		}
		p = k + 2
	}
	return p
}

// messageID returns the length of an Exim message id at the start of s when a space
// follows it (16 bytes, 6-6-2, before Exim 4.97; 23 bytes, 6-11-4, since), else 0.
func messageID(s []byte) int {
	if len(s) < 17 || s[6] != '-' {
		return 0
	}
	if s[13] == '-' && s[16] == ' ' {
		return 16
	}
	if len(s) >= 24 && s[18] == '-' && s[23] == ' ' {
		return 23
	}
	return 0
}

// indexAuth finds " A=" anchored on the rarer 'A' rather than the space bytes.Index
// would start from.
func indexAuth(s []byte) int {
	for off := 0; ; {
		i := bytes.IndexByte(s[off:], 'A')
		if i < 0 {
			return -1
		}
		i += off
		if i > 0 && i+1 < len(s) && s[i-1] == ' ' && s[i+1] == '=' {
			return i - 1
		}
		off = i + 1
	}
}

func indexNL(b []byte) int { return bytes.IndexByte(b, '\n') }
func lastNL(b []byte) int  { return bytes.LastIndexByte(b, '\n') }
