package php

import (
	"context"
	"fmt"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// Detect says whether `php check` applies to h (hostfix doctor): some PHP installation is
// there. It reads files only (no PHP binary is run), so it is cheap on any host. A
// detection error means "applies": the check then runs and reports the problem.
func Detect(h *system.Host, cfg Config) (bool, string) {
	ins, err := Discover(context.Background(), h, DiscoverOptions{Config: cfg})
	if err != nil {
		return true, "PHP detection failed: " + err.Error()
	}
	if len(ins) == 0 {
		return false, "no PHP installation found (php on PATH, /etc/php, /opt/cpanel/ea-php*, /opt/plesk/php, /opt/alt/php*, Remi)"
	}
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		ids = append(ids, in.ID)
	}
	return true, fmt.Sprintf("PHP found: %s", strings.Join(ids, ", "))
}
