package synflood

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/human"
)

// Rendering of a check's evaluation: detail lines (tables), Nagios perfdata, Prometheus
// samples and the summary line. findings.go decides what is wrong; this file only shows it.

func fmtRate(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
}

func (in *verdictInput) details(r *check.Result, addrs, nets []SourceCount) {
	d := &r.Details
	method := in.socks.Method
	if in.socks.Fallback != "" {
		method += " (sock_diag failed: " + in.socks.Fallback + ")"
	}
	*d = append(*d, fmt.Sprintf("sockets: %s, network namespace %s", method, in.netns))
	rows := [][]string{{"LISTENER", "SYN_RECV", "SYN_CAP", "USE", "ACCEPT_Q", "ACCEPT_CAP", "SYNACK_RETRANS"}}
	for _, l := range in.socks.Listeners {
		acap := "?"
		if l.CapKnown {
			acap = human.Count(l.AcceptQueueCap)
		}
		scap := human.Count(l.SynQueueCap)
		if !l.CapKnown && !l.Orphan {
			scap = "<=" + scap
		}
		if l.Orphan {
			scap, acap = "-", "-"
		}
		rows = append(rows, []string{l.Name(), human.Count(l.SynRecv), scap,
			strconv.FormatFloat(l.SynQueuePercent, 'f', -1, 64) + "%", human.Count(l.AcceptQueue), acap,
			human.Count(l.SynAckRetrans)})
	}
	if len(in.socks.Listeners) == 0 {
		*d = append(*d, "no listening sockets"+portsNote(in.ports))
	} else {
		*d = append(*d, table(rows)...)
	}
	*d = append(*d, "SYN_RECV total: "+human.Count(in.socks.SynRecvTotal))
	if len(addrs) > 0 {
		parts := make([]string, len(addrs))
		for i, a := range addrs {
			parts[i] = fmt.Sprintf("%s (%s)", a.Source, human.Count(a.Count))
		}
		*d = append(*d, "top sources: "+strings.Join(parts, ", "))
		parts = parts[:0]
		for _, n := range nets {
			parts = append(parts, fmt.Sprintf("%s (%s)", n.Source, human.Count(n.Count)))
		}
		*d = append(*d, "top networks: "+strings.Join(parts, ", "))
		*d = append(*d, "  (source addresses of SYNs are easily spoofed: do not trust or block them on this alone)")
	}
	*d = append(*d, "")
	rows = [][]string{{"SYSCTL", "LIVE", "AT BOOT", "SET BY"}}
	for _, k := range SysctlKeys {
		s := in.sysctls[k]
		live := s.Live
		if s.LiveErr != "" {
			live = "?"
		}
		boot, by := "(kernel default)", "-"
		if s.Boot.Unknown != "" {
			boot, by = "?", "unknown: a sysctl file is unreadable"
		}
		if s.Boot.Set {
			boot = s.Boot.Value
			by = fmt.Sprintf("%s:%d", s.Boot.File, s.Boot.Line)
		}
		if c := s.Boot.Conflicts(); len(c) > 0 {
			by += fmt.Sprintf(" (%d conflicting)", len(c))
		}
		rows = append(rows, []string{k, live, boot, by})
	}
	*d = append(*d, table(rows)...)
	*d = append(*d, "")
	if in.counterErr != nil {
		*d = append(*d, "counters: "+in.counterErr.Error())
	} else {
		head := "COUNTER (TcpExt)"
		rows = [][]string{{head, "TOTAL", "RATE"}}
		for _, n := range CounterNames {
			rt, ok := in.rates[n]
			if !ok {
				continue
			}
			rate := "-"
			if rt.PerSecond != nil {
				rate = fmtRate(*rt.PerSecond)
			}
			rows = append(rows, []string{n, human.Count(rt.Total), rate})
		}
		*d = append(*d, table(rows)...)
		if in.window > 0 {
			*d = append(*d, fmt.Sprintf("rates over %.1fs", in.window))
		} else {
			*d = append(*d, "rates: none (--interval 0 and no earlier --state-file sample): totals since boot say little")
		}
	}
	*d = append(*d, "")
	switch {
	case len(in.klog) > 0:
		for _, k := range in.klog {
			when := "time unknown"
			if !k.Time.IsZero() {
				when = k.Time.Format(time.RFC3339)
			}
			*d = append(*d, fmt.Sprintf("kernel log: %s: possible SYN flooding on %s (%s)", when, k.Listener, k.Action))
		}
	case in.klogErr != "":
		*d = append(*d, "kernel log: not read: "+in.klogErr)
	default:
		*d = append(*d, "kernel log: no \"Possible SYN flooding\" lines (the kernel prints it once per listener, and never with tcp_syncookies=2: its absence proves nothing)")
	}
	if p := in.probe; p != nil {
		s := "probe " + p.Target + ":"
		if p.ConnectMS != nil {
			s += fmt.Sprintf(" connect %.1f ms", *p.ConnectMS)
		}
		if p.RequestMS != nil {
			s += fmt.Sprintf(", GET %.1f ms (HTTP %d)", *p.RequestMS, p.HTTPCode)
		}
		if p.Error != "" {
			s += " " + p.Error
		}
		*d = append(*d, s)
	}
}

