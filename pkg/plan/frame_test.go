package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// The --root command rule: under --root no detected command runs, and no command that is
// not set runs anywhere; Apply refuses before changing anything, naming the keys, and the
// dry-run shows the whole plan with the steps marked.
func TestRootCommandRule(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	p := New("exim fix")
	p.Add(Service("exim", "stop", Detected("exim.stop_command", []string{"/etc/init.d/exim4", "stop"})))
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{Notify: []string{"reload"}})))
	p.Handle("reload", Argv{Key: "exim.reload_command"}, "reload exim")
	p.Handle("never", Argv{Key: "exim.never_command"}, "") // nobody notifies it: not needed
	p.AddFinally(Service("exim", "start", Configured("exim.start_command", []string{"start-exim"})))

	prev := PreviewOn(p, tr.h)
	out := text(prev)
	for _, want := range []string{
		"! service exim: stop: /etc/init.d/exim4 stop (detected) [detected, not run under --root: set exim.stop_command]",
		"~ edit_file /etc/a",
		"! service reload: reload exim (handler: runs once at the end) [not set: set exim.reload_command]",
		"! service exim: start: start-exim (always runs at the end) [cannot be previewed]",
		"note: apply refuses this plan until you set exim.stop_command, exim.reload_command",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "never") {
		t.Errorf("a handler nobody notifies is not part of the plan:\n%s", out)
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, prev); err != nil || !strings.Contains(js.String(), `"blocked": "detected, not run under --root: set exim.stop_command"`) {
		t.Errorf("JSON lacks blocked: %v\n%s", err, js.String())
	}

	rep, err := tr.apply(p)
	var re *RuleError
	if rep != nil || !errors.As(err, &re) || !usage.Is(err) {
		t.Fatalf("apply: %v %v, want a usage *RuleError and no report", rep, err)
	}
	if want := "exim fix: service exim (stop): detected, not run under --root: set exim.stop_command; handler reload: not set: set exim.reload_command; nothing was changed"; err.Error() != want {
		t.Errorf("error\n %q\nwant\n %q", err, want)
	}
	if strings.Join(re.Keys, ",") != "exim.stop_command,exim.reload_command" {
		t.Errorf("keys %q", re.Keys)
	}
	if got := tr.rec.Commands(); len(got) != 0 || tr.read("/etc/a") != "1" || tr.exists(tr.cfg.BackupDir) || tr.exists(tr.cfg.HistoryFile) {
		t.Errorf("a refused apply changed something: commands %q", got)
	}

	// Configured, the same plan runs, with the command's environment.
	p = New("exim fix")
	p.Add(Service("exim", "stop", Argv{Args: []string{"stop-exim"}, Env: []string{"A=1"}, Key: "exim.stop_command"}))
	p.Add(InstallPackages(Argv{Args: []string{"apt-get", "install", "-y"}, Env: []string{"DEBIAN_FRONTEND=noninteractive"}, Key: "k"}, "exim4"))
	p.Add(Command(Configured("x.cmd", []string{"true"}), ""))
	tr.mustApply(p)
	if len(tr.rec.Calls) != 3 || strings.Join(tr.rec.Calls[0].Env, ",") != "A=1" || strings.Join(tr.rec.Calls[1].Env, ",") != "DEBIAN_FRONTEND=noninteractive" ||
		tr.rec.Commands()[1] != "apt-get install -y exim4" {
		t.Errorf("calls %+v", tr.rec.Calls)
	}
}

