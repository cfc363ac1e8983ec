package exim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// CheckOptions say what auth-check reads.
type CheckOptions struct {
	Config Config
	// Stdin is read for a log named "-".
	Stdin io.Reader
	// NoLogins skips counting A= receptions (auth-reset only needs the failures).
	NoLogins bool
}

// Report is what auth-check found.
type Report struct {
	Logs     []LogFile
	Tried    []string
	Since    time.Time // zero: whole logs
	Now      time.Time
	Tally    *Tally
	Chkservd Chkservd
	loc      *time.Location
}

// AuthCheck reads the Exim main logs (and chkservd.log) and tallies authentication.
func AuthCheck(ctx context.Context, h *system.Host, o CheckOptions) (*Report, error) {
	now := h.Now()
	loc := now.Location()
	rep := &Report{Now: now, loc: loc}
	if o.Config.Since > 0 {
		rep.Since = now.Add(-o.Config.Since)
	}
	logs, tried, err := FindLogs(h, o.Config.Logs, rep.Since)
	rep.Tried = tried
	if err != nil {
		return rep, err
	}
	rep.Logs = logs
	t := NewTally(rep.Since, loc)
	t.NoLogins = o.NoLogins
	for _, lf := range logs {
		if done, err := scanPlain(ctx, h, t, lf); done || err != nil {
			if err != nil {
				return rep, fmt.Errorf("exim: read %s: %w", lf.Path, err)
			}
			continue
		}
		r, closeFn, err := openLog(h, lf, o.Stdin)
		if err != nil {
			return rep, err
		}
		err = t.Scan(ctx, r)
		closeFn()
		if err != nil {
			return rep, fmt.Errorf("exim: read %s: %w", lf.Path, err)
		}
	}
	rep.Tally = t
	if o.Config.ChkservdLog != "" {
		c, err := ReadChkservd(ctx, h, o.Config.ChkservdLog, rep.Since, loc)
		if err != nil {
			return rep, fmt.Errorf("exim: read %s: %w", o.Config.ChkservdLog, err)
		}
		rep.Chkservd = c
	}
	return rep, nil
}

// UnknownResult is the check result for an error before any log was read.
func UnknownResult(err error) *check.Result {
	r := &check.Result{Check: "exim auth", Status: check.Unknown}
	var nl *NoLogError
	if errors.As(err, &nl) {
		r.Summary = "no Exim main log found"
		r.Metrics = map[string]any{"logs_tried": nl.Tried}
		r.Add(check.Unknown, err.Error(), "on a host whose Exim logs elsewhere (log_file_path), pass --log FILE or set exim.logs")
		return r
	}
	r.Summary = err.Error()
	r.Add(check.Unknown, err.Error(), "")
	return r
}

// SourceJSON is one row of top_ips / top_accounts / top_logins.
type SourceJSON struct {
	IP          string `json:"ip,omitempty"`
	Account     string `json:"account,omitempty"`
	Count       int    `json:"count"`
	ServiceAuth int    `json:"service_auth,omitempty"`
	// Distinct is accounts tried (for an IP) or source IPs (for an account), at most
	// MaxDistinct ("at least" when equal).
	Distinct  int    `json:"distinct"`
	FirstSeen string `json:"first_seen,omitempty"`
	LastSeen  string `json:"last_seen,omitempty"`
}

func (r *Report) when(t int64) string {
	if t == 0 {
		return ""
	}
	return time.Unix(t, 0).In(r.loc).Format(time.RFC3339)
}

func (r *Report) rows(m map[uint64]*Source, n int, ip bool) []SourceJSON {
	out := []SourceJSON{}
	for _, s := range Top(m, n) {
		j := SourceJSON{Count: s.Count, ServiceAuth: s.ServiceAuth, Distinct: s.Distinct, FirstSeen: r.when(s.First), LastSeen: r.when(s.Last)}
		if ip {
			j.IP = s.Key
		} else {
			j.Account = s.Key
		}
		out = append(out, j)
	}
	return out
}

