package php

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// testConfig has the service commands configured, so that they run (recorded) under --root.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.ReloadCommand = []string{"svc", "reload"}
	cfg.RestartCommand = []string{"svc", "restart"}
	cfg.PhpenmodCommand = []string{"phpenmod"}
	return cfg
}

func describe(p *plan.Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		d := a.Describe()
		b.WriteString(string(d.Op) + " " + string(d.Kind) + " " + d.Target)
		if len(d.Notify) > 0 {
			b.WriteString(" -> " + strings.Join(d.Notify, ","))
		}
		b.WriteString("\n")
	}
	for _, hd := range p.Handlers {
		b.WriteString("handler " + hd.Name + ": " + hd.Command.String() + "\n")
	}
	return b.String()
}

func apply(t *testing.T, h *system.Host, p *plan.Plan) *plan.Report {
	t.Helper()
	if err := plan.CheckCommands(p, h); err != nil {
		t.Fatalf("CheckCommands: %v", err)
	}
	rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig(), Log: io.Discard})
	if err != nil {
		t.Fatalf("apply: %v (%+v)", err, rep)
	}
	return rep
}

func read(t *testing.T, root, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, p))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseMaxInputVars(t *testing.T) {
	for _, bad := range []string{"abc", "0", "-5", "1e9", "99999999999999999999", "2147483648", "", " 5", "5000.0", "0x10"} {
		if _, err := ParseMaxInputVars(bad); err == nil || !usage.Is(err) {
			t.Errorf("ParseMaxInputVars(%q) = %v, want a usage error", bad, err)
		}
	}
	if n, err := ParseMaxInputVars("5000"); err != nil || n != 5000 {
		t.Errorf("5000: %d %v", n, err)
	}
}

func TestMaxInputVarsDebian(t *testing.T) {
	root := tree(t, debianTree)
	rec := &system.Recorder{}
	h := host(t, root, rec)
	o := MaxInputVarsOptions{Config: testConfig(), Selection: Selection{PHP: "8.2"}, Value: "5000"}
	p, err := PlanMaxInputVars(context.Background(), h, o)
	if err != nil {
		t.Fatal(err)
	}
	want := `+ edit_file /etc/php/8.2/cli/conf.d/99-hostfix.ini
+ edit_file /etc/php/8.2/fpm/conf.d/99-hostfix.ini -> reload-php8.2-fpm
+ edit_file /etc/php/8.2/apache2/conf.d/99-hostfix.ini -> reload-apache2
handler reload-apache2: svc reload apache2
handler reload-php8.2-fpm: svc reload php8.2-fpm
`
	if got := describe(p); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "php8.2 pool shop pins max_input_vars = 3000 (/etc/php/8.2/fpm/pool.d/shop.conf:3 php_admin_value[max_input_vars]): its requests keep 3000; add --pool shop to change it there") {
		t.Errorf("notes %q", p.Notes)
	}
	apply(t, h, p)
	if got := read(t, root, "/etc/php/8.2/fpm/conf.d/99-hostfix.ini"); got != "; written by hostfix (php max-input-vars set): remove this file to go back to php.ini's values\nmax_input_vars = 5000\n" {
		t.Errorf("drop-in %q", got)
	}
	if got := strings.Join(rec.Commands(), "\n"); got != "svc reload apache2\nsvc reload php8.2-fpm" {
		t.Errorf("commands %q", got)
	}
	// Idempotent.
	p, err = PlanMaxInputVars(context.Background(), h, o)
	if err != nil || !p.Empty() {
		t.Fatalf("second plan: %v\n%s", err, describe(p))
	}
	// Lowering needs --force.
	o.Value = "3000"
	if _, err := PlanMaxInputVars(context.Background(), h, o); err == nil || !usage.Is(err) ||
		err.Error() != "php8.2 cli: lowering max_input_vars from 5000 to 3000 drops fields of big forms: add --force to lower it (nothing changed)" {
		t.Errorf("lowering: %v", err)
	}
	o.Force = true
	if p, err := PlanMaxInputVars(context.Background(), h, o); err != nil || len(p.Actions) != 3 {
		t.Errorf("lowering with --force: %v", err)
	}
}

