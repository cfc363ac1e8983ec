package mailq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// StateFrozen is an Exim message that is frozen (exim -Mf, or frozen by Exim after a
// bounce failed): queue runners skip it until it is thawed.
const StateFrozen State = "frozen"

// EximSpools are the input directories Exim uses by default: cPanel/RHEL, then Debian.
var EximSpools = []string{"/var/spool/exim/input", "/var/spool/exim4/input"}

// ValidEximID reports whether s has the form of an Exim message id: base-62 groups of
// 6-6-2 characters up to Exim 4.96, 6-11-4 from 4.97. (Checked by hand: it runs for every
// spool file name.)
func ValidEximID(s string) bool {
	var groups [3]int
	switch len(s) {
	case 16:
		groups = [3]int{6, 6, 2}
	case 23:
		groups = [3]int{6, 11, 4}
	default:
		return false
	}
	i := 0
	for g, n := range groups {
		if g > 0 {
			if s[i] != '-' {
				return false
			}
			i++
		}
		for end := i + n; i < end; i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}

// EximSpool is an Exim spool's input directory, split (input/<c>/, c the 6th character of
// the id) or not, or both at once (after split_spool_directory was turned on).
type EximSpool struct {
	// Dir is the input directory as a system path (/var/spool/exim4/input).
	Dir string

	host *system.Host
	root string // Dir resolved under --root
}

// OpenExim validates dir (a system path, the spool's input/ directory). Empty dir picks
// the first of EximSpools that exists.
func OpenExim(h *system.Host, dir string) (*EximSpool, error) {
	if dir == "" {
		for _, d := range EximSpools {
			if fi, err := h.Stat(d); err == nil && fi.IsDir() {
				dir = d
				break
			}
		}
		if dir == "" {
			return nil, usage.Errorf("mailq: no Exim spool found (%s): set mailq.exim_spool to Exim's input directory (spool_directory + /input)", strings.Join(EximSpools, ", "))
		}
	}
	root, err := resolveDir(h, dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usage.Errorf("exim spool %s: no such directory (set mailq.exim_spool to Exim's input directory, e.g. /var/spool/exim4/input)", dir)
	case err != nil:
		return nil, usage.Errorf("exim spool %s: %w", dir, err)
	case !fi.IsDir():
		return nil, usage.Errorf("exim spool %s: not a directory (set mailq.exim_spool to Exim's input directory)", dir)
	}
	return &EximSpool{Dir: dir, host: h, root: root}, nil
}

// MTA names the mail system.
func (s *EximSpool) MTA() string { return "exim" }

// Location is the spool's input directory.
func (s *EximSpool) Location() string { return s.Dir }

func (s *EximSpool) String() string { return s.Dir + " (exim)" }

// eximEntry is one message's files found in a directory listing.
type eximEntry struct {
	id      string
	sub     string // "" or the split subdirectory
	h, d, j bool
	bad     []string // non-regular files
}

// list reads input/ and its split subdirectories: one entry per id, sorted by id (Exim's
// ids sort by arrival time).
func (s *EximSpool) list() ([]*eximEntry, error) {
	byID := map[string]*eximEntry{}
	var order []*eximEntry
	add := func(sub string, ents []fs.DirEntry) {
		for _, e := range ents {
			name := e.Name()
			if len(name) < 3 || name[len(name)-2] != '-' {
				continue
			}
			id, kind := name[:len(name)-2], name[len(name)-1]
			if kind != 'H' && kind != 'D' && kind != 'J' || !ValidEximID(id) {
				continue
			}
			key := sub + "/" + id
			m := byID[key]
			if m == nil {
				m = &eximEntry{id: id, sub: sub}
				byID[key] = m
				order = append(order, m)
			}
			if !e.Type().IsRegular() {
				m.bad = append(m.bad, name)
				continue
			}
			switch kind {
			case 'H':
				m.h = true
			case 'D':
				m.d = true
			case 'J':
				m.j = true
			}
		}
	}
	ents, err := os.ReadDir(s.root)
	if err != nil {
		return nil, fmt.Errorf("exim spool %s: %w", s.Dir, err)
	}
	add("", ents)
	for _, e := range ents {
		if !e.IsDir() || len(e.Name()) != 1 {
			continue
		}
		sub, err := os.ReadDir(s.root + "/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("exim spool %s: %w", s.Dir, err)
		}
		add(e.Name(), sub)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].id != order[j].id {
			return eximIDLess(order[i].id, order[j].id)
		}
		return order[i].sub < order[j].sub
	})
	return order, nil
}

