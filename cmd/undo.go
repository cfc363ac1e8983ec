package cmd

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/usage"
)

func newUndoCmd(app *App) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "undo [RUN-ID]",
		Short: "Put back what a past run changed, from its backup",
		Long: `Restore what a run changed, from its backup directory (plan.backup_dir/RUN-ID):
edited files get their old content, mode and owner back exactly, files a run created are
removed again, removed files are moved back, renames are reversed and kernel parameters
get their old values. Without RUN-ID the latest run that changed something (and was not
undone yet) is undone; see hostfix history.

A run that stopped a service around its changes (mailq purge: stop qmail-send, wait for
its lock, start it at the end) gets the same sequence around the restore, and the
service reloads its changes triggered run again after it; the commands are the ones the
run recorded (under --root, only those that were set explicitly run).

Targets already in their old state are left alone. A target that changed since that run
is refused (nothing is changed) unless --force, which overwrites the later change; even
with --force a removed file whose name was taken by a new file stays in the backup. Files
deleted with --no-backup cannot be restored, nor can packages a run installed or commands
it ran be taken back: the undo notes each of them.

The undo is itself a run: it shows its plan under --dry-run, takes the lock, backs up
what it overwrites and is recorded in the history, so it can be undone in turn.

EXIT STATUS
  0  restored, or nothing to restore
  1  a target changed since the run (and no --force), or the restore failed (rolled back)
  2  bad usage: unknown run id, no run to undo, or a non-root user changing the live
     system (nothing changed)`,
		Example: `  hostfix undo --dry-run
  hostfix undo 20261128T073000Z-1a2b
  hostfix undo 20261128T073000Z-1a2b --force
  hostfix --root /srv/snapshot undo -o json`,
		Args:        atMostOneRunID,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			if app.Host().Live() && geteuid() != 0 && !app.Opts.DryRun {
				// Say so before reading backups only root can read.
				return usage.Errorf("undo changes the live system and needs root: run it with sudo (or use --dry-run to preview; nothing was changed)")
			}
			p, err := plan.Undo(app.Host(), app.Config().Plan, id, plan.UndoOptions{Force: force})
			var ce *plan.ConflictError
			switch {
			case errors.Is(err, plan.ErrNoRun):
				return usage.Wrap(err)
			case errors.As(err, &ce):
				return &ExitError{Code: ExitFailed, Err: err}
			case err != nil:
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	c.Flags().BoolVar(&force, "force", false, "also restore targets that changed since that run (overwriting the later change)")
	return c
}

func init() { register(newUndoCmd) }