func TestMaxInputVarsPoolAndInPlace(t *testing.T) {
	root := tree(t, debianTree)
	rec := &system.Recorder{}
	h := host(t, root, rec)
	o := MaxInputVarsOptions{Config: testConfig(), Selection: Selection{PHP: "php8.2", SAPIs: []string{"fpm"}}, Value: "8000", Pools: []string{"shop"}}
	p, err := PlanMaxInputVars(context.Background(), h, o)
	if err != nil {
		t.Fatal(err)
	}
	want := `+ edit_file /etc/php/8.2/fpm/conf.d/99-hostfix.ini -> reload-php8.2-fpm
~ edit_file /etc/php/8.2/fpm/pool.d/shop.conf -> reload-php8.2-fpm
handler reload-php8.2-fpm: svc reload php8.2-fpm
`
	if got := describe(p); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	apply(t, h, p)
	if got := read(t, root, "/etc/php/8.2/fpm/pool.d/shop.conf"); got != strings.Replace(debianTree["/etc/php/8.2/fpm/pool.d/shop.conf"], "= 3000 ; for", "= 8000 ; for", 1) {
		t.Errorf("pool %q", got)
	}
	if got := strings.Join(rec.Commands(), "\n"); got != "svc reload php8.2-fpm" {
		t.Errorf("one reload for two files: %q", got)
	}
	if _, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Selection: Selection{PHP: "php8.2"}, Value: "8000", Pools: []string{"nope"}}); err == nil || !usage.Is(err) {
		t.Errorf("unknown pool: %v", err)
	}

	// RHEL's PHP is built with the scan dir /etc/php.d: a missing one is created.
	files := map[string]string{"/usr/bin/php": "#!\n", "/etc/php.ini": iniHead}
	root = tree(t, files)
	h = host(t, root, &system.Recorder{})
	rhelNoScan := MaxInputVarsOptions{Config: testConfig(), Value: "4000"}
	p, err = PlanMaxInputVars(context.Background(), h, rhelNoScan)
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(p); got != "+ edit_file /etc/php.d/99-hostfix.ini\n" {
		t.Errorf("plan %s", got)
	}

	// A PHP whose binary reports no scan dir gets php.ini edited in place.
	s := &SAPI{Name: SAPICLI, Ini: "/usr/local/lib/php.ini"}
	if file, create, err := iniTarget(h, testConfig(), target{&Installation{ID: "/usr/local/bin/php"}, s}); err != nil || file != "/usr/local/lib/php.ini" || create {
		t.Errorf("iniTarget without scan dir: %s %v %v", file, create, err)
	}
	s.Ini = ""
	if _, _, err := iniTarget(h, testConfig(), target{&Installation{ID: "/usr/local/bin/php"}, s}); err == nil ||
		err.Error() != "/usr/local/bin/php cli loads no php.ini and has no scan dir: nowhere to set max_input_vars (see `php --ini`)" {
		t.Errorf("iniTarget with nothing: %v", err)
	}
}

