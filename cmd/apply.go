package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// ApplyOptions tune App.ApplyPlan.
type ApplyOptions struct {
	Destructive bool   // deletes data: needs --yes or a yes at a terminal prompt (App.Confirm)
	Question    string // the confirmation question, e.g. "purge 1,234 messages (5.6 MB)?"
	NoBackup    bool   // --no-backup: removed files are deleted outright
	// Failed, when set, is called with the report of an apply that failed, after it was
	// printed: a command may end the output with the one thing the user must do now.
	// It returns that line ("" for none); it is printed on stderr in text output.
	Failed func(rep *plan.Report) string
}

// geteuid is swapped by tests to exercise the privilege check.
var geteuid = os.Geteuid

// ApplyPlan is the one way a change command changes the host: empty plan -> "nothing to do"
// report (exit 0); --dry-run -> render plan.Preview (exit 0); otherwise privilege check
// (live host, non-root -> clear error up front), confirmation if destructive, plan.Apply,
// render the report, and return &ExitError{Code: ExitFailed} (silent, the report said it) on failure.
func (app *App) ApplyPlan(ctx context.Context, p *plan.Plan, o ApplyOptions) error {
	if p == nil {
		return errors.New("apply: no plan")
	}
	if hasKind(p, plan.KindRemoveFiles) {
		if o.NoBackup {
			p.Note("--no-backup: removed files are deleted outright, not kept in the backup; undo cannot bring them back")
		} else {
			p.Note("removed files are moved into this run's backup under " + app.Config().Plan.BackupDir + " (hostfix undo puts them back; --no-backup deletes them outright)")
		}
	}
	if p.Empty() {
		return app.RenderPlan(&plan.Report{Command: p.Command, DryRun: app.Opts.DryRun, Notes: p.Notes, Actions: []plan.ActionResult{}})
	}
	host := app.Host()
	if app.Opts.DryRun {
		return app.RenderPlan(plan.PreviewOn(p, host))
	}
	// The --root command rule (pkg/plan): refuse before asking anything.
	if err := plan.CheckCommands(p, host); err != nil {
		return err
	}
	if host.Live() && geteuid() != 0 {
		return usage.Errorf("%s changes the live system and needs root: run it with sudo (or use --dry-run to preview; nothing was changed)", p.Command)
	}
	if o.Destructive {
		q := o.Question
		if q == "" {
			q = p.Command + ": " + plan.Preview(p).Summary() + "?"
		}
		if err := app.Confirm(q); err != nil {
			return err
		}
	}
	var log io.Writer = io.Discard
	if app.Opts.Verbose {
		log = app.IO.ErrOut
	}
	rep, err := plan.Apply(ctx, p, plan.Options{
		Host:        host,
		Config:      app.Config().Plan,
		NoBackup:    o.NoBackup,
		CommandLine: app.Args,
		Log:         log,
	})
	if rep == nil {
		if usage.Is(err) {
			return err
		}
		if err == nil {
			err = errors.New("apply: no report")
		}
		return &ExitError{Code: ExitFailed, Err: err}
	}
	rep.UndoCommand = app.undoCommand(rep.RunID)
	if rerr := app.RenderPlan(rep); rerr != nil {
		return rerr
	}
	if err != nil {
		if o.Failed != nil && app.Opts.Output != "json" {
			if line := o.Failed(rep); line != "" {
				fmt.Fprintln(app.IO.ErrOut, line)
			}
		}
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

func hasKind(p *plan.Plan, k plan.Kind) bool {
	for _, a := range p.Actions {
		if a.Describe().Kind == k {
			return true
		}
	}
	return false
}

// undoCommand is the undo hint of a run, with the global flags it needs to find the run
// again: --root for a tree, --config for a config file given on the command line.
func (app *App) undoCommand(runID string) string {
	argv := []string{"hostfix"}
	if h := app.Host(); h != nil && !h.Live() {
		argv = append(argv, "--root", h.Root)
	}
	if app.Opts.ConfigFile != "" {
		argv = append(argv, "--config", app.Opts.ConfigFile)
	}
	return system.FormatArgv(append(argv, "undo", runID))
}
