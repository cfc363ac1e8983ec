package mailq

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ScanOptions say how much of each message a scan reads. The directory listings and one
// stat per file are always done; envelopes and headers only when asked.
type ScanOptions struct {
	// Envelope reads info/, local/, remote/ and todo/ (sender and recipients).
	Envelope bool
	// Headers reads the header part of mess/ (for the subject).
	Headers bool
	// Workers read split directories in parallel (default: 2, or GOMAXPROCS if lower).
	Workers int
	// namesOnly skips every stat and read: which files exist, nothing more (verification).
	namesOnly bool
	// light skips the stat of local/, remote/, intd/ and bounce/ files that are not read
	// (purge needs mess/ sizes and info/ or todo/ times, not those): a quarter fewer
	// syscalls on a 100,000-message purge. Their File.Size stays 0.
	light bool
	// noTimes (with light) also skips the stat of info/, todo/ and intd/ files that are not
	// read: only mess/ is stat-ed (its size), so Queued is mess/'s mtime. For purges that
	// neither filter on age nor on damage: the plan layer lstats every file before removing
	// it anyway. PlanPurge looks up the exact times of the messages it shows.
	noTimes bool
}

// maxEnvelope caps what is read of one envelope file; a real one is a few hundred bytes,
// a mailing list's recipient file some megabytes.
const maxEnvelope = 64 << 20

// Scan streams every message of the queue to fn, split bucket by bucket (ids in numeric
// order inside a bucket), reading buckets in parallel but calling fn from one goroutine
// only. Memory is bounded by a few buckets' envelopes; bodies are never read. An error
// from fn stops the scan and is returned.
func (q *Queue) Scan(ctx context.Context, o ScanOptions, fn func(*Message) error) error {
	workers := o.Workers
	if workers <= 0 {
		workers = min(2, runtime.GOMAXPROCS(0))
	}
	flat, err := q.readFlat()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)

	type result struct {
		msgs []*Message
		err  error
	}
	results := make([]chan result, q.Split)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	// tokens bound how many finished buckets wait for the consumer.
	tokens := make(chan struct{}, workers+1)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				msgs, err := q.scanBucket(ctx, b, flat[b], o)
				results[b] <- result{msgs, err}
			}
		}()
	}
	go func() {
		defer close(next)
		for b := 0; b < q.Split; b++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Stop the producer and workers before waiting for them (an early return from fn).
	defer func() {
		cancel()
		wg.Wait()
	}()
	for b := 0; b < q.Split; b++ {
		var r result
		select {
		case r = <-results[b]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		if r.err != nil {
			return r.err
		}
		for _, m := range r.msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// flatEntry is a file of an unsplit directory (todo/, intd/, bounce/) assigned to a bucket.
type flatEntry struct {
	name    string
	slot    Slot
	regular bool
}

// readFlat lists the unsplit directories and assigns their files to buckets by id mod split.
func (q *Queue) readFlat() ([][]flatEntry, error) {
	out := make([][]flatEntry, q.Split)
	add := func(dir string, slot Slot) error {
		ents, err := os.ReadDir(q.root + "/" + dir)
		if err != nil {
			return fmt.Errorf("queue %s: read %s/: %w", q.Dir, dir, err)
		}
		for _, e := range ents {
			b := 0
			if n, err := strconv.ParseUint(e.Name(), 10, 64); err == nil {
				b = int(n % uint64(q.Split))
			}
			out[b] = append(out[b], flatEntry{name: e.Name(), slot: slot, regular: e.Type().IsRegular()})
		}
		return nil
	}
	if !q.BigTodo {
		if err := add("todo", SlotTodo); err != nil {
			return nil, err
		}
	}
	if !q.IntdSplit {
		if err := add("intd", SlotIntd); err != nil {
			return nil, err
		}
	}
	if err := add("bounce", SlotBounce); err != nil {
		return nil, err
	}
	return out, nil
}

// scanBucket builds the messages of split bucket b.
func (q *Queue) scanBucket(ctx context.Context, b int, flat []flatEntry, o ScanOptions) ([]*Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bs := strconv.Itoa(b)
	var dirs [nSlots]dirFD
	for i := range dirs {
		dirs[i] = noDir
	}
	defer func() {
		for _, d := range dirs {
			d.close()
		}
	}()
	msgs := map[string]*Message{}
	get := func(name string) *Message {
		m := msgs[name]
		if m == nil {
			m = &Message{ID: name}
			msgs[name] = m
		}
		return m
	}
	regular := map[string]bool{} // slot/name -> regular, only for non-regular entries
	splitSlots := []Slot{SlotMess, SlotInfo, SlotLocal, SlotRemote}
	if q.BigTodo {
		splitSlots = append(splitSlots, SlotTodo)
	}
	if q.IntdSplit {
		splitSlots = append(splitSlots, SlotIntd)
	}
	for _, s := range splitSlots {
		d, ents, err := q.openDir(s.String() + "/" + bs)
		if err != nil {
			return nil, err
		}
		dirs[s] = d
		for _, e := range ents {
			m := get(e.Name())
			m.has[s] = true
			if !e.Type().IsRegular() {
				regular[s.String()+"/"+e.Name()] = false
			}
		}
	}
	for _, s := range []Slot{SlotTodo, SlotIntd, SlotBounce} {
		if dirs[s].valid() {
			continue
		}
		if (s == SlotTodo && q.BigTodo) || (s == SlotIntd && q.IntdSplit) {
			continue
		}
		// Flat directory: opened lazily, only if this bucket has files there.
		for _, e := range flat {
			if e.slot == s {
				d, err := q.openDirOnly(s.String())
				if err != nil {
					return nil, err
				}
				dirs[s] = d
				break
			}
		}
	}
	for _, e := range flat {
		m := get(e.name)
		m.has[e.slot] = true
		if !e.regular {
			regular[e.slot.String()+"/"+e.name] = false
		}
	}
	ids := make([]string, 0, len(msgs))
	for id := range msgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[i], ids[j]) })
	out := make([]*Message, 0, len(ids))
	buf := make([]byte, 0, 4096)
	for i, id := range ids {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		m := msgs[id]
		m.bucket = b
		buf = q.fill(m, b, &dirs, regular, o, buf)
		out = append(out, m)
	}
	return out, nil
}

