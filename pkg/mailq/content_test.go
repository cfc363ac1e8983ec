package mailq

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// textSource is a Source holding one message text, for the content filters and show.
type textSource string

func (s textSource) MTA() string      { return "test" }
func (s textSource) Location() string { return "/test" }
func (s textSource) String() string   { return "/test" }
func (s textSource) Scan(_ context.Context, _ ScanOptions, fn func(*Message) error) error {
	return fn(&Message{ID: "1"})
}
func (s textSource) openMessage(*Message) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(string(s))), nil
}

func TestContentFilters(t *testing.T) {
	msg := "Received: from x\nSubject: =?UTF-8?Q?Rechnung_f=C3=BCr?=\n Dezember\nX-Mailer: PHPMailer 5.2\r\n\nHello\nclick HERE to win\n" + strings.Repeat("x", 100) + "\nlate marker\n"
	for _, c := range []struct {
		spec FilterSpec
		want bool
	}{
		{FilterSpec{Header: "^x-mailer: phpmailer"}, true},
		{FilterSpec{Header: "^x-mailer: phpmailer", CaseSensitive: true}, false},
		{FilterSpec{Header: "^X-Mailer: PHPMailer", CaseSensitive: true}, true},
		{FilterSpec{Header: "Rechnung für Dezember"}, true}, // decoded and unfolded
		{FilterSpec{Header: "Dezember$"}, true},
		{FilterSpec{Header: "Hello"}, false}, // body is not a header
		{FilterSpec{Body: "click here"}, true},
		{FilterSpec{Body: "click here", CaseSensitive: true}, false},
		{FilterSpec{Body: "Received"}, false}, // header is not body
		{FilterSpec{Body: "late marker"}, true},
		{FilterSpec{Body: "late marker", BodyLimit: 60}, false}, // beyond body_scan_bytes
		{FilterSpec{Header: "PHPMailer", Body: "win$"}, true},
		{FilterSpec{Header: "Outlook", Body: "win$"}, false},
	} {
		f, err := c.spec.Compile()
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Select(textSource(msg), &Message{ID: "1"}, time.Now())
		if err != nil || got != c.want {
			t.Errorf("%+v: got %v (%v), want %v", c.spec, got, err, c.want)
		}
	}
	// A message with no body at all, and one without a final newline.
	f, _ := FilterSpec{Body: "x"}.Compile()
	if ok, _ := f.MatchText(strings.NewReader("Subject: x\n")); ok {
		t.Error("no body matched --body")
	}
	f, _ = FilterSpec{Header: "^subject: y$"}.Compile()
	if ok, _ := f.MatchText(strings.NewReader("Subject: y")); !ok {
		t.Error("last header without newline not matched")
	}
}

func FuzzMatchText(f *testing.F) {
	f.Add([]byte("Subject: a\n b\n\nbody\n"), "b", "body")
	f.Add([]byte("X: =?UTF-8?B?w6k=?=\r\n\r\n\r\n"), "é", "")
	f.Fuzz(func(t *testing.T, msg []byte, hre, bre string) {
		fl, err := FilterSpec{Header: hre, Body: bre, BodyLimit: 1 << 10}.Compile()
		if err != nil {
			return
		}
		fl.MatchText(strings.NewReader(string(msg)))
	})
}
