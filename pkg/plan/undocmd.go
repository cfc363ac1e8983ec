package plan

// Undo commands: a change only an external tool can take back (Postfix's postsuper -h is
// taken back by postsuper -H, not by restoring a file) is recorded as the command that
// reverses it; plan.Undo turns the record into a command step.

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// RecordUndoCommand records in this run's manifest the command that takes back what the
// calling action is about to do: argv a (with its config key and whether it was
// detected), the bytes to give it on stdin, and the line the undo plan shows (detail).
// Call it in Action.Apply before the change (the entry is fsynced first, like every
// backup). `hostfix undo` of the run then runs it as a command step: shown in --dry-run,
// under the --root command rule like every command (a detected argv is not run under
// --root), and recorded in the undo run. It does not change the action's own rollback.
//
// Records of one step with the same command and detail are run as one command, their
// stdin joined in the order they were recorded: a batched action can record each batch
// just before it runs it (line-oriented input such as ids, one per line).
//
// harmless are regular expressions for the lines the command prints when what it would
// take back is taken back already (a message thawed or removed by hand since: exim -Mt
// says "Message X is not frozen", "Spool data file for X does not exist" and exits 1).
// When the undo's command fails and every line it printed matches one of them, the step
// counts as done, with those lines as its note (HarmlessOutput).
func (r *Run) RecordUndoCommand(a Argv, stdin []byte, detail string, harmless ...string) error {
	if len(a.Args) == 0 || a.Args[0] == "" {
		return errors.New("record undo command: no command (set " + a.Key + ")")
	}
	if _, err := compileHarmless(harmless); err != nil {
		return fmt.Errorf("record undo command: %w", err)
	}
	if len(harmless) == 0 {
		harmless = nil
	}
	r.man.add(Entry{Action: EntryUndoCommand, UID: -1, GID: -1, Args: a.Args, Env: a.Env, Key: a.Key,
		Detected: a.Detected, Stdin: stdin, Detail: detail, For: r.step, Harmless: harmless})
	return r.man.sync()
}

// compileHarmless compiles RecordUndoCommand's harmless patterns.
func compileHarmless(pats []string) ([]*regexp.Regexp, error) {
	var res []*regexp.Regexp
	for _, p := range pats {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("harmless output pattern %q: %w", p, err)
		}
		res = append(res, re)
	}
	return res, nil
}

// HarmlessOutput says whether a failed command printed only lines matching one of the
// regular expressions patterns (and at least one line; an invalid pattern: false): its
// failure is then about things already as wanted, not a failure of the step. A
// runbook's own rollback of the same command uses it too.
func HarmlessOutput(res system.Result, patterns []string) bool {
	pats, err := compileHarmless(patterns)
	if err != nil || len(pats) == 0 {
		return false
	}
	n := 0
	for _, out := range [][]byte{res.Stdout, res.Stderr} {
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l == "" {
				continue
			}
			if !slices.ContainsFunc(pats, func(re *regexp.Regexp) bool { return re.MatchString(l) }) {
				return false
			}
			n++
		}
	}
	return n > 0
}

// sameUndoCommand says whether two undo_command entries are one step (see RecordUndoCommand).
func sameUndoCommand(a, b Entry) bool {
	return slices.Equal(a.Args, b.Args) && slices.Equal(a.Env, b.Env) && a.Key == b.Key &&
		a.Detected == b.Detected && a.Detail == b.Detail && a.For == b.For && slices.Equal(a.Harmless, b.Harmless)
}

// command plans running an undo_command entry. Entries are planned newest first, so an
// older record of the same step is joined in front of the one planned just before it.
func (u *undoer) command(e Entry) {
	if u.lastCmd != nil && sameUndoCommand(u.lastCmdEntry, e) {
		u.lastCmd.stdin = append(bytes.Clone(e.Stdin), u.lastCmd.stdin...)
		return
	}
	argv := Argv{Args: e.Args, Env: e.Env, Key: e.Key, Detected: e.Detected}
	detail := e.Detail
	if detail == "" {
		detail = "run " + argv.String()
	}
	c := newCommand(KindCommand, argv.String(), argv, withSource("undo of "+u.id+": "+detail, argv))
	c.stdin = bytes.Clone(e.Stdin)
	c.harmless = e.Harmless
	u.p.Add(c)
	u.lastCmd, u.lastCmdEntry = c, e
}

// undoneBy returns the id of a successful undo of id in runs, or "".
func undoneBy(runs []HistoryEntry, id string) string {
	for _, r := range runs {
		if r.Undoes == id && r.Result == ResultOK {
			return r.RunID
		}
	}
	return ""
}
