package mx

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in, want, err string
	}{
		{"example.com", "example.com", ""},
		{"Example.COM.", "example.com", ""},
		{"  mail.example.org ", "mail.example.org", ""},
		{"localhost", "localhost", ""},
		{"bücher.example", "xn--bcher-kva.example", ""},
		{"BÜCHER.example", "xn--bcher-kva.example", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", ""},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah", ""},
		{"a-b.example", "a-b.example", ""},
		{"123.example", "123.example", ""},
		{long63 + ".example", long63 + ".example", ""},
		{"", "", "empty name"},
		{".", "", "empty label"},
		{"foo..bar", "", "empty label"},
		{".example.com", "", "empty label"},
		{"example.com..", "", "empty label"},
		{long63 + "a.example", "", "at most 63"},
		{strings.Repeat("abcdefghi.", 25) + "abcd", "", "at most 253"},
		{"exa mple.com", "", "blank"},
		{"under_score.example", "", "not allowed"},
		{"user@example.com", "", "not allowed"},
		{"-lead.example", "", "hyphen"},
		{"trail-.example", "", "hyphen"},
		{"ex*ample.com", "", "not allowed"},
		{"xn--zz.example", "", "not a valid domain"},
	}
	for _, tt := range tests {
		got, err := NormalizeDomain(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestReadDomains(t *testing.T) {
	in := "# hosted domains\nexample.com\n\n  Example.org  # the other one\nbücher.example\n"
	ds, err := ReadDomains(strings.NewReader(in), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name+"@"+d.Source)
	}
	want := "example.com@stdin line 2 example.org@stdin line 4 xn--bcher-kva.example@stdin line 5"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}

	_, err = ReadDomains(strings.NewReader("ok.example\nbad..example\n"), "stdin")
	var de *DomainError
	if !errors.As(err, &de) || de.Source != "stdin line 2" || !strings.Contains(err.Error(), `stdin line 2 "bad..example": empty label`) {
		t.Fatalf("bad line: %v", err)
	}
}

func TestUnique(t *testing.T) {
	ds := []Domain{{Name: "a"}, {Name: "b"}, {Name: "a"}}
	if got := Unique(ds); len(got) != 2 || got[1].Name != "b" {
		t.Fatalf("Unique = %v", got)
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"example.com", "bücher.example", "foo..bar", "a.", strings.Repeat("a", 64), "xn--bcher-kva.example", "-x.y", "例え.テスト"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeDomain(s)
		if err != nil {
			return
		}
		if len(got) > 253 || got == "" || strings.HasSuffix(got, ".") {
			t.Fatalf("NormalizeDomain(%q) = %q", s, got)
		}
		for _, l := range strings.Split(got, ".") {
			if l == "" || len(l) > 63 {
				t.Fatalf("NormalizeDomain(%q) = %q: bad label %q", s, got, l)
			}
		}
		for i := 0; i < len(got); i++ {
			c := got[i]
			if !(c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
				t.Fatalf("NormalizeDomain(%q) = %q: byte %q", s, got, c)
			}
		}
		again, err := NormalizeDomain(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func FuzzReadDomains(f *testing.F) {
	f.Add("# hosted\nexample.com\n\nbücher.example # idn\n")
	f.Add("a..b\n")
	f.Add(strings.Repeat("x", 70000))
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ReadDomains(strings.NewReader(s), "stdin")
		if err != nil {
			var de *DomainError
			if !errors.As(err, &de) && !strings.Contains(err.Error(), "read stdin") {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		for _, d := range ds {
			if n, err := NormalizeDomain(d.Name); err != nil || n != d.Name || !strings.HasPrefix(d.Source, "stdin line ") {
				t.Fatalf("%+v: %v", d, err)
			}
		}
	})
}

// An IP address is not a domain: its last label (a TLD) would be all digits (RFC 3696
// §2). It was looked up in DNS and reported as NXDOMAIN.
func TestNormalizeDomainRefusesIPAddress(t *testing.T) {
	for _, in := range []string{"1.2.3.4", "192.0.2.1.", "10.0.0.300", "example.123"} {
		if n, err := NormalizeDomain(in); err == nil || !strings.Contains(err.Error(), "all digits") {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want refused (all-digit last label)", in, n, err)
		}
	}
	for _, in := range []string{"123.example", "1e100.net", "example.x1"} {
		if _, err := NormalizeDomain(in); err != nil {
			t.Errorf("NormalizeDomain(%q): %v", in, err)
		}
	}
}

// A huge bad name is echoed clipped, never in full (a 100,000-byte argument was printed
// back whole).
func TestDomainErrorClipsInput(t *testing.T) {
	_, err := ParseDomain(strings.Repeat("a", 100000), "argument 1")
	if err == nil || len(err.Error()) > 300 {
		t.Fatalf("error of %d bytes: %.200v", len(err.Error()), err)
	}
}

// A line over the reader's limit names its line in words, not bufio's "token too long".
func TestReadDomainsLongLine(t *testing.T) {
	_, err := ReadDomains(strings.NewReader("example.com\n"+strings.Repeat("a", 2<<20)+"\n"), "stdin")
	if err == nil || strings.Contains(err.Error(), "bufio") || !strings.Contains(err.Error(), "stdin line 2") {
		t.Fatalf("err %v: want stdin line 2 named, no bufio internals", err)
	}
}
