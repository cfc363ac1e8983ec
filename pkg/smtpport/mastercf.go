package smtpport

import (
	"fmt"
	"strings"
)

// MasterEntry is one service of Postfix's master.cf: the seven fixed fields and the
// command with its arguments, joined over continuation lines.
type MasterEntry struct {
	// Service is the first field (a name, port, or host:port for inet services).
	Service string
	Type    string // inet, unix, unix-dgram, fifo, pass
	// Private, Unpriv, Chroot, Wakeup, Maxproc are fields 3-7 as written ("-" = default).
	Private, Unpriv, Chroot, Wakeup, Maxproc string
	Command                                  string
	Args                                     []string
	// Line and End are the first and last lines of the entry (continuations included).
	Line, End int
}

// Options returns the entry's `-o name=value` overrides in order ("-o name=value" and
// "-o" "name=value" both count; `{ -o name = value }` is not split further).
func (e MasterEntry) Options() []string {
	var out []string
	for i := 0; i < len(e.Args); i++ {
		a := e.Args[i]
		switch {
		case a == "-o" && i+1 < len(e.Args):
			out = append(out, e.Args[i+1])
			i++
		case strings.HasPrefix(a, "-o") && len(a) > 2:
			out = append(out, a[2:])
		}
	}
	return out
}

// Port returns the port part of an inet service field ("26", "127.0.0.1:26", "smtp").
func (e MasterEntry) Port() string {
	if i := strings.LastIndexByte(e.Service, ':'); i >= 0 {
		return e.Service[i+1:]
	}
	return e.Service
}

// Host returns the host part of an inet service field, "" when none.
func (e MasterEntry) Host() string {
	if i := strings.LastIndexByte(e.Service, ':'); i >= 0 {
		return e.Service[:i]
	}
	return ""
}

// ParseMasterCF parses master.cf as master(5) describes it: `#` comment lines and blank
// lines, one entry per logical line, a line that starts with whitespace continuing the
// previous entry. An entry needs the eight fields (service type private unpriv chroot
// wakeup maxproc command); fewer is Postfix's "bad field count".
func ParseMasterCF(data []byte) ([]MasterEntry, error) {
	lines := splitLines(data)
	var out []MasterEntry
	var cur []string
	start, end := 0, 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		f := strings.Fields(strings.Join(cur, " "))
		cur = nil
		if len(f) < 8 {
			return &ParseError{Line: start, Msg: "bad field count"}
		}
		switch f[1] {
		case "inet", "unix", "unix-dgram", "fifo", "pass":
		default:
			return &ParseError{Line: start, Msg: fmt.Sprintf("bad transport type: %s", truncate(f[1], 40))}
		}
		out = append(out, MasterEntry{
			Service: f[0], Type: f[1], Private: f[2], Unpriv: f[3], Chroot: f[4],
			Wakeup: f[5], Maxproc: f[6], Command: f[7], Args: f[8:], Line: start, End: end,
		})
		return nil
	}
	for i, raw := range lines {
		n := i + 1
		trim := strings.TrimSpace(raw)
		if strings.IndexByte(raw, 0) >= 0 {
			return nil, &ParseError{Line: n, Msg: "NUL byte"}
		}
		if trim == "" || strings.HasPrefix(trim, "#") {
			// Postfix's readlline ends a logical line at a blank or comment line only
			// when the next line does not continue it; comments inside an entry are
			// skipped.
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if cur == nil {
				// Postfix warns "logical line must not start with whitespace" and
				// skips it.
				continue
			}
			cur = append(cur, trim)
			end = n
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		cur, start, end = []string{trim}, n, n
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// FindMaster returns the last entry with that service name and type (last wins, as in
// Postfix), or nil.
func FindMaster(entries []MasterEntry, service, typ string) *MasterEntry {
	var found *MasterEntry
	for i := range entries {
		if entries[i].Service == service && entries[i].Type == typ {
			found = &entries[i]
		}
	}
	return found
}
