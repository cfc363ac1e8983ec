//go:build linux

package plan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// On Linux new files are written unnamed (O_TMPFILE) and linked into place; the named
// temp file path (other systems, filesystems without O_TMPFILE, a low open-file limit)
// must copy the same tree, batched or fsynced per file.
func TestCopyTreeUnnamedAndNamedTemps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		named   bool
		perFile bool
	}{{"unnamed", false, false}, {"unnamed per-file fsync", false, true}, {"named", true, false}, {"named per-file fsync", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			forceNamedTemps = tc.named
			defer func() { forceNamedTemps = false }()
			e := newCtEnv(t)
			e.fill()
			p, sum := e.plan(CopyTreeOptions{PerFileSync: tc.perFile})
			a := p.Actions[0].(*copyTreeAction)
			if _, err := e.apply(p); err != nil {
				t.Fatal(err)
			}
			sameTree(t, treeSums(t, e.src), treeSums(t, e.dst))
			want := int64(sum.Copy)
			if tc.named {
				want = 0
			}
			if got := a.linked.Load(); got != want {
				t.Errorf("%d copies linked from unnamed files, want %d", got, want)
			}
			if n := a.unnamed.Load(); n != 0 {
				t.Errorf("%d unnamed files still open after the copy", n)
			}
			fi, err := os.Stat(filepath.Join(e.dst, "deep/er/still/b.eml"))
			if err != nil || !fi.ModTime().Equal(ctTime) || fi.Mode().Perm() != 0o640 {
				t.Errorf("mtime/mode not kept: %v %v %v", fi.ModTime(), fi.Mode(), err)
			}
		})
	}
}

// An unnamed file gets its name only by linkUnnamed, which never replaces a file; one
// dropped unlinked leaves nothing behind.
func TestUnnamedTempFiles(t *testing.T) {
	dir := t.TempDir()
	f, ok := openUnnamed(dir)
	if !ok {
		t.Fatalf("no O_TMPFILE in %s", dir)
	}
	if !sameFile(f, unnamedPath(f)) || sameFile(f, dir) {
		t.Fatalf("/proc/self/fd check: %v for its own path, %v for the folder", sameFile(f, unnamedPath(f)), sameFile(f, dir))
	}
	if _, err := f.WriteString("first"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("an unnamed file shows in its folder: %v", ents)
	}
	dst := filepath.Join(dir, "a.eml")
	if err := linkUnnamed(f, dst); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g, ok := openUnnamed(dir)
	if !ok {
		t.Fatal("second O_TMPFILE refused")
	}
	g.WriteString("second")
	if err := linkUnnamed(g, dst); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("link over an existing file: %v, want ErrExist", err)
	}
	g.Close()
	if b, _ := os.ReadFile(dst); string(b) != "first" {
		t.Errorf("a.eml holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only a.eml", len(ents))
	}
}
