package synflood

import (
	"bytes"
	"regexp"
	"strconv"
	"time"
)

// floodRE matches the kernel's SYN flood warning of every era:
//
//	2.6:      possible SYN flooding on port 80. Sending cookies.
//	3.x-6.1:  TCP: request_sock_TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.
//	6.2+:     TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:9001. Dropping request.  Check SNMP counters.
var floodRE = regexp.MustCompile(`(?i)possible SYN flooding on port (\S+?)\.? (Sending cookies|Dropping request)`)

// Optional time prefixes of a log line: dmesg "[  123.456789] ", syslog "Nov 28 07:00:01 host
// kernel: ", ISO (journalctl -o short-iso, rsyslog high precision), and /dev/kmsg records
// "6,1234,5678901,-;".
var (
	dmesgRE  = regexp.MustCompile(`\[\s*(\d+)\.(\d+)\]`)
	isoRE    = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)`)
	syslogRE = regexp.MustCompile(`^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)`)
	kmsgRE   = regexp.MustCompile(`^\d+,\d+,(\d+),[^;]*;`)
)

// FloodMessage is one "Possible SYN flooding" line.
type FloodMessage struct {
	// Listener is what the kernel printed: a port ("80") before 6.2, address:port after.
	Listener string `json:"listener"`
	// Action is "cookies" or "drop".
	Action string `json:"action"`
	// Time is the wall time when known (ISO or syslog prefix, or kmsg/dmesg offset plus the
	// boot time); zero otherwise.
	Time time.Time `json:"time,omitzero"`
	// SinceBoot is the kernel timestamp when the line has one.
	SinceBoot time.Duration `json:"since_boot,omitempty"`
	Line      string        `json:"line"`
}

// Port is the listener's port number, or 0 when it cannot be read.
func (m FloodMessage) Port() int {
	s := m.Listener
	if i := bytes.LastIndexByte([]byte(s), ':'); i >= 0 {
		s = s[i+1:]
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0
	}
	return p
}

// ParseKernelLogLine reads one log line; ok is false when it is not a SYN flood warning.
// boot is the wall time of boot for kernel offsets (zero: leave Time empty); year is used
// for syslog stamps, which have none.
func ParseKernelLogLine(line []byte, boot time.Time, year int) (FloodMessage, bool) {
	m := floodRE.FindSubmatch(line)
	if m == nil {
		return FloodMessage{}, false
	}
	fm := FloodMessage{Listener: string(m[1]), Action: "cookies", Line: string(bytes.TrimSpace(line))}
	if bytes.HasPrefix(bytes.ToLower(m[2]), []byte("dropping")) {
		fm.Action = "drop"
	}
	if k := kmsgRE.FindSubmatch(line); k != nil {
		if us, err := strconv.ParseInt(string(k[1]), 10, 64); err == nil {
			fm.SinceBoot = time.Duration(us) * time.Microsecond
		}
	} else if d := dmesgRE.FindSubmatch(line); d != nil && d[0] != nil {
		sec, err1 := strconv.ParseInt(string(d[1]), 10, 64)
		frac := string(d[2])
		for len(frac) < 9 {
			frac += "0"
		}
		ns, err2 := strconv.ParseInt(frac[:9], 10, 64)
		if err1 == nil && err2 == nil {
			fm.SinceBoot = time.Duration(sec)*time.Second + time.Duration(ns)
		}
	}
	switch {
	case isoRE.Match(line):
		s := string(isoRE.FindSubmatch(line)[1])
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02T15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				fm.Time = t
				break
			}
		}
	case syslogRE.Match(line):
		s := string(syslogRE.FindSubmatch(line)[1])
		if t, err := time.ParseInLocation("Jan _2 15:04:05", s, time.Local); err == nil {
			fm.Time = t.AddDate(year, 0, 0)
		}
	case fm.SinceBoot > 0 && !boot.IsZero():
		fm.Time = boot.Add(fm.SinceBoot)
	}
	return fm, true
}

// ParseKernelLog reads every SYN flood warning of a log (dmesg output, kern.log, journalctl
// output or /dev/kmsg records).
func ParseKernelLog(data []byte, boot time.Time, year int) []FloodMessage {
	var out []FloodMessage
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		if m, ok := ParseKernelLogLine(line, boot, year); ok {
			out = append(out, m)
		}
	}
	return out
}
