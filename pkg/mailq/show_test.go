package mailq

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func eximFixture(t *testing.T) *EximSpool {
	t.Helper()
	root := t.TempDir()
	copyTree(t, "testdata/exim/input", filepath.Join(root, "var/spool/exim4/input"))
	s, err := OpenExim(hostAt(t, root), "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestShowEximMultipart(t *testing.T) {
	s := eximFixture(t)
	m, err := FindMessage(context.Background(), s, "1xYJxt-0005u7-0P")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := Show(s, m, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var subject string
	for _, h := range sh.Headers {
		if h.Name == "Subject" {
			subject = h.Value
		}
	}
	if subject != "café" {
		t.Errorf("subject %q (headers %+v)", subject, sh.Headers)
	}
	if len(sh.Parts) != 1 || sh.Parts[0].Type != "text/plain" || strings.TrimSpace(sh.Parts[0].Text) != "Hello wörld" || sh.Parts[0].Truncated {
		t.Errorf("parts %+v", sh.Parts)
	}
	want := []Attachment{{Name: "invoice.pdf", Type: "application/pdf", Size: 9}}
	if !reflect.DeepEqual(sh.Attachments, want) {
		t.Errorf("attachments %+v", sh.Attachments)
	}
	if len(sh.Problems) != 0 || sh.Message.MTA != "exim" || sh.Message.Sender == nil || *sh.Message.Sender != "dsn@sender.example" {
		t.Errorf("problems %v, envelope %+v", sh.Problems, sh.Message)
	}
	// --max-bytes cuts the text.
	sh, _ = Show(s, m, time.Now(), 5)
	if sh.Parts[0].Text != "Hello" || !sh.Parts[0].Truncated {
		t.Errorf("cut part %+v", sh.Parts[0])
	}
}

func TestFindMessageUnknown(t *testing.T) {
	_, err := FindMessage(context.Background(), eximFixture(t), "1xYJxt-0005u7-0Q")
	if err == nil || !strings.Contains(err.Error(), "message 1xYJxt-0005u7-0Q is not in /var/spool/exim4/input") {
		t.Errorf("err %v", err)
	}
}

func TestShowFoldedAndEncodedHeaders(t *testing.T) {
	msg := "Received: (qmail 1 invoked by uid 0); 1 Dec 2026 09:00:00 -0000\n" +
		"Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= and\n a folded line\n" +
		"From: =?UTF-8?B?U3DDpG1tZXI=?= <spam@bad.example>\n" +
		"Content-Type: text/plain; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: quoted-printable\n\n" +
		"Gr=FC=DFe aus M=FCnchen\n"
	src := textSource(msg)
	out, err := Show(src, &Message{ID: "1"}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range out.Headers {
		got[h.Name] = h.Value
	}
	if got["Subject"] != "Grüße and a folded line" || got["From"] != "Spämmer <spam@bad.example>" {
		t.Errorf("headers %q", got)
	}
	if len(out.Parts) != 1 || out.Parts[0].Text != "Grüße aus München\n" {
		t.Errorf("parts %+v", out.Parts)
	}
}
