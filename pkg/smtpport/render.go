package smtpport

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Markers: the comments add writes, by which remove knows what it created.
const markerPrefix = "hostfix smtpport add"

func xinetdMarker(port int, source string) string {
	return fmt.Sprintf("# %s: port %d, a copy of %s (remove with: hostfix smtpport remove --port %d)", markerPrefix, port, source, port)
}

func servicesComment(port int) string { return fmt.Sprintf("# %s: port %d", markerPrefix, port) }

func masterMarker(port int) string {
	return fmt.Sprintf("# %s: port %d, a copy of the smtp inet service", markerPrefix, port)
}

// HasXinetdMarker reports whether a service file was written by add.
func HasXinetdMarker(data []byte) bool {
	for _, l := range splitLines(data) {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
		if strings.HasPrefix(t, "# "+markerPrefix+":") {
			return true
		}
	}
	return false
}

// pickXinetdService is the SMTP service of smtp_psa: the one named smtp, else the one
// running qmail-smtpd, else the only one.
func pickXinetdService(f *XinetdFile) *XinetdService {
	for _, s := range f.Services {
		if s.Name == "smtp" {
			return s
		}
	}
	for _, s := range f.Services {
		if strings.Contains(s.Value("server")+" "+s.Value("server_args"), "qmail-smtpd") {
			return s
		}
	}
	if len(f.Services) == 1 {
		return f.Services[0]
	}
	return nil
}

// RenderXinetdCopy writes the new service file: the marker, then svc's block from src
// with every attribute kept and only the service name (and an `id`, `port` when present)
// changed. unlisted makes it `type = UNLISTED` with `port` and `protocol = tcp`, which
// xinetd then needs no /etc/services entry for.
func RenderXinetdCopy(src *XinetdFile, svc *XinetdService, source, name string, port int, unlisted bool) []byte {
	set := map[string]string{}
	if _, ok := svc.Get("id"); ok {
		set["id"] = name
	}
	if _, ok := svc.Get("port"); ok || unlisted {
		set["port"] = strconv.Itoa(port)
	}
	if unlisted {
		types, _ := svc.Get("type")
		keep := []string{}
		for _, t := range types {
			if !strings.EqualFold(t, "UNLISTED") {
				keep = append(keep, t)
			}
		}
		set["type"] = strings.Join(append(keep, "UNLISTED"), " ")
		set["protocol"] = "tcp"
	}
	written := map[string]bool{}
	indent, width := "\t", 0
	for _, a := range svc.Attrs {
		if l := src.Lines[a.Line-1]; width == 0 {
			indent = l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			width = attrWidth(l)
		}
	}
	var b strings.Builder
	b.WriteString(xinetdMarker(port, source) + "\n")
	attrAt := map[int]XinetdAttr{}
	for _, a := range svc.Attrs {
		attrAt[a.Line] = a
	}
	for n := svc.Line; n <= svc.Close; n++ {
		l := src.Lines[n-1]
		switch {
		case n == svc.Line:
			l = renameService(l, name)
		case n == svc.Close:
			for _, k := range []string{"type", "port", "protocol", "id"} {
				if v, ok := set[k]; ok && !written[k] {
					b.WriteString(attrLine(indent, width, k, v) + "\n")
				}
			}
		default:
			if a, ok := attrAt[n]; ok {
				if v, ok := set[a.Name]; ok {
					if written[a.Name] {
						continue // later += / -= lines of a replaced attribute
					}
					written[a.Name] = true
					l = replaceAttr(l, v)
				}
			}
		}
		b.WriteString(l + "\n")
	}
	return []byte(b.String())
}

var serviceLineRe = regexp.MustCompile(`^(\s*service\s+)(\S+)(.*)$`)

func renameService(l, name string) string {
	return serviceLineRe.ReplaceAllString(l, "${1}"+strings.ReplaceAll(name, "$", "$$")+"${3}")
}

// replaceAttr keeps the attribute's name and spacing and sets "= value".
func replaceAttr(l, v string) string {
	eq := strings.IndexByte(l, '=')
	name := l[:eq]
	name = strings.TrimRight(name, "+-")
	after := l[eq+1:]
	sp := after[:len(after)-len(strings.TrimLeft(after, " \t"))]
	if sp == "" {
		sp = " "
	}
	return name + "=" + sp + v
}

// attrWidth is the column of "=" in a line, to align added attributes with the others.
func attrWidth(l string) int {
	t := strings.TrimLeft(l, " \t")
	i := strings.IndexAny(t, "+-=")
	if i < 0 {
		return 0
	}
	return i
}

func attrLine(indent string, width int, k, v string) string {
	pad := " "
	if width > len(k) {
		pad = strings.Repeat(" ", width-len(k))
	}
	return indent + k + pad + "= " + v
}

// EditServices adds "name port/tcp mail" and "name port/udp mail" (the runbook's lines,
// with add's comment) unless an equivalent entry exists.
func EditServices(old []byte, name string, port int) []byte {
	entries, _ := ParseServices(old)
	have := map[string]bool{}
	for _, e := range entries {
		if e.Name == name && e.Port == port {
			have[e.Proto] = true
		}
	}
	out := string(old)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	for _, proto := range []string{"tcp", "udp"} {
		if !have[proto] {
			out += fmt.Sprintf("%-15s %d/%s\tmail\t\t%s\n", name, port, proto, servicesComment(port))
		}
	}
	return []byte(out)
}

// RemoveServices drops the lines naming name on port; with force also ones add did not write.
// It returns the new content and how many lines it removed and left (not by add).
func RemoveServices(old []byte, name string, port int, force bool) ([]byte, int, int) {
	lines := splitLines(old)
	var out []string
	removed, foreign := 0, 0
	for _, l := range lines {
		e, ok, err := parseServiceLine(l)
		if err == nil && ok && e.Name == name && e.Port == port {
			if force || strings.HasPrefix(e.Comment, markerPrefix+":") {
				removed++
				continue
			}
			foreign++
		}
		out = append(out, l)
	}
	if removed == 0 {
		return old, 0, foreign
	}
	s := strings.Join(out, "\n")
	if len(out) > 0 {
		s += "\n"
	}
	return []byte(s), removed, foreign
}
