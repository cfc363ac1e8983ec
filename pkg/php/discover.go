package php

import (
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// Layout is how an installation is packaged.
type Layout string

// The layouts Discover knows.
const (
	LayoutDebian Layout = "debian"     // /etc/php/<X.Y>/<sapi>, php<X.Y>-* packages
	LayoutRHEL   Layout = "rhel"       // /etc/php.ini, /etc/php.d, php-* packages
	LayoutRemi   Layout = "remi"       // /etc/opt/remi/php<NN>, /opt/remi/php<NN>/root
	LayoutEA4    Layout = "cpanel-ea4" // /opt/cpanel/ea-php<NN>/root
	LayoutPlesk  Layout = "plesk"      // /opt/plesk/php/<X.Y>
	LayoutAltPHP Layout = "alt-php"    // CloudLinux /opt/alt/php<NN>
	LayoutPath   Layout = "path"       // a php on PATH that belongs to none of the above
)

// SAPI names.
const (
	SAPICLI       = "cli"
	SAPIFPM       = "fpm"
	SAPIApache2   = "apache2" // mod_php
	SAPICGI       = "cgi"
	SAPILiteSpeed = "litespeed" // lsphp
)

// Defaults PHP uses when no ini sets them.
const (
	DefaultMaxInputVars          = 1000
	DefaultMaxMultipartBodyParts = -1 // max_input_vars + max_file_uploads (PHP ≥ 8.0.29/8.1.17/8.2.4)
)

// Installation is one PHP build on the host, with the SAPIs it serves through.
type Installation struct {
	// ID names it for --php and in messages: php8.2 (Debian), php (RHEL), php81 (Remi),
	// ea-php81, plesk-php81, alt-php81, or the binary's path for a PHP found only on PATH.
	ID      string `json:"id"`
	Layout  Layout `json:"layout"`
	Version string `json:"version"` // X.Y; "" when the files do not say (RHEL under --root)
	// FullVersion is what the binary reported (8.2.36); "" under --root.
	FullVersion string `json:"full_version,omitempty"`
	// Prefix is where the build lives (/opt/cpanel/ea-php81/root); "" for the system PHP.
	Prefix string `json:"prefix,omitempty"`
	// OnPath lists the binaries on the search path that run this PHP (/usr/bin/php).
	OnPath []string `json:"on_path,omitempty"`
	SAPIs  []*SAPI  `json:"sapis"`
	// ModsAvailable is Debian's /etc/php/<X.Y>/mods-available (phpenmod's source).
	ModsAvailable string `json:"-"`
}

// SAPI is one way an installation runs PHP, with the configuration it loads.
type SAPI struct {
	Name string `json:"name"`
	// Binary runs this SAPI (php8.2, php-fpm8.2, php-cgi); "" for mod_php, which lives in
	// the web server and is probed with the CLI binary and this SAPI's ini files.
	Binary string `json:"binary,omitempty"`
	// Module is mod_php's shared object (apache2 only).
	Module string `json:"module,omitempty"`
	// Services serve it: restart or reload these after a change (none for the CLI).
	Services []string `json:"services"`
	// Ini is the loaded php.ini ("" when there is none); ScanDir the additional .ini
	// directory; Scanned the files read from it, in order.
	Ini     string   `json:"ini"`
	ScanDir string   `json:"scan_dir"`
	Scanned []string `json:"scanned,omitempty"`
	// Source says where the values come from: "binary" (asked the SAPI's binary),
	// "cli binary with this SAPI's ini" (mod_php), or "files" (computed from the ini files:
	// under --root, or when the binary could not be run).
	Source   string `json:"source"`
	Mbstring bool   `json:"mbstring"`
	// MaxInputVars is the effective value; MaxInputVarsFrom the file:line that sets it
	// ("default" when none does).
	MaxInputVars          int64  `json:"max_input_vars"`
	MaxInputVarsFrom      string `json:"max_input_vars_from"`
	MaxMultipartBodyParts int64  `json:"max_multipart_body_parts"`
	// Suhosin is set when the Suhosin extension is loaded.
	Suhosin *Suhosin `json:"suhosin,omitempty"`
	// Pools are PHP-FPM pools (fpm only).
	Pools []Pool `json:"pools,omitempty"`
	// ErrorLogs are the logs PHP warnings of this SAPI end up in.
	ErrorLogs []string `json:"error_logs,omitempty"`
	// Exceeded counts "Input variables exceeded <max_input_vars>" lines in ErrorLogs.
	Exceeded int `json:"input_vars_exceeded"`

	// files are the ini files read, in order, with their directives.
	files []iniFile
	// exceededIn counts the lines per log and limit, so that a log shared by SAPIs (the
	// web server's) is counted once in the host's total.
	exceededIn map[string]int
	// iniErrorLog is error_log as the binary reported it.
	iniErrorLog string
	// errors met while reading the configuration (unreadable or unparsable files).
	problems []string
}

// Suhosin caps that limit input variables on their own.
type Suhosin struct {
	PostMaxVars    int64 `json:"post_max_vars"`
	RequestMaxVars int64 `json:"request_max_vars"`
	GetMaxVars     int64 `json:"get_max_vars"`
	CookieMaxVars  int64 `json:"cookie_max_vars"`
}

// Pool is one PHP-FPM pool.
type Pool struct {
	Name string `json:"name"`
	File string `json:"file"`
	// MaxInputVars is set when the pool pins max_input_vars (php_admin_value or php_value),
	// which wins over php.ini for its requests; Line and Key say where.
	MaxInputVars *int64 `json:"max_input_vars,omitempty"`
	Key          string `json:"key,omitempty"`
	Line         int    `json:"line,omitempty"`
	ErrorLog     string `json:"error_log,omitempty"`
}

type iniFile struct {
	path string
	ds   []Directive
}

// Web reports whether the SAPI serves web requests (all but the CLI).
func (s *SAPI) Web() bool { return s.Name != SAPICLI }

// DiscoverOptions tune Discover.
type DiscoverOptions struct {
	Config Config
	// Probe asks each SAPI's binary (live host only); false computes from the files.
	Probe bool
}

// Discover finds every PHP installation on the host and what each SAPI loads. On a live
// host (Probe) each SAPI's binary is asked (-i and -m); the ini files are read in every
// case, since changes are planned against them.
func Discover(ctx context.Context, h *system.Host, o DiscoverOptions) ([]*Installation, error) {
	d := &discoverer{h: h, cfg: o.Config, ctx: ctx}
	d.web = d.webServer()
	var all []*Installation
	for _, f := range []func() []*Installation{d.debian, d.rhel, d.remi, d.ea4, d.plesk, d.altphp} {
		all = append(all, f()...)
	}
	all = append(all, d.onPath(all)...)
	for _, in := range all {
		for _, s := range in.SAPIs {
			d.readConfig(in, s)
			if o.Probe {
				d.probe(in, s)
			}
			d.pools(in, s)
			d.errorLogs(in, s)
			if s.Services == nil {
				s.Services = []string{}
			}
		}
		if in.Version == "" {
			in.Version = majorMinor(in.FullVersion)
		}
	}
	return mergeWrappers(all), nil
}

// mergeWrappers folds a php found only on PATH into the installation whose CLI loads the
// same php.ini, as the binary reported it: a wrapper script or a copy (cPanel's
// /usr/local/bin/php dispatcher, a hand-made link farm) is that PHP, not another one.
func mergeWrappers(all []*Installation) []*Installation {
	out := all[:0:0]
	for _, in := range all {
		if in.Layout == LayoutPath && len(in.SAPIs) == 1 && in.SAPIs[0].Source == "binary" && in.SAPIs[0].Ini != "" {
			if owner := cliWithIni(all, in.SAPIs[0].Ini); owner != nil {
				owner.OnPath = append(owner.OnPath, in.OnPath...)
				continue
			}
		}
		out = append(out, in)
	}
	return out
}

func cliWithIni(all []*Installation, ini string) *Installation {
	for _, in := range all {
		if in.Layout == LayoutPath {
			continue
		}
		if s := in.SAPI(SAPICLI); s != nil && s.Ini == ini {
			return in
		}
	}
	return nil
}

type discoverer struct {
	h   *system.Host
	cfg Config
	ctx context.Context
	web webServer
}

// webServer is the Apache flavour on the host.
type webServer struct {
	service  string // apache2 or httpd; "" when none
	errorLog string
	lsws     bool // LiteSpeed Web Server serves lsphp
}

func (d *discoverer) webServer() webServer {
	h := d.h
	var w webServer
	switch {
	case h.Exists("/etc/apache2/conf/httpd.conf") || h.Exists("/usr/local/cpanel"):
		// cPanel's EasyApache 4 runs Apache as "httpd" with its config under /etc/apache2.
		w = webServer{service: "httpd", errorLog: "/etc/apache2/logs/error_log"}
	case h.Exists("/etc/apache2/apache2.conf"):
		w = webServer{service: "apache2", errorLog: "/var/log/apache2/error.log"}
	case h.Exists("/etc/httpd/conf/httpd.conf"):
		w = webServer{service: "httpd", errorLog: "/var/log/httpd/error_log"}
	}
	w.lsws = h.Exists("/usr/local/lsws/bin/lswsctrl")
	return w
}

func (d *discoverer) exists(p string) bool { return d.h.Exists(p) }

func (d *discoverer) glob(pattern string) []string {
	m, err := d.h.Glob(pattern)
	if err != nil {
		return nil
	}
	sort.Strings(m)
	return m
}

var reVer = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
var reNN = regexp.MustCompile(`^[0-9]{2,3}$`)

// nnToVer turns 81 into 8.1 and 710 (never seen, but safe) into 7.10.
func nnToVer(nn string) string { return nn[:1] + "." + nn[1:] }

func verToNN(v string) string { return strings.ReplaceAll(v, ".", "") }

func majorMinor(full string) string {
	parts := strings.SplitN(full, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// debian: /etc/php/<X.Y>/{cli,fpm,apache2,cgi}.
func (d *discoverer) debian() []*Installation {
	var out []*Installation
	for _, dir := range d.glob("/etc/php/*") {
		ver := path.Base(dir)
		if !reVer.MatchString(ver) {
			continue
		}
		in := &Installation{ID: "php" + ver, Layout: LayoutDebian, Version: ver, ModsAvailable: dir + "/mods-available"}
		for _, name := range []string{SAPICLI, SAPIFPM, SAPIApache2, SAPICGI} {
			sd := dir + "/" + name
			if !d.exists(sd) {
				continue
			}
			s := &SAPI{Name: name, Ini: sd + "/php.ini", ScanDir: sd + "/conf.d"}
			switch name {
			case SAPICLI:
				s.Binary = "/usr/bin/php" + ver
			case SAPIFPM:
				s.Binary = "/usr/sbin/php-fpm" + ver
				s.Services = []string{"php" + ver + "-fpm"}
			case SAPIApache2:
				s.Module = "/usr/lib/apache2/modules/libphp" + ver + ".so"
				s.Services = []string{"apache2"}
			case SAPICGI:
				s.Binary = "/usr/bin/php-cgi" + ver
				if d.web.service != "" {
					s.Services = []string{d.web.service}
				}
			}
			in.SAPIs = append(in.SAPIs, s)
		}
		if len(in.SAPIs) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// rhel: the distribution PHP of RHEL-like systems (also Remi's module streams, which
// replace it): /etc/php.ini and /etc/php.d shared by every SAPI.
func (d *discoverer) rhel() []*Installation {
	if !d.exists("/etc/php.ini") && !d.exists("/etc/php.d") {
		return nil
	}
	in := &Installation{ID: "php", Layout: LayoutRHEL}
	in.Version = d.versionFromHeader("/usr/include/php/main/php_version.h")
	add := func(name, bin string, services ...string) {
		in.SAPIs = append(in.SAPIs, &SAPI{Name: name, Binary: bin, Ini: "/etc/php.ini", ScanDir: "/etc/php.d", Services: services})
	}
	if d.exists("/usr/bin/php") {
		add(SAPICLI, "/usr/bin/php")
	}
	if d.exists("/usr/sbin/php-fpm") {
		add(SAPIFPM, "/usr/sbin/php-fpm", "php-fpm")
	}
	if mods := d.glob("/usr/lib64/httpd/modules/libphp*.so"); len(mods) > 0 {
		add(SAPIApache2, "", "httpd")
		in.SAPIs[len(in.SAPIs)-1].Module = mods[0]
	}
	if d.exists("/usr/bin/php-cgi") {
		add(SAPICGI, "/usr/bin/php-cgi", d.webServices()...)
	}
	if len(in.SAPIs) == 0 {
		return nil
	}
	return []*Installation{in}
}

func (d *discoverer) webServices() []string {
	if d.web.service == "" {
		return nil
	}
	return []string{d.web.service}
}

// versionFromHeader reads PHP_VERSION from php_version.h (php-devel) when present.
func (d *discoverer) versionFromHeader(p string) string {
	data, err := d.h.ReadFile(p)
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`#define PHP_VERSION "([0-9]+\.[0-9]+)`).FindSubmatch(data)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// prefixed adds the SAPIs of a build installed under one prefix (Remi, EA4, Plesk,
// alt-php): bins maps a SAPI to its binary under the prefix.
func (d *discoverer) prefixed(in *Installation, ini, scan string, bins map[string]string, services map[string][]string) {
	for _, name := range []string{SAPICLI, SAPIFPM, SAPICGI, SAPILiteSpeed} {
		bin, ok := bins[name]
		if !ok || !d.exists(bin) {
			continue
		}
		in.SAPIs = append(in.SAPIs, &SAPI{Name: name, Binary: bin, Ini: ini, ScanDir: scan, Services: services[name]})
	}
}

// remi: parallel-installable PHPs from the Remi repository.
func (d *discoverer) remi() []*Installation {
	var out []*Installation
	for _, dir := range d.glob("/etc/opt/remi/php*") {
		nn := strings.TrimPrefix(path.Base(dir), "php")
		if !reNN.MatchString(nn) {
			continue
		}
		root := "/opt/remi/php" + nn + "/root"
		in := &Installation{ID: "php" + nn, Layout: LayoutRemi, Version: nnToVer(nn), Prefix: root}
		d.prefixed(in, dir+"/php.ini", dir+"/php.d", map[string]string{
			SAPICLI: root + "/usr/bin/php", SAPIFPM: root + "/usr/sbin/php-fpm", SAPICGI: root + "/usr/bin/php-cgi",
		}, map[string][]string{SAPIFPM: {"php" + nn + "-php-fpm"}, SAPICGI: d.webServices()})
		if len(in.SAPIs) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// ea4: cPanel EasyApache 4.
func (d *discoverer) ea4() []*Installation {
	var out []*Installation
	for _, dir := range d.glob("/opt/cpanel/ea-php*") {
		nn := strings.TrimPrefix(path.Base(dir), "ea-php")
		if !reNN.MatchString(nn) {
			continue
		}
		root := dir + "/root"
		in := &Installation{ID: "ea-php" + nn, Layout: LayoutEA4, Version: nnToVer(nn), Prefix: root}
		web := []string{"httpd"}
		d.prefixed(in, root+"/etc/php.ini", root+"/etc/php.d", map[string]string{
			SAPICLI: root + "/usr/bin/php", SAPIFPM: root + "/usr/sbin/php-fpm", SAPICGI: root + "/usr/bin/php-cgi",
			SAPILiteSpeed: root + "/usr/bin/lsphp",
		}, map[string][]string{SAPIFPM: {"ea-php" + nn + "-php-fpm"}, SAPICGI: web, SAPILiteSpeed: d.lsphpServices()})
		if len(in.SAPIs) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// lsphp is served by LiteSpeed Web Server when it is installed, else by Apache's mod_lsapi.
func (d *discoverer) lsphpServices() []string {
	if d.web.lsws {
		return []string{"lsws"}
	}
	return d.webServices()
}

// plesk: Plesk's PHP handlers.
func (d *discoverer) plesk() []*Installation {
	var out []*Installation
	for _, dir := range d.glob("/opt/plesk/php/*") {
		ver := path.Base(dir)
		if !reVer.MatchString(ver) {
			continue
		}
		nn := verToNN(ver)
		in := &Installation{ID: "plesk-php" + nn, Layout: LayoutPlesk, Version: ver, Prefix: dir}
		d.prefixed(in, dir+"/etc/php.ini", dir+"/etc/php.d", map[string]string{
			SAPICLI: dir + "/bin/php", SAPIFPM: dir + "/sbin/php-fpm", SAPICGI: dir + "/bin/php-cgi",
		}, map[string][]string{SAPIFPM: {"plesk-php" + nn + "-fpm"}, SAPICGI: d.webServices()})
		if len(in.SAPIs) > 0 {
			out = append(out, in)
		}
	}
	return out
}

// altphp: CloudLinux alt-php.
func (d *discoverer) altphp() []*Installation {
	var out []*Installation
	for _, dir := range d.glob("/opt/alt/php*") {
		nn := strings.TrimPrefix(path.Base(dir), "php")
		if !reNN.MatchString(nn) {
			continue
		}
		in := &Installation{ID: "alt-php" + nn, Layout: LayoutAltPHP, Version: nnToVer(nn), Prefix: dir}
		d.prefixed(in, dir+"/etc/php.ini", dir+"/etc/php.d", map[string]string{
			SAPICLI: dir + "/usr/bin/php", SAPIFPM: dir + "/usr/sbin/php-fpm", SAPICGI: dir + "/usr/bin/php-cgi",
			SAPILiteSpeed: dir + "/usr/bin/lsphp",
		}, map[string][]string{SAPIFPM: {"alt-php" + nn + "-fpm"}, SAPICGI: d.webServices(), SAPILiteSpeed: d.lsphpServices()})
		if len(in.SAPIs) > 0 {
			out = append(out, in)
		}
	}
	return out
}

var rePathBinary = regexp.MustCompile(`^php(\d(\.\d+)?|\d{2,3})?$`)

// onPath attaches php binaries on the search path to the installations they run, and
// returns an installation for each one that belongs to none (a PHP built from source).
func (d *discoverer) onPath(known []*Installation) []*Installation {
	var extra []*Installation
	var seen, dirs []os.FileInfo
	for _, dir := range d.cfg.SearchPath {
		// /bin is often a link to /usr/bin: read each directory once.
		di, err := d.h.Stat(dir)
		if err != nil || containsSame(dirs, di) {
			continue
		}
		dirs = append(dirs, di)
		entries, err := d.h.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !rePathBinary.MatchString(name) {
				continue
			}
			p := dir + "/" + name
			fi, err := d.h.Stat(p)
			if err != nil || fi.IsDir() {
				continue
			}
			if in := d.owner(known, p, name, fi); in != nil {
				in.OnPath = append(in.OnPath, p)
				continue
			}
			// php and php8.3 linked to one unpackaged build are one PHP.
			if containsSame(seen, fi) {
				continue
			}
			seen = append(seen, fi)
			in := &Installation{ID: p, Layout: LayoutPath, OnPath: []string{p}}
			in.SAPIs = []*SAPI{{Name: SAPICLI, Binary: p}}
			extra = append(extra, in)
			known = append(known, in)
		}
	}
	return extra
}

func containsSame(fis []os.FileInfo, fi os.FileInfo) bool {
	for _, o := range fis {
		if os.SameFile(o, fi) {
			return true
		}
	}
	return false
}

// owner finds the installation whose CLI binary is the same file as p, or that a
// versioned name on PATH stands for (Remi's /usr/bin/php81 is a wrapper script).
func (d *discoverer) owner(known []*Installation, p, name string, fi os.FileInfo) *Installation {
	for _, in := range known {
		for _, s := range in.SAPIs {
			if s.Name != SAPICLI || s.Binary == "" {
				continue
			}
			if s.Binary == p {
				return in
			}
			if bi, err := d.h.Stat(s.Binary); err == nil && os.SameFile(fi, bi) {
				return in
			}
		}
	}
	v := strings.TrimPrefix(name, "php")
	for _, in := range known {
		if in.Layout == LayoutRemi && v == verToNN(in.Version) {
			return in
		}
	}
	return nil
}

// readConfig reads the SAPI's php.ini and scan dir and computes what they set.
func (d *discoverer) readConfig(in *Installation, s *SAPI) {
	s.Source = "files"
	s.files = nil
	if s.Ini != "" {
		if data, err := d.h.ReadFile(s.Ini); err == nil {
			ds, perr := ParseIni(data, nil)
			if perr != nil {
				s.problems = append(s.problems, fmt.Sprintf("%s: %v", s.Ini, perr))
			}
			s.files = append(s.files, iniFile{path: s.Ini, ds: ds})
		} else if !system.IsNotExist(err) {
			s.problems = append(s.problems, fmt.Sprintf("%s: %v", s.Ini, err))
		}
	}
	s.Scanned = nil
	for _, dir := range ScanDirs(s.ScanDir) {
		entries, err := d.h.ReadDir(dir)
		if err != nil && !system.IsNotExist(err) {
			s.problems = append(s.problems, fmt.Sprintf("%s: %v", dir, err))
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".ini") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names) // PHP reads the scan dir in strcmp order
		for _, n := range names {
			p := dir + "/" + n
			data, err := d.h.ReadFile(p)
			if err != nil {
				// A dangling Debian conf.d link (module package removed) is skipped by PHP.
				if !system.IsNotExist(err) {
					s.problems = append(s.problems, fmt.Sprintf("%s: %v", p, err))
				}
				continue
			}
			ds, perr := ParseIni(data, nil)
			if perr != nil {
				s.problems = append(s.problems, fmt.Sprintf("%s: %v", p, perr))
			}
			s.Scanned = append(s.Scanned, p)
			s.files = append(s.files, iniFile{path: p, ds: ds})
		}
	}
	s.MaxInputVars, s.MaxInputVarsFrom = s.intSetting("max_input_vars", DefaultMaxInputVars)
	s.MaxMultipartBodyParts, _ = s.intSetting("max_multipart_body_parts", DefaultMaxMultipartBodyParts)
	s.Mbstring = s.extensionLoaded("mbstring")
	if s.extensionLoaded("suhosin") {
		s.Suhosin = &Suhosin{}
		s.Suhosin.PostMaxVars, _ = s.intSetting("suhosin.post.max_vars", 1000)
		s.Suhosin.RequestMaxVars, _ = s.intSetting("suhosin.request.max_vars", 1000)
		s.Suhosin.GetMaxVars, _ = s.intSetting("suhosin.get.max_vars", 100)
		s.Suhosin.CookieMaxVars, _ = s.intSetting("suhosin.cookie.max_vars", 100)
	}
}

// ScanDirs splits a scan dir setting: PHP_INI_SCAN_DIR (and so what the binary reports)
// may list several directories separated by ":", read in that order; an empty entry
// stands for the compiled-in directory, which hostfix cannot know and skips.
func ScanDirs(v string) []string {
	var out []string
	for _, d := range strings.Split(v, ":") {
		if d = strings.TrimRight(d, "/"); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// setting returns the last value of key across the files, with its file:line.
func (s *SAPI) setting(key string) (Directive, string, bool) {
	for i := len(s.files) - 1; i >= 0; i-- {
		if d, ok := Last(s.files[i].ds, key); ok {
			return d, s.files[i].path, true
		}
	}
	return Directive{}, "", false
}

func (s *SAPI) intSetting(key string, def int64) (int64, string) {
	d, file, ok := s.setting(key)
	if !ok {
		return def, "default"
	}
	n, valid := ParseQuantity(d.Value)
	if !valid {
		return def, fmt.Sprintf("%s:%d (invalid %q, PHP uses the default)", file, d.Line, d.Value)
	}
	return n, fmt.Sprintf("%s:%d", file, d.Line)
}

// extensionLoaded reports whether an extension= line (in any file read) loads name:
// extension=mbstring, extension=mbstring.so, extension=php_mbstring.dll or a full path.
func (s *SAPI) extensionLoaded(name string) bool {
	for _, f := range s.files {
		for _, d := range f.ds {
			if d.Scoped() || (d.Key != "extension" && d.Key != "zend_extension") {
				continue
			}
			if extName(d.Value) == name {
				return true
			}
		}
	}
	return false
}

func extName(v string) string {
	b := path.Base(strings.ReplaceAll(v, `\`, "/"))
	b = strings.TrimSuffix(strings.TrimSuffix(b, ".so"), ".dll")
	return strings.TrimPrefix(b, "php_")
}

// Selected reports whether sel (a --php value) names the installation: "all" or "",
// its ID, or its version (8.1 matches ea-php81 and alt-php81 alike).
func (in *Installation) Selected(sel string) bool {
	switch sel {
	case "", "all":
		return true
	}
	return sel == in.ID || sel == in.Version || (in.Version != "" && sel == verToNN(in.Version))
}
