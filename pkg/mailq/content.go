package mailq

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/usage"
)

// The content filters --header and --body (qmHandle -h/-b, -H/-B case-sensitive): they
// read the message itself, so they are evaluated after the envelope filters, only for the
// messages those let through.

// DefaultBodyScanBytes is mailq.body_scan_bytes' default.
const DefaultBodyScanBytes = 1 << 20

func (s FilterSpec) compileContent(f *Filter) error {
	re := func(flag, expr string) (*regexp.Regexp, error) {
		if expr == "" {
			return nil, nil
		}
		src := expr
		if !s.CaseSensitive {
			src = "(?i)" + expr
		}
		r, err := regexp.Compile(src)
		if err != nil {
			return nil, usage.Errorf("--%s %q: not a valid regular expression: %w", flag, expr, err)
		}
		return r, nil
	}
	var err error
	if f.Header, err = re("header", s.Header); err != nil {
		return err
	}
	if f.Body, err = re("body", s.Body); err != nil {
		return err
	}
	if s.CaseSensitive && f.Header == nil && f.Body == nil {
		return usage.Errorf("--case-sensitive applies to --header and --body: set one of them")
	}
	f.BodyLimit = s.BodyLimit
	if f.BodyLimit <= 0 {
		f.BodyLimit = DefaultBodyScanBytes
	}
	return nil
}

func (f Filter) contentString() []string {
	show := func(re *regexp.Regexp) string {
		if s, ok := strings.CutPrefix(re.String(), "(?i)"); ok {
			return s + " (any case)"
		}
		return re.String()
	}
	var parts []string
	if f.Header != nil {
		parts = append(parts, "a header =~ "+show(f.Header))
	}
	if f.Body != nil {
		parts = append(parts, "a body line =~ "+show(f.Body))
	}
	return parts
}

// NeedsContent reports whether the filter reads message text (--header, --body).
func (f Filter) NeedsContent() bool { return f.Header != nil || f.Body != nil }

// AddErr counts m, whose text a content filter (--header, --body) could not read.
func (u *Unreadable) AddErr(m *Message, err error) {
	u.Count++
	u.content = true
	if len(u.first) < 3 {
		u.first = append(u.first, "#"+m.ID+": "+err.Error())
	}
}

// Select reports whether m is selected: the envelope filters (Match), then the content
// filters on the message text from src. A message whose text cannot be read does not
// match a content filter; its error is returned for the caller to count.
func (f Filter) Select(src Source, m *Message, now time.Time) (bool, error) {
	if !f.Match(m, now) {
		return false, nil
	}
	if f.All || !f.NeedsContent() {
		return true, nil
	}
	var r io.ReadCloser
	var err error
	if f.Body == nil && m.header != nil {
		r = io.NopCloser(bytes.NewReader(m.header))
	} else if r, err = src.openMessage(m); err != nil {
		return false, err
	}
	defer r.Close()
	return f.MatchText(r)
}

// MatchText evaluates --header and --body on a message's text: every header field
// (unfolded; raw or with RFC 2047 words decoded) until the blank line, then the body line
// by line up to BodyLimit bytes. It stops reading as soon as the answer is known.
func (f Filter) MatchText(r io.Reader) (bool, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	headerHit := f.Header == nil
	var field []byte
	check := func() {
		if headerHit || len(field) == 0 {
			return
		}
		if f.Header.Match(field) {
			headerHit = true
		} else if dec, err := wordDecoder.DecodeHeader(string(field)); err == nil && dec != string(field) && f.Header.MatchString(dec) {
			headerHit = true
		}
	}
	inBody := false
	for !inBody {
		line, err := readLine(br, maxHeader)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, err
		}
		if len(line) == 0 {
			check()
			inBody = true
			if err != nil { // EOF: no body
				break
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			field = append(field, line...)
		} else {
			check()
			field = append(field[:0], line...)
		}
		if errors.Is(err, io.EOF) {
			check()
			break
		}
	}
	if !headerHit {
		return false, nil
	}
	if f.Body == nil {
		return true, nil
	}
	if !inBody {
		return false, nil
	}
	left := f.BodyLimit
	for left > 0 {
		line, err := readLine(br, left)
		left -= int64(len(line)) + 1
		if len(line) > 0 && f.Body.Match(line) {
			return true, nil
		}
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// readLine reads one line without its LF or CRLF, at most max bytes of it (the rest of a
// longer line is skipped). At the end of the input it returns the last line and io.EOF.
func readLine(br *bufio.Reader, max int64) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if int64(len(line)) < max {
			room := max - int64(len(line))
			if int64(len(chunk)) > room {
				line = append(line, chunk[:room]...)
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if err != nil {
			if len(line) == 0 && len(chunk) == 0 {
				return nil, err
			}
			return line, err
		}
		return line, nil
	}
}
