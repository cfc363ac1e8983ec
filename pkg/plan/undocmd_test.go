package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// holdAction stands for Postfix's postsuper -h -: it records, batch by batch, the command
// that takes it back (postsuper -H - with the ids on stdin).
type holdAction struct {
	undo    Argv
	batches []string
	ran     bool
}

func (a *holdAction) Describe() Description {
	return Description{Kind: KindCommand, Op: OpRun, Target: "hold -", Detail: "hold messages"}
}
func (a *holdAction) Verify(context.Context, *Run) error { return nil }
func (a *holdAction) Apply(_ context.Context, r *Run) error {
	for _, b := range a.batches {
		if err := r.RecordUndoCommand(a.undo, []byte(b), "release the held messages"); err != nil {
			return err
		}
		a.ran = true
	}
	return nil
}
func (a *holdAction) Outcome() (bool, string) { return a.ran, "" }

func runDir(tr *tree, id string) string { return tr.h.Path(filepath.Join(tr.cfg.BackupDir, id)) }

func TestUndoCommand(t *testing.T) {
	tr := newTree(t)
	p := New("mailq purge --hold")
	p.Add(&holdAction{undo: Argv{Args: []string{"release", "-"}, Env: []string{"A=1"}, Key: "test.release"}, batches: []string{"A\nB\n", "C\n"}})
	rep := tr.mustApply(p)

	// The manifest keeps the command, its key and source, stdin and detail.
	entries, cut, err := ReadManifest(filepath.Join(runDir(tr, rep.RunID), "manifest.jsonl"))
	if err != nil || cut || len(entries) != 2 {
		t.Fatalf("manifest: %v %v %+v", err, cut, entries)
	}
	e := entries[0]
	if e.Action != EntryUndoCommand || strings.Join(e.Args, " ") != "release -" || e.Key != "test.release" || e.Detected ||
		string(e.Stdin) != "A\nB\n" || e.Detail != "release the held messages" || e.For != "command hold -" || strings.Join(e.Env, ",") != "A=1" {
		t.Errorf("entry %+v", e)
	}

	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(PreviewOn(up, tr.h))
	want := "! command A=1 release -: undo of " + rep.RunID + ": release the held messages [cannot be previewed]"
	if !strings.Contains(out, want) {
		t.Errorf("undo dry-run lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "cannot be undone") {
		t.Errorf("the hold step has its undo command; no 'cannot be undone' note:\n%s", out)
	}
	if len(up.Actions) != 1 {
		t.Fatalf("the batches of one step are one command: %d actions", len(up.Actions))
	}
	urep := tr.mustApply(up)
	if len(tr.rec.Calls) != 1 || tr.rec.Commands()[0] != "release -" || string(tr.rec.Calls[0].Stdin) != "A\nB\nC\n" ||
		strings.Join(tr.rec.Calls[0].Env, ",") != "A=1" {
		t.Errorf("calls %+v", tr.rec.Calls)
	}
	// The undo run records the command it ran.
	runs, _, err := History(tr.h, tr.cfg)
	if err != nil {
		t.Fatal(err)
	}
	last := runs[len(runs)-1]
	if last.RunID != urep.RunID || last.Undoes != rep.RunID || len(last.Actions) != 1 ||
		last.Actions[0].Kind != KindCommand || last.Actions[0].Target != "A=1 release -" || !last.Actions[0].Changed {
		t.Errorf("undo run in the audit log: %+v", last)
	}

	// Undone once, the command is not run again.
	up, err = Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !up.Empty() || !strings.Contains(strings.Join(up.Notes, "\n"), "were run by "+urep.RunID+" already") {
		t.Errorf("second undo: %d actions, notes %q", len(up.Actions), up.Notes)
	}
}

// A recorded command hostfix detected is not run under --root: the undo is refused
// before anything changes, naming the key; the dry-run marks the step.
func TestUndoCommandRootRule(t *testing.T) {
	tr := newTree(t)
	p := New("mailq purge --hold")
	p.Add(&holdAction{undo: Detected("test.release", []string{"release", "-"}), batches: []string{"A\n"}})
	rep := tr.mustApply(p)
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(PreviewOn(up, tr.h))
	if !strings.Contains(out, "release the held messages (detected) [detected, not run under --root: set test.release]") {
		t.Errorf("dry-run:\n%s", out)
	}
	var re *RuleError
	if err := CheckCommands(up, tr.h); !errors.As(err, &re) || strings.Join(re.Keys, ",") != "test.release" {
		t.Errorf("CheckCommands: %v", err)
	}
	if _, err := tr.apply(up); !usage.Is(err) || len(tr.rec.Calls) != 0 {
		t.Errorf("apply: %v, calls %q", err, tr.rec.Commands())
	}
}

func TestRecordUndoCommandNeedsACommand(t *testing.T) {
	tr := newTree(t)
	p := New("t")
	p.Add(&holdAction{undo: Argv{Key: "test.release"}, batches: []string{"A\n"}})
	if _, err := tr.apply(p); err == nil || !strings.Contains(err.Error(), "set test.release") {
		t.Errorf("apply: %v", err)
	}
	if _, err := ParseManifestLine([]byte(`{"action":"undo_command","uid":-1,"gid":-1}`)); err == nil {
		t.Error("an undo_command entry without a command was accepted")
	}
}

func fileTimes(t *testing.T, tr *tree, p string) (atime, mtime time.Time) {
	t.Helper()
	fi, err := os.Lstat(tr.h.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	return atimeOf(fi), fi.ModTime()
}

func TestSetTimesUndo(t *testing.T) {
	tr := newTree(t)
	oldA := time.Date(2026, 11, 1, 10, 0, 0, 123456789, time.UTC)
	oldM := time.Date(2026, 10, 1, 9, 0, 0, 987654321, time.UTC)
	files := []string{"/var/qmail/queue/info/0/11", "/var/qmail/queue/info/1/12", "/var/qmail/queue/info/1/13"}
	for _, f := range files {
		tr.write(f, "Fsender@example.com\x00", 0o600)
		if err := os.Chtimes(tr.h.Path(f), oldA, oldM); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := New("mailq flush")
	a := SetTimes(tr.h, append(files, "/var/qmail/queue/info/2/99"), now, now, TimesOptions{Detail: "mark 4 messages"})
	p.Add(a)
	prev := text(PreviewOn(p, tr.h))
	if !strings.Contains(prev, "~ set_times /var/qmail/queue/info: mark 4 messages") {
		t.Errorf("dry-run:\n%s", prev)
	}
	rep := tr.mustApply(p)
	for _, f := range files {
		if at, mt := fileTimes(t, tr, f); !at.Equal(now) || !mt.Equal(now) {
			t.Errorf("%s: times %v %v", f, at, mt)
		}
	}
	if rep.Actions[0].Detail != "3 files (1 gone since the plan)" {
		t.Errorf("outcome %q", rep.Actions[0].Detail)
	}
	entries, _, err := ReadManifest(filepath.Join(runDir(tr, rep.RunID), "manifest.jsonl"))
	if err != nil || len(entries) != 3 || entries[0].Action != EntryTimes || entries[0].Path != files[0] ||
		entries[0].ATimeNS != oldA.UnixNano() || entries[0].MTimeNS != oldM.UnixNano() || entries[0].NewMTimeNS != now.UnixNano() {
		t.Fatalf("manifest: %v %+v", err, entries)
	}

	// One file delivered since, one written since: undo refuses, unless --force.
	os.Remove(tr.h.Path(files[2]))
	later := now.Add(time.Minute)
	os.Chtimes(tr.h.Path(files[1]), later, later)
	var ce *ConflictError
	if _, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "1 file written since") {
		t.Fatalf("undo: %v", err)
	}
	os.Chtimes(tr.h.Path(files[1]), now, now)
	up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := text(PreviewOn(up, tr.h))
	for _, w := range []string{"~ restore /var/qmail/queue/info: put back the access and modification times of 2 files saved by " + rep.RunID,
		"note: 1 file whose times " + rep.RunID + " set are gone since"} {
		if !strings.Contains(out, w) {
			t.Errorf("undo dry-run lacks %q:\n%s", w, out)
		}
	}
	urep := tr.mustApply(up)
	for _, f := range files[:2] {
		if at, mt := fileTimes(t, tr, f); !at.Equal(oldA) || !mt.Equal(oldM) {
			t.Errorf("%s after undo: %v %v, want %v %v", f, at, mt, oldA, oldM)
		}
	}
	if up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{}); err != nil || !up.Empty() {
		t.Errorf("undo again: %v %v", err, up)
	}
	// The undo is a run like any: undoing it sets the times again.
	up, err = Undo(tr.h, tr.cfg, urep.RunID, UndoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr.mustApply(up)
	if _, mt := fileTimes(t, tr, files[0]); !mt.Equal(now) {
		t.Errorf("undo of the undo: mtime %v", mt)
	}
}

func TestSetTimesRollback(t *testing.T) {
	tr := newTree(t)
	old := time.Date(2026, 10, 1, 9, 0, 0, 5, time.UTC)
	tr.write("/q/info/1", "x", 0o600)
	os.Chtimes(tr.h.Path("/q/info/1"), old, old)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := New("t")
	p.Add(SetTimes(tr.h, []string{"/q/info/1"}, now, now, TimesOptions{}))
	p.Add(Command(cf("fail"), ""))
	tr.rec.Func = func(c system.Cmd) (system.Result, error) { return system.Result{}, errors.New("boom") }
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("apply did not fail")
	}
	if at, mt := fileTimes(t, tr, "/q/info/1"); !at.Equal(old) || !mt.Equal(old) {
		t.Errorf("times after rollback %v %v", at, mt)
	}
	if !strings.Contains(strings.Join(rep.Restored, "\n"), "old times of 1 file put back (/q/info)") {
		t.Errorf("restored %q", rep.Restored)
	}
	if SetTimes(tr.h, nil, now, now, TimesOptions{}) != nil {
		t.Error("SetTimes of no file is an action")
	}
}

// An undo command recorded with harmless patterns (exim -Mt: "Message X is not frozen")
// succeeds when its failure printed only such lines, with them as its note; any other line
// still fails the undo.
func TestUndoCommandHarmlessOutput(t *testing.T) {
	harmless := []string{`^Message \S+ is not frozen$`, `^Spool data file for \S+ does not exist$`}
	for _, tc := range []struct {
		name, stderr string
		ok           bool
	}{
		{"already thawed or gone", "Message 1a is not frozen\nSpool data file for 1b does not exist\n", true},
		{"another error too", "Message 1a is not frozen\nexim: permission denied\n", false},
		{"no output", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t)
			p := New("mailq purge --hold")
			p.Add(&thawRecorder{harmless: harmless})
			rep := tr.mustApply(p)
			entries, _, err := ReadManifest(filepath.Join(runDir(tr, rep.RunID), "manifest.jsonl"))
			if err != nil || len(entries) != 1 || strings.Join(entries[0].Harmless, "|") != strings.Join(harmless, "|") {
				t.Fatalf("manifest: %v %+v", err, entries)
			}
			tr.rec.Func = func(c system.Cmd) (system.Result, error) {
				res := system.Result{ExitCode: 1, Stderr: []byte(tc.stderr)}
				return res, &system.ExitError{Cmd: c, Result: res}
			}
			up, err := Undo(tr.h, tr.cfg, rep.RunID, UndoOptions{})
			if err != nil {
				t.Fatal(err)
			}
			urep, err := tr.apply(up)
			if tc.ok {
				if err != nil {
					t.Fatalf("undo: %v", err)
				}
				if d := urep.Actions[0].Detail; !strings.Contains(d, "nothing left to do: Message 1a is not frozen | Spool data file for 1b does not exist") {
					t.Errorf("undo note: %s", d)
				}
				return
			}
			if err == nil {
				t.Fatalf("undo succeeded on %q", tc.stderr)
			}
		})
	}
	if HarmlessOutput(system.Result{Stderr: []byte("x\n")}, []string{"("}) {
		t.Error("an invalid pattern matched")
	}
}

// A manifest's harmless patterns must compile.
func TestManifestRefusesBadHarmlessPattern(t *testing.T) {
	_, err := ParseManifestLine([]byte(`{"action":"undo_command","uid":-1,"gid":-1,"args":["exim","-Mt","1a"],"harmless":["("]}`))
	if err == nil || !strings.Contains(err.Error(), "harmless output pattern") {
		t.Fatalf("err %v", err)
	}
}

type thawRecorder struct {
	harmless []string
	ran      bool
}

func (a *thawRecorder) Describe() Description {
	return Description{Kind: KindCommand, Op: OpRun, Target: "freeze 1a 1b", Detail: "freeze"}
}
func (a *thawRecorder) Verify(context.Context, *Run) error { return nil }
func (a *thawRecorder) Apply(_ context.Context, r *Run) error {
	a.ran = true
	return r.RecordUndoCommand(Argv{Args: []string{"exim", "-Mt", "1a", "1b"}, Key: "mailq.exim_command"}, nil, "thaw", a.harmless...)
}
func (a *thawRecorder) Outcome() (bool, string) { return a.ran, "" }
