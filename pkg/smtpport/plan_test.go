package smtpport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

const procHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// fixture writes a --root tree: files maps host paths to content ("->target" makes a symlink).
func fixture(t *testing.T, files map[string]string) *system.Host {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "->") {
			if err := os.Symlink(c[2:], full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := system.NewHost(root, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func qmailHost(t *testing.T, extra map[string]string) *system.Host {
	files := map[string]string{
		"/etc/xinetd.d/smtp_psa": string(sample(t, "smtp_psa")),
		"/etc/services":          string(sample(t, "services")),
		"/proc/net/tcp":          procHeader,
	}
	for k, v := range extra {
		files[k] = v
	}
	return fixture(t, files)
}

func postfixHost(t *testing.T, master string, extra map[string]string) *system.Host {
	files := map[string]string{
		"/etc/postfix/master.cf": master,
		"/etc/postfix/main.cf":   "",
		"/usr/sbin/postfix":      "",
		"/etc/services":          string(sample(t, "services")),
		"/proc/net/tcp":          procHeader,
	}
	for k, v := range extra {
		files[k] = v
	}
	return fixture(t, files)
}

// cfgWith is the default config with every reload command set (the Recorder runner
// records them): under --root the plan layer runs no detected command.
func cfgWith(f func(*Config)) Config {
	c := DefaultConfig()
	c.XinetdReloadCommand = []string{"reload", "xinetd"}
	c.PostfixReloadCommand = []string{"reload", "postfix"}
	c.CsfReloadCommand = []string{"reload", "csf"}
	c.ApfReloadCommand = []string{"reload", "apf"}
	if f != nil {
		f(&c)
	}
	return c
}

func applyPlan(t *testing.T, h *system.Host, p *plan.Plan) {
	t.Helper()
	if _, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig()}); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func read(t *testing.T, h *system.Host, p string) string {
	t.Helper()
	b, err := h.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAddXinetdIdempotentAndRemove(t *testing.T) {
	h := qmailHost(t, nil)
	ctx := context.Background()
	before := read(t, h, "/etc/services")
	p, err := PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 2 || len(p.Handlers) != 1 || p.Handlers[0].Command.Detected || len(p.Verifies) != 0 {
		t.Fatalf("plan: %d actions, %d handlers", len(p.Actions), len(p.Handlers))
	}
	applyPlan(t, h, p)
	got := read(t, h, "/etc/xinetd.d/smtp_p26")
	want := xinetdMarker(26, "/etc/xinetd.d/smtp_psa") + "\n" + strings.Replace(string(sample(t, "smtp_psa")), "service smtp\n", "service smtp_p26\n", 1)
	if got != want {
		t.Fatalf("service file:\n%s\nwant:\n%s", got, want)
	}
	svc := read(t, h, "/etc/services")
	if !strings.HasPrefix(svc, before) || !strings.Contains(svc, "smtp_p26        26/tcp\tmail") || !strings.Contains(svc, "smtp_p26        26/udp\tmail") {
		t.Fatalf("services tail: %q", svc[len(before)-20:])
	}
	// The copy is found by check through /etc/services.
	conf, errs := FindConfigured(h, cfgWith(nil), 26)
	if len(errs) != 0 || len(conf) != 1 || conf[0].File != "/etc/xinetd.d/smtp_p26" || !conf[0].ByHostfix {
		t.Fatalf("configured %+v %v", conf, errs)
	}

	p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Fatalf("second add not empty: %+v", p.Actions[0].Describe())
	}

	p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	if h.Exists("/etc/xinetd.d/smtp_p26") {
		t.Fatal("service file still there")
	}
	if read(t, h, "/etc/services") != before {
		t.Fatal("/etc/services not back as it was")
	}
	p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
	if err != nil || !p.Empty() {
		t.Fatalf("second remove: %v %v", p, err)
	}
}

func TestAddXinetdUnlisted(t *testing.T) {
	h := qmailHost(t, nil)
	ctx := context.Background()
	before := read(t, h, "/etc/services")
	p, err := PlanAdd(ctx, h, AddOptions{Config: cfgWith(func(c *Config) { c.Port = 2626; c.Name = "smtp_alt" }), Unlisted: true})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	xf, err := ParseXinetd([]byte(read(t, h, "/etc/xinetd.d/smtp_alt")))
	if err != nil {
		t.Fatal(err)
	}
	s := xf.Services[0]
	if s.Name != "smtp_alt" || s.Value("type") != "UNLISTED" || s.Value("port") != "2626" || s.Value("protocol") != "tcp" ||
		s.Value("server_args") != pickXinetdService(mustXinetd(t, sample(t, "smtp_psa"))).Value("server_args") || s.Value("env") != "SMTPAUTH=1" {
		t.Fatalf("unlisted copy: %+v", s)
	}
	if read(t, h, "/etc/services") != before {
		t.Fatal("--unlisted changed /etc/services")
	}
	conf, _ := FindConfigured(h, cfgWith(nil), 2626)
	if len(conf) != 1 {
		t.Fatalf("configured %+v", conf)
	}
	p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(func(c *Config) { c.Port = 2626; c.Name = "smtp_alt" }), Unlisted: true})
	if err != nil || !p.Empty() {
		t.Fatalf("second add: %v", err)
	}
	// remove has only the file to take away: that alone must reload xinetd.
	rec := h.Runner.(*system.Recorder)
	rec.Calls = nil
	p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(func(c *Config) { c.Port = 2626; c.Name = "smtp_alt" })})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	if got := strings.Join(rec.Commands(), "|"); got != "reload xinetd" || h.Exists("/etc/xinetd.d/smtp_alt") {
		t.Fatalf("remove ran %q", got)
	}
}

