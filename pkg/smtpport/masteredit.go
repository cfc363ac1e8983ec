package smtpport

import (
	"fmt"
	"strconv"
	"strings"
)

// SMTPInet finds the service that receives mail on port 25: "smtp inet" (or "25 inet",
// with or without a host), the last one winning as in Postfix.
func SMTPInet(entries []MasterEntry) *MasterEntry {
	var found *MasterEntry
	for i := range entries {
		e := &entries[i]
		if e.Type == "inet" && (e.Port() == "smtp" || e.Port() == "25") {
			found = e
		}
	}
	return found
}

// masterForPort returns the inet entries on port (by number) and, for each, whether add's
// marker comment is the line before it (blank lines aside).
func masterForPort(lines []string, entries []MasterEntry, port int) (ours, foreign []MasterEntry) {
	p := strconv.Itoa(port)
	for _, e := range entries {
		if e.Type != "inet" || e.Port() != p {
			continue
		}
		if markerAbove(lines, e.Line, masterMarker(port)) {
			ours = append(ours, e)
		} else {
			foreign = append(foreign, e)
		}
	}
	return ours, foreign
}

func markerAbove(lines []string, line int, marker string) bool {
	for i := line - 2; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if t == "" {
			continue
		}
		return t == marker
	}
	return false
}

// RenderMasterEntry is the new service: smtp inet's fields and -o options on the new port
// (with its host, if it has one). A postscreen front end is replaced by smtpd: the
// alternate port is for clients, not for the screen.
func RenderMasterEntry(smtp *MasterEntry, port int) string {
	svc := strconv.Itoa(port)
	if h := smtp.Host(); h != "" {
		svc = h + ":" + svc
	}
	cmd := smtp.Command
	args := smtp.Args
	if cmd == "postscreen" {
		cmd, args = "smtpd", nil
	}
	var b strings.Builder
	b.WriteString(masterMarker(port) + "\n")
	fmt.Fprintf(&b, "%-9s %-5s %-7s %-7s %-7s %-7s %-7s %s\n", svc, "inet",
		smtp.Private, smtp.Unpriv, smtp.Chroot, smtp.Wakeup, smtp.Maxproc, cmd)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-o" && i+1 < len(args) {
			fmt.Fprintf(&b, "  -o %s\n", args[i+1])
			i++
			continue
		}
		fmt.Fprintf(&b, "  %s\n", a)
	}
	return b.String()
}

// EditMasterCF puts add's service for port right after the smtp inet service, replacing
// an earlier copy of its own; other services and comments stay as they are.
func EditMasterCF(old []byte, port int) ([]byte, error) {
	entries, err := ParseMasterCF(old)
	if err != nil {
		return nil, err
	}
	smtp := SMTPInet(entries)
	if smtp == nil {
		return nil, fmt.Errorf("no smtp inet service to copy")
	}
	lines := splitLines(old)
	ours, _ := masterForPort(lines, entries, port)
	drop := dropLines(lines, ours, port)
	block := RenderMasterEntry(smtp, port)
	var b strings.Builder
	for i, l := range lines {
		n := i + 1
		if !drop[n] {
			b.WriteString(l + "\n")
		}
		if n == smtp.End {
			b.WriteString(block)
		}
	}
	return []byte(b.String()), nil
}

// RemoveMasterCF removes add's service for port (with force, also one add did not write)
// and reports how many it removed and left.
func RemoveMasterCF(old []byte, port int, force bool) ([]byte, int, int, error) {
	entries, err := ParseMasterCF(old)
	if err != nil {
		return nil, 0, 0, err
	}
	lines := splitLines(old)
	ours, foreign := masterForPort(lines, entries, port)
	if force {
		ours, foreign = append(ours, foreign...), nil
	}
	if len(ours) == 0 {
		return old, 0, len(foreign), nil
	}
	drop := dropLines(lines, ours, port)
	var b strings.Builder
	for i, l := range lines {
		if !drop[i+1] {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String()), len(ours), len(foreign), nil
}

// dropLines marks the entries' lines and the marker comment above each.
func dropLines(lines []string, es []MasterEntry, port int) map[int]bool {
	drop := map[int]bool{}
	for _, e := range es {
		for n := e.Line; n <= e.End; n++ {
			drop[n] = true
		}
		for i := e.Line - 2; i >= 0; i-- {
			t := strings.TrimSpace(lines[i])
			if t == "" {
				continue
			}
			if t == masterMarker(port) {
				drop[i+1] = true
			}
			break
		}
	}
	return drop
}
