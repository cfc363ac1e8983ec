package mailq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hostfix/hostfix/pkg/usage"
)

// DefaultShowBytes is how much of the text parts mailq show prints by default.
const DefaultShowBytes = 64 << 10

// Shown is `mailq show ID`: the envelope and the decoded message.
type Shown struct {
	Message     MessageJSON   `json:"message"`
	Headers     []HeaderField `json:"headers"`
	Parts       []TextPart    `json:"text_parts"`
	Attachments []Attachment  `json:"attachments"`
	// Problems are what could not be decoded (a broken MIME structure, an unknown charset).
	Problems []string `json:"problems"`
}

// HeaderField is one header, folded lines joined and RFC 2047 words decoded where the
// charset is known (else left as written).
type HeaderField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TextPart is a text/* part, transfer encoding undone, up to the byte limit.
type TextPart struct {
	Type      string `json:"type"`
	Charset   string `json:"charset,omitempty"`
	Text      string `json:"text"`
	Truncated bool   `json:"truncated"`
}

// Attachment is a part that is not shown: its name, type and decoded size.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// errFound stops a scan at the message looked for.
var errFound = errors.New("found")

// FindMessage looks id up in the queue (envelope read). An id not in the queue is a
// usage error naming it (exit 2).
func FindMessage(ctx context.Context, src Source, id string) (*Message, error) {
	var found *Message
	err := src.Scan(ctx, ScanOptions{Envelope: true}, func(m *Message) error {
		if m.ID == id {
			found = m
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	if found == nil {
		return nil, usage.Errorf("message %s is not in %s (see hostfix mailq list)", id, src)
	}
	return found, nil
}

// OpenRaw returns the message text as the MTA stores it (mailq show --raw).
func OpenRaw(src Source, m *Message) (io.ReadCloser, error) { return src.openMessage(m) }

// Show reads and decodes a message: headers, text parts up to maxBytes in all, and the
// list of attachments. Decoding problems are reported in Problems, never fatal.
func Show(src Source, m *Message, now time.Time, maxBytes int64) (*Shown, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultShowBytes
	}
	r, err := src.openMessage(m)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &Shown{Message: m.JSON(now, false), Headers: []HeaderField{}, Parts: []TextPart{}, Attachments: []Attachment{}, Problems: []string{}}
	tp := textproto.NewReader(bufio.NewReaderSize(r, 32<<10))
	hdr, order, err := readHeader(tp)
	if err != nil {
		s.Problems = append(s.Problems, "header: "+err.Error())
	}
	for _, f := range order {
		s.Headers = append(s.Headers, HeaderField{Name: f.Name, Value: DecodeHeaderValue(f.Value)})
	}
	left := maxBytes
	s.walk(hdr, tp.R, &left, 0)
	return s, nil
}

// readHeader reads a header block keeping the order and the original names.
func readHeader(tp *textproto.Reader) (textproto.MIMEHeader, []HeaderField, error) {
	h := textproto.MIMEHeader{}
	var order []HeaderField
	for {
		line, err := tp.ReadContinuedLine()
		if line == "" {
			return h, order, err
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			if err != nil {
				return h, order, err
			}
			continue // not a header line: skipped (qmail's own lines are proper headers)
		}
		name, value := line[:i], strings.TrimSpace(line[i+1:])
		h.Add(name, value)
		order = append(order, HeaderField{Name: name, Value: value})
		if err != nil {
			return h, order, err
		}
	}
}

// DecodeHeaderValue decodes RFC 2047 words; an unknown charset leaves the value as written.
func DecodeHeaderValue(v string) string {
	if dec, err := wordDecoder.DecodeHeader(v); err == nil {
		return dec
	}
	return v
}

// walk handles one MIME entity: multipart recursion, text parts shown, the rest listed.
func (s *Shown) walk(h textproto.MIMEHeader, body io.Reader, left *int64, depth int) {
	ctype := h.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		s.Problems = append(s.Problems, fmt.Sprintf("Content-Type %q: %v", clip(ctype), err))
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 20 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				s.Problems = append(s.Problems, fmt.Sprintf("%s: %v", mt, err))
				return
			}
			s.walk(part.Header, part, left, depth+1)
		}
	}
	dec := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = DecodeHeaderValue(name)
	if strings.HasPrefix(mt, "text/") && disp != "attachment" && (mt == "text/plain" || mt == "text/html" || name == "") {
		var b bytes.Buffer
		n, err := io.Copy(&b, io.LimitReader(dec, max(*left, 0)))
		if err != nil {
			s.Problems = append(s.Problems, fmt.Sprintf("%s part: %v", mt, err))
		}
		*left -= n
		more, _ := io.Copy(io.Discard, dec)
		cs := strings.ToLower(params["charset"])
		text, ok := toUTF8(b.Bytes(), cs)
		if !ok {
			s.Problems = append(s.Problems, fmt.Sprintf("%s part: charset %q not decoded (shown as is)", mt, cs))
		}
		s.Parts = append(s.Parts, TextPart{Type: mt, Charset: cs, Text: text, Truncated: more > 0})
		return
	}
	size, err := io.Copy(io.Discard, dec)
	if err != nil {
		s.Problems = append(s.Problems, fmt.Sprintf("%s part %q: %v", mt, name, err))
	}
	s.Attachments = append(s.Attachments, Attachment{Name: name, Type: mt, Size: size})
}

func decodeTransfer(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// stripSpace drops CR, LF, spaces and tabs (line breaks inside base64).
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// toUTF8 converts the charsets every system has (UTF-8, ASCII, Latin-1); others are shown
// as they are, with invalid bytes replaced.
func toUTF8(b []byte, cs string) (string, bool) {
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return strings.ToValidUTF8(string(b), "\uFFFD"), cs == "" || utf8.Valid(b)
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), true
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), false
}
