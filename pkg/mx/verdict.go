package mx

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/hostfix/hostfix/pkg/check"
)

// Facts are what a verdict is made from, for one domain.
type Facts struct {
	Domain   Domain
	Lookup   *Lookup
	Lists    *Lists
	Evidence []string // mail log lines with the MTA's error text naming the domain
	LogHits  int
	Log      string
}

// Where mail for a domain goes, as DNS says it.
type placement struct {
	known   bool // DNS answered well enough to say
	here    bool // a lowest-preference MX is this host
	backup  bool // not lowest, but a higher-preference MX is this host
	takesNo bool // null MX, NXDOMAIN, or no MX and no address: nobody receives its mail
}

func place(l *Lookup) (placement, string) {
	switch {
	case l.Err != nil:
		return placement{}, "DNS lookup failed: " + l.Err.Error()
	case l.NXDomain, l.NullMX, len(l.MX) == 0:
		return placement{known: true, takesNo: true}, ""
	}
	var p placement
	var failed []string
	for _, m := range l.Lowest() {
		if m.Here {
			p.here = true
		}
		if m.Err != "" {
			failed = append(failed, m.Err)
		}
	}
	if !p.here && len(failed) > 0 {
		return placement{}, "lowest MX host lookup failed: " + strings.Join(failed, "; ")
	}
	if !p.here {
		for _, m := range l.MX[len(l.Lowest()):] {
			if m.Here {
				p.backup = true
			}
		}
	}
	p.known = true
	return p, ""
}

// MTANames are the MTAs as messages name them.
var MTANames = map[string]string{CPanel: "cPanel's Exim", Sendmail: "Sendmail", Postfix: "Postfix", Exim4: "exim4"}

// DomainResult is the verdict for one domain: its check object and its table row.
type DomainResult struct {
	Domain Domain
	Result *check.Result
	// Row is the text table's cells: domain, lowest MX, points here, local list, verdict.
	Row [5]string
	// Place is where DNS sends its mail: "here", "backup", "elsewhere", "nowhere" or
	// "unknown"; fix decides from it.
	Place string
}

