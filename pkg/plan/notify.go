package plan

import (
	"context"
	"fmt"
)

// Notify makes any action notify handlers (Plan.Handle) when it changes something, in
// addition to its own Description.Notify: a package install that must restart PHP-FPM, a
// removal that must reload xinetd. It keeps what the action is — a command step stays
// under the --root command rule, its outcome and rollback are the action's own. A nil
// action or no handler names return a unchanged.
func Notify(a Action, handlers ...string) Action {
	if a == nil || len(handlers) == 0 {
		return a
	}
	return &notifyAction{Action: a, notify: handlers}
}

// notifyAction adds handler names to an action's Notify.
type notifyAction struct {
	Action
	notify []string
}

func (a *notifyAction) Describe() Description {
	d := a.Action.Describe()
	d.Notify = append(append([]string{}, d.Notify...), a.notify...)
	return d
}

func (a *notifyAction) Rollback(ctx context.Context, r *Run) (string, error) {
	if rb, ok := a.Action.(Rollbacker); ok {
		return rb.Rollback(ctx, r)
	}
	if changed, _ := outcomeOf(a.Action); changed {
		d := a.Action.Describe()
		return "", fmt.Errorf("%s %s cannot be rolled back", d.Kind, d.Target)
	}
	return "", nil
}

func (a *notifyAction) Outcome() (bool, string) { return outcomeOf(a.Action) }

// commandOf returns the command a step runs, looking through wrappers such as Notify.
func commandOf(a Action) (Argv, bool) {
	for {
		switch s := a.(type) {
		case CommandStep:
			return s.CommandArgv(), true
		case *notifyAction:
			a = s.Action
		default:
			return Argv{}, false
		}
	}
}