func mustXinetd(t *testing.T, b []byte) *XinetdFile {
	f, err := ParseXinetd(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRenderXinetdCopyIDAndPort(t *testing.T) {
	src := mustXinetd(t, []byte("service smtp {\n\tid = smtp\n\tport = 25\n\tport += 99\n\tflags = IPv6\n}\n"))
	out := string(RenderXinetdCopy(src, src.Services[0], "/s", "smtp_p26", 26, false))
	want := xinetdMarker(26, "/s") + "\nservice smtp_p26 {\n\tid = smtp_p26\n\tport = 26\n\tflags = IPv6\n}\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestAddRefusals(t *testing.T) {
	ctx := context.Background()
	listen26 := procHeader + "   0: 00000000:001A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
	tests := []struct {
		name string
		h    func(t *testing.T) *system.Host
		cfg  func(*Config)
		o    AddOptions
		err  string
	}{
		{"port zero", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Port = 0 }, AddOptions{}, "port 0: want a number from 1 to 65535"},
		{"port too big", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Port = 65536 }, AddOptions{}, "port 65536"},
		{"port of another service", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Port = 587 }, AddOptions{}, "port 587: /etc/services line"},
		{"name used for another port", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Name = "submission" }, AddOptions{}, "service name submission: /etc/services line"},
		{"bad name", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Name = "smtp p26" }, AddOptions{}, `service name "smtp p26"`},
		{"huge name", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Name = strings.Repeat("x y", 200) }, AddOptions{}, `service name "` + usage.Clip(strings.Repeat("x y", 200)) + `"`},
		{"dotted name", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Name = "smtp.p26" }, AddOptions{}, `service name "smtp.p26"`},
		{"something listens", func(t *testing.T) *system.Host {
			return qmailHost(t, map[string]string{"/proc/net/tcp": listen26, "/proc/77/comm": "exim4\n", "/proc/77/fd/3": "->socket:[4242]"})
		}, nil, AddOptions{}, "port 26: already in use by 0.0.0.0:26 exim4[77]"},
		{"smtp_psa does not parse", func(t *testing.T) *system.Host {
			return qmailHost(t, map[string]string{"/etc/xinetd.d/smtp_psa": "service smtp\n{\n server = /x\n"})
		}, nil, AddOptions{}, "/etc/xinetd.d/smtp_psa: line 1: service smtp: missing }"},
		{"master.cf does not parse", func(t *testing.T) *system.Host {
			return postfixHost(t, "smtp inet n - y - - smtpd\nbroken\n", nil)
		}, nil, AddOptions{}, "/etc/postfix/master.cf: line 2: bad field count"},
		{"both modes", func(t *testing.T) *system.Host {
			return postfixHost(t, string(sample(t, "master.cf.dist")), map[string]string{"/etc/xinetd.d/smtp_psa": string(sample(t, "smtp_psa"))})
		}, nil, AddOptions{}, "say which serves SMTP with --mode"},
		{"neither", func(t *testing.T) *system.Host { return fixture(t, map[string]string{"/proc/net/tcp": procHeader}) }, nil, AddOptions{}, "no SMTP server hostfix can configure"},
		{"huge mode", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Mode = strings.Repeat("m", 300) }, AddOptions{}, `--mode "` + usage.Clip(strings.Repeat("m", 300)) + `"`},
		{"bad mode", func(t *testing.T) *system.Host { return qmailHost(t, nil) }, func(c *Config) { c.Mode = "sendmail" }, AddOptions{}, `--mode "sendmail"`},
		{"foreign file in the way", func(t *testing.T) *system.Host {
			return qmailHost(t, map[string]string{"/etc/xinetd.d/smtp_p26": "service smtp_p26\n{\n}\n"})
		}, nil, AddOptions{}, "/etc/xinetd.d/smtp_p26 already exists and was not written by hostfix"},
		{"duplicate xinetd id", func(t *testing.T) *system.Host {
			return qmailHost(t, map[string]string{"/etc/xinetd.d/other": "service other\n{\n id = smtp_p26\n}\n"})
		}, nil, AddOptions{}, "service id smtp_p26: already defined in /etc/xinetd.d/other line 1"},
		{"master.cf already has the port", func(t *testing.T) *system.Host {
			return postfixHost(t, string(sample(t, "master.cf.dist"))+"26 inet n - y - - smtpd\n", nil)
		}, nil, AddOptions{}, "port 26: /etc/postfix/master.cf line"},
		{"nftables blocks, --open-firewall", func(t *testing.T) *system.Host {
			return qmailHost(t, map[string]string{"/etc/nftables.conf": "table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  tcp dport { 22, 25 } accept\n }\n}\n"})
		}, nil, AddOptions{OpenFirewall: true}, "hostfix does not edit raw nftables rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h(t)
			o := tt.o
			o.Config = cfgWith(tt.cfg)
			_, err := PlanAdd(ctx, h, o)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if !usage.Is(err) {
				t.Fatalf("not a usage error (exit 2): %v", err)
			}
		})
	}
}

