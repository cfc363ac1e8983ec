package smtpport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Modes of add.
const (
	ModeAuto    = "auto"
	ModeXinetd  = "xinetd"
	ModePostfix = "postfix"
)

// AddOptions are add's inputs beyond the config (port, name and mode live there).
type AddOptions struct {
	Config       Config
	Unlisted     bool
	OpenFirewall bool
}

// ServiceName is the configured name, or smtp_p<port>.
func ServiceName(cfg Config) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	return fmt.Sprintf("smtp_p%d", cfg.Port)
}

// notMainPort refuses port 25 to add and remove: they manage an alternate port, and
// removing SMTP's own (smtp_psa, master.cf's smtp service, the /etc/services smtp line)
// takes the mail server off the net.
func notMainPort(cfg Config) error {
	if cfg.Port == 25 {
		return usage.Errorf("port 25 is SMTP's own port: smtpport adds and removes an alternate port (26, 587, 2525, …); pick another --port (nothing changed)")
	}
	return nil
}

func checkPortName(cfg Config) (string, error) {
	if cfg.Port < 1 || cfg.Port > 65535 {
		return "", usage.Errorf("port %d: want a number from 1 to 65535", cfg.Port)
	}
	name := ServiceName(cfg)
	if !ValidServiceName(name) {
		return "", usage.Errorf("service name %q: want one token of printable characters without whitespace, #, /, ., {, } or = (it names the /etc/services entry and the xinetd file)", usage.Clip(name))
	}
	return name, nil
}

// resolveMode picks xinetd or postfix.
func resolveMode(h *system.Host, cfg Config) (string, error) {
	x := h.Exists(cfg.XinetdSource)
	pf := postfixPresent(h, cfg)
	switch cfg.Mode {
	case ModeXinetd:
		if !x {
			return "", usage.Errorf("--mode xinetd: %s not found (set smtpport.xinetd_source to the SMTP service file to copy)", cfg.XinetdSource)
		}
		return ModeXinetd, nil
	case ModePostfix:
		if !h.Exists(path.Join(cfg.PostfixDir, "master.cf")) {
			return "", usage.Errorf("--mode postfix: %s not found (set smtpport.postfix_dir)", path.Join(cfg.PostfixDir, "master.cf"))
		}
		return ModePostfix, nil
	case ModeAuto, "":
		switch {
		case x && pf:
			return "", usage.Errorf("both %s and Postfix (%s) are here: say which serves SMTP with --mode xinetd or --mode postfix", cfg.XinetdSource, path.Join(cfg.PostfixDir, "master.cf"))
		case x:
			return ModeXinetd, nil
		case pf:
			return ModePostfix, nil
		}
		return "", usage.Errorf("no SMTP server hostfix can configure: neither %s (xinetd + qmail) nor Postfix (%s) found", cfg.XinetdSource, path.Join(cfg.PostfixDir, "master.cf"))
	}
	return "", usage.Errorf("--mode %q: want auto, xinetd or postfix", usage.Clip(cfg.Mode))
}

// state is what the host says about the port before planning.
type state struct {
	name     string
	mode     string
	services []ServiceEntry
	listen   []Listen // sockets on the port
	xfile    string   // the service file add writes (xinetd mode)
	xours    bool     // it exists and has add's marker
	mfOurs   bool     // master.cf has add's service for the port
}

