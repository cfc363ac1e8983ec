package php

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Directive is one "key = value" statement of a php.ini (or PHP-FPM pool) file.
type Directive struct {
	// Section is the section it appears in, as written ("PHP", "www", "PATH=/srv/www");
	// "" before the first section header.
	Section string
	// Key is the name as written, trimmed: "max_input_vars", "extension",
	// "php_admin_value[max_input_vars]".
	Key string
	// Value is what PHP sees: quotes removed, ${VAR} expanded, on/yes/true as "1" and
	// off/no/false/none/null as "" (only for unquoted values).
	Value string
	// Line is the 1-based line the statement starts on; EndLine the one it ends on (a
	// double-quoted value may span lines).
	Line, EndLine int
}

// Scoped reports whether the directive only applies to some requests: PHP's [PATH=…] and
// [HOST=…] sections (CGI/FastCGI SAPIs) are not part of the global configuration.
func (d Directive) Scoped() bool {
	s := strings.ToUpper(d.Section)
	return strings.HasPrefix(s, "PATH=") || strings.HasPrefix(s, "HOST=")
}

// ParseIni parses php.ini syntax the way PHP's INI scanner does in its normal mode:
//
//   - a ";" starts a comment anywhere outside quotes (a line starting with "#" is taken as
//     a comment too: PHP < 7 allowed it, and such lines are still found on old hosts);
//   - "[name]" opens a section; the rest of that line is ignored;
//   - "key = value": the value is a concatenation of bare text (trailing blanks trimmed),
//     "double-quoted" strings (may span lines; \" and \\ are escapes, ${VAR} is expanded),
//     'single-quoted' raw strings and ${VAR} references, read from getenv (nil: none set);
//     PHP ≥ 8.3's ${VAR:-default} form gives the default when VAR is empty;
//   - a bare on/yes/true is "1", off/no/false/none/null is "".
//
// Constants and expressions (E_ALL & ~E_NOTICE) are kept as written. An unterminated
// quote or section header is an error (PHP refuses the whole file then); the directives
// before it are still returned.
func ParseIni(data []byte, getenv func(string) string) ([]Directive, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := &iniScanner{data: data, line: 1, getenv: getenv}
	var out []Directive
	section := ""
	for {
		s.skipBlank()
		if s.eof() {
			return out, nil
		}
		c := s.data[s.pos]
		switch {
		case c == '\n':
			s.pos++
			s.line++
		case c == ';' || c == '#':
			s.skipLine()
		case c == '[':
			start := s.line
			end := bytes.IndexByte(s.data[s.pos:], ']')
			nl := bytes.IndexByte(s.data[s.pos:], '\n')
			if end < 0 || (nl >= 0 && nl < end) {
				return out, fmt.Errorf("line %d: unterminated section header", start)
			}
			section = strings.TrimSpace(string(s.data[s.pos+1 : s.pos+end]))
			s.pos += end + 1
			s.skipLine()
		default:
			d, err := s.statement()
			if err != nil {
				return out, err
			}
			d.Section = section
			if d.Key != "" {
				out = append(out, d)
			}
		}
	}
}

type iniScanner struct {
	data   []byte
	pos    int
	line   int
	getenv func(string) string
}

func (s *iniScanner) eof() bool { return s.pos >= len(s.data) }

func (s *iniScanner) skipBlank() {
	for !s.eof() {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\f', '\v':
			s.pos++
		default:
			return
		}
	}
}

// skipLine moves to the start of the next line.
func (s *iniScanner) skipLine() {
	if i := bytes.IndexByte(s.data[s.pos:], '\n'); i >= 0 {
		s.pos += i + 1
		s.line++
		return
	}
	s.pos = len(s.data)
}

func (s *iniScanner) statement() (Directive, error) {
	d := Directive{Line: s.line}
	start := s.pos
	for !s.eof() {
		c := s.data[s.pos]
		if c == '=' || c == '\n' || c == ';' {
			break
		}
		s.pos++
	}
	d.Key = strings.TrimSpace(string(s.data[start:s.pos]))
	if s.eof() || s.data[s.pos] != '=' {
		// A bare name is a statement with no value.
		d.EndLine = s.line
		if !s.eof() && s.data[s.pos] == ';' {
			s.skipLine()
		}
		return d, nil
	}
	s.pos++ // '='
	v, quoted, err := s.value()
	if err != nil {
		return d, fmt.Errorf("line %d: %s: %w", d.Line, d.Key, err)
	}
	d.EndLine = s.line
	if !quoted {
		switch strings.ToLower(v) {
		case "on", "yes", "true":
			v = "1"
		case "off", "no", "false", "none", "null":
			v = ""
		}
	}
	d.Value = v
	if !s.eof() && s.data[s.pos] == ';' {
		s.skipLine()
	} else if !s.eof() && s.data[s.pos] == '\n' {
		s.pos++
		s.line++
	}
	return d, nil
}

