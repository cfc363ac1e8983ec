package mailq

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/pkg/usage"
)

const qdir = "/var/qmail/queue"

// fixture builds a queue from the documented layout: files maps a path relative to the
// queue to its content; a content "=link:REL" hard-links to REL (todo/intd), "=symlink:T"
// makes a symlink.
func fixture(t *testing.T, l qmailgen.Layout, files map[string]string) (*Queue, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, qdir)
	if err := qmailgen.Skeleton(dir, l); err != nil {
		t.Fatal(err)
	}
	var links [][2]string
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		switch {
		case strings.HasPrefix(content, "=link:"):
			links = append(links, [2]string{filepath.Join(dir, content[6:]), p})
			continue
		case strings.HasPrefix(content, "=symlink:"):
			if err := os.Symlink(content[9:], p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range links {
		if err := os.Link(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	q, err := Open(hostAt(t, root), qdir)
	if err != nil {
		t.Fatal(err)
	}
	return q, dir
}

func scanAll(t *testing.T, q *Queue, o ScanOptions) map[string]*Message {
	t.Helper()
	out := map[string]*Message{}
	if err := q.Scan(context.Background(), o, func(m *Message) error { out[m.ID] = m; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

const body = "Received: (qmail 1 invoked by uid 1001); 28 Nov 2026 07:00:00 -0000\nSubject: Win big\n\nhello\n"

func TestLayoutStates(t *testing.T) {
	// split 3: id 30 -> bucket 0, 31 -> 1, 32 -> 2, 33 -> 0 …
	q, _ := fixture(t, qmailgen.Layout{Split: 3}, map[string]string{
		// queued: mess + intd + todo, one file hard-linked
		"mess/0/30": body, "intd/30": "u1001\x00p5\x00Fa@example.com\x00Tx@remote.example\x00Tinfo@hosted.example\x00", "todo/30": "=link:intd/30",
		// preprocessed, remote with a D-marked recipient, local pending
		"mess/1/31": body, "info/1/31": "Fb@example.com\x00", "remote/1/31": "Dr1@x.org\x00Tr2@y.org\x00", "local/1/31": "Tinfo@hosted.example\x00",
		// bounce: empty sender, bounce pending
		"mess/2/32": body, "info/2/32": "F\x00", "remote/2/32": "Tc@z.org\x00", "bounce/32": "<c@z.org>:\nno host\n",
		// double bounce
		"mess/0/33": body, "info/0/33": "F#@[]\x00", "local/0/33": "Tpostmaster@hosted.example\x00",
		// injecting: mess + intd only
		"mess/1/34": body, "intd/34": "u1\x00p2\x00Fa@b\x00",
	})
	if q.Split != 3 || q.BigTodo {
		t.Fatalf("split %d big-todo %v", q.Split, q.BigTodo)
	}
	ms := scanAll(t, q, ScanOptions{Envelope: true})
	check := func(id string, st State, sender string, pending, done int, bounce bool) {
		t.Helper()
		m := ms[id]
		if m == nil {
			t.Fatalf("%s not found", id)
		}
		if m.IsDamaged() {
			t.Errorf("%s damaged: %v", id, m.Damaged)
		}
		if m.State != st || m.Sender != sender || !m.SenderKnown && st != StateInjecting || m.Pending() != pending || len(m.Recipients)-m.Pending() != done || m.Bounce != bounce {
			t.Errorf("%s: %+v", id, m)
		}
		if m.Size != int64(len(body)) {
			t.Errorf("%s: size %d", id, m.Size)
		}
	}
	check("30", StateQueued, "a@example.com", 2, 0, false)
	check("31", StatePreprocessed, "b@example.com", 2, 1, false)
	check("32", StatePreprocessed, "", 1, 0, true)
	check("33", StatePreprocessed, "#@[]", 1, 0, false)
	check("34", StateInjecting, "", 0, 0, false)
	if r := ms["30"].Recipients; r[0].Channel != "unprocessed" {
		t.Errorf("todo recipients: %+v", r)
	}
	if got := len(ms["30"].Files); got != 3 {
		t.Errorf("queued message files: %+v", ms["30"].Files)
	}
}

func TestLayoutBigTodo(t *testing.T) {
	q, _ := fixture(t, qmailgen.Layout{Split: 5, BigTodo: true}, map[string]string{
		"mess/2/7": body, "intd/2/7": "u1\x00p2\x00Fa@b\x00Tc@d\x00", "todo/2/7": "=link:intd/2/7",
	})
	if !q.BigTodo || !q.IntdSplit || q.Split != 5 {
		t.Fatalf("layout: %+v", q)
	}
	ms := scanAll(t, q, ScanOptions{Envelope: true})
	m := ms["7"]
	if m == nil || m.State != StateQueued || m.IsDamaged() || m.Sender != "a@b" {
		t.Fatalf("big-todo message: %+v", m)
	}
	want := []string{"mess/2/7", "todo/2/7", "intd/2/7"}
	var got []string
	for _, f := range m.Files {
		got = append(got, f.Rel)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", got, want)
	}
}

func TestLayoutDamaged(t *testing.T) {
	q, _ := fixture(t, qmailgen.Layout{Split: 2}, map[string]string{
		"info/0/10": "Fa@b\x00", "remote/0/10": "Tc@d\x00", // info without mess
		"mess/1/11": body, "remote/1/11": "Tc@d\x00", // remote without info
		"mess/0/12": body, "info/0/12": "Fa@b", // unreadable envelope (truncated)
		"todo/13":   "u1\x00p2\x00Fa@b\x00Tc@d\x00",                  // todo without mess
		"mess/0/14": "=symlink:/etc/passwd", "info/0/14": "Fa@b\x00", // symlink
		"mess/0/15": body, "info/0/15": "Fa@b\x00", // id 15 is odd: belongs in bucket 1
		"bounce/junk": "x", // not an id
		"bounce/16":   "orphan bounce",
	})
	ms := scanAll(t, q, ScanOptions{Envelope: true})
	for _, c := range []struct{ id, want string }{
		{"10", "no mess/ file"}, {"11", "no info/ file"}, {"12", "cut short"}, {"13", "no mess/ file"},
		{"14", "not a regular file"}, {"0/15", "qmail looks for id 15 in 1"}, {"junk", "not a qmail message id"},
		{"16", "no info/ file"},
	} {
		m := ms[c.id]
		if m == nil {
			t.Errorf("%s: not reported", c.id)
			continue
		}
		if !strings.Contains(strings.Join(m.Damaged, "; "), c.want) {
			t.Errorf("%s: damaged %q, want %q", c.id, m.Damaged, c.want)
		}
	}
	for _, f := range ms["14"].Files {
		if f.Slot == SlotMess && f.Regular {
			t.Errorf("symlink mess counted as regular")
		}
	}
	// A damaged queue must not crash the statistics either.
	s, err := CollectStats(context.Background(), q, time.Now())
	if err != nil || s.Damaged != len(ms) {
		t.Fatalf("stats: %+v, %v", s, err)
	}
}

func TestNotAQueue(t *testing.T) {
	root := t.TempDir()
	h := hostAt(t, root)
	if _, err := Open(h, "/var/qmail/queue"); err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "no such directory") {
		t.Fatalf("missing dir: %v", err)
	}
	dir := filepath.Join(root, "var/qmail/queue")
	for _, d := range []string{"mess/0", "info/0", "local/0", "remote/0"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	_, err := Open(h, "/var/qmail/queue")
	if err == nil || !usage.Is(err) {
		t.Fatalf("want usage error, got %v", err)
	}
	for _, want := range []string{"not a qmail queue", "todo/", "intd/", "bounce/", "lock/", "pid/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	for _, d := range []string{"todo", "intd", "bounce", "lock", "pid"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.MkdirAll(filepath.Join(dir, "mess", "1"), 0o755)
	if _, err := Open(h, "/var/qmail/queue"); err == nil || !strings.Contains(err.Error(), "inconsistent layout") {
		t.Fatalf("split mismatch: %v", err)
	}
}

func TestFilter(t *testing.T) {
	q, _ := fixture(t, qmailgen.Layout{Split: 1}, map[string]string{
		"mess/0/1": body, "info/0/1": "Fspam@victim.example\x00", "remote/0/1": "Dx@gone.example\x00Ty@ok.example\x00",
		"mess/0/2": "Subject: hello\n\n", "info/0/2": "F\x00", "local/0/2": "Tinfo@hosted.example\x00",
		"info/0/3": "Fspam@victim.example\x00",
	})
	now := time.Now()
	ms := scanAll(t, q, ScanOptions{Envelope: true, Headers: true})
	cases := []struct {
		spec FilterSpec
		want string
	}{
		{FilterSpec{Sender: "^spam@"}, "1 3"},
		{FilterSpec{Sender: "^$"}, "2"},
		{FilterSpec{Recipient: "gone"}, "1"}, // a done recipient matches too
		{FilterSpec{Subject: "(?i)win"}, "1"},
		{FilterSpec{Sender: "^spam@", Damaged: true}, "3"},
		{FilterSpec{IDs: []string{"2,#3"}}, "2 3"},
		{FilterSpec{OlderThan: "1h"}, ""},
		{FilterSpec{All: true}, "1 2 3"},
	}
	for _, c := range cases {
		f, err := c.spec.Compile()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range []string{"1", "2", "3"} {
			if f.Match(ms[id], now) {
				got = append(got, id)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%+v: matched %v, want %s", c.spec, got, c.want)
		}
	}
	for _, bad := range []FilterSpec{{Sender: "("}, {OlderThan: "soon"}, {IDs: []string{"abc/1"}}, {CaseSensitive: true}, {Header: "("}, {All: true, Sender: "x"}} {
		if _, err := bad.Compile(); err == nil || !usage.Is(err) {
			t.Errorf("%+v: want usage error, got %v", bad, err)
		}
	}
}

// Issue 8 item 2: the queue directory is resolved inside --root. /var/qmail as an absolute
// link to /opt/qmail works inside the tree; a link naming a real queue outside the tree
// (as an absolute host path) is taken as a path of the tree, so that queue is never read.
func TestOpenResolvesQueueInsideRoot(t *testing.T) {
	root := t.TempDir()
	if _, err := qmailgen.Generate(root+"/opt/qmail/queue", qmailgen.Options{Messages: 5, Seed: 1, NoBodies: true}); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(root+"/var", 0o755)
	if err := os.Symlink("/opt/qmail", root+"/var/qmail"); err != nil {
		t.Fatal(err)
	}
	q, err := Open(hostAt(t, root), qdir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(scanAll(t, q, ScanOptions{})); n != 5 {
		t.Errorf("%d messages through the link, want 5", n)
	}

	outside := t.TempDir()
	if _, err := qmailgen.Generate(outside+"/queue", qmailgen.Options{Messages: 3, Seed: 2, NoBodies: true}); err != nil {
		t.Fatal(err)
	}
	root2 := t.TempDir()
	os.MkdirAll(root2+"/var", 0o755)
	if err := os.Symlink(outside, root2+"/var/qmail"); err != nil {
		t.Fatal(err)
	}
	if q, err := Open(hostAt(t, root2), qdir); err == nil {
		t.Errorf("opened %s outside the root through an absolute link", q.root)
	}
	if err := os.Symlink("../../../../../../../.."+outside, root2+"/var/q2"); err != nil {
		t.Fatal(err)
	}
	if q, err := Open(hostAt(t, root2), "/var/q2/queue"); err == nil {
		t.Errorf("opened %s outside the root through a .. link", q.root)
	}
}
