package mailq

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func TestDetectControl(t *testing.T) {
	cases := []struct {
		name     string
		setup    func(root string)
		stop     string
		detected bool
	}{
		{"config", nil, "my-stop", false},
		{"qmailctl", func(r string) { writeExec(t, r, "/var/qmail/bin/qmailctl") }, "/var/qmail/bin/qmailctl stop", true},
		{"qmailctl on PATH", func(r string) { writeExec(t, r, "/opt/q/qmailctl") }, "/opt/q/qmailctl stop", true},
		{"daemontools", func(r string) { os.MkdirAll(r+"/service/qmail-send", 0o755) }, "svc -d /service/qmail-send", true},
		{"systemd", func(r string) { writeFile(t, r, "/lib/systemd/system/qmail.service") }, "systemctl stop qmail", true},
		{"init", func(r string) { writeExec(t, r, "/etc/init.d/qmail") }, "/etc/init.d/qmail stop", true},
		{"nothing", nil, "", false},
	}
	for _, c := range cases {
		root := t.TempDir()
		if c.setup != nil {
			c.setup(root)
		}
		cfg := DefaultConfig()
		if c.name == "config" {
			cfg.StopCommand, cfg.StartCommand = []string{"my-stop"}, []string{"my-start"}
		}
		ctl, err := DetectControl(hostAt(t, root), cfg, "/opt/q:relative")
		if err != nil || system.FormatArgv(ctl.Stop.Args) != c.stop || ctl.Stop.Detected != c.detected || ctl.Start.Detected != c.detected {
			t.Errorf("%s: stop %+v (%v), want %q detected=%v", c.name, ctl.Stop, err, c.stop, c.detected)
		}
		if ctl.Stop.Key != StopKey || ctl.Start.Key != StartKey {
			t.Errorf("%s: keys %q %q", c.name, ctl.Stop.Key, ctl.Start.Key)
		}
	}
	cfg := DefaultConfig()
	cfg.StopCommand = []string{"x"}
	if _, err := DetectControl(hostAt(t, t.TempDir()), cfg, ""); err == nil || !usage.Is(err) {
		t.Errorf("stop without start accepted: %v", err)
	}
}

