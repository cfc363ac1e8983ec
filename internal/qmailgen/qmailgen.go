// Package qmailgen writes realistic qmail queues for hostfix's tests, fuzz seeds and
// benchmarks, following the on-disk layout of notqmail (hier.c, qmail-queue.c,
// qmail-send.c): a message id is the inode of its mess/ file (created in pid/ and linked
// into mess/<id mod split>/, as qmail-queue does), todo/ and intd/ are one hard-linked
// file, info/local/remote are written as qmail-send's preprocessing writes them and done
// recipients are D records. It is test tooling: it must never touch a real queue, so it
// only writes into a directory it is given and refuses one that already holds messages.
package qmailgen

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Rcpt is one envelope recipient.
type Rcpt struct {
	Addr string
	Done bool
}

// Message describes one message to write.
type Message struct {
	Sender string
	// Local and Remote recipients (preprocessed); for a queued message all recipients
	// are in Local+Remote and written to todo/ as T records (Done is ignored).
	Local, Remote []Rcpt
	// Preprocessed writes info/local/remote; false leaves it in todo/+intd/.
	Preprocessed bool
	// Bounce writes bounce/<id> (a bounce is pending).
	Bounce  bool
	Subject string
	Size    int // total size of mess/<id>
	Age     time.Duration
	// ID is set by Write.
	ID uint64
}

// Layout is the queue's shape.
type Layout struct {
	Split   int  // conf-split, default 23
	BigTodo bool // todo/ and intd/ split too
}

var dirs = []string{"mess", "info", "local", "remote", "todo", "intd", "bounce", "lock", "pid"}

// Skeleton creates an empty queue in dir as qmail's install does (dir may exist but must
// hold no messages).
func Skeleton(dir string, l Layout) error {
	if l.Split <= 0 {
		l.Split = 23
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "mess")); err == nil && len(ents) > 0 {
		return fmt.Errorf("qmailgen: %s already holds a queue", dir)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return err
		}
	}
	split := []string{"mess", "info", "local", "remote"}
	if l.BigTodo {
		split = append(split, "todo", "intd")
	}
	for _, d := range split {
		for i := 0; i < l.Split; i++ {
			if err := os.MkdirAll(filepath.Join(dir, d, strconv.Itoa(i)), 0o750); err != nil {
				return err
			}
		}
	}
	for _, f := range []string{"sendmutex", "tcpto"} {
		if err := os.WriteFile(filepath.Join(dir, "lock", f), nil, 0o600); err != nil {
			return err
		}
	}
	if err := mkfifo(filepath.Join(dir, "lock", "trigger"), 0o622); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// Writer writes messages into a queue created by Skeleton.
type Writer struct {
	Dir    string
	Layout Layout
	Now    time.Time
	seq    int
}

func (w *Writer) split() int {
	if w.Layout.Split <= 0 {
		return 23
	}
	return w.Layout.Split
}

func (w *Writer) path(d string, id uint64, splitDir bool) string {
	if splitDir {
		return filepath.Join(w.Dir, d, strconv.FormatUint(id%uint64(w.split()), 10), strconv.FormatUint(id, 10))
	}
	return filepath.Join(w.Dir, d, strconv.FormatUint(id, 10))
}

// Body returns the message text qmail would store: its own Received line, a header and a
// body padded to size.
func Body(m *Message, now time.Time, pid int) []byte {
	var b bytes.Buffer
	t := now.Add(-m.Age).UTC()
	fmt.Fprintf(&b, "Received: (qmail %d invoked by uid 1001); %s\n", pid, t.Format("2 Jan 2006 15:04:05 -0000"))
	from := m.Sender
	if from == "" || from == "#@[]" {
		from = "MAILER-DAEMON@mail.example.net"
	}
	fmt.Fprintf(&b, "From: %s\nTo: ", from)
	all := append(append([]Rcpt{}, m.Local...), m.Remote...)
	for i, r := range all {
		if i > 0 {
			b.WriteString(",\n ")
		}
		b.WriteString(r.Addr)
	}
	fmt.Fprintf(&b, "\nSubject: %s\nDate: %s\nMessage-ID: <%d.%d@mail.example.net>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n",
		m.Subject, t.Format(time.RFC1123Z), t.Unix(), pid)
	line := []byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n")
	for b.Len() < m.Size {
		n := min(len(line), m.Size-b.Len())
		b.Write(line[:n])
	}
	return b.Bytes()
}

