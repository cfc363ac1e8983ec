package mx

import (
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// PostfixConf is a parsed main.cf: parameters with their raw (unexpanded) values and the
// lines each one spans, so an edit replaces exactly one parameter.
type PostfixConf struct {
	File     string
	Hostname string // the host's name, for the default of $myhostname
	Params   map[string]PostfixParam
	Lines    []string
}

// PostfixParam is one "name = value" logical line (with its continuation lines).
type PostfixParam struct {
	Value      string
	Start, End int // line indexes [Start, End)
}

// ParsePostfixConf parses main.cf syntax (postconf(5)): a logical line starts with
// non-whitespace text; a line starting with whitespace continues it; blank lines and
// lines whose first non-whitespace character is # are ignored (also inside a logical
// line). The last setting of a parameter wins.
func ParsePostfixConf(data []byte) *PostfixConf {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	pc := &PostfixConf{Params: map[string]PostfixParam{}, Lines: lines}
	cur, start, end := "", -1, -1
	var val strings.Builder
	flush := func() {
		if start < 0 {
			return
		}
		name, value, ok := strings.Cut(cur, "=")
		name = strings.TrimSpace(name)
		if ok && name != "" && !strings.ContainsAny(name, " \t") {
			pc.Params[name] = PostfixParam{Value: strings.TrimSpace(value + val.String()), Start: start, End: end}
		}
		cur, start, end = "", -1, -1
		val.Reset()
	}
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if start >= 0 {
				val.WriteByte(' ')
				val.WriteString(trimmed)
				end = i + 1
			}
			continue
		}
		flush()
		cur, start, end = line, i, i+1
	}
	flush()
	return pc
}

// postfixDefaults are the built-in values of the parameters a domain list refers to.
var postfixDefaults = map[string]string{
	"mydestination":           "$myhostname, localhost.$mydomain, localhost",
	"virtual_mailbox_domains": "$virtual_mailbox_maps",
	"virtual_mailbox_maps":    "",
	"virtual_alias_domains":   "$virtual_alias_maps",
	"virtual_alias_maps":      "$virtual_maps",
	"virtual_maps":            "",
	"myorigin":                "$myhostname",
}

// Raw returns a parameter's value as written (or its default) and whether main.cf sets it.
func (pc *PostfixConf) Raw(name string) (string, bool) {
	if p, ok := pc.Params[name]; ok {
		return p.Value, true
	}
	switch name {
	case "myhostname":
		if pc.Hostname != "" {
			return pc.Hostname, false
		}
		return "localhost", false
	case "mydomain":
		// the default is $myhostname without its first label: computed by the expander
		return "", false
	}
	return postfixDefaults[name], false
}

// Expand replaces $name, ${name}, $(name), ${name?text} and ${name:text} (postconf(5)) with
// the parameters' values, recursively; $$ is a literal $.
// A parameter that refers to itself expands to nothing (Postfix refuses such a loop);
// each parameter is expanded once, and a value is cut at 64 KiB, so a hostile main.cf
// cannot make the expansion explode.
func (pc *PostfixConf) Expand(s string) string {
	e := &expander{pc: pc, done: map[string]string{}, busy: map[string]bool{}}
	return e.expand(s)
}

const maxExpansion = 64 << 10

type expander struct {
	pc   *PostfixConf
	done map[string]string
	busy map[string]bool
}

func (e *expander) param(name string) string {
	if v, ok := e.done[name]; ok {
		return v
	}
	if e.busy[name] {
		return ""
	}
	e.busy[name] = true
	raw, set := e.pc.Raw(name)
	v := e.expand(raw)
	if name == "mydomain" && !set {
		v = "localdomain"
		if _, rest, ok := strings.Cut(e.param("myhostname"), "."); ok && rest != "" {
			v = rest
		}
	}
	delete(e.busy, name)
	e.done[name] = v
	return v
}