func TestAddPostfix(t *testing.T) {
	ctx := context.Background()
	h := postfixHost(t, string(sample(t, "master.cf.plesk")), map[string]string{"/usr/local/psa/admin/sbin/mailmng": ""})
	p, err := PlanAdd(ctx, h, AddOptions{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	if hd := p.Handlers; len(hd) != 1 || strings.Join(hd[0].Command.Args, " ") != "/usr/local/psa/admin/sbin/mailmng --reload-service" || !hd[0].Command.Detected {
		t.Fatalf("handlers %+v", p.Handlers)
	}
	// Under --root a detected reload is not run: the plan is refused before any change.
	if _, err := plan.Apply(ctx, p, plan.Options{Host: h, Config: plan.DefaultConfig()}); err == nil || !strings.Contains(err.Error(), "set smtpport.postfix_reload_command") {
		t.Fatalf("apply with a detected reload under --root: %v", err)
	}
	if p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil)}); err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	got := read(t, h, "/etc/postfix/master.cf")
	want := masterMarker(26) + "\n26        inet  n       -       n       -       -       smtpd\n  -o smtpd_proxy_filter=127.0.0.1:10025\n"
	i := strings.Index(got, " -o smtpd_proxy_filter=127.0.0.1:10025\n")
	if i < 0 || !strings.HasPrefix(got[i+len(" -o smtpd_proxy_filter=127.0.0.1:10025\n"):], want) {
		t.Fatalf("master.cf:\n%s", got)
	}
	es, err := ParseMasterCF([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if e := FindMaster(es, "26", "inet"); e == nil || e.Options()[0] != "smtpd_proxy_filter=127.0.0.1:10025" {
		t.Fatalf("new entry %+v", e)
	}
	p, err = PlanAdd(ctx, h, AddOptions{Config: cfgWith(nil)})
	if err != nil || !p.Empty() {
		t.Fatalf("second add: %v", err)
	}
	p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	if read(t, h, "/etc/postfix/master.cf") != string(sample(t, "master.cf.plesk")) {
		t.Fatalf("master.cf not back:\n%s", read(t, h, "/etc/postfix/master.cf"))
	}
}

func TestRenderMasterEntryHostAndPostscreen(t *testing.T) {
	es, err := ParseMasterCF([]byte("203.0.113.5:smtp inet n - y - 1 postscreen\n  -o x=y\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := RenderMasterEntry(SMTPInet(es), 26)
	want := masterMarker(26) + "\n203.0.113.5:26 inet  n       -       y       -       1       smtpd\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestRemoveRefusesForeign(t *testing.T) {
	ctx := context.Background()
	h := qmailHost(t, map[string]string{"/etc/xinetd.d/smtp_p26": "service smtp_p26\n{\n port = 26\n type = UNLISTED\n}\n"})
	_, err := PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "not by hostfix smtpport add: remove it by hand or use --force") {
		t.Fatalf("error %v", err)
	}
	p, err := PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil), Force: true})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	if h.Exists("/etc/xinetd.d/smtp_p26") {
		t.Fatal("--force did not remove it")
	}
}