// Write stores one message the way qmail-queue (and qmail-send's preprocessing, when
// m.Preprocessed) would, sets m.ID and returns it.
func (w *Writer) Write(m *Message) (uint64, error) {
	if w.Now.IsZero() {
		w.Now = time.Now()
	}
	w.seq++
	tmp := filepath.Join(w.Dir, "pid", strconv.Itoa(os.Getpid())+"."+strconv.Itoa(w.seq))
	body := Body(m, w.Now, 10000+w.seq)
	m.Size = len(body) // a header longer than the asked size wins
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return 0, err
	}
	id, err := inode(tmp, w.seq)
	if err != nil {
		return 0, err
	}
	m.ID = id
	mess := w.path("mess", id, true)
	if err := os.Link(tmp, mess); err != nil {
		return 0, fmt.Errorf("qmailgen: link %s: %w", mess, err)
	}
	if err := os.Remove(tmp); err != nil {
		return 0, err
	}
	t := w.Now.Add(-m.Age)
	var files []string
	if !m.Preprocessed {
		var env bytes.Buffer
		fmt.Fprintf(&env, "u%d\x00p%d\x00F%s\x00", 1001, 10000+w.seq, m.Sender)
		for _, r := range append(append([]Rcpt{}, m.Local...), m.Remote...) {
			fmt.Fprintf(&env, "T%s\x00", r.Addr)
		}
		intd := w.path("intd", id, w.Layout.BigTodo)
		if err := os.WriteFile(intd, env.Bytes(), 0o644); err != nil {
			return 0, err
		}
		todo := w.path("todo", id, w.Layout.BigTodo)
		if err := os.Link(intd, todo); err != nil {
			return 0, err
		}
		files = append(files, intd)
	} else {
		info := w.path("info", id, true)
		if err := os.WriteFile(info, []byte("F"+m.Sender+"\x00"), 0o600); err != nil {
			return 0, err
		}
		files = append(files, info)
		for _, ch := range []struct {
			dir string
			rs  []Rcpt
		}{{"local", m.Local}, {"remote", m.Remote}} {
			var env bytes.Buffer
			pending := false
			for _, r := range ch.rs {
				typ := "T"
				if r.Done {
					typ = "D"
				} else {
					pending = true
				}
				env.WriteString(typ + r.Addr + "\x00")
			}
			// qmail-send removes a channel file once every recipient in it is done.
			if !pending {
				continue
			}
			p := w.path(ch.dir, id, true)
			if err := os.WriteFile(p, env.Bytes(), 0o600); err != nil {
				return 0, err
			}
		}
		if m.Bounce {
			p := w.path("bounce", id, false)
			text := "<" + firstAddr(m) + ">:\nSorry, I couldn't find any host named example.invalid. (#5.1.2)\n\n"
			if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
				return 0, err
			}
		}
	}
	files = append(files, mess)
	for _, f := range files {
		if err := os.Chtimes(f, t, t); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func firstAddr(m *Message) string {
	for _, r := range append(append([]Rcpt{}, m.Local...), m.Remote...) {
		return r.Addr
	}
	return ""
}

// Options shape a random, realistic queue.
type Options struct {
	Layout
	Messages int
	Seed     uint64
	Now      time.Time
	// Spam is the share of messages from the compromised account spam@victim.example
	// (the usual reason for a purge); default 0.4.
	Spam float64
	// Queued is the share not yet preprocessed (in todo/); default 0.02.
	Queued float64
	// NoBodies makes every message a few hundred bytes (fast fixtures for tests).
	NoBodies bool
}

// Generate creates a queue in dir with o.Messages random messages and returns them.
// Sizes follow a log-normal law with a median of about 4 KB, plus 0.1 % of 1–4 MB
// attachments; ages spread over a week; most messages have one remote recipient, some
// many (mailing lists, with part already done), some local ones; 5 % are bounces (empty
// sender), a few double bounces (#@[]); about 1 % have a bounce pending.
func Generate(dir string, o Options) ([]*Message, error) {
	if err := Skeleton(dir, o.Layout); err != nil {
		return nil, err
	}
	if o.Spam == 0 {
		o.Spam = 0.4
	}
	if o.Queued == 0 {
		o.Queued = 0.02
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	w := &Writer{Dir: dir, Layout: o.Layout, Now: o.Now}
	domains := []string{"gmail.com", "yahoo.com", "hotmail.com", "example.org", "t-online.de", "web.de", "orange.fr", "mail.ru", "outlook.com", "aol.com", "example.invalid"}
	local := []string{"info@hosted.example", "sales@hosted.example", "admin@shop.example", "postmaster@mail.example.net"}
	out := make([]*Message, 0, o.Messages)
	for i := 0; i < o.Messages; i++ {
		m := &Message{Preprocessed: r.Float64() >= o.Queued}
		p := r.Float64()
		switch {
		case p < o.Spam:
			m.Sender = "spam@victim.example"
			m.Subject = "Cheap meds " + strconv.Itoa(r.IntN(1000))
		case p < o.Spam+0.05:
			m.Sender = ""
			m.Subject = "failure notice"
			m.Bounce = false
		case p < o.Spam+0.053:
			m.Sender = "#@[]"
			m.Subject = "failure notice"
		default:
			m.Sender = fmt.Sprintf("user%d@%s", r.IntN(5000), domains[r.IntN(len(domains)-1)])
			m.Subject = "Re: order " + strconv.Itoa(r.IntN(100000))
		}
		n := 1
		switch q := r.Float64(); {
		case q < 0.01:
			n = 20 + r.IntN(80)
		case q < 0.15:
			n = 2 + r.IntN(3)
		}
		for j := 0; j < n; j++ {
			if r.Float64() < 0.15 {
				m.Local = append(m.Local, Rcpt{Addr: local[r.IntN(len(local))]})
			} else {
				m.Remote = append(m.Remote, Rcpt{Addr: fmt.Sprintf("r%d@%s", r.IntN(100000), domains[r.IntN(len(domains))])})
			}
		}
		if m.Preprocessed && n > 1 {
			for j := range m.Remote {
				if j < len(m.Remote)-1 && r.Float64() < 0.5 {
					m.Remote[j].Done = true
				}
			}
		}
		if len(m.Remote) == 0 && len(m.Local) > 0 && m.Preprocessed && r.Float64() < 0.1 {
			m.Local[0].Done = len(m.Local) > 1
		}
		m.Bounce = m.Preprocessed && r.Float64() < 0.01
		if o.NoBodies {
			m.Size = 300 + r.IntN(400)
		} else if r.Float64() < 0.001 {
			m.Size = 1<<20 + r.IntN(3<<20)
		} else {
			m.Size = int(math.Min(math.Exp(math.Log(4096)+0.9*r.NormFloat64()), 512<<10))
		}
		m.Age = time.Duration(r.Int64N(int64(7 * 24 * time.Hour)))
		if _, err := w.Write(m); err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}
