package php

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

// asLive makes the fixture tree count as the live system for probing and verification.
func asLive(t *testing.T) {
	t.Helper()
	old := live
	live = func(*system.Host) bool { return true }
	t.Cleanup(func() { live = old })
}

// phpRunner answers -i and -m from the fixture's ini files the way the binaries would,
// unless override says otherwise: a small PHP stand-in for the recording runner.
func phpRunner(root string, override map[string]string) *system.Recorder {
	return &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		key := strings.Join(c.Argv, " ")
		if out, ok := override[key]; ok {
			return system.Result{Stdout: []byte(out)}, nil
		}
		flag := c.Argv[len(c.Argv)-1]
		// The answer: max_input_vars from the drop-in if it exists, else 1000.
		n := "1000"
		for _, dir := range []string{"/etc/php/8.2/cli/conf.d", "/etc/php/8.2/fpm/conf.d"} {
			if strings.Contains(key, "fpm") != strings.Contains(dir, "fpm") {
				continue
			}
			if b, err := os.ReadFile(filepath.Join(root, dir, "99-hostfix.ini")); err == nil {
				ds, _ := ParseIni(b, nil)
				if d, ok := Last(ds, "max_input_vars"); ok {
					n = d.Value
				}
			}
		}
		switch flag {
		case "-i":
			return system.Result{Stdout: []byte("PHP Version => 8.2.36\nmax_input_vars => " + n + " => " + n + "\n")}, nil
		case "-m":
			return system.Result{Stdout: []byte("[PHP Modules]\nCore\n")}, nil
		case "-t":
			return system.Result{}, nil
		}
		return system.Result{}, nil // reloads
	}}
}

func TestMaxInputVarsVerified(t *testing.T) {
	asLive(t)
	root := tree(t, debianTree)
	rec := phpRunner(root, nil)
	h := host(t, root, rec)
	o := MaxInputVarsOptions{Config: testConfig(), Selection: Selection{PHP: "8.2", SAPIs: []string{"cli", "fpm"}}, Value: "5000", Pools: []string{"shop"}}
	p, err := PlanMaxInputVars(context.Background(), h, o)
	if err != nil {
		t.Fatal(err)
	}
	var verifies []string
	for _, v := range p.Verifies {
		verifies = append(verifies, v.Detail)
	}
	want := "php8.2 cli: max_input_vars is 5000 (/usr/bin/php8.2 -i)\n" +
		"php8.2 fpm: max_input_vars is 5000 (/usr/sbin/php-fpm8.2 -i)\n" +
		"php8.2 fpm: the FPM configuration with /etc/php/8.2/fpm/pool.d/shop.conf passes its test (/usr/sbin/php-fpm8.2 -t)"
	if got := strings.Join(verifies, "\n"); got != want {
		t.Errorf("verify steps:\n%s\nwant:\n%s", got, want)
	}
	rec.Calls = nil
	apply(t, h, p)
	want = "svc reload php8.2-fpm\n/usr/bin/php8.2 -i\n/usr/sbin/php-fpm8.2 -i\n/usr/sbin/php-fpm8.2 -t"
	if got := strings.Join(rec.Commands(), "\n"); got != want {
		t.Errorf("commands:\n%s\nwant:\n%s", got, want)
	}
}

// Something else keeps the old value (a -d in the unit): the verification fails, the drop-in
// is removed again and the service reloaded on the old state.
func TestMaxInputVarsVerifyFailsRollsBack(t *testing.T) {
	asLive(t)
	root := tree(t, debianTree)
	rec := phpRunner(root, map[string]string{"/usr/sbin/php-fpm8.2 -i": "max_input_vars => 1000 => 1000\n"})
	h := host(t, root, rec)
	p, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Selection: Selection{PHP: "8.2", SAPIs: []string{"fpm"}}, Value: "5000"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Calls = nil
	rep, err := plan.Apply(context.Background(), p, plan.Options{Host: h, Config: plan.DefaultConfig(), Log: io.Discard})
	if err == nil {
		t.Fatal("apply succeeded")
	}
	if !strings.Contains(rep.Error, "php8.2 fpm: max_input_vars is 1000 after the change, not 5000 (asked /usr/sbin/php-fpm8.2 -i)") {
		t.Errorf("error %q", rep.Error)
	}
	if _, err := os.Stat(filepath.Join(root, "/etc/php/8.2/fpm/conf.d/99-hostfix.ini")); !os.IsNotExist(err) {
		t.Errorf("drop-in left after the rollback: %v", err)
	}
	if got := strings.Join(rec.Commands(), "\n"); got != "svc reload php8.2-fpm\n/usr/sbin/php-fpm8.2 -i\nsvc reload php8.2-fpm" {
		t.Errorf("commands %q", got)
	}
}