func TestMaxInputVarsIniInPlaceAndSuhosin(t *testing.T) {
	files := map[string]string{}
	for k, v := range ea4Tree {
		files[k] = v
	}
	// A later scan-dir file that sets the value wins over the drop-in: it is edited instead.
	files["/opt/cpanel/ea-php81/root/etc/php.d/zz-custom.ini"] = "; local\nmax_input_vars = 2000 ; keep\n"
	root := tree(t, files)
	rec := &system.Recorder{}
	h := host(t, root, rec)
	p, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Value: "5000", Pools: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `+ edit_file /opt/cpanel/ea-php74/root/etc/php.d/99-hostfix.ini -> reload-httpd
~ edit_file /opt/cpanel/ea-php81/root/etc/php.d/zz-custom.ini -> reload-ea-php81-php-fpm
~ edit_file /opt/cpanel/ea-php81/root/etc/php-fpm.d/example.com.conf -> reload-ea-php81-php-fpm
handler reload-ea-php81-php-fpm: svc reload ea-php81-php-fpm
handler reload-httpd: svc reload httpd
`
	if got := describe(p); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	apply(t, h, p)
	if got := read(t, root, "/opt/cpanel/ea-php74/root/etc/php.d/99-hostfix.ini"); !strings.HasSuffix(got, "max_input_vars = 5000\nsuhosin.post.max_vars = 5000\nsuhosin.request.max_vars = 5000\n") {
		t.Errorf("suhosin drop-in %q", got)
	}
	if got := read(t, root, "/opt/cpanel/ea-php81/root/etc/php.d/zz-custom.ini"); got != "; local\nmax_input_vars = 5000 ; keep\n" {
		t.Errorf("in place %q", got)
	}
	p, err = PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Value: "5000", Pools: []string{"all"}})
	if err != nil || !p.Empty() {
		t.Errorf("second run: %v\n%s", err, describe(p))
	}
}

func TestMaxInputVarsRefusals(t *testing.T) {
	h := host(t, tree(t, debianTree), nil)
	for _, o := range []MaxInputVarsOptions{
		{Value: "abc"}, {Value: "0"}, {Value: "-5"}, {Value: "1e9"},
		{Value: "5000", Selection: Selection{PHP: "5.6"}},
		{Value: "5000", Selection: Selection{SAPIs: []string{"isapi"}}},
		{Value: "5000", Selection: Selection{PHP: "7.4", SAPIs: []string{"fpm"}}},
	} {
		o.Config = testConfig()
		if _, err := PlanMaxInputVars(context.Background(), h, o); err == nil || !usage.Is(err) {
			t.Errorf("%+v: %v, want a usage error", o, err)
		}
	}
	// php.drop_in must be a file PHP reads from its scan dir: a *.ini name, no directory.
	for _, drop := range []string{"x.conf", "../../../x.ini", "/etc/x.ini", "sub/x.ini", "", ".ini"} {
		cfg := testConfig()
		cfg.DropIn = drop
		_, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: cfg, Value: "5000"})
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "php.drop_in") {
			t.Errorf("drop_in %q: %v, want a usage error naming php.drop_in", drop, err)
		}
	}
	// A huge value is echoed cut to usage.MaxEcho characters, wherever it was given.
	huge := strings.Repeat("7", 300)
	for _, o := range []MaxInputVarsOptions{
		{Value: huge}, {Value: huge + "x"}, {Value: "-" + huge},
		{Value: "5000", Selection: Selection{PHP: huge}},
		{Value: "5000", Selection: Selection{SAPIs: []string{huge}}},
		{Value: "5000", Pools: []string{huge}},
	} {
		o.Config = testConfig()
		_, err := PlanMaxInputVars(context.Background(), h, o)
		if err == nil || !usage.Is(err) || strings.Contains(err.Error(), huge[:usage.MaxEcho+1]) {
			t.Errorf("huge input: %v, want a usage error echoing at most %d characters", err, usage.MaxEcho)
		}
	}
	// Under --root with nothing configured, the detected reload is refused before anything
	// changes (the --root command rule).
	cfg := DefaultConfig()
	files := map[string]string{"/usr/bin/systemctl": ""}
	for k, v := range debianTree {
		files[k] = v
	}
	h = host(t, tree(t, files), nil)
	p, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: cfg, Value: "5000", Selection: Selection{SAPIs: []string{"fpm"}}})
	if err != nil {
		t.Fatal(err)
	}
	var re *plan.RuleError
	if err := plan.CheckCommands(p, h); !errors.As(err, &re) || !strings.Contains(err.Error(), "set php.reload_command") {
		t.Errorf("CheckCommands: %v", err)
	}
}

