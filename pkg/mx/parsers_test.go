package mx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// debianMainCf is the main.cf Debian 12's postfix package writes for "Internet Site".
const debianMainCf = `# See /usr/share/postfix/main.cf.dist for a commented, more complete version

smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
biff = no
append_dot_mydomain = no
readme_directory = no
compatibility_level = 3.6

smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = mail.example.com
alias_maps = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, example.com, localhost.localdomain,
    # a comment inside the logical line
	localhost, ${virtual_alias_domains?{$mydomain}}
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
virtual_mailbox_domains = hash:/etc/postfix/vdomains, Shop.Example
`

func TestPostfixConf(t *testing.T) {
	pc := ParsePostfixConf([]byte(debianMainCf))
	if got := pc.Params["mydestination"].Value; got != "$myhostname, example.com, localhost.localdomain, localhost, ${virtual_alias_domains?{$mydomain}}" {
		t.Fatalf("mydestination raw = %q", got)
	}
	if got := pc.Expand("$myhostname ${mydomain} $(myhostname) ${relayhost:none} ${biff?yes} $$x"); got != "mail.example.com example.com mail.example.com none yes $x" {
		t.Fatalf("expand = %q", got)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/postfix"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/postfix/vdomains"), []byte("# virtual\nvirt.example   OK\nuser@virt.example x\n"), 0o644)
	h, _ := system.NewHost(root, nil)
	names, skipped := pc.Domains(h, "mydestination")
	if strings.Join(names, " ") != "mail.example.com example.com localhost.localdomain localhost" || len(skipped) != 0 {
		t.Fatalf("mydestination = %v, skipped %v", names, skipped)
	}
	names, _ = pc.Domains(h, "virtual_mailbox_domains")
	if strings.Join(names, " ") != "virt.example shop.example" {
		t.Fatalf("virtual_mailbox_domains = %v", names)
	}
	if !pc.literalIn("mydestination", "example.com") || pc.literalIn("mydestination", "mail.example.com") {
		t.Fatal("literalIn")
	}
	out := string(pc.EditList("mydestination", []string{"new.example"}, []string{"example.com"}))
	if !strings.Contains(out, "mydestination = $myhostname, localhost.localdomain, localhost, ${virtual_alias_domains?{$mydomain}}, new.example\n    # a comment inside the logical line\nrelayhost =\n") {
		t.Fatalf("edit:\n%s", out)
	}
	// the edit parses back to what was meant
	pc2 := ParsePostfixConf([]byte(out))
	pc2.Hostname = "mail.example.com"
	names, _ = pc2.Domains(h, "mydestination")
	if strings.Join(names, " ") != "mail.example.com localhost.localdomain localhost example.com new.example" { // example.com: ${virtual_alias_domains?{$mydomain}}, as postconf -x says
		t.Fatalf("after edit: %v", names)
	}
}

func TestPostfixDefaults(t *testing.T) {
	pc := ParsePostfixConf([]byte("biff = no\n"))
	pc.Hostname = "host.example.net"
	h, _ := system.NewHost(t.TempDir(), nil)
	names, _ := pc.Domains(h, "mydestination")
	if strings.Join(names, " ") != "host.example.net localhost.example.net localhost" {
		t.Fatalf("default mydestination = %v", names)
	}
	out := string(pc.EditList("mydestination", []string{"a.example"}, nil))
	if out != "biff = no\nmydestination = $myhostname, localhost.$mydomain, localhost, a.example\n" {
		t.Fatalf("edit = %q", out)
	}
}

func FuzzPostfixConf(f *testing.F) {
	f.Add(debianMainCf)
	f.Add("a = $b\nb = ${a}\n")
	f.Add("mydestination = ${x?{${y:{$z}}}} $(\n")
	f.Fuzz(func(t *testing.T, s string) {
		pc := ParsePostfixConf([]byte(s))
		for name := range pc.Params {
			pc.Expand("$" + name)
		}
		out := pc.EditList("mydestination", []string{"added.example"}, nil)
		pc2 := ParsePostfixConf(out)
		if !pc2.literalIn("mydestination", "added.example") {
			t.Fatalf("added domain not in edited file:\n%s", out)
		}
	})
}

// debianExim4 is Debian 12's update-exim4.conf.conf for an Internet site.
const debianExim4 = `# /etc/exim4/update-exim4.conf.conf
dc_eximconfig_configtype='internet'
dc_other_hostnames='example.com; Other.Example;*.wild.example'
dc_local_interfaces='127.0.0.1 ; ::1'
dc_readhost=''
`

