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
	// Lines are sub-slices of b: only the values kept become strings (a 50,000-message
	// spool is read in well under a second this way).
	line := func() ([]byte, error) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return nil, errors.New("file cut short (line without newline)")
		}
		l := rest[:i]
		rest = rest[i+1:]
		return l, nil
	}
	l, err := line()
	if err != nil {
		return nil, err
	}
	if string(l) != name {
		return nil, fmt.Errorf("first line %q does not name the file %q", clip(string(l)), name)
	}
	// login uid gid: parsed from the right, the login may contain spaces.
	if l, err = line(); err != nil {
		return nil, err
	}
	f := bytes.Fields(l)
	if len(f) < 3 {
		return nil, fmt.Errorf("bad originator line %q (want login uid gid)", clip(string(l)))
	}
	var ok1, ok2 bool
	h.UID, ok1 = atoiSigned(f[len(f)-2])
	h.GID, ok2 = atoiSigned(f[len(f)-1])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("bad uid or gid in originator line %q", clip(string(l)))
	}
	h.Login = string(bytes.Join(f[:len(f)-2], []byte(" ")))
	if l, err = line(); err != nil {
		return nil, err
	}
	if len(l) < 2 || l[0] != '<' || l[len(l)-1] != '>' {
		return nil, fmt.Errorf("bad sender line %q (want <address>)", clip(string(l)))
	}
	h.Sender = string(l[1 : len(l)-1])
	if l, err = line(); err != nil {
		return nil, err
	}
	f = bytes.Fields(l)
	if len(f) != 2 {
		return nil, fmt.Errorf("bad time line %q (want <time> <warnings>)", clip(string(l)))
	}
	t, ok1 := atou(f[0])
	w, ok2 := atou(f[1])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("bad time line %q (want <time> <warnings>)", clip(string(l)))
	}
	h.Received, h.Warnings = time.Unix(t, 0), int(w)
	// Options.
	for {
		if l, err = line(); err != nil {
			return nil, err
		}
		if len(l) == 0 || l[0] != '-' {
			break
		}
		opt := l[1:]
		if len(opt) > 0 && opt[0] == '-' { // "--x" is a tainted value
			opt = opt[1:]
		}
		switch {
		case bytes.HasPrefix(opt, []byte("aclc ")) || bytes.HasPrefix(opt, []byte("aclm ")) || bytes.HasPrefix(opt, []byte("acl ")):
			// "-acl[cm] <name> <len>" (or old "-acl <n> <len>"): the value follows, len
			// bytes and a newline, and may itself contain newlines.
			f := bytes.Fields(opt)
			if len(f) != 3 {
				return nil, fmt.Errorf("bad ACL variable line %q", clip(string(l)))
			}
			n, ok := atou(f[2])
			if !ok || n > int64(len(rest)) {
				return nil, fmt.Errorf("bad ACL variable length in %q", clip(string(l)))
			}
			rest = rest[n:]
			if len(rest) == 0 || rest[0] != '\n' {
				return nil, fmt.Errorf("ACL variable %s: value not followed by a newline", f[1])
			}
			rest = rest[1:]
		case bytes.HasPrefix(opt, []byte("frozen")):
			n, ok := atou(bytes.TrimSpace(opt[len("frozen"):]))
			if !ok {
				return nil, fmt.Errorf("bad -frozen line %q", clip(string(l)))
			}
			h.Frozen, h.FrozenAt = true, time.Unix(n, 0)
		case string(opt) == "manual_thaw":
			h.ManualThaw = true
		}
	}
	// Non-recipients tree: "XX", or a pre-order tree of "YN addr" lines.
	h.Delivered = map[string]bool{}
	if string(l) != "XX" {
		if err := readTree(l, line, h.Delivered, 0); err != nil {
			return nil, err
		}
	}
	if l, err = line(); err != nil {
		return nil, err
	}
	n, ok := atou(bytes.TrimSpace(l))
	if !ok || n > maxEximRecipients {
		return nil, fmt.Errorf("bad recipient count %q", clip(string(l)))
	}
	h.Recipients = make([]string, 0, n)
	for i := 0; i < int(n); i++ {
		if l, err = line(); err != nil {
			return nil, err
		}
		a := eximRecipientAddress(string(l))
		if a == "" {
			return nil, fmt.Errorf("empty recipient line %d", i+1)
		}
		h.Recipients = append(h.Recipients, a)
	}
	if l, err = line(); err != nil {
		return nil, err
	}
	if len(l) != 0 {
		return nil, fmt.Errorf("no blank line after the recipients (got %q)", clip(string(l)))
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
		size, _ := atou(rest[:i])
		flag := rest[i]
		rest = rest[i+1:]
		if len(rest) == 0 || rest[0] != ' ' {
			return nil, errors.New("bad header record: no space after the flag")
		}
		rest = rest[1:]
		if size > int64(len(rest)) {
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
		h.HeaderSize += size
		if headers {
			h.Headers = append(h.Headers, text...)
		}
	}
	return h, nil
}

// atou parses a decimal number of at most 18 digits (no sign).
func atou(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// atoiSigned is atou with an optional leading '-' (Exim allows negative uids and gids).
func atoiSigned(b []byte) (int64, bool) {
	if len(b) > 1 && b[0] == '-' {
		n, ok := atou(b[1:])
		return -n, ok
	}
	return atou(b)
}

// readTree reads one node of the non-recipients tree (already in l) and its branches.
func readTree(l []byte, next func() ([]byte, error), into map[string]bool, depth int) error {
	if depth > 64 {
		return errors.New("non-recipients tree too deep")
	}
	if len(l) < 3 || (l[0] != 'Y' && l[0] != 'N') || (l[1] != 'Y' && l[1] != 'N') || l[2] != ' ' {
		return fmt.Errorf("bad non-recipients line %q (want YN address)", clip(string(l)))
	}
	into[string(l[3:])] = true
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
