package mx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/system"
)

// postfixDir is the unpacked Debian postfix package (HOSTFIX_POSTFIX_DIR, default
// /opt/hostfix-ci/postfix): its postconf runs beside an installed exim4.
func postfixDir(t *testing.T) (postconf string, env []string) {
	t.Helper()
	testenv.Integration(t)
	dir := os.Getenv("HOSTFIX_POSTFIX_DIR")
	if dir == "" {
		dir = "/opt/hostfix-ci/postfix"
	}
	postconf = filepath.Join(dir, "usr/sbin/postconf")
	if _, err := os.Stat(postconf); err != nil {
		testenv.Skip(t, "needs an unpacked postfix package at "+dir+" (HOSTFIX_POSTFIX_DIR)")
	}
	return postconf, []string{"LD_LIBRARY_PATH=" + filepath.Join(dir, "usr/lib/postfix")}
}

// TestIntegrationPostconfExpansion: the real postconf -x expands mydestination the way
// ParsePostfixConf/Expand do, before and after EditList, on main.cf files with
// continuation lines, comments, $name, ${name}, $(name), ${name?{…}} and ${name:…}.
func TestIntegrationPostconfExpansion(t *testing.T) {
	postconf, env := postfixDir(t)
	samples := []string{
		debianMainCf,
		"myhostname = host.example.net\n",
		"myhostname = mx1.shop.example\nmydestination = $myhostname, localhost.$mydomain, $(mydomain)\n  ${mydomain?{www.$mydomain}} ${relayhost:fallback.example}\nrelayhost =\n",
		"myhostname = a.b.example\nmydomain = b.example\nvirtual_alias_maps = hash:/etc/postfix/virtual\nmydestination = ${virtual_alias_domains?{va.example}}, $mydomain\n",
	}
	// postconf takes a second or two per call here: the samples run side by side
	for i, sample := range samples {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			postconfSample(t, postconf, env, i, sample)
		})
	}
}

func postconfSample(t *testing.T, postconf string, env []string, i int, sample string) {
	dir := t.TempDir()
	write := func(data string) {
		if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "master.cf"), nil, 0o644)
	real := func() string {
		res, err := system.ExecRunner{}.Run(context.Background(), system.Cmd{Argv: []string{postconf, "-c", dir, "-x", "-h", "mydestination"}, Env: env})
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		return strings.Join(splitPostfixList(string(res.Stdout)), " ")
	}
	ours := func(data string) string {
		pc := ParsePostfixConf([]byte(data))
		raw, _ := pc.Raw("mydestination")
		return strings.Join(splitPostfixList(pc.Expand(raw)), " ")
	}
	// the default $myhostname is the machine's name; give it explicitly where unset
	if !strings.Contains(sample, "myhostname") {
		sample = "myhostname = mail.example.org\n" + sample
	}
	write(sample)
	if got, want := ours(sample), real(); got != want {
		t.Errorf("sample %d: hostfix expands mydestination to %q, postconf to %q", i, got, want)
	}
	edited := string(ParsePostfixConf([]byte(sample)).EditList("mydestination", []string{"added.example"}, []string{"localhost"}))
	write(edited)
	got, want := ours(edited), real()
	if got != want || !strings.Contains(want, "added.example") || strings.Contains(" "+want+" ", " localhost ") {
		t.Errorf("sample %d after edit: hostfix %q, postconf %q\n%s", i, got, want, edited)
	}
}