func TestMbstringDebian(t *testing.T) {
	files := map[string]string{}
	for k, v := range debianTree {
		files[k] = v
	}
	delete(files, "/etc/php/8.2/mods-available/mbstring.ini") // the package is not installed
	root := tree(t, files)
	rec := &system.Recorder{}
	h := host(t, root, rec)
	cfg := testConfig()
	cfg.PackageManager = "apt-get"
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: Selection{PHP: "all"}})
	if err != nil {
		t.Fatal(err)
	}
	// php8.2's cli has mbstring disabled by the admin: the package leaves it so, phpenmod
	// enables it. The PHP built from source has no package: a note, not an error.
	want := `! install_packages php7.4-mbstring php8.2-mbstring
! command phpenmod -v 8.2 -s cli mbstring
`
	if got := describe(p); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "/usr/local/bin/php: no known mbstring package for this PHP (path layout)") {
		t.Errorf("notes %q", p.Notes)
	}
	apply(t, h, p)
	if got := strings.Join(rec.Commands(), "\n"); got != "apt-get -o DPkg::Lock::Timeout=120 install -y -q php7.4-mbstring php8.2-mbstring\nphpenmod -v 8.2 -s cli mbstring" {
		t.Errorf("commands %q", got)
	}
	if env := rec.Calls[0].Env; len(env) != 1 || env[0] != "DEBIAN_FRONTEND=noninteractive" {
		t.Errorf("apt env %v", env)
	}
	// Explicitly selecting the PHP without a package is an error naming it.
	if _, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: Selection{PHP: "/usr/local/bin/php"}}); err == nil ||
		!strings.Contains(err.Error(), "/usr/local/bin/php: no known mbstring package") {
		t.Errorf("source build: %v", err)
	}
}