// eximIDLess orders ids by arrival: base-62 time, then the rest (what exim -bp does).
func eximIDLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Scan streams every message of the spool to fn in id order. The -H files are read in
// parallel (o.Workers) in chunks; fn is called from one goroutine. Bodies (-D) are only
// stat-ed for the size. o.Headers keeps the header block (Message.Subject, content
// filters); o.Envelope is implied (the envelope is the -H file).
func (s *EximSpool) Scan(ctx context.Context, o ScanOptions, fn func(*Message) error) error {
	ents, err := s.list()
	if err != nil {
		return err
	}
	workers := o.Workers
	if workers <= 0 {
		workers = min(2, runtime.GOMAXPROCS(0))
	}
	const chunk = 512
	n := (len(ents) + chunk - 1) / chunk
	results := make([]chan []*Message, n)
	for i := range results {
		results[i] = make(chan []*Message, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	tokens := make(chan struct{}, workers+1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs := map[string]dirFD{}
			defer func() {
				for _, d := range dirs {
					d.close()
				}
			}()
			buf := make([]byte, 0, 8192)
			for c := range next {
				end := min((c+1)*chunk, len(ents))
				out := make([]*Message, 0, end-c*chunk)
				for _, e := range ents[c*chunk : end] {
					var m *Message
					m, buf = s.fill(e, dirs, o, buf)
					out = append(out, m)
				}
				results[c] <- out
			}
		}()
	}
	go func() {
		defer close(next)
		for c := 0; c < n; c++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	for c := 0; c < n; c++ {
		var msgs []*Message
		select {
		case msgs = <-results[c]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// rel is a spool file's path relative to the input directory.
func (e *eximEntry) rel(suffix string) string {
	if e.sub == "" {
		return e.id + suffix
	}
	return e.sub + "/" + e.id + suffix
}

func (s *EximSpool) dir(dirs map[string]dirFD, sub string) (dirFD, error) {
	if d, ok := dirs[sub]; ok {
		return d, nil
	}
	q := &Queue{Dir: s.Dir, root: s.root}
	rel := sub
	if rel == "" {
		rel = "."
	}
	d, err := q.openDirOnly(rel)
	if err != nil {
		return noDir, err
	}
	dirs[sub] = d
	return d, nil
}

// fill reads one message's -H file and stats its -D file.
func (s *EximSpool) fill(e *eximEntry, dirs map[string]dirFD, o ScanOptions, buf []byte) (*Message, []byte) {
	m := &Message{ID: e.id, MTA: "exim", State: StateQueued}
	damage := func(format string, args ...any) { m.Damaged = append(m.Damaged, fmt.Sprintf(format, args...)) }
	for _, b := range e.bad {
		damage("%s is not a regular file (hostfix leaves it alone)", e.rel(b[len(b)-2:]))
		m.Files = append(m.Files, File{Rel: e.rel(b[len(b)-2:])})
	}
	d, err := s.dir(dirs, e.sub)
	if err != nil {
		damage("%v", err)
		return m, buf
	}
	if e.h {
		f := File{Rel: e.rel("-H"), Regular: true}
		st, data, err := d.readExact(e.id+"-H", buf[:0])
		if cap(data) > cap(buf) && cap(data) <= 1<<20 {
			buf = data[:0]
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			e.h = false // delivered or removed since the listing
		case err != nil:
			damage("%s: %v", f.Rel, err)
			m.Files = append(m.Files, f)
		case !st.regular:
			f.Regular = false
			damage("%s is not a regular file (hostfix leaves it alone)", f.Rel)
			m.Files = append(m.Files, f)
		default:
			f.Size = st.size
			m.Files = append(m.Files, f)
			hd, err := ParseEximHeader(data, e.id+"-H", o.Headers)
			if err != nil {
				damage("%s: %v", f.Rel, err)
				m.Queued = st.mtime
				break
			}
			m.Sender, m.SenderKnown = hd.Sender, true
			m.Queued = hd.Received
			for _, r := range hd.Recipients {
				m.Recipients = append(m.Recipients, Recipient{Address: r, Done: hd.Delivered[r]})
			}
			m.Size = hd.HeaderSize
			if hd.Frozen {
				m.State = StateFrozen
			}
			if o.Headers {
				m.header = hd.Headers
				m.Subject = HeaderSubject(hd.Headers)
			}
		}
	}
	if e.d {
		f := File{Rel: e.rel("-D"), Regular: true}
		st, err := d.stat(e.id + "-D")
		switch {
		case errors.Is(err, fs.ErrNotExist):
			e.d = false
		case err != nil:
			damage("%s: %v", f.Rel, err)
			m.Files = append(m.Files, f)
		default:
			f.Size = st.size
			m.Files = append(m.Files, f)
			if st.regular && e.h {
				// exim -bp: header size + data file size - its first line (id-D\n) + 1.
				m.Size += max(0, st.size-int64(len(e.id)+3)+1)
			}
			if m.Queued.IsZero() {
				m.Queued = st.mtime
			}
		}
	}
	if e.j {
		m.Files = append(m.Files, File{Rel: e.rel("-J"), Regular: true})
	}
	switch {
	case !e.h && e.d:
		// Exim writes -D first and -H last: being received, or a reception that died.
		m.State = StateInjecting
	case e.h && !e.d:
		damage("no -D file (the message body is gone)")
	}
	return m, buf
}

// openMessage returns the message as RFC 5322 text: the header block of the -H file, a
// blank line, and the body from -D (after its first line, the id).
func (s *EximSpool) openMessage(m *Message) (io.ReadCloser, error) {
	var hrel, drel string
	for _, f := range m.Files {
		switch {
		case strings.HasSuffix(f.Rel, "-H") && f.Regular:
			hrel = f.Rel
		case strings.HasSuffix(f.Rel, "-D") && f.Regular:
			drel = f.Rel
		}
	}
	if hrel == "" || drel == "" {
		return nil, fmt.Errorf("message %s has no -H and -D file", m.ID)
	}
	header := m.header
	if header == nil {
		b, err := readNoFollow(s.root+"/"+hrel, maxEnvelope)
		if err != nil {
			return nil, err
		}
		hd, err := ParseEximHeader(b, m.ID+"-H", true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", hrel, err)
		}
		header = hd.Headers
	}
	f, err := openNoFollow(s.root + "/" + drel)
	if err != nil {
		return nil, err
	}
	// Skip the -D file's first line (<id>-D).
	first := make([]byte, len(m.ID)+3)
	if _, err := io.ReadFull(f, first); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", drel, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(strings.NewReader(string(header)+"\n"), f), f}, nil
}
