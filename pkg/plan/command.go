package plan

// External commands: Argv (a command with where it came from), the command, service and
// package actions, and the --root command rule.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Argv is an external command with where it came from.
type Argv struct {
	// Args is the command; empty means "not set" (neither configured nor detected).
	Args []string
	// Env is extra environment (e.g. DEBIAN_FRONTEND=noninteractive).
	Env []string
	// Key is the config key that sets it, e.g. "mailq.stop_command".
	Key string
	// Detected is true when hostfix found the command on the host (in the --root tree),
	// false when config, environment or a flag set it.
	Detected bool
}

// Configured is a command set explicitly (config file, HOSTFIX_* variable or flag).
func Configured(key string, args []string) Argv { return Argv{Args: args, Key: key} }

// Detected is a command hostfix found on the host.
func Detected(key string, args []string) Argv { return Argv{Args: args, Key: key, Detected: true} }

// String is the command line for messages: the formatted argv, or "(not set)".
func (a Argv) String() string {
	if len(a.Args) == 0 {
		return "(not set)"
	}
	s := system.FormatArgv(a.Args)
	if len(a.Env) > 0 {
		s = system.FormatArgv(a.Env) + " " + s
	}
	return s
}

// source says where the command came from, for the plan ("", "detected" or "not set").
func (a Argv) source() string {
	switch {
	case len(a.Args) == 0:
		return "not set"
	case a.Detected:
		return "detected"
	}
	return ""
}

// Blocked says why Apply would refuse to run a on h, or "" when it may run (a runbook-owned
// CommandStep calls it in its Apply as the last line of defence). See blocked.
func (a Argv) Blocked(h *system.Host) string { return a.blocked(h) }

// blocked says why Apply would refuse to run a on h, or "" when it may run. This is THE
// --root command rule, in one place: a command that is not set is never run (on any host),
// and under --root (h not live) a command hostfix detected in the tree is not run either —
// it would run the real host's program (the tree's /etc/init.d/qmail is a file in the
// tree, the host's is what exec would start). Only a command the user set explicitly runs
// under --root. A nil h means "unknown host": only "not set" is reported.
func (a Argv) blocked(h *system.Host) string {
	key := a.Key
	if key == "" {
		key = "the command in the runbook's config"
	}
	switch {
	case len(a.Args) == 0:
		return "not set: set " + key
	case a.Detected && h != nil && !h.Live():
		return "detected, not run under --root: set " + key
	}
	return ""
}

// CommandStep is implemented by the steps that run an external command: pkg/plan's own
// (Command, Service, InstallPackages) and a runbook-owned action that runs one (mailq's
// batches of `exim -Mrm`). CheckCommands and the preview apply the --root command rule to
// every CommandStep, so a runbook never checks it itself.
type CommandStep interface{ CommandArgv() Argv }

// RuleError is Apply refusing a plan under the --root command rule (before changing
// anything). It is a usage error: cmd maps it to exit 2.
type RuleError struct {
	Command string
	Steps   []string // "service qmail-send (stop): not set: set mailq.stop_command"
	Keys    []string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%s: %s; nothing was changed", e.Command, strings.Join(e.Steps, "; "))
}

// Unwrap makes the refusal a usage error (usage.Is).
func (e *RuleError) Unwrap() error {
	return &usage.Error{Err: errors.New(e.Error())}
}

// CheckCommands applies the --root command rule to every step of p that runs a command
// (actions, finally steps, and handlers an action notifies): it returns a *RuleError
// naming the config keys to set when one may not run on h, nil otherwise. Apply calls it
// before it changes anything; cmd calls it before asking for confirmation.
func CheckCommands(p *Plan, h *system.Host) error {
	var e RuleError
	seen := map[string]bool{}
	add := func(what string, a Argv) {
		why := a.blocked(h)
		if why == "" {
			return
		}
		e.Steps = append(e.Steps, what+": "+why)
		if k := a.Key; k != "" && !seen[k] {
			seen[k] = true
			e.Keys = append(e.Keys, k)
		}
	}
	notified := map[string]bool{}
	for _, list := range [][]Action{p.Actions, p.Finally} {
		for _, a := range list {
			d := a.Describe()
			for _, n := range d.Notify {
				notified[n] = true
			}
			if cmd, ok := commandOf(a); ok {
				add(stepName(d), cmd)
			}
		}
	}
	for _, hd := range p.Handlers {
		if notified[hd.Name] {
			add("handler "+hd.Name, hd.Command)
		}
	}
	if len(e.Steps) == 0 {
		return nil
	}
	e.Command = p.Command
	return &e
}