// On the live host a detected command runs, an unset one is refused all the same.
func TestRootCommandRuleLive(t *testing.T) {
	rec := &system.Recorder{}
	live := &system.Host{Root: "/", Runner: rec}
	p := New("t")
	p.Add(Service("x", "stop", Detected("x.stop", []string{"svc", "-d", "/service/x"})))
	if err := CheckCommands(p, live); err != nil {
		t.Errorf("a detected command may run on the live host: %v", err)
	}
	p.AddFinally(Service("x", "start", Argv{Key: "x.start"}))
	_, err := Apply(context.Background(), p, Options{Host: live})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "not set: set x.start") || len(rec.Calls) != 0 {
		t.Errorf("live apply with an unset command: %v, calls %q", err, rec.Commands())
	}
	if out := text(Preview(p)); !strings.Contains(out, "! service x: stop: svc -d /service/x (detected) [cannot be previewed]") ||
		!strings.Contains(out, "start: (not set) (always runs at the end) [not set: set x.start]") {
		t.Errorf("host-less preview:\n%s", out)
	}
}

func TestVerify(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	var log bytes.Buffer
	p := New("t")
	p.Handle("restart", cf("restart-x"), "")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{Notify: []string{"restart"}})))
	var saw string
	p.Verify("x answers with the new banner", func(_ context.Context, r *Run) error {
		b, _ := r.Host.ReadFile("/etc/a")
		saw = string(b)
		r.Logf("banner ok")
		return nil
	})
	if out := text(PreviewOn(p, tr.h)); !strings.Contains(out, "! verify: x answers with the new banner (checked after the changes; a failure rolls them back)") {
		t.Errorf("preview:\n%s", out)
	}
	o := tr.opts()
	o.Log = &log
	rep, err := Apply(context.Background(), p, o)
	if err != nil || saw != "2" {
		t.Fatalf("apply: %v, verify saw %q", err, saw)
	}
	if out := text(rep); !strings.Contains(out, "! verify: x answers with the new banner (ok in ") || !strings.Contains(log.String(), "banner ok") {
		t.Errorf("report:\n%s\nlog:\n%s", out, log.String())
	}
	if got := strings.Join(tr.rec.Commands(), "|"); got != "restart-x" {
		t.Errorf("commands %q: the handler runs before verify", got)
	}

	// A failing verify rolls the whole plan back, re-runs the handlers and fails the run.
	tr.rec.Calls = nil
	p = New("t")
	p.Handle("restart", cf("restart-x"), "")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("3"), EditOptions{Notify: []string{"restart"}})))
	p.Add(tr.must(EditFile(tr.h, "/etc/new", replace("n"), EditOptions{})))
	p.AddFinally(Service("x", "start", cf("start-x")))
	p.Verify("x still answers", func(context.Context, *Run) error { return errors.New("no banner on port 25") })
	p.Verify("never reached", func(context.Context, *Run) error { t.Error("second verify ran after a failure"); return nil })
	rep, err = tr.apply(p)
	if err == nil || err.Error() != "verify x still answers: no banner on port 25" {
		t.Fatalf("err %v", err)
	}
	if tr.read("/etc/a") != "2" || tr.exists("/etc/new") {
		t.Error("a failed verify did not roll the plan back")
	}
	if got := strings.Join(tr.rec.Commands(), "|"); got != "restart-x|restart-x|start-x" {
		t.Errorf("commands %q: handler, handler again after rollback, finally", got)
	}
	if rep.Changed || !strings.Contains(strings.Join(rep.Restored, "|"), "handler restart re-run on the restored state") {
		t.Errorf("report changed=%v restored %q", rep.Changed, rep.Restored)
	}
	out := text(rep)
	if !strings.Contains(out, "FAILED: verify x still answers: no banner on port 25") || !strings.Contains(out, "error: no banner on port 25") {
		t.Errorf("report:\n%s", out)
	}
	runs, _, _ := History(tr.h, tr.cfg)
	last := runs[len(runs)-1]
	if last.Result != ResultFailed || !strings.Contains(last.Error, "no banner") {
		t.Errorf("audit log records %q %q, want failed", last.Result, last.Error)
	}

	// A panicking verify is a failure like any other.
	p = New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("4"), EditOptions{})))
	p.Verify("buggy", func(context.Context, *Run) error { panic("boom") })
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "internal error in verify buggy: boom") || tr.read("/etc/a") != "2" {
		t.Errorf("panic: %v, /etc/a %q", err, tr.read("/etc/a"))
	}
}