// Issue 8 item 1: under --root a detected /etc/init.d/qmail (a file of the tree) must never
// make hostfix run the host's /etc/init.d/qmail: apply refuses (usage error naming
// mailq.stop_command) before running or removing anything, and the dry-run still shows
// the whole plan with the steps marked.
func TestPurgeUnderRootNeverRunsDetectedCommands(t *testing.T) {
	for _, setup := range []struct {
		name string
		fn   func(root string)
		mark string
	}{
		{"init script", func(r string) { writeExec(t, r, "/etc/init.d/qmail") }, "detected, not run under --root: set mailq.stop_command"},
		{"daemontools", func(r string) { os.MkdirAll(r+"/service/qmail-send", 0o755) }, "detected, not run under --root: set mailq.stop_command"},
		{"nothing found", func(string) {}, "not set: set mailq.stop_command"},
	} {
		t.Run(setup.name, func(t *testing.T) {
			root := t.TempDir()
			if _, err := qmailgen.Generate(root+qdir, qmailgen.Options{Messages: 20, Seed: 1, NoBodies: true}); err != nil {
				t.Fatal(err)
			}
			setup.fn(root)
			rec := &system.Recorder{}
			h, err := system.NewHost(root, rec)
			if err != nil {
				t.Fatal(err)
			}
			p, sel, err := PlanPurge(context.Background(), h, PurgeOptions{Config: DefaultConfig(), Filter: Filter{All: true}})
			if err != nil {
				t.Fatalf("dry-run planning must not refuse: %v", err)
			}
			prev := plan.PreviewOn(p, h)
			var blocked []string
			for _, a := range prev.Actions {
				if a.Blocked != "" {
					blocked = append(blocked, a.Phase+" "+a.Blocked)
				}
			}
			if len(blocked) != 2 || !strings.Contains(blocked[0], setup.mark) || !strings.Contains(blocked[1], "mailq.start_command") {
				t.Errorf("preview marks %q, want stop and start marked %q", blocked, setup.mark)
			}
			before := countFiles(t, root+"/var/qmail/queue")
			rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.Config{BackupDir: "/backup", LockFile: "/lock", HistoryFile: "/history"}})
			if err == nil || !usage.Is(err) || rep != nil || !strings.Contains(err.Error(), "mailq.stop_command") || !strings.Contains(err.Error(), "mailq.start_command") {
				t.Fatalf("apply: %v (report %v), want a usage error naming both keys", err, rep)
			}
			if cmds := rec.Commands(); len(cmds) != 0 {
				t.Errorf("ran %q under --root", cmds)
			}
			if after := countFiles(t, root+"/var/qmail/queue"); after != before || sel.Count != 20 {
				t.Errorf("queue files %d -> %d (selected %d): apply must change nothing", before, after, sel.Count)
			}
			if _, err := os.Stat(root + "/backup"); !os.IsNotExist(err) {
				t.Errorf("a refused apply created the backup directory: %v", err)
			}
		})
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func writeFile(t *testing.T, root, p string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(root+p), 0o755)
	if err := os.WriteFile(root+p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeExec(t *testing.T, root, p string) {
	writeFile(t, root, p)
	os.Chmod(root+p, 0o755)
}

func testConfig() Config {
	c := DefaultConfig()
	c.StopCommand = []string{"qmailctl", "stop"}
	c.StartCommand = []string{"qmailctl", "start"}
	c.LockWait = 5 * time.Second
	return c
}

// TestPurgeIdempotent: plan, apply to a temp root, plan again -> empty; only the selected
// messages are gone, every one of their files with them, the others untouched.
func TestPurgeIdempotent(t *testing.T) {
	for _, noBackup := range []bool{false, true} {
		root := t.TempDir()
		msgs, err := qmailgen.Generate(root+qdir, qmailgen.Options{Layout: qmailgen.Layout{Split: 5}, Messages: 200, Seed: 3, NoBodies: true, Queued: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		rec := &system.Recorder{}
		h, _ := system.NewHost(root, rec)
		f, _ := FilterSpec{Sender: `^spam@victim\.example$`}.Compile()
		o := PurgeOptions{Config: testConfig(), Filter: f}
		p, sel, err := PlanPurge(context.Background(), h, o)
		if err != nil {
			t.Fatal(err)
		}
		spam := 0
		for _, m := range msgs {
			if m.Sender == "spam@victim.example" {
				spam++
			}
		}
		if sel.Count != spam || p.Empty() {
			t.Fatalf("selected %d, want %d", sel.Count, spam)
		}
		kinds := []plan.Kind{}
		for _, a := range p.Actions {
			kinds = append(kinds, a.Describe().Kind)
		}
		if len(kinds) != 3 || kinds[0] != plan.KindService || kinds[1] != plan.KindWaitUnlock || kinds[2] != plan.KindRemoveFiles || len(p.Finally) != 1 {
			t.Fatalf("plan shape %v, finally %d", kinds, len(p.Finally))
		}
		rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig(), NoBackup: noBackup})
		if err != nil {
			t.Fatalf("apply: %v (%+v)", err, rep)
		}
		if got := strings.Join(rec.Commands(), "; "); got != "qmailctl stop; qmailctl start" {
			t.Errorf("commands %q", got)
		}
		q, _ := Open(h, qdir)
		left, err := VerifyPurged(context.Background(), q, sel.IDs)
		if err != nil || len(left) > 0 {
			t.Fatalf("left behind: %v %v", left, err)
		}
		ms := scanAll(t, q, ScanOptions{Envelope: true})
		if len(ms) != len(msgs)-spam {
			t.Fatalf("%d messages remain, want %d", len(ms), len(msgs)-spam)
		}
		for _, m := range ms {
			if m.IsDamaged() || m.Sender == "spam@victim.example" {
				t.Fatalf("after purge: %+v", m)
			}
		}
		p2, sel2, err := PlanPurge(context.Background(), h, o)
		if err != nil || !p2.Empty() || sel2.Count != 0 {
			t.Fatalf("second purge not empty: %v %+v", err, sel2)
		}
		if len(rec.Commands()) != 2 {
			t.Errorf("second plan ran commands: %v", rec.Commands())
		}
	}
}

// TestPurgeRacyPaths: a queued message may be preprocessed between planning and stopping
// qmail-send; its new info/local/remote files and a bounce must go with it.
func TestPurgeRacyPaths(t *testing.T) {
	q, dir := fixture(t, qmailgen.Layout{Split: 2}, map[string]string{
		"mess/0/40": body, "intd/40": "u1\x00p2\x00Fspam@x\x00Tc@d\x00", "todo/40": "=link:intd/40",
	})
	h := q.host
	f, _ := FilterSpec{Sender: "spam"}.Compile()
	p, _, err := PlanPurge(context.Background(), h, PurgeOptions{Config: testConfig(), Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	// qmail-send preprocesses it now.
	os.WriteFile(dir+"/info/0/40", []byte("Fspam@x\x00"), 0o600)
	os.WriteFile(dir+"/remote/0/40", []byte("Tc@d\x00"), 0o600)
	os.WriteFile(dir+"/bounce/40", []byte("x"), 0o600)
	os.Remove(dir + "/todo/40")
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig(), NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	if left, _ := VerifyPurged(context.Background(), q, map[string]bool{"40": true}); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestStatsCheck(t *testing.T) {
	cfg := DefaultConfig()
	cases := []struct {
		s    Stats
		want check.Status
	}{
		{Stats{}, check.OK},
		{Stats{Messages: 999, OldestAgeSeconds: 3600}, check.OK},
		{Stats{Messages: 1000, OldestAgeSeconds: 3600}, check.Warning},
		{Stats{Messages: 10000}, check.Critical},
		{Stats{Messages: 1, OldestAgeSeconds: 25 * 3600}, check.Warning},
		{Stats{Messages: 1, OldestAgeSeconds: 73 * 3600}, check.Critical},
		{Stats{Messages: 3, Damaged: 1}, check.Warning},
	}
	for i, c := range cases {
		r := c.s.Check(cfg)
		if r.Status != c.want {
			t.Errorf("case %d: %s, want %s (%+v)", i, r.Status, c.want, r.Findings)
		}
	}
	cfg.WarnMessages, cfg.CritMessages = 0, 0
	if r := (&Stats{Messages: 1 << 20}).Check(cfg); r.Status != check.OK {
		t.Errorf("disabled thresholds: %s", r.Status)
	}
}

// The purge's verify step: a file the plan deliberately left alone (a symlink, named in a
// note) is not a leftover that fails the run; a file of a purged message that appears
// after the removal is, and names it.
func TestPurgeVerifyStep(t *testing.T) {
	q, dir := fixture(t, qmailgen.Layout{Split: 2}, map[string]string{
		"mess/0/40": body, "info/0/40": "Fspam@x\x00", "remote/0/40": "=symlink:/etc/passwd",
		"mess/1/41": body, "info/1/41": "Fspam@x\x00", "remote/1/41": "Tc@d\x00",
	})
	h := q.host
	f, _ := FilterSpec{Sender: "spam"}.Compile()
	p, sel, err := PlanPurge(context.Background(), h, PurgeOptions{Config: testConfig(), Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Verifies) != 1 || len(sel.Skipped) != 1 {
		t.Fatalf("verify steps %d, skipped %v", len(p.Verifies), sel.Skipped)
	}
	rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()})
	if err != nil {
		t.Fatalf("a noted symlink failed the verify: %v\n%+v", err, rep)
	}
	if _, err := os.Lstat(dir + "/remote/0/40"); err != nil {
		t.Error("the symlink must be left alone")
	}
	// A file written for a purged id after the removal fails the check, naming it.
	os.WriteFile(dir+"/bounce/41", []byte("x"), 0o600)
	err = p.Verifies[0].Check(context.Background(), &plan.Run{Host: h})
	if err == nil || !strings.Contains(err.Error(), "1 file of purged messages still in /var/qmail/queue (bounce/41;") || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("leftover: %v", err)
	}
}
