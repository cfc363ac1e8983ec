package smartermail

import (
	"fmt"
	"strings"

	"github.com/hostfix/hostfix/pkg/usage"
)

// Paths in SmarterMail's files are paths of the server that wrote them (almost always
// Windows), whatever system hostfix runs on, so this file never uses path/filepath: the
// rules are Windows' (drive letters and UNC shares, either slash, case-insensitive) or,
// for a path starting with "/", POSIX's (case-sensitive).

// cfgPath is a parsed config path: a volume ("C:", `\\server\share`, "/" for POSIX) and its
// components.
type cfgPath struct {
	volume  string   // "C:" (upper-cased letter), `\\server\share`, "/"
	parts   []string // components below the volume
	windows bool
	sep     string // the separator the path was written with ("\\" or "/")
	trail   bool   // ended with a separator
}

// parseCfgPath parses an absolute path; ok is false for anything else (relative paths,
// URLs, plain words), which the rewrite then leaves alone.
func parseCfgPath(s string) (cfgPath, bool) {
	if s == "" || strings.ContainsAny(s, "\x00\n\r") {
		return cfgPath{}, false
	}
	p := cfgPath{sep: `\`}
	rest := s
	switch {
	case strings.HasPrefix(s, `\\?\UNC\`) || strings.HasPrefix(s, `//?/UNC/`):
		return parseUNC(s[8:], s)
	case strings.HasPrefix(s, `\\?\`) || strings.HasPrefix(s, `//?/`):
		return parseCfgPath(s[4:])
	case len(s) >= 3 && isLetter(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'):
		p.windows = true
		p.volume = strings.ToUpper(s[:1]) + ":"
		p.sep = s[2:3]
		rest = s[3:]
	case len(s) == 2 && isLetter(s[0]) && s[1] == ':':
		p.windows = true
		p.volume = strings.ToUpper(s[:1]) + ":"
		rest = ""
	case strings.HasPrefix(s, `\\`) || strings.HasPrefix(s, `//`):
		return parseUNC(s[2:], s)
	case strings.HasPrefix(s, "/"):
		p.volume, p.sep = "/", "/"
		rest = s[1:]
	default:
		return cfgPath{}, false
	}
	p.parts, p.trail = splitParts(rest, p.windows)
	if p.windows && strings.Contains(rest, "/") && !strings.Contains(rest, `\`) {
		p.sep = "/"
	}
	return p, true
}

func parseUNC(rest, orig string) (cfgPath, bool) {
	parts, trail := splitParts(rest, true)
	if len(parts) < 2 {
		return cfgPath{}, false
	}
	sep := `\`
	if strings.HasPrefix(orig, "//") {
		sep = "/"
	}
	return cfgPath{volume: `\\` + parts[0] + `\` + parts[1], parts: parts[2:], windows: true, sep: sep, trail: trail}, true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitParts splits on the separators (both on Windows), dropping empty and "." parts and
// resolving "..".
func splitParts(s string, windows bool) ([]string, bool) {
	isSep := func(r rune) bool { return r == '/' || windows && r == '\\' }
	trail := s != "" && isSep(rune(s[len(s)-1]))
	var out []string
	for _, c := range strings.FieldsFunc(s, isSep) {
		switch c {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return out, trail
}

// sameVolume compares volumes (case-insensitively on Windows).
func (p cfgPath) sameVolume(q cfgPath) bool {
	if p.windows != q.windows {
		return false
	}
	if p.windows {
		return strings.EqualFold(p.volume, q.volume)
	}
	return p.volume == q.volume
}

func (p cfgPath) eqPart(a, b string) bool {
	if p.windows {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// under reports whether p is root or inside it, and returns the components below root.
func (p cfgPath) under(root cfgPath) ([]string, bool) {
	if !p.sameVolume(root) || len(p.parts) < len(root.parts) {
		return nil, false
	}
	for i, c := range root.parts {
		if !p.eqPart(p.parts[i], c) {
			return nil, false
		}
	}
	return p.parts[len(root.parts):], true
}

// String writes the path with its own separator style.
func (p cfgPath) String() string {
	var b strings.Builder
	switch {
	case !p.windows:
		b.WriteString("/")
	case strings.HasPrefix(p.volume, `\\`):
		b.WriteString(strings.ReplaceAll(p.volume, `\`, p.sep))
		if len(p.parts) > 0 {
			b.WriteString(p.sep)
		}
	default:
		b.WriteString(p.volume)
		b.WriteString(p.sep)
	}
	b.WriteString(strings.Join(p.parts, p.sep))
	if p.trail && len(p.parts) > 0 {
		b.WriteString(p.sep)
	}
	return b.String()
}

// Equal reports whether two config paths name the same folder.
func (p cfgPath) Equal(q cfgPath) bool {
	rest, ok := p.under(q)
	return ok && len(rest) == 0 && len(p.parts) == len(q.parts)
}

// PathMapper rewrites paths under one root to the same place under another.
type PathMapper struct {
	from, to cfgPath
}

// NewPathMapper maps paths under from to to; both must be absolute paths (Windows or POSIX).
func NewPathMapper(from, to string) (*PathMapper, bool) {
	f, ok1 := parseCfgPath(from)
	t, ok2 := parseCfgPath(to)
	if !ok1 || !ok2 {
		return nil, false
	}
	return &PathMapper{from: f, to: t}, true
}

// Map returns s rewritten, and whether s was a path under the old root. The result uses
// the new root's separator style, and keeps a trailing separator.
func (m *PathMapper) Map(s string) (string, bool) {
	p, ok := parseCfgPath(strings.TrimSpace(s))
	if !ok {
		return s, false
	}
	rest, ok := p.under(m.from)
	if !ok {
		return s, false
	}
	out := m.to
	out.parts = append(append([]string{}, m.to.parts...), rest...)
	out.trail = p.trail
	if len(m.to.parts) == 0 && !strings.HasPrefix(m.to.volume, `\\`) && m.to.windows {
		out.sep = p.sep // "D:" alone says nothing about the style
	}
	// Whitespace around the value (XML text) stays where it was.
	lead := s[:len(s)-len(strings.TrimLeft(s, " \t\r\n"))]
	trail := s[len(strings.TrimRight(s, " \t\r\n")):]
	return lead + out.String() + trail, true
}

// commonParent is the deepest folder containing every path (the parent of a single one).
func commonParent(paths []string) (string, bool) {
	var common cfgPath
	for i, s := range paths {
		p, ok := parseCfgPath(s)
		if !ok {
			return "", false
		}
		p.trail = false
		if len(p.parts) > 0 {
			p.parts = p.parts[:len(p.parts)-1] // the domain's own folder
		}
		if i == 0 {
			common = p
			continue
		}
		if !common.sameVolume(p) {
			return "", false
		}
		n := 0
		for n < len(common.parts) && n < len(p.parts) && common.eqPart(common.parts[n], p.parts[n]) {
			n++
		}
		common.parts = common.parts[:n]
	}
	if len(paths) == 0 {
		return "", false
	}
	return common.String(), true
}

// adminShare turns a drive path into the same path through a host's administrative share
// (`C:\SmarterMail` on host old -> `\\old\C$\SmarterMail`), and back.
func adminShare(host, p string) (string, bool) {
	c, ok := parseCfgPath(p)
	if !ok || !c.windows || strings.HasPrefix(c.volume, `\\`) {
		return "", false
	}
	u := cfgPath{volume: `\\` + host + `\` + c.volume[:1] + "$", parts: c.parts, windows: true, sep: `\`}
	return u.String(), true
}

// fromAdminShare is `\\host\D$\Mail` -> ("host", `D:\Mail`).
func fromAdminShare(p string) (host, local string, ok bool) {
	c, okp := parseCfgPath(p)
	if !okp || !strings.HasPrefix(c.volume, `\\`) {
		return "", "", false
	}
	v := strings.Split(c.volume[2:], `\`)
	if len(v) != 2 || len(v[1]) != 2 || v[1][1] != '$' || !isLetter(v[1][0]) {
		return "", "", false
	}
	l := cfgPath{volume: strings.ToUpper(v[1][:1]) + ":", parts: c.parts, windows: true, sep: `\`}
	return v[0], l.String(), true
}

// checkNewPath refuses a Windows path the new server could not open, given by the user as
// the Domains folder to write into its config: a drive letter alone ("D:" is relative to
// that drive's current folder) or a character Windows never allows in a name.
func checkNewPath(flag, s string) error {
	p, ok := parseCfgPath(s)
	if !ok || !p.windows {
		return nil
	}
	if len(s) == 2 {
		return fmt.Errorf("%s %s is relative to %s's current folder: write %s\\ for the drive's root", flag, s, s, s)
	}
	rest := s
	for _, pre := range []string{`\\?\UNC\`, `//?/UNC/`, `\\?\`, `//?/`} {
		if strings.HasPrefix(rest, pre) {
			rest = rest[len(pre):]
			break
		}
	}
	if len(rest) >= 2 && isLetter(rest[0]) && rest[1] == ':' {
		rest = rest[2:]
	}
	for _, r := range rest {
		if r < 0x20 || strings.ContainsRune(`<>:"|?*`, r) {
			return fmt.Errorf("%s %s: %q cannot be in a Windows path (not in <>:\"|?* or control characters)", flag, usage.ClipPath(s), r)
		}
	}
	for _, part := range strings.FieldsFunc(rest, func(r rune) bool { return r == '\\' || r == '/' }) {
		if n := utf16Len(part); n > 255 {
			return fmt.Errorf("%s %s: a folder name of %d characters (Windows allows 255)", flag, usage.ClipPath(s), n)
		}
	}
	return nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
