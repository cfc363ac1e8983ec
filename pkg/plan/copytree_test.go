package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// ctEnv is a --root (for backups, state, manifest) with a source and destination folder
// inside it, so undo can see the copies.
type ctEnv struct {
	t        *testing.T
	h        *system.Host
	cfg      Config
	src, dst string
}

var ctTime = time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)

func newCtEnv(t *testing.T) *ctEnv {
	t.Helper()
	root := t.TempDir()
	h, err := system.NewHost(root, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.LockTimeout = time.Second
	e := &ctEnv{t: t, h: h, cfg: cfg, src: filepath.Join(root, "srv", "old"), dst: filepath.Join(root, "srv", "new")}
	return e
}

func (e *ctEnv) write(base, rel, content string) {
	e.t.Helper()
	p := filepath.Join(base, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chtimes(p, ctTime, ctTime); err != nil {
		e.t.Fatal(err)
	}
}

func (e *ctEnv) opts(o CopyTreeOptions) CopyTreeOptions {
	o.StateDir = "/var/backups/hostfix/copytree"
	return o
}

func (e *ctEnv) plan(o CopyTreeOptions) (*Plan, CopyTreeSummary) {
	e.t.Helper()
	a, sum, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(o))
	if err != nil {
		e.t.Fatalf("CopyTree: %v", err)
	}
	p := New("copy test")
	p.Add(a)
	return p, sum
}

func (e *ctEnv) apply(p *Plan) (*Report, error) {
	return Apply(context.Background(), p, Options{Host: e.h, Config: e.cfg, User: "test"})
}

// tree returns rel -> sha256 of every regular file under dir.
func treeSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = hex.EncodeToString(s[:])
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Errorf("%d files, want %d: %v", len(got), len(want), keysOf(got))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: sha %q, want %q", k, got[k], v)
		}
	}
}

