package smtpport_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/postfixtest"
	"github.com/hostfix/hostfix/internal/testenv"
)

// TestPostfixIntegration runs the live `smtpport add --mode postfix` against a whole
// Postfix of the test's own: the Debian package unpacked at $HOSTFIX_POSTFIX_DIR (default
// /opt/hostfix-ci/postfix), with its config and queue directories in the test directory,
// inside a private network namespace (unshare -n) so its smtp inet service can take
// 127.0.0.1:25. hostfix edits that master.cf (smtpport.postfix_dir), validates it with the
// unpacked postconf, reloads that Postfix and reads a real 220 from smtpd on the new port.
func TestPostfixIntegration(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	pf := os.Getenv("HOSTFIX_POSTFIX_DIR")
	if pf == "" {
		pf = "/opt/hostfix-ci/postfix"
	}
	if _, err := os.Stat(filepath.Join(pf, "usr/sbin/postfix")); err != nil {
		testenv.Skip(t, "needs Postfix unpacked at "+pf+" (HOSTFIX_POSTFIX_DIR)")
	}
	for _, n := range []string{"postfix", "postdrop"} {
		if _, err := user.LookupGroup(n); err != nil {
			testenv.Skip(t, "needs the group "+n+" (Postfix's own users; .ci/run creates them)")
		}
	}
	if _, err := user.Lookup("postfix"); err != nil {
		testenv.Skip(t, "needs the user postfix")
	}
	if os.Getenv(inNamespace) != "1" {
		tools := testenv.NeedTool(t, "unshare", "ip")
		c := exec.Command(tools[0], "-n", "--", os.Args[0], "-test.run=^TestPostfixIntegration$", "-test.v", "-test.count=1")
		c.Env = append(os.Environ(), inNamespace+"=1")
		out, err := c.CombinedOutput()
		t.Logf("in the namespace:\n%s", out)
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestPostfixIntegration")) {
			t.Fatalf("the test in the namespace failed: %v", err)
		}
		return
	}
	postfixInNamespace(t, pf)
}