func (e *expander) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxExpansion; i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		switch {
		case n == '$':
			b.WriteByte('$')
			i++
		case n == '{' || n == '(':
			closer := byte('}')
			if n == '(' {
				closer = ')'
			}
			// find the matching closer, counting nesting
			level, j := 1, i+2
			for ; j < len(s) && level > 0; j++ {
				switch s[j] {
				case n:
					level++
				case closer:
					level--
				}
			}
			if level != 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			inner := s[i+2 : j-1]
			name, op, arg := inner, byte(0), ""
			if k := strings.IndexAny(inner, "?:"); k >= 0 {
				name, op, arg = inner[:k], inner[k], inner[k+1:]
				if strings.HasPrefix(arg, "{") && strings.HasSuffix(arg, "}") {
					arg = arg[1 : len(arg)-1]
				}
			}
			switch op {
			case '?', ':':
				// Postfix tests the parameter's value as written, not its expansion:
				// virtual_alias_domains = $virtual_alias_maps counts as set even when
				// virtual_alias_maps is empty (checked against postconf -x).
				raw, _ := e.pc.Raw(name)
				if name == "mydomain" || name == "myhostname" {
					raw = e.param(name)
				}
				if (raw != "") == (op == '?') {
					b.WriteString(e.expand(arg))
				}
			default:
				b.WriteString(e.param(name))
			}
			i = j - 1
		case isParamChar(n):
			j := i + 1
			for j < len(s) && isParamChar(s[j]) {
				j++
			}
			b.WriteString(e.param(s[i+1 : j]))
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > maxExpansion {
		return b.String()[:maxExpansion]
	}
	return b.String()
}

func isParamChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// splitPostfixList splits a list value on whitespace and commas (postconf(5)).
func splitPostfixList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Domains returns the domains a domain-list parameter (mydestination,
// virtual_mailbox_domains) names, after expansion: literal names, /file/name patterns and
// type:table lookup tables whose source file can be read (hash:/etc/postfix/vdomains reads
// /etc/postfix/vdomains). Entries it cannot turn into names are returned apart.
func (pc *PostfixConf) Domains(h *system.Host, param string) (names, skipped []string) {
	raw, _ := pc.Raw(param)
	seen := map[string]bool{}
	for _, item := range splitPostfixList(pc.Expand(raw)) {
		var cand []string
		switch {
		case strings.HasPrefix(item, "/"):
			cand = tableKeys(h, item)
		case strings.Contains(item, ":"):
			typ, table, _ := strings.Cut(item, ":")
			switch typ {
			case "hash", "btree", "lmdb", "cdb", "dbm", "texthash", "sdbm":
				cand = tableKeys(h, table)
			default:
				skipped = append(skipped, item+" (lookup table not read)")
				continue
			}
		default:
			cand = []string{item}
		}
		for _, c := range cand {
			n, err := NormalizeDomain(c)
			if err != nil {
				skipped = append(skipped, c)
				continue
			}
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, skipped
}

// tableKeys reads the first field of each line of a table's source file; address keys
// (with @) are not domains and are left out.
func tableKeys(h *system.Host, file string) []string {
	data, err := h.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k := strings.Fields(line)[0]
		if strings.Contains(k, "@") {
			continue
		}
		out = append(out, k)
	}
	return out
}

// literalIn reports whether domain is written literally in a parameter's own value (and so
// can be removed by editing that value).
func (pc *PostfixConf) literalIn(param, domain string) bool {
	p, ok := pc.Params[param]
	if !ok {
		return false
	}
	for _, item := range splitPostfixList(p.Value) {
		if n, err := NormalizeDomain(item); err == nil && n == domain {
			return true
		}
	}
	return false
}

// EditList returns main.cf with domains added to or removed from a list parameter. A
// parameter main.cf does not set starts from its default. Only literal entries can be
// removed: the caller checks literalIn first.
func (pc *PostfixConf) EditList(param string, add, remove []string) []byte {
	raw, set := pc.Raw(param)
	drop := map[string]bool{}
	for _, d := range remove {
		drop[d] = true
	}
	var items []string
	have := map[string]bool{}
	for _, item := range splitPostfixList(raw) {
		if n, err := NormalizeDomain(item); err == nil {
			if drop[n] {
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
	line := param + " = " + strings.Join(items, ", ")
	var out []string
	if set {
		p := pc.Params[param]
		out = append(out, pc.Lines[:p.Start]...)
		out = append(out, line)
		// comment lines inside the old logical line are kept after it
		for _, l := range pc.Lines[p.Start+1 : p.End] {
			if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") {
				out = append(out, l)
			}
		}
		out = append(out, pc.Lines[p.End:]...)
	} else {
		out = append(out, pc.Lines...)
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}