// rel is the path of a message's file relative to the queue.
func (q *Queue) rel(s Slot, b int, id string) string {
	switch {
	case s == SlotBounce, s == SlotTodo && !q.BigTodo, s == SlotIntd && !q.IntdSplit:
		return s.String() + "/" + id
	}
	return s.String() + "/" + strconv.Itoa(b) + "/" + id
}

// fill reads what the options ask for and classifies the message.
func (q *Queue) fill(m *Message, b int, dirs *[nSlots]dirFD, irregular map[string]bool, o ScanOptions, buf []byte) []byte {
	var mtime [nSlots]time.Time
	name := m.ID // the file name in every slot
	damage := func(format string, args ...any) { m.Damaged = append(m.Damaged, fmt.Sprintf(format, args...)) }
	n, numErr := strconv.ParseUint(name, 10, 64)
	misplaced := numErr == nil && int(n%uint64(q.Split)) != b
	if numErr != nil {
		damage("%q is not a qmail message id (ids are numbers)", name)
	} else if misplaced {
		damage("files are in split directory %d but qmail looks for id %s in %d: not part of message %s", b, name, n%uint64(q.Split), name)
	}
	var todo []byte
	var todoOK bool
	for s := Slot(0); s < nSlots; s++ {
		if !m.has[s] {
			continue
		}
		f := File{Slot: s, Rel: q.rel(s, b, name), Regular: true}
		if _, bad := irregular[s.String()+"/"+name]; bad {
			f.Regular = false
			damage("%s is not a regular file (hostfix leaves it alone)", f.Rel)
			m.Files = append(m.Files, f)
			continue
		}
		if o.namesOnly {
			m.Files = append(m.Files, f)
			continue
		}
		d := dirs[s]
		read := o.Envelope && (s == SlotInfo || s == SlotLocal || s == SlotRemote || s == SlotTodo)
		if o.light && !read && (s == SlotLocal || s == SlotRemote || s == SlotIntd || s == SlotBounce ||
			o.noTimes && (s == SlotInfo || s == SlotTodo)) {
			m.Files = append(m.Files, f)
			continue
		}
		var st fileStat
		var data []byte
		var err error
		if read {
			st, data, err = d.read(name, buf[:0])
			if cap(data) > cap(buf) && cap(data) <= 1<<20 {
				buf = data[:0]
			}
		} else {
			st, err = d.stat(name)
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				// Delivered or preprocessed between listing and reading: not there any more.
				m.has[s] = false
				continue
			}
			damage("%s: %v", f.Rel, err)
			m.Files = append(m.Files, f)
			continue
		}
		if !st.regular {
			f.Regular = false
			damage("%s is not a regular file (hostfix leaves it alone)", f.Rel)
			m.Files = append(m.Files, f)
			continue
		}
		f.Size = st.size
		mtime[s] = st.mtime
		m.Files = append(m.Files, f)
		if !read {
			continue
		}
		switch s {
		case SlotInfo:
			if !m.has[SlotTodo] {
				sender, err := ParseInfo(data)
				if err != nil {
					damage("%s: %v", f.Rel, err)
				} else {
					m.Sender, m.SenderKnown = sender, true
				}
			}
		case SlotLocal, SlotRemote:
			if m.has[SlotTodo] {
				continue // being preprocessed again: todo/ is the truth
			}
			rs, err := ParseRecipients(data, s.String())
			if err != nil {
				damage("%s: %v", f.Rel, err)
			}
			m.Recipients = append(m.Recipients, rs...)
		case SlotTodo:
			todo, todoOK = append([]byte(nil), data...), true
		}
	}
	if m.has[SlotMess] {
		for _, f := range m.Files {
			if f.Slot == SlotMess {
				m.Size = f.Size
			}
		}
	}
	switch {
	case m.has[SlotTodo]:
		m.State = StateQueued
		if todoOK {
			t, err := ParseTodo(todo)
			if err != nil {
				damage("%s: %v", q.rel(SlotTodo, b, name), err)
			} else {
				m.Sender, m.SenderKnown = t.Sender, true
				for _, r := range t.Recipients {
					m.Recipients = append(m.Recipients, Recipient{Address: r, Channel: "unprocessed"})
				}
			}
		}
	case m.has[SlotInfo]:
		m.State = StatePreprocessed
	default:
		m.State = StateInjecting
		if m.has[SlotLocal] || m.has[SlotRemote] || m.has[SlotBounce] {
			damage("no info/ file (sender record) for its local/, remote/ or bounce/ file")
		}
	}
	if !m.has[SlotMess] {
		damage("no mess/ file (the message itself is gone)")
	}
	m.Bounce = m.has[SlotBounce]
	for _, s := range []Slot{SlotInfo, SlotTodo, SlotIntd, SlotMess} {
		if !mtime[s].IsZero() {
			m.Queued = mtime[s]
			break
		}
	}
	if o.Headers && m.has[SlotMess] && dirs[SlotMess].valid() {
		subj, err := dirs[SlotMess].readSubject(name)
		if err == nil {
			m.Subject = subj
		} else {
			m.HeaderErr = fmt.Sprintf("%s: %v", q.rel(SlotMess, b, name), err)
		}
	}
	if misplaced {
		// Another message may own this id in its own split directory (with the flat
		// todo/, intd/ and bounce/ files, which belong to that one): this file set is
		// named apart, "B/ID", so that list, --id, purge and its check never mix the two.
		m.name = name
		m.ID = strconv.Itoa(b) + "/" + name
	}
	return buf
}

// queuedTime sets m.Queued the way a full scan does (info/, todo/, intd/, then mess/
// mtime) for a message scanned with noTimes: a few lstats, for the messages a plan shows.
func (q *Queue) queuedTime(m *Message) {
	for _, s := range []Slot{SlotInfo, SlotTodo, SlotIntd, SlotMess} {
		if !m.has[s] {
			continue
		}
		if fi, err := os.Lstat(q.root + "/" + q.rel(s, m.bucket, m.FileName())); err == nil && fi.Mode().IsRegular() {
			m.Queued = fi.ModTime()
			return
		}
	}
}

// fileStat is what a scan keeps of a file's lstat: the platform files fill it.
type fileStat struct {
	regular bool
	size    int64
	mtime   time.Time
}
