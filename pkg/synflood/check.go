package synflood

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Sysctl keys the runbook reads; all four are per network namespace on current kernels.
const (
	KeySyncookies    = "net.ipv4.tcp_syncookies"
	KeyMaxSynBacklog = "net.ipv4.tcp_max_syn_backlog"
	KeySomaxconn     = "net.core.somaxconn"
	KeySynackRetries = "net.ipv4.tcp_synack_retries"
)

// SysctlKeys in report order.
var SysctlKeys = []string{KeySyncookies, KeyMaxSynBacklog, KeySomaxconn, KeySynackRetries}

// FixCommand is named by every finding that `fix` addresses.
const FixCommand = "hostfix synflood fix"

// CheckOptions are what `synflood check` was asked.
type CheckOptions struct {
	Config Config
	// Ports limits the report to listeners on these ports (exact match).
	Ports []int
	// Probe is HOST:PORT or a URL to time; empty = no probe.
	Probe string
	// LogFile is a kernel log to read instead of /dev/kmsg (a user path, not under --root).
	LogFile string
	// Sleep waits between the two counter samples; nil = a real, cancellable sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	// ReadKmsg reads the live kernel ring buffer; nil = ReadKmsg. Tests swap it.
	ReadKmsg func(now time.Time) ([]FloodMessage, error)
}

// SysctlState is a key's live and boot value.
type SysctlState struct {
	Key  string    `json:"key"`
	Live string    `json:"live"`
	Boot BootValue `json:"boot"`
	// LiveErr is why the live value could not be read.
	LiveErr string `json:"live_error,omitempty"`
}

// Int is the live value as a number, -1 when unknown.
func (s SysctlState) Int() int {
	v, err := strconv.Atoi(strings.TrimSpace(s.Live))
	if err != nil {
		return -1
	}
	return v
}

// ReadSysctls reads the runbook's keys live (under the root's /proc/sys) and computes their
// boot values from the sysctl.d files.
func ReadSysctls(h *system.Host) (map[string]*SysctlState, []SysctlFile, []error) {
	files, errs := SysctlFiles(h)
	out := map[string]*SysctlState{}
	for _, k := range SysctlKeys {
		st := &SysctlState{Key: k, Boot: BootValueOf(files, k)}
		if b, err := h.ReadFile(ProcSysPath(k)); err == nil {
			st.Live = trimNL(b)
		} else {
			st.LiveErr = err.Error()
		}
		out[k] = st
	}
	return out, files, errs
}

