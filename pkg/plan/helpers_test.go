package plan

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/system"
)

// tree is a temp --root with a recording runner.
type tree struct {
	t    *testing.T
	root string
	h    *system.Host
	rec  *system.Recorder
	cfg  Config
}

func newTree(t *testing.T) *tree {
	t.Helper()
	root := t.TempDir()
	rec := &system.Recorder{}
	h, err := system.NewHost(root, rec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.LockTimeout = 2 * time.Second
	return &tree{t: t, root: root, h: h, rec: rec, cfg: cfg}
}

// write creates a system path with content and mode (parents 0755).
func (tr *tree) write(p, content string, mode fs.FileMode) {
	tr.t.Helper()
	full := tr.h.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) read(p string) string {
	tr.t.Helper()
	b, err := os.ReadFile(tr.h.Path(p))
	if err != nil {
		tr.t.Fatal(err)
	}
	return string(b)
}

func (tr *tree) exists(p string) bool {
	_, err := os.Lstat(tr.h.Path(p))
	return err == nil
}

func (tr *tree) mode(p string) fs.FileMode {
	tr.t.Helper()
	fi, err := os.Lstat(tr.h.Path(p))
	if err != nil {
		tr.t.Fatal(err)
	}
	return fi.Mode()
}

func (tr *tree) owner(p string) (int, int) {
	tr.t.Helper()
	fi, err := os.Lstat(tr.h.Path(p))
	if err != nil {
		tr.t.Fatal(err)
	}
	return ownerOf(fi)
}

func (tr *tree) opts() Options {
	return Options{Host: tr.h, Config: tr.cfg, CommandLine: []string{"hostfix", "test"}, User: "tester"}
}

func (tr *tree) apply(p *Plan) (*Report, error) {
	tr.t.Helper()
	return Apply(context.Background(), p, tr.opts())
}

func (tr *tree) mustApply(p *Plan) *Report {
	tr.t.Helper()
	rep, err := tr.apply(p)
	if err != nil {
		tr.t.Fatalf("apply: %v\n%s", err, text(rep))
	}
	return rep
}

// replace is a transform that returns fixed content.
func replace(s string) func([]byte, bool) ([]byte, error) {
	return func([]byte, bool) ([]byte, error) { return []byte(s), nil }
}

// text renders a report without colour.
func text(r *Report) string {
	if r == nil {
		return "<nil report>"
	}
	var b bytes.Buffer
	_ = WriteText(&b, r, iostreams.Palette{})
	return b.String()
}

func (tr *tree) must(a Action, err error) Action {
	t := tr.t
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if a == nil {
		t.Fatal("nil action: expected a change")
	}
	return a
}

// noTempFiles fails if an atomic write left a temp file anywhere under dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".hostfix-") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
}

// cf is a configured test command (tests run under a --root tree: detected commands never run).
func cf(args ...string) Argv { return Configured("test.command", args) }
