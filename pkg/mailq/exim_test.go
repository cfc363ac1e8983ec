package mailq

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/eximspool"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

// testdata/exim/input is a spool written by the real Exim 4.96 (Debian exim4-daemon-light)
// with `exim4 -C CONF -odq` and `-bs` (a DSN session), one message partly delivered, one
// frozen with -Mf, one bounce; split_spool_directory was switched on before the last one,
// so the spool is mixed like a real one after that change. bp.txt is `exim4 -bp` of it.

// bpEntry is one message of exim -bp's output.
type bpEntry struct {
	size       int64
	id, sender string
	frozen     bool
	rcpts      []string // "D addr" for delivered
}

func readBP(t *testing.T, path string) []bpEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []bpEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.TrimSpace(l) == "":
		case !strings.HasPrefix(l, "   ") && !strings.HasPrefix(l, "\t"):
			f := strings.Fields(l)
			size, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatalf("bp line %q: %v", l, err)
			}
			out = append(out, bpEntry{size: size, id: f[2], sender: strings.Trim(f[3], "<>"), frozen: strings.Contains(l, "*** frozen ***")})
		default:
			out[len(out)-1].rcpts = append(out[len(out)-1].rcpts, strings.Join(strings.Fields(l), " "))
		}
	}
	return out
}

