package exim

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
)

// report tallies generated lines: service failures from 127.0.0.1, account failures
// spread over ips addresses and accounts accounts.
func report(t *testing.T, service, account, ips, accounts int) *Report {
	t.Helper()
	var b bytes.Buffer
	for i := 0; i < service; i++ {
		fmt.Fprintf(&b, "2026-11-20 10:%02d:01 [1] fixed_plain authenticator failed for localhost.localdomain (localhost) [127.0.0.1]:4%04d: 535 Incorrect authentication data (set_id=__cpanel__service__auth__exim__SECRETKEY)\n", i%60, i)
	}
	for i := 0; i < account; i++ {
		fmt.Fprintf(&b, "2026-11-20 11:%02d:01 [2] dovecot_login authenticator failed for (User) [198.51.100.%d]:1: 535 Incorrect authentication data (set_id=u%d@example.com)\n", i%60, i%ips, i%accounts)
	}
	tl := NewTally(time.Time{}, time.UTC)
	tl.chunk(b.Bytes())
	return &Report{Tally: tl, Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), loc: time.UTC, Logs: []LogFile{{Path: "/var/log/exim_mainlog"}}}
}

func TestCheckThresholds(t *testing.T) {
	cfg := DefaultConfig()
	for _, c := range []struct {
		name                       string
		service, account, ips, acc int
		want                       check.Status
		finding                    string
	}{
		{"nothing", 0, 0, 1, 1, check.OK, ""},
		{"one desync failure warns", 1, 0, 1, 1, check.Warning, "service-auth keys are out of sync (warning at 1)"},
		{"three go critical", 3, 0, 1, 1, check.Critical, "(critical at 3)"},
		{"a few wrong passwords: OK, with the advice", 0, 4, 4, 4, check.OK, "auth-reset will not help"},
		{"100 account failures warn", 0, 100, 100, 1, check.Warning, "(warning at 100)"},
		{"1000 go critical", 0, 1000, 100, 100, check.Critical, "(critical at 1000)"},
		{"one IP on many accounts is brute force", 0, 6, 1, 6, check.Warning, "198.51.100.0 failed on 6 accounts"},
		{"many attempts on one account", 0, 20, 20, 1, check.Warning, "account u0@example.com failed 20 times from 16+ IPs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := report(t, c.service, c.account, c.ips, c.acc).Check(cfg)
			if res.Status != c.want {
				t.Errorf("status %s, want %s: %+v", res.Status, c.want, res.Findings)
			}
			var all []string
			for _, f := range res.Findings {
				all = append(all, f.Message+" "+f.Hint)
			}
			text := strings.Join(append(all, res.Details...), "\n")
			if c.finding != "" && !strings.Contains(text, c.finding) {
				t.Errorf("no %q in:\n%s", c.finding, text)
			}
			if strings.Contains(text, "SECRETKEY") {
				t.Errorf("the service-auth key leaked:\n%s", text)
			}
			if res.Metrics["failures"] != c.service+c.account {
				t.Errorf("failures metric %v", res.Metrics["failures"])
			}
		})
	}
}
