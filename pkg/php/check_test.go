package php

import (
	"context"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/check"
)

func runCheck(t *testing.T, files map[string]string, cfg Config) *check.Result {
	t.Helper()
	h := host(t, tree(t, files), nil)
	r, err := Check(context.Background(), h, CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func findings(r *check.Result) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.Severity.String() + ": " + f.Message + "\n")
		if f.Hint != "" {
			b.WriteString("  -> " + f.Hint + "\n")
		}
	}
	return b.String()
}

func TestCheckDebian(t *testing.T) {
	r := runCheck(t, debianTree, DefaultConfig())
	want := `warning: php7.4 cli: mbstring is not loaded (composer, drush and cron jobs need it)
  -> run ` + "`hostfix php mbstring install --php php7.4 --sapi cli`" + `
warning: php8.2 cli: mbstring is not loaded (composer, drush and cron jobs need it)
  -> run ` + "`hostfix php mbstring install --php php8.2 --sapi cli`" + `
warning: php8.2 fpm: max_input_vars is at the 1000 default and /var/log/php-shop.log, /var/log/apache2/error.log show 1 "Input variables exceeded 1000" line(s): big forms lose fields
  -> run ` + "`hostfix php max-input-vars set 5000 --php php8.2 --sapi fpm`" + `
ok: php8.2 fpm pool shop pins max_input_vars = 3000 (/etc/php/8.2/fpm/pool.d/shop.conf:3): php.ini's 1000 does not apply to its requests
  -> ` + "`hostfix php max-input-vars set N --php php8.2 --sapi fpm --pool shop`" + ` changes it there
warning: php8.2 apache2: max_input_vars is at the 1000 default and /var/log/apache2/error.log show 1 "Input variables exceeded 1000" line(s): big forms lose fields
  -> run ` + "`hostfix php max-input-vars set 5000 --php php8.2 --sapi apache2`" + `
warning: /usr/local/bin/php cli: mbstring is not loaded (composer, drush and cron jobs need it)
  -> run ` + "`hostfix php mbstring install --php /usr/local/bin/php --sapi cli`" + `
ok: under --root no PHP binary is run: the values are computed from the ini files
`
	if got := findings(r); got != want {
		t.Errorf("findings:\n%s\nwant:\n%s", got, want)
	}
	if r.Status != check.Warning || r.Summary != "3 PHP installation(s), 5 SAPI(s), mbstring missing for 3, 1 \"Input variables exceeded\" log line(s)" {
		t.Errorf("status %v summary %q", r.Status, r.Summary)
	}
	if r.Metrics["mbstring_missing"] != 3 || r.Metrics["sapis"] != 5 {
		t.Errorf("metrics %v", r.Metrics)
	}
}

func TestCheckRequireMbstringOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RequireMbstring = false
	r := runCheck(t, pleskTree, cfg)
	if r.Status != check.OK {
		t.Errorf("status %v, findings:\n%s", r.Status, findings(r))
	}
	cfg.RequireMbstring = true
	if r := runCheck(t, pleskTree, cfg); r.Status != check.Warning || !strings.Contains(findings(r), "plesk-php74 fpm: mbstring is not loaded\n") {
		t.Errorf("status %v, findings:\n%s", r.Status, findings(r))
	}
}

func TestCheckSuhosinAndEmpty(t *testing.T) {
	files := map[string]string{}
	for k, v := range ea4Tree {
		files[k] = v
	}
	files["/opt/cpanel/ea-php74/root/etc/php.ini"] = iniHead + "extension=suhosin.so\nextension=mbstring.so\nsuhosin.post.max_vars = 500\nmax_input_vars = 3000\n"
	r := runCheck(t, files, DefaultConfig())
	if !strings.Contains(findings(r), "warning: ea-php74 cli: Suhosin caps input variables at 500 (suhosin.post.max_vars 500, suhosin.request.max_vars 1000), below max_input_vars 3000") {
		t.Errorf("findings:\n%s", findings(r))
	}
	r = runCheck(t, map[string]string{"/etc/hostname": "x\n"}, DefaultConfig())
	if r.Status != check.OK || r.Summary != "no PHP installation found" || len(r.Findings) != 0 {
		t.Errorf("empty host: %v %q %s", r.Status, r.Summary, findings(r))
	}
}

func TestCheckBrokenIni(t *testing.T) {
	files := map[string]string{}
	for k, v := range pleskTree {
		files[k] = v
	}
	files["/opt/plesk/php/8.3/etc/php.d/zz-broken.ini"] = "max_input_vars = \"3000\n"
	cfg := DefaultConfig()
	cfg.RequireMbstring = false
	r := runCheck(t, files, cfg)
	want := `warning: plesk-php83 cli: /opt/plesk/php/8.3/etc/php.d/zz-broken.ini: line 1: max_input_vars: unterminated double-quoted string opened on line 1`
	if r.Status != check.Warning || !strings.Contains(findings(r), want) {
		t.Errorf("findings:\n%s", findings(r))
	}
}
