package synflood

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// Assignment is one "key = value" line of a sysctl.d file.
type Assignment struct {
	Key   string // normalised to dots: net.ipv4.tcp_syncookies
	Value string
	Line  int  // 1-based
	Glob  bool // the key is a pattern (systemd ≥ 246), e.g. net.ipv4.conf.*.rp_filter
	// IgnoreFailure is the "-key = value" form.
	IgnoreFailure bool
}

// ParseSysctlConf parses sysctl.d syntax the way systemd-sysctl does: blank lines and lines
// starting with # or ; are comments; "key = value" with whitespace trimmed around both (no
// inline comments: the rest of the line is the value); a leading "-" means failures are
// ignored; "/" separators are turned into ".". Lines that are not assignments are returned
// as errors alongside the assignments (systemd logs and skips them).
func ParseSysctlConf(data []byte) ([]Assignment, []error) {
	var out []Assignment
	var errs []error
	n := 0
	for len(data) > 0 {
		n++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || t[0] == ';' {
			continue
		}
		eq := bytes.IndexByte(t, '=')
		if eq < 0 {
			errs = append(errs, fmt.Errorf("line %d: not an assignment: %q", n, trunc(t)))
			continue
		}
		key := string(bytes.TrimSpace(t[:eq]))
		a := Assignment{Value: string(bytes.TrimSpace(t[eq+1:])), Line: n}
		if strings.HasPrefix(key, "-") {
			a.IgnoreFailure = true
			key = strings.TrimSpace(key[1:])
		}
		if key == "" {
			errs = append(errs, fmt.Errorf("line %d: empty key", n))
			continue
		}
		a.Key = NormalizeSysctlKey(key)
		a.Glob = strings.ContainsAny(a.Key, "*?[")
		out = append(out, a)
	}
	return out, errs
}

// NormalizeSysctlKey turns "net/ipv4/tcp_syncookies" into "net.ipv4.tcp_syncookies". Like
// systemd's sysctl_normalize, only a key whose first separator is "/" is converted, and then
// "/" and "." swap (a "." inside such a key is part of an interface name).
func NormalizeSysctlKey(key string) string {
	i := strings.IndexAny(key, "./")
	if i < 0 || key[i] == '.' {
		return key
	}
	b := []byte(key)
	for j, c := range b {
		switch c {
		case '/':
			b[j] = '.'
		case '.':
			b[j] = '/'
		}
	}
	return string(b)
}

// Matches reports whether the assignment sets key (exactly, or through its glob).
func (a Assignment) Matches(key string) bool {
	if !a.Glob {
		return a.Key == key
	}
	// systemd uses fnmatch without FNM_PATHNAME on the dotted key; path.Match treats "/"
	// as special, which dotted keys do not contain.
	ok, err := path.Match(a.Key, key)
	return err == nil && ok
}

// ProcSysPath is the /proc/sys file of a dotted key.
func ProcSysPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}
