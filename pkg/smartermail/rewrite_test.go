package smartermail

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func mapper(t testing.TB, from, to string) *PathMapper {
	m, ok := NewPathMapper(from, to)
	if !ok {
		t.Fatalf("mapper %s -> %s", from, to)
	}
	return m
}

func TestRewriteXML(t *testing.T) {
	m := mapper(t, `C:\SmarterMail\Domains`, `D:\Mail & Co\Domains`)
	in := "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n" +
		"<!-- C:\\SmarterMail\\Domains\\comment stays -->\r\n" +
		"<domainList>\r\n" +
		"  <domain name=\"bücher.example\" path='c:/smartermail/domains/bücher.example' other=\"C:\\SmarterMailX\\y\">\r\n" +
		"    <path>C:\\SmarterMail\\Domains\\bücher.example</path>\r\n" +
		"    <data><![CDATA[C:\\SmarterMail\\Domains\\bücher.example\\Users]]></data>\r\n" +
		"    <name>C:\\SmarterMail\\Domains</name>\r\n" +
		"  </domain>\r\n" +
		"  <domain name=\"a&amp;b.example\"><path>\\\\?\\C:\\SmarterMail\\Domains\\a&amp;b.example</path></domain>\r\n" +
		"</domainList>\r\n"
	out, n, err := rewriteXML([]byte(in), m)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("rewrote %d values, want 5", n)
	}
	want := strings.NewReplacer(
		`path='c:/smartermail/domains/bücher.example'`, `path='D:\Mail &amp; Co\Domains\bücher.example'`,
		`<path>C:\SmarterMail\Domains\bücher.example</path>`, `<path>D:\Mail &amp; Co\Domains\bücher.example</path>`,
		`<![CDATA[C:\SmarterMail\Domains\bücher.example\Users]]>`, `<![CDATA[D:\Mail & Co\Domains\bücher.example\Users]]>`,
		`<name>C:\SmarterMail\Domains</name>`, `<name>D:\Mail &amp; Co\Domains</name>`,
		`<path>\\?\C:\SmarterMail\Domains\a&amp;b.example</path>`, `<path>D:\Mail &amp; Co\Domains\a&amp;b.example</path>`,
	).Replace(in)
	if string(out) != want {
		t.Errorf("rewrite:\n%s\nwant:\n%s", out, want)
	}
	// Rewriting again changes nothing: the new paths are not under the old root.
	again, n2, err := rewriteXML(out, m)
	if err != nil || n2 != 0 || string(again) != string(out) {
		t.Errorf("second rewrite: %d changes, %v", n2, err)
	}
}

func TestRewriteXMLRefusesBrokenFiles(t *testing.T) {
	m := mapper(t, `C:\SM`, `D:\M`)
	for _, in := range []string{
		`<a><b>C:\SM\x</a>`,
		`<?xml version="1.0" encoding="utf-16"?><a/>`,
		`<a x="1" x="2">`,
	} {
		if _, _, err := rewriteXML([]byte(in), m); err == nil {
			t.Errorf("rewriteXML(%q) accepted a broken file", in)
		}
	}
}

