package mailq

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An Exim spool -H file (Exim specification, "Format of spool files"; exim src/spool_in.c):
//
//	<id>-H
//	<login> <uid> <gid>
//	<<sender>>
//	<time received> <warning count>
//	-option lines ("-frozen <time>", "-aclm <name> <len>" followed by <len>+1 bytes …)
//	the non-recipients tree: "XX", or lines "<Y|N><Y|N> <address>" in pre-order
//	<recipient count>
//	one recipient per line, possibly with trailing DSN / errors_to data ("…#<flags>")
//	a blank line
//	the headers, each "<len><flag> <text>" where text is exactly len bytes (folded lines
//	included) and flag '*' marks a header that is not transmitted.
//
// The parser trusts nothing: a spool may be truncated, hand-edited or from another
// version. It never reads the -D (body) file.

// EximHeader is what hostfix keeps of a -H file.
type EximHeader struct {
	ID       string
	Login    string
	UID, GID int64
	// Sender is the envelope sender without <>; "" for a bounce.
	Sender   string
	Received time.Time
	Warnings int
	Frozen   bool
	FrozenAt time.Time
	// ManualThaw is set when someone thawed the message with -Mt (Exim then does not
	// freeze it again for the same reason).
	ManualThaw bool
	// Recipients in spool order; Delivered holds those in the non-recipients tree (done:
	// delivered or failed, Exim will not try them again).
	Recipients []string
	Delivered  map[string]bool
	// HeaderSize is the size of the transmitted headers (flag not '*'): with the -D size
	// it gives the message size exim -bp prints.
	HeaderSize int64
	// Headers is the transmitted header block as RFC 5322 text (LF line ends), only when
	// the parse was asked for it.
	Headers []byte
}

// maxEximRecipients mirrors Exim's own sanity limit on the recipient count.
const maxEximRecipients = 16384

// ParseEximHeader parses a -H file. name is the file's name (id + "-H"); the first line
// must repeat it. With headers set, the header block is kept (for the subject, --header
// and show).
func ParseEximHeader(b []byte, name string, headers bool) (*EximHeader, error) {
	h := &EximHeader{ID: strings.TrimSuffix(name, "-H")}
	rest := b
	line := func() (string, error) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", errors.New("file cut short (line without newline)")
		}
		s := string(rest[:i])
		rest = rest[i+1:]
		return s, nil
	}
	l, err := line()
	if err != nil {
		return nil, err
	}
	if l != name {
		return nil, fmt.Errorf("first line %q does not name the file %q", clip(l), name)
	}
	// login uid gid: parsed from the right, the login may contain spaces.
	if l, err = line(); err != nil {
		return nil, err
	}
	f := strings.Fields(l)
	if len(f) < 3 {
		return nil, fmt.Errorf("bad originator line %q (want login uid gid)", clip(l))
	}
	if h.UID, err = strconv.ParseInt(f[len(f)-2], 10, 64); err != nil {
		return nil, fmt.Errorf("bad uid in originator line %q", clip(l))
	}
	if h.GID, err = strconv.ParseInt(f[len(f)-1], 10, 64); err != nil {
		return nil, fmt.Errorf("bad gid in originator line %q", clip(l))
	}
	h.Login = strings.Join(f[:len(f)-2], " ")
	if l, err = line(); err != nil {
		return nil, err
	}
	if len(l) < 2 || l[0] != '<' || l[len(l)-1] != '>' {
		return nil, fmt.Errorf("bad sender line %q (want <address>)", clip(l))
	}
	h.Sender = l[1 : len(l)-1]
	if l, err = line(); err != nil {
		return nil, err
	}
	f = strings.Fields(l)
	if len(f) != 2 {
		return nil, fmt.Errorf("bad time line %q (want <time> <warnings>)", clip(l))
	}
	t, err1 := strconv.ParseInt(f[0], 10, 64)
	w, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || t < 0 || w < 0 {
		return nil, fmt.Errorf("bad time line %q (want <time> <warnings>)", clip(l))
	}
	h.Received, h.Warnings = time.Unix(t, 0), w
	// Options.
	for {
		if l, err = line(); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(l, "-") {
			break
		}
		opt := strings.TrimPrefix(strings.TrimPrefix(l, "-"), "-") // "--x" is a tainted value
		switch {
		case strings.HasPrefix(opt, "aclc ") || strings.HasPrefix(opt, "aclm ") || strings.HasPrefix(opt, "acl "):
			// "-acl[cm] <name> <len>" (or old "-acl <n> <len>"): the value follows, len
			// bytes and a newline, and may itself contain newlines.
			f := strings.Fields(opt)
			if len(f) != 3 {
				return nil, fmt.Errorf("bad ACL variable line %q", clip(l))
			}
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 0 || n > len(rest) {
				return nil, fmt.Errorf("bad ACL variable length in %q", clip(l))
			}
			rest = rest[n:]
			if len(rest) == 0 || rest[0] != '\n' {
				return nil, fmt.Errorf("ACL variable %s: value not followed by a newline", f[1])
			}
			rest = rest[1:]
		case strings.HasPrefix(opt, "frozen"):
			v := strings.TrimSpace(strings.TrimPrefix(opt, "frozen"))
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad -frozen line %q", clip(l))
			}
			h.Frozen, h.FrozenAt = true, time.Unix(n, 0)
		case opt == "manual_thaw":
			h.ManualThaw = true
		}
	}
	// Non-recipients tree: "XX", or a pre-order tree of "YN addr" lines.
	h.Delivered = map[string]bool{}
	if l != "XX" {
		if err := readTree(l, line, h.Delivered, 0); err != nil {
			return nil, err
		}
		if l, err = line(); err != nil {
			return nil, err
		}
	} else if l, err = line(); err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(l))
	if err != nil || n < 0 || n > maxEximRecipients {
		return nil, fmt.Errorf("bad recipient count %q", clip(l))
	}
	h.Recipients = make([]string, 0, n)
	for i := 0; i < n; i++ {
		if l, err = line(); err != nil {
			return nil, err
		}
		a := eximRecipientAddress(l)
		if a == "" {
			return nil, fmt.Errorf("empty recipient line %d", i+1)
		}
		h.Recipients = append(h.Recipients, a)
	}
	if l, err = line(); err != nil {
		return nil, err
	}
	if l != "" {
		return nil, fmt.Errorf("no blank line after the recipients (got %q)", clip(l))
	}
	// Headers.
	for len(rest) > 0 {
		i := 0
		for i < len(rest) && i < 9 && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i >= len(rest) {
			return nil, errors.New("bad header record (want <length><flag> <text>)")
		}
		size, _ := strconv.Atoi(string(rest[:i]))
		flag := rest[i]
		rest = rest[i+1:]
		if len(rest) == 0 || rest[0] != ' ' {
			return nil, errors.New("bad header record: no space after the flag")
		}
		rest = rest[1:]
		if size > len(rest) {
			return nil, errors.New("header record longer than the file (file cut short)")
		}
		text := rest[:size]
		if bytes.IndexByte(text, 0) >= 0 {
			return nil, errors.New("NUL byte in a header (damaged spool file)")
		}
		rest = rest[size:]
		if flag == '*' {
			continue
		}
		h.HeaderSize += int64(size)
		if headers {
			h.Headers = append(h.Headers, text...)
		}
	}
	return h, nil
}

