package smtpport

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// postconfArgs is the unpacked Debian postconf (HOSTFIX_POSTFIX_DIR, default
// /opt/hostfix-ci/postfix) as an argv that sets its library path.
func postconfArgs(t *testing.T) []string {
	t.Helper()
	testenv.Integration(t)
	dir := os.Getenv("HOSTFIX_POSTFIX_DIR")
	if dir == "" {
		dir = "/opt/hostfix-ci/postfix"
	}
	bin := filepath.Join(dir, "usr/sbin/postconf")
	if _, err := os.Stat(bin); err != nil {
		testenv.Skip(t, "needs Postfix unpacked at "+dir+" (HOSTFIX_POSTFIX_DIR)")
	}
	env := testenv.NeedTool(t, "env")[0]
	return []string{env, "LD_LIBRARY_PATH=" + filepath.Join(dir, "usr/lib/postfix"), bin}
}

func realPostconf(t *testing.T, args []string, master []byte) error {
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "main.cf"), nil, 0o644)
	os.WriteFile(filepath.Join(d, "master.cf"), master, 0o644)
	past := time.Now().Add(-time.Minute) // else postconf waits for the files to settle
	os.Chtimes(filepath.Join(d, "main.cf"), past, past)
	os.Chtimes(filepath.Join(d, "master.cf"), past, past)
	out, err := exec.Command(args[0], append(args[1:], "-c", d, "-M")...).CombinedOutput()
	if err != nil {
		return &exec.Error{Name: string(out), Err: err}
	}
	return nil
}

// TestMasterCFAgainstPostconf: hostfix's parser and the real postconf agree on what is a
// valid master.cf, and every edit add makes is accepted by postconf.
func TestMasterCFAgainstPostconf(t *testing.T) {
	pc := postconfArgs(t)
	inputs := map[string]string{
		"dist":                 string(sample(t, "master.cf.dist")),
		"plesk":                string(sample(t, "master.cf.plesk")),
		"comment in entry":     "smtp inet n - y - - smtpd\n# c\n  -o a=b\n",
		"bad field count":      "smtp inet n - y - - smtpd\nbroken line\n",
		"leading continuation": "  -o a=b\nsmtp inet n - y - - smtpd\n",
		"blank between":        "smtp inet n - y - - smtpd\n\n  -o a=b\n",
		"host port":            "127.0.0.1:smtp inet n - y - - smtpd\n",
	}
	for name, in := range inputs {
		_, mine := ParseMasterCF([]byte(in))
		theirs := realPostconf(t, pc, []byte(in))
		if (mine == nil) != (theirs == nil) {
			t.Errorf("%s: hostfix says %v, postconf says %v", name, mine, theirs)
		}
		if mine != nil {
			continue
		}
		es, _ := ParseMasterCF([]byte(in))
		if SMTPInet(es) == nil {
			continue
		}
		out, err := EditMasterCF([]byte(in), 26)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := realPostconf(t, pc, out); err != nil {
			t.Errorf("%s: postconf rejects the edit: %v\n%s", name, err, out)
		}
	}
}

// TestAddPostfixValidatesWithPostconf: PlanAdd runs the configured postconf on the edited
// master.cf, and a rejection is a usage error naming the file.
func TestAddPostfixValidatesWithPostconf(t *testing.T) {
	pc := postconfArgs(t)
	h := postfixHost(t, string(sample(t, "master.cf.dist")), nil)
	h.Runner = system.ExecRunner{}
	cfg := cfgWith(func(c *Config) { c.PostconfCommand = pc })
	p, err := PlanAdd(context.Background(), h, AddOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "the edited master.cf was parsed by") {
		t.Fatalf("notes %q", p.Notes)
	}
	// A postconf that fails stands for one that rejects the file.
	cfg.PostconfCommand = append(append([]string{}, pc...), "-p", "-c", "/nonexistent")
	_, err = PlanAdd(context.Background(), h, AddOptions{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "postconf rejects the edited /etc/postfix/master.cf, nothing changed") {
		t.Fatalf("error %v", err)
	}
	if !usage.Is(err) {
		t.Fatalf("a rejected edit is not a usage error (exit 2): %v", err)
	}
}
