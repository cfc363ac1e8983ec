package plan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// listTree lists every path under dir with its content, to prove nothing changed there.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		line := strings.TrimPrefix(p, dir)
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			line += "=" + string(b)
		}
		out = append(out, line)
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// swapAction replaces a directory of the tree by a link to outside, then fails: the
// rollback that follows must not follow the link.
type swapAction struct {
	dir, to string
}

func (a *swapAction) Describe() Description {
	return Description{Kind: KindCustom, Op: OpChange, Target: a.dir}
}
func (a *swapAction) Verify(context.Context, *Run) error { return nil }
func (a *swapAction) Apply(_ context.Context, r *Run) error {
	p := r.Host.Path(a.dir)
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	if err := os.Symlink(a.to, p); err != nil {
		return err
	}
	return errors.New("fail after the swap")
}

// Issue 8 item 2: with absolute links, ".." links and loops in the tree, no read, write,
// backup, lock file or audit-log write of pkg/plan leads outside --root.
func TestNoPathEscapesRoot(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	for _, d := range []string{outside + "/run", outside + "/backups", outside + "/log", outside + "/etc", outside + "/q/d"} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(outside+"/etc/x", []byte("OUTSIDE"), 0o644)
	os.WriteFile(outside+"/q/d/m", []byte("OUTSIDE"), 0o644)
	tr := newTree(t)
	link := func(l, target string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(tr.h.Path(l)), 0o755)
		if err := os.Symlink(target, tr.h.Path(l)); err != nil {
			t.Fatal(err)
		}
	}
	rel, _ := filepath.Rel(tr.root+"/var", outside)
	link("/run", outside+"/run")                    // absolute, names a real directory outside
	link("/var/backups", rel+"/backups")            // climbs out with ..
	link("/var/log", "../../../../../../../../log") // climbs far past /
	link("/etc/esc", outside+"/etc")
	link("/etc/up", "../../../../../../"+rel+"/etc")
	link("/etc/loop", "loop")
	tr.write("/var/q/d/m", "inside", 0o644)
	tr.write("/var/q/d/n", "inside", 0o644)
	before := listTree(t, outside)

	for _, p := range []string{"/etc/esc/x", "/etc/up/x"} {
		a := tr.must(EditFile(tr.h, p, func(old []byte, exists bool) ([]byte, error) {
			if exists {
				t.Errorf("%s: read %q from outside the root", p, old)
			}
			return []byte("new"), nil
		}, EditOptions{}))
		rep := tr.mustApply(&Plan{Command: "t", Actions: []Action{a}})
		if rep.Error != "" {
			t.Fatal(rep.Error)
		}
	}
	if _, err := EditFile(tr.h, "/etc/loop/x", replace("x"), EditOptions{}); err == nil {
		t.Error("a loop must be refused")
	}
	// A removal rolled back after its directory was swapped for a link to outside.
	rm := tr.must(RemoveFiles(tr.h, []File{{Path: "/var/q/d/m"}, {Path: "/var/q/d/n"}}, RemoveOptions{Within: "/var/q"}))
	rep, err := tr.apply(&Plan{Command: "t", Actions: []Action{rm, &swapAction{dir: "/var/q/d", to: outside + "/q/d"}}})
	if err == nil {
		t.Fatal("swap did not fail the run")
	}
	if !strings.Contains(strings.Join(rep.Restored, "|"), "NOT restored") {
		t.Errorf("rollback through a swapped-in link must refuse, restored %q", rep.Restored)
	}
	if after := listTree(t, outside); after != before {
		t.Errorf("outside the root changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, p := range []string{outside + "/run/hostfix.lock", outside + "/etc/x"} {
		if !tr.exists(p) && !strings.HasSuffix(p, "x") {
			t.Errorf("%s not created inside the root", p)
		}
	}
	if tr.read(outside+"/etc/x") != "new" || !tr.exists(outside+"/run/hostfix.lock") {
		t.Error("writes through absolute links belong inside the root")
	}
	runs, _, err := History(tr.h, tr.cfg)
	if err != nil || len(runs) != 3 {
		t.Errorf("history inside the root: %d runs, %v", len(runs), err)
	}
	if _, err := os.Stat(tr.root + "/log/hostfix/history.jsonl"); err != nil {
		t.Errorf("audit log not under the root's /log: %v", err)
	}
}
