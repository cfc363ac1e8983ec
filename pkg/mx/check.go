package mx

import (
	"context"
	"fmt"
	"strings"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// CheckOptions say what to check.
type CheckOptions struct {
	Config  Config
	Domains []Domain
	// All adds every domain the MTA's lists name (--all).
	All bool
	// Resolver and Local replace the ones built from Config (tests).
	Resolver *Resolver
	Local    *LocalAddrs
}

// Report is the outcome of checking several domains.
type Report struct {
	Lists   *Lists
	Results []*DomainResult
	Status  check.Status
	Log     string
}

// Gather reads the MTA lists and resolves every domain: the part check and fix share.
func Gather(ctx context.Context, h *system.Host, o CheckOptions) (*Report, error) {
	lists, err := ReadLists(h, o.Config)
	if err != nil {
		return nil, err
	}
	domains := o.Domains
	if o.All {
		for _, n := range lists.All {
			domains = append(domains, Domain{Input: n, Source: "--all", Name: n})
		}
	}
	domains = Unique(domains)
	if len(domains) == 0 {
		return nil, fmt.Errorf("no domain to check: the %s lists name none", lists.MTA)
	}
	res := o.Resolver
	if res == nil {
		if res, err = NewResolver(h, o.Config); err != nil {
			return nil, err
		}
		defer res.Close()
	}
	la := o.Local
	if la == nil {
		if la, err = LocalAddresses(o.Config.LocalAddresses); err != nil {
			return nil, err
		}
	}
	names := make([]string, len(domains))
	want := make(map[string]bool, len(domains))
	for i, d := range domains {
		names[i] = d.Name
		want[d.Name] = true
	}
	ev, err := SearchMailLog(h, lists.MTA, o.Config.MailLog, want)
	if err != nil {
		return nil, err
	}
	lookups := res.LookupAll(ctx, names, o.Config.Parallel)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep := &Report{Lists: lists, Status: check.OK, Log: ev.Log}
	for i, l := range lookups {
		markHere(l, la)
		dr := Judge(Facts{Domain: domains[i], Lookup: l, Lists: lists, Evidence: ev.Lines[l.Domain], LogHits: ev.Count[l.Domain], Log: ev.Log})
		rep.Results = append(rep.Results, dr)
		rep.Status = check.Worse(rep.Status, dr.Result.Status)
	}
	return rep, nil
}

// Check is `mx check`.
func Check(ctx context.Context, h *system.Host, o CheckOptions) (*Report, error) {
	return Gather(ctx, h, o)
}

// Counts returns how many domains are in each state.
func (r *Report) Counts() map[check.Status]int {
	c := map[check.Status]int{}
	for _, d := range r.Results {
		c[d.Result.Status]++
	}
	return c
}

// Combined is one check result for all domains, for text, Nagios and Prometheus: the
// worst state, a table of every domain, every finding and counts as perfdata.
func (r *Report) Combined() *check.Result {
	c := r.Counts()
	out := &check.Result{Check: "mx", Status: r.Status}
	n := len(r.Results)
	if n == 1 {
		out.Summary = r.Results[0].Result.Summary
	} else {
		var parts []string
		for _, s := range []check.Status{check.Critical, check.Unknown, check.Warning, check.OK} {
			if c[s] > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", human.Count(c[s]), s.String()))
			}
		}
		out.Summary = fmt.Sprintf("%s (%s): %s", human.Plural(n, "domain"), r.Lists.MTA, strings.Join(parts, ", "))
		if worst := r.worst(); worst != nil && worst.Result.Status != check.OK {
			out.Summary += "; worst: " + worst.Result.Summary
		}
	}
	out.Metrics = map[string]any{
		"mta":      r.Lists.MTA,
		"domains":  n,
		"ok":       c[check.OK],
		"warning":  c[check.Warning],
		"critical": c[check.Critical],
		"unknown":  c[check.Unknown],
	}
	rows := [][5]string{{"DOMAIN", "LOWEST MX", "POINTS HERE", "LOCAL LIST", "VERDICT"}}
	for _, d := range r.Results {
		rows = append(rows, d.Row)
	}
	out.Details = table(rows)
	for _, d := range r.Results {
		out.Findings = append(out.Findings, d.Result.Findings...)
		if ev, _ := d.Result.Metrics["log_evidence"].([]string); len(ev) > 0 {
			hits, _ := d.Result.Metrics["log_hits"].(int)
			out.Details = append(out.Details, fmt.Sprintf("%s: %s in %s naming %s, the latest:", d.Domain.Name, human.Plural(hits, "error line"), r.Log, d.Domain.Name))
			for _, line := range ev {
				out.Details = append(out.Details, "  "+line)
			}
		}
	}
	for _, s := range []struct {
		label string
		st    check.Status
	}{{"ok", check.OK}, {"warning", check.Warning}, {"critical", check.Critical}, {"unknown", check.Unknown}} {
		out.Perfdata = append(out.Perfdata, check.Perf{Label: s.label, Value: float64(c[s.st]), Min: "0"})
	}
	out.Perfdata = append([]check.Perf{{Label: "domains", Value: float64(n), Min: "0"}}, out.Perfdata...)
	for _, d := range r.Results {
		out.Samples = append(out.Samples, check.Sample{Name: "hostfix_mx_domain_status", Help: "Verdict per domain: 0 ok, 1 warning, 2 critical, 3 unknown.", Type: "gauge", Labels: map[string]string{"domain": d.Domain.Name}, Value: float64(d.Result.Status)})
	}
	return out
}

func (r *Report) worst() *DomainResult {
	var w *DomainResult
	for _, d := range r.Results {
		if w == nil || check.Worse(w.Result.Status, d.Result.Status) != w.Result.Status {
			w = d
		}
	}
	return w
}

func table(rows [][5]string) []string {
	var width [5]int
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))+2))
			}
		}
		out = append(out, b.String())
	}
	return out
}
