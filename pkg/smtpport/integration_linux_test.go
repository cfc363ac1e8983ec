package smtpport_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/internal/testenv"
)

// inNamespace marks the re-executed test binary running inside `unshare -m -n`.
const inNamespace = "SMTPPORT_TEST_IN_NAMESPACE" // not HOSTFIX_*: hostfix rejects unknown keys there

// TestXinetdIntegration runs the live command (no --root) against a real xinetd owned by
// the test: the test binary re-executes itself in a private mount and network namespace,
// mounts its own /etc/xinetd.d and /etc/services there (see below), brings up lo and starts
// `xinetd -dontfork` with its own config, pid file and log. smtp_psa's server is
// banner-server (this test binary) printing "220 test ESMTP". The system xinetd, its files
// and the host's network are never touched.
func TestXinetdIntegration(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	if os.Getenv(inNamespace) != "1" {
		tools := testenv.NeedTool(t, "unshare", "xinetd", "ip")
		args := []string{"-m", "-n", "--", os.Args[0], "-test.run=^TestXinetdIntegration$", "-test.v", "-test.count=1"}
		c := exec.Command(tools[0], args...)
		c.Env = append(os.Environ(), inNamespace+"=1")
		out, err := c.CombinedOutput()
		t.Logf("in the namespace:\n%s", out)
		if err != nil {
			t.Fatalf("the test in the namespace failed: %v", err)
		}
		if !bytes.Contains(out, []byte("--- PASS: TestXinetdIntegration")) {
			t.Fatal("the test in the namespace did not pass")
		}
		return
	}
	xinetdInNamespace(t)
}

