package smtpport

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/samples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseXinetdSamples(t *testing.T) {
	f, err := ParseXinetd(sample(t, "xinetd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Defaults) != 1 || len(f.Services) != 0 {
		t.Fatalf("xinetd.conf: %d defaults, %d services", len(f.Defaults), len(f.Services))
	}
	if want := []XinetdInclude{{Dir: true, Path: "/etc/xinetd.d", Line: 14}}; !reflect.DeepEqual(f.Includes, want) {
		t.Fatalf("includes %+v, want %+v", f.Includes, want)
	}

	f, err = ParseXinetd(sample(t, "xinetd-daytime"))
	if err != nil {
		t.Fatal(err)
	}
	// Two services share the name; their ids tell them apart.
	if len(f.Services) != 2 || f.Services[0].ID() != "daytime-stream" || f.Services[1].ID() != "daytime-dgram" {
		t.Fatalf("daytime services: %+v", f.Services)
	}
	if s := f.Service("daytime-dgram"); s == nil || s.Value("protocol") != "udp" || s.Open != s.Line+1 {
		t.Fatalf("daytime-dgram: %+v", s)
	}

	f, err = ParseXinetd(sample(t, "xinetd-servers"))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Services[0]
	if !s.HasFlag("type", "UNLISTED") || s.Value("port") != "9099" || s.Value("only_from") != "127.0.0.1" {
		t.Fatalf("servers: %+v", s)
	}

	f, err = ParseXinetd(sample(t, "smtp_psa"))
	if err != nil {
		t.Fatal(err)
	}
	s = pickXinetdService(f)
	if s == nil || s.Name != "smtp" || !strings.Contains(s.Value("server_args"), "qmail-smtpd") || s.Value("instances") != "UNLIMITED" {
		t.Fatalf("smtp_psa: %+v", s)
	}
	if s.Line != 1 || s.Open != 2 || s.Close != 12 {
		t.Fatalf("smtp_psa lines %d %d %d", s.Line, s.Open, s.Close)
	}
}

func TestParseXinetd(t *testing.T) {
	tests := []struct {
		name, in string
		err      string // substring of the error, "" = parses
		check    func(t *testing.T, f *XinetdFile)
	}{
		{name: "brace on the service line", in: "service smtp {\n  port = 25\n}\n", check: func(t *testing.T, f *XinetdFile) {
			if s := f.Services[0]; s.Open != 1 || s.Close != 3 || s.Value("port") != "25" {
				t.Fatalf("%+v", s)
			}
		}},
		{name: "comments and blanks between header and brace", in: "# c\nservice smtp\n\n# why\n{\n}\n", check: func(t *testing.T, f *XinetdFile) {
			if s := f.Services[0]; s.Line != 2 || s.Open != 5 {
				t.Fatalf("%+v", s)
			}
		}},
		{name: "plus and minus operators", in: "service x\n{\n flags = A B\n flags += C\n flags -= A\n log_on_success+=PID\n}\n", check: func(t *testing.T, f *XinetdFile) {
			s := f.Services[0]
			if got := s.Value("flags"); got != "B C" {
				t.Fatalf("flags %q", got)
			}
			if got := s.Value("log_on_success"); got != "PID" {
				t.Fatalf("log_on_success %q", got)
			}
			if s.Attrs[1].Op != "+=" || s.Attrs[2].Op != "-=" {
				t.Fatalf("ops %+v", s.Attrs)
			}
		}},
		{name: "duplicate attribute: last = wins", in: "service x\n{\n port = 25\n port = 26\n}\n", check: func(t *testing.T, f *XinetdFile) {
			if got := f.Services[0].Value("port"); got != "26" {
				t.Fatalf("port %q", got)
			}
		}},
		{name: "no spaces around =", in: "service x\n{\nport=26\n}\n", check: func(t *testing.T, f *XinetdFile) {
			if got := f.Services[0].Value("port"); got != "26" {
				t.Fatalf("port %q", got)
			}
		}},
		{name: "include and includedir", in: "include /etc/a\nincludedir /etc/xinetd.d\n", check: func(t *testing.T, f *XinetdFile) {
			if len(f.Includes) != 2 || f.Includes[0].Dir || !f.Includes[1].Dir {
				t.Fatalf("%+v", f.Includes)
			}
		}},
		{name: "CRLF", in: "service x\r\n{\r\n port = 26\r\n}\r\n", check: func(t *testing.T, f *XinetdFile) {
			if got := f.Services[0].Value("port"); got != "26" {
				t.Fatalf("port %q", got)
			}
		}},
		{name: "missing close", in: "service smtp\n{\n port = 25\n", err: "line 1: service smtp: missing }"},
		{name: "missing open", in: "service smtp\n port = 25\n}\n", err: "line 2: want { after line 1"},
		{name: "no brace at all", in: "service smtp\n", err: "line 1: service smtp: no { follows"},
		{name: "nested service", in: "service a\n{\nservice b\n{\n}\n}\n", err: "line 3: missing } for the block of line 1"},
		{name: "attribute without =", in: "service a\n{\n port 25\n}\n", err: "line 3: attribute without ="},
		{name: "junk outside", in: "hello world\n", err: "line 1: unexpected"},
		{name: "service without name", in: "service {\n}\n", err: "line 1: service without a name"},
		{name: "includedir without path", in: "includedir\n", err: "line 1: includedir wants one path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseXinetd([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, f)
		})
	}
}

