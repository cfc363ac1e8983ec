package mx_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/dnstest"
	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/mx"
	"github.com/hostfix/hostfix/pkg/system"
)

// eximConf is a test-owned Exim configuration in cPanel's shape: local_domains is read
// from the --root tree's /etc/localdomains, everything else goes to a remote host. -bt
// only routes, so nothing is delivered and 192.0.2.1 is never contacted.
const eximConf = `primary_hostname = hostfix-test.invalid
domainlist local_domains = lsearch;ROOT/etc/localdomains
spool_directory = TMP/spool
log_file_path = TMP/log/%slog
keep_environment =

begin routers
remote:
  driver = manualroute
  domains = ! +local_domains
  route_list = * 192.0.2.1
  transport = remote_smtp
  no_more

local:
  driver = accept
  domains = +local_domains
  transport = local_delivery

begin transports
remote_smtp:
  driver = smtp

local_delivery:
  driver = appendfile
  file = TMP/mail/$local_part
`

// TestIntegrationEximRouting: Debian's exim4, with a config that reads the tree's
// /etc/localdomains, routes here.example remotely before `mx fix` and locally after it;
// VerifyRouting reads the real `exim4 -bt` output both ways. The system's exim
// configuration is never read or touched.
func TestIntegrationEximRouting(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	exim := testenv.NeedTool(t, "exim4")[0]

	zone, err := os.ReadFile("testdata/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	dns, err := dnstest.Start(string(zone))
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()

	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	for _, d := range []string{"root/etc", "spool", "log", "mail"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "etc/localdomains"), "hostfix-test.invalid\n")
	write(filepath.Join(root, "etc/remotedomains"), "here.example\n")
	conf := filepath.Join(tmp, "exim.conf")
	write(conf, strings.NewReplacer("ROOT", root, "TMP", tmp).Replace(eximConf))

	route := func() string {
		out, err := exec.Command(exim, "-C", conf, "-bt", "user@here.example").CombinedOutput()
		if err != nil {
			t.Logf("exim4 -bt: %v", err)
		}
		return string(out)
	}
	ctx := context.Background()
	argv := []string{exim, "-C", conf}
	before := route()
	if !strings.Contains(before, "router = remote") || !strings.Contains(before, "host 192.0.2.1") {
		t.Fatalf("before fix, exim4 routes here.example:\n%s\nwant the remote router", before)
	}
	if err := mx.VerifyRouting(ctx, system.ExecRunner{}, mx.CPanel, argv, "here.example", false, ""); err != nil {
		t.Fatalf("verify remote before fix: %v", err)
	}
	if err := mx.VerifyRouting(ctx, system.ExecRunner{}, mx.CPanel, argv, "here.example", true, ""); err == nil {
		t.Fatal("verify local before fix passed")
	}

	run := func(args ...string) (int, string) {
		ios, _, out, errb := iostreams.Test()
		code := cmd.Run(ctx, append([]string{"--root", root, "--resolver", dns.Addr}, args...), ios, func(k string) string {
			if k == "PATH" {
				return os.Getenv("PATH")
			}
			return ""
		})
		return code, out.String() + errb.String()
	}
	if code, out := run("mx", "fix", "here.example"); code != 0 {
		t.Fatalf("mx fix: exit %d\n%s", code, out)
	}
	after := route()
	t.Logf("before:\n%s\nafter:\n%s", before, after)
	if !strings.Contains(after, "router = local") || strings.Contains(after, "host 192.0.2.1") {
		t.Fatalf("after fix, exim4 routes here.example:\n%s\nwant the local router", after)
	}
	if err := mx.VerifyRouting(ctx, system.ExecRunner{}, mx.CPanel, argv, "here.example", true, ""); err != nil {
		t.Fatalf("verify local after fix: %v", err)
	}
	if code, out := run("mx", "check", "here.example"); code != 0 {
		t.Fatalf("mx check after fix: exit %d\n%s", code, out)
	}
	// and back: --remote makes exim4 route it away again
	if code, out := run("mx", "fix", "here.example", "--remote"); code != 0 {
		t.Fatalf("mx fix --remote: exit %d\n%s", code, out)
	}
	if again := route(); !strings.Contains(again, "router = remote") {
		t.Fatalf("after fix --remote, exim4 routes here.example:\n%s", again)
	}
}
