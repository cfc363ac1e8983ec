package mx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/hostfix/hostfix/pkg/usage"
)

// Domain is one name to check or fix: as given, where it came from, and its A-label form.
type Domain struct {
	Input  string // as written
	Source string // "argument 2", "stdin line 7", "/etc/localdomains"
	Name   string // lower-case A-label form without a trailing dot: what DNS and the lists use
}

// idnaProfile maps and validates like a resolver does (UTS #46 lookup, STD3 rules: letters,
// digits and hyphens only), so "Bücher.Example" becomes "xn--bcher-kva.example".
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(true), idna.Transitional(false))

// NormalizeDomain validates a domain name and returns its A-label form: lower case, no
// trailing dot. The error says what is wrong with the name, without naming where it came
// from (the caller adds that).
func NormalizeDomain(s string) (string, error) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", fmt.Errorf("empty name")
	}
	if len(name) > 1 && strings.HasSuffix(name, ".") && !strings.HasSuffix(name, "..") {
		name = name[:len(name)-1]
	}
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("not valid UTF-8")
	}
	for _, r := range name {
		if r == ' ' || r == '\t' || r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("blank or control character in the name")
		}
		if r < 0x80 && !(r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", fmt.Errorf("character %q is not allowed in a domain name (letters, digits, hyphens and dots only)", r)
		}
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" {
			return "", fmt.Errorf("empty label")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
	}
	ascii, err := idnaProfile.ToASCII(name)
	if err != nil {
		return "", fmt.Errorf("not a valid domain name: %v", idnaReason(err))
	}
	ascii = strings.ToLower(ascii)
	// A name must survive its own lookup: what ToASCII produced is what DNS and the
	// lists will be asked about.
	if again, err := idnaProfile.ToASCII(ascii); err != nil || again != ascii {
		return "", fmt.Errorf("not a valid domain name: %q does not round-trip", ascii)
	}
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "", fmt.Errorf("empty label")
		case len(l) > 63:
			return "", fmt.Errorf("label %q is %d bytes long (at most 63)", shorten(l), len(l))
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", fmt.Errorf("label %q starts or ends with a hyphen", l)
		}
	}
	if len(ascii) > 253 {
		return "", fmt.Errorf("name is %d bytes long (at most 253)", len(ascii))
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		if net.ParseIP(ascii) != nil {
			return "", fmt.Errorf("an IP address (a domain's last label is never all digits): give the domain")
		}
		return "", fmt.Errorf("last label %q is all digits: no top-level domain is", shorten(last))
	}
	return ascii, nil
}

func idnaReason(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "idna: ")
	return msg
}

func shorten(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// DomainError is a name that is not a valid domain, with where it was read.
type DomainError struct {
	Source string
	Input  string
	Reason string
}

func (e *DomainError) Error() string {
	if e.Input == "" && e.Reason != "empty name" {
		return e.Source + ": " + e.Reason
	}
	return fmt.Sprintf("%s %q: %s", e.Source, usage.Clip(e.Input), e.Reason)
}

// ParseDomain validates one name read from source.
func ParseDomain(input, source string) (Domain, error) {
	n, err := NormalizeDomain(input)
	if err != nil {
		return Domain{}, &DomainError{Source: source, Input: input, Reason: err.Error()}
	}
	return Domain{Input: input, Source: source, Name: n}, nil
}

// ReadDomains reads one domain per line ("-" on the command line): blank lines and
// everything from a "#" on are ignored. The first bad name is an error naming its line;
// names given twice are kept once.
func ReadDomains(r io.Reader, source string) ([]Domain, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Domain
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		d, err := ParseDomain(line, fmt.Sprintf("%s line %d", source, n))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &DomainError{Source: fmt.Sprintf("%s line %d", source, n+1), Input: "", Reason: "line longer than 1 MiB (one domain per line)"}
		}
		return nil, fmt.Errorf("read %s: %w", source, err)
	}
	return out, nil
}

// Unique drops later repeats of a name, keeping order.
func Unique(ds []Domain) []Domain {
	seen := make(map[string]bool, len(ds))
	out := ds[:0:0]
	for _, d := range ds {
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	return out
}

// Unicode is the domain as people write it (an IDN's U-label form, bücher.example for
// xn--bcher-kva.example); Name itself when it has no A-label or does not convert.
func (d Domain) Unicode() string {
	if !strings.Contains(d.Name, "xn--") {
		return d.Name
	}
	u, err := idna.ToUnicode(d.Name)
	if err != nil {
		return d.Name
	}
	return u
}