func byteOrder(name string) (binary.ByteOrder, error) {
	switch strings.ToLower(name) {
	case "", "native":
		return binary.NativeEndian, nil
	case "little":
		return binary.LittleEndian, nil
	case "big":
		return binary.BigEndian, nil
	}
	return nil, usage.Errorf("synflood.proc_byte_order %q: want native, little or big", name)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Check diagnoses SYN flood symptoms on the host (or the --root tree).
func Check(ctx context.Context, h *system.Host, o CheckOptions) (*check.Result, error) {
	cfg := o.Config
	for _, p := range o.Ports {
		if p < 1 || p > 65535 {
			return nil, usage.Errorf("--port %d: want a TCP port 1-65535", p)
		}
	}
	if cfg.Interval < 0 {
		return nil, usage.Errorf("--interval %s: want 0 (totals only) or a positive duration", cfg.Interval)
	}
	switch cfg.Sockets {
	case "", "auto", "netlink", "proc":
	default:
		return nil, usage.Errorf("synflood.sockets %q: want auto, netlink or proc", cfg.Sockets)
	}
	order, err := byteOrder(cfg.ProcByteOrder)
	if err != nil {
		return nil, err
	}
	if o.Probe != "" {
		if _, _, err := ParseProbeTarget(o.Probe); err != nil {
			return nil, err
		}
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.ReadKmsg == nil {
		o.ReadKmsg = ReadKmsg
	}
	var logData []byte
	if o.LogFile != "" {
		if logData, err = os.ReadFile(o.LogFile); err != nil {
			return nil, usage.Errorf("--log %s: %w", o.LogFile, err)
		}
	}

	r := &check.Result{Check: "synflood", Metrics: map[string]any{}}
	m := r.Metrics
	netns := NetNS(h)
	m["netns"] = netns

	// Counters: the previous sample is the state file's, or one taken now and again after
	// the interval.
	var prev *Sample
	if cfg.StateFile != "" {
		if prev, err = LoadState(cfg.StateFile); err != nil {
			return nil, usage.Wrap(err)
		}
	}
	cur, cerr := ReadCounters(h)
	if cerr == nil && cfg.Interval > 0 {
		if err := o.Sleep(ctx, cfg.Interval); err != nil {
			return nil, err
		}
		prev = cur
		cur, cerr = ReadCounters(h)
	}
	var rates map[string]Rate
	var window float64
	if cerr == nil {
		rates, window = Rates(prev, cur)
		if cfg.StateFile != "" {
			if err := SaveState(cfg.StateFile, cur); err != nil {
				return nil, err
			}
		}
	}

	// The socket dump is one core's worth of kernel time (100,000 request sockets: the
	// kernel walks the whole established hash); read the sysctls, the sysctl.d files and
	// the kernel log on another core meanwhile. They are independent of the sockets.
	var (
		sysctls map[string]*SysctlState
		serrs   []error
		klog    []FloodMessage
		klogErr string
	)
	sideDone := make(chan struct{})
	go func() {
		defer close(sideDone)
		sysctls, _, serrs = ReadSysctls(h)
		switch {
		case o.LogFile != "":
			klog = ParseKernelLog(logData, time.Time{}, h.Now().Year())
		case h.Live() && cfg.KernelLog:
			var kerr error
			if klog, kerr = o.ReadKmsg(h.Now()); kerr != nil {
				klogErr = kerr.Error()
			}
		}
	}()
	socks, err := ScanSockets(ctx, h, ScanOptions{Ports: o.Ports, Method: cfg.Sockets, Order: order})
	<-sideDone
	if err != nil {
		return nil, err
	}
	if len(o.Ports) > 0 {
		// The kernel log is host-wide; keep the lines about the asked ports.
		kept := klog[:0]
		for _, k := range klog {
			for _, p := range o.Ports {
				if k.Port() == p {
					kept = append(kept, k)
					break
				}
			}
		}
		klog = kept
	}
	var probe *ProbeResult
	if o.Probe != "" {
		pr, err := Probe(ctx, o.Probe, cfg.ProbeTimeout)
		if err != nil {
			return nil, err
		}
		probe = &pr
	}

	in := verdictInput{cfg: cfg, socks: socks, sysctls: sysctls, rates: rates, window: window,
		counterErr: cerr, klog: klog, klogErr: klogErr, probe: probe, ports: o.Ports, netns: netns}
	for _, e := range serrs {
		in.sysctlErrs = append(in.sysctlErrs, e.Error())
	}
	in.evaluate(r)
	return r, nil
}

type verdictInput struct {
	cfg        Config
	socks      *Sockets
	sysctls    map[string]*SysctlState
	rates      map[string]Rate
	window     float64
	counterErr error
	klog       []FloodMessage
	klogErr    string
	probe      *ProbeResult
	ports      []int
	netns      string
	sysctlErrs []string
}

func (in *verdictInput) rate(name string) (float64, bool) {
	r, ok := in.rates[name]
	if !ok || r.PerSecond == nil {
		return 0, false
	}
	return *r.PerSecond, true
}

func fmtRate(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
}

// evaluate fills r with metrics, details, findings, perfdata and samples.
func (in *verdictInput) evaluate(r *check.Result) {
	cfg := in.cfg
	cookies := in.sysctls[KeySyncookies].Int()
	somax := in.sysctls[KeySomaxconn].Int()
	maxSyn := in.sysctls[KeyMaxSynBacklog].Int()

	// Per-listener caps.
	for _, l := range in.socks.Listeners {
		if l.Orphan {
			l.SynQueueCapSource = "listener not found (closed?)"
			continue
		}
		l.SynQueueCap, l.SynQueueCapSource = SynQueueCap(l.AcceptQueueCap, l.CapKnown, somax, maxSyn, cookies)
		if l.SynQueueCap > 0 {
			l.SynQueuePercent = math.Round(float64(l.SynRecv)*1000/float64(l.SynQueueCap)) / 10
		}
	}
	addrs, nets := in.socks.TopSources(cfg.TopSources)

	m := r.Metrics
	m["sockets_source"] = in.socks.Method
	if in.socks.Fallback != "" {
		m["sockets_fallback_reason"] = in.socks.Fallback
	}
	m["syn_recv_total"] = in.socks.SynRecvTotal
	listeners := make([]map[string]any, 0, len(in.socks.Listeners))
	for _, l := range in.socks.Listeners {
		addr := "*"
		if l.Address.IsValid() {
			addr = l.Address.String()
		}
		listeners = append(listeners, map[string]any{
			"address": addr, "port": l.Port, "sockets": l.Sockets,
			"syn_recv": l.SynRecv, "syn_queue_cap": l.SynQueueCap, "syn_queue_cap_source": l.SynQueueCapSource,
			"syn_queue_percent": l.SynQueuePercent,
			"accept_queue":      l.AcceptQueue, "accept_queue_cap": l.AcceptQueueCap, "accept_queue_cap_known": l.CapKnown,
			"synack_retransmits": l.SynAckRetrans, "syn_recv_retransmitted": l.Retransmitted, "orphan": l.Orphan,
		})
	}
	m["listeners"] = listeners
	m["top_sources"] = addrs
	m["top_networks"] = nets
	m["sources_note"] = "source addresses of SYN packets are trivially spoofed: do not block or trace them on this evidence alone"
	if len(in.ports) > 0 {
		m["ports"] = in.ports
	}
	sc := map[string]any{}
	for _, k := range SysctlKeys {
		sc[k] = in.sysctls[k]
	}
	m["sysctls"] = sc
	if in.counterErr != nil {
		m["counters_error"] = in.counterErr.Error()
	} else {
		m["counters"] = in.rates
		m["interval_seconds"] = in.window
		m["rates_available"] = in.window > 0
	}
	m["kernel_log"] = in.klog
	if in.klog == nil {
		m["kernel_log"] = []FloodMessage{}
	}
	if in.klogErr != "" {
		m["kernel_log_error"] = in.klogErr
	}
	if in.probe != nil {
		m["probe"] = in.probe
	}

	in.details(r, addrs, nets)
	in.findings(r, cookies, maxSyn)
	in.perf(r)
	in.summary(r, cookies)
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
			acap = strconv.Itoa(l.AcceptQueueCap)
		}
		scap := strconv.Itoa(l.SynQueueCap)
		if !l.CapKnown && !l.Orphan {
			scap = "<=" + scap
		}
		if l.Orphan {
			scap, acap = "-", "-"
		}
		rows = append(rows, []string{l.Name(), strconv.Itoa(l.SynRecv), scap,
			strconv.FormatFloat(l.SynQueuePercent, 'f', -1, 64) + "%", strconv.Itoa(l.AcceptQueue), acap,
			strconv.Itoa(l.SynAckRetrans)})
	}
	if len(in.socks.Listeners) == 0 {
		*d = append(*d, "no listening sockets"+portsNote(in.ports))
	} else {
		*d = append(*d, table(rows)...)
	}
	*d = append(*d, fmt.Sprintf("SYN_RECV total: %d", in.socks.SynRecvTotal))
	if len(addrs) > 0 {
		parts := make([]string, len(addrs))
		for i, a := range addrs {
			parts[i] = fmt.Sprintf("%s (%d)", a.Source, a.Count)
		}
		*d = append(*d, "top sources: "+strings.Join(parts, ", "))
		parts = parts[:0]
		for _, n := range nets {
			parts = append(parts, fmt.Sprintf("%s (%d)", n.Source, n.Count))
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
			rows = append(rows, []string{n, strconv.FormatUint(rt.Total, 10), rate})
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
			r.Add(check.Critical, fmt.Sprintf("%s: SYN queue full (%d of %d) and SYN cookies are off: new connections are dropped", l.Name(), l.SynRecv, l.SynQueueCap), hintFix)
		case pct >= cfg.QueueWarnPercent && cookies == 0:
			r.Add(check.Warning, fmt.Sprintf("%s: SYN queue at %.0f%% (%d of %d) with SYN cookies off", l.Name(), pct, l.SynRecv, l.SynQueueCap), hintFix)
		case pct >= cfg.QueueWarnPercent:
			r.Add(check.Warning, fmt.Sprintf("%s: SYN queue at %.0f%% (%d of %d); past it the kernel answers with SYN cookies", l.Name(), pct, l.SynRecv, l.SynQueueCap),
				"cookies are on, so clients still connect; see the counters and top sources to tell a flood from overload")
		}
		if l.Retransmitted > 0 && l.SynRecv >= 10 && float64(l.Retransmitted) >= 0.8*float64(l.SynRecv) && pct >= cfg.QueueWarnPercent {
			r.Add(check.OK, fmt.Sprintf("%s: %d of %d half-open connections had their SYN-ACK retransmitted: the peers never answer, typical of spoofed sources", l.Name(), l.Retransmitted, l.SynRecv), "")
		}
		if l.CapKnown && l.AcceptQueueCap > 0 {
			apct := float64(l.AcceptQueue) * 100 / float64(l.AcceptQueueCap)
			switch {
			case l.AcceptQueue >= l.AcceptQueueCap:
				r.Add(check.Critical, fmt.Sprintf("%s: accept queue full (%d of %d): new connections are dropped", l.Name(), l.AcceptQueue, l.AcceptQueueCap), hintSlowAccept)
			case apct >= cfg.QueueWarnPercent:
				r.Add(check.Warning, fmt.Sprintf("%s: accept queue at %.0f%% (%d of %d)", l.Name(), apct, l.AcceptQueue, l.AcceptQueueCap), hintSlowAccept)
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
	if sc.LiveErr == "" && sc.Boot.Set && strings.TrimSpace(sc.Boot.Value) != sc.Live {
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
		r.Add(check.OK, "sysctl configuration: "+e, "")
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
	parts := []string{fmt.Sprintf("%d SYN_RECV on %d listener(s)%s", in.socks.SynRecvTotal, countReal(in.socks.Listeners), portsNote(in.ports))}
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

func countReal(ls []*Listener) int {
	n := 0
	for _, l := range ls {
		if !l.Orphan {
			n++
		}
	}
	return n
}