func keysOf(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

func (e *ctEnv) fill() {
	e.write(e.src, "a.txt", "alpha\n")
	e.write(e.src, "deep/er/still/b.eml", strings.Repeat("b", 3<<20+17)) // more than one buffer
	e.write(e.src, "Ünïcødé/çà.eml", "non-ascii\n")
	e.write(e.src, "dom/x.stat3", "excluded by name\n")
	e.write(e.src, "dom/IndexV2/i.dat", "excluded folder\n")
	e.write(e.src, "dom/user/keep.grp.txt", "not excluded\n")
	e.write(e.src, "empty", "")
}

func TestCopyTreeCopiesVerifiedAndIsIdempotent(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	var mu sync.Mutex
	var last CopyProgress
	o := CopyTreeOptions{Exclude: []string{"*.STAT3", "indexv2"}, Progress: func(p CopyProgress) { mu.Lock(); last = p; mu.Unlock() }}
	p, sum := e.plan(o)
	if sum.Copy != 5 || sum.Excluded != 1 || sum.ExcludedDir != 1 || sum.Skipped != 0 {
		t.Fatalf("summary %+v", sum)
	}
	d := p.Actions[0].Describe()
	if d.Kind != KindCopyTree || d.Count != 5 || !strings.Contains(d.Detail, "copy 5 files") || !strings.Contains(d.Detail, "excluded 1 file and 1 folder") {
		t.Errorf("describe: %+v", d)
	}
	rep, err := e.apply(p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !strings.Contains(rep.Actions[0].Detail, "5 verified") {
		t.Errorf("outcome: %s", rep.Actions[0].Detail)
	}
	want := treeSums(t, e.src)
	delete(want, "dom/x.stat3")
	delete(want, "dom/IndexV2/i.dat")
	sameTree(t, want, treeSums(t, e.dst))
	if last.Files != 5 || last.TotalFiles != 5 || last.Bytes != sum.CopyBytes {
		t.Errorf("last progress %+v, want 5 files, %d bytes", last, sum.CopyBytes)
	}
	fi, err := os.Stat(filepath.Join(e.dst, "deep/er/still/b.eml"))
	if err != nil || !fi.ModTime().Equal(ctTime) || fi.Mode().Perm() != 0o640 {
		t.Errorf("mtime/mode not kept: %v %v %v", fi.ModTime(), fi.Mode(), err)
	}
	// Manifest: one create per file, with its checksum.
	ents, _, err := ReadManifest(filepath.Join(e.h.Path(e.cfg.BackupDir), rep.RunID, "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	creates, mkdirs := 0, 0
	for _, en := range ents {
		switch {
		case !strings.HasPrefix(en.Path, "/srv/new"):
			t.Errorf("entry %+v", en)
		case en.Action == EntryCreate && en.NewSHA256 != "":
			creates++
		case en.Action == EntryMkdir:
			mkdirs++
		default:
			t.Errorf("entry %+v", en)
		}
	}
	if creates != 5 || mkdirs != 7 { // srv/new, deep, deep/er, deep/er/still, Ünïcødé, dom, dom/user
		t.Errorf("manifest: %d creates, %d mkdirs", creates, mkdirs)
	}
	// Second plan: nothing to do, and fast (from the state, no hashing): still nil.
	a, sum2, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(o))
	if err != nil || a != nil || sum2.Skipped != 5 {
		t.Fatalf("rerun: action %v, %+v, %v", a, sum2, err)
	}
}

func TestCopyTreeDamagedCopyIsRecopied(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	if _, err := e.apply(mustPlan(e.plan(CopyTreeOptions{}))); err != nil {
		t.Fatal(err)
	}
	// Damage one copy visibly (new mtime) and one invisibly (same size and mtime).
	vis := filepath.Join(e.dst, "a.txt")
	os.WriteFile(vis, []byte("ALPHA\n"), 0o640)
	hid := filepath.Join(e.dst, "Ünïcødé/çà.eml")
	os.WriteFile(hid, []byte("NON-ascii\n"), 0o640)
	os.Chtimes(hid, ctTime, ctTime)
	fi, _ := os.Stat(hid)
	// The state check alone sees the visible damage, not the hidden one...
	_, sum := e.plan(CopyTreeOptions{})
	if len(sum.Recopy) != 1 || sum.Recopy[0] != "a.txt" {
		t.Fatalf("recopy %v, want [a.txt]", sum.Recopy)
	}
	// ...unless the copies are read again (--rehash). Recopying our own copy needs no --overwrite.
	_ = fi
	p, sum := e.plan(CopyTreeOptions{Rehash: true})
	sort.Strings(sum.Recopy)
	if strings.Join(sum.Recopy, ",") != "a.txt,Ünïcødé/çà.eml" {
		t.Fatalf("rehash recopy %v", sum.Recopy)
	}
	if _, err := e.apply(p); err != nil {
		t.Fatal(err)
	}
	sameTree(t, treeSums(t, e.src), treeSums(t, e.dst))
}

func mustPlan(p *Plan, _ CopyTreeSummary) *Plan { return p }

func TestCopyTreeRefusesDifferingFilesUnlessOverwrite(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	e.write(e.dst, "a.txt", "someone else's file\n")
	e.write(e.dst, "empty", "") // identical: skipped, not a conflict
	_, _, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(CopyTreeOptions{}))
	var ce *CopyConflictError
	if !errors.As(err, &ce) || len(ce.Files) != 1 || ce.Files[0] != "a.txt" || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("want a conflict on a.txt, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dst, "deep")); err == nil {
		t.Fatal("a refused plan copied something")
	}
	p, sum := e.plan(CopyTreeOptions{Overwrite: true})
	if len(sum.Overwrite) != 1 || sum.Skipped != 1 {
		t.Fatalf("summary %+v", sum)
	}
	rep, err := e.apply(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(e.dst, "a.txt")); string(got) != "alpha\n" {
		t.Fatalf("a.txt = %q", got)
	}
	// Undo removes what the run created and puts the overwritten file back.
	u, err := Undo(e.h, e.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(context.Background(), u, Options{Host: e.h, Config: e.cfg, User: "test"}); err != nil {
		t.Fatal(err)
	}
	got := treeSums(t, e.dst)
	if len(got) != 2 {
		t.Errorf("after undo: %v", keysOf(got))
	}
	if _, err := os.Stat(filepath.Join(e.dst, "deep")); err == nil {
		t.Error("undo left the folders the run made")
	}
	if b, _ := os.ReadFile(filepath.Join(e.dst, "a.txt")); string(b) != "someone else's file\n" {
		t.Errorf("undo did not restore a.txt: %q", b)
	}
}

func TestCopyTreeRollbackRemovesWhatItCreated(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	e.write(e.dst, "a.txt", "old\n")
	a, _, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(CopyTreeOptions{Overwrite: true, Parallel: 1}))
	if err != nil {
		t.Fatal(err)
	}
	p := New("copy test")
	p.Add(a)
	p.Add(&failingAction{})
	rep, err := e.apply(p)
	if err == nil {
		t.Fatal("the failing action did not fail the run")
	}
	got := treeSums(t, e.dst)
	if len(got) != 1 {
		t.Errorf("after rollback: %v (%v)", keysOf(got), rep.Restored)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dst, "a.txt")); string(b) != "old\n" {
		t.Errorf("rollback did not put a.txt back: %q", b)
	}
	if _, err := os.Stat(filepath.Join(e.dst, "deep")); err == nil {
		t.Error("rollback left the folders it made")
	}
}

type failingAction struct{}

func (failingAction) Describe() Description {
	return Description{Kind: KindCommand, Op: OpRun, Target: "fail"}
}
func (failingAction) Verify(context.Context, *Run) error { return nil }
func (failingAction) Apply(context.Context, *Run) error  { return errors.New("boom") }

func TestCopyTreeFilesRewriteAndLeftovers(t *testing.T) {
	e := newCtEnv(t)
	e.write(e.src, "Service/domainList.xml", `<p>C:\Old\x</p>`)
	e.write(e.src, "Service/mailConfig.xml", "<pw>hunter22</pw>")
	e.write(e.src, "Service/other.log", "not listed")
	// A temp file of an interrupted run is in the way.
	e.write(e.dst, "Service/.mailConfig.xml.hostfix-20260101T000000Z-abcd", "partial")
	rw := map[string]func([]byte) ([]byte, error){"Service/domainList.xml": func(b []byte) ([]byte, error) {
		return []byte(strings.ReplaceAll(string(b), `C:\Old`, `D:\New`)), nil
	}}
	o := CopyTreeOptions{Files: []string{"Service/domainList.xml", "Service/mailConfig.xml", "Service/missing.dat"}, Rewrite: rw, Secret: []string{"mailconfig.xml"}}
	p, sum := e.plan(o)
	if sum.Copy != 2 || sum.Leftovers != 1 {
		t.Fatalf("summary %+v", sum)
	}
	d := p.Actions[0].Describe()
	if !strings.Contains(d.Diff, `+<p>D:\New\x</p>`) || strings.Contains(d.Diff, "hunter22") {
		t.Errorf("diff:\n%s", d.Diff)
	}
	if _, err := e.apply(p); err != nil {
		t.Fatal(err)
	}
	got := treeSums(t, e.dst)
	if len(got) != 2 {
		t.Errorf("dst: %v", keysOf(got))
	}
	if b, _ := os.ReadFile(filepath.Join(e.dst, "Service/domainList.xml")); string(b) != `<p>D:\New\x</p>` {
		t.Errorf("rewritten: %q", b)
	}
	if a, _, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(o)); err != nil || a != nil {
		t.Errorf("rerun: %v %v", a, err)
	}
}