func TestXinetdIncluded(t *testing.T) {
	for name, want := range map[string]bool{
		"smtp_psa": true, "smtp_p26": true, "smtp_psa.bak": false, "smtp_psa~": false,
		"smtp_psa.rpmnew": false, "": false,
	} {
		if got := XinetdIncluded(name); got != want {
			t.Errorf("XinetdIncluded(%q) = %v", name, got)
		}
	}
}

func TestParseServices(t *testing.T) {
	es, errs := ParseServices(sample(t, "services"))
	if len(errs) != 0 {
		t.Fatalf("errors in Debian's /etc/services: %v", errs)
	}
	found := map[string]ServiceEntry{}
	for _, e := range es {
		found[e.Name+"/"+e.Proto] = e
	}
	if e := found["smtp/tcp"]; e.Port != 25 || !reflect.DeepEqual(e.Aliases, []string{"mail"}) {
		t.Fatalf("smtp: %+v", e)
	}
	if e := found["submission/tcp"]; e.Port != 587 {
		t.Fatalf("submission: %+v", e)
	}
	for _, e := range es {
		if e.Port == 26 || e.Port == 2626 {
			t.Fatalf("Debian's services assigns %d: %+v (the tests assume it does not)", e.Port, e)
		}
	}

	es, errs = ParseServices([]byte("# c\nfoo 26/tcp bar baz # note\nbad\nx 99999/tcp\ny 26\nz 27/udp\n"))
	if len(es) != 2 || es[0].Name != "foo" || es[0].Line != 2 || es[0].Comment != "note" || !reflect.DeepEqual(es[0].Aliases, []string{"bar", "baz"}) || es[1].Proto != "udp" {
		t.Fatalf("entries %+v", es)
	}
	if len(errs) != 3 || !strings.HasPrefix(errs[0].Error(), "line 3:") {
		t.Fatalf("errors %v", errs)
	}
}

func TestValidServiceName(t *testing.T) {
	for s, want := range map[string]bool{
		"smtp_p26": true, "smtp-alt": true, "": false, "smtp p26": false, "smtp#26": false,
		"smtp/26": false, "smtp.26": false, "a{": false, "a=b": false, "é": false, "a\tb": false,
	} {
		if got := ValidServiceName(s); got != want {
			t.Errorf("ValidServiceName(%q) = %v", s, got)
		}
	}
}

