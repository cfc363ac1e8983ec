//go:build unix

package plan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

// groupByDir orders files by directory and returns where each directory's files start.
func groupByDir(files []File) ([]File, []int) {
	out := append([]File(nil), files...)
	sort.SliceStable(out, func(i, j int) bool { return filepath.Dir(out[i].Path) < filepath.Dir(out[j].Path) })
	var groups []int
	for i, f := range out {
		if i == 0 || filepath.Dir(f.Path) != filepath.Dir(out[i-1].Path) {
			groups = append(groups, i)
		}
	}
	return out, groups
}

func TestRemoveFilesParallelGroups(t *testing.T) {
	for _, noBackup := range []bool{false, true} {
		t.Run(map[bool]string{false: "backup", true: "no-backup"}[noBackup], func(t *testing.T) {
			tr := newTree(t)
			files, groups := groupByDir(makeQueue(tr, 300))
			if len(groups) != 23 {
				t.Fatalf("%d groups", len(groups))
			}
			a := tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue", Groups: groups, Workers: 2}))
			p := New("t")
			p.Add(a)
			o := tr.opts()
			o.NoBackup = noBackup
			rep, err := Apply(context.Background(), p, o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rep.Actions[0].Detail, "300 files removed") {
				t.Errorf("detail %q", rep.Actions[0].Detail)
			}
			for _, f := range files {
				if tr.exists(f.Path) {
					t.Fatalf("%s still there", f.Path)
				}
			}
			runDir := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID)
			ents, _, err := ReadManifest(filepath.Join(runDir, "manifest.jsonl"))
			if err != nil || len(ents) != 301 {
				t.Fatalf("manifest: %d entries, %v", len(ents), err)
			}
			seen := map[string]bool{}
			for _, e := range ents[1:] {
				seen[e.Path] = true
			}
			if len(seen) != 300 {
				t.Errorf("manifest names %d distinct files, want 300", len(seen))
			}
			if noBackup {
				return
			}
			up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tr.mustApply(up)
			for _, f := range files {
				if !tr.exists(f.Path) {
					t.Fatalf("%s not restored", f.Path)
				}
			}
		})
	}
}

// A symlink in one group stops both workers, and the rollback puts back what either moved.
func TestRemoveFilesParallelRefusal(t *testing.T) {
	tr := newTree(t)
	files, groups := groupByDir(makeQueue(tr, 200))
	bad := "/var/qmail/queue/mess/7/zz-link"
	os.Symlink("/etc/passwd", tr.h.Path(bad))
	// The link goes last in its directory's group.
	var withLink []File
	var g2 []int
	for i, f := range files {
		for _, s := range groups {
			if s == i {
				g2 = append(g2, len(withLink))
			}
		}
		withLink = append(withLink, f)
		if filepath.Dir(f.Path) == "/var/qmail/queue/mess/7" && (i+1 == len(files) || filepath.Dir(files[i+1].Path) != filepath.Dir(f.Path)) {
			withLink = append(withLink, File{Path: bad})
		}
	}
	a := tr.must(RemoveFiles(tr.h, withLink, RemoveOptions{Within: "/var/qmail/queue", Groups: g2, Workers: 2}))
	p := New("t")
	p.Add(a)
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("symlink: %v", err)
	}
	for _, f := range files {
		if !tr.exists(f.Path) {
			t.Fatalf("%s not put back after the refusal", f.Path)
		}
	}
	if fi, err := os.Lstat(tr.h.Path(bad)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink touched: %v", err)
	}
}

func TestRemoveFilesBadGroups(t *testing.T) {
	tr := newTree(t)
	files := makeQueue(tr, 10)
	for _, g := range [][]int{{1}, {0, 5, 3}, {0, 11}} {
		if _, err := RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue", Groups: g}); err == nil {
			t.Errorf("groups %v accepted", g)
		}
	}
}

// BenchmarkRemoveFilesGrouped is BenchmarkRemoveFiles (10,000 files in 23 directories,
// --no-backup) grouped by directory, as mailq purge passes them, with one and two workers.
func BenchmarkRemoveFilesGrouped(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				root := b.TempDir()
				h, _ := system.NewHost(root, &system.Recorder{})
				files, groups := groupByDir(benchQueue(b, root, 10000))
				a, err := RemoveFiles(h, files, RemoveOptions{Within: "/var/q", Groups: groups, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				p := New("bench")
				p.Add(a)
				b.StartTimer()
				if _, err := Apply(context.Background(), p, Options{Host: h, NoBackup: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Optional files: those present are removed (found by listing a directory that holds many
// of them, or by lstat), the absent ones are not "already gone" (they did not exist when
// planned: issue 8 item 13), a symlink is still refused.
func TestRemoveFilesOptional(t *testing.T) {
	tr := newTree(t)
	files := makeQueue(tr, 20)
	var optional []File
	for i := range 1500 { // many in bounce/: listed once
		optional = append(optional, File{Path: fmt.Sprintf("/var/qmail/queue/bounce/%d", 5000+i)})
	}
	optional = append(optional, File{Path: "/var/qmail/queue/info/3/77"}, File{Path: "/var/qmail/queue/info/3/78"}) // few: lstat
	tr.write("/var/qmail/queue/bounce/5007", "b", 0o600)
	tr.write("/var/qmail/queue/bounce/6400", "b", 0o600)
	tr.write("/var/qmail/queue/bounce/keep", "b", 0o600) // not in the plan
	tr.write("/var/qmail/queue/info/3/77", "i", 0o600)
	a := tr.must(RemoveFiles(tr.h, files, RemoveOptions{Within: "/var/qmail/queue", Optional: optional, Workers: 2, Groups: []int{0, 10}, MissingOK: true}))
	os.Remove(tr.h.Path(files[7].Path)) // delivered between planning and applying: already gone
	if a.Describe().Count != 1522 {
		t.Errorf("count %d", a.Describe().Count)
	}
	p := New("t")
	p.Add(a)
	rep := tr.mustApply(p)
	if d := rep.Actions[0].Detail; !strings.Contains(d, "22 files removed") || !strings.HasSuffix(d, "; 1 already gone") {
		t.Errorf("detail %q", d)
	}
	for _, gone := range []string{"/var/qmail/queue/bounce/5007", "/var/qmail/queue/bounce/6400", "/var/qmail/queue/info/3/77", files[0].Path} {
		if tr.exists(gone) {
			t.Errorf("%s still there", gone)
		}
	}
	if !tr.exists("/var/qmail/queue/bounce/keep") {
		t.Error("a file outside the plan was removed")
	}

	os.Symlink("/etc/passwd", tr.h.Path("/var/qmail/queue/bounce/5008"))
	tr.write("/var/qmail/queue/mess/0/1", "x", 0o600)
	a = tr.must(RemoveFiles(tr.h, []File{{Path: "/var/qmail/queue/mess/0/1"}}, RemoveOptions{Within: "/var/qmail/queue", Optional: optional, MissingOK: true}))
	p = New("t")
	p.Add(a)
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("optional symlink: %v", err)
	}
	if !tr.exists("/var/qmail/queue/mess/0/1") {
		t.Error("files removed after an optional file was refused")
	}
}