func TestXinetdReloadDetection(t *testing.T) {
	cfg := DefaultConfig()
	for _, tt := range []struct {
		files map[string]string
		want  string
		det   bool
	}{
		{map[string]string{"/run/systemd/system/x": "", "/lib/systemd/system/xinetd.service": ""}, "systemctl reload xinetd", true},
		{map[string]string{"/etc/init.d/xinetd": ""}, "/etc/init.d/xinetd reload", true},
		{map[string]string{"/var/run/xinetd.pid": "812\n"}, "kill -HUP 812", true},
		{map[string]string{}, "", false},
	} {
		a := xinetdReload(fixture(t, tt.files), cfg)
		if strings.Join(a.Args, " ") != tt.want || a.Detected != tt.det || a.Key != keyXinetdReload {
			t.Errorf("%v: %+v, want %q", tt.files, a, tt.want)
		}
	}
	cfg.XinetdReloadCommand = []string{"kill", "-HUP", "1234"}
	if a := xinetdReload(fixture(t, map[string]string{"/etc/init.d/xinetd": ""}), cfg); a.Detected || strings.Join(a.Args, " ") != "kill -HUP 1234" {
		t.Errorf("configured: %+v", a)
	}
}

func TestVerifyHosts(t *testing.T) {
	for _, tt := range []struct {
		bind string
		v6   bool
		want string
	}{
		{"", false, "127.0.0.1"}, {"", true, "127.0.0.1 ::1"}, {"0.0.0.0", false, "127.0.0.1"},
		{"::", false, "127.0.0.1 ::1"}, {"203.0.113.5", false, "203.0.113.5"}, {"[2001:db8::1]", false, "2001:db8::1"},
		{"mail.example.com", false, "127.0.0.1"},
	} {
		if got := strings.Join(verifyHosts(tt.bind, tt.v6), " "); got != tt.want {
			t.Errorf("verifyHosts(%q, %v) = %q, want %q", tt.bind, tt.v6, got, tt.want)
		}
	}
}

// remove --port finds add's service under another --name, with its /etc/services lines.
func TestRemoveFindsOtherName(t *testing.T) {
	ctx := context.Background()
	h := qmailHost(t, nil)
	before := read(t, h, "/etc/services")
	p, err := PlanAdd(ctx, h, AddOptions{Config: cfgWith(func(c *Config) { c.Name = "smtp_alt" })})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	p, err = PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(nil)})
	if err != nil {
		t.Fatal(err)
	}
	applyPlan(t, h, p)
	if h.Exists("/etc/xinetd.d/smtp_alt") || read(t, h, "/etc/services") != before {
		t.Fatalf("smtp_alt left behind:\n%s", read(t, h, "/etc/services")[len(before)-40:])
	}
}