func TestEximSpoolMatchesEximBP(t *testing.T) {
	want := readBP(t, "testdata/exim/bp.txt")
	root := t.TempDir()
	copyTree(t, "testdata/exim/input", filepath.Join(root, "var/spool/exim4/input"))
	s, err := OpenExim(hostAt(t, root), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != "/var/spool/exim4/input" {
		t.Errorf("detected spool %s", s.Dir)
	}
	var got []bpEntry
	err = s.Scan(context.Background(), ScanOptions{Headers: true}, func(m *Message) error {
		if m.IsDamaged() {
			t.Errorf("%s damaged: %v", m.ID, m.Damaged)
		}
		e := bpEntry{size: m.Size, id: m.ID, sender: m.Sender, frozen: m.State == StateFrozen}
		for _, r := range m.Recipients {
			a := r.Address
			if r.Done {
				a = "D " + a
			}
			e.rcpts = append(e.rcpts, a)
		}
		got = append(got, e)
		if m.MTAName() != "exim" || m.Queued.Before(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: mta %s queued %s", m.ID, m.MTAName(), m.Queued)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("scan:\n%+v\nexim -bp:\n%+v", got, want)
	}
}

func TestParseEximHeaderFields(t *testing.T) {
	b, err := os.ReadFile("testdata/exim/input/t/1xYJxt-0005u7-0P-H")
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseEximHeader(b, "1xYJxt-0005u7-0P-H", true)
	if err != nil {
		t.Fatal(err)
	}
	if h.Sender != "dsn@sender.example" || h.Login != "root" || h.UID != 0 || h.Received.Unix() != 1796116557 || h.Frozen {
		t.Errorf("envelope: %+v", h)
	}
	// The DSN recipient line is "r1@dest.example rfc822;orig1@dest.example 25,12  0,-1#3".
	if !reflect.DeepEqual(h.Recipients, []string{"r1@dest.example", "r2@dest.example"}) {
		t.Errorf("recipients %q", h.Recipients)
	}
	if got := HeaderSubject(h.Headers); got != "café" {
		t.Errorf("subject %q", got)
	}
	if !strings.HasPrefix(string(h.Headers), "Received: from [203.0.113.5]") {
		t.Errorf("headers start %q", clip(string(h.Headers)))
	}

	b, _ = os.ReadFile("testdata/exim/input/1xYJxi-0005hH-0q-H")
	h, err = ParseEximHeader(b, "1xYJxi-0005hH-0q-H", false)
	if err != nil || !h.Frozen || h.FrozenAt.Unix() != 1796116546 || h.Headers != nil {
		t.Errorf("frozen: %+v %v", h, err)
	}
	b, _ = os.ReadFile("testdata/exim/input/1xYJxi-0005hD-0i-H")
	h, err = ParseEximHeader(b, "1xYJxi-0005hD-0i-H", false)
	if err != nil || !reflect.DeepEqual(h.Delivered, map[string]bool{"ok1@test.example": true, "ok2@test.example": true, "ok3@test.example": true}) {
		t.Errorf("tree: %+v %v", h.Delivered, err)
	}
}

func TestEximRecipientAddress(t *testing.T) {
	for in, want := range map[string]string{
		"a@b.example":                          "a@b.example",
		"a@b.example 3":                        "a@b.example",
		"a@b.example 0,3,0":                    "a@b.example",
		"a@b.example e@x.example 11,-1#1":      "a@b.example",
		"a@b.example  0,-1#1":                  "a@b.example",
		"a@b.example rfc822;o@x 10,12  0,-1#3": "a@b.example",
		"a@b.example rfc822;o@x 10,12#2":       "a@b.example",
		"odd 99,1#1":                           "odd 99,1#1", // length beyond the line: left as is
		"with space@x.example":                 "with space@x.example",
	} {
		if got := eximRecipientAddress(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestParseEximHeaderRejects(t *testing.T) {
	good, err := os.ReadFile("testdata/exim/input/1xYJxi-0005hD-0i-H")
	if err != nil {
		t.Fatal(err)
	}
	name := "1xYJxi-0005hD-0i-H"
	for what, b := range map[string]string{
		"cut in the envelope": string(good[:60]),
		"cut in a header":     string(good[:len(good)-10]),
		"wrong id":            strings.Replace(string(good), name, "1xYJxi-0005hX-0i-H", 1),
		"no <> sender":        strings.Replace(string(good), "<news@list.example>", "news@list.example", 1),
		"bad count":           strings.Replace(string(good), "\n5\n", "\nfive\n", 1),
		"NUL in header":       strings.Replace(string(good), "Subject: partial", "Subject: part\x00al", 1),
		"bad tree":            strings.Replace(string(good), "YY ok2", "QQ ok2", 1),
	} {
		if _, err := ParseEximHeader([]byte(b), name, true); err == nil {
			t.Errorf("%s: parsed without error", what)
		}
	}
}

func TestEximSpoolDamaged(t *testing.T) {
	root := t.TempDir()
	in := filepath.Join(root, "spool/input")
	copyTree(t, "testdata/exim/input", in)
	// A -H without its -D (removed half way) and a -D alone (being received).
	os.Remove(filepath.Join(in, "1xYJxi-0005hB-0f-D"))
	os.Remove(filepath.Join(in, "1xYJxi-0005hF-0l-H"))
	os.WriteFile(filepath.Join(in, "hdr.1234"), []byte("temp"), 0o600)
	s, err := OpenExim(hostAt(t, root), "/spool/input")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	err = s.Scan(context.Background(), ScanOptions{}, func(m *Message) error {
		states[m.ID] = m.StateText()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"1xYJxi-0005hB-0f": "damaged", "1xYJxi-0005hD-0i": "queued", "1xYJxi-0005hF-0l": "injecting",
		"1xYJxi-0005hH-0q": "frozen", "1xYJxt-0005u7-0P": "queued"}
	if !reflect.DeepEqual(states, want) {
		t.Errorf("states %v", states)
	}
}

func TestEximOpenMessage(t *testing.T) {
	root := t.TempDir()
	copyTree(t, "testdata/exim/input", filepath.Join(root, "var/spool/exim/input"))
	s, err := OpenExim(hostAt(t, root), "")
	if err != nil {
		t.Fatal(err)
	}
	var body string
	s.Scan(context.Background(), ScanOptions{}, func(m *Message) error {
		if m.ID == "1xYJxi-0005hB-0f" {
			rc, err := s.openMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			body = string(b)
		}
		return nil
	})
	if !strings.Contains(body, "Subject: plain\n") || !strings.HasSuffix(body, "\n\nbody\n") {
		t.Errorf("message text %q", body)
	}
}

func FuzzParseEximHeader(f *testing.F) {
	files, _ := filepath.Glob("testdata/exim/input/*-H")
	more, _ := filepath.Glob("testdata/exim/input/*/*-H")
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, filepath.Base(p))
	}
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		h, err := ParseEximHeader(b, name, true)
		if err != nil {
			return
		}
		if h.HeaderSize < 0 || int(h.HeaderSize) > len(b) || len(h.Headers) > len(b) {
			t.Fatalf("sizes out of range: %d %d of %d", h.HeaderSize, len(h.Headers), len(b))
		}
		for _, r := range h.Recipients {
			if r == "" {
				t.Fatal("empty recipient accepted")
			}
		}
	})
}

// copyTree copies a fixture directory (regular files and directories).
func copyTree(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o640); err != nil {
			return err
		}
		return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEximScanGenerated(t *testing.T) {
	for _, split := range []bool{false, true} {
		root := t.TempDir()
		want, err := eximspool.Generate(filepath.Join(root, "var/spool/exim/input"), eximspool.Options{Messages: 700, Seed: 3, Split: split, UID: -1, GID: -1})
		if err != nil {
			t.Fatal(err)
		}
		s, err := OpenExim(hostAt(t, root), "")
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		err = s.Scan(context.Background(), ScanOptions{Workers: 3}, func(m *Message) error {
			w := want[i]
			i++
			if m.ID != w.ID || m.Sender != w.Sender || len(m.Recipients) != len(w.Recipients) || (m.State == StateFrozen) != w.Frozen || m.IsDamaged() {
				t.Fatalf("split %v: got %+v, want %+v", split, m, w)
			}
			return nil
		})
		if err != nil || i != len(want) {
			t.Fatalf("split %v: %d of %d (%v)", split, i, len(want), err)
		}
	}
}

// BenchmarkEximScan reads a generated spool (HOSTFIX_BENCH_EXIM messages, default 50,000).
func BenchmarkEximScan(b *testing.B) {
	n := 50000
	if v, err := strconv.Atoi(os.Getenv("HOSTFIX_BENCH_EXIM")); err == nil && v > 0 {
		n = v
	}
	root := b.TempDir()
	if _, err := eximspool.Generate(filepath.Join(root, "input"), eximspool.Options{Messages: n, Seed: 1, UID: -1, GID: -1}); err != nil {
		b.Fatal(err)
	}
	s, err := OpenExim(hostAt(b, root), "/input")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		c := 0
		if err := s.Scan(context.Background(), ScanOptions{Envelope: true}, func(*Message) error { c++; return nil }); err != nil || c != n {
			b.Fatal(c, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func TestValidEximID(t *testing.T) {
	for id, want := range map[string]bool{
		"1xYJxi-0005hB-0f": true, "1xYJxi-0000001abcD-AB1z": true, "1xYJxi-0005hB-0": false, "1xYJxi_0005hB-0f": false,
		"1xYJx!-0005hB-0f": false, "": false, "1xYJxi-0005hB-0f-H": false, "1xYJxi-000000001abc-AB1": false,
	} {
		if ValidEximID(id) != want {
			t.Errorf("%q: want %v", id, want)
		}
	}
}

// A failed --hold run thaws what it froze; a message thawed, removed or delivered since
// makes exim -Mt exit 1 with a line saying so, which is no failure of the rollback. Any
// other complaint still is.
func TestEximHoldRollbackHarmless(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		ok     bool
	}{
		{"Message 1a-000001-AA is not frozen\nSpool data file for 1a-000002-AB does not exist\n", true},
		{"exim: permission denied\n", false},
	} {
		rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
			res := system.Result{ExitCode: 1, Stderr: []byte(tc.stderr)}
			return res, &system.ExitError{Cmd: c, Result: res}
		}}
		h, _ := system.NewHost(t.TempDir(), rec)
		b := newBatch(plan.Argv{Args: []string{"exim", "-Mf"}, Key: "mailq.exim_command"}, nil, 2, "freeze")
		b.undo = plan.Argv{Args: []string{"exim", "-Mt"}, Key: "mailq.exim_command"}
		b.undoHarmless = eximThawHarmless
		b.done = []string{"1a-000001-AA", "1a-000002-AB", "1a-000003-AC"}
		note, err := b.Rollback(context.Background(), &plan.Run{Host: h})
		if tc.ok != (err == nil) {
			t.Errorf("%q: rollback %q, %v", tc.stderr, note, err)
		}
		if got := rec.Commands(); len(got) != 1 || got[0] != "exim -Mt 1a-000001-AA 1a-000002-AB 1a-000003-AC" {
			t.Errorf("ran %q", got)
		}
	}
}
