package synflood

import (
	"context"
	"encoding/binary"
	"math"
	"os"
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
	// DryRun reads Config.StateFile (a user path, not under --root) but does not update it.
	DryRun bool
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
// boot values from the sysctl.d files. When a file cannot be read every boot value is
// Unknown (that file may set any key), never a guess from the others.
func ReadSysctls(h *system.Host) (map[string]*SysctlState, []SysctlFile, []error) {
	files, errs := SysctlFiles(h)
	unknown := make([]string, len(errs))
	for i, e := range errs {
		unknown[i] = e.Error()
	}
	out := map[string]*SysctlState{}
	for _, k := range SysctlKeys {
		st := &SysctlState{Key: k, Boot: BootValueOf(files, k)}
		if len(errs) > 0 {
			st.Boot = BootValue{Key: k, Settings: st.Boot.Settings, Unknown: strings.Join(unknown, "; ")}
		}
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
	return nil, usage.Errorf("synflood.proc_byte_order %q: want native, little or big", usage.Clip(name))
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
		return nil, usage.Errorf("synflood.sockets %q: want auto, netlink or proc", usage.Clip(cfg.Sockets))
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
			if mode, dir := isDir(o.LogFile); dir {
				return nil, usage.Errorf("--log %s: is a directory (%s): want a log file", o.LogFile, mode)
			}
			return nil, usage.Errorf("--log %s: %w", o.LogFile, pathReason(err))
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
		if cfg.StateFile != "" && !o.DryRun {
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