// readTree reads one node of the non-recipients tree (already in l) and its branches.
func readTree(l string, next func() (string, error), into map[string]bool, depth int) error {
	if depth > 64 {
		return errors.New("non-recipients tree too deep")
	}
	if len(l) < 3 || (l[0] != 'Y' && l[0] != 'N') || (l[1] != 'Y' && l[1] != 'N') || l[2] != ' ' {
		return fmt.Errorf("bad non-recipients line %q (want YN address)", clip(l))
	}
	into[l[3:]] = true
	for _, branch := range []bool{l[0] == 'Y', l[1] == 'Y'} {
		if !branch {
			continue
		}
		c, err := next()
		if err != nil {
			return err
		}
		if err := readTree(c, next, into, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// eximRecipientAddress strips the extra data Exim may append to a recipient line, reading
// from the right as spool_in.c does: "addr pno" (early Exim 4), "addr d,pno,d" (Exim 3),
// and "addr [orcpt len,dsnflags ][errors_to len,pno]#flags" (current).
func eximRecipientAddress(l string) string {
	p := len(l) - 1
	for p >= 0 && isDigit(l[p]) {
		p--
	}
	if p < 0 || p == len(l)-1 {
		return l // no trailing digits: a plain address
	}
	switch l[p] {
	case ',': // Exim 3: <address> <digits>,<digits>,<digits>
		for p >= 0 && (isDigit(l[p]) || l[p] == ',') {
			p--
		}
		if p >= 0 && l[p] == ' ' {
			return l[:p]
		}
		return l
	case ' ': // early Exim 4: <address> <pno>
		return l[:p]
	case '#':
		flags, _ := strconv.Atoi(l[p+1:])
		end := p // l[:end] is what is left to read
		field := func() bool {
			// "<data> <len>,<n>": back over digits, ',' and '-', then len bytes of data.
			q := end - 1
			for q >= 0 && (isDigit(l[q]) || l[q] == ',' || l[q] == '-') {
				q--
			}
			if q < 0 || l[q] != ' ' {
				return false
			}
			nums := strings.SplitN(l[q+1:end], ",", 2)
			n, err := strconv.Atoi(nums[0])
			if err != nil || n < 0 || n > q {
				return false
			}
			q -= n // start of the data
			if q < 1 || l[q-1] != ' ' {
				return false
			}
			end = q - 1
			return true
		}
		if flags&1 != 0 && !field() {
			return l
		}
		if flags&2 != 0 && !field() {
			return l
		}
		return l[:end]
	}
	return l
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// clip shortens a line for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
