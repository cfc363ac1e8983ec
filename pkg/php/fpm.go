package php

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// fpmFiles returns the PHP-FPM main config and the pool files of an installation.
func (d *discoverer) fpmFiles(in *Installation) (main string, pools []string) {
	switch in.Layout {
	case LayoutDebian:
		base := "/etc/php/" + in.Version + "/fpm"
		return base + "/php-fpm.conf", d.glob(base + "/pool.d/*.conf")
	case LayoutRHEL:
		return "/etc/php-fpm.conf", d.glob("/etc/php-fpm.d/*.conf")
	case LayoutRemi:
		base := "/etc/opt/remi/php" + verToNN(in.Version)
		return base + "/php-fpm.conf", d.glob(base + "/php-fpm.d/*.conf")
	case LayoutEA4, LayoutPlesk, LayoutAltPHP:
		return in.Prefix + "/etc/php-fpm.conf", d.glob(in.Prefix + "/etc/php-fpm.d/*.conf")
	}
	return "", nil
}

// pools reads the FPM pools of an fpm SAPI: which pin max_input_vars, and their logs.
func (d *discoverer) pools(in *Installation, s *SAPI) {
	if s.Name != SAPIFPM {
		return
	}
	main, files := d.fpmFiles(in)
	s.Pools = nil
	for _, f := range append([]string{main}, files...) {
		data, err := d.h.ReadFile(f)
		if err != nil {
			continue
		}
		s.Pools = append(s.Pools, ParsePools(f, data)...)
	}
}

// ParsePools reads the pools ([name] sections other than [global]) of one PHP-FPM config
// file; $pool in values is the pool's name, as PHP-FPM expands it.
func ParsePools(file string, data []byte) []Pool {
	ds, _ := ParseIni(data, nil)
	var out []Pool
	idx := map[string]int{}
	for _, d := range ds {
		if d.Section == "" || d.Section == "global" {
			continue
		}
		i, ok := idx[d.Section]
		if !ok {
			out = append(out, Pool{Name: d.Section, File: file})
			i = len(out) - 1
			idx[d.Section] = i
		}
		p := &out[i]
		switch d.Key {
		case "php_admin_value[max_input_vars]", "php_value[max_input_vars]":
			// php_admin_value wins over php_value whatever the order.
			if p.Key == "php_admin_value[max_input_vars]" && d.Key == "php_value[max_input_vars]" {
				continue
			}
			n, ok := ParseQuantity(d.Value)
			if !ok {
				continue
			}
			p.MaxInputVars, p.Key, p.Line = &n, d.Key, d.Line
		case "php_admin_value[error_log]", "php_value[error_log]":
			p.ErrorLog = strings.ReplaceAll(d.Value, "$pool", d.Section)
		}
	}
	return out
}

// errorLogs decides where this SAPI's PHP warnings go and counts "Input variables
// exceeded <max_input_vars>" in them.
func (d *discoverer) errorLogs(in *Installation, s *SAPI) {
	if !s.Web() {
		return
	}
	var logs []string
	add := func(p string) {
		if !strings.HasPrefix(p, "/") {
			return // syslog, stderr, relative paths
		}
		for _, l := range logs {
			if l == p {
				return
			}
		}
		logs = append(logs, p)
	}
	if s.iniErrorLog != "" {
		add(s.iniErrorLog)
	} else if dd, _, ok := s.setting("error_log"); ok {
		add(dd.Value)
	}
	for _, p := range s.Pools {
		add(p.ErrorLog)
	}
	if s.Name == SAPIFPM {
		switch in.Layout {
		case LayoutDebian:
			add("/var/log/php" + in.Version + "-fpm.log")
		case LayoutRHEL:
			add("/var/log/php-fpm/error.log")
		case LayoutRemi:
			add("/var/opt/remi/php" + verToNN(in.Version) + "/log/php-fpm/error.log")
		case LayoutEA4, LayoutPlesk, LayoutAltPHP:
			add(in.Prefix + "/usr/var/log/php-fpm.log")
		}
	}
	// Without an error_log, warnings reach the web server's error log (mod_php, CGI, and
	// FPM's FastCGI stderr).
	add(d.web.errorLog)
	for _, l := range d.cfg.ErrorLogs {
		add(l)
	}
	s.ErrorLogs = nil
	s.Exceeded = 0
	for _, l := range logs {
		if !d.exists(l) {
			continue
		}
		s.ErrorLogs = append(s.ErrorLogs, l)
		n := d.countExceeded(l, s.MaxInputVars)
		s.Exceeded += n
		if n > 0 {
			if s.exceededIn == nil {
				s.exceededIn = map[string]int{}
			}
			s.exceededIn[fmt.Sprintf("%s\x00%d", l, s.MaxInputVars)] = n
		}
	}
}

var reExceeded = regexp.MustCompile(`Input variables exceeded ([0-9]+)`)

// countExceeded counts lines in the tail of a log that report input variables exceeding
// limit (PHP names the limit it hit, so a log shared by SAPIs with different limits is
// attributed right).
func (d *discoverer) countExceeded(p string, limit int64) int {
	f, err := d.h.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && d.cfg.LogTailBytes > 0 && fi.Size() > d.cfg.LogTailBytes {
		if _, err := f.Seek(fi.Size()-d.cfg.LogTailBytes, io.SeekStart); err != nil {
			return 0
		}
	}
	return CountExceeded(f, limit)
}

// CountExceeded counts "Input variables exceeded N" lines with N == limit in r.
func CountExceeded(r io.Reader, limit int64) int {
	n := 0
	want := []byte("Input variables exceeded ")
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, want) {
			continue
		}
		m := reExceeded.FindSubmatch(line)
		if m == nil {
			continue
		}
		if v, ok := ParseQuantity(string(m[1])); ok && v == limit {
			n++
		}
	}
	return n
}
