package php

import (
	"github.com/hostfix/hostfix/pkg/plan"
)

// notifying makes a command step (a package install, phpenmod) notify the restart handlers
// when it ran (plan.Notify keeps it under the --root command rule).
func notifying(a plan.Action, notify []string) plan.Action { return plan.Notify(a, notify...) }
