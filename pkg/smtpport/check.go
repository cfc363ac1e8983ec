package smtpport

import (
	"context"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
)

// CheckOptions are the check's inputs.
type CheckOptions struct {
	Config Config
}

// Configured is where the port is set up.
type Configured struct {
	Kind    string `json:"kind"` // xinetd or postfix
	File    string `json:"file"`
	Line    int    `json:"line"`
	Service string `json:"service"`
	// Disabled: an xinetd service with disable = yes (xinetd does not listen for it).
	Disabled  bool `json:"disabled,omitempty"`
	ByHostfix bool `json:"by_hostfix"`
}

// Where is file:line.
func (c Configured) Where() string { return fmt.Sprintf("%s:%d", c.File, c.Line) }

// BannerResult is one banner probe.
type BannerResult struct {
	Address string  `json:"address"`
	Banner  string  `json:"banner"`
	OK      bool    `json:"ok"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// FindConfigured lists where the host configures the port: xinetd services (port
// attribute, or their name through /etc/services) in the files includedir reads, and
// Postfix master.cf inet services. Files that do not parse are returned as errors.
func FindConfigured(h *system.Host, cfg Config, port int) ([]Configured, []error) {
	var out []Configured
	var errs []error
	services, _ := readServices(h, cfg.ServicesFile)
	portOf := func(name, proto string) int {
		for _, e := range services {
			if e.Proto != proto {
				continue
			}
			for _, n := range e.Names() {
				if n == name {
					return e.Port
				}
			}
		}
		return 0
	}
	xfiles, _ := XinetdFiles(h, cfg)
	for _, f := range xfiles {
		b, err := h.ReadFile(f)
		if err != nil {
			continue
		}
		xf, err := ParseXinetd(b)
		if err != nil {
			if pe, ok := err.(*ParseError); ok {
				pe.File = f
			}
			errs = append(errs, err)
			continue
		}
		for _, s := range xf.Services {
			proto := s.Value("protocol")
			if proto == "" {
				proto = "tcp"
			}
			if proto != "tcp" {
				continue
			}
			sp := 0
			if v := s.Value("port"); v != "" {
				sp, _ = strconv.Atoi(v)
			} else {
				sp = portOf(s.Name, "tcp")
			}
			if sp != port {
				continue
			}
			out = append(out, Configured{
				Kind: ModeXinetd, File: f, Line: s.Line, Service: s.ID(),
				Disabled:  strings.EqualFold(s.Value("disable"), "yes"),
				ByHostfix: HasXinetdMarker(b),
			})
		}
	}
	mc := path.Join(cfg.PostfixDir, "master.cf")
	if b, err := h.ReadFile(mc); err == nil {
		entries, err := ParseMasterCF(b)
		if err != nil {
			if pe, ok := err.(*ParseError); ok {
				pe.File = mc
			}
			errs = append(errs, err)
		}
		lines := splitLines(b)
		for _, e := range entries {
			if e.Type != "inet" {
				continue
			}
			sp, err := strconv.Atoi(e.Port())
			if err != nil {
				sp = portOf(e.Port(), "tcp")
			}
			if sp == port {
				out = append(out, Configured{Kind: ModePostfix, File: mc, Line: e.Line, Service: e.Service + " " + e.Command,
					ByHostfix: markerAbove(lines, e.Line, masterMarker(port))})
			}
		}
	}
	return out, errs
}

// Check reports the host's SMTP server, and the alternate port's configuration, listener,
// banner and firewall.
func Check(ctx context.Context, h *system.Host, o CheckOptions) (*check.Result, error) {
	cfg := o.Config
	if _, err := checkPortName(cfg); err != nil {
		return nil, err
	}
	port := cfg.Port
	r := &check.Result{Check: "smtpport", Metrics: map[string]any{}}
	all, lerr := Listeners(h)
	srv := DetectServer(h, cfg, all)
	conf, perrs := FindConfigured(h, cfg, port)
	for _, e := range perrs {
		r.Add(check.Warning, "does not parse: "+e.Error(), "the server skips or refuses this file: fix it")
	}
	listen := ListenersOn(all, port)
	fws := DetectFirewalls(ctx, h, cfg, port)

	m := r.Metrics
	m["port"] = port
	m["server"] = srv.Kind
	m["port25_process"] = srv.Port25
	m["plesk_version"] = srv.PleskVersion
	m["configured"] = len(conf) > 0
	if conf == nil {
		conf = []Configured{}
	}
	m["configured_in"] = conf
	ls := []map[string]any{}
	for _, l := range listen {
		ls = append(ls, map[string]any{"address": l.Addr.Addr().String(), "port": l.Addr.Port(), "pid": l.PID, "process": l.Comm})
	}
	m["listening"] = len(listen) > 0
	m["listeners"] = ls
	if fws == nil {
		fws = []Firewall{}
	}
	m["firewalls"] = fws
	d := []string{fmt.Sprintf("server:     %s", serverLine(srv))}
	if srv.PleskVersion != "" {
		d = append(d, "plesk:      "+srv.PleskVersion)
	}
	for _, c := range conf {
		s := fmt.Sprintf("configured: %s (%s service %s)", c.Where(), c.Kind, c.Service)
		if c.ByHostfix {
			s += ", by hostfix"
		}
		if c.Disabled {
			s += ", disabled"
		}
		d = append(d, s)
	}
	if len(conf) == 0 {
		d = append(d, "configured: no")
	}
	switch {
	case lerr != nil:
		d = append(d, "listening:  unknown ("+lerr.Error()+")")
		r.Add(check.Unknown, fmt.Sprintf("cannot read the listening sockets: %v", lerr), "")
	case len(listen) == 0:
		d = append(d, "listening:  no")
	default:
		for _, l := range listen {
			d = append(d, "listening:  "+l.String())
		}
	}

	// Banner: a live probe of loopback, v4 and v6 as the listeners bind.
	var banners []BannerResult
	answering := false
	if h.Live() && len(listen) > 0 {
		for _, a := range probeAddrs(listen, port) {
			t0 := time.Now()
			line, err := ProbeBanner(ctx, a, cfg.VerifyTimeout)
			b := BannerResult{Address: a, Banner: line, OK: err == nil, Seconds: time.Since(t0).Seconds()}
			if err != nil {
				b.Error = err.Error()
			} else {
				answering = true
			}
			banners = append(banners, b)
			r.Perfdata = append(r.Perfdata, check.Perf{Label: "banner_" + a, Value: b.Seconds, UOM: "s", Min: "0"})
		}
	}
	if banners == nil {
		banners = []BannerResult{}
	}
	m["banners"] = banners
	m["answering"] = answering
	for _, b := range banners {
		if b.OK {
			d = append(d, fmt.Sprintf("banner:     %s %q", b.Address, b.Banner))
		} else {
			d = append(d, fmt.Sprintf("banner:     %s none (%s)", b.Address, b.Error))
		}
	}
	if !h.Live() {
		d = append(d, "banner:     not probed under --root")
	}
	blocked := []string{}
	for _, f := range fws {
		s := fmt.Sprintf("firewall:   %s: %s (%s", f.Name, allowWord(f.Allowed), f.Source)
		if f.Detail != "" {
			s += "; " + f.Detail
		}
		d = append(d, s+")")
		if f.Allowed == AllowNo {
			blocked = append(blocked, f.Name)
		}
	}
	if len(fws) == 0 {
		d = append(d, "firewall:   none found")
	}
	r.Details = d

	// Verdict.
	configured := len(conf) > 0
	enabled := false
	for _, c := range conf {
		if !c.Disabled {
			enabled = true
		}
	}
	switch {
	case configured && !enabled:
		r.Add(check.Warning, fmt.Sprintf("port %d is configured in %s but the service is disabled", port, conf[0].Where()), "set disable = no and reload xinetd")
	case configured && h.Live() && lerr == nil && len(listen) == 0:
		r.Add(check.Critical, fmt.Sprintf("port %d is configured (%s) but nothing listens on it", port, conf[0].Where()), reloadHint(conf[0].Kind))
	case configured && h.Live() && len(listen) > 0 && !answering:
		r.Add(check.Critical, fmt.Sprintf("port %d is configured (%s) but does not answer with a 220 banner", port, conf[0].Where()), "look at the mail log: the SMTP program behind it fails")
	}
	if configured && len(blocked) > 0 {
		r.Add(check.Warning, fmt.Sprintf("the firewall (%s) blocks port %d", strings.Join(blocked, ", "), port), fmt.Sprintf("hostfix smtpport add --port %d --open-firewall, or allow it by hand", port))
	}
	if !configured && len(listen) > 0 {
		r.Add(check.OK, fmt.Sprintf("port %d is not in the xinetd or Postfix configuration but %s listens on it", port, listen[0].String()), "")
	}

	// Summary and samples.
	var parts []string
	switch {
	case !configured:
		parts = append(parts, fmt.Sprintf("port %d not configured", port))
	case answering:
		parts = append(parts, fmt.Sprintf("port %d answers %q", port, firstOK(banners)))
	case !h.Live():
		parts = append(parts, fmt.Sprintf("port %d configured in %s", port, conf[0].Where()))
	default:
		parts = append(parts, fmt.Sprintf("port %d configured but not answering", port))
	}
	parts = append(parts, "server "+srv.Kind)
	if len(blocked) > 0 {
		parts = append(parts, "blocked by "+strings.Join(blocked, ", "))
	}
	r.Summary = strings.Join(parts, ", ")
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	lbl := map[string]string{"port": strconv.Itoa(port)}
	r.Instance = lbl
	r.Samples = []check.Sample{
		{Name: "hostfix_smtpport_configured", Help: "1 when the port is in the xinetd or Postfix configuration", Type: "gauge", Labels: lbl, Value: b2f(configured)},
		{Name: "hostfix_smtpport_listening", Help: "1 when something listens on the port", Type: "gauge", Labels: lbl, Value: b2f(len(listen) > 0)},
		{Name: "hostfix_smtpport_answering", Help: "1 when the port answered a 220 banner", Type: "gauge", Labels: lbl, Value: b2f(answering)},
		{Name: "hostfix_smtpport_firewall_blocked", Help: "1 when a firewall blocks the port", Type: "gauge", Labels: lbl, Value: b2f(len(blocked) > 0)},
	}
	r.Perfdata = append([]check.Perf{
		{Label: "configured", Value: b2f(configured), Min: "0", Max: "1"},
		{Label: "listening", Value: b2f(len(listen) > 0), Min: "0", Max: "1"},
		{Label: "answering", Value: b2f(answering), Min: "0", Max: "1"},
	}, r.Perfdata...)
	return r, nil
}

func serverLine(s Server) string {
	out := s.Kind
	switch s.Kind {
	case MTAXinetd:
		out = "xinetd + qmail (smtp_psa)"
	case MTAPostfix:
		out = "postfix"
	}
	if s.Port25 != "" {
		out += ", port 25: " + s.Port25
	}
	return out
}

func allowWord(a string) string {
	switch a {
	case AllowYes:
		return "allows it"
	case AllowNo:
		return "BLOCKS it"
	}
	return "unknown"
}

func reloadHint(kind string) string {
	if kind == ModePostfix {
		return "postfix reload, then look at the mail log"
	}
	return "reload xinetd (kill -HUP its pid), then look at its log"
}

func firstOK(bs []BannerResult) string {
	for _, b := range bs {
		if b.OK {
			return b.Banner
		}
	}
	return ""
}

// probeAddrs: 127.0.0.1 when an IPv4 (or dual-stack any) socket listens, ::1 for IPv6.
func probeAddrs(ls []Listen, port int) []string {
	v4, v6 := false, false
	for _, l := range ls {
		a := l.Addr.Addr()
		switch {
		case a.Is4() && (a.IsUnspecified() || a.IsLoopback()):
			v4 = true
		case a.Is4In6() || (a.Is6() && a.IsUnspecified()):
			v4, v6 = true, true
		case a.Is6() && a.IsLoopback():
			v6 = true
		}
	}
	var out []string
	if v4 {
		out = append(out, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	if v6 {
		out = append(out, net.JoinHostPort("::1", strconv.Itoa(port)))
	}
	if len(out) == 0 && len(ls) > 0 {
		out = append(out, net.JoinHostPort(ls[0].Addr.Addr().String(), strconv.Itoa(port)))
	}
	return out
}