func TestMbstringVerified(t *testing.T) {
	asLive(t)
	files := map[string]string{}
	for k, v := range rhelTree {
		files[k] = v
	}
	root := tree(t, files)
	loaded := false
	rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		key := strings.Join(c.Argv, " ")
		switch {
		case key == "dnf install -y php-mbstring":
			loaded = true
		case strings.HasSuffix(key, " -m") && strings.HasPrefix(key, "/usr/"):
			if loaded {
				return system.Result{Stdout: []byte("[PHP Modules]\nmbstring\n")}, nil
			}
			return system.Result{Stdout: []byte("[PHP Modules]\nCore\n")}, nil
		case strings.HasSuffix(key, " -m"):
			return system.Result{Stdout: []byte("[PHP Modules]\nmbstring\n")}, nil // remi php81
		}
		return system.Result{}, nil
	}}
	h := host(t, root, rec)
	cfg := testConfig()
	cfg.PackageManager = "dnf"
	p, err := PlanMbstring(context.Background(), h, MbstringOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	rec.Calls = nil
	apply(t, h, p)
	want := "dnf install -y php-mbstring\nsvc restart php-fpm\n/usr/bin/php -m\n/usr/sbin/php-fpm -m"
	if got := strings.Join(rec.Commands(), "\n"); got != want {
		t.Errorf("commands:\n%s\nwant:\n%s", got, want)
	}
}

// On a live host a php on PATH that loads another installation's php.ini is that
// installation (cPanel's /usr/local/bin/php dispatcher).
func TestWrapperMergedLive(t *testing.T) {
	asLive(t)
	files := map[string]string{"/usr/local/bin/php": "#!dispatcher\n"}
	for k, v := range ea4Tree {
		files[k] = v
	}
	r := "/opt/cpanel/ea-php81/root"
	rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		switch strings.Join(c.Argv, " ") {
		case "/usr/local/bin/php -i", r + "/usr/bin/php -i":
			return system.Result{Stdout: []byte("PHP Version => 8.1.31\nLoaded Configuration File => " + r + "/etc/php.ini\n")}, nil
		}
		return system.Result{Stdout: []byte("[PHP Modules]\nmbstring\n")}, nil
	}}
	h := host(t, tree(t, files), rec)
	ins, err := Discover(context.Background(), h, DiscoverOptions{Config: DefaultConfig(), Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ins); got != "ea-php74/cpanel-ea4/7.4 ea-php81/cpanel-ea4/8.1" {
		t.Fatalf("installations %s", got)
	}
	if got := strings.Join(ins[1].OnPath, ","); got != "/usr/local/bin/php" {
		t.Errorf("ea-php81 on PATH: %q", got)
	}
}

// A binary that reads other files than its layout's: the plan is made against those.
func TestProbeRereadsReportedFiles(t *testing.T) {
	asLive(t)
	files := map[string]string{
		"/usr/local/bin/php":              "#!source build\n",
		"/usr/local/lib/php.ini":          "max_input_vars = 3000\n",
		"/usr/local/etc/php/conf.d/x.ini": "extension=mbstring.so\n",
	}
	rec := &system.Recorder{Func: func(c system.Cmd) (system.Result, error) {
		if c.Argv[1] == "-i" {
			return system.Result{Stdout: []byte("PHP Version => 8.3.1\nLoaded Configuration File => /usr/local/lib/php.ini\nScan this dir for additional .ini files => /usr/local/etc/php/conf.d\nmax_input_vars => 3000 => 3000\n")}, nil
		}
		return system.Result{Stdout: []byte("[PHP Modules]\nmbstring\n")}, nil
	}}
	h := host(t, tree(t, files), rec)
	ins, err := Discover(context.Background(), h, DiscoverOptions{Config: DefaultConfig(), Probe: true})
	if err != nil || len(ins) != 1 {
		t.Fatal(err, ids(ins))
	}
	s := ins[0].SAPIs[0]
	if s.Source != "binary" || s.MaxInputVars != 3000 || s.MaxInputVarsFrom != "/usr/local/lib/php.ini:1" || !s.Mbstring ||
		strings.Join(s.Scanned, ",") != "/usr/local/etc/php/conf.d/x.ini" || ins[0].Version != "8.3" {
		t.Errorf("%+v version %s", s, ins[0].Version)
	}
	p, err := PlanMaxInputVars(context.Background(), h, MaxInputVarsOptions{Config: testConfig(), Value: "5000"})
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(p); got != "+ edit_file /usr/local/etc/php/conf.d/99-hostfix.ini\n" {
		t.Errorf("plan %s", got)
	}
}
