package smtpport

import (
	"bytes"
	"fmt"
	"strings"
)

// ParseError is a file that does not parse, with the 1-based line at fault.
type ParseError struct {
	File string // host path, when known
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: line %d: %s", e.File, e.Line, e.Msg)
}

// XinetdAttr is one attribute line of a service block: name, operator (=, += or -=) and
// its whitespace-separated values.
type XinetdAttr struct {
	Name   string
	Op     string
	Values []string
	Line   int
}

// XinetdService is one `service NAME { … }` (or `defaults { … }`) block.
type XinetdService struct {
	Name string // "" for defaults
	// Line is the `service` line, Open the line of `{` (the same line or a later one),
	// Close the line of `}`.
	Line, Open, Close int
	Attrs             []XinetdAttr
}

// Get returns an attribute's values with the operators applied in order (= replaces,
// += appends, -= removes), and whether it is set at all.
func (s *XinetdService) Get(name string) ([]string, bool) {
	var vals []string
	set := false
	for _, a := range s.Attrs {
		if a.Name != name {
			continue
		}
		set = true
		switch a.Op {
		case "=":
			vals = append([]string(nil), a.Values...)
		case "+=":
			vals = append(vals, a.Values...)
		case "-=":
			vals = removeAll(vals, a.Values)
		}
	}
	return vals, set
}

// Value is Get joined with single spaces.
func (s *XinetdService) Value(name string) string {
	v, _ := s.Get(name)
	return strings.Join(v, " ")
}

// ID is the service's unique identifier: its `id` attribute, else its name.
func (s *XinetdService) ID() string {
	if v := s.Value("id"); v != "" {
		return v
	}
	return s.Name
}

// HasFlag reports whether a multi-valued attribute (flags, type) holds v.
func (s *XinetdService) HasFlag(attr, v string) bool {
	vals, _ := s.Get(attr)
	for _, x := range vals {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func removeAll(vals, drop []string) []string {
	out := vals[:0:0]
	for _, v := range vals {
		keep := true
		for _, d := range drop {
			if v == d {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, v)
		}
	}
	return out
}

// XinetdInclude is an `include FILE` or `includedir DIR` line.
type XinetdInclude struct {
	Dir  bool
	Path string
	Line int
}

// XinetdFile is a parsed xinetd.conf or xinetd.d file. Lines keeps the text, so an edit
// can rewrite single lines and leave everything else as it was.
type XinetdFile struct {
	Lines    []string
	Services []*XinetdService
	Defaults []*XinetdService
	Includes []XinetdInclude
}

// Service returns the first service with that id (or name), or nil.
func (f *XinetdFile) Service(id string) *XinetdService {
	for _, s := range f.Services {
		if s.ID() == id {
			return s
		}
	}
	return nil
}

// splitLines splits on \n keeping no terminators; a final newline adds no empty line.
func splitLines(data []byte) []string {
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

// ParseXinetd parses xinetd configuration as xinetd.conf(5) describes it: `#` comment
// lines, `defaults` and `service NAME` blocks whose `{` may follow on the same line or
// on a line of its own, attributes `name = values`, `name += values`, `name -= values`,
// and `include`/`includedir` lines between blocks.
func ParseXinetd(data []byte) (*XinetdFile, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &ParseError{Line: 1 + bytes.Count(data[:bytes.IndexByte(data, 0)], []byte("\n")), Msg: "NUL byte"}
	}
	f := &XinetdFile{Lines: splitLines(data)}
	var cur *XinetdService
	inBlock := false
	for i, raw := range f.Lines {
		n := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		switch {
		case cur != nil && !inBlock:
			if line != "{" {
				return nil, &ParseError{Line: n, Msg: fmt.Sprintf("want { after line %d, got %q", cur.Line, line)}
			}
			cur.Open, inBlock = n, true
		case inBlock:
			if line == "}" {
				cur.Close = n
				cur, inBlock = nil, false
				continue
			}
			if line == "{" || strings.HasPrefix(line, "service ") || line == "defaults" {
				return nil, &ParseError{Line: n, Msg: fmt.Sprintf("missing } for the block of line %d", cur.Line)}
			}
			a, err := parseXinetdAttr(line)
			if err != nil {
				return nil, &ParseError{Line: n, Msg: err.Error()}
			}
			a.Line = n
			cur.Attrs = append(cur.Attrs, a)
		default:
			fields := strings.Fields(line)
			switch fields[0] {
			case "service", "defaults":
				s := &XinetdService{Line: n}
				rest := fields[1:]
				if fields[0] == "service" {
					if len(rest) == 0 || rest[0] == "{" {
						return nil, &ParseError{Line: n, Msg: "service without a name"}
					}
					s.Name, rest = rest[0], rest[1:]
					f.Services = append(f.Services, s)
				} else {
					f.Defaults = append(f.Defaults, s)
				}
				cur = s
				switch {
				case len(rest) == 0:
				case len(rest) == 1 && rest[0] == "{":
					s.Open, inBlock = n, true
				default:
					return nil, &ParseError{Line: n, Msg: fmt.Sprintf("unexpected %q after %s", strings.Join(rest, " "), fields[0])}
				}
			case "include", "includedir":
				if len(fields) != 2 {
					return nil, &ParseError{Line: n, Msg: fields[0] + " wants one path"}
				}
				f.Includes = append(f.Includes, XinetdInclude{Dir: fields[0] == "includedir", Path: fields[1], Line: n})
			default:
				return nil, &ParseError{Line: n, Msg: fmt.Sprintf("unexpected %q outside a service block", truncate(line, 40))}
			}
		}
	}
	if cur != nil {
		what := "service " + cur.Name
		if cur.Name == "" {
			what = "defaults"
		}
		if !inBlock {
			return nil, &ParseError{Line: cur.Line, Msg: what + ": no { follows"}
		}
		return nil, &ParseError{Line: cur.Line, Msg: what + ": missing }"}
	}
	return f, nil
}

func parseXinetdAttr(line string) (XinetdAttr, error) {
	eq := strings.IndexByte(line, '=')
	if eq < 0 {
		return XinetdAttr{}, fmt.Errorf("attribute without =: %q", truncate(line, 40))
	}
	name, op := line[:eq], "="
	if strings.HasSuffix(name, "+") || strings.HasSuffix(name, "-") {
		op = name[len(name)-1:] + "="
		name = name[:len(name)-1]
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t{}") {
		return XinetdAttr{}, fmt.Errorf("bad attribute name %q", truncate(name, 40))
	}
	return XinetdAttr{Name: name, Op: op, Values: strings.Fields(line[eq+1:])}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// XinetdIncluded reports whether xinetd's includedir reads a file of that name: it skips
// names containing a dot or ending with ~ (xinetd.conf(5)), so backups like smtp_psa.bak
// are ignored and a new service file must not have a dot.
func XinetdIncluded(name string) bool {
	return name != "" && !strings.Contains(name, ".") && !strings.HasSuffix(name, "~")
}