func TestMbstringRestartsServingServices(t *testing.T) {
	files := map[string]string{}
	for k, v := range debianTree {
		files[k] = v
	}
	delete(files, "/etc/php/8.2/mods-available/mbstring.ini")
	delete(files, "/etc/php/8.2/fpm/conf.d/20-mbstring.ini")
	delete(files, "/etc/php/8.2/apache2/conf.d/20-mbstring.ini")
	delete(files, "/var/lib/php/modules/8.2/cli/disabled_by_admin/mbstring")
	root := tree(t, files)
	rec := &system.Recorder{}
	h := host(t, root, rec)
	cfg := testConfig()
	cfg.PackageManager = "apt-get"
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: Selection{PHP: "8.2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `! install_packages php8.2-mbstring -> restart-php8.2-fpm,restart-apache2
handler restart-apache2: svc restart apache2
handler restart-php8.2-fpm: svc restart php8.2-fpm
`
	if got := describe(p); got != want {
		t.Errorf("plan:\n%s\nwant:\n%s", got, want)
	}
	apply(t, h, p)
	if got := strings.Join(rec.Commands(), "\n"); got != "apt-get -o DPkg::Lock::Timeout=120 install -y -q php8.2-mbstring\nsvc restart apache2\nsvc restart php8.2-fpm" {
		t.Errorf("commands %q", got)
	}
}

// mbstringPlan plans for a fixture with a configured package manager and returns the
// recorded commands after applying.
func mbstringCommands(t *testing.T, files map[string]string, manager string, sel Selection) (string, []string) {
	t.Helper()
	rec := &system.Recorder{}
	h := host(t, tree(t, files), rec)
	cfg := testConfig()
	cfg.PackageManager = manager
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: sel})
	if err != nil {
		t.Fatal(err)
	}
	d := describe(p)
	if p.Empty() {
		return d, nil
	}
	apply(t, h, p)
	return d, rec.Commands()
}

func TestMbstringLayouts(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		manager string
		sel     Selection
		plan    string
		cmds    string
	}{
		{"rhel", rhelTree, "dnf", Selection{}, "! install_packages php-mbstring -> restart-php-fpm\nhandler restart-php-fpm: svc restart php-fpm\n",
			"dnf install -y php-mbstring\nsvc restart php-fpm"},
		{"remi already loaded", rhelTree, "dnf", Selection{PHP: "php81"}, "", ""},
		{"ea4", ea4Tree, "yum", Selection{}, "! install_packages ea-php74-php-mbstring -> restart-httpd\nhandler restart-httpd: svc restart httpd\n",
			"yum install -y ea-php74-php-mbstring\nsvc restart httpd"},
		{"plesk", pleskTree, "apt-get", Selection{PHP: "7.4"}, "! install_packages plesk-php74-mbstring -> restart-plesk-php74-fpm\nhandler restart-plesk-php74-fpm: svc restart plesk-php74-fpm\n",
			"apt-get -o DPkg::Lock::Timeout=120 install -y -q plesk-php74-mbstring\nsvc restart plesk-php74-fpm"},
		// Only the CLI is selected, but lsphp reads the same php.d: lsws is restarted too.
		{"alt-php cli selected", altTree, "yum", Selection{PHP: "alt-php74", SAPIs: []string{"cli"}}, "! install_packages alt-php74-mbstring -> restart-lsws\nhandler restart-lsws: svc restart lsws\n",
			"yum install -y alt-php74-mbstring\nsvc restart lsws"},
		{"alt-php lsphp", altTree, "zypper", Selection{PHP: "74"}, "! install_packages alt-php74-mbstring -> restart-lsws\nhandler restart-lsws: svc restart lsws\n",
			"zypper --non-interactive install -y alt-php74-mbstring\nsvc restart lsws"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, cmds := mbstringCommands(t, tt.files, tt.manager, tt.sel)
			if plan != tt.plan || strings.Join(cmds, "\n") != tt.cmds {
				t.Errorf("plan:\n%s\nwant:\n%s\ncommands:\n%s\nwant:\n%s", plan, tt.plan, strings.Join(cmds, "\n"), tt.cmds)
			}
		})
	}
}

func TestMbstringDetectedManager(t *testing.T) {
	h := host(t, tree(t, rhelTree), nil)
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: DefaultConfig(), Selection: Selection{PHP: "php"}})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Actions[0].Describe()
	if d.Target != "php-mbstring" || d.Detail != "run dnf install -y php-mbstring (detected)" {
		t.Errorf("install step %+v", d)
	}
	// pkg/plan's preview sees the install step through plan.Notify and says which keys to set.
	if notes := strings.Join(plan.PreviewOn(p, h).Notes, "\n"); !strings.Contains(notes, "apply refuses this plan until you set php.package_manager") {
		t.Errorf("preview notes %q", notes)
	}
	if err := plan.CheckCommands(p, h); err == nil || !strings.Contains(err.Error(), "detected, not run under --root: set php.package_manager") ||
		!strings.Contains(err.Error(), "set php.restart_command") {
		t.Errorf("CheckCommands: %v", err)
	}
}

func TestMbstringInstallFailureLastLines(t *testing.T) {
	files := map[string]string{}
	for k, v := range rhelTree {
		files[k] = v
	}
	rec := &system.Recorder{Responses: map[string]system.Result{
		"dnf install -y php-mbstring": {ExitCode: 1, Stdout: []byte("Last metadata expiration check: 0:01:02 ago\nNo match for argument: php-mbstring\n"), Stderr: []byte("Error: Unable to find a match: php-mbstring\n")},
	}}
	root := tree(t, files)
	h := host(t, root, rec)
	cfg := testConfig()
	cfg.PackageManager = "dnf"
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: Selection{PHP: "php"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig(), Log: io.Discard})
	if err == nil {
		t.Fatal("apply succeeded")
	}
	want := "php-mbstring: exit status 1: Last metadata expiration check: 0:01:02 ago | No match for argument: php-mbstring | Error: Unable to find a match: php-mbstring"
	if rep.Actions[0].Error != want {
		t.Errorf("error %q\nwant  %q", rep.Actions[0].Error, want)
	}
	if got := strings.Join(rec.Commands(), "\n"); got != "dnf install -y php-mbstring" {
		t.Errorf("no restart after a failed install: %q", got)
	}
}

func TestDpkgInstalled(t *testing.T) {
	status := "Package: php8.2-cli\nStatus: install ok installed\nVersion: 8.2.36\n\nPackage: php8.2-mbstring\nStatus: deinstall ok config-files\nPriority: optional\n\nPackage: php8.2-xml\nStatus: install ok installed\n"
	for pkg, want := range map[string]bool{"php8.2-cli": true, "php8.2-mbstring": false, "php8.2-xml": true, "php8.3-cli": false} {
		if got := DpkgInstalled([]byte(status), pkg); got != want {
			t.Errorf("DpkgInstalled(%s) = %v", pkg, got)
		}
	}
	// A removed package's conffile (mods-available/mbstring.ini) stays: install it again.
	files := map[string]string{}
	for k, v := range debianTree {
		files[k] = v
	}
	files["/var/lib/dpkg/status"] = status
	rec := &system.Recorder{}
	h := host(t, tree(t, files), rec)
	cfg := testConfig()
	cfg.PackageManager = "apt-get"
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg, Selection: Selection{PHP: "8.2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(p); got != "! install_packages php8.2-mbstring\n! command phpenmod -v 8.2 -s cli mbstring\n" {
		t.Errorf("plan:\n%s", got)
	}
}

func TestScanDirs(t *testing.T) {
	for in, want := range map[string]string{"": "", "/etc/php.d": "/etc/php.d", "/etc/php.d:/home/u/.php.d/": "/etc/php.d,/home/u/.php.d", ":/x": "/x"} {
		if got := strings.Join(ScanDirs(in), ","); got != want {
			t.Errorf("ScanDirs(%q) = %q, want %q", in, got, want)
		}
	}
	h := host(t, tree(t, map[string]string{"/etc/php.d/10-a.ini": "", "/srv/php.d/10-b.ini": "max_input_vars = 2000\n"}), nil)
	s := &SAPI{Name: SAPIFPM, Ini: "/etc/php.ini", ScanDir: "/etc/php.d:/srv/php.d"}
	in := &Installation{ID: "php", Layout: LayoutRHEL}
	in.SAPIs = []*SAPI{s}
	d := &discoverer{h: h, cfg: DefaultConfig(), ctx: context.Background()}
	d.readConfig(in, s)
	if s.MaxInputVars != 2000 || strings.Join(s.Scanned, ",") != "/etc/php.d/10-a.ini,/srv/php.d/10-b.ini" {
		t.Errorf("read %d from %v", s.MaxInputVars, s.Scanned)
	}
	if file, create, err := iniTarget(h, DefaultConfig(), target{in, s}); err != nil || file != "/srv/php.d/99-hostfix.ini" || !create {
		t.Errorf("iniTarget %s %v %v", file, create, err)
	}
}

// TestNoPHPIsBadInput: on a host without PHP, the changes refuse as bad input (exit 2,
// nothing changed), not as a failed change (exit 1).
func TestNoPHPIsBadInput(t *testing.T) {
	h := host(t, tree(t, map[string]string{"/etc/hostname": "web1\n"}), nil)
	_, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: testConfig()})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "no PHP installation found") {
		t.Errorf("mbstring install: %v, want a usage error", err)
	}
	_, err = PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Value: "5000"})
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "no PHP installation found") {
		t.Errorf("max-input-vars set: %v, want a usage error", err)
	}
}
