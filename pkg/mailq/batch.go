package mailq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// batchAction runs an MTA's own tool on message ids in batches: `exim -Mrm ID…`,
// `exim -Mf ID…`, `exim -M ID…`, `postsuper -d -` with the ids on stdin. The MTA locks
// each message itself, so this is safe on a running queue. It is a runbook-owned action
// because one step covers thousands of ids (a dry-run shows one line, not a command per
// batch); it applies pkg/plan's --root command rule itself (runnable) before running.
type batchAction struct {
	cmd   plan.Argv // the command with its operation, ids appended (or on stdin)
	stdin bool      // ids one per line on stdin instead of as arguments
	ids   []string
	batch int
	// undo, when set, is run on the ids already handled if the run is rolled back
	// (postsuper -H - after postsuper -h -), and recorded for hostfix undo with each batch
	// before it runs (Run.RecordUndoCommand), shown there as undoDetail.
	undo       plan.Argv
	undoDetail string
	// undoHarmless are the lines undo prints for ids it has nothing left to do for
	// (plan.HarmlessOutput): such a failure of the undo is none.
	undoHarmless []string
	// parallel is how many batches run at once (default 1).
	parallel int
	// noUndo explains why a rollback cannot take the step back; empty: there is nothing
	// to take back (flush).
	noUndo string
	desc   plan.Description

	done    []string
	refused []string
}

func newBatch(cmd plan.Argv, ids []string, batch int, detail string) *batchAction {
	if batch <= 0 {
		batch = 1000
	}
	target := cmd.String()
	if len(cmd.Args) == 0 {
		target = cmd.Key + " (not set)"
	}
	sample := ids
	if len(sample) > 5 {
		sample = sample[:5]
	}
	return &batchAction{cmd: cmd, ids: ids, batch: batch, desc: plan.Description{
		Kind: plan.KindCommand, Op: plan.OpRun, Target: target, Detail: detail,
		Count: int64(len(ids)), Sample: sample,
	}}
}

// noteSource says in the detail where the command came from, as pkg/plan does for its
// command steps: "(detected)", and under --root "(detected: not run under --root; set
// KEY)"; a command that is not set says so.
func (a *batchAction) noteSource(h *system.Host) *batchAction {
	switch {
	case len(a.cmd.Args) == 0:
		a.desc.Detail += " (not set: set " + a.cmd.Key + ")"
	case a.cmd.Detected && !h.Live():
		a.desc.Detail += " (detected: not run under --root; set " + a.cmd.Key + ")"
	case a.cmd.Detected:
		a.desc.Detail += " (detected)"
	}
	return a
}

func (a *batchAction) Describe() plan.Description { return a.desc }

// Verify applies the --root command rule before anything runs.
func (a *batchAction) Verify(_ context.Context, r *plan.Run) error {
	if why := runnable(r.Host, a.cmd); why != "" {
		return usage.Errorf("%s: %s; nothing was changed", a.desc.Target, why)
	}
	return nil
}

