package mailq

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// fakeExim plays `exim -Mrm/-Mf ID…` on the fixture spool under root: -Mrm removes -H and
// -D, -Mf adds the -frozen line exactly where Exim writes it.
func fakeExim(root string) func(c system.Cmd) (system.Result, error) {
	in := filepath.Join(root, "var/spool/exim4/input")
	find := func(id, suf string) string {
		for _, p := range []string{filepath.Join(in, id+suf), filepath.Join(in, id[5:6], id+suf)} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	return func(c system.Cmd) (system.Result, error) {
		var out strings.Builder
		op := c.Argv[3]
		for _, id := range c.Argv[4:] {
			h := find(id, "-H")
			switch op {
			case "-Mrm":
				os.Remove(h)
				os.Remove(find(id, "-D"))
				out.WriteString("Message " + id + " has been removed\n")
			case "-Mf":
				b, _ := os.ReadFile(h)
				b = []byte(strings.Replace(string(b), "-tls_resumption A\n", "-frozen 1796116600\n-tls_resumption A\n", 1))
				os.WriteFile(h, b, 0o640)
				out.WriteString("Message " + id + " is now frozen\n")
			case "-Mt":
				// As Exim 4.96 does: the -frozen line goes, -manual_thaw is set.
				b, _ := os.ReadFile(h)
				b = []byte(strings.Replace(string(b), "-frozen 1796116600\n", "-manual_thaw\n", 1))
				os.WriteFile(h, b, 0o640)
				out.WriteString("Message " + id + " is no longer frozen\n")
			}
		}
		return system.Result{Stdout: []byte(out.String())}, nil
	}
}

func eximPlanRig(t *testing.T) (string, *system.Host, *system.Recorder, Config) {
	root := t.TempDir()
	copyTree(t, "testdata/exim/input", filepath.Join(root, "var/spool/exim4/input"))
	rec := &system.Recorder{Func: fakeExim(root)}
	h, err := system.NewHost(root, rec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.EximCommand = []string{"exim4", "-C", "/etc/exim4/test.conf"}
	cfg.EximBatch = 2
	return root, h, rec, cfg
}

func planExim(t *testing.T, h *system.Host, cfg Config, spec FilterSpec, hold bool) (*plan.Plan, *Picked) {
	t.Helper()
	f, err := spec.Compile()
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenSource(h, OpenOptions{Config: cfg, MTA: "exim"})
	if err != nil {
		t.Fatal(err)
	}
	p, sel, err := PlanChange(context.Background(), h, ChangeOptions{Config: cfg, Source: src, Filter: f, Hold: hold})
	if err != nil {
		t.Fatal(err)
	}
	return p, sel
}

func TestEximPurgePlan(t *testing.T) {
	_, h, rec, cfg := eximPlanRig(t)
	p, sel := planExim(t, h, cfg, FilterSpec{Sender: "bad\\.example$"}, false)
	if sel.Count != 2 || strings.Join(sel.IDs, " ") != "1xYJxi-0005hB-0f 1xYJxi-0005hH-0q" {
		t.Fatalf("selected %d: %v", sel.Count, sel.IDs)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "undo is not possible") {
		t.Errorf("no undo warning in %q", p.Notes)
	}
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rec.Commands(), "\n"); got != "exim4 -C /etc/exim4/test.conf -Mrm 1xYJxi-0005hB-0f 1xYJxi-0005hH-0q" {
		t.Errorf("commands:\n%s", got)
	}
	p, _ = planExim(t, h, cfg, FilterSpec{Sender: "bad\\.example$"}, false)
	if !p.Empty() {
		t.Error("second purge is not empty")
	}
}

func TestEximHoldUndo(t *testing.T) {
	root, h, rec, cfg := eximPlanRig(t)
	hfile := filepath.Join(root, "var/spool/exim4/input/t/1xYJxt-0005u7-0P-H")
	p, sel := planExim(t, h, cfg, FilterSpec{Recipient: "@(dest|x)\\.example$"}, true)
	if sel.Count != 4 {
		t.Fatalf("selected %v", sel.IDs)
	}
	pc := plan.DefaultConfig()
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: pc}); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.Commands()); n != 2 { // batches of 2
		t.Errorf("%d exim calls: %q", n, rec.Commands())
	}
	if b, _ := os.ReadFile(hfile); !strings.Contains(string(b), "-frozen ") {
		t.Fatal("not frozen")
	}
	// A second --hold has nothing to do.
	if p, _ := planExim(t, h, cfg, FilterSpec{Recipient: "@(dest|x)\\.example$"}, true); !p.Empty() {
		t.Errorf("second --hold is not empty: %q", p.Notes)
	}
	up, err := plan.Undo(h, pc, "", plan.UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec.Calls = nil
	if _, err := plan.Apply(context.Background(), up, plan.Options{Host: h, Config: pc}); err != nil {
		t.Fatal(err)
	}
	// Undo thaws with Exim's own -Mt, the ids of each frozen batch recorded by the run.
	cmds := strings.Join(rec.Commands(), "\n")
	if !strings.Contains(cmds, "exim4 -C /etc/exim4/test.conf -Mt ") || !strings.Contains(cmds, "1xYJxt-0005u7-0P") {
		t.Errorf("undo ran:\n%s", cmds)
	}
	if b, _ := os.ReadFile(hfile); strings.Contains(string(b), "-frozen ") || !strings.Contains(string(b), "-manual_thaw") {
		t.Errorf("undo did not thaw:\n%s", b)
	}
}

func TestEximDetectedCommandNotRunUnderRoot(t *testing.T) {
	root, h, rec, cfg := eximPlanRig(t)
	cfg.EximCommand = nil
	os.MkdirAll(filepath.Join(root, "usr/sbin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/sbin/exim4"), []byte("#!/bin/sh\n"), 0o755)
	p, _ := planExim(t, h, cfg, FilterSpec{Sender: "bad"}, false)
	_, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "not run under --root: set mailq.exim_command") {
		t.Fatalf("err %v", err)
	}
	if len(rec.Calls) != 0 {
		t.Errorf("ran %q", rec.Commands())
	}
}

func TestEximPurgeLeavesMessagesBeingReceived(t *testing.T) {
	root, h, rec, cfg := eximPlanRig(t)
	// 1xYJxi-0005hF-0l without its -H: Exim is still receiving it.
	os.Remove(filepath.Join(root, "var/spool/exim4/input/1xYJxi-0005hF-0l-H"))
	p, sel := planExim(t, h, cfg, FilterSpec{All: true}, false)
	if sel.Count != 4 || sel.Skipped != 1 || !strings.Contains(strings.Join(p.Notes, "\n"), "1 message matching all messages left as they are: being received") {
		t.Fatalf("selected %v, skipped %d, notes %q", sel.IDs, sel.Skipped, p.Notes)
	}
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()}); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Commands() {
		if strings.Contains(c, "1xYJxi-0005hF-0l") {
			t.Errorf("ran %s", c)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "var/spool/exim4/input/1xYJxi-0005hF-0l-D")); err != nil {
		t.Error("the message being received was touched")
	}
}
