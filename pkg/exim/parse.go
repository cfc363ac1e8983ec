package exim

import (
	"bytes"
	"time"
)

// Failure is one `<authenticator> authenticator failed for <host>: <code> …` line. The
// byte slices point into the line they were parsed from and are only valid until the
// scanner reads on; copy what you keep.
type Failure struct {
	Time          int64 // unix seconds; 0 when the line has no timestamp hostfix can read
	Authenticator []byte
	HostName      []byte // reverse-DNS name, when Exim knew one
	Helo          []byte // the (helo) the client gave
	IP            []byte // empty for a local (-bs without -oMa) session
	Port          []byte
	Interface     []byte // I=[addr]:port, the local address
	Ident         []byte // U=ident
	Code          int    // 535, 435, 501…
	SetID         []byte // (set_id=…), empty when the authenticator sets none
	HasSetID      bool
}

// Login is one authenticated reception: a `<=` line with `A=<authenticator>:<id>`.
type Login struct {
	Time          int64
	Authenticator []byte
	ID            []byte
}

var (
	markFailed = []byte(" authenticator failed for ")
	markAuth   = []byte(" A=")
	markRecv   = []byte(" <= ")
	markSetID  = []byte(" (set_id=")
)

// ParseFailure parses one log line (without its newline) as an authenticator failure.
func ParseFailure(line []byte, tz *Zone) (Failure, bool) {
	i := bytes.Index(line, markFailed)
	if i < 0 {
		return Failure{}, false
	}
	return parseFailureAt(line, i, tz)
}

// parseFailureAt parses line whose markFailed starts at i.
func parseFailureAt(line []byte, i int, tz *Zone) (Failure, bool) {
	var f Failure
	// the authenticator is the word just before the marker
	j := bytes.LastIndexByte(line[:i], ' ') + 1
	f.Authenticator = line[j:i]
	if !driverName(f.Authenticator) {
		return Failure{}, false
	}
	f.Time = tz.lineTime(line)
	rest := line[i+len(markFailed):]
	// The host part ends at ": NNN " (the response code). parseHost walks Exim's fixed
	// layout and says where it ended; when that is not the separator (an odd helo, say),
	// search for it: IPv6 addresses are in brackets and never hold ": ", so the first such
	// separator is the one.
	sep := parseHost(rest, &f)
	if !isSep(rest, sep) {
		f.HostName, f.Helo, f.IP, f.Port, f.Interface, f.Ident = nil, nil, nil, nil, nil, nil
		sep = -1
		for k := 0; k+6 <= len(rest); {
			n := bytes.Index(rest[k:], []byte(": "))
			if n < 0 {
				break
			}
			k += n
			if isSep(rest, k) {
				sep = k
				break
			}
			k += 2
		}
		if sep < 0 {
			return Failure{}, false
		}
		parseHost(rest[:sep], &f)
	}
	f.Code = int(rest[sep+2]-'0')*100 + int(rest[sep+3]-'0')*10 + int(rest[sep+4]-'0')
	msg := rest[sep+6:]
	if len(msg) > 0 && msg[len(msg)-1] == ')' {
		if bytes.HasPrefix(msg, msgIncorrect) {
			// the usual line: "Incorrect authentication data (set_id=…)"
			if bytes.HasPrefix(msg[len(msgIncorrect):], markSetID) {
				f.SetID = msg[len(msgIncorrect)+len(markSetID) : len(msg)-1]
				f.HasSetID = true
			}
		} else if s := bytes.LastIndex(msg, markSetID); s >= 0 {
			f.SetID = msg[s+len(markSetID) : len(msg)-1]
			f.HasSetID = true
		}
	}
	return f, true
}

var msgIncorrect = []byte("Incorrect authentication data")

// isSep reports whether ": NNN " starts at k in s.
func isSep(s []byte, k int) bool {
	return k >= 0 && k+6 <= len(s) && s[k] == ':' && s[k+1] == ' ' && isDigit(s[k+2]) && isDigit(s[k+3]) && isDigit(s[k+4]) && s[k+5] == ' '
}

