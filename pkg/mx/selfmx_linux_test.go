package mx_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/dnstest"
	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/iostreams"
)

// selfMXConf routes non-local domains by DNS, as a real MTA does, so Exim itself meets the
// runbook's error: the lowest MX of a domain that is not local is this host.
const selfMXConf = `primary_hostname = hostfix-test.invalid
domainlist local_domains = lsearch;ROOT/etc/localdomains
spool_directory = TMP/spool
log_file_path = ROOT/var/log/exim_%slog
keep_environment =

begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
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
  file = TMP/mail/mbox
`

// TestIntegrationEximSelfMX reproduces the runbook's error with the real Exim over real
// DNS: inside a network and mount namespace of its own (loopback only, /etc/resolv.conf
// bind-mounted to a file naming 127.0.0.1 — the host's file and network are never
// touched), the test DNS server answers on 127.0.0.1:53, and `exim4 -C CONF -bt` says
// "lowest numbered MX record points to local host" for here.example until `hostfix mx
// fix` lists it in the tree's /etc/localdomains.
func TestIntegrationEximSelfMX(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "exim4", "unshare", "ip")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	zone, err := filepath.Abs("testdata/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	helper := filepath.Join(tmp, "mx-ns-helper")
	if err := os.Symlink(self, helper); err != nil {
		t.Fatal(err)
	}
	netns, _ := os.Readlink("/proc/self/ns/net")
	mntns, _ := os.Readlink("/proc/self/ns/mnt")
	out, err := exec.Command("unshare", "--mount", "--net", "--propagation", "private", "--", helper, tmp, zone, netns+" "+mntns).CombinedOutput()
	t.Logf("namespace helper:\n%s", out)
	if err != nil {
		t.Fatalf("namespace helper: %v", err)
	}
}

// nsHelper runs inside the namespaces: nsHelper TMP ZONEFILE.
func nsHelper(args []string) int {
	if len(args) != 3 {
		fmt.Println("usage: mx-ns-helper TMP ZONEFILE 'PARENT-NETNS PARENT-MNTNS'")
		return 2
	}
	tmp, zoneFile, parent := args[0], args[1], args[2]
	fail := func(format string, a ...any) int {
		fmt.Printf("FAIL: "+format+"\n", a...)
		return 1
	}
	if !inOwnNamespaces(parent) {
		return fail("not in a network namespace of its own: refusing to bind-mount /etc/resolv.conf")
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fail("ip link set lo up: %v %s", err, out)
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail("make mounts private: %v", err)
	}
	root := filepath.Join(tmp, "root")
	for _, d := range []string{"root/etc", "root/var/log", "spool", "mail"} {
		os.MkdirAll(filepath.Join(tmp, d), 0o755)
	}
	// Exim delivers as Debian-exim: the test's own log, spool and mail dirs (and their
	// parents, made by t.TempDir with mode 0700) must be open to it.
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		os.Chmod(d, 0o755)
	}
	for _, d := range []string{"root/var/log", "spool", "mail"} {
		os.Chmod(filepath.Join(tmp, d), 0o777)
	}
	resolv := filepath.Join(tmp, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 127.0.0.1\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1\n"), 0o644)
	if err := syscall.Mount(resolv, "/etc/resolv.conf", "", syscall.MS_BIND, ""); err != nil {
		return fail("bind-mount resolv.conf: %v", err)
	}
	os.WriteFile(filepath.Join(root, "etc/localdomains"), []byte("hostfix-test.invalid\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/remotedomains"), []byte("here.example\n"), 0o644)
	conf := filepath.Join(tmp, "exim.conf")
	os.WriteFile(conf, []byte(strings.NewReplacer("ROOT", root, "TMP", tmp).Replace(selfMXConf)), 0o644)

	zone, err := os.ReadFile(zoneFile)
	if err != nil {
		return fail("%v", err)
	}
	dns, err := dnstest.StartAt(string(zone), "127.0.0.1:53")
	if err != nil {
		return fail("dns server on 127.0.0.1:53: %v", err)
	}
	defer dns.Close()

	route := func(addr string) string {
		out, _ := exec.Command("exim4", "-C", conf, "-bt", addr).CombinedOutput()
		return string(out)
	}
	hostfix := func(a ...string) (int, string) {
		ios, _, out, errb := iostreams.Test()
		code := cmd.Run(context.Background(), append([]string{"--root", root}, a...), ios, func(string) string { return "" })
		return code, out.String() + errb.String()
	}

	before := route("user@here.example")
	fmt.Printf("exim4 -bt user@here.example before fix:\n%s\n", before)
	if !strings.Contains(before, "lowest numbered MX record points to local host") {
		return fail("exim4 did not meet the runbook's error before the fix")
	}
	// a real delivery attempt, so Exim logs the error in its main log as on a server
	submit := exec.Command("exim4", "-C", conf, "-odi", "-f", "sender@hostfix-test.invalid", "user@here.example")
	submit.Stdin = strings.NewReader("Subject: hostfix test\n\nbody\n")
	if out, err := submit.CombinedOutput(); err != nil {
		fmt.Printf("exim4 -odi: %v %s\n", err, out)
	}
	logged, _ := os.ReadFile(filepath.Join(root, "var/log/exim_mainlog"))
	fmt.Printf("exim_mainlog:\n%s\n", logged)
	if away := route("user@remote.example"); !strings.Contains(away, "host mx.away.example [192.0.2.10]") {
		return fail("exim4 -bt user@remote.example: %s", away)
	}
	code, out := hostfix("mx", "check", "here.example", "remote.example")
	fmt.Printf("hostfix mx check (exit %d):\n%s\n", code, out)
	if code != 2 || !strings.Contains(out, "here.example is not a local domain") {
		return fail("mx check did not say CRITICAL for here.example")
	}
	// the evidence is the line Exim itself logged (cPanel's log name, in the tree)
	if !strings.Contains(out, "error lines in /var/log/exim_mainlog naming here.example") || !strings.Contains(out, "== user@here.example R=dnslookup defer (-1): lowest numbered MX record points to local host") {
		return fail("mx check did not show Exim's own log line as evidence")
	}
	code, out = hostfix("mx", "fix", "here.example")
	fmt.Printf("hostfix mx fix (exit %d):\n%s\n", code, out)
	if code != 0 {
		return fail("mx fix failed")
	}
	after := route("user@here.example")
	fmt.Printf("exim4 -bt user@here.example after fix:\n%s\n", after)
	if !strings.Contains(after, "router = local") || strings.Contains(after, "lowest numbered MX") {
		return fail("exim4 does not route here.example locally after the fix")
	}
	if code, out = hostfix("mx", "check", "here.example", "remote.example"); code != 0 {
		return fail("mx check after the fix: exit %d\n%s", code, out)
	}
	return 0
}

// inOwnNamespaces: the helper's network and mount namespaces differ from the test's
// (parent is "net:[…] mnt:[…]" as the test read them), so the bind mount and the DNS
// server on port 53 cannot reach the host.
func inOwnNamespaces(parent string) bool {
	n, err1 := os.Readlink("/proc/self/ns/net")
	m, err2 := os.Readlink("/proc/self/ns/mnt")
	f := strings.Fields(parent)
	return err1 == nil && err2 == nil && len(f) == 2 && strings.HasPrefix(f[0], "net:") && strings.HasPrefix(f[1], "mnt:") && n != f[0] && m != f[1]
}