func readServices(h *system.Host, file string) ([]ServiceEntry, error) {
	b, err := h.ReadFile(file)
	if err != nil {
		if system.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	s, _ := ParseServices(b)
	return s, nil
}

// refuseServices: the port assigned to another name, or the name to another port.
func refuseServices(file string, es []ServiceEntry, name string, port int) error {
	for _, e := range es {
		names := e.Names()
		has := false
		for _, n := range names {
			if n == name {
				has = true
			}
		}
		switch {
		case e.Port == port && e.Name != name && (e.Proto == "tcp" || e.Proto == "udp"):
			return usage.Errorf("port %d: %s line %d already assigns it to %s: pick another --port, or --name %s", port, file, e.Line, e.Name, e.Name)
		case has && e.Port != port:
			return usage.Errorf("service name %s: %s line %d already uses it for port %d/%s: pick another --name", name, file, e.Line, e.Port, e.Proto)
		}
	}
	return nil
}

// PlanAdd plans adding the alternate SMTP port.
func PlanAdd(ctx context.Context, h *system.Host, o AddOptions) (*plan.Plan, error) {
	cfg := o.Config
	name, err := checkPortName(cfg)
	if err != nil {
		return nil, err
	}
	if err := notMainPort(cfg); err != nil {
		return nil, err
	}
	mode, err := resolveMode(h, cfg)
	if err != nil {
		return nil, err
	}
	st := &state{name: name, mode: mode}
	if st.services, err = readServices(h, cfg.ServicesFile); err != nil {
		return nil, fmt.Errorf("read %s: %w", cfg.ServicesFile, err)
	}
	if err := refuseServices(cfg.ServicesFile, st.services, name, cfg.Port); err != nil {
		return nil, err
	}
	p := plan.New("smtpport add")
	if ls, err := Listeners(h); err == nil {
		st.listen = ListenersOn(ls, cfg.Port)
	} else {
		p.Note(fmt.Sprintf("listening sockets not read (%v): cannot tell whether something already listens on port %d", err, cfg.Port))
	}

	var hosts []string
	switch mode {
	case ModeXinetd:
		hosts, err = planXinetd(h, p, cfg, o, st)
	case ModePostfix:
		hosts, err = planPostfix(ctx, h, p, cfg, st)
	}
	if err != nil {
		return nil, err
	}
	if err := planFirewall(ctx, h, p, cfg, o.OpenFirewall); err != nil {
		return nil, err
	}
	if p.Empty() {
		return p, nil
	}
	addVerify(h, p, cfg, mode, hosts, true)
	return p, nil
}

// refuseListener: something that is not the service add manages listens on the port.
// owners are the process names that hold the server's listening sockets (xinetd; Postfix's
// master and the smtpd processes that inherit them).
func refuseListener(st *state, owners ...string) error {
	for _, l := range st.listen {
		if st.xours || st.mfOurs {
			ok := l.Comm == ""
			for _, o := range owners {
				ok = ok || l.Comm == o
			}
			if ok {
				continue
			}
		}
		return usage.Errorf("port %d: already in use by %s: pick another --port", int(l.Addr.Port()), l.String())
	}
	return nil
}

// planXinetd returns the addresses the banner is checked on.
func planXinetd(h *system.Host, p *plan.Plan, cfg Config, o AddOptions, st *state) (hosts []string, err error) {
	src, err := h.ReadFile(cfg.XinetdSource)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", cfg.XinetdSource, err)
	}
	xf, err := ParseXinetd(src)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = cfg.XinetdSource
		}
		return nil, usage.Errorf("%w: fix it first (xinetd would not load it either)", err)
	}
	svc := pickXinetdService(xf)
	if svc == nil {
		return nil, usage.Errorf("%s: no SMTP service in it (want `service smtp` or one running qmail-smtpd)", cfg.XinetdSource)
	}
	st.xfile = path.Join(cfg.XinetdDir, st.name)
	if b, err := h.ReadFile(st.xfile); err == nil {
		if !HasXinetdMarker(b) {
			return nil, usage.Errorf("%s already exists and was not written by hostfix: move it away or pick another --name", st.xfile)
		}
		st.xours = true
	}
	if err := refuseListener(st, "xinetd"); err != nil {
		return nil, err
	}
	conf, _ := FindConfigured(h, cfg, cfg.Port)
	for _, c := range conf {
		if c.Kind == ModeXinetd && c.File != st.xfile {
			return nil, usage.Errorf("port %d: already configured in %s line %d (xinetd service %s, not written by hostfix): use it, or remove it first (hostfix smtpport remove --port %d --force)", cfg.Port, c.File, c.Line, c.Service, cfg.Port)
		}
	}
	if err := refuseXinetdIDs(h, cfg, st); err != nil {
		return nil, err
	}
	if _, inc := XinetdFiles(h, cfg); !inc {
		p.Note(fmt.Sprintf("%s has no includedir %s: xinetd will not read the new service file until it does", cfg.XinetdConf, cfg.XinetdDir))
	}
	unlisted := o.Unlisted || svc.HasFlag("type", "UNLISTED")
	content := RenderXinetdCopy(xf, svc, cfg.XinetdSource, st.name, cfg.Port, unlisted)
	if _, err := ParseXinetd(content); err != nil {
		return nil, fmt.Errorf("internal error: the rendered %s does not parse: %w", st.xfile, err)
	}
	e, err := plan.EditFile(h, st.xfile, func([]byte, bool) ([]byte, error) { return content, nil }, plan.EditOptions{
		Mode: 0o644, Notify: []string{"reload-xinetd"},
		Detail: fmt.Sprintf("xinetd service %s on port %d, copied from %s", st.name, cfg.Port, cfg.XinetdSource),
	})
	if err != nil {
		return nil, err
	}
	p.Add(e)
	if !unlisted {
		e, err := plan.EditFile(h, cfg.ServicesFile, func(old []byte, _ bool) ([]byte, error) {
			return EditServices(old, st.name, cfg.Port), nil
		}, plan.EditOptions{Mode: 0o644, Notify: []string{"reload-xinetd"},
			Detail: fmt.Sprintf("name port %d %s for xinetd", cfg.Port, st.name)})
		if err != nil {
			return nil, err
		}
		p.Add(e)
	}
	handle(p, "reload-xinetd", xinetdReload(h, cfg), "reload xinetd (SIGHUP: re-read its configuration)")
	return verifyHosts(svc.Value("bind"), svc.HasFlag("flags", "IPv6")), nil
}

