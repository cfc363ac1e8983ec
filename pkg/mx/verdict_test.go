package mx

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/check"
)

func mxh(pref uint16, host string, here bool, addrs ...string) MXHost {
	m := MXHost{Preference: pref, Host: host, Here: here}
	for _, a := range addrs {
		m.Addrs = append(m.Addrs, netip.MustParseAddr(a))
	}
	return m
}

func TestJudge(t *testing.T) {
	here := mxh(10, "mail.here.example", true, "127.0.0.1")
	away := mxh(10, "mx.away.example", false, "192.0.2.10")
	backupHere := mxh(20, "mail.here.example", true, "127.0.0.1")
	cname := mxh(10, "alias.example", true, "127.0.0.1")
	cname.CNAME = []string{"mail.here.example"}
	failed := MXHost{Preference: 10, Host: "mx.broken.example", Err: "mx.broken.example A: SERVFAIL"}

	cp := func(local, remote, secondary bool, mxcheck string) *Lists {
		l := &Lists{MTA: CPanel, Local: map[string]string{}, Remote: map[string]bool{}, Secondary: map[string]bool{}, MXCheck: map[string]MXCheck{}}
		if local {
			l.Local["d.example"] = LocalDomainsFile
		}
		l.Remote["d.example"] = remote
		l.Secondary["d.example"] = secondary
		if mxcheck != "" {
			l.MXCheck["d.example"] = MXCheck{Value: mxcheck, File: "/var/cpanel/users/bob"}
		}
		return l
	}
	sm := func(local bool) *Lists {
		l := &Lists{MTA: Sendmail, Local: map[string]string{}}
		if local {
			l.Local["d.example"] = LocalHostNamesFile
		}
		return l
	}
	tests := []struct {
		name   string
		lookup Lookup
		lists  *Lists
		want   check.Status
		place  string
		msg    string // in a finding (or the summary when none)
	}{
		{"here and local", Lookup{MX: []MXHost{here}}, cp(true, false, false, ""), check.OK, "here", "is this host and d.example is local"},
		{"here, not local: the runbook's error", Lookup{MX: []MXHost{here}}, cp(false, false, false, ""), check.Critical, "here", "lowest numbered MX record points to local host"},
		{"here, in remote list", Lookup{MX: []MXHost{here}}, cp(false, true, false, "remote"), check.Critical, "here", "takes it out of /etc/remotedomains"},
		{"MXCHECK auto named in the hint", Lookup{MX: []MXHost{here}}, cp(false, false, false, "auto"), check.Critical, "here", "MXCHECK is auto (/var/cpanel/users/bob)"},
		{"elsewhere but local: the opposite", Lookup{MX: []MXHost{away}}, cp(true, false, false, "local"), check.Critical, "elsewhere", "stays here and never reaches the real server"},
		{"elsewhere and remote", Lookup{MX: []MXHost{away}}, cp(false, true, false, ""), check.OK, "elsewhere", "is elsewhere and d.example is not local"},
		{"elsewhere, MXCHECK local: lists agree with DNS", Lookup{MX: []MXHost{away}}, cp(false, true, false, "local"), check.OK, "elsewhere", "is elsewhere"},
		{"both lists", Lookup{MX: []MXHost{here}}, cp(true, true, false, ""), check.Critical, "here", "in both /etc/localdomains and /etc/remotedomains"},
		{"backup MX not in secondarymx", Lookup{MX: []MXHost{away, backupHere}}, cp(false, true, false, ""), check.Warning, "backup", "backup MX"},
		{"backup MX set up", Lookup{MX: []MXHost{away, backupHere}}, cp(false, true, true, ""), check.OK, "backup", "backup MX for d.example"},
		{"backup MX but local", Lookup{MX: []MXHost{away, backupHere}}, cp(true, false, false, ""), check.Critical, "backup", "is elsewhere"},
		{"secondarymx but not an MX", Lookup{MX: []MXHost{away}}, cp(false, true, true, ""), check.Warning, "elsewhere", "no MX of it points to this host"},
		{"equal preference, one here", Lookup{MX: []MXHost{here, away}}, cp(false, false, false, ""), check.Critical, "here", "mail.here.example, mx.away.example (10)"},
		{"CNAME'd MX", Lookup{MX: []MXHost{cname}}, cp(true, false, false, ""), check.Warning, "here", "RFC 2181"},
		{"SERVFAIL is unknown, never OK", Lookup{Err: &DNSError{Name: "d.example", Type: "MX", Rcode: 2}}, cp(true, false, false, ""), check.Unknown, "unknown", "SERVFAIL"},
		{"timeout", Lookup{Err: &DNSError{Name: "d.example", Type: "MX", Rcode: -1, Err: errors.New("timed out")}}, sm(false), check.Unknown, "unknown", "timed out"},
		{"MX host unresolvable", Lookup{MX: []MXHost{failed}}, sm(true), check.Unknown, "unknown", "lowest MX host lookup failed"},
		{"null MX, not local", Lookup{NullMX: true}, sm(false), check.OK, "nowhere", "null MX"},
		{"null MX, local", Lookup{NullMX: true}, sm(true), check.Warning, "nowhere", "null MX"},
		{"NXDOMAIN", Lookup{NXDomain: true}, sm(true), check.Warning, "nowhere", "does not exist"},
		{"implicit MX here", Lookup{Implicit: true, MX: []MXHost{mxh(0, "d.example", true, "::1")}}, sm(false), check.Critical, "here", "(no MX: its own address)"},
		{"sendmail local, MX here", Lookup{MX: []MXHost{here}}, sm(true), check.OK, "here", "is local (/etc/mail/local-host-names)"},
		{"sendmail error text", Lookup{MX: []MXHost{here}}, sm(false), check.Critical, "here", "mail loops back to me"},
	}
	for _, tt := range tests {
		tt.lookup.Domain = "d.example"
		dr := Judge(Facts{Domain: Domain{Name: "d.example", Input: "d.example"}, Lookup: &tt.lookup, Lists: tt.lists})
		r := dr.Result
		text := r.Summary
		for _, f := range r.Findings {
			text += "\n" + f.Message + " -> " + f.Hint
		}
		if r.Status != tt.want || dr.Place != tt.place || !strings.Contains(text, tt.msg) {
			t.Errorf("%s: %s place %s\n%s\nwant %s place %s with %q", tt.name, r.Status.Upper(), dr.Place, text, tt.want.Upper(), tt.place, tt.msg)
		}
	}
}