func portsNote(ports []int) string {
	if len(ports) == 0 {
		return ""
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return " on port " + strings.Join(s, ", ")
}

func table(rows [][]string) []string {
	w := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			if len(c) > w[i] {
				w[i] = len(c)
			}
		}
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", w[i]-len(c)+2))
		}
		out[j] = strings.TrimRight(b.String(), " ")
	}
	return out
}

func (in *verdictInput) perf(r *check.Result) {
	cfg := in.cfg
	r.Perfdata = append(r.Perfdata, check.Perf{Label: "syn_recv", Value: float64(in.socks.SynRecvTotal), Min: "0"})
	for _, l := range in.socks.Listeners {
		if l.Orphan {
			continue
		}
		p := check.Perf{Label: "syn_recv_" + l.Name(), Value: float64(l.SynRecv), Min: "0"}
		if l.SynQueueCap > 0 {
			p.Max = strconv.Itoa(l.SynQueueCap)
			p.Warn = strconv.Itoa(int(math.Ceil(float64(l.SynQueueCap) * cfg.QueueWarnPercent / 100)))
		}
		r.Perfdata = append(r.Perfdata, p)
	}
	for _, n := range []struct{ counter, label string }{
		{"TCPReqQFullDrop", "reqq_full_drop_rate"}, {"ListenOverflows", "listen_overflows_rate"},
		{"ListenDrops", "listen_drops_rate"}, {"SyncookiesSent", "syncookies_sent_rate"}, {"SyncookiesRecv", "syncookies_recv_rate"},
	} {
		v, ok := in.rate(n.counter)
		r.Perfdata = append(r.Perfdata, check.Perf{Label: n.label, Value: v, Unknown: !ok, Min: "0"})
	}
	if p := in.probe; p != nil && p.ConnectMS != nil {
		r.Perfdata = append(r.Perfdata, check.Perf{Label: "probe_connect", Value: *p.ConnectMS / 1000, UOM: "s",
			Warn: trimSecs(cfg.ProbeWarn), Crit: trimSecs(cfg.ProbeCrit), Min: "0"})
	}

	// Prometheus: what node_exporter lacks (per listener, verdict inputs, boot values).
	const pre = "hostfix_synflood_"
	add := func(name, help string, v float64, labels map[string]string) {
		r.Samples = append(r.Samples, check.Sample{Name: pre + name, Help: help, Type: "gauge", Labels: labels, Value: v})
	}
	add("syn_recv_sockets", "Half-open (SYN_RECV) TCP connections in this network namespace.", float64(in.socks.SynRecvTotal), nil)
	for _, l := range in.socks.Listeners {
		lb := map[string]string{"listener": l.Name(), "port": strconv.Itoa(int(l.Port))}
		add("listener_syn_recv", "Half-open connections of a listener.", float64(l.SynRecv), lb)
		if !l.Orphan {
			add("listener_syn_queue_cap", "Where the listener's SYN queue stops queueing (see docs/synflood.md).", float64(l.SynQueueCap), lb)
			add("listener_accept_queue", "Connections waiting for accept().", float64(l.AcceptQueue), lb)
			if l.CapKnown {
				add("listener_accept_queue_cap", "Accept queue cap: min(listen backlog, somaxconn).", float64(l.AcceptQueueCap), lb)
			}
			add("listener_synack_retransmits", "SYN-ACK retransmits summed over the listener's half-open connections.", float64(l.SynAckRetrans), lb)
		}
	}
	if in.counterErr == nil {
		// node_exporter's default netstat fields exclude these two.
		for _, n := range []struct{ c, name string }{{"TCPReqQFullDrop", "reqq_full_drop_total"}, {"TCPReqQFullDoCookies", "reqq_full_do_cookies_total"}} {
			if rt, ok := in.rates[n.c]; ok {
				r.Samples = append(r.Samples, check.Sample{Name: pre + n.name, Help: "TcpExt " + n.c + " (node_exporter does not export it by default).", Type: "counter", Value: float64(rt.Total)})
			}
		}
	}
	for _, k := range SysctlKeys {
		s := in.sysctls[k]
		if v, err := strconv.ParseFloat(strings.TrimSpace(s.Live), 64); err == nil {
			add("sysctl", "Live value of a SYN-flood related sysctl.", v, map[string]string{"key": k})
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(s.Boot.Value), 64); err == nil && s.Boot.Set {
			add("sysctl_boot", "Value the sysctl will get at boot from sysctl.d (absent: kernel default).", v, map[string]string{"key": k})
		}
	}
	add("kernel_log_messages", "\"Possible SYN flooding\" lines found in the kernel log.", float64(len(in.klog)), nil)
	if p := in.probe; p != nil && p.ConnectMS != nil {
		add("probe_connect_seconds", "TCP connect time of --probe.", *p.ConnectMS/1000, map[string]string{"target": p.Target})
		if p.RequestMS != nil {
			add("probe_request_seconds", "HTTP GET time of --probe.", *p.RequestMS/1000, map[string]string{"target": p.Target})
		}
	}
}

