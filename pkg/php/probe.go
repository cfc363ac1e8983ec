package php

import (
	"bufio"
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// ProbeArgv is the command that asks a SAPI's own binary for its configuration (phpinfo).
// mod_php has no binary of its own: the installation's CLI binary is run with the
// apache2 SAPI's php.ini (-c) and scan dir (PHP_INI_SCAN_DIR), which is what mod_php loads.
func ProbeArgv(in *Installation, s *SAPI, flag string) (system.Cmd, bool) {
	if s.Binary != "" {
		return system.Cmd{Argv: []string{s.Binary, flag}}, true
	}
	cli := in.SAPI(SAPICLI)
	if cli == nil || cli.Binary == "" {
		return system.Cmd{}, false
	}
	c := system.Cmd{Argv: []string{cli.Binary}}
	if s.Ini != "" {
		c.Argv = append(c.Argv, "-c", s.Ini)
	}
	c.Argv = append(c.Argv, flag)
	c.Env = []string{"PHP_INI_SCAN_DIR=" + s.ScanDir}
	return c, true
}

// SAPI returns the installation's SAPI by name, nil when it has none.
func (in *Installation) SAPI(name string) *SAPI {
	for _, s := range in.SAPIs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// probe asks the SAPI's binary (-i for settings, -m for modules) and overlays its answers
// on what the files said; a binary that cannot run leaves the file values and a problem.
func (d *discoverer) probe(in *Installation, s *SAPI) {
	ci, ok := ProbeArgv(in, s, "-i")
	if !ok {
		return
	}
	if s.Binary != "" && !d.exists(s.Binary) {
		return
	}
	res, err := d.h.Runner.Run(d.ctx, ci)
	if err != nil {
		s.problems = append(s.problems, fmt.Sprintf("%s: %v (values computed from the ini files)", ci, err))
		return
	}
	info := ParsePHPInfo(res.Stdout)
	cm, _ := ProbeArgv(in, s, "-m")
	mres, err := d.h.Runner.Run(d.ctx, cm)
	if err != nil {
		s.problems = append(s.problems, fmt.Sprintf("%s: %v (values computed from the ini files)", cm, err))
		return
	}
	mods := ParseModules(mres.Stdout)
	if s.Binary == "" {
		s.Source = "cli binary with this SAPI's ini"
	} else {
		s.Source = "binary"
	}
	if v := info.Get("PHP Version"); v != "" && in.FullVersion == "" {
		in.FullVersion = v
	}
	ini, scan := s.Ini, s.ScanDir
	if v := info.Get("Loaded Configuration File"); v != "" {
		ini = noneEmpty(v)
	}
	if v := info.Get("Scan this dir for additional .ini files"); v != "" {
		scan = noneEmpty(v)
	}
	if ini != s.Ini || scan != s.ScanDir {
		// The binary reads other files than its layout's (PHP_INI_SCAN_DIR, -c, a
		// different build): plan against those.
		s.Ini, s.ScanDir = ini, scan
		d.readConfig(in, s)
		if s.Binary == "" {
			s.Source = "cli binary with this SAPI's ini"
		} else {
			s.Source = "binary"
		}
	}
	s.Mbstring = mods["mbstring"]
	if n, ok := info.Int("max_input_vars"); ok {
		if n != s.MaxInputVars {
			s.MaxInputVarsFrom = "binary (the ini files say " + fmt.Sprint(s.MaxInputVars) + ": set by -d, PHP_INI_SCAN_DIR or a file hostfix did not read)"
		}
		s.MaxInputVars = n
	}
	if n, ok := info.Int("max_multipart_body_parts"); ok {
		s.MaxMultipartBodyParts = n
	}
	if mods["suhosin"] || mods["suhosin7"] {
		s.Suhosin = &Suhosin{PostMaxVars: 1000, RequestMaxVars: 1000, GetMaxVars: 100, CookieMaxVars: 100}
		if n, ok := info.Int("suhosin.post.max_vars"); ok {
			s.Suhosin.PostMaxVars = n
		}
		if n, ok := info.Int("suhosin.request.max_vars"); ok {
			s.Suhosin.RequestMaxVars = n
		}
		if n, ok := info.Int("suhosin.get.max_vars"); ok {
			s.Suhosin.GetMaxVars = n
		}
		if n, ok := info.Int("suhosin.cookie.max_vars"); ok {
			s.Suhosin.CookieMaxVars = n
		}
	} else {
		s.Suhosin = nil
	}
	if v := info.Get("error_log"); v != "" && v != "no value" {
		s.iniErrorLog = v
	}
}

func noneEmpty(v string) string {
	if v == "(none)" {
		return ""
	}
	return v
}

// PHPInfo is phpinfo() output as key -> local value.
type PHPInfo map[string]string

// Get returns a key's value ("" when absent).
func (p PHPInfo) Get(k string) string { return p[k] }

// Int returns an integer setting.
func (p PHPInfo) Int(k string) (int64, bool) {
	v, ok := p[k]
	if !ok {
		return 0, false
	}
	return ParseQuantity(v)
}

var reTag = regexp.MustCompile(`<[^>]*>`)
var reHTMLRow = regexp.MustCompile(`(?i)<tr>\s*<td class="e">(.*?)</td>\s*<td class="v">(.*?)</td>`)

// ParsePHPInfo reads phpinfo() output in either form a binary prints it: text
// ("max_input_vars => 1000 => 1000", php -i, php-fpm -i) or HTML (php-cgi -i, one table
// row per setting). The first value is the local one; the first occurrence of a key wins
// (later ones are per-module repeats such as a second "PHP Version").
func ParsePHPInfo(out []byte) PHPInfo {
	info := PHPInfo{}
	if bytes.Contains(out, []byte(`<td class="e">`)) {
		for _, m := range reHTMLRow.FindAllSubmatch(out, -1) {
			k := strings.TrimSpace(html.UnescapeString(reTag.ReplaceAllString(string(m[1]), "")))
			v := strings.TrimSpace(html.UnescapeString(reTag.ReplaceAllString(string(m[2]), "")))
			if _, ok := info[k]; !ok && k != "" {
				info[k] = v
			}
		}
		return info
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, rest, ok := strings.Cut(sc.Text(), " => ")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, " => ")
		k = strings.TrimSpace(k)
		if _, seen := info[k]; !seen && k != "" {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

// ParseModules reads `php -m`: module names under [PHP Modules] and [Zend Modules],
// lower-cased (the CLI prints "Zend OPcache", "PDO").
func ParseModules(out []byte) map[string]bool {
	mods := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "[") || strings.Contains(l, ":") {
			continue // headers, and the X-Powered-By/Content-type lines php-cgi prints
		}
		mods[strings.ToLower(l)] = true
	}
	return mods
}
