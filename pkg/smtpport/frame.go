package smtpport

// The thin layer between this runbook and pkg/plan's command and verify API, so the rest
// of the package builds each command's argv with where it came from (config key, set or
// detected) in one shape.

import (
	"context"

	"github.com/hostfix/hostfix/pkg/plan"
)

type argv struct {
	Args     []string
	Key      string
	Detected bool
}

func configured(key string, args []string) argv { return argv{Args: args, Key: key} }
func detected(key string, args []string) argv   { return argv{Args: args, Key: key, Detected: true} }

// pick is the configured argv when set, else what detect found (possibly nothing).
func pick(key string, cfg []string, detect func() []string) argv {
	if len(cfg) > 0 {
		return configured(key, cfg)
	}
	if a := detect(); len(a) > 0 {
		return detected(key, a)
	}
	return argv{Key: key}
}

func handle(p *plan.Plan, name string, a argv, detail string) {
	p.Handle(name, a.Args, detail)
}

func command(a argv, detail string) plan.Action { return plan.Command(a.Args, detail) }

// verify registers the live check run after the handlers.
func verify(p *plan.Plan, detail string, fn func(ctx context.Context) error) {
	p.Note("verify: " + detail + " (pending the plan layer's verify step)")
}