func xinetdInNamespace(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	banner, err := exec.LookPath("banner-server")
	must(err)
	xd := filepath.Join(dir, "xinetd.d")
	must(os.Mkdir(xd, 0o755))
	services, err := os.ReadFile("testdata/samples/services")
	must(err)
	smtpPSA := func(args string) string {
		return fmt.Sprintf(`service smtp
{
	socket_type     = stream
	protocol        = tcp
	wait            = no
	disable         = no
	user            = root
	instances       = UNLIMITED
	server          = %s
	server_args     = %s
}
`, banner, args)
	}
	must(os.WriteFile(filepath.Join(xd, "smtp_psa"), []byte(smtpPSA("220 test ESMTP")), 0o644))
	conf := filepath.Join(dir, "xinetd.conf")
	must(os.WriteFile(conf, []byte("defaults\n{\n\tinstances = 20\n}\nincludedir /etc/xinetd.d\n"), 0o644))

	// The namespace: private mounts (nothing propagates back), our files over the host's.
	// /etc/services is not a file bind mount: a mount point cannot be renamed over (EBUSY)
	// and pkg/plan would fall back to writing it in place, which is not what a real host
	// sees. So /etc gets an overlay whose upper layer is the test's (the host's /etc is its
	// read-only lower layer) and /etc/xinetd.d a directory bind mount (renames inside it
	// stay on one mount): hostfix takes its normal atomic path.
	must(unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""))
	upper, work := filepath.Join(dir, "etc-upper"), filepath.Join(dir, "etc-work")
	must(os.Mkdir(upper, 0o755))
	must(os.Mkdir(work, 0o755))
	must(unix.Mount("overlay", "/etc", "overlay", 0, "lowerdir=/etc,upperdir="+upper+",workdir="+work))
	must(os.WriteFile("/etc/services", services, 0o644))
	must(unix.Mount(xd, "/etc/xinetd.d", "", unix.MS_BIND, ""))
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v: %s", err, out)
	}

	pidFile, logFile := filepath.Join(dir, "xinetd.pid"), filepath.Join(dir, "xinetd.log")
	xi := exec.Command("xinetd", "-f", conf, "-pidfile", pidFile, "-dontfork", "-filelog", logFile)
	xi.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(xi.Start())
	t.Cleanup(func() {
		xi.Process.Signal(syscall.SIGTERM)
		xi.Wait()
		if b, err := os.ReadFile(logFile); err == nil {
			t.Logf("xinetd log:\n%s", b)
		}
	})
	pid := xi.Process.Pid
	waitFor(t, "xinetd answering on port 25", func() bool { _, err := readBanner("127.0.0.1:25"); return err == nil })

	cfgFile := filepath.Join(dir, "config.yaml")
	must(os.WriteFile(cfgFile, []byte(fmt.Sprintf(`plan:
  lock_file: %[1]s/hostfix.lock
  backup_dir: %[1]s/backups
  history_file: %[1]s/history.jsonl
smtpport:
  xinetd_reload_command: [kill, -HUP, "%[2]d"]
  log_file: %[3]s
  verify_timeout: 2s
  verify_wait: 6s
`, dir, pid, logFile)), 0o644))
	hostfix := func(want int, args ...string) string {
		t.Helper()
		c := exec.Command("hostfix", append([]string{"--config", cfgFile}, args...)...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("hostfix %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}

	// 1. add: a real client reads 220 on the new port.
	out := hostfix(0, "smtpport", "add", "--port", "2626")
	if !strings.Contains(out, "smtpport add: 1 added, 1 changed") {
		t.Fatalf("add:\n%s", out)
	}
	line, err := readBanner("127.0.0.1:2626")
	if err != nil || line != "220 test ESMTP" {
		t.Fatalf("after add: %q %v", line, err)
	}
	out = hostfix(0, "smtpport", "check", "--port", "2626")
	t.Logf("check after add:\n%s", out)
	if !strings.Contains(out, `OK port 2626 answers "220 test ESMTP"`) || !strings.Contains(out, fmt.Sprintf("xinetd[%d]", pid)) {
		t.Fatalf("check:\n%s", out)
	}

	// 2. a second add changes nothing.
	out = hostfix(0, "smtpport", "add", "--port", "2626", "-o", "json")
	if !strings.Contains(out, `"changed": false`) {
		t.Fatalf("second add:\n%s", out)
	}

	// 3. remove closes the port.
	hostfix(0, "smtpport", "remove", "--port", "2626")
	if _, err := net.DialTimeout("tcp", "127.0.0.1:2626", time.Second); err == nil {
		t.Fatal("port 2626 still open after remove")
	}
	if _, err := os.Stat("/etc/xinetd.d/smtp_p2626"); !os.IsNotExist(err) {
		t.Fatalf("service file after remove: %v", err)
	}
	if b, _ := os.ReadFile("/etc/services"); !bytes.Equal(b, services) {
		t.Fatal("/etc/services not as it was after remove")
	}

	// 3b. --unlisted: xinetd takes port and protocol from the file, /etc/services untouched.
	hostfix(0, "smtpport", "add", "--port", "2627", "--unlisted")
	if line, err := readBanner("127.0.0.1:2627"); err != nil || line != "220 test ESMTP" {
		t.Fatalf("after add --unlisted: %q %v", line, err)
	}
	if b, _ := os.ReadFile("/etc/services"); !bytes.Equal(b, services) {
		t.Fatal("add --unlisted changed /etc/services")
	}
	hostfix(0, "smtpport", "remove", "--port", "2627")
	if _, err := net.DialTimeout("tcp", "127.0.0.1:2627", time.Second); err == nil {
		t.Fatal("port 2627 still open after remove")
	}

	// 4. a server that prints nothing: add fails (exit 1) and rolls everything back.
	must(os.WriteFile("/etc/xinetd.d/smtp_psa", []byte(smtpPSA("silent")), 0o644))
	must(syscall.Kill(pid, syscall.SIGHUP))
	out = hostfix(1, "smtpport", "add", "--port", "2626")
	t.Logf("add with a silent server:\n%s", out)
	if !strings.Contains(out, "no 220 banner") || !strings.Contains(out, "xinetd.log says:") {
		t.Fatalf("failed add:\n%s", out)
	}
	if _, err := os.Stat("/etc/xinetd.d/smtp_p2626"); !os.IsNotExist(err) {
		t.Fatalf("service file after rollback: %v", err)
	}
	if b, _ := os.ReadFile("/etc/services"); !bytes.Equal(b, services) {
		t.Fatal("/etc/services not rolled back")
	}
	waitFor(t, "port 2626 closed after the rollback", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:2626", time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})

	// 5. check: port 25 configured (smtp_psa), listening, silent: CRITICAL.
	out = hostfix(2, "smtpport", "check", "--port", "25")
	t.Logf("check of a silent port:\n%s", out)
	if !strings.Contains(out, "does not answer with a 220 banner") {
		t.Fatalf("check of a silent port:\n%s", out)
	}
}

func readBanner(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	c.Write([]byte("QUIT\r\n"))
	return strings.TrimRight(line, "\r\n"), nil
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for i := 0; i < 50; i++ {
		if ok() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