func TestCopyTreeSettleRefusesAChangingSource(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	done := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.WriteFile(filepath.Join(e.src, "a.txt"), []byte("written meanwhile\n"), 0o640)
		close(done)
	}()
	_, _, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(CopyTreeOptions{Settle: 400 * time.Millisecond}))
	<-done
	var ue *UnsettledError
	if !errors.As(err, &ue) || ue.Changed[0] != "a.txt" {
		t.Fatalf("want an unsettled source, got %v", err)
	}
}

func TestCopyTreeSpace(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	_, sum, err := CopyTree(context.Background(), e.h, e.src, e.dst, e.opts(CopyTreeOptions{CheckSpace: true}))
	if err != nil {
		t.Fatal(err)
	}
	if free, ok := freeSpace(filepath.Dir(e.dst)); ok && sum.FreeBytes != free && sum.FreeBytes <= 0 {
		t.Errorf("free %d", sum.FreeBytes)
	}
	if msg := (&SpaceError{Dst: "/x", Need: 2e9, Free: 1e9}).Error(); !strings.Contains(msg, "needs 2.0 GB but only 1.0 GB") {
		t.Error(msg)
	}
}

func TestMatchAny(t *testing.T) {
	for _, c := range []struct {
		pats []string
		rel  string
		want bool
	}{
		{[]string{"*.stat3"}, "d/x.STAT3", true},
		{[]string{"IndexV2"}, "d/u/indexv2", true},
		{[]string{"d/*.log"}, "d/a.log", true},
		{[]string{"d/*.log"}, "e/d/a.log", false},
		{[]string{"*.grp"}, "a.grp.txt", false},
	} {
		if got := matchAny(c.pats, c.rel); got != c.want {
			t.Errorf("matchAny(%v, %q) = %v", c.pats, c.rel, got)
		}
	}
}

func TestIsRunTemp(t *testing.T) {
	if !isRunTemp(".a.eml.hostfix-20261201T092308Z-5f76") || isRunTemp(".a.eml.hostfix-x") || isRunTemp("a.eml") {
		t.Error("isRunTemp")
	}
}