// refuseXinetdIDs: another file xinetd reads already has a service with the new id.
func refuseXinetdIDs(h *system.Host, cfg Config, st *state) error {
	files, _ := XinetdFiles(h, cfg)
	for _, f := range files {
		if f == st.xfile {
			continue
		}
		b, err := h.ReadFile(f)
		if err != nil {
			continue
		}
		xf, err := ParseXinetd(b)
		if err != nil {
			continue
		}
		if s := xf.Service(st.name); s != nil {
			return usage.Errorf("service id %s: already defined in %s line %d (xinetd ids must be unique): pick another --name", st.name, f, s.Line)
		}
	}
	return nil
}

// xinetdReload: configured, else systemd's unit, the init script, or HUP to the pid file.
func xinetdReload(h *system.Host, cfg Config) argv {
	return pick(keyXinetdReload, cfg.XinetdReloadCommand, func() []string {
		if h.Exists("/run/systemd/system") {
			for _, u := range []string{"/etc/systemd/system/xinetd.service", "/lib/systemd/system/xinetd.service", "/usr/lib/systemd/system/xinetd.service"} {
				if h.Exists(u) {
					return []string{"systemctl", "reload", "xinetd"}
				}
			}
		}
		if h.Exists("/etc/init.d/xinetd") {
			return []string{"/etc/init.d/xinetd", "reload"}
		}
		for _, pf := range []string{"/var/run/xinetd.pid", "/run/xinetd.pid"} {
			if b, err := h.ReadFile(pf); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
					return []string{"kill", "-HUP", strconv.Itoa(pid)}
				}
			}
		}
		return nil
	})
}

func postfixReload(h *system.Host, cfg Config) argv {
	return pick(keyPostfixReload, cfg.PostfixReloadCommand, func() []string {
		if m := "/usr/local/psa/admin/sbin/mailmng"; h.Exists(m) {
			return []string{m, "--reload-service"}
		}
		for _, p := range []string{"/usr/sbin/postfix", "/usr/local/sbin/postfix"} {
			if h.Exists(p) {
				return []string{p, "reload"}
			}
		}
		return nil
	})
}

func planPostfix(ctx context.Context, h *system.Host, p *plan.Plan, cfg Config, st *state) ([]string, error) {
	mc := path.Join(cfg.PostfixDir, "master.cf")
	old, err := h.ReadFile(mc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", mc, err)
	}
	entries, err := ParseMasterCF(old)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.File = mc
		}
		return nil, usage.Errorf("%w: fix it first (postfix would not load it either)", err)
	}
	if SMTPInet(entries) == nil {
		return nil, usage.Errorf("%s: no smtp inet service to copy", mc)
	}
	ours, foreign := masterForPort(splitLines(old), entries, cfg.Port)
	if len(foreign) > 0 {
		return nil, usage.Errorf("port %d: %s line %d already defines it (not written by hostfix): nothing to add", cfg.Port, mc, foreign[0].Line)
	}
	st.mfOurs = len(ours) > 0
	if err := refuseListener(st, "master", "smtpd", "postscreen"); err != nil {
		return nil, err
	}
	newData, err := EditMasterCF(old, cfg.Port)
	if err != nil {
		return nil, usage.Errorf("%s: %w", mc, err)
	}
	if err := validateMaster(ctx, h, cfg, mc, newData); err != nil {
		return nil, err
	}
	e, err := plan.EditFile(h, mc, func([]byte, bool) ([]byte, error) { return newData, nil }, plan.EditOptions{
		Notify: []string{"reload-postfix"},
		Detail: fmt.Sprintf("smtpd on port %d with the smtp inet service's options", cfg.Port),
	})
	if err != nil {
		return nil, err
	}
	p.Add(e)
	handle(p, "reload-postfix", postfixReload(h, cfg), "reload postfix")
	hosts := verifyHosts(SMTPInet(entries).Host(), false)
	if st.mfOurs && e == nil {
		return hosts, nil
	}
	if pc := postconfArgv(h, cfg); len(pc.Args) > 0 {
		p.Note(fmt.Sprintf("the edited master.cf was parsed by %s", system.FormatArgv(append(pc.Args, "-c", "DIR", "-M"))))
	} else {
		p.Note("postconf not found: the edited master.cf was checked with hostfix's own parser")
	}
	return hosts, nil
}

