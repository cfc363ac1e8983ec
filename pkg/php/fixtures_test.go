package php

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// tree writes files into a fresh root: "path": content; content "->target" makes a symlink.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "->") {
			if err := os.Symlink(strings.TrimPrefix(c, "->"), full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(p, "/") {
			continue
		}
		mode := os.FileMode(0o644)
		if strings.Contains(p, "/bin/") || strings.Contains(p, "/sbin/") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func host(t testing.TB, root string, r system.Runner) *system.Host {
	t.Helper()
	if r == nil {
		r = &system.Recorder{}
	}
	h, err := system.NewHost(root, r)
	if err != nil {
		t.Fatal(err)
	}
	h.Now = func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	return h
}

const iniHead = "[PHP]\n; How many GET/POST/COOKIE input variables may be accepted\n;max_input_vars = 1000\nmemory_limit = 128M\n"

// Fixture layouts, one per distribution or panel.
var (
	debianTree = map[string]string{
		"/etc/apache2/apache2.conf":                               "",
		"/etc/php/8.2/cli/php.ini":                                iniHead,
		"/etc/php/8.2/cli/conf.d/10-opcache.ini":                  "zend_extension=opcache.so\n",
		"/etc/php/8.2/fpm/php.ini":                                iniHead,
		"/etc/php/8.2/fpm/conf.d/20-mbstring.ini":                 "; priority=20\nextension=mbstring.so\n",
		"/etc/php/8.2/fpm/php-fpm.conf":                           "[global]\npid = /run/php/php8.2-fpm.pid\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n",
		"/etc/php/8.2/fpm/pool.d/www.conf":                        "[www]\nuser = www-data\nlisten = /run/php/php8.2-fpm.sock\n",
		"/etc/php/8.2/fpm/pool.d/shop.conf":                       "[shop]\nuser = shop\nphp_admin_value[max_input_vars] = 3000 ; for the shop\nphp_admin_value[error_log] = /var/log/php-$pool.log\n",
		"/etc/php/8.2/apache2/php.ini":                            iniHead,
		"/etc/php/8.2/apache2/conf.d/20-mbstring.ini":             "extension=mbstring.so\n",
		"/etc/php/8.2/mods-available/mbstring.ini":                "extension=mbstring.so\n",
		"/etc/php/7.4/cli/php.ini":                                iniHead + "max_input_vars = 2000\n",
		"/usr/bin/php8.2":                                         "#!php8.2\n",
		"/usr/bin/php7.4":                                         "#!php7.4\n",
		"/usr/bin/php":                                            "->/etc/alternatives/php", // absolute: resolved inside --root
		"/etc/alternatives/php":                                   "->/usr/bin/php8.2",
		"/usr/sbin/php-fpm8.2":                                    "#!fpm\n",
		"/usr/lib/apache2/modules/libphp8.2.so":                   "",
		"/usr/bin/apt-get":                                        "",
		"/usr/sbin/phpenmod":                                      "",
		"/var/log/apache2/error.log":                              "[php:warn] PHP Warning:  Unknown: Input variables exceeded 1000. To increase the limit change max_input_vars in php.ini. in Unknown on line 0\nother\n",
		"/var/log/php-shop.log":                                   "PHP Warning:  Unknown: Input variables exceeded 3000. To increase the limit change max_input_vars in php.ini.\n",
		"/usr/local/bin/php":                                      "#!source build\n",
		"/var/lib/php/modules/8.2/cli/disabled_by_admin/mbstring": "",
	}
	rhelTree = map[string]string{
		"/etc/httpd/conf/httpd.conf":                "",
		"/etc/php.ini":                              iniHead,
		"/etc/php.d/20-bz2.ini":                     "extension=bz2\n",
		"/etc/php-fpm.conf":                         "[global]\ninclude=/etc/php-fpm.d/*.conf\n",
		"/etc/php-fpm.d/www.conf":                   "[www]\nphp_value[max_input_vars] = 1000\nphp_admin_value[error_log] = /var/log/php-fpm/www-error.log\n",
		"/usr/bin/php":                              "#!php\n",
		"/usr/sbin/php-fpm":                         "#!fpm\n",
		"/usr/bin/dnf":                              "",
		"/usr/bin/yum":                              "->dnf",
		"/etc/opt/remi/php81/php.ini":               iniHead,
		"/etc/opt/remi/php81/php.d/40-mbstring.ini": "extension=mbstring\n",
		"/etc/opt/remi/php81/php-fpm.d/www.conf":    "[www]\n",
		"/opt/remi/php81/root/usr/bin/php":          "#!remi php81\n",
		"/opt/remi/php81/root/usr/sbin/php-fpm":     "#!remi fpm\n",
		"/usr/bin/php81":                            "#!/bin/bash\nexec /opt/remi/php81/root/usr/bin/php \"$@\"\n",
		"/var/log/php-fpm/www-error.log":            "Input variables exceeded 1000\nInput variables exceeded 1000\n",
	}
	ea4Tree = map[string]string{
		"/usr/local/cpanel/version":                                "11.118",
		"/etc/apache2/conf/httpd.conf":                             "",
		"/opt/cpanel/ea-php81/root/etc/php.ini":                    iniHead,
		"/opt/cpanel/ea-php81/root/etc/php.d/20-mbstring.ini":      "extension=mbstring.so\n",
		"/opt/cpanel/ea-php81/root/usr/bin/php":                    "#!ea81\n",
		"/opt/cpanel/ea-php81/root/usr/sbin/php-fpm":               "#!ea81 fpm\n",
		"/opt/cpanel/ea-php81/root/etc/php-fpm.d/example.com.conf": "[example_com]\nphp_admin_value[max_input_vars] = 1000\n",
		"/opt/cpanel/ea-php74/root/etc/php.ini":                    iniHead + "extension=suhosin.so\nsuhosin.post.max_vars = 500\n",
		"/opt/cpanel/ea-php74/root/usr/bin/php":                    "#!ea74\n",
		"/opt/cpanel/ea-php74/root/usr/bin/lsphp":                  "#!ea74 lsphp\n",
		"/usr/bin/yum": "",
	}
	pleskTree = map[string]string{
		"/etc/apache2/apache2.conf":                  "",
		"/opt/plesk/php/8.3/etc/php.ini":             iniHead,
		"/opt/plesk/php/8.3/etc/php.d/mbstring.ini":  "extension=mbstring.so\n",
		"/opt/plesk/php/8.3/bin/php":                 "#!plesk83\n",
		"/opt/plesk/php/8.3/bin/php-cgi":             "#!plesk83 cgi\n",
		"/opt/plesk/php/8.3/sbin/php-fpm":            "#!plesk83 fpm\n",
		"/opt/plesk/php/8.3/etc/php-fpm.d/site.conf": "[site]\n",
		"/opt/plesk/php/7.4/etc/php.ini":             iniHead,
		"/opt/plesk/php/7.4/bin/php":                 "#!plesk74\n",
		"/opt/plesk/php/7.4/sbin/php-fpm":            "#!plesk74 fpm\n",
		"/usr/bin/apt-get":                           "",
	}
	altTree = map[string]string{
		"/etc/httpd/conf/httpd.conf":            "",
		"/usr/local/lsws/bin/lswsctrl":          "",
		"/opt/alt/php74/etc/php.ini":            iniHead,
		"/opt/alt/php74/etc/php.d/":             "",
		"/opt/alt/php74/usr/bin/php":            "#!alt74\n",
		"/opt/alt/php74/usr/bin/lsphp":          "#!alt74 lsphp\n",
		"/opt/alt/php81/etc/php.ini":            iniHead,
		"/opt/alt/php81/etc/php.d/mbstring.ini": "extension=mbstring.so\n",
		"/opt/alt/php81/usr/bin/php":            "#!alt81\n",
		"/opt/alt/php81/usr/sbin/php-fpm":       "#!alt81 fpm\n",
		"/usr/bin/yum":                          "",
	}
)

type sapiWant struct {
	name, binary, ini, scan string
	services                string
	mbstring                bool
	vars                    int64
	from                    string
	exceeded                int
}

func discoverTree(t *testing.T, files map[string]string) []*Installation {
	t.Helper()
	h := host(t, tree(t, files), nil)
	ins, err := Discover(context.Background(), h, DiscoverOptions{Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

func checkSAPIs(t *testing.T, in *Installation, want []sapiWant) {
	t.Helper()
	if len(in.SAPIs) != len(want) {
		var names []string
		for _, s := range in.SAPIs {
			names = append(names, s.Name)
		}
		t.Fatalf("%s: SAPIs %v, want %d", in.ID, names, len(want))
	}
	for i, w := range want {
		s := in.SAPIs[i]
		got := sapiWant{s.Name, s.Binary, s.Ini, s.ScanDir, strings.Join(s.Services, ","), s.Mbstring, s.MaxInputVars, s.MaxInputVarsFrom, s.Exceeded}
		if got != w {
			t.Errorf("%s SAPI %d:\n got %+v\nwant %+v", in.ID, i, got, w)
		}
		if s.Source != "files" {
			t.Errorf("%s %s: source %q, want files (no probe)", in.ID, s.Name, s.Source)
		}
	}
}

func ids(ins []*Installation) string {
	var out []string
	for _, in := range ins {
		out = append(out, in.ID+"/"+string(in.Layout)+"/"+in.Version)
	}
	return strings.Join(out, " ")
}

func TestDiscoverDebian(t *testing.T) {
	ins := discoverTree(t, debianTree)
	if got, want := ids(ins), "php7.4/debian/7.4 php8.2/debian/8.2 /usr/local/bin/php/path/"; got != want {
		t.Fatalf("installations %q, want %q", got, want)
	}
	p82 := ins[1]
	checkSAPIs(t, p82, []sapiWant{
		{"cli", "/usr/bin/php8.2", "/etc/php/8.2/cli/php.ini", "/etc/php/8.2/cli/conf.d", "", false, 1000, "default", 0},
		{"fpm", "/usr/sbin/php-fpm8.2", "/etc/php/8.2/fpm/php.ini", "/etc/php/8.2/fpm/conf.d", "php8.2-fpm", true, 1000, "default", 1},
		{"apache2", "", "/etc/php/8.2/apache2/php.ini", "/etc/php/8.2/apache2/conf.d", "apache2", true, 1000, "default", 1},
	})
	if got := strings.Join(p82.OnPath, ","); got != "/usr/bin/php,/usr/bin/php8.2" {
		t.Errorf("php8.2 on PATH: %s", got)
	}
	fpm := p82.SAPI("fpm")
	if len(fpm.Pools) != 2 || fpm.Pools[0].Name != "shop" || fpm.Pools[0].MaxInputVars == nil || *fpm.Pools[0].MaxInputVars != 3000 ||
		fpm.Pools[0].Line != 3 || fpm.Pools[0].ErrorLog != "/var/log/php-shop.log" || fpm.Pools[1].MaxInputVars != nil {
		t.Errorf("pools %+v", fpm.Pools)
	}
	if got := strings.Join(fpm.ErrorLogs, ","); got != "/var/log/php-shop.log,/var/log/apache2/error.log" {
		t.Errorf("fpm error logs %s", got)
	}
	checkSAPIs(t, ins[0], []sapiWant{
		{"cli", "/usr/bin/php7.4", "/etc/php/7.4/cli/php.ini", "/etc/php/7.4/cli/conf.d", "", false, 2000, "/etc/php/7.4/cli/php.ini:5", 0},
	})
	checkSAPIs(t, ins[2], []sapiWant{{"cli", "/usr/local/bin/php", "", "", "", false, 1000, "default", 0}})
}

func TestDiscoverRHELAndRemi(t *testing.T) {
	ins := discoverTree(t, rhelTree)
	if got, want := ids(ins), "php/rhel/ php81/remi/8.1"; got != want {
		t.Fatalf("installations %q, want %q", got, want)
	}
	checkSAPIs(t, ins[0], []sapiWant{
		{"cli", "/usr/bin/php", "/etc/php.ini", "/etc/php.d", "", false, 1000, "default", 0},
		{"fpm", "/usr/sbin/php-fpm", "/etc/php.ini", "/etc/php.d", "php-fpm", false, 1000, "default", 2},
	})
	checkSAPIs(t, ins[1], []sapiWant{
		{"cli", "/opt/remi/php81/root/usr/bin/php", "/etc/opt/remi/php81/php.ini", "/etc/opt/remi/php81/php.d", "", true, 1000, "default", 0},
		{"fpm", "/opt/remi/php81/root/usr/sbin/php-fpm", "/etc/opt/remi/php81/php.ini", "/etc/opt/remi/php81/php.d", "php81-php-fpm", true, 1000, "default", 0},
	})
	if got := strings.Join(ins[1].OnPath, ","); got != "/usr/bin/php81" {
		t.Errorf("remi wrapper on PATH: %q", got)
	}
}

func TestDiscoverEA4(t *testing.T) {
	ins := discoverTree(t, ea4Tree)
	if got, want := ids(ins), "ea-php74/cpanel-ea4/7.4 ea-php81/cpanel-ea4/8.1"; got != want {
		t.Fatalf("installations %q, want %q", got, want)
	}
	r := "/opt/cpanel/ea-php74/root"
	checkSAPIs(t, ins[0], []sapiWant{
		{"cli", r + "/usr/bin/php", r + "/etc/php.ini", r + "/etc/php.d", "", false, 1000, "default", 0},
		{"litespeed", r + "/usr/bin/lsphp", r + "/etc/php.ini", r + "/etc/php.d", "httpd", false, 1000, "default", 0},
	})
	if su := ins[0].SAPIs[0].Suhosin; su == nil || su.PostMaxVars != 500 || su.RequestMaxVars != 1000 || su.GetMaxVars != 100 {
		t.Errorf("suhosin %+v", su)
	}
	r = "/opt/cpanel/ea-php81/root"
	checkSAPIs(t, ins[1], []sapiWant{
		{"cli", r + "/usr/bin/php", r + "/etc/php.ini", r + "/etc/php.d", "", true, 1000, "default", 0},
		{"fpm", r + "/usr/sbin/php-fpm", r + "/etc/php.ini", r + "/etc/php.d", "ea-php81-php-fpm", true, 1000, "default", 0},
	})
}

func TestDiscoverPlesk(t *testing.T) {
	ins := discoverTree(t, pleskTree)
	if got, want := ids(ins), "plesk-php74/plesk/7.4 plesk-php83/plesk/8.3"; got != want {
		t.Fatalf("installations %q, want %q", got, want)
	}
	r := "/opt/plesk/php/8.3"
	checkSAPIs(t, ins[1], []sapiWant{
		{"cli", r + "/bin/php", r + "/etc/php.ini", r + "/etc/php.d", "", true, 1000, "default", 0},
		{"fpm", r + "/sbin/php-fpm", r + "/etc/php.ini", r + "/etc/php.d", "plesk-php83-fpm", true, 1000, "default", 0},
		{"cgi", r + "/bin/php-cgi", r + "/etc/php.ini", r + "/etc/php.d", "apache2", true, 1000, "default", 0},
	})
}

func TestDiscoverAltPHP(t *testing.T) {
	ins := discoverTree(t, altTree)
	if got, want := ids(ins), "alt-php74/alt-php/7.4 alt-php81/alt-php/8.1"; got != want {
		t.Fatalf("installations %q, want %q", got, want)
	}
	r := "/opt/alt/php74"
	checkSAPIs(t, ins[0], []sapiWant{
		{"cli", r + "/usr/bin/php", r + "/etc/php.ini", r + "/etc/php.d", "", false, 1000, "default", 0},
		{"litespeed", r + "/usr/bin/lsphp", r + "/etc/php.ini", r + "/etc/php.d", "lsws", false, 1000, "default", 0},
	})
	if s := ins[1].SAPI("fpm"); s == nil || strings.Join(s.Services, ",") != "alt-php81-fpm" {
		t.Errorf("alt-php81 fpm %+v", s)
	}
}

func TestSelected(t *testing.T) {
	in := &Installation{ID: "ea-php81", Version: "8.1"}
	for sel, want := range map[string]bool{"": true, "all": true, "ea-php81": true, "8.1": true, "81": true, "8.2": false, "alt-php81": false} {
		if got := in.Selected(sel); got != want {
			t.Errorf("Selected(%q) = %v", sel, got)
		}
	}
}
