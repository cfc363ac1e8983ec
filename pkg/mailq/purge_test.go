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
		name  string
		setup func(root string)
		stop  string
		bad   bool
	}{
		{"config", nil, "my-stop", false},
		{"qmailctl", func(r string) { writeExec(t, r, "/var/qmail/bin/qmailctl") }, "/var/qmail/bin/qmailctl stop", false},
		{"qmailctl on PATH", func(r string) { writeExec(t, r, "/opt/q/qmailctl") }, "/opt/q/qmailctl stop", false},
		{"daemontools", func(r string) { os.MkdirAll(r+"/service/qmail-send", 0o755) }, "svc -d /service/qmail-send", false},
		{"systemd", func(r string) { writeFile(t, r, "/lib/systemd/system/qmail.service") }, "systemctl stop qmail", false},
		{"init", func(r string) { writeExec(t, r, "/etc/init.d/qmail") }, "/etc/init.d/qmail stop", false},
		{"nothing", nil, "", true},
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
		if c.bad {
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "mailq.stop_command") {
				t.Errorf("%s: want usage error naming mailq.stop_command, got %v", c.name, err)
			}
			continue
		}
		if err != nil || system.FormatArgv(ctl.Stop) != c.stop {
			t.Errorf("%s: stop %q (%v), want %q", c.name, ctl.Stop, err, c.stop)
		}
	}
	cfg := DefaultConfig()
	cfg.StopCommand = []string{"x"}
	if _, err := DetectControl(hostAt(t, t.TempDir()), cfg, ""); err == nil {
		t.Error("stop without start accepted")
	}
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
