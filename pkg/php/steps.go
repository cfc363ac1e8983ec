package php

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

// notifyingStep wraps a command step of pkg/plan (a package install, phpenmod) so that it
// notifies the restart handlers when it ran — plan's command constructors take no Notify
// — and so that a failure reports the command's last lines of output, where package
// managers say what went wrong.
type notifyingStep struct {
	inner  plan.Action
	notify []string
}

func notifying(a plan.Action, notify []string) plan.Action {
	if a == nil {
		return nil
	}
	return &notifyingStep{inner: a, notify: notify}
}

func (n *notifyingStep) Describe() plan.Description {
	d := n.inner.Describe()
	d.Notify = append(append([]string{}, d.Notify...), n.notify...)
	return d
}

func (n *notifyingStep) Verify(ctx context.Context, r *plan.Run) error { return n.inner.Verify(ctx, r) }

func (n *notifyingStep) Apply(ctx context.Context, r *plan.Run) error {
	err := n.inner.Apply(ctx, r)
	var ee *system.ExitError
	if err != nil && errors.As(err, &ee) {
		return fmt.Errorf("%s: exit status %d: %s", n.inner.Describe().Target, ee.Result.ExitCode, LastLines(ee.Result, 5))
	}
	return err
}

func (n *notifyingStep) Outcome() (bool, string) {
	if o, ok := n.inner.(plan.Outcomer); ok {
		return o.Outcome()
	}
	return true, ""
}

func (n *notifyingStep) Rollback(ctx context.Context, r *plan.Run) (string, error) {
	if rb, ok := n.inner.(plan.Rollbacker); ok {
		return rb.Rollback(ctx, r)
	}
	return "", nil
}

// LastLines returns the last n non-blank lines a command printed (stdout, then stderr),
// joined with " | " so the error stays on one line.
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

// CheckCommands applies pkg/plan's --root command rule (plan.CheckCommands) to p,
// including the command steps wrapped here, which plan cannot see inside the wrapper.
// cmd calls it before applying.
func CheckCommands(p *plan.Plan, h *system.Host) error {
	q := *p
	q.Actions = make([]plan.Action, len(p.Actions))
	for i, a := range p.Actions {
		if n, ok := a.(*notifyingStep); ok {
			q.Actions[i] = n.inner
			continue
		}
		q.Actions[i] = a
	}
	// The wrapped steps notify the handlers: keep them checked too.
	q.Actions = append(q.Actions, handlerNotifier{p: p})
	return plan.CheckCommands(&q, h)
}

// handlerNotifier is a description-only step that marks every handler a wrapped step
// notifies, so plan.CheckCommands checks those handlers' commands as well.
type handlerNotifier struct{ p *plan.Plan }

func (h handlerNotifier) Describe() plan.Description {
	var names []string
	for _, a := range h.p.Actions {
		names = append(names, a.Describe().Notify...)
	}
	return plan.Description{Kind: plan.KindCommand, Notify: names}
}
func (handlerNotifier) Verify(context.Context, *plan.Run) error { return nil }
func (handlerNotifier) Apply(context.Context, *plan.Run) error  { return nil }

// noteBlocked says in the plan which wrapped commands Apply would refuse on h (the
// --root command rule), as plan's preview does for the steps it can see.
func noteBlocked(p *plan.Plan, h *system.Host, argvs []plan.Argv) {
	var keys []string
	for _, a := range argvs {
		if len(a.Args) == 0 || (a.Detected && !h.Live()) {
			if a.Key != "" && !slices.Contains(keys, a.Key) {
				keys = append(keys, a.Key)
			}
		}
	}
	if len(keys) > 0 {
		p.Note("apply refuses this plan until you set " + strings.Join(keys, ", ") + " (config file, HOSTFIX_* variable or flag)")
	}
}