func (a *batchAction) Apply(ctx context.Context, r *plan.Run) error {
	if err := a.Verify(ctx, r); err != nil {
		return err
	}
	// Batches are prepared (files saved) one by one, then run up to a.parallel at a time:
	// the MTA locks each message itself, and disjoint batches do not meet.
	par := max(a.parallel, 1)
	type job struct {
		ids []string
		res system.Result
		err error
	}
	for start := 0; start < len(a.ids); start += a.batch * par {
		if err := ctx.Err(); err != nil {
			return err
		}
		var jobs []*job
		for b := start; b < min(start+a.batch*par, len(a.ids)); b += a.batch {
			ids := a.ids[b:min(b+a.batch, len(a.ids))]
			if len(ids) == 0 {
				continue
			}
			if len(a.undo.Args) > 0 {
				undo, in := a.undo, a.input(ids)
				if !a.stdin {
					undo, in = withArgs(undo, ids...), nil
				}
				if err := r.RecordUndoCommand(undo, in, a.undoDetail, a.undoHarmless...); err != nil {
					return err
				}
			}
			jobs = append(jobs, &job{ids: ids})
		}
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := system.Cmd{Argv: a.cmd.Args, Env: a.cmd.Env}
				if a.stdin {
					c.Stdin = a.input(j.ids)
				} else {
					c.Argv = append(append([]string{}, a.cmd.Args...), j.ids...)
				}
				j.res, j.err = r.Host.Runner.Run(ctx, c)
			}()
		}
		wg.Wait()
		for _, j := range jobs {
			a.done = append(a.done, j.ids...)
			if j.err == nil {
				continue
			}
			if _, ok := j.err.(*system.ExitError); !ok {
				return fmt.Errorf("%s: %w", a.cmd, j.err)
			}
			// The tool handled what it could and said why not the rest (a message being
			// delivered right now, gone already); the plan's verify step names what is left.
			for _, l := range strings.Split(strings.TrimSpace(string(j.res.Stderr)+"\n"+string(j.res.Stdout)), "\n") {
				if l = strings.TrimSpace(l); l != "" && !toolOK(l) {
					a.refused = append(a.refused, l)
				}
			}
			r.Logf("  %s exited %d for a batch of %d", a.cmd, j.res.ExitCode, len(j.ids))
		}
	}
	return nil
}

// input is the ids as the tools read them on stdin: one per line.
func (a *batchAction) input(ids []string) []byte { return []byte(strings.Join(ids, "\n") + "\n") }

// toolOK recognises the tools' success lines.
func toolOK(l string) bool {
	for _, s := range []string{"has been removed", "is now frozen", "is no longer frozen", "postsuper: Deleted", "postsuper: Placed on hold", "postsuper: Released"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (a *batchAction) Rollback(ctx context.Context, r *plan.Run) (string, error) {
	if len(a.done) == 0 {
		return "", nil
	}
	if len(a.undo.Args) > 0 {
		c := system.Cmd{Argv: a.undo.Args, Env: a.undo.Env}
		if a.stdin {
			c.Stdin = a.input(a.done)
		} else {
			c.Argv = append(append([]string{}, a.undo.Args...), a.done...)
		}
		if res, err := r.Host.Runner.Run(ctx, c); err != nil {
			var ee *system.ExitError
			if !errors.As(err, &ee) || !plan.HarmlessOutput(res, a.undoHarmless) {
				return "", fmt.Errorf("%s: %w", a.undo, err)
			}
			return fmt.Sprintf("%s: %s (%s)", a.undo, human.Plural(len(a.done), "message"), plan.LastLines(res, 2)), nil
		}
		return fmt.Sprintf("%s: %s", a.undo, human.Plural(len(a.done), "message")), nil
	}
	if a.noUndo == "" {
		return "", nil // nothing to take back (a delivery attempt)
	}
	return "", fmt.Errorf("%s ran on %s and cannot be undone: %s", a.cmd, human.Plural(len(a.done), "message"), a.noUndo)
}

func (a *batchAction) Outcome() (bool, string) {
	note := human.Plural(len(a.done), "message")
	if len(a.refused) > 0 {
		note += fmt.Sprintf("; the tool refused %d: %s", len(a.refused), clip(a.refused[0]))
	}
	return len(a.done) > 0, note
}

// CommandArgv is the command the batches run: pkg/plan applies the --root command rule to
// it (plan.CommandStep) before anything changes, and marks it in a dry-run.
func (a *batchAction) CommandArgv() plan.Argv { return a.cmd }

// eximThawHarmless: what exim -Mt says of a message it has nothing to do for (thawed by
// hand, removed, delivered since it was frozen).
var eximThawHarmless = []string{`^Message \S+ is not frozen$`, `^Spool data file for \S+ does not exist$`}