func TestParseMasterCF(t *testing.T) {
	es, err := ParseMasterCF(sample(t, "master.cf.dist"))
	if err != nil {
		t.Fatal(err)
	}
	smtp := SMTPInet(es)
	if smtp == nil || smtp.Command != "smtpd" || smtp.Chroot != "y" || smtp.Line != 12 {
		t.Fatalf("smtp inet: %+v", smtp)
	}
	relay := FindMaster(es, "relay", "unix")
	if relay == nil || relay.End != relay.Line+1 || !reflect.DeepEqual(relay.Options(), []string{"syslog_name=postfix/$service_name"}) {
		t.Fatalf("relay: %+v", relay)
	}

	es, err = ParseMasterCF(sample(t, "master.cf.plesk"))
	if err != nil {
		t.Fatal(err)
	}
	smtp = SMTPInet(es)
	if !reflect.DeepEqual(smtp.Options(), []string{"smtpd_proxy_filter=127.0.0.1:10025"}) {
		t.Fatalf("plesk smtp options %v", smtp.Options())
	}
	sub := FindMaster(es, "submission", "inet")
	if sub == nil || len(sub.Options()) != 3 || sub.Line != 4 || sub.End != 7 {
		t.Fatalf("submission: %+v", sub)
	}
	if e := FindMaster(es, "127.0.0.1:10026", "inet"); e == nil || e.Host() != "127.0.0.1" || e.Port() != "10026" {
		t.Fatalf("host:port entry: %+v", e)
	}

	tests := []struct{ name, in, err string }{
		{"bad field count", "smtp inet n - n - - smtpd\nbroken line\n", "line 2: bad field count"},
		{"leading continuation is skipped, as Postfix does", "  -o x=y\nsmtp inet n - n - - smtpd\n", ""},
		{"bad type", "smtp tcp n - n - - smtpd\n", "line 1: bad transport type"},
		{"comment inside entry", "smtp inet n - n - - smtpd\n# c\n  -o a=b\n", ""},
		{"last wins", "smtp inet n - n - - smtpd\nsmtp inet n - y - - smtpd\n", ""},
	}
	for _, tt := range tests {
		es, err := ParseMasterCF([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		switch tt.name {
		case "comment inside entry":
			if es[0].End != 3 || len(es[0].Options()) != 1 {
				t.Errorf("%s: %+v", tt.name, es[0])
			}
		case "leading continuation is skipped, as Postfix does":
			if len(es) != 1 || es[0].Line != 2 || len(es[0].Args) != 0 {
				t.Errorf("%s: %+v", tt.name, es)
			}
		case "last wins":
			if e := FindMaster(es, "smtp", "inet"); e.Chroot != "y" {
				t.Errorf("%s: %+v", tt.name, e)
			}
		}
	}
}

func FuzzParseXinetd(f *testing.F) {
	for _, s := range []string{"xinetd.conf", "xinetd-daytime", "xinetd-servers", "smtp_psa"} {
		f.Add(sample(f, s))
	}
	f.Add([]byte("service a {\n port += 1\n}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		xf, err := ParseXinetd(data)
		if err != nil {
			return
		}
		for _, s := range xf.Services {
			if s.Line < 1 || s.Open < s.Line || s.Close <= s.Open || s.Close > len(xf.Lines) {
				t.Fatalf("service %q lines %d %d %d of %d", s.Name, s.Line, s.Open, s.Close, len(xf.Lines))
			}
			// A copy of any parsed service parses again and keeps its attributes.
			out := RenderXinetdCopy(xf, s, "/src", "copy", 26, true)
			cf, err := ParseXinetd(out)
			if err != nil {
				t.Fatalf("copy of %q does not parse: %v\n%s", s.Name, err, out)
			}
			c := cf.Services[0]
			if c.Name != "copy" || c.Value("port") != "26" || !c.HasFlag("type", "UNLISTED") || c.Value("protocol") != "tcp" {
				t.Fatalf("copy: %+v\n%s", c, out)
			}
		}
	})
}

func FuzzParseServices(f *testing.F) {
	// The head of Debian's file: the whole 19 KB makes each mutation slow to run.
	head := strings.SplitAfterN(string(sample(f, "services")), "\n", 40)
	f.Add([]byte(strings.Join(head[:39], "")))
	f.Add([]byte("a 1/tcp b # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, _ := ParseServices(data)
		for _, e := range es {
			if e.Port < 0 || e.Port > 65535 || e.Name == "" || e.Proto == "" {
				t.Fatalf("entry %+v", e)
			}
		}
		if !ValidServiceName("fz") {
			return
		}
		// Adding then removing our lines gives the content back (modulo a final newline).
		added := EditServices(data, "fz", 26)
		again := EditServices(added, "fz", 26)
		if string(again) != string(added) {
			t.Fatalf("EditServices not idempotent")
		}
	})
}

func FuzzParseMasterCF(f *testing.F) {
	f.Add(sample(f, "master.cf.dist"))
	f.Add(sample(f, "master.cf.plesk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseMasterCF(data)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Line < 1 || e.End < e.Line || e.Command == "" {
				t.Fatalf("entry %+v", e)
			}
		}
		if SMTPInet(es) == nil {
			return
		}
		out, err := EditMasterCF(data, 2626)
		if err != nil {
			t.Fatalf("edit: %v", err)
		}
		again, err := EditMasterCF(out, 2626)
		if err != nil || string(again) != string(out) {
			t.Fatalf("EditMasterCF not idempotent: %v\n%s\n----\n%s", err, out, again)
		}
		back, n, _, err := RemoveMasterCF(out, 2626, false)
		if err != nil || n != 1 {
			t.Fatalf("remove: %d %v", n, err)
		}
		if _, err := ParseMasterCF(back); err != nil {
			t.Fatalf("after remove: %v", err)
		}
	})
}