// value reads the right-hand side up to a comment or the end of the line. quoted reports
// whether any part of it was a quoted string (booleans are only recognised bare).
func (s *iniScanner) value() (string, bool, error) {
	var b strings.Builder
	quoted := false
	pendingBlank := 0 // blanks after bare text: kept only if more value follows
	s.skipBlank()
	for !s.eof() {
		c := s.data[s.pos]
		switch {
		case c == '\n' || c == ';':
			return b.String(), quoted, nil
		case c == '"':
			quoted = true
			b.WriteString(strings.Repeat(" ", pendingBlank))
			pendingBlank = 0
			if err := s.doubleQuoted(&b); err != nil {
				return "", quoted, err
			}
		case c == '\'':
			quoted = true
			b.WriteString(strings.Repeat(" ", pendingBlank))
			pendingBlank = 0
			end := bytes.IndexByte(s.data[s.pos+1:], '\'')
			if end < 0 {
				return "", quoted, fmt.Errorf("unterminated single-quoted string")
			}
			raw := s.data[s.pos+1 : s.pos+1+end]
			s.line += bytes.Count(raw, []byte{'\n'})
			b.Write(raw)
			s.pos += end + 2
		case c == '$' && s.pos+1 < len(s.data) && s.data[s.pos+1] == '{':
			b.WriteString(strings.Repeat(" ", pendingBlank))
			pendingBlank = 0
			v, err := s.envRef()
			if err != nil {
				return "", quoted, err
			}
			b.WriteString(v)
		case c == ' ' || c == '\t' || c == '\r':
			pendingBlank++
			s.pos++
		default:
			b.WriteString(strings.Repeat(" ", pendingBlank))
			pendingBlank = 0
			b.WriteByte(c)
			s.pos++
		}
	}
	return b.String(), quoted, nil
}

func (s *iniScanner) doubleQuoted(b *strings.Builder) error {
	startLine := s.line
	s.pos++ // opening quote
	for !s.eof() {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\' && s.pos+1 < len(s.data) && (s.data[s.pos+1] == '"' || s.data[s.pos+1] == '\\' || s.data[s.pos+1] == '$'):
			b.WriteByte(s.data[s.pos+1])
			s.pos += 2
		case c == '$' && s.pos+1 < len(s.data) && s.data[s.pos+1] == '{':
			v, err := s.envRef()
			if err != nil {
				return err
			}
			b.WriteString(v)
		default:
			if c == '\n' {
				s.line++
			}
			b.WriteByte(c)
			s.pos++
		}
	}
	return fmt.Errorf("unterminated double-quoted string opened on line %d", startLine)
}

// envRef reads ${NAME} or ${NAME:-default} at s.pos.
func (s *iniScanner) envRef() (string, error) {
	end := bytes.IndexByte(s.data[s.pos:], '}')
	nl := bytes.IndexByte(s.data[s.pos:], '\n')
	if end < 0 || (nl >= 0 && nl < end) {
		return "", fmt.Errorf("unterminated ${ reference")
	}
	ref := string(s.data[s.pos+2 : s.pos+end])
	s.pos += end + 1
	name, def, hasDef := strings.Cut(ref, ":-")
	v := s.getenv(strings.TrimSpace(name))
	if v == "" && hasDef {
		v = def
	}
	return v, nil
}

// Last returns the last global (not [PATH=]/[HOST=]) directive named key, which is the
// one PHP keeps. Keys compare case-sensitively, as PHP's do.
func Last(ds []Directive, key string) (Directive, bool) {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Key == key && !ds[i].Scoped() {
			return ds[i], true
		}
	}
	return Directive{}, false
}

// ParseQuantity reads an integer ini value the way PHP does for integer directives: an
// optional sign, decimal digits (0x/0o/0b prefixes too), an optional k/m/g multiplier;
// trailing garbage after the number is ignored (PHP warns and keeps the number). An empty
// value is 0. ok is false when no number starts the value or it overflows int64.
func ParseQuantity(v string) (n int64, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	neg := false
	i := 0
	if v[0] == '+' || v[0] == '-' {
		neg = v[0] == '-'
		i++
	}
	base := 10
	if len(v) > i+2 && v[i] == '0' {
		switch v[i+1] {
		case 'x', 'X':
			base, i = 16, i+2
		case 'o', 'O':
			base, i = 8, i+2
		case 'b', 'B':
			base, i = 2, i+2
		}
	}
	j := i
	for j < len(v) && digitIn(v[j], base) {
		j++
	}
	if j == i {
		return 0, false
	}
	u, err := strconv.ParseInt(v[i:j], base, 64)
	if err != nil {
		return 0, false
	}
	if j < len(v) {
		mult := int64(1)
		switch v[j] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			if u > (1<<63-1)/mult {
				return 0, false
			}
			u *= mult
		}
	}
	if neg {
		u = -u
	}
	return u, true
}

func digitIn(c byte, base int) bool {
	switch base {
	case 16:
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	case 8:
		return c >= '0' && c <= '7'
	case 2:
		return c == '0' || c == '1'
	}
	return c >= '0' && c <= '9'
}