func TestRemoveDir(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/cpanel/serviceauth/exim/key", "SECRETKEY", 0o600)
	tr.write("/var/cpanel/serviceauth/exim/sub/other", "x", 0o644)
	if err := os.Symlink("key", tr.h.Path("/var/cpanel/serviceauth/exim/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tr.h.Path("/var/cpanel/serviceauth/exim"), 0o700); err != nil {
		t.Fatal(err)
	}
	if a, err := RemoveDir(tr.h, "/var/cpanel/serviceauth/none", RemoveDirOptions{}); a != nil || err != nil {
		t.Errorf("absent directory: %v %v", a, err)
	}
	// a file says what it is and its mode (it printed "not a directory (----------)")
	if _, err := RemoveDir(tr.h, "/var/cpanel/serviceauth/exim/key", RemoveDirOptions{}); err == nil || !regexp.MustCompile(`: a file \(-[rwx-]{9}\), not a directory`).MatchString(err.Error()) {
		t.Errorf("file: %v", err)
	}
	os.Symlink("exim", tr.h.Path("/var/cpanel/serviceauth/alias"))
	if _, err := RemoveDir(tr.h, "/var/cpanel/serviceauth/alias", RemoveDirOptions{}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("symlink: %v", err)
	}
	if _, err := RemoveDir(tr.h, "/", RemoveDirOptions{}); err == nil {
		t.Error("/ accepted")
	}
	a := tr.must(RemoveDir(tr.h, "/var/cpanel/serviceauth/exim", RemoveDirOptions{Detail: "stale service keys", Secret: true, Notify: []string{"restart"}}))
	d := a.Describe()
	if d.Kind != KindRemoveDir || d.Count != 3 || len(d.Sample) != 0 || !strings.Contains(d.Detail, "stale service keys; 3 files") || !strings.Contains(d.Detail, "secret") {
		t.Errorf("description %+v", d)
	}
	p := New("exim fix")
	p.Handle("restart", cf("restart-exim"), "")
	p.Add(a)
	rep := tr.mustApply(p)
	if tr.exists("/var/cpanel/serviceauth/exim") {
		t.Fatal("directory still there")
	}
	var js bytes.Buffer
	WriteJSON(&js, rep)
	if strings.Contains(js.String(), "key") && strings.Contains(js.String(), "SECRET") {
		t.Errorf("secret shown: %s", js.String())
	}
	if got := tr.rec.Commands(); len(got) != 1 {
		t.Errorf("notify: %q", got)
	}
	saved := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID, "dirs/var/cpanel/serviceauth/exim/key")
	if b, err := os.ReadFile(saved); err != nil || string(b) != "SECRETKEY" {
		t.Errorf("backup %q %v", b, err)
	}
	// Undo moves it back, mode and link kept.
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil || len(up.Actions) != 1 {
		t.Fatalf("undo plan %v %v", up, err)
	}
	tr.mustApply(up)
	if tr.read("/var/cpanel/serviceauth/exim/key") != "SECRETKEY" || tr.read("/var/cpanel/serviceauth/exim/sub/other") != "x" ||
		tr.mode("/var/cpanel/serviceauth/exim").Perm() != 0o700 || tr.mode("/var/cpanel/serviceauth/exim/link")&os.ModeSymlink == 0 {
		t.Error("undo did not restore the tree as it was")
	}
	if up2, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err != nil || !up2.Empty() {
		t.Errorf("undo again: %v %v", up2, err)
	}

	// A later failure rolls the removal back.
	p = New("t")
	p.Add(tr.must(RemoveDir(tr.h, "/var/cpanel/serviceauth/exim", RemoveDirOptions{})))
	p.Add(Command(cf("false"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		return system.Result{ExitCode: 1}, &system.ExitError{Cmd: c, Result: system.Result{ExitCode: 1}}
	}
	rep, err = tr.apply(p)
	if err == nil || tr.read("/var/cpanel/serviceauth/exim/key") != "SECRETKEY" || !strings.Contains(strings.Join(rep.Restored, "|"), "/var/cpanel/serviceauth/exim (put back)") {
		t.Errorf("rollback: %v %q", err, rep.Restored)
	}
}

// ownedAction is a runbook-owned action: it writes a file itself after saving it.
type ownedAction struct {
	path, content string
	applied       bool
	panicAt       string
}

func (a *ownedAction) Describe() Description {
	return Description{Kind: KindCustom, Op: OpChange, Target: a.path, Detail: "write by hand", Previewable: true}
}
func (a *ownedAction) Verify(context.Context, *Run) error { return nil }
func (a *ownedAction) Apply(_ context.Context, r *Run) error {
	if err := r.BackupFile(a.path); err != nil {
		return err
	}
	if err := r.BackupFile(a.path); err != nil { // twice: keeps the first copy
		return err
	}
	r.Logf("writing %s", a.path)
	if a.panicAt == "apply" {
		panic("owned apply")
	}
	rp, err := r.Host.RealPath(a.path)
	if err != nil {
		return err
	}
	os.MkdirAll(filepath.Dir(rp), 0o755)
	a.applied = true
	return os.WriteFile(rp, []byte(a.content), 0o600)
}
func (a *ownedAction) Outcome() (bool, string) { return a.applied, "written by the runbook" }
func (a *ownedAction) Rollback(context.Context, *Run) (string, error) {
	if a.panicAt == "rollback" {
		panic("owned rollback")
	}
	return "", nil
}

func TestRunbookOwnedAction(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/owned", "old", 0o640)
	var log bytes.Buffer
	p := New("t")
	p.Add(&ownedAction{path: "/etc/owned", content: "new"}, &ownedAction{path: "/etc/created", content: "c"})
	o := tr.opts()
	o.Log = &log
	rep, err := Apply(context.Background(), p, o)
	if err != nil {
		t.Fatal(err)
	}
	if tr.read("/etc/owned") != "new" || !rep.Changed || rep.Actions[0].Detail != "written by the runbook" || !strings.Contains(log.String(), "writing /etc/owned") {
		t.Fatalf("apply: %s\n%s", text(rep), log.String())
	}
	// Undo restores what BackupFile saved: content, mode; the created file goes again.
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if tr.read("/etc/owned") != "old" || tr.mode("/etc/owned").Perm() != 0o640 || tr.exists("/etc/created") {
		t.Errorf("undo: %q %v created=%v", tr.read("/etc/owned"), tr.mode("/etc/owned"), tr.exists("/etc/created"))
	}
	// A file edited after the run is a conflict, as for EditFile.
	rep = tr.mustApply(&Plan{Command: "t", Actions: []Action{&ownedAction{path: "/etc/owned", content: "new2"}}})
	tr.write("/etc/owned", "someone else", 0o640)
	if _, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err == nil {
		t.Error("undo over a later edit must conflict")
	}
	tr.write("/etc/owned", "old", 0o640)

	// A later failure restores the saved files, also when the action's own Rollback panics.
	p = New("t")
	p.Add(&ownedAction{path: "/etc/owned", content: "new", panicAt: "rollback"}, &ownedAction{path: "/etc/created", content: "c"}, &ownedAction{path: "/etc/x", panicAt: "apply"})
	rep, err = tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "internal error in custom /etc/x: owned apply") {
		t.Fatalf("err %v", err)
	}
	if tr.read("/etc/owned") != "old" || tr.exists("/etc/created") || tr.exists("/etc/x") {
		t.Errorf("rollback left owned=%q created=%v x=%v\n%s", tr.read("/etc/owned"), tr.exists("/etc/created"), tr.exists("/etc/x"), text(rep))
	}
	if !strings.Contains(strings.Join(rep.Restored, "|"), "NOT restored: custom /etc/owned: internal error in the rollback") {
		t.Errorf("restored %q", rep.Restored)
	}
}

// A panic in a Finally action is caught like one in any other action.
func TestFinallyPanicCaught(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{})))
	p.AddFinally(&ownedAction{path: "/etc/f", panicAt: "apply"}, Service("x", "start", cf("start-x")))
	rep, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "internal error in custom /etc/f") {
		t.Fatalf("err %v", err)
	}
	if got := tr.rec.Commands(); len(got) != 1 || got[0] != "start-x" {
		t.Errorf("the next finally step must still run: %q", got)
	}
	if rep == nil || rep.Error == "" {
		t.Errorf("report %+v", rep)
	}
}

