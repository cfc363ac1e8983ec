package smtpport

import (
	"fmt"
	"strconv"
	"strings"
)

// ServiceEntry is one /etc/services line: `name port/proto [aliases…] [# comment]`.
type ServiceEntry struct {
	Name    string
	Port    int
	Proto   string
	Aliases []string
	Comment string // text after #, trimmed
	Line    int
}

// Names returns the name and its aliases.
func (e ServiceEntry) Names() []string { return append([]string{e.Name}, e.Aliases...) }

// ParseServices parses /etc/services. Malformed lines are returned as errors (with their
// line) but do not stop the parse: libc skips them too.
func ParseServices(data []byte) ([]ServiceEntry, []error) {
	var out []ServiceEntry
	var errs []error
	for i, raw := range splitLines(data) {
		e, ok, err := parseServiceLine(raw)
		if err != nil {
			errs = append(errs, &ParseError{Line: i + 1, Msg: err.Error()})
			continue
		}
		if ok {
			e.Line = i + 1
			out = append(out, e)
		}
	}
	return out, errs
}

func parseServiceLine(raw string) (ServiceEntry, bool, error) {
	line, comment := raw, ""
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		line, comment = raw[:i], strings.TrimSpace(raw[i+1:])
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return ServiceEntry{}, false, nil
	}
	if len(f) < 2 {
		return ServiceEntry{}, false, fmt.Errorf("%q: no port/protocol", truncate(f[0], 40))
	}
	pp := strings.SplitN(f[1], "/", 2)
	if len(pp) != 2 || pp[1] == "" {
		return ServiceEntry{}, false, fmt.Errorf("%q: want port/protocol", truncate(f[1], 40))
	}
	port, err := strconv.Atoi(pp[0])
	if err != nil || port < 0 || port > 65535 {
		return ServiceEntry{}, false, fmt.Errorf("%q: bad port", truncate(pp[0], 40))
	}
	return ServiceEntry{Name: f[0], Port: port, Proto: strings.ToLower(pp[1]), Aliases: f[2:], Comment: comment}, true, nil
}

// ValidServiceName reports whether s can be an /etc/services name: a non-empty token
// with no whitespace, `#` or `/`, printable ASCII, and (since it also names the xinetd
// service and its file, which includedir skips when it has a dot) no `.`, `{`, `}` or `=`.
func ValidServiceName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '#' || r == '/' || r == '.' || r == '{' || r == '}' || r == '=' {
			return false
		}
	}
	return true
}
