package smtpport

import (
	"github.com/hostfix/hostfix/pkg/plan"
)

// argv is a command with where it came from (config key, set or detected).
type argv = plan.Argv

func configured(key string, args []string) argv { return plan.Configured(key, args) }
func detected(key string, args []string) argv   { return plan.Detected(key, args) }

// pick is the configured argv when set, else what detect found, else an empty argv
// naming the key (the plan layer refuses to run it and says which key to set).
func pick(key string, cfg []string, detect func() []string) argv {
	if len(cfg) > 0 {
		return configured(key, cfg)
	}
	if a := detect(); len(a) > 0 {
		return detected(key, a)
	}
	return argv{Key: key}
}

func handle(p *plan.Plan, name string, a argv, detail string) { p.Handle(name, a, detail) }

func command(a argv, detail string) plan.Action { return plan.Command(a, detail) }

// withNotify makes an action notify handlers: removing a service file must reload xinetd
// like editing one does.
func withNotify(a plan.Action, names ...string) plan.Action { return plan.Notify(a, names...) }