// -v: every action is logged as it runs, with its timing.
func TestApplyLogsProgress(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "1", 0o644)
	var log bytes.Buffer
	p := New("t")
	p.Add(tr.must(EditFile(tr.h, "/etc/a", replace("2"), EditOptions{})), Command(cf("true"), ""))
	p.AddFinally(Service("x", "start", cf("start-x")))
	o := tr.opts()
	o.Log = &log
	if _, err := Apply(context.Background(), p, o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []string{"[1/2] ~ edit_file /etc/a", "  done in ", "[2/2] ! command true", "  done in ", "[finally] ! service x", "  done in "}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s", log.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want prefix %q", i, lines[i], w)
		}
	}
}

func ExampleArgv() {
	fmt.Println(Configured("mailq.stop_command", []string{"svc", "-d", "/service/qmail-send"}))
	fmt.Println(Argv{Key: "mailq.stop_command"})
	b, _ := json.Marshal(Detected("k", []string{"x"}).blocked(&system.Host{Root: "/tmp/tree"}))
	fmt.Println(string(b))
	// Output:
	// svc -d /service/qmail-send
	// (not set)
	// "detected, not run under --root: set k"
}

// Issue 8 item 5: the undo of a run that stopped a service around its changes (a purge:
// stop, wait for the lock, remove, start) gets the same sequence around the restore, as
// recorded in the run's run.json, and the handlers its changes triggered.
func TestUndoRepeatsServiceSequence(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/q/mess/1", "m1", 0o600)
	tr.write("/var/q/lock/sendmutex", "", 0o600)
	tr.write("/etc/q.conf", "old", 0o644)
	p := New("mailq purge")
	p.Add(Service("qmail-send", "stop", cf("svc", "-d", "/service/qmail-send")))
	p.Add(WaitUnlock(tr.h, "/var/q/lock/sendmutex", 3e9))
	p.Add(tr.must(RemoveFiles(tr.h, []File{{Path: "/var/q/mess/1"}}, RemoveOptions{Within: "/var/q"})))
	p.Add(tr.must(EditFile(tr.h, "/etc/q.conf", replace("new"), EditOptions{Notify: []string{"reload"}})))
	p.Handle("reload", Configured("q.reload_command", []string{"reload-q"}), "")
	p.AddFinally(Service("qmail-send", "start", cf("svc", "-u", "/service/qmail-send")))
	run := tr.mustApply(p)
	info, err := readRunInfo(filepath.Join(tr.h.Path(tr.cfg.BackupDir), run.RunID))
	if err != nil || len(info.Around) != 3 || len(info.Handlers) != 1 {
		t.Fatalf("run.json records %+v %v", info, err)
	}

	tr.rec.Calls = nil
	up, err := Undo(tr.h, tr.cfg, run.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(PreviewOn(up, tr.h))
	for _, want := range []string{
		"! service qmail-send: stop: svc -d /service/qmail-send [cannot be previewed]",
		"! wait_unlock /var/q/lock/sendmutex: wait up to 3s",
		"~ restore /etc/q.conf",
		"+ restore /var/q",
		"! service reload: reload-q (handler: runs once at the end)",
		"! service qmail-send: start: svc -u /service/qmail-send (always runs at the end)",
		"note: around the restore, the undo repeats what " + run.RunID + " did: stop qmail-send, wait for /var/q/lock/sendmutex; start qmail-send at the end",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("undo preview lacks %q:\n%s", want, out)
		}
	}
	tr.mustApply(up)
	if got := strings.Join(tr.rec.Commands(), "|"); got != "svc -d /service/qmail-send|reload-q|svc -u /service/qmail-send" {
		t.Errorf("undo ran %q", got)
	}
	if tr.read("/var/q/mess/1") != "m1" || tr.read("/etc/q.conf") != "old" {
		t.Error("undo did not restore")
	}
	// Nothing left to restore: no stop/start either.
	if up, err := Undo(tr.h, tr.cfg, run.RunID, UndoOptions{}); err != nil || !up.Empty() || len(up.Finally) != 0 {
		t.Errorf("second undo %+v %v", up, err)
	}
}

