package cmd

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/usage"
)

// ApplyOptions tune App.ApplyPlan.
type ApplyOptions struct {
	Destructive bool   // deletes data: needs --yes or a yes at a terminal prompt (App.Confirm)
	Question    string // the confirmation question, e.g. "purge 1,234 messages (5.6 MB)?"
	NoBackup    bool   // --no-backup: removed files are deleted outright
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
	if rerr := app.RenderPlan(rep); rerr != nil {
		return rerr
	}
	if err != nil {
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