func trimSecs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

func (in *verdictInput) summary(r *check.Result, cookies int) {
	var busiest *Listener
	for _, l := range in.socks.Listeners {
		if !l.Orphan && (busiest == nil || l.SynQueuePercent > busiest.SynQueuePercent) {
			busiest = l
		}
	}
	parts := []string{fmt.Sprintf("%s SYN_RECV on %d listener(s)%s", human.Count(in.socks.SynRecvTotal), countReal(in.socks.Listeners), portsNote(in.ports))}
	if busiest != nil && busiest.SynRecv > 0 {
		parts = append(parts, fmt.Sprintf("fullest %s at %s%%", busiest.Name(), strconv.FormatFloat(busiest.SynQueuePercent, 'f', -1, 64)))
	}
	switch cookies {
	case 0:
		parts = append(parts, "syncookies off")
	case 1:
		parts = append(parts, "syncookies on")
	case 2:
		parts = append(parts, "syncookies always")
	}
	if in.window > 0 {
		drop, _ := in.rate("TCPReqQFullDrop")
		ld, _ := in.rate("ListenDrops")
		parts = append(parts, "drops "+fmtRate(math.Max(drop, ld)))
	}
	r.Summary = strings.Join(parts, ", ")
	// Findings of the worst severity first, in the order found.
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return rank(r.Findings[i].Severity) > rank(r.Findings[j].Severity)
	})
}

func countReal(ls []*Listener) int {
	n := 0
	for _, l := range ls {
		if !l.Orphan {
			n++
		}
	}
	return n
}
