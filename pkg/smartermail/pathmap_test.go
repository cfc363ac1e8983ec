package smartermail

import (
	"strings"
	"testing"
)

// Windows paths are tested on every system: none of this may depend on GOOS.

func TestPathMapperMap(t *testing.T) {
	for _, c := range []struct {
		from, to, in, want string
		ok                 bool
	}{
		{`C:\SmarterMail\Domains`, `D:\Mail\Domains`, `C:\SmarterMail\Domains\example.com`, `D:\Mail\Domains\example.com`, true},
		// drive letter and names are case-insensitive; the original spelling of the rest is kept
		{`C:\SmarterMail\Domains`, `D:\Mail\Domains`, `c:\smartermail\DOMAINS\Example.COM\Users`, `D:\Mail\Domains\Example.COM\Users`, true},
		// forward slashes in the file; the new root's style wins
		{`C:\SmarterMail\Domains`, `D:\Mail\Domains`, `c:/SmarterMail/Domains/example.com`, `D:\Mail\Domains\example.com`, true},
		{`C:\SmarterMail\Domains`, `D:/Mail/Domains`, `C:\SmarterMail\Domains\example.com\`, `D:/Mail/Domains/example.com/`, true},
		// the root itself
		{`C:\SmarterMail\Domains\`, `D:\Mail`, `C:\SmarterMail\Domains`, `D:\Mail`, true},
		// UNC roots, both directions
		{`\\fs1\mail$\Domains`, `E:\Domains`, `\\FS1\Mail$\domains\example.org`, `E:\Domains\example.org`, true},
		{`C:\SmarterMail\Domains`, `\\nas\share\SM\Domains`, `C:\SmarterMail\Domains\a.example`, `\\nas\share\SM\Domains\a.example`, true},
		{`//fs1/mail/Domains`, `D:\D`, `\\fs1\mail\Domains\x`, `D:\D\x`, true},
		// long-path prefix
		{`C:\SmarterMail\Domains`, `D:\M`, `\\?\C:\SmarterMail\Domains\x`, `D:\M\x`, true},
		// non-ASCII domain and folder names (Unicode case folding)
		{`C:\Mäil\Domänen`, `D:\Mail`, `c:\MÄIL\DOMÄNEN\bücher.example`, `D:\Mail\bücher.example`, true},
		{`C:\SmarterMail\Domains`, `D:\Mail`, `C:\SmarterMail\Domains\xn--bcher-kva.example`, `D:\Mail\xn--bcher-kva.example`, true},
		// whitespace around an XML text value stays
		{`C:\SM\Domains`, `D:\M`, "\n    C:\\SM\\Domains\\a\n  ", "\n    D:\\M\\a\n  ", true},
		// not under the root: a sibling with the same prefix, another drive, another share
		{`C:\SmarterMail\Domains`, `D:\M`, `C:\SmarterMail\DomainsOld\x`, ``, false},
		{`C:\SmarterMail\Domains`, `D:\M`, `D:\SmarterMail\Domains\x`, ``, false},
		{`\\fs1\mail\Domains`, `D:\M`, `\\fs2\mail\Domains\x`, ``, false},
		{`C:\SmarterMail\Domains`, `D:\M`, `C:\SmarterMail`, ``, false},
		// POSIX paths are case-sensitive
		{`/var/lib/sm/Domains`, `/srv/sm/Domains`, `/var/lib/sm/Domains/a.example`, `/srv/sm/Domains/a.example`, true},
		{`/var/lib/sm/Domains`, `/srv/sm/Domains`, `/var/lib/sm/domains/a.example`, ``, false},
		// Windows and POSIX never match each other
		{`C:\SM`, `/srv`, `/C:/SM/x`, ``, false},
		// not paths at all
		{`C:\SM`, `D:\M`, `example.com`, ``, false},
		{`C:\SM`, `D:\M`, `relative\SM\x`, ``, false},
		{`C:\SM`, `D:\M`, `http://C:\SM`, ``, false},
	} {
		m, ok := NewPathMapper(c.from, c.to)
		if !ok {
			t.Fatalf("NewPathMapper(%q, %q) failed", c.from, c.to)
		}
		got, ok := m.Map(c.in)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("Map(%q) [%s -> %s] = %q, %v; want %q, %v", c.in, c.from, c.to, got, ok, c.want, c.ok)
		}
		if !ok && got != c.in {
			t.Errorf("Map(%q) changed an unmapped value to %q", c.in, got)
		}
	}
}

func TestCommonParent(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
		ok   bool
	}{
		{[]string{`C:\SmarterMail\Domains\a.example`, `c:\smartermail\domains\b.example`}, `C:\SmarterMail\Domains`, true},
		{[]string{`C:\SmarterMail\Domains\a.example`}, `C:\SmarterMail\Domains`, true},
		{[]string{`C:\SM\Domains\a`, `C:\SM\Other\b`}, `C:\SM`, true},
		{[]string{`\\fs1\mail\Domains\a`, `\\FS1\MAIL\Domains\b`}, `\\fs1\mail\Domains`, true},
		{[]string{`/var/sm/Domains/a`, `/var/sm/Domains/b/`}, `/var/sm/Domains`, true},
		{[]string{`C:\Domains\a`, `D:\Domains\b`}, ``, false},
		{[]string{`C:\Domains\a`, `/x/b`}, ``, false},
		{nil, ``, false},
	} {
		got, ok := commonParent(c.in)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("commonParent(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestAdminShare(t *testing.T) {
	if s, ok := adminShare("old", `C:\SmarterMail\Domains`); !ok || s != `\\old\C$\SmarterMail\Domains` {
		t.Errorf("adminShare = %q %v", s, ok)
	}
	if _, ok := adminShare("old", `\\x\y\z`); ok {
		t.Error("a UNC path has no admin share")
	}
	h, l, ok := fromAdminShare(`\\new\d$\Mail\Domains`)
	if !ok || h != "new" || l != `D:\Mail\Domains` {
		t.Errorf("fromAdminShare = %q %q %v", h, l, ok)
	}
	if _, _, ok := fromAdminShare(`\\new\share\Mail`); ok {
		t.Error("an ordinary share is not an admin share")
	}
}

func TestCfgPathEqual(t *testing.T) {
	a, _ := parseCfgPath(`C:\SmarterMail\Domains\`)
	b, _ := parseCfgPath(`c:/smartermail/domains`)
	c, _ := parseCfgPath(`C:\SmarterMail`)
	if !a.Equal(b) || a.Equal(c) || c.Equal(a) {
		t.Error("Equal")
	}
}

func FuzzPathMapper(f *testing.F) {
	for _, s := range []string{`C:\SmarterMail\Domains\a`, `\\fs\s\Domains\x`, `/var/x`, `c:/a/b`, `\\?\UNC\fs\s\x`, "C:\\a\\..\\..\\b", "ü:\\x"} {
		f.Add(s)
	}
	m, _ := NewPathMapper(`C:\SmarterMail\Domains`, `D:\Mail`)
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := m.Map(s)
		if !ok {
			if out != s {
				t.Fatalf("unmapped %q changed to %q", s, out)
			}
			return
		}
		// A mapped path is under the new root, and mapping is not applied twice.
		p, okp := parseCfgPath(strings.TrimSpace(out))
		if !okp {
			t.Fatalf("Map(%q) = %q, not a path", s, out)
		}
		if _, in := p.under(m.to); !in {
			t.Fatalf("Map(%q) = %q, not under %s", s, out, m.to)
		}
	})
}
