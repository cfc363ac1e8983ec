package plan

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// undoFixture applies one run that edits, creates, sets a sysctl and removes files.
func undoFixture(t *testing.T) (*tree, *Report) {
	tr := newTree(t)
	tr.write("/etc/a.conf", "alpha\x00\xff\n", 0o640)
	tr.write("/etc/b.conf", "beta\n", os.ModeSetuid|0o755)
	tr.write("/proc/sys/net/ipv4/tcp_syncookies", "0\n", 0o644)
	tr.write("/var/spool/q/1", "one", 0o600)
	tr.write("/var/spool/q/2", "two", 0o600)
	if os.Geteuid() == 0 {
		os.Chown(tr.h.Path("/etc/a.conf"), 101, 202)
	}
	p := New("synflood fix")
	p.Add(tr.must(EditFile(tr.h, "/etc/a.conf", replace("ALPHA\n"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/b.conf", replace("BETA\n"), EditOptions{})))
	p.Add(tr.must(EditFile(tr.h, "/etc/created.conf", replace("new\n"), EditOptions{})))
	p.Add(tr.must(SetSysctl(tr.h, "net.ipv4.tcp_syncookies", "1")))
	p.Add(tr.must(RemoveFiles(tr.h, []File{{Path: "/var/spool/q/1", Size: 3}, {Path: "/var/spool/q/2", Size: 3}}, RemoveOptions{Within: "/var/spool/q"})))
	return tr, tr.mustApply(p)
}

func TestUndoRestoresExactly(t *testing.T) {
	tr, rep := undoFixture(t)
	// Change the modes after the run: undo restores the saved mode too.
	os.Chmod(tr.h.Path("/etc/a.conf"), 0o666)

	up, err := Undo(tr.h, tr.cfg, "", UndoOptions{}) // default: the latest run
	if err != nil {
		t.Fatal(err)
	}
	if up.Command != "undo "+rep.RunID || up.Undoes != rep.RunID {
		t.Errorf("undo plan for %q, want %s", up.Command, rep.RunID)
	}
	prev := Preview(up)
	out := text(prev)
	for _, want := range []string{"restore /etc/a.conf", "restore /etc/b.conf", "- restore /etc/created.conf",
		"restore net.ipv4.tcp_syncookies: 1 -> 0", "+ restore /var/spool/q: move 2 files (6 B) back", "-ALPHA", "+BETA"} {
		if want == "+BETA" {
			want = "-BETA"
		}
		if !strings.Contains(out, want) {
			t.Errorf("undo dry-run lacks %q:\n%s", want, out)
		}
	}
	for _, a := range prev.Actions {
		if a.Kind != KindRestore {
			t.Errorf("undo action kind %s", a.Kind)
		}
	}
	urep := tr.mustApply(up)
	if tr.read("/etc/a.conf") != "alpha\x00\xff\n" || tr.read("/etc/b.conf") != "beta\n" {
		t.Error("content not restored byte for byte")
	}
	if m := tr.mode("/etc/a.conf"); m.Perm() != 0o640 {
		t.Errorf("a.conf mode %v", m)
	}
	if m := tr.mode("/etc/b.conf"); m.Perm() != 0o755 || m&os.ModeSetuid == 0 {
		t.Errorf("b.conf mode %v, want setuid 0755", m)
	}
	if os.Geteuid() == 0 {
		if u, g := tr.owner("/etc/a.conf"); u != 101 || g != 202 {
			t.Errorf("owner %d:%d", u, g)
		}
	}
	if tr.exists("/etc/created.conf") {
		t.Error("created file not removed")
	}
	if tr.read("/proc/sys/net/ipv4/tcp_syncookies") != "0\n" {
		t.Error("sysctl not restored")
	}
	if tr.read("/var/spool/q/1") != "one" || tr.read("/var/spool/q/2") != "two" || tr.mode("/var/spool/q/1").Perm() != 0o600 {
		t.Error("removed files not restored")
	}

	// The undo is a run: it shows in the history, and the original is no longer the default.
	runs, _, _ := History(tr.h, tr.cfg)
	if len(runs) != 2 || runs[1].Undoes != rep.RunID || runs[1].RunID != urep.RunID {
		t.Fatalf("history %+v", runs)
	}
	if _, err := Undo(tr.h, tr.cfg, "", UndoOptions{}); !errors.Is(err, ErrNoRun) {
		t.Errorf("second default undo: %v, want ErrNoRun", err)
	}
	// Undoing the same run again: nothing left to do.
	again, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil || !again.Empty() {
		t.Fatalf("repeat undo: %v\n%s", err, text(Preview(again)))
	}
	// Undoing the undo re-applies the change (content and the created file).
	redo, err := Undo(tr.h, tr.cfg, urep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(redo)
	if tr.read("/etc/a.conf") != "ALPHA\n" || tr.read("/etc/created.conf") != "new\n" {
		t.Error("undo of the undo did not re-apply")
	}
}

func TestUndoRefusesLaterChangesUnlessForced(t *testing.T) {
	tr, rep := undoFixture(t)
	tr.write("/etc/a.conf", "edited by hand\n", 0o640)
	tr.write("/proc/sys/net/ipv4/tcp_syncookies", "2\n", 0o644)
	tr.write("/var/spool/q/1", "a new message took the name", 0o600)
	_, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	var ce *ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 2 || len(ce.Kept) != 1 {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"/etc/a.conf was edited since", "net.ipv4.tcp_syncookies is 2 now", "never overwritten, not even with --force: /var/spool/q/1 exists again", "use --force to overwrite the changed ones", "by hand from /var/backups/hostfix/" + rep.RunID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	// The dry-run says what --force overwrites and what it leaves alone, truthfully.
	out := text(PreviewOn(up, tr.h))
	for _, want := range []string{"--force: overwriting a later change: /etc/a.conf was edited since", "not restored, never overwritten (not even with --force): /var/spool/q/1 exists again"} {
		if !strings.Contains(out, want) {
			t.Errorf("--force dry-run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "overwriting a later change: /var/spool/q/1") {
		t.Errorf("--force dry-run claims to overwrite the kept file:\n%s", out)
	}
	tr.mustApply(up)
	if tr.read("/etc/a.conf") != "alpha\x00\xff\n" || tr.read("/proc/sys/net/ipv4/tcp_syncookies") != "0\n" {
		t.Error("--force did not restore")
	}
	if tr.read("/var/spool/q/1") != "a new message took the name" || tr.read("/var/spool/q/2") != "two" {
		t.Error("--force clobbered a new file, or did not restore the other")
	}
}

func TestUndoBadInput(t *testing.T) {
	tr := newTree(t)
	for _, id := range []string{"", "../../etc", "20261128T073000Z-1a2b"} {
		if _, err := Undo(tr.h, tr.cfg, id, UndoOptions{}); !errors.Is(err, ErrNoRun) {
			t.Errorf("Undo(%q) = %v, want ErrNoRun", id, err)
		}
	}
	// A huge id is echoed cut to usage.MaxEcho characters, like every argument.
	long := strings.Repeat("x", 500)
	if _, err := Undo(tr.h, tr.cfg, long, UndoOptions{}); !errors.Is(err, ErrNoRun) || strings.Contains(err.Error(), long[:usage.MaxEcho+1]) || !strings.Contains(err.Error(), "…") {
		t.Errorf("Undo(500 x) = %v, want ErrNoRun with the id cut to %d characters", err, usage.MaxEcho)
	}
	// A tampered backup copy is refused, not restored.
	tr, rep := undoFixture(t)
	os.WriteFile(filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID, "files/etc/a.conf"), []byte("evil"), 0o600)
	if _, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err == nil || !strings.Contains(err.Error(), "does not match its checksum") {
		t.Errorf("tampered backup: %v", err)
	}
}

func TestHistoryListsRunsAndIncomplete(t *testing.T) {
	tr, rep := undoFixture(t)
	// A run killed before its audit line: only run.json and a manifest.
	dir := filepath.Join(tr.h.Path(tr.cfg.BackupDir), "29991231T235959Z-ffff")
	os.MkdirAll(dir, 0o700)
	writeJSONFile(filepath.Join(dir, "run.json"), RunInfo{ID: "29991231T235959Z-ffff", Time: time.Now(), Command: "mailq purge"})
	// A corrupt line in the audit log is skipped and counted.
	f, _ := os.OpenFile(tr.h.Path(tr.cfg.HistoryFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json\n")
	f.Close()
	runs, bad, err := History(tr.h, tr.cfg)
	if err != nil || bad != 1 || len(runs) != 2 {
		t.Fatalf("runs %+v bad %d err %v", runs, bad, err)
	}
	r := runs[0]
	if r.RunID != rep.RunID || r.Result != ResultOK || r.User != "tester" || r.Command != "synflood fix" {
		t.Errorf("entry %+v", r)
	}
	if got := strings.Join(r.ChangedTargets(), ","); got != "/etc/a.conf,/etc/b.conf,/etc/created.conf,net.ipv4.tcp_syncookies,/var/spool/q" {
		t.Errorf("changed targets %q", got)
	}
	if runs[1].Result != ResultIncomplete || runs[1].Command != "mailq purge" {
		t.Errorf("incomplete run %+v", runs[1])
	}
	if id, _ := LatestUndoable(tr.h, tr.cfg); id != "29991231T235959Z-ffff" {
		t.Errorf("latest undoable %q", id)
	}
}

func TestRunIDSortsByTime(t *testing.T) {
	a := NewRunID(time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC))
	b := NewRunID(time.Date(2026, 11, 28, 7, 30, 1, 0, time.FixedZone("x", 3600)))
	if !strings.HasPrefix(a, "20261128T073000Z-") || !ValidRunID(a) || !ValidRunID(b) {
		t.Fatalf("ids %q %q", a, b)
	}
	if !(b < a) { // b is 06:30:01 UTC
		t.Errorf("%s should sort before %s", b, a)
	}
}

// A run killed after copying a file into the backup but before deleting the original (the
// cross-filesystem path) leaves it in both places, maybe with a partial copy: undo treats
// the identical copy as already restored and leaves unfinished copies alone.
func TestUndoRemovedFileStillInPlace(t *testing.T) {
	tr, rep := undoFixture(t)
	tr.write("/var/spool/q/1", "one", 0o600) // the original is back (never deleted)
	runDir := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID)
	os.WriteFile(filepath.Join(runDir, "removed/var/spool/q/3"+partialSuffix), []byte("tw"), 0o600)
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(Preview(up))
	if !strings.Contains(out, "move 1 file (3 B) back") || !strings.Contains(out, "unfinished copies") {
		t.Errorf("undo plan:\n%s", out)
	}
	tr.mustApply(up)
	if tr.read("/var/spool/q/2") != "two" || tr.exists("/var/spool/q/3") {
		t.Error("wrong restore")
	}
}

// An undo that fails part-way is rolled back like any run: the host is as before the undo.
func TestUndoFailureRollsBackTheUndo(t *testing.T) {
	tr, rep := undoFixture(t)
	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{"/etc/a.conf", "/etc/b.conf", "/etc/created.conf", "/proc/sys/net/ipv4/tcp_syncookies"} {
			b.WriteString(p + "=" + tr.read(p) + ";")
		}
		b.WriteString(fmt.Sprint(tr.exists("/var/spool/q/1"), tr.exists("/var/spool/q/2")))
		return b.String()
	}
	before := snapshot()
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		return system.Result{ExitCode: 1}, &system.ExitError{Cmd: c, Result: system.Result{ExitCode: 1}}
	}
	up.Add(Command(cf("fail-at-the-end"), ""))
	urep, err := tr.apply(up)
	if err == nil {
		t.Fatal("undo with a failing step succeeded")
	}
	if after := snapshot(); after != before {
		t.Errorf("undo not rolled back:\n before %s\n after  %s", before, after)
	}
	if n := len(urep.Restored); n != 6 { // 5 restores + the command that cannot be undone
		t.Errorf("restored %d: %v", n, urep.Restored)
	}
	// And the original run can still be undone afterwards.
	up, err = Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.rec.Func = nil
	tr.mustApply(up)
	if tr.read("/etc/a.conf") != "alpha\x00\xff\n" || tr.exists("/etc/created.conf") || !tr.exists("/var/spool/q/1") {
		t.Error("undo after a failed undo did not restore")
	}
}

func TestMoveRollback(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/a", "a", 0o644)
	p := New("t")
	p.Add(tr.must(Move(tr.h, "/etc/a", "/etc/old/a")), Command(cf("fail"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) {
		return system.Result{ExitCode: 1}, &system.ExitError{Cmd: c, Result: system.Result{ExitCode: 1}}
	}
	rep, err := tr.apply(p)
	if err == nil || tr.read("/etc/a") != "a" || tr.exists("/etc/old/a") {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(strings.Join(rep.Restored, "|"), "/etc/a (moved back and 1 directory it created)") || tr.exists("/etc/old") {
		t.Errorf("restored %v", rep.Restored)
	}
}

// TestUndoNotesWhatItCannotUndo: a run whose changes were a package install and a command
// has nothing to restore, and the undo says why instead of a bare "nothing to do"; a run
// mixing both notes the install next to its restores.
func TestUndoNotesWhatItCannotUndo(t *testing.T) {
	tr := newTree(t)
	p := New("php mbstring install")
	p.Add(InstallPackages(Configured("php.package_managers.apt_get", []string{"apt-get", "install", "-y"}), "php8.2-mbstring"))
	p.Add(Command(Configured("php.phpenmod_command", []string{"phpenmod", "mbstring"}), ""))
	rep := tr.mustApply(p)
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Empty() {
		t.Fatalf("undo of an install plans %d actions", len(up.Actions))
	}
	want := []string{
		"install_packages php8.2-mbstring (run by " + rep.RunID + ") cannot be undone: remove the packages by hand if they must go",
		"command phpenmod mbstring (run by " + rep.RunID + ") cannot be undone: reverse it by hand if needed",
	}
	if strings.Join(up.Notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes\n%s\nwant\n%s", strings.Join(up.Notes, "\n"), strings.Join(want, "\n"))
	}

	tr.write("/etc/a.conf", "alpha\n", 0o644)
	p = New("php mbstring install")
	p.Add(tr.must(EditFile(tr.h, "/etc/a.conf", replace("ALPHA\n"), EditOptions{})))
	p.Add(InstallPackages(Configured("php.package_managers.apt_get", []string{"apt-get", "install", "-y"}), "php8.2-mbstring"))
	rep = tr.mustApply(p)
	if up, err = Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err != nil {
		t.Fatal(err)
	}
	if up.Empty() || len(up.Notes) != 1 || !strings.HasPrefix(up.Notes[0], "install_packages php8.2-mbstring (run by "+rep.RunID+") cannot be undone") {
		t.Errorf("mixed run: %d actions, notes %q", len(up.Actions), up.Notes)
	}
}

// TestUndoDamagedManifest: a manifest line that is not an entry is named by file and line
// and said to be damaged, in words, without the JSON decoder's own (Go struct, invalid
// character …).
func TestUndoDamagedManifest(t *testing.T) {
	for _, bad := range []string{"garbage\n", `{"action":"edit","path":"/etc/a.conf","uid":"x"}` + "\n"} {
		tr, rep := undoFixture(t)
		mf := filepath.Join(tr.h.Path(tr.cfg.BackupDir), rep.RunID, "manifest.jsonl")
		good, err := os.ReadFile(mf)
		if err != nil {
			t.Fatal(err)
		}
		// The bad line first: a bad last line counts as one a kill cut short.
		if err := os.WriteFile(mf, append([]byte(bad), good...), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
		want := "undo " + rep.RunID + ": " + filepath.Join(tr.cfg.BackupDir, rep.RunID, "manifest.jsonl") + ":1: manifest line: not a manifest entry: the file is damaged"
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "invalid character") || strings.Contains(err.Error(), "Go ") {
			t.Errorf("%q: %v\nwant %s…", bad, err, want)
		}
	}
}

// With --force, a run whose only targets left are ones undo never overwrites (a removed
// directory that exists again) is refused, not "nothing to do".
func TestUndoForceOnlyKeptIsRefused(t *testing.T) {
	tr := newTree(t)
	tr.write("/var/cpanel/serviceauth/exim/send", "OLDKEY", 0o600)
	a, err := RemoveDir(tr.h, "/var/cpanel/serviceauth/exim", RemoveDirOptions{Detail: "old keys"})
	if err != nil || a == nil {
		t.Fatalf("RemoveDir: %v %v", a, err)
	}
	p := New("exim auth-reset")
	p.Add(a)
	rep := tr.mustApply(p)
	tr.write("/var/cpanel/serviceauth/exim/send", "NEWKEY", 0o600) // cPanel wrote new keys
	for _, force := range []bool{false, true} {
		_, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{Force: force})
		var ce *ConflictError
		if !errors.As(err, &ce) || len(ce.Kept) != 1 || len(ce.Conflicts) != 0 || strings.Contains(err.Error(), "use --force") {
			t.Errorf("force %v: %v", force, err)
		}
	}
	if tr.read("/var/cpanel/serviceauth/exim/send") != "NEWKEY" {
		t.Error("the new keys were touched")
	}
}