func TestExim4Conf(t *testing.T) {
	c := ParseExim4Conf([]byte(debianExim4))
	names, skipped := splitExim4List(c.Values["dc_other_hostnames"])
	if strings.Join(names, " ") != "example.com other.example" || strings.Join(skipped, " ") != "*.wild.example" {
		t.Fatalf("names %v skipped %v", names, skipped)
	}
	out := string(c.SetOtherHostnames([]string{"new.example", "example.com"}, []string{"other.example"}))
	if !strings.Contains(out, "\ndc_other_hostnames='example.com;*.wild.example;new.example'\ndc_local_interfaces") {
		t.Fatalf("edit:\n%s", out)
	}
	c = ParseExim4Conf([]byte("dc_eximconfig_configtype=local\n"))
	if got := string(c.SetOtherHostnames([]string{"a.example"}, nil)); got != "dc_eximconfig_configtype=local\ndc_other_hostnames='a.example'\n" {
		t.Fatalf("append: %q", got)
	}
	names, _ = splitExim4List("a.example:b.example")
	if len(names) != 2 {
		t.Fatalf("colon list: %v", names)
	}
	// A list written with colons stays one: the edit changes only the names.
	c = ParseExim4Conf([]byte("dc_other_hostnames='a.example:b.example'\n"))
	if got := string(c.SetOtherHostnames([]string{"c.example"}, []string{"a.example"})); got != "dc_other_hostnames='b.example:c.example'\n" {
		t.Fatalf("colon edit: %q", got)
	}
}

func FuzzExim4Conf(f *testing.F) {
	f.Add(debianExim4)
	f.Add("dc_other_hostnames=\"a;b\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseExim4Conf([]byte(s))
		out := c.SetOtherHostnames([]string{"added.example"}, nil)
		c2 := ParseExim4Conf(out)
		names, _ := splitExim4List(c2.Values["dc_other_hostnames"])
		for _, n := range names {
			if n == "added.example" {
				return
			}
		}
		t.Fatalf("added.example missing after edit:\n%s", out)
	})
}

func TestParseList(t *testing.T) {
	names, skipped := ParseList([]byte("# cPanel\nhost.example.com\nExample.com\n\nexample.com\n*.wild.example\nbücher.example # idn\n"))
	if strings.Join(names, " ") != "host.example.com example.com xn--bcher-kva.example" || strings.Join(skipped, " ") != "*.wild.example" {
		t.Fatalf("names %v skipped %v", names, skipped)
	}
}

func FuzzParseList(f *testing.F) {
	f.Add("example.com\n# c\n*.x\n")
	f.Fuzz(func(t *testing.T, s string) {
		names, _ := ParseList([]byte(s))
		for _, n := range names {
			if _, err := NormalizeDomain(n); err != nil {
				t.Fatalf("%q: %v", n, err)
			}
		}
	})
}

func TestParseCPanelUser(t *testing.T) {
	got := ParseCPanelUser([]byte("DNS=example.com\nDNS1=shop.example\nDNS2=auto.example\nMXCHECK-example.com=local\nMXCHECK-shop.example=remote\nUSER=bob\n"))
	if got["example.com"] != "local" || got["shop.example"] != "remote" || got["auto.example"] != "auto" || len(got) != 3 {
		t.Fatalf("got %v", got)
	}
}

func FuzzParseCPanelUser(f *testing.F) {
	f.Add("DNS=example.com\nMXCHECK-example.com=local\n")
	f.Fuzz(func(t *testing.T, s string) {
		for d := range ParseCPanelUser([]byte(s)) {
			if _, err := NormalizeDomain(d); err != nil {
				t.Fatalf("%q: %v", d, err)
			}
		}
	})
}

func TestPostfixExpandLoops(t *testing.T) {
	pc := ParsePostfixConf([]byte("myhostname = $mydomain\nmydomain = $myhostname.x\na = $a$a$a\nb = $c$c\nc = $d$d\nd = $b\n"))
	if got := pc.Expand("$a|$mydomain|$b"); len(got) > 3*maxExpansion {
		t.Fatalf("expansion too long: %d", len(got))
	}
	pc = ParsePostfixConf([]byte("myhostname = $mydomain\n"))
	_ = pc.Expand("$mydestination")
}

// A list file that is a directory is bad input, named once with its mode; the error
// showed Go's "read /tmp/…/etc/mail/local-host-names: is a directory" with the real path
// under --root after the system path.
func TestReadListsDirectory(t *testing.T) {
	for mta, file := range map[string]string{"sendmail": "etc/mail/local-host-names", "cpanel": "etc/localdomains", "postfix": "etc/postfix/main.cf", "exim4": "etc/exim4/update-exim4.conf.conf"} {
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, file), 0o755)
		h, _ := system.NewHost(root, nil)
		cfg := DefaultConfig()
		cfg.MTA = mta
		_, err := ReadLists(h, cfg)
		if err == nil {
			t.Fatalf("%s: no error", mta)
		}
		want := "/" + file + ": is a directory (drwxr-xr-x): want a file"
		if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, root) || !usage.Is(err) {
			t.Errorf("%s: %q (usage error %v), want %q without %s", mta, msg, usage.Is(err), want, root)
		}
	}
}