// BruteForce lists what looks like brute force under cfg's heuristics.
func (r *Report) BruteForce(cfg Config) []string {
	var out []string
	t := r.Tally
	for _, s := range Top(t.IPs, 0) {
		acc := s.Count - s.ServiceAuth
		if acc == 0 {
			continue
		}
		switch {
		case cfg.BruteForceAccounts > 0 && s.Distinct >= cfg.BruteForceAccounts:
			out = append(out, fmt.Sprintf("%s failed on %s accounts (%s)", s.Key, distinct(s.Distinct), plural(acc, "attempt")))
		case cfg.BruteForceAttempts > 0 && acc >= cfg.BruteForceAttempts:
			out = append(out, fmt.Sprintf("%s failed %s", s.Key, plural(acc, "time")))
		}
	}
	for _, s := range Top(t.Accounts, 0) {
		if s.ServiceAuth > 0 || cfg.BruteForceAttempts <= 0 || s.Count < cfg.BruteForceAttempts {
			continue
		}
		out = append(out, fmt.Sprintf("account %s failed %s from %s", s.Key, plural(s.Count, "time"), plural2(s.Distinct, "IP")))
	}
	return out
}

func distinct(n int) string {
	if n >= MaxDistinct {
		return fmt.Sprintf("%d+", n)
	}
	return fmt.Sprint(n)
}

func plural(n int, noun string) string { return human.Plural(n, noun) }

func plural2(n int, noun string) string {
	if n >= MaxDistinct {
		return distinct(n) + " " + noun + "s"
	}
	return plural(n, noun)
}

const bruteHint = "auth-reset will not help with these: they are wrong passwords or password guessing. Tell the users concerned, or block the sources: on cPanel check cPHulk (WHM » Security Center » cPHulk Brute Force Protection), elsewhere fail2ban's exim jail (hostfix bans nothing)"

