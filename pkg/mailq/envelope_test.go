package mailq

import (
	"reflect"
	"testing"
)

// Samples follow qmail-queue(8) and qmail-send's preprocessing (notqmail qmail-queue.c,
// qmail-send.c todo_do): info holds only the F record, local/remote T and D records, todo
// u, p, F then T records without a terminating extra NUL.
var infoCases = []struct {
	name, in string
	sender   string
	bad      bool
}{
	{"plain", "Fuser@example.com\x00", "user@example.com", false},
	{"bounce (empty sender)", "F\x00", "", false},
	{"double bounce", "F#@[]\x00", "#@[]", false},
	{"8bit sender", "Fj\xc3\xb6rg@example.de\x00", "j\xc3\xb6rg@example.de", false},
	{"empty file", "", "", true},
	{"truncated", "Fuser@example.com", "", true},
	{"wrong record", "Tuser@example.com\x00", "", true},
	{"two senders", "Fa@b\x00Fc@d\x00", "", true},
	{"stray NUL", "\x00", "", true},
}

func TestParseInfo(t *testing.T) {
	for _, c := range infoCases {
		got, err := ParseInfo([]byte(c.in))
		if (err != nil) != c.bad {
			t.Errorf("%s: err = %v, want error %v", c.name, err, c.bad)
			continue
		}
		if got != c.sender {
			t.Errorf("%s: sender %q, want %q", c.name, got, c.sender)
		}
	}
}

var rcptCases = []struct {
	name, in string
	want     []Recipient
	bad      bool
}{
	{"one pending", "Tbob@example.org\x00", []Recipient{{"bob@example.org", "remote", false}}, false},
	{"done and pending", "Da@x.org\x00Tb@y.org\x00Dc@z.org\x00",
		[]Recipient{{"a@x.org", "remote", true}, {"b@y.org", "remote", false}, {"c@z.org", "remote", true}}, false},
	{"empty file", "", nil, false},
	{"local virtual-domain rewrite", "Thosted.example-info@hosted.example\x00",
		[]Recipient{{"hosted.example-info@hosted.example", "remote", false}}, false},
	{"truncated last record", "Ta@x.org\x00Tb@y", nil, true},
	{"unknown record", "Xa@x.org\x00", nil, true},
}

func TestParseRecipients(t *testing.T) {
	for _, c := range rcptCases {
		got, err := ParseRecipients([]byte(c.in), "remote")
		if (err != nil) != c.bad {
			t.Errorf("%s: err = %v, want error %v", c.name, err, c.bad)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

var todoCases = []struct {
	name, in string
	want     Todo
	bad      bool
}{
	{"qmail-inject", "u1001\x00p4242\x00Fuser@example.com\x00Ta@x.org\x00Tb@y.org\x00",
		Todo{UID: 1001, PID: 4242, Sender: "user@example.com", HasSender: true, Recipients: []string{"a@x.org", "b@y.org"}}, false},
	{"bounce from qmail-send", "u89\x00p77\x00F\x00Tuser@example.com\x00",
		Todo{UID: 89, PID: 77, HasSender: true, Recipients: []string{"user@example.com"}}, false},
	{"double bounce", "u89\x00p78\x00F#@[]\x00Tpostmaster@example.com\x00",
		Todo{UID: 89, PID: 78, Sender: "#@[]", HasSender: true, Recipients: []string{"postmaster@example.com"}}, false},
	{"patched queue extra record skipped", "u0\x00p1\x00eextra\x00Fa@b\x00Tc@d\x00",
		Todo{UID: 0, PID: 1, Sender: "a@b", HasSender: true, Recipients: []string{"c@d"}}, false},
	{"no recipients yet", "u1\x00p2\x00Fa@b\x00", Todo{UID: 1, PID: 2, Sender: "a@b", HasSender: true}, false},
	{"empty", "", Todo{}, true},
	{"no sender", "u1\x00p2\x00", Todo{}, true},
	{"recipient before sender", "u1\x00Ta@b\x00Fc@d\x00", Todo{}, true},
	{"bad uid", "uabc\x00p2\x00Fa@b\x00", Todo{}, true},
	{"truncated", "u1\x00p2\x00Fa@b\x00Tc@", Todo{}, true},
}

func TestParseTodo(t *testing.T) {
	for _, c := range todoCases {
		got, err := ParseTodo([]byte(c.in))
		if (err != nil) != c.bad {
			t.Errorf("%s: err = %v, want error %v", c.name, err, c.bad)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	for _, c := range infoCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseInfo(b)
		if err == nil && "F"+s+"\x00" != string(b) {
			t.Fatalf("accepted %q as sender %q", b, s)
		}
	})
}

func FuzzParseRecipients(f *testing.F) {
	for _, c := range rcptCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRecipients(b, "local")
		if err != nil {
			return
		}
		// Round trip: the records must rebuild the input exactly.
		var out []byte
		for _, r := range rs {
			typ := byte('T')
			if r.Done {
				typ = 'D'
			}
			out = append(append(append(out, typ), r.Address...), 0)
		}
		if string(out) != string(b) {
			t.Fatalf("parsed %q as %+v", b, rs)
		}
	})
}

func FuzzParseTodo(f *testing.F) {
	for _, c := range todoCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		td, err := ParseTodo(b)
		if err != nil {
			return
		}
		if !td.HasSender || td.UID < 0 || td.PID < 0 {
			t.Fatalf("accepted %q as %+v", b, td)
		}
	})
}

func TestHeaderSubject(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Received: (qmail 1 invoked by uid 0); 1 Jan 2026\nSubject: Hello\nFrom: a@b\n\nbody Subject: no\n", "Hello"},
		{"folded", "Subject: Hello\n  world\nFrom: a\n\n", "Hello world"},
		{"crlf", "From: a\r\nSUBJECT: Cheap meds\r\n\r\n", "Cheap meds"},
		{"rfc2047", "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\n\n", "Grüße"},
		{"unknown charset kept", "Subject: =?x-unknown?Q?abc?=\n\n", "=?x-unknown?Q?abc?="},
		{"only in body", "From: a\n\nSubject: not a header\n", ""},
		{"none", "", ""},
	}
	for _, c := range cases {
		if got := HeaderSubject([]byte(c.in)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	cases := []struct {
		in   string
		want string
		bad  bool
	}{
		{"90m", "1h30m0s", false}, {"36h", "36h0m0s", false}, {"7d", "168h0m0s", false},
		{"1d12h", "36h0m0s", false}, {"0s", "", true}, {"d", "", true}, {"7days", "", true}, {"-1h", "", true}, {"", "", true},
	}
	for _, c := range cases {
		d, err := ParseAge(c.in)
		if (err != nil) != c.bad {
			t.Errorf("%q: err %v, want error %v", c.in, err, c.bad)
			continue
		}
		if !c.bad && d.String() != c.want {
			t.Errorf("%q: %s, want %s", c.in, d, c.want)
		}
	}
}