func TestRewriteJSON(t *testing.T) {
	m := mapper(t, `C:\SmarterMail\Domains`, `E:\SM\Domains`)
	in := "{\n  \"example.com\": { \"data_path\": \"c:\\\\smartermail\\\\domains\\\\example.com\" },\n" +
		"  \"b\\u00fccher.example\": {\"data_path\":\"C:\\\\SmarterMail\\\\Domains\\\\b\\u00fccher.example\", \"n\": 3},\n" +
		"  \"C:\\\\SmarterMail\\\\Domains\\\\key\": \"keys stay\",\n" +
		"  \"slash.example\": {\"data_path\": \"C:/SmarterMail/Domains/slash.example\", \"other\": \"C:\\\\Else\"}\n}\n"
	out, n, err := rewriteJSON([]byte(in), m)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("rewrote %d values, want 3:\n%s", n, out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for dom, want := range map[string]string{
		"example.com":    `E:\SM\Domains\example.com`,
		"bücher.example": `E:\SM\Domains\bücher.example`,
		"slash.example":  `E:\SM\Domains\slash.example`,
	} {
		if got := doc[dom].(map[string]any)["data_path"]; got != want {
			t.Errorf("%s: data_path %q, want %q", dom, got, want)
		}
	}
	if doc[`C:\SmarterMail\Domains\key`] != "keys stay" || doc["slash.example"].(map[string]any)["other"] != `C:\Else` {
		t.Errorf("a key or an unrelated value changed:\n%s", out)
	}
	// Layout kept: only the literals changed.
	if !strings.HasPrefix(string(out), "{\n  \"example.com\": { \"data_path\": \"E:\\\\SM") {
		t.Errorf("layout changed:\n%s", out)
	}
	if _, _, err := rewriteJSON([]byte(`{"a": "C:\\SM",}`), m); err == nil {
		t.Error("invalid JSON accepted")
	}
}

func TestJSONDataPaths(t *testing.T) {
	got, err := jsonDataPaths([]byte(`{"a.example": {"data_path": "C:\\D\\a.example"}, "b": {"data_path": "C:\\D\\b"}, "x": {"log": "C:\\Logs"}}`))
	if err != nil || strings.Join(got, ",") != `C:\D\a.example,C:\D\b` {
		t.Errorf("jsonDataPaths = %q, %v", got, err)
	}
	// No data_path key: every path value.
	got, _ = jsonDataPaths([]byte(`[{"dir": "\\\\fs\\s\\D\\a"}, {"dir": "\\\\fs\\s\\D\\b"}, "word"]`))
	if len(got) != 2 {
		t.Errorf("fallback: %q", got)
	}
}

func TestSecrets(t *testing.T) {
	got := xmlSecrets([]byte(`<mailConfig><adminUsername>admin</adminUsername><adminPassword>hunter2222</adminPassword><smtp pass="relay-secret" user="u"/><x>ab</x></mailConfig>`))
	if strings.Join(got, ",") != "hunter2222,relay-secret" {
		t.Errorf("xmlSecrets = %q", got)
	}
	if got := jsonSecrets([]byte(`{"admin": {"password": "pw-1234"}, "smtp_password": "abc"}`)); strings.Join(got, ",") != "pw-1234" {
		t.Errorf("jsonSecrets = %q", got)
	}
}

func FuzzRewriteXML(f *testing.F) {
	f.Add([]byte(`<d><p>C:\SM\Domains\a</p><q v="c:/sm/domains/b"/></d>`))
	f.Add([]byte(`<?xml version="1.0"?><!--x--><d><![CDATA[C:\SM\Domains]]></d>`))
	f.Add([]byte("\xEF\xBB\xBF<a b='C:\\SM\\Domains\\&amp;'/>"))
	m := mapper(f, `C:\SM\Domains`, `D:\New & <Domains>`)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := rewriteXML(data, m)
		if err != nil {
			return
		}
		// Whatever it accepted re-parses, with every path value mapped (checkRewrite), and
		// is stable under a second rewrite to the same place.
		if _, err := xmlValues(out); err != nil {
			t.Fatalf("output does not parse: %v\n%q", err, out)
		}
	})
}

func FuzzRewriteJSON(f *testing.F) {
	f.Add([]byte(`{"a": {"data_path": "C:\\SM\\Domains\\a"}}`))
	f.Add([]byte(`["C:/SM/Domains/\u00fc", 1, null]`))
	m := mapper(f, `C:\SM\Domains`, `D:\"quoted"\D`)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := rewriteJSON(data, m)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid output %q", out)
		}
	})
}

// FuzzDetectParsers feeds arbitrary bytes to the parsers Detect runs on a config it
// did not write: none may panic, and every path found is an absolute path.
func FuzzDetectParsers(f *testing.F) {
	f.Add([]byte(`<mailConfig><adminPassword>x1234</adminPassword></mailConfig>`))
	f.Add([]byte(`{"a": {"data_path": "C:\\D\\a", "password": "pw-1234"}}`))
	f.Add([]byte(`<d><p>\\fs\s\D\a</p></d>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = xmlSecrets(data)
		_ = jsonSecrets(data)
		if vals, err := xmlValues(data); err == nil {
			for _, p := range pathValues(vals) {
				if _, ok := parseCfgPath(p); !ok {
					t.Fatalf("pathValues kept %q", p)
				}
			}
		}
		if paths, err := jsonDataPaths(data); err == nil {
			for _, p := range paths {
				if _, ok := parseCfgPath(p); !ok {
					t.Fatalf("jsonDataPaths kept %q", p)
				}
			}
		}
	})
}

func TestVerifyDomainsFile(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/domainList.xml"
	l := &Layout{Kind: Legacy, DomainPaths: []string{`C:\D\a`, `C:\D\b`}}
	write := func(s string) {
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`<l><p>E:\New\a</p><p>e:/new/b</p></l>`)
	if err := verifyDomainsFile(l, f, `E:\New`); err != nil {
		t.Errorf("good file refused: %v", err)
	}
	write(`<l><p>E:\New\a</p><p>C:\D\b</p></l>`)
	if err := verifyDomainsFile(l, f, `E:\New`); err == nil || !strings.Contains(err.Error(), `names C:\D\b`) {
		t.Errorf("old path not found: %v", err)
	}
	write(`<l><p>E:\New\a</p>`)
	if err := verifyDomainsFile(l, f, `E:\New`); err == nil {
		t.Error("broken XML accepted")
	}
	write(`<l><p>E:\New\a</p></l>`)
	if err := verifyDomainsFile(l, f, `E:\New`); err == nil || !strings.Contains(err.Error(), "1 domain paths, the old config had 2") {
		t.Errorf("lost domain not found: %v", err)
	}
}