func postconfArgv(h *system.Host, cfg Config) argv {
	return pick(keyPostconf, cfg.PostconfCommand, func() []string {
		if h.Live() && h.Exists("/usr/sbin/postconf") {
			return []string{"/usr/sbin/postconf"}
		}
		return nil
	})
}

// validateMaster parses the edited master.cf with hostfix's parser and, when postconf is
// available, with `postconf -c TMPDIR -M` on a scratch copy (an empty main.cf beside it, so
// only master.cf is judged). Postfix reads nothing else from the scratch directory.
func validateMaster(ctx context.Context, h *system.Host, cfg Config, mc string, data []byte) error {
	if _, err := ParseMasterCF(data); err != nil {
		return fmt.Errorf("internal error: the edited %s does not parse: %w", mc, err)
	}
	pc := postconfArgv(h, cfg)
	if len(pc.Args) == 0 {
		return nil
	}
	// Postfix reads nothing else from the scratch directory; main.cf is empty so that only
	// master.cf is judged.
	dir, cleanup, err := system.Scratch("hostfix-smtpport-postconf-", map[string][]byte{"main.cf": nil, "master.cf": data})
	if err != nil {
		return err
	}
	defer cleanup()
	args := append(append([]string{}, pc.Args...), "-c", dir, "-M")
	if _, err := h.Runner.Run(ctx, system.Cmd{Argv: args}); err != nil {
		var ee *system.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(string(ee.Result.Stderr))
			msg = strings.ReplaceAll(msg, filepath.Join(dir, "master.cf"), mc+" (edited)")
			return usage.Errorf("postconf rejects the edited %s, nothing changed: %s", mc, firstLine(msg))
		}
		return fmt.Errorf("run postconf (%s) to check %s: %w", pc.Key, mc, err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// verifyHosts: the address a service binds (xinetd bind, a master.cf host), else loopback,
// IPv4 and, when the service listens on IPv6 too, ::1.
func verifyHosts(bind string, ipv6 bool) []string {
	bind = strings.Trim(bind, "[]")
	if ip := net.ParseIP(bind); ip != nil && !ip.IsUnspecified() {
		return []string{ip.String()}
	}
	if ipv6 || bind == "::" {
		return []string{"127.0.0.1", "::1"}
	}
	return []string{"127.0.0.1"}
}

// addVerify registers the banner check (add: want 220; remove: want none), or says why not.
func addVerify(h *system.Host, p *plan.Plan, cfg Config, mode string, hosts []string, want bool) {
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	var addrs []string
	for _, hst := range hosts {
		addrs = append(addrs, net.JoinHostPort(hst, strconv.Itoa(cfg.Port)))
	}
	what := "a 220 banner on " + strings.Join(addrs, " and ")
	if !want {
		what = "no SMTP banner any more on " + strings.Join(addrs, " and ")
	}
	if !h.Live() {
		p.Note("verify skipped under --root: on the live host hostfix requires " + what + " and rolls back otherwise")
		return
	}
	p.Verify(what+fmt.Sprintf(" within %s", cfg.VerifyWait), func(ctx context.Context, _ *plan.Run) error {
		for _, a := range addrs {
			if err := waitBanner(ctx, a, cfg, want); err != nil {
				return fmt.Errorf("%w%s", err, logTail(h, cfg, mode))
			}
		}
		return nil
	})
}

// waitBanner retries until the banner is (or is no longer) there or VerifyWait passes:
// a reload is asynchronous, so the first connection may be refused (or still answered).
func waitBanner(ctx context.Context, addr string, cfg Config, want bool) error {
	deadline := time.Now().Add(cfg.VerifyWait)
	for {
		line, err := ProbeBanner(ctx, addr, cfg.VerifyTimeout)
		if want && err == nil {
			return nil
		}
		if !want && err != nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if want {
				return err
			}
			return fmt.Errorf("%s still answers %q", addr, line)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