// Check turns the report into the "exim auth" check.
func (r *Report) Check(cfg Config) *check.Result {
	t := r.Tally
	res := &check.Result{Check: "exim auth", Status: check.OK}
	window := "in the whole log"
	if !r.Since.IsZero() {
		window = "in the last " + fmtDur(r.Now.Sub(r.Since))
	}
	nlogs := plural(len(r.Logs), "log")
	res.Summary = fmt.Sprintf("%s %s: %s (cPanel service auth), %s (accounts) from %s; %s (%s read)",
		plural(t.Failures, "authentication failure"), window, human.Count(t.ServiceAuth), human.Count(t.Account),
		plural(len(t.IPs), "IP"), plural(t.Logins, "authenticated reception"), nlogs)
	if t.Failures == 0 {
		res.Summary = fmt.Sprintf("no authentication failures %s; %s (%s read)", window, plural(t.Logins, "authenticated reception"), nlogs)
	}

	// cPanel service-auth desync
	if t.ServiceAuth > 0 {
		var from []string
		for _, s := range Top(t.IPs, 0) {
			if s.ServiceAuth > 0 {
				from = append(from, s.Key)
			}
		}
		var auths []string
		for name, a := range t.ByAuth {
			if a.ServiceAuth > 0 {
				auths = append(auths, name)
			}
		}
		sort.Strings(auths)
		var svcs []string
		for s := range t.Services {
			svcs = append(svcs, s)
		}
		sort.Strings(svcs)
		msg := fmt.Sprintf("%s of cPanel's service login (%s) from %s on %s: cPanel's service-auth keys are out of sync",
			plural(t.ServiceAuth, "failure"), ServiceAuthPrefix+strings.Join(svcs, "|")+"__…", strings.Join(limit(from, 5), ", "), strings.Join(auths, ", "))
		hint := "run `hostfix exim auth-reset --dry-run`, then without --dry-run: it removes /var/cpanel/serviceauth/exim (backed up) and restarts cPanel, which writes new keys"
		switch {
		case cfg.CritServiceAuth > 0 && t.ServiceAuth >= cfg.CritServiceAuth:
			res.Add(check.Critical, msg+fmt.Sprintf(" (critical at %d)", cfg.CritServiceAuth), hint)
		case cfg.WarnServiceAuth > 0 && t.ServiceAuth >= cfg.WarnServiceAuth:
			res.Add(check.Warning, msg+fmt.Sprintf(" (warning at %d)", cfg.WarnServiceAuth), hint)
		}
	}
	// account failures
	if t.Account > 0 {
		accounts := 0
		for _, s := range t.Accounts {
			if s.ServiceAuth == 0 {
				accounts++
			}
		}
		msg := fmt.Sprintf("%s on %s (wrong passwords or password guessing)", plural(t.Account, "failed login"), plural(accounts, "account"))
		switch {
		case cfg.CritFailures > 0 && t.Account >= cfg.CritFailures:
			res.Add(check.Critical, msg+fmt.Sprintf(" (critical at %d)", cfg.CritFailures), bruteHint)
		case cfg.WarnFailures > 0 && t.Account >= cfg.WarnFailures:
			res.Add(check.Warning, msg+fmt.Sprintf(" (warning at %d)", cfg.WarnFailures), bruteHint)
		default:
			// below the thresholds: still say which fix applies
			res.Add(check.OK, msg, bruteHint)
		}
	}
	brute := r.BruteForce(cfg)
	if len(brute) > 0 {
		res.Add(check.Warning, "looks like brute force: "+strings.Join(limit(brute, 5), "; "), bruteHint)
	}
	if len(t.OtherCodes) > 0 {
		var parts []string
		for _, c := range sortedCodes(t.OtherCodes) {
			parts = append(parts, fmt.Sprintf("%s with %d", plural(t.OtherCodes[c], "failure"), c))
		}
		res.Add(check.Warning, "authenticator failures that are not wrong passwords: "+strings.Join(parts, ", "),
			"435 is the authenticator's backend failing (e.g. the dovecot auth socket): look at exim_paniclog and the backend's log")
	}
	if r.Chkservd.Restarts > 0 && cfg.WarnRestarts > 0 && r.Chkservd.Restarts >= cfg.WarnRestarts {
		hint := "see " + r.Chkservd.Path + " and the Exim panic log for why Exim failed its check"
		if t.ServiceAuth > 0 {
			hint = "with the service-auth failures above this is the key desync: hostfix exim auth-reset"
		}
		res.Add(check.Warning, fmt.Sprintf("chkservd restarted Exim %s %s (warning at %d)", plural(r.Chkservd.Restarts, "time"), window, cfg.WarnRestarts), hint)
	}
	if t.Dropped > 0 {
		res.Add(check.Warning, fmt.Sprintf("%s not counted per IP or account: more than %s distinct sources", plural(t.Dropped, "failure"), human.Count(maxKeys)), "")
	}

	byAuth := map[string]any{}
	for name, a := range t.ByAuth {
		byAuth[name] = map[string]int{ClassServiceAuth: a.ServiceAuth, ClassAccount: a.Account}
	}
	other := map[string]int{}
	for c, n := range t.OtherCodes {
		other[fmt.Sprint(c)] = n
	}
	logs := r.Logs
	if logs == nil {
		logs = []LogFile{}
	}
	since := ""
	if !r.Since.IsZero() {
		since = r.Since.Format(time.RFC3339)
	}
	topIPs := r.rows(t.IPs, cfg.Top, true)
	topAccounts := r.rows(t.Accounts, cfg.Top, false)
	topLogins := r.rows(t.LoginAccounts, cfg.Top, false)
	if brute == nil {
		brute = []string{}
	}
	res.Metrics = map[string]any{
		"since": since, "logs": logs, "logs_tried": r.Tried, "bytes_read": t.Bytes,
		"failures": t.Failures, "service_auth_failures": t.ServiceAuth, "account_failures": t.Account,
		"other_failures": other, "by_authenticator": byAuth, "services": t.Services,
		"source_ips": len(t.IPs), "accounts": len(t.Accounts),
		"first_failure": r.when(t.First), "last_failure": r.when(t.Last),
		"top_ips": topIPs, "top_accounts": topAccounts,
		"logins": t.Logins, "top_logins": topLogins,
		"brute_force": len(brute) > 0, "brute_force_signs": brute,
		"chkservd": r.Chkservd, "skipped_long_lines": t.LongLines,
	}
	thr := func(v int) string {
		if v <= 0 {
			return ""
		}
		return fmt.Sprint(v)
	}
	res.Perfdata = []check.Perf{
		{Label: "service_auth_failures", Value: float64(t.ServiceAuth), Warn: thr(cfg.WarnServiceAuth), Crit: thr(cfg.CritServiceAuth), Min: "0"},
		{Label: "account_failures", Value: float64(t.Account), Warn: thr(cfg.WarnFailures), Crit: thr(cfg.CritFailures), Min: "0"},
		{Label: "source_ips", Value: float64(len(t.IPs)), Min: "0"},
		{Label: "logins", Value: float64(t.Logins), Min: "0"},
		{Label: "chkservd_restarts", Value: float64(r.Chkservd.Restarts), Warn: thr(cfg.WarnRestarts), Min: "0"},
	}
	g := func(name, help string, v float64, labels map[string]string) check.Sample {
		return check.Sample{Name: "hostfix_exim_" + name, Help: help, Type: "gauge", Value: v, Labels: labels}
	}
	fh := "Exim 535 authenticator failures in the window, by class (service_auth: cPanel key desync)."
	res.Samples = []check.Sample{
		g("auth_failures", fh, float64(t.ServiceAuth), map[string]string{"class": ClassServiceAuth}),
		g("auth_failures", fh, float64(t.Account), map[string]string{"class": ClassAccount}),
		g("auth_failure_source_ips", "Distinct source addresses of authenticator failures in the window.", float64(len(t.IPs)), nil),
		g("auth_logins", "Authenticated receptions (A=) in the window.", float64(t.Logins), nil),
		g("chkservd_exim_restarts", "Exim restarts by cPanel's chkservd in the window.", float64(r.Chkservd.Restarts), nil),
	}
	var bf float64
	if len(brute) > 0 {
		bf = 1
	}
	res.Samples = append(res.Samples, g("auth_brute_force", "1 when the failures look like brute force.", bf, nil))

	// text tables
	res.Details = append(res.Details, "logs: "+logList(logs))
	if t.Failures > 0 {
		res.Details = append(res.Details, fmt.Sprintf("failures %s to %s", r.when(t.First), r.when(t.Last)))
		res.Details = append(res.Details, "by authenticator:")
		names := make([]string, 0, len(t.ByAuth))
		for n := range t.ByAuth {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := t.ByAuth[n]
			res.Details = append(res.Details, fmt.Sprintf("  %-20s %8s service auth  %8s accounts", n, human.Count(a.ServiceAuth), human.Count(a.Account)))
		}
		res.Details = append(res.Details, "top source IPs:", fmt.Sprintf("  %8s %8s  %-39s  %-25s  %s", "FAILURES", "ACCOUNTS", "IP", "FIRST", "LAST"))
		for _, s := range topIPs {
			res.Details = append(res.Details, fmt.Sprintf("  %8s %8s  %-39s  %-25s  %s", human.Count(s.Count), distinct(s.Distinct), s.IP, s.FirstSeen, s.LastSeen))
		}
		res.Details = append(res.Details, "top accounts:", fmt.Sprintf("  %8s %8s  %-39s  %-25s  %s", "FAILURES", "IPS", "ACCOUNT", "FIRST", "LAST"))
		for _, s := range topAccounts {
			res.Details = append(res.Details, fmt.Sprintf("  %8s %8s  %-39s  %-25s  %s", human.Count(s.Count), distinct(s.Distinct), s.Account, s.FirstSeen, s.LastSeen))
		}
	}
	if t.Logins > 0 {
		res.Details = append(res.Details, "top authenticated senders (A=):")
		for _, s := range topLogins {
			res.Details = append(res.Details, fmt.Sprintf("  %8s  %-39s  last %s", human.Count(s.Count), s.Account, s.LastSeen))
		}
	}
	if r.Chkservd.Found {
		res.Details = append(res.Details, fmt.Sprintf("chkservd: restarted Exim %s %s", plural(r.Chkservd.Restarts, "time"), window))
	}
	return res
}

func logList(logs []LogFile) string {
	var p []string
	for _, l := range logs {
		p = append(p, l.Path)
	}
	return strings.Join(p, ", ")
}

func limit(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string{}, s[:n]...), "and "+human.Count(len(s)-n)+" more")
}

func sortedCodes(m map[int]int) []int {
	var out []int
	for c := range m {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}

func fmtDur(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
