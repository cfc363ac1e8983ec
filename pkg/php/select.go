package php

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// SAPINames are the values --sapi takes (besides "all").
var SAPINames = []string{SAPICLI, SAPIFPM, SAPIApache2, SAPICGI, SAPILiteSpeed}

// Selection is what --php and --sapi chose.
type Selection struct {
	// PHP is an installation ID (php8.2, ea-php81), a version (8.1 or 81) or "all"/"".
	PHP string
	// SAPIs are SAPI names; empty or "all" means every SAPI.
	SAPIs []string
}

func (sel Selection) validate() error {
	for _, s := range sel.SAPIs {
		if s != "all" && !slices.Contains(SAPINames, s) {
			return usage.Errorf("--sapi %s: unknown SAPI (use %s or all)", usage.Clip(s), strings.Join(SAPINames, ", "))
		}
	}
	return nil
}

func (sel Selection) wantSAPI(name string) bool {
	if len(sel.SAPIs) == 0 || slices.Contains(sel.SAPIs, "all") {
		return true
	}
	return slices.Contains(sel.SAPIs, name)
}

// target is one selected SAPI of one installation.
type target struct {
	in *Installation
	s  *SAPI
}

func (t target) label() string { return t.in.ID + " " + t.s.Name }

// selectTargets discovers the host and returns the selected SAPIs; a selection matching
// nothing is bad input.
func selectTargets(ctx context.Context, h *system.Host, cfg Config, sel Selection) ([]*Installation, []target, error) {
	if err := sel.validate(); err != nil {
		return nil, nil, err
	}
	ins, err := Discover(ctx, h, DiscoverOptions{Config: cfg, Probe: live(h)})
	if err != nil {
		return nil, nil, err
	}
	if len(ins) == 0 {
		return nil, nil, usage.Errorf("no PHP installation found (looked for Debian /etc/php/<ver>, /etc/php.ini, Remi, cPanel EA4, Plesk, alt-php and php on PATH)")
	}
	var found []string
	var out []target
	matched := false
	for _, in := range ins {
		found = append(found, in.ID)
		if !in.Selected(sel.PHP) {
			continue
		}
		matched = true
		for _, s := range in.SAPIs {
			if sel.wantSAPI(s.Name) {
				out = append(out, target{in, s})
			}
		}
	}
	if !matched {
		return nil, nil, usage.Errorf("--php %s: no such PHP installation (found: %s)", usage.Clip(sel.PHP), strings.Join(found, ", "))
	}
	if len(out) == 0 {
		return nil, nil, usage.Errorf("--sapi %s: the selected PHP has no such SAPI", usage.Clip(strings.Join(sel.SAPIs, ",")))
	}
	return ins, out, nil
}

// serviceArgv is the command that runs op (reload, restart) on a service: the configured
// prefix with the service appended, else systemctl or service when found on the host.
func serviceArgv(h *system.Host, key string, configured []string, op, svc string) plan.Argv {
	if len(configured) > 0 {
		return plan.Configured(key, append(slices.Clone(configured), svc))
	}
	for _, p := range []string{"/usr/bin/systemctl", "/bin/systemctl"} {
		if h.Exists(p) {
			return plan.Detected(key, []string{"systemctl", op, svc})
		}
	}
	for _, p := range []string{"/usr/sbin/service", "/sbin/service"} {
		if h.Exists(p) {
			return plan.Detected(key, []string{"service", svc, op})
		}
	}
	return plan.Argv{Key: key}
}

// verifyNote is added when a plan would verify with binaries but runs under --root.
const verifyNote = "under --root no PHP binary is run: the effective values are not verified after the change"

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// live reports whether PHP binaries may be asked on h (the live system). Tests swap it to
// exercise probing and verification on fixture trees with the recording runner; the
// --root command rule for changes stays pkg/plan's, on h itself.
var live = func(h *system.Host) bool { return h.Live() }