func TestXinetdFilesFollowsIncludes(t *testing.T) {
	h := qmailHost(t, map[string]string{
		"/etc/xinetd.conf":        "defaults\n{\n}\nservice smtp_in_conf\n{\n type = UNLISTED\n port = 2727\n}\nincludedir /etc/xinetd.d\ninclude /etc/xinetd.local\n",
		"/etc/xinetd.local":       "includedir /opt/xinetd.d\n",
		"/opt/xinetd.d/extra":     "service extra\n{\n type = UNLISTED\n port = 2828\n}\n",
		"/opt/xinetd.d/extra.bak": "service extra\n{\n type = UNLISTED\n port = 2929\n}\n",
		"/etc/xinetd.d/smtp_psa~": "service x\n{\n port = 3030\n type = UNLISTED\n}\n",
	})
	files, inc := XinetdFiles(h, cfgWith(nil))
	want := "/etc/xinetd.conf /etc/xinetd.d/smtp_psa /etc/xinetd.local /opt/xinetd.d/extra"
	if strings.Join(files, " ") != want || !inc {
		t.Fatalf("files %q (included %v), want %q", files, inc, want)
	}
	cfg := cfgWith(nil)
	for port, where := range map[int]string{2727: "/etc/xinetd.conf:4", 2828: "/opt/xinetd.d/extra:1", 2929: "", 3030: ""} {
		conf, _ := FindConfigured(h, cfg, port)
		got := ""
		if len(conf) > 0 {
			got = conf[0].Where()
		}
		if got != where {
			t.Errorf("port %d configured at %q, want %q", port, got, where)
		}
	}
	// remove --force does not delete xinetd.conf for a service defined in it.
	_, err := PlanRemove(context.Background(), h, RemoveOptions{Config: cfgWith(func(c *Config) { c.Port = 2727 }), Force: true})
	if err == nil || !strings.Contains(err.Error(), "/etc/xinetd.conf: holds other services besides port 2727: edit it by hand") {
		t.Fatalf("remove --force of a service in xinetd.conf: %v", err)
	}
	// add refuses a port another included file configures.
	_, err = PlanAdd(context.Background(), h, AddOptions{Config: cfgWith(func(c *Config) { c.Port = 2828 })})
	if err == nil || !strings.Contains(err.Error(), "port 2828: already configured in /opt/xinetd.d/extra line 1") {
		t.Fatalf("add on a port of an included file: %v", err)
	}
	// A xinetd.conf that does not include the service directory: add says so.
	h = qmailHost(t, map[string]string{"/etc/xinetd.conf": "defaults\n{\n}\n"})
	p, err := PlanAdd(context.Background(), h, AddOptions{Config: cfgWith(nil)})
	if err != nil || !strings.Contains(strings.Join(p.Notes, "\n"), "/etc/xinetd.conf has no includedir /etc/xinetd.d") {
		t.Fatalf("notes %v, err %v", p.Notes, err)
	}
}

// TestMainPortIsNotTouched: add and remove manage an alternate port; port 25 (SMTP's own,
// served by smtp_psa or master.cf's smtp service) is refused even with --force, and so is
// the service file add copies from, whatever port it is asked about.
func TestMainPortIsNotTouched(t *testing.T) {
	ctx := context.Background()
	h := qmailHost(t, nil)
	for _, force := range []bool{false, true} {
		_, err := PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(func(c *Config) { c.Port = 25 }), Force: force})
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "port 25 is SMTP's own port") {
			t.Errorf("remove --port 25 (force %v): %v", force, err)
		}
	}
	if _, err := PlanAdd(ctx, h, AddOptions{Config: cfgWith(func(c *Config) { c.Port = 25; c.Name = "smtp" })}); err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "port 25 is SMTP's own port") {
		t.Errorf("add --port 25: %v", err)
	}
	// The copy source itself, configured on an alternate port by hand.
	h = qmailHost(t, map[string]string{"/etc/xinetd.d/smtp_psa": "service smtp\n{\n\tport = 2626\n\ttype = UNLISTED\n\tserver = /var/qmail/bin/tcp-env\n}\n"})
	_, err := PlanRemove(ctx, h, RemoveOptions{Config: cfgWith(func(c *Config) { c.Port = 2626 }), Force: true})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "/etc/xinetd.d/smtp_psa is smtpport.xinetd_source") {
		t.Errorf("remove of the copy source: %v", err)
	}
}