// Judge gives the verdict for one domain as a check result (one check object per domain).
func Judge(f Facts) *DomainResult {
	d, l, ls := f.Domain.Name, f.Lookup, f.Lists
	r := &check.Result{Check: "mx", Status: check.OK}
	localSrc, local := ls.Local[d]
	remote, secondary := ls.Remote[d], ls.Secondary[d]
	mxc, hasMXC := ls.MXCheck[d]
	p, dnsErr := place(l)

	lowest := l.Lowest()
	lowestText := "-"
	if len(lowest) > 0 {
		var hs []string
		for _, m := range lowest {
			hs = append(hs, m.Host)
		}
		lowestText = fmt.Sprintf("%s (%d)", strings.Join(hs, ", "), lowest[0].Preference)
	}
	if l.Implicit && len(l.MX) > 0 {
		lowestText = d + " (no MX: its own address)"
	}
	localList := map[string]string{CPanel: LocalDomainsFile, Sendmail: LocalHostNamesFile, Postfix: "mydestination", Exim4: "dc_other_hostnames"}[ls.MTA]
	mxcheckHint := ""
	if ls.MTA == CPanel && hasMXC && mxc.Value == "auto" {
		where := mxc.File
		mxcheckHint = fmt.Sprintf("; MXCHECK is auto (%s): cPanel may re-detect the domain's mail routing and revert a hand edit, so set its email routing to local or remote there", where)
	}
	fixHint := "hostfix mx fix " + d

	switch {
	case !p.known:
		r.Add(check.Unknown, d+": "+dnsErr, "nothing can be said about its MX until DNS answers: check the resolvers (mx.resolvers, --resolver) and the domain's name servers, then run the check again")
	case l.NXDomain:
		msg := d + " does not exist in DNS (NXDOMAIN): nobody can send it mail"
		if local {
			msg += ", yet it is a local domain (" + localSrc + ")"
		}
		r.Add(check.Warning, msg, "check the name's spelling and its registration and delegation")
	case l.NullMX:
		if local {
			r.Add(check.Warning, d+" publishes a null MX (takes no mail, RFC 7505) but is a local domain ("+localSrc+")", "if it should receive mail here, publish an MX for this host; otherwise take it out of the local list: hostfix mx fix --remote "+d)
		}
	case len(l.MX) == 0:
		r.Add(check.Warning, d+" has no MX and no address: no mail can be delivered to it", "publish an MX record for the server that should receive its mail")
	}
	if local && remote {
		r.Add(check.Critical, fmt.Sprintf("%s is in both %s and %s: a domain is local or remote, never both", d, LocalDomainsFile, RemoteDomainsFile), fixHint+" (makes the lists follow DNS)"+mxcheckHint)
	}
	if p.known && !p.takesNo {
		switch {
		case p.here && !local:
			r.Add(check.Critical, fmt.Sprintf("lowest MX %s of %s is this host (%s) but %s is not a local domain of %s: mail for it fails with %q",
				lowestText, d, hereAddrs(lowest), d, MTANames[ls.MTA], ErrorTexts[ls.MTA]),
				fmt.Sprintf("make it local: %s (adds it to %s%s)%s", fixHint, localList, removeNote(ls, remote), mxcheckHint))
		case !p.here && local && !remote:
			r.Add(check.Critical, fmt.Sprintf("%s is a local domain (%s) but its lowest MX %s is elsewhere (%s): mail for it from this host stays here and never reaches the real server",
				d, localSrc, lowestText, addrsOf(lowest)),
				"if DNS is right, take it out of the local list: "+fixHint+"; if this host should receive its mail, point the MX here first"+mxcheckHint)
		}
		if ls.MTA == CPanel && !local {
			switch {
			case p.backup && !(secondary && remote):
				r.Add(check.Warning, fmt.Sprintf("this host is a backup MX for %s (a higher-preference MX points here) but %s is not in both %s and %s", d, d, RemoteDomainsFile, SecondaryMXFile),
					fixHint+" (adds it to both)")
			case secondary && !p.backup && !p.here:
				r.Add(check.Warning, fmt.Sprintf("%s is in %s but no MX of it points to this host", d, SecondaryMXFile), fixHint+" (takes it out), or add this host as a backup MX in DNS")
			}
		}
	}
	for _, m := range l.MX {
		if len(m.CNAME) > 0 {
			r.Add(check.Warning, fmt.Sprintf("MX host %s of %s is an alias (CNAME to %s): an MX must name a host with its own address records (RFC 2181 §10.3)", m.Host, d, m.CNAME[len(m.CNAME)-1]),
				"point the MX at "+m.CNAME[len(m.CNAME)-1]+" itself")
		}
	}

	switch {
	case len(r.Findings) > 0:
		r.Summary = r.Findings[0].Message
	case l.NullMX:
		r.Summary = d + " publishes a null MX (takes no mail) and is not local"
	case p.here:
		r.Summary = fmt.Sprintf("lowest MX %s of %s is this host and %s is local (%s)", lowestText, d, d, localSrc)
	case p.backup:
		r.Summary = fmt.Sprintf("this host is a backup MX for %s and it is in %s and %s", d, RemoteDomainsFile, SecondaryMXFile)
	default:
		r.Summary = fmt.Sprintf("lowest MX %s of %s is elsewhere and %s is not local", lowestText, d, d)
	}

	hereText := "no"
	switch {
	case !p.known:
		hereText = "?"
	case l.NullMX:
		hereText, lowestText = "no mail", "0 . (null MX)"
	case l.NXDomain:
		hereText, lowestText = "no mail", "NXDOMAIN"
	case p.takesNo:
		hereText, lowestText = "no mail", "no MX, no address"
	case p.here:
		hereText = "yes"
	case p.backup:
		hereText = "backup"
	}
	localText := "-"
	if local {
		localText = localSrc
	}
	if remote {
		if local {
			localText += " +remote"
		} else {
			localText = RemoteDomainsFile
		}
	}
	if secondary {
		localText += " +secondary"
	}
	mxs := l.MX
	if mxs == nil {
		mxs = []MXHost{}
	}
	for i := range mxs {
		if mxs[i].Addrs == nil {
			mxs[i].Addrs = []netip.Addr{}
		}
	}
	var lowestHosts []string
	for _, m := range lowest {
		lowestHosts = append(lowestHosts, m.Host)
	}
	if lowestHosts == nil {
		lowestHosts = []string{}
	}
	dnsErrText := ""
	if l.Err != nil {
		dnsErrText = l.Err.Error()
	}
	evidence := f.Evidence
	if evidence == nil {
		evidence = []string{}
	}
	mxcheck := ""
	if ls.MTA == CPanel {
		mxcheck = "auto"
		if hasMXC {
			mxcheck = mxc.Value
		}
	}
	r.Metrics = map[string]any{
		"domain":       d,
		"input":        f.Domain.Input,
		"mta":          ls.MTA,
		"mx":           mxs,
		"lowest_mx":    lowestHosts,
		"null_mx":      l.NullMX,
		"implicit_mx":  l.Implicit,
		"nxdomain":     l.NXDomain,
		"dns_error":    dnsErrText,
		"points_here":  hereText,
		"local":        local,
		"local_list":   localSrc,
		"remote":       remote,
		"secondary":    secondary,
		"mxcheck":      mxcheck,
		"log":          f.Log,
		"log_hits":     f.LogHits,
		"log_evidence": evidence,
	}
	place := "elsewhere"
	switch {
	case !p.known:
		place = "unknown"
	case p.takesNo:
		place = "nowhere"
	case p.here:
		place = "here"
	case p.backup:
		place = "backup"
	}
	shown := d
	if u := f.Domain.Unicode(); u != d {
		shown = d + " (" + u + ")"
		r.Metrics["unicode"] = u
	}
	return &DomainResult{Domain: f.Domain, Result: r, Row: [5]string{shown, lowestText, hereText, localText, r.Status.Upper()}, Place: place}
}

func removeNote(ls *Lists, remote bool) string {
	if ls.MTA == CPanel && remote {
		return " and takes it out of " + RemoteDomainsFile
	}
	return ""
}

func hereAddrs(ms []MXHost) string {
	var out []string
	for _, m := range ms {
		if m.Here {
			for _, a := range m.Addrs {
				out = append(out, a.String())
			}
		}
	}
	return strings.Join(out, ", ")
}

func addrsOf(ms []MXHost) string {
	var out []string
	for _, m := range ms {
		for _, a := range m.Addrs {
			out = append(out, a.String())
		}
	}
	if len(out) == 0 {
		return "no address"
	}
	return strings.Join(out, ", ")
}