func postfixInNamespace(t *testing.T, pf string) {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}
	u, _ := user.Lookup("postfix")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	conf, queue, data := filepath.Join(dir, "etc"), filepath.Join(dir, "queue"), filepath.Join(dir, "data")
	for _, d := range []string{conf, queue, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chown(data, uid, gid)
	lib := postfixtest.Lib(pf)
	env := append(os.Environ(), "LD_LIBRARY_PATH="+lib)
	run := func(tool string, args ...string) (string, error) {
		c := exec.Command(filepath.Join(pf, "usr/sbin", tool), args...)
		c.Env = env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	imp, err := postfixtest.ImportEnvironment(pf)
	if err != nil {
		t.Fatal(err)
	}
	mainCf := postfixtest.MainCf(pf, queue, data, dir, imp, "smtpd_banner = $myhostname ESMTP hostfix-test")
	// The Debian master.cf with chroot off (the test has no chroot) and the smtp inet
	// service bound to loopback, carrying an -o option the new port must keep.
	dist, err := os.ReadFile(filepath.Join(pf, "usr/share/postfix/master.cf.dist"))
	if err != nil {
		t.Fatal(err)
	}
	var mc strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(string(dist), "\n"), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 8 && f[0] == "smtp" && f[1] == "inet":
			l = "127.0.0.1:smtp inet n - n - - smtpd\n  -o smtpd_client_connection_count_limit=20"
		case len(f) >= 8 && !strings.HasPrefix(l, "#") && f[4] == "y":
			f[4] = "n"
			l = strings.Join(f, " ")
		}
		mc.WriteString(l + "\n")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(conf, "main.cf"), []byte(mainCf), 0o644))
	must(os.WriteFile(filepath.Join(conf, "master.cf"), []byte(mc.String()), 0o644))
	origMaster := mc.String()
	t.Cleanup(func() {
		run("postfix", "-c", conf, "stop")
		if b, err := os.ReadFile(filepath.Join(queue, "pid/master.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "maillog")); err == nil {
			t.Logf("maillog:\n%s", b)
		}
	})
	if out, err := run("postfix", "-c", conf, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, log)
	}
	waitFor(t, "postfix answering on 127.0.0.1:25", func() bool { _, err := readBanner("127.0.0.1:25"); return err == nil })

	envBin := testenv.NeedTool(t, "env")[0]
	argv := func(tool string, args ...string) string {
		q := []string{strconv.Quote(envBin), strconv.Quote("LD_LIBRARY_PATH=" + lib), strconv.Quote(filepath.Join(pf, "usr/sbin", tool))}
		for _, a := range args {
			q = append(q, strconv.Quote(a))
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	cfgFile := filepath.Join(dir, "hostfix.yaml")
	must(os.WriteFile(cfgFile, []byte(fmt.Sprintf(`plan:
  lock_file: %[1]s/hostfix.lock
  backup_dir: %[1]s/backups
  history_file: %[1]s/history.jsonl
smtpport:
  mode: postfix
  postfix_dir: %[2]s
  postfix_reload_command: %[3]s
  postconf_command: %[4]s
  log_file: %[1]s/maillog
  verify_timeout: 2s
  verify_wait: 5s
`, dir, conf, argv("postfix", "-c", conf, "reload"), argv("postconf"))), 0o644))
	hostfix := func(want int, args ...string) string {
		t.Helper()
		c := exec.Command("hostfix", append([]string{"--config", cfgFile}, args...)...)
		out, err := c.CombinedOutput()
		got := 0
		if ee, ok := err.(*exec.ExitError); ok {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("hostfix %s: exit %d, want %d\n%s", strings.Join(args, " "), got, want, out)
		}
		return string(out)
	}

	out := hostfix(0, "smtpport", "add", "--port", "2626")
	t.Logf("add:\n%s", out)
	if !strings.Contains(out, "the edited master.cf was parsed by") {
		t.Fatalf("add did not validate with postconf:\n%s", out)
	}
	line, err := readBanner("127.0.0.1:2626")
	if err != nil || line != "220 test.example ESMTP hostfix-test" {
		t.Fatalf("after add: %q %v", line, err)
	}
	b, _ := os.ReadFile(filepath.Join(conf, "master.cf"))
	if !strings.Contains(string(b), "127.0.0.1:2626 inet  n       -       n       -       -       smtpd\n  -o smtpd_client_connection_count_limit=20\n") {
		t.Fatalf("master.cf:\n%s", b)
	}
	if out, err := run("postconf", "-c", conf, "-M", "127.0.0.1:2626/inet"); err != nil || !strings.Contains(out, "smtpd_client_connection_count_limit=20") {
		t.Fatalf("postconf -M of the new service: %v\n%s", err, out)
	}
	out = hostfix(0, "smtpport", "check", "--port", "2626")
	t.Logf("check:\n%s", out)
	if !strings.Contains(out, `OK port 2626 answers "220 test.example ESMTP hostfix-test", server postfix`) {
		t.Fatalf("check:\n%s", out)
	}
	if out = hostfix(0, "smtpport", "add", "--port", "2626", "-o", "json"); !strings.Contains(out, `"changed": false`) {
		t.Fatalf("second add:\n%s", out)
	}
	hostfix(0, "smtpport", "remove", "--port", "2626")
	if c, err := net.DialTimeout("tcp", "127.0.0.1:2626", time.Second); err == nil {
		c.Close()
		t.Fatal("port 2626 still open after remove")
	}
	if b, _ := os.ReadFile(filepath.Join(conf, "master.cf")); string(b) != origMaster {
		t.Fatalf("master.cf not as it was:\n%s", b)
	}

	// An smtp inet service in TLS wrapper mode greets nobody in plain text: its copy on the
	// new port gives no 220, so add fails (exit 1) and rolls master.cf back and reloads.
	wrapped := strings.Replace(origMaster, "  -o smtpd_client_connection_count_limit=20\n", "  -o smtpd_client_connection_count_limit=20\n  -o smtpd_tls_wrappermode=yes\n", 1)
	must(os.WriteFile(filepath.Join(conf, "master.cf"), []byte(wrapped), 0o644))
	past := time.Now().Add(-time.Minute) // postfix waits for a file younger than a second
	os.Chtimes(filepath.Join(conf, "master.cf"), past, past)
	if out, err := run("postfix", "-c", conf, "reload"); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	out = hostfix(1, "smtpport", "add", "--port", "2626")
	t.Logf("add with a wrapper-mode smtp service:\n%s", out)
	if !strings.Contains(out, "no 220 banner") || !strings.Contains(out, "handler reload-postfix re-run on the restored state") {
		t.Fatalf("failed add:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(conf, "master.cf")); string(b) != wrapped {
		t.Fatalf("master.cf not rolled back:\n%s", b)
	}
	waitFor(t, "port 2626 closed after the rollback", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:2626", time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}
