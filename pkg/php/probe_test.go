package php

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

func TestParsePHPInfoText(t *testing.T) {
	data, err := os.ReadFile("testdata/php-i.txt") // php8.2-cli -i on Debian 12
	if err != nil {
		t.Fatal(err)
	}
	info := ParsePHPInfo(data)
	for k, want := range map[string]string{
		"PHP Version":                             "8.2.36",
		"Loaded Configuration File":               "/etc/php/8.2/cli/php.ini",
		"Scan this dir for additional .ini files": "/etc/php/8.2/cli/conf.d",
		"max_input_vars":                          "1000",
		"max_multipart_body_parts":                "-1",
		"error_log":                               "no value",
	} {
		if got := info.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestParsePHPInfoHTML(t *testing.T) {
	data, err := os.ReadFile("testdata/php-cgi-i.html")
	if err != nil {
		t.Fatal(err)
	}
	info := ParsePHPInfo(data)
	for k, want := range map[string]string{
		"Loaded Configuration File": "/opt/plesk/php/8.3/etc/php.ini",
		"max_input_vars":            "4000",
		"error_log":                 "no value",
		"open_basedir":              "/var/www/vhosts/&/",
		"PHP Version":               "8.3.14",
	} {
		if got := info.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestParseModules(t *testing.T) {
	data, err := os.ReadFile("testdata/php-m.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := ParseModules(data)
	if !m["zend opcache"] || !m["pdo"] || !m["core"] || m["mbstring"] || m["[php modules]"] {
		t.Errorf("modules %v", m)
	}
	cgi := ParseModules([]byte("X-Powered-By: PHP/8.3\nContent-type: text/html\n\n[PHP Modules]\nmbstring\nsuhosin\n"))
	if !cgi["mbstring"] || !cgi["suhosin"] || len(cgi) != 2 {
		t.Errorf("cgi modules %v", cgi)
	}
}

// fakePHP answers -i and -m for binaries of a fixture as the real ones would.
type fakePHP struct {
	info map[string]string // binary -> phpinfo text
	mods map[string]string // binary -> php -m
}

func (f fakePHP) run(c system.Cmd) (system.Result, error) {
	bin, flag := c.Argv[0], c.Argv[len(c.Argv)-1]
	var out string
	var ok bool
	switch flag {
	case "-i":
		out, ok = f.info[bin]
	case "-m":
		out, ok = f.mods[bin]
	}
	if !ok {
		res := system.Result{ExitCode: 127, Stderr: []byte(bin + ": not found")}
		return res, &system.ExitError{Cmd: c, Result: res}
	}
	return system.Result{Stdout: []byte(out)}, nil
}

func TestDiscoverProbe(t *testing.T) {
	f := fakePHP{
		info: map[string]string{
			"/usr/bin/php8.2":      "PHP Version => 8.2.36\nLoaded Configuration File => /etc/php/8.2/cli/php.ini\nScan this dir for additional .ini files => /etc/php/8.2/cli/conf.d\nmax_input_vars => 1000 => 1000\nmax_multipart_body_parts => -1 => -1\n",
			"/usr/sbin/php-fpm8.2": "PHP Version => 8.2.36\nLoaded Configuration File => /etc/php/8.2/fpm/php.ini\nmax_input_vars => 6000 => 6000\n",
		},
		mods: map[string]string{
			"/usr/bin/php8.2":      "[PHP Modules]\nCore\n",
			"/usr/sbin/php-fpm8.2": "[PHP Modules]\nCore\nmbstring\nsuhosin\n",
		},
	}
	rec := &system.Recorder{Func: f.run}
	h := host(t, tree(t, debianTree), rec)
	ins, err := Discover(context.Background(), h, DiscoverOptions{Config: DefaultConfig(), Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	var p82 *Installation
	for _, in := range ins {
		if in.ID == "php8.2" {
			p82 = in
		}
	}
	if p82 == nil || p82.FullVersion != "8.2.36" {
		t.Fatalf("php8.2: %+v", p82)
	}
	cli, fpm, ap := p82.SAPI("cli"), p82.SAPI("fpm"), p82.SAPI("apache2")
	if cli.Source != "binary" || cli.Mbstring || cli.MaxInputVars != 1000 || cli.MaxInputVarsFrom != "default" {
		t.Errorf("cli %+v", cli)
	}
	if fpm.Source != "binary" || !fpm.Mbstring || fpm.MaxInputVars != 6000 || !strings.HasPrefix(fpm.MaxInputVarsFrom, "binary (the ini files say 1000") ||
		fpm.Suhosin == nil || fpm.Suhosin.PostMaxVars != 1000 {
		t.Errorf("fpm %+v %+v", fpm, fpm.Suhosin)
	}
	// mod_php is asked through the CLI binary with the apache2 ini and scan dir.
	if ap.Source != "cli binary with this SAPI's ini" {
		t.Errorf("apache2 source %q", ap.Source)
	}
	want := []string{
		"/usr/bin/php7.4 -i", // not in the fake: falls back to the files
		"/usr/bin/php8.2 -i", "/usr/bin/php8.2 -m",
		"/usr/sbin/php-fpm8.2 -i", "/usr/sbin/php-fpm8.2 -m",
		"/usr/bin/php8.2 -c /etc/php/8.2/apache2/php.ini -i", "/usr/bin/php8.2 -c /etc/php/8.2/apache2/php.ini -m",
		"/usr/local/bin/php -i",
	}
	if got := rec.Commands(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range rec.Calls {
		if len(c.Argv) > 2 && c.Argv[1] == "-c" && (len(c.Env) != 1 || c.Env[0] != "PHP_INI_SCAN_DIR=/etc/php/8.2/apache2/conf.d") {
			t.Errorf("apache2 probe env %v", c.Env)
		}
	}
	if in := ins[0]; in.SAPIs[0].Source != "files" || len(in.SAPIs[0].problems) != 1 {
		t.Errorf("php7.4 without a working binary: %+v", in.SAPIs[0])
	}
}