// parseHost splits Exim's host_and_ident(): `[H=][name ][(helo) ][ip]:port[ I=[ip]:port][ U=ident]`
// at the start of s, and returns where it ended (-1 when the layout did not fit). An
// ident runs to the separator, so it is cut at the first ": NNN " after "U=".
func parseHost(s []byte, f *Failure) int {
	pos := 0
	if bytes.HasPrefix(s, []byte("H=")) {
		pos = 2
	}
	if pos < len(s) && s[pos] != '[' && s[pos] != '(' && !bytes.HasPrefix(s[pos:], []byte("U=")) {
		sp := bytes.IndexByte(s[pos:], ' ')
		if sp < 0 || (sp > 0 && s[pos+sp-1] == ':') {
			// no host at all: a local session, only the ident ("root: 535 …")
			end := sp - 1
			if sp < 0 {
				end = len(s)
			}
			f.Ident = s[pos : pos+end]
			return pos + end
		}
		f.HostName = s[pos : pos+sp]
		pos += sp + 1
	}
	if pos < len(s) && s[pos] == '(' {
		end := bytes.Index(s[pos:], []byte(") ["))
		if end < 0 {
			end = bytes.LastIndexByte(s[pos:], ')')
			if end < 0 {
				return -1
			}
		}
		f.Helo = s[pos+1 : pos+end]
		pos += end + 1
		if pos < len(s) && s[pos] == ' ' {
			pos++
		}
	}
	if pos < len(s) && s[pos] == '[' {
		end := bytes.IndexByte(s[pos:], ']')
		if end < 0 {
			return -1
		}
		f.IP = s[pos+1 : pos+end]
		pos += end + 1
		if pos+1 < len(s) && s[pos] == ':' && isDigit(s[pos+1]) {
			k := pos + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			f.Port = s[pos+1 : k]
			pos = k
		}
	}
	if bytes.HasPrefix(s[pos:], []byte(" I=[")) {
		end := bytes.IndexByte(s[pos:], ']')
		if end < 0 {
			return -1
		}
		f.Interface = s[pos+4 : pos+end]
		pos += end + 1
		if pos+1 < len(s) && s[pos] == ':' && isDigit(s[pos+1]) {
			k := pos + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			pos = k
		}
	}
	if bytes.HasPrefix(s[pos:], []byte(" U=")) {
		start := pos + 3
		for k := start; k < len(s); k++ {
			if s[k] == ':' && isSep(s, k) {
				f.Ident = s[start:k]
				return k
			}
		}
		f.Ident = s[start:]
		return len(s)
	}
	return pos
}

// ParseLogin parses one log line as an authenticated reception (`<= … A=auth:id …`).
func ParseLogin(line []byte, tz *Zone) (Login, bool) {
	i := bytes.Index(line, markAuth)
	if i < 0 {
		return Login{}, false
	}
	return parseLoginAt(line, i, tz)
}

func parseLoginAt(line []byte, i int, tz *Zone) (Login, bool) {
	if !bytes.Contains(line[:i], markRecv) {
		return Login{}, false
	}
	return parseReception(line, i, tz)
}

// parseReception reads A=auth:id at i of a line known to be a "<=" reception.
func parseReception(line []byte, i int, tz *Zone) (Login, bool) {
	var l Login
	v := line[i+len(markAuth):]
	if e := bytes.IndexByte(v, ' '); e >= 0 {
		v = v[:e]
	}
	c := bytes.IndexByte(v, ':')
	if c <= 0 {
		return Login{}, false // A= without an id: nothing to count per account
	}
	l.Authenticator, l.ID = v[:c], v[c+1:]
	l.Time = tz.lineTime(line)
	return l, true
}

// driverName reports whether s can be an Exim driver instance name (a letter, then
// letters, digits and underscores), which rules out a timestamp or pid before the marker.
func driverName(s []byte) bool {
	if len(s) == 0 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Zone turns Exim's local timestamps into unix seconds. Exim writes local time without an
// offset unless log_timezone is set (then " +0100" follows); the hour's offset is cached,
// so a line costs a few byte compares, not a time.Date.
type Zone struct {
	loc      *time.Location
	hourKey  [13]byte
	hourUnix int64
	haveHour bool
}

// NewZone reads timestamps without an offset in loc.
func NewZone(loc *time.Location) *Zone {
	if loc == nil {
		loc = time.Local
	}
	return &Zone{loc: loc}
}

// lineTime reads `YYYY-MM-DD HH:MM:SS[.mmm][ +ZZZZ]` at the start of line; 0 when absent.
func (z *Zone) lineTime(line []byte) int64 {
	if z == nil || len(line) < 19 {
		return 0
	}
	b := line[:19]
	for _, k := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(b[k]) {
			return 0
		}
	}
	if b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return 0
	}
	d2 := func(k int) int { return int(b[k]-'0')*10 + int(b[k+1]-'0') }
	min, sec := d2(14), d2(17)
	// an explicit offset after the time (log_timezone = true)
	rest := line[19:]
	if len(rest) > 0 && rest[0] == '.' {
		k := 1
		for k < len(rest) && isDigit(rest[k]) {
			k++
		}
		rest = rest[k:]
	}
	if len(rest) >= 6 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') &&
		isDigit(rest[2]) && isDigit(rest[3]) && isDigit(rest[4]) && isDigit(rest[5]) {
		off := (int64(rest[2]-'0')*10+int64(rest[3]-'0'))*3600 + (int64(rest[4]-'0')*10+int64(rest[5]-'0'))*60
		if rest[1] == '-' {
			off = -off
		}
		year := int(b[0]-'0')*1000 + int(b[1]-'0')*100 + d2(2)
		days := daysFromCivil(year, d2(5), d2(8))
		return days*86400 + int64(d2(11))*3600 + int64(min)*60 + int64(sec) - off
	}
	if !z.haveHour || !bytes.Equal(z.hourKey[:], b[:13]) {
		year := int(b[0]-'0')*1000 + int(b[1]-'0')*100 + d2(2)
		z.hourUnix = time.Date(year, time.Month(d2(5)), d2(8), d2(11), 0, 0, 0, z.loc).Unix()
		copy(z.hourKey[:], b[:13])
		z.haveHour = true
	}
	return z.hourUnix + int64(min)*60 + int64(sec)
}

// daysFromCivil is days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