func stepName(d Description) string {
	s := string(d.Kind) + " " + d.Target
	if d.Kind == KindService && d.Operation != "" {
		s += " (" + d.Operation + ")"
	}
	return s
}

type commandAction struct {
	cmd   Argv
	stdin []byte // an undo's recorded command (Run.RecordUndoCommand) may have input
	// harmless: output lines that make a failure a success (Run.RecordUndoCommand).
	harmless []string
	desc     Description
	ran      bool
	out      string
	note     string
}

func newCommand(kind Kind, target string, a Argv, detail string) *commandAction {
	return &commandAction{cmd: a, desc: Description{
		Kind: kind, Op: OpRun, Target: target, Detail: detail, Previewable: false,
	}}
}

// withSource appends where a command came from to a detail: "(detected)", "(not set)".
func withSource(detail string, a Argv) string {
	if s := a.source(); s != "" && len(a.Args) > 0 {
		return detail + " (" + s + ")"
	}
	return detail
}

// Command plans running an argv. It cannot be previewed. An empty a.Args is planned all
// the same (shown as not set; Apply refuses the plan, naming a.Key).
func Command(a Argv, detail string) Action {
	if detail == "" {
		detail = "run " + a.String()
	}
	target := a.String()
	if len(a.Args) == 0 && a.Key != "" {
		target = a.Key
	}
	return newCommand(KindCommand, target, a, withSource(detail, a))
}

// InstallPackages plans installing packages with the given package-manager argv prefix
// (e.g. ["apt-get", "install", "-y"], Env DEBIAN_FRONTEND=noninteractive). It returns nil
// when packages is empty.
func InstallPackages(manager Argv, packages ...string) Action {
	if len(packages) == 0 {
		return nil
	}
	a := manager
	if len(manager.Args) > 0 {
		a.Args = append(append([]string{}, manager.Args...), packages...)
	}
	return newCommand(KindInstallPackages, strings.Join(packages, " "), a, withSource("run "+a.String(), a))
}

// Service plans a service operation at this point of the plan (e.g. stop qmail before a
// purge). For restarts after changes, use Plan.Handle and EditOptions.Notify instead. An
// empty a.Args is planned all the same (shown as not set; Apply refuses the plan).
func Service(name, operation string, a Argv) Action {
	c := newCommand(KindService, name, a, withSource(operation+": "+a.String(), a))
	c.desc.Operation = operation
	return c
}

func (a *commandAction) Describe() Description { return a.desc }

// CommandArgv is the command the step runs (CommandStep).
func (a *commandAction) CommandArgv() Argv { return a.cmd }

func (a *commandAction) Verify(context.Context, *Run) error { return nil }

func (a *commandAction) Apply(ctx context.Context, r *Run) error {
	if why := a.cmd.blocked(r.Host); why != "" {
		// CheckCommands refused the plan already; this is the last line of defence.
		return usage.Errorf("%s: %s", stepName(a.desc), why)
	}
	a.ran = true
	res, err := r.Host.Runner.Run(ctx, system.Cmd{Argv: a.cmd.Args, Env: a.cmd.Env, Stdin: a.stdin})
	a.out = strings.TrimSpace(string(res.Stdout))
	var ee *system.ExitError
	if errors.As(err, &ee) && HarmlessOutput(ee.Result, a.harmless) {
		a.note = fmt.Sprintf("exit status %d, nothing left to do: %s", ee.Result.ExitCode, LastLines(ee.Result, 3))
		r.Logf("  %s: %s", a.desc.Target, a.note)
		return nil
	}
	if errors.As(err, &ee) {
		// Package managers and init scripts say what went wrong at the end of their
		// output, not in its first line: report the last lines, on one line.
		return fmt.Errorf("%s: exit status %d: %s", a.desc.Target, ee.Result.ExitCode, LastLines(ee.Result, 5))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", a.desc.Target, err)
	}
	return nil
}

// LastLines returns the last n non-blank lines a command printed (stdout, then stderr),
// joined with " | " so that an error stays on one line.
func LastLines(res system.Result, n int) string {
	var lines []string
	for _, out := range [][]byte{res.Stdout, res.Stderr} {
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, " | ")
}

func (a *commandAction) Rollback(context.Context, *Run) (string, error) {
	if !a.ran || a.desc.Kind == KindService {
		// A service step (stop qmail) is a state the plan's Finally steps restore
		// (start qmail), not a change to take back here.
		return "", nil
	}
	return "", fmt.Errorf("%s ran and cannot be undone by hostfix", a.cmd)
}

func (a *commandAction) Outcome() (bool, string) { return a.ran, a.note }