// Issue 8 item 7: EditFile and Move record the parent directories they create; rollback
// and undo remove them again (only when empty), and a second undo has nothing to do.
func TestCreatedParentDirectoriesAreRemoved(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/xinetd.d/smtp_psa", "service smtp\n", 0o644)
	plan := func() *Plan {
		p := New("t")
		p.Add(tr.must(EditFile(tr.h, "/etc/hostfix/new/sub/a.conf", replace("a"), EditOptions{})))
		p.Add(tr.must(Move(tr.h, "/etc/xinetd.d/smtp_psa", "/etc/xinetd.d/disabled/old/smtp_psa")))
		return p
	}
	// Rolled back by a later failure: no directory left behind.
	p := plan()
	p.Add(Command(cf("fail"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		res := system.Result{ExitCode: 1}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("no failure")
	}
	for _, d := range []string{"/etc/hostfix", "/etc/xinetd.d/disabled"} {
		if tr.exists(d) {
			t.Errorf("rollback left %s behind:\n%s", d, text(rep))
		}
	}
	if !tr.exists("/etc/xinetd.d/smtp_psa") {
		t.Fatal("move not rolled back")
	}
	tr.rec.Func = nil

	// Applied, then undone: the same.
	rep = tr.mustApply(plan())
	if !tr.exists("/etc/hostfix/new/sub/a.conf") || !tr.exists("/etc/xinetd.d/disabled/old/smtp_psa") {
		t.Fatal("not applied")
	}
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(PreviewOn(up, tr.h))
	if !strings.Contains(out, "- restore /etc/hostfix/new/sub: directory created by "+rep.RunID) {
		t.Errorf("undo preview:\n%s", out)
	}
	tr.mustApply(up)
	for _, d := range []string{"/etc/hostfix", "/etc/xinetd.d/disabled"} {
		if tr.exists(d) {
			t.Errorf("undo left %s behind", d)
		}
	}
	if tr.read("/etc/xinetd.d/smtp_psa") != "service smtp\n" {
		t.Error("undo did not move back")
	}
	if up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err != nil || !up.Empty() {
		t.Errorf("second undo: %v\n%s", err, text(Preview(up)))
	}

	// A directory someone else put files into since stays, and says why.
	rep = tr.mustApply(plan())
	tr.write("/etc/hostfix/new/other.conf", "mine", 0o644)
	up, err = Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if !tr.exists("/etc/hostfix/new/other.conf") || tr.exists("/etc/hostfix/new/sub") {
		t.Errorf("undo must remove the emptied sub and keep the directory holding a new file:\n%s", text(Preview(up)))
	}
	if !strings.Contains(strings.Join(up.Notes, "|"), "/etc/hostfix/new is not empty") {
		t.Errorf("notes %q", up.Notes)
	}
}