// BenchmarkCopyTree copies a tree of mail-sized files (HOSTFIX_BENCH_FILES, default 500).
func BenchmarkCopyTree(b *testing.B) {
	n := 500
	if s := os.Getenv("HOSTFIX_BENCH_FILES"); s != "" {
		fmt.Sscan(s, &n)
	}
	root := b.TempDir()
	src := filepath.Join(root, "src")
	for i := range n {
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%50), fmt.Sprintf("%06d.eml", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(strings.Repeat("x", 2048+(i*997)%48000)), 0o644)
	}
	h, _ := system.NewHost(root, &system.Recorder{})
	cfg := DefaultConfig()
	b.ResetTimer()
	for i := range b.N {
		dst := filepath.Join(root, fmt.Sprintf("dst%d", i))
		a, sum, err := CopyTree(context.Background(), h, src, dst, CopyTreeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(sum.CopyBytes)
		p := New("bench")
		p.Add(a)
		if _, err := Apply(context.Background(), p, Options{Host: h, Config: cfg, User: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyTreeNoChange plans a rerun over an already copied tree (the resume path:
// stats and the state file, no reads of file content).
func BenchmarkCopyTreeNoChange(b *testing.B) {
	n := 2000
	if s := os.Getenv("HOSTFIX_BENCH_FILES"); s != "" {
		fmt.Sscan(s, &n)
	}
	root := b.TempDir()
	src := filepath.Join(root, "src")
	for i := range n {
		p := filepath.Join(src, fmt.Sprintf("d%02d", i%50), fmt.Sprintf("%06d.eml", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	h, _ := system.NewHost(root, &system.Recorder{})
	o := CopyTreeOptions{StateDir: "/state", Parallel: 16}
	dst := filepath.Join(root, "dst")
	a, _, err := CopyTree(context.Background(), h, src, dst, o)
	if err != nil {
		b.Fatal(err)
	}
	p := New("bench")
	p.Add(a)
	if _, err := Apply(context.Background(), p, Options{Host: h, Config: DefaultConfig(), User: "bench"}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		a, _, err := CopyTree(context.Background(), h, src, dst, o)
		if err != nil || a != nil {
			b.Fatal(a, err)
		}
	}
}

func TestCopyTreeSourceThroughSymlink(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	link := filepath.Join(filepath.Dir(e.src), "link")
	if err := os.Symlink(e.src, link); err != nil {
		t.Fatal(err)
	}
	e.src = link
	_, sum := e.plan(CopyTreeOptions{})
	if sum.Files != 7 {
		t.Fatalf("walked %d files through the link, want 7", sum.Files)
	}
}

func TestCopyTreeNeverReplacesAFileThatAppeared(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	p, _ := e.plan(CopyTreeOptions{Parallel: 1})
	e.write(e.dst, "a.txt", "written by someone after the plan\n")
	_, err := e.apply(p)
	var se *StaleError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "appeared at the destination") {
		t.Fatalf("want a stale error, got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dst, "a.txt")); string(b) != "written by someone after the plan\n" {
		t.Errorf("the file that appeared was replaced: %q", b)
	}
	if got := treeSums(t, e.dst); len(got) != 1 {
		t.Errorf("rollback left %v", keysOf(got))
	}
}

func FuzzParseStateLine(f *testing.F) {
	good := stateRec{Rel: "Ünï/a b\n.eml", Size: 12, SrcMtime: -5, DstMtime: 1733000000123456789, Sum: strings.Repeat("ab", 32)}
	f.Add(strings.TrimSuffix(string(good.line()), "\n"))
	f.Add("started 20261201T092308Z-5f76")
	f.Add("complete")
	f.Add(strings.Repeat("a", 64) + " 1 2 3 \"x")
	f.Fuzz(func(t *testing.T, l string) {
		r, ok := parseStateLine(l)
		if !ok || r.Started != "" || r.Complete {
			return
		}
		// A record that parses writes back to a line that parses to the same record.
		again, ok := parseStateLine(strings.TrimSuffix(string(r.line()), "\n"))
		if !ok || again != r {
			t.Fatalf("%q -> %+v -> %+v", l, r, again)
		}
	})
}

func TestCopyTreePerFileSync(t *testing.T) {
	e := newCtEnv(t)
	e.fill()
	p, _ := e.plan(CopyTreeOptions{PerFileSync: true})
	if _, err := e.apply(p); err != nil {
		t.Fatal(err)
	}
	sameTree(t, treeSums(t, e.src), treeSums(t, e.dst))
}
