package mx

import (
	"strings"
)

// Exim4Conf is Debian's /etc/exim4/update-exim4.conf.conf: shell-style key='value' lines
// (update-exim4.conf.conf(5)); update-exim4.conf sources it.
type Exim4Conf struct {
	Values map[string]string
	line   map[string]int // key -> index of its (last) line
	Lines  []string
}

// ParseExim4Conf parses key='value', key="value" and key=value lines; # comments and
// anything else are kept as lines but carry no value.
func ParseExim4Conf(data []byte) *Exim4Conf {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	c := &Exim4Conf{Values: map[string]string{}, line: map[string]int{}, Lines: lines}
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t'\"$") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
			v = v[1 : len(v)-1]
		}
		c.Values[k] = v
		c.line[k] = i
	}
	return c
}

// splitExim4List splits dc_other_hostnames: update-exim4.conf takes semicolons (debconf's
// separator) and colons alike and turns them into Exim's colon list.
func splitExim4List(v string) (names, skipped []string) {
	seen := map[string]bool{}
	for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ':' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n, err := NormalizeDomain(item)
		if err != nil {
			skipped = append(skipped, item)
			continue
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, skipped
}

// SetOtherHostnames returns the file with dc_other_hostnames holding names added and
// removed, written with semicolons (as debconf writes it) unless the list used colons
// only (update-exim4.conf takes both), so an edit changes only the names. Entries that are
// not plain names (wildcards) are kept as they are.
func (c *Exim4Conf) SetOtherHostnames(add, remove []string) []byte {
	drop := map[string]bool{}
	for _, d := range remove {
		drop[d] = true
	}
	var items []string
	have := map[string]bool{}
	for _, item := range strings.FieldsFunc(c.Values["dc_other_hostnames"], func(r rune) bool { return r == ';' || r == ':' }) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if n, err := NormalizeDomain(item); err == nil {
			if drop[n] || have[n] {
				continue
			}
			have[n] = true
		}
		items = append(items, item)
	}
	for _, d := range add {
		if !have[d] {
			have[d] = true
			items = append(items, d)
		}
	}
	sep := ";"
	if v := c.Values["dc_other_hostnames"]; strings.Contains(v, ":") && !strings.Contains(v, ";") {
		sep = ":"
	}
	line := "dc_other_hostnames='" + strings.Join(items, sep) + "'"
	out := append([]string(nil), c.Lines...)
	if i, ok := c.line["dc_other_hostnames"]; ok {
		out[i] = line
	} else {
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}
