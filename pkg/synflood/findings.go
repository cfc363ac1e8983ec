package synflood

import (
	"fmt"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
)

// Findings: what the check concludes from the evaluated input (severity, message, hint).
// render.go shows the same input as tables, perfdata and samples.

const (
	hintFix        = "run `" + FixCommand + "` (turns SYN cookies on live and at boot; --dry-run shows the change first)"
	hintSlowAccept = "not a SYN flood: the application does not accept() fast enough; add workers or raise its listen() backlog (and net.core.somaxconn). `" + FixCommand + "` does not change this"
	hintSpoofed    = "SYN cookies keep real clients served; filter upstream (provider, firewall rate limits) if bandwidth suffers. Do not block the listed sources: they are likely forged"
	hintOverload   = "real clients: raise the listen() backlog of the service and net.core.somaxconn, add capacity; `" + FixCommand + "` keeps SYN cookies on as a safety net"
)

func (in *verdictInput) findings(r *check.Result, cookies, maxSyn int) {
	cfg := in.cfg
	// Listener queues.
	for _, l := range in.socks.Listeners {
		if l.Orphan || l.SynQueueCap <= 0 {
			continue
		}
		pct := l.SynQueuePercent
		switch {
		case cookies == 0 && pct >= cfg.QueueCritPercent:
			r.Add(check.Critical, fmt.Sprintf("%s: SYN queue full (%s of %s) and SYN cookies are off: new connections are dropped", l.Name(), human.Count(l.SynRecv), human.Count(l.SynQueueCap)), hintFix)
		case pct >= cfg.QueueWarnPercent && cookies == 0:
			r.Add(check.Warning, fmt.Sprintf("%s: SYN queue at %.0f%% (%s of %s) with SYN cookies off", l.Name(), pct, human.Count(l.SynRecv), human.Count(l.SynQueueCap)), hintFix)
		case pct >= cfg.QueueWarnPercent:
			r.Add(check.Warning, fmt.Sprintf("%s: SYN queue at %.0f%% (%s of %s); past it the kernel answers with SYN cookies", l.Name(), pct, human.Count(l.SynRecv), human.Count(l.SynQueueCap)),
				"cookies are on, so clients still connect; see the counters and top sources to tell a flood from overload")
		}
		if l.Retransmitted > 0 && l.SynRecv >= 10 && float64(l.Retransmitted) >= 0.8*float64(l.SynRecv) && pct >= cfg.QueueWarnPercent {
			r.Add(check.OK, fmt.Sprintf("%s: %s of %s half-open connections had their SYN-ACK retransmitted: the peers never answer, typical of spoofed sources", l.Name(), human.Count(l.Retransmitted), human.Count(l.SynRecv)), "")
		}
		if l.CapKnown && l.AcceptQueueCap > 0 {
			apct := float64(l.AcceptQueue) * 100 / float64(l.AcceptQueueCap)
			switch {
			case l.AcceptQueue >= l.AcceptQueueCap:
				r.Add(check.Critical, fmt.Sprintf("%s: accept queue full (%s of %s): new connections are dropped", l.Name(), human.Count(l.AcceptQueue), human.Count(l.AcceptQueueCap)), hintSlowAccept)
			case apct >= cfg.QueueWarnPercent:
				r.Add(check.Warning, fmt.Sprintf("%s: accept queue at %.0f%% (%s of %s)", l.Name(), apct, human.Count(l.AcceptQueue), human.Count(l.AcceptQueueCap)), hintSlowAccept)
			}
		}
	}

	for _, p := range in.ports {
		found := false
		for _, l := range in.socks.Listeners {
			found = found || !l.Orphan && int(l.Port) == p
		}
		if !found {
			r.Add(check.Warning, fmt.Sprintf("nothing listens on TCP port %d", p), "check the port number, or whether the service is running (ss -ltn)")
		}
	}

	// Counter rates.
	if in.counterErr != nil {
		r.Add(check.Unknown, "cannot read the TCP counters: "+in.counterErr.Error(), "on a live host /proc/net/netstat must be readable; under --root put a copy at proc/net/netstat")
	} else if in.window > 0 {
		drop, _ := in.rate("TCPReqQFullDrop")
		over, _ := in.rate("ListenOverflows")
		ldrop, _ := in.rate("ListenDrops")
		sent, _ := in.rate("SyncookiesSent")
		recv, _ := in.rate("SyncookiesRecv")
		if drop > cfg.DropsCritRate {
			r.Add(check.Critical, fmt.Sprintf("SYNs dropped because a SYN queue is full and cookies are off: TCPReqQFullDrop %s", fmtRate(drop)), hintFix)
		}
		if over > cfg.DropsCritRate {
			r.Add(check.Critical, fmt.Sprintf("accept queue overflowing: ListenOverflows %s (the application is slow to accept())", fmtRate(over)), hintSlowAccept)
		}
		if other := ldrop - drop - over; other > cfg.DropsCritRate && drop <= cfg.DropsCritRate && over <= cfg.DropsCritRate {
			r.Add(check.Critical, fmt.Sprintf("listeners drop incoming connections: ListenDrops %s", fmtRate(ldrop)),
				"ListenDrops without queue overflows: look for memory pressure or firewall/LSM drops on the listener; "+hintFix+" if SYN cookies are off")
		}
		if cookies != 2 && sent > cfg.CookiesWarnRate {
			r.Add(check.Warning, fmt.Sprintf("SYN cookies are being sent: SyncookiesSent %s (a SYN queue is full)", fmtRate(sent)), "")
			if recv < sent*cfg.SpoofedRecvRatio {
				r.Add(check.Warning, fmt.Sprintf("looks like a spoofed SYN flood: %s cookies sent, %s came back", fmtRate(sent), fmtRate(recv)), hintSpoofed)
			} else {
				r.Add(check.Warning, fmt.Sprintf("looks like legitimate overload: %s of %s cookies come back from real clients", fmtRate(recv), fmtRate(sent)), hintOverload)
			}
		}
		if f, _ := in.rate("SyncookiesFailed"); f > 0 {
			r.Add(check.OK, fmt.Sprintf("invalid SYN cookies received: SyncookiesFailed %s (stray or forged ACKs)", fmtRate(f)), "")
		}
	} else {
		r.Add(check.OK, "no counter rates: run with --interval 1s, or with --state-file from cron, to see drops and cookies per second", "")
	}

	// Sysctls now and at boot.
	sc := in.sysctls[KeySyncookies]
	switch {
	case sc.LiveErr != "":
		r.Add(check.Unknown, "cannot read net.ipv4.tcp_syncookies: "+sc.LiveErr, "")
	case cookies == 0:
		r.Add(check.Warning, "SYN cookies are off (net.ipv4.tcp_syncookies = 0): a SYN flood fills the queue and real clients are dropped", hintFix)
	case cookies == 2:
		r.Add(check.OK, "net.ipv4.tcp_syncookies = 2 sends cookies for every SYN (a testing mode): TCPReqQFullDoCookies means nothing and the kernel never logs the flood warning", hintFix+" sets it to 1")
	}
	if sc.Boot.Unknown != "" {
		// Said once per unreadable file below; nothing about what a reboot sets.
	} else if sc.LiveErr == "" && sc.Boot.Set && strings.TrimSpace(sc.Boot.Value) != sc.Live {
		r.Add(check.Warning, fmt.Sprintf("net.ipv4.tcp_syncookies is %s now but %s after a reboot (%s line %d)", sc.Live, sc.Boot.Value, sc.Boot.File, sc.Boot.Line), hintFix)
	} else if sc.LiveErr == "" && !sc.Boot.Set && cookies != 1 {
		r.Add(check.OK, fmt.Sprintf("net.ipv4.tcp_syncookies is %s now and no sysctl.d file sets it: the kernel default (1) returns at reboot", sc.Live), "")
	}
	for _, k := range SysctlKeys {
		s := in.sysctls[k]
		if !s.Boot.Set {
			for _, x := range s.Boot.Settings {
				if x.ProcpsOnly && strings.TrimSpace(x.Value) != s.Live {
					r.Add(check.OK, fmt.Sprintf("%s: %s:%d sets %s, but systemd-sysctl does not read that file (no /etc/sysctl.d link to it); only `sysctl --system` would apply it", k, x.File, x.Line, x.Value), "")
				}
			}
		}
		if c := s.Boot.Conflicts(); len(c) > 0 {
			parts := make([]string, len(c))
			for i, x := range c {
				parts[i] = fmt.Sprintf("%s:%d = %s", x.File, x.Line, x.Value)
				if x.ProcpsOnly {
					parts[i] += " (applied last by `sysctl --system`, never by systemd-sysctl)"
				}
			}
			r.Add(check.OK, fmt.Sprintf("%s: %s:%d (= %s) wins at boot over %s", k, s.Boot.File, s.Boot.Line, s.Boot.Value, strings.Join(parts, "; ")), "")
		}
	}
	if cookies == 0 && maxSyn > 0 {
		r.Add(check.OK, fmt.Sprintf("with cookies off, tcp_max_syn_backlog (%d) limits each SYN queue to %d; with cookies on it does not matter", maxSyn, maxSyn-maxSyn/4), "")
	}
	for _, e := range in.sysctlErrs {
		r.Add(check.Warning, "the sysctl values at boot are unknown: "+e,
			"make the file readable (or run the check as root) and fix symlink loops, so hostfix can tell what a reboot sets")
	}

	// Kernel log.
	if len(in.klog) > 0 {
		seen := map[string]int{}
		var order []string
		for _, k := range in.klog {
			key := k.Listener + " (" + k.Action + ")"
			if seen[key] == 0 {
				order = append(order, key)
			}
			seen[key]++
		}
		last := in.klog[len(in.klog)-1]
		when := ""
		if !last.Time.IsZero() {
			when = ", last at " + last.Time.Format(time.RFC3339)
		}
		r.Add(check.OK, fmt.Sprintf("kernel logged \"Possible SYN flooding\" for %s%s (printed once per listener: old news unless the listener is new)", strings.Join(order, ", "), when), "")
	}

	// Probe.
	if p := in.probe; p != nil {
		switch {
		case p.Error != "":
			r.Add(check.Critical, "probe "+p.Target+" failed: "+p.Error, "if the listener is up, its queues are full: see the findings above")
		default:
			total := *p.ConnectMS
			if p.RequestMS != nil {
				total += *p.RequestMS
			}
			d := time.Duration(total * float64(time.Millisecond))
			switch {
			case d >= in.cfg.ProbeCrit:
				r.Add(check.Critical, fmt.Sprintf("probe %s took %.0f ms (limit %s)", p.Target, total, in.cfg.ProbeCrit), "a slow handshake from localhost means a full SYN or accept queue: see above")
			case d >= in.cfg.ProbeWarn:
				r.Add(check.Warning, fmt.Sprintf("probe %s took %.0f ms (limit %s)", p.Target, total, in.cfg.ProbeWarn), "")
			}
		}
	}
}

func rank(s check.Status) int {
	switch s {
	case check.Critical:
		return 3
	case check.Unknown:
		return 2
	case check.Warning:
		return 1
	}
	return 0
}
