package php

import (
	"os"
	"strings"
	"testing"
)

func TestParseIni(t *testing.T) {
	env := map[string]string{"POOL_VARS": "3000", "EMPTY": ""}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		in   string
		want []Directive // Section, Key, Value, Line
		err  string
	}{
		{"plain", "max_input_vars = 1000\n", []Directive{{Key: "max_input_vars", Value: "1000", Line: 1}}, ""},
		{"no spaces, no newline", "max_input_vars=5000", []Directive{{Key: "max_input_vars", Value: "5000", Line: 1}}, ""},
		{"comment line and trailing comment", "; max_input_vars = 1000\nmax_input_vars = 2000 ; raised for woocommerce\n",
			[]Directive{{Key: "max_input_vars", Value: "2000", Line: 2}}, ""},
		{"hash comment (PHP 5)", "# old style\nfoo = bar\n", []Directive{{Key: "foo", Value: "bar", Line: 2}}, ""},
		{"sections", "[PHP]\nshort_open_tag = Off\n[mbstring]\nmbstring.language = Neutral\n",
			[]Directive{{Section: "PHP", Key: "short_open_tag", Value: "", Line: 2}, {Section: "mbstring", Key: "mbstring.language", Value: "Neutral", Line: 4}}, ""},
		{"booleans", "a = On\nb = yes\nc = TRUE\nd = off\ne = none\nf = null\ng = \"off\"\n",
			[]Directive{{Key: "a", Value: "1", Line: 1}, {Key: "b", Value: "1", Line: 2}, {Key: "c", Value: "1", Line: 3}, {Key: "d", Line: 4}, {Key: "e", Line: 5}, {Key: "f", Line: 6}, {Key: "g", Value: "off", Line: 7}}, ""},
		{"double quotes keep ; and escapes", `error_log = "/var/log/php;x\"y\\z.log" ; c` + "\n",
			[]Directive{{Key: "error_log", Value: `/var/log/php;x"y\z.log`, Line: 1}}, ""},
		{"single quotes are raw", `include_path = '.:/usr/share/php\n' ; c` + "\n",
			[]Directive{{Key: "include_path", Value: `.:/usr/share/php\n`, Line: 1}}, ""},
		{"env expansion bare and quoted", "max_input_vars = ${POOL_VARS}\nx = \"a${POOL_VARS}b\"\ny = ${NOPE}\n",
			[]Directive{{Key: "max_input_vars", Value: "3000", Line: 1}, {Key: "x", Value: "a3000b", Line: 2}, {Key: "y", Line: 3}}, ""},
		{"env default (PHP 8.3)", "max_input_vars = ${EMPTY:-4000}\n", []Directive{{Key: "max_input_vars", Value: "4000", Line: 1}}, ""},
		{"concatenation", `x = "a" b 'c'` + "\n", []Directive{{Key: "x", Value: "a b c", Line: 1}}, ""},
		{"expression kept", "error_reporting = E_ALL & ~E_DEPRECATED & ~E_STRICT\n",
			[]Directive{{Key: "error_reporting", Value: "E_ALL & ~E_DEPRECATED & ~E_STRICT", Line: 1}}, ""},
		{"array keys (fpm pools)", "[www]\nphp_admin_value[max_input_vars] = 3000\nphp_value[error_log]=/tmp/x\n",
			[]Directive{{Section: "www", Key: "php_admin_value[max_input_vars]", Value: "3000", Line: 2}, {Section: "www", Key: "php_value[error_log]", Value: "/tmp/x", Line: 3}}, ""},
		{"multi-line quoted", "a = \"x\ny\"\nb = 2\n", []Directive{{Key: "a", Value: "x\ny", Line: 1}, {Key: "b", Value: "2", Line: 3}}, ""},
		{"crlf", "a = 1\r\nb = \"2\"\r\n", []Directive{{Key: "a", Value: "1", Line: 1}, {Key: "b", Value: "2", Line: 2}}, ""},
		{"bare key", "extension\n", []Directive{{Key: "extension", Line: 1}}, ""},
		{"unterminated quote", "a = 1\nb = \"oops\n", []Directive{{Key: "a", Value: "1", Line: 1}}, "line 2: b: unterminated double-quoted string opened on line 2"},
		{"unterminated section", "[PHP\na = 1\n", nil, "line 1: unterminated section header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIni([]byte(tt.in), getenv)
			if (err != nil) != (tt.err != "") || (err != nil && err.Error() != tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d directives %+v, want %+v", len(got), got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Section != w.Section || g.Key != w.Key || g.Value != w.Value || g.Line != w.Line {
					t.Errorf("directive %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// The php.ini Debian ships for the CLI (php8.2-cli, copied into testdata) parses.
func TestParseIniDebianSample(t *testing.T) {
	data, err := os.ReadFile("testdata/php.ini-production")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ParseIni(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := Last(ds, "max_input_vars"); ok {
		t.Errorf("max_input_vars is commented out in the sample, got %+v", d)
	}
	if d, ok := Last(ds, "memory_limit"); !ok || d.Value != "-1" || d.Section != "PHP" {
		t.Errorf("memory_limit = %+v", d)
	}
	if d, ok := Last(ds, "error_reporting"); !ok || d.Value != "E_ALL & ~E_DEPRECATED & ~E_STRICT" {
		t.Errorf("error_reporting = %+v", d)
	}
	if d, ok := Last(ds, "session.save_handler"); !ok || d.Value != "files" || d.Section != "Session" {
		t.Errorf("session.save_handler = %+v", d)
	}
}

func TestLastSkipsScopedSections(t *testing.T) {
	ds, err := ParseIni([]byte("max_input_vars = 2000\n[PATH=/srv/www]\nmax_input_vars = 9000\n[HOST=example.com]\nmax_input_vars = 8000\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := Last(ds, "max_input_vars"); d.Value != "2000" {
		t.Errorf("Last = %+v, want the global 2000", d)
	}
}

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1000", 1000, true}, {" 5000 ", 5000, true}, {"-1", -1, true}, {"+7", 7, true},
		{"2k", 2048, true}, {"1M", 1 << 20, true}, {"1g", 1 << 30, true}, {"0x10", 16, true},
		{"0o17", 15, true}, {"0b101", 5, true}, {"12abc", 12, true}, {"", 0, true},
		{"abc", 0, false}, {"-", 0, false}, {"99999999999999999999", 0, false}, {"9000000000000000000k", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseQuantity(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseQuantity(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetIni(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"rewrite keeps indent and comment", "[PHP]\n  max_input_vars = 1000 ; was low\nx = 1\n",
			"[PHP]\n  max_input_vars = 5000 ; was low\nx = 1\n", true},
		{"last one wins and is the one edited", "max_input_vars = 1000\nmax_input_vars = 2000\n",
			"max_input_vars = 1000\nmax_input_vars = 5000\n", true},
		{"after the commented example", "[PHP]\n; How many GET/POST/COOKIE input variables may be accepted\n; max_input_vars = 1000\n\n; Maximum amount\nmemory_limit = 128M\n",
			"[PHP]\n; How many GET/POST/COOKIE input variables may be accepted\n; max_input_vars = 1000\nmax_input_vars = 5000\n\n; Maximum amount\nmemory_limit = 128M\n", true},
		{"appended at the end", "a = 1\n", "a = 1\nmax_input_vars = 5000\n", true},
		{"appended after a last line without newline", "a = 1", "a = 1\nmax_input_vars = 5000\n", true},
		{"empty file", "", "max_input_vars = 5000\n", true},
		{"before a PATH section", "a = 1\n\n; per-site\n[PATH=/srv/www]\nmax_input_vars = 9000\n",
			"a = 1\nmax_input_vars = 5000\n\n; per-site\n[PATH=/srv/www]\nmax_input_vars = 9000\n", true},
		{"already set", "max_input_vars = 5000 ; ok\n", "max_input_vars = 5000 ; ok\n", false},
		{"already set quoted", "max_input_vars = \"5000\"\n", "max_input_vars = \"5000\"\n", false},
		{"crlf kept", "a = 1\r\nmax_input_vars = 1000\r\n", "a = 1\r\nmax_input_vars = 5000\r\n", true},
		{"multi-line value replaced", "max_input_vars = \"1\n000\"\nb = 2\n", "max_input_vars = 5000\nb = 2\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := SetIni([]byte(tt.in), "max_input_vars", "5000")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || changed != tt.changed {
				t.Errorf("got %q (changed %v), want %q (changed %v)", got, changed, tt.want, tt.changed)
			}
			again, changed2, err := SetIni(got, "max_input_vars", "5000")
			if err != nil || changed2 || string(again) != string(got) {
				t.Errorf("second edit changed it: %q %v %v", again, changed2, err)
			}
		})
	}
}

func TestSetSectionIni(t *testing.T) {
	in := "[global]\npid = /run/php.pid\n[www]\nuser = www-data\nphp_admin_value[max_input_vars] = 1000 ; shop\n[other]\nphp_admin_value[max_input_vars] = 1000\n"
	got, changed, err := SetSectionIni([]byte(in), "www", "php_admin_value[max_input_vars]", "5000")
	if err != nil || !changed {
		t.Fatal(err, changed)
	}
	want := strings.Replace(in, "= 1000 ; shop", "= 5000 ; shop", 1)
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, _, err := SetSectionIni([]byte(in), "global", "php_admin_value[max_input_vars]", "5000"); err == nil {
		t.Error("no such statement: want an error")
	}
}

func TestIniValue(t *testing.T) {
	for in, want := range map[string]string{"5000": "5000", "off": `"off"`, "": `""`, "a b": `"a b"`, `x"$`: `"x\"\$"`} {
		if got := IniValue(in); got != want {
			t.Errorf("IniValue(%q) = %s, want %s", in, got, want)
		}
		ds, err := ParseIni([]byte("k = "+IniValue(in)+"\n"), nil)
		if err != nil || len(ds) != 1 || ds[0].Value != in {
			t.Errorf("IniValue(%q) does not read back: %+v %v", in, ds, err)
		}
	}
}

func FuzzParseIni(f *testing.F) {
	for _, s := range []string{
		"max_input_vars = 1000\n", "[PHP]\na = \"b;c\" ; d\n", "x = ${A:-b}\n", "a = 'x\ny'\n",
		"[PATH=/x]\nb = 1\n", "#c\n;c\nbare\n", "a = \"\\\"\"\n", "[x", "a = \"", "a = ${",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := ParseIni(data, func(string) string { return "v" })
		for _, d := range ds {
			if d.Line < 1 || d.EndLine < d.Line {
				t.Fatalf("bad lines %+v", d)
			}
		}
		if err != nil {
			return
		}
		// The editor never breaks a file that parses, and reads back what it wrote.
		out, _, err := SetIni(data, "max_input_vars", "5000")
		if err != nil {
			t.Fatalf("SetIni on a parsable file: %v", err)
		}
		ds2, err := ParseIni(out, func(string) string { return "v" })
		if err != nil {
			t.Fatalf("edited file does not parse: %v\n%q", err, out)
		}
		if d, ok := Last(ds2, "max_input_vars"); !ok || d.Value != "5000" {
			t.Fatalf("edited file reads %+v, want 5000\n%q", d, out)
		}
	})
}
