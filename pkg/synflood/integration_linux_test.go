package synflood

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/internal/testenv"
)

// The helper process: re-executed by TestIntegrationSynFlood under `ip netns exec`, it
// listens with a tiny backlog and never accepts, opens connections to itself and keeps
// opening new ones, so the listener's SYN queue stays full while the check measures.
const helperEnv = "HOSTFIX_SYNFLOOD_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(synfloodHelper(os.Getenv(helperEnv)))
	}
	os.Exit(m.Run())
}

const (
	helperPort    = 18080
	helperBacklog = 8
)

func synfloodHelper(mode string) int {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		err = unix.Bind(fd, &unix.SockaddrInet4{Port: helperPort, Addr: [4]byte{127, 0, 0, 1}})
	}
	if err == nil {
		err = unix.Listen(fd, helperBacklog)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	fmt.Println("ready")
	var open []int
	dial := func() {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return
		}
		_ = unix.Connect(c, &unix.SockaddrInet4{Port: helperPort, Addr: [4]byte{127, 0, 0, 1}})
		open = append(open, c)
		if len(open) > 1500 { // keep well under RLIMIT_NOFILE
			unix.Close(open[0])
			open = open[1:]
		}
	}
	for i := 0; i < 300; i++ {
		dial()
	}
	// Keep SYNs coming (as a flood does) until the test kills us.
	for {
		time.Sleep(50 * time.Millisecond)
		for i := 0; i < 5; i++ {
			dial()
		}
	}
}

func run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

func TestIntegrationSynFlood(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "ip", "nft", "ss", "sysctl", "go")
	hostCookies, err := os.ReadFile("/proc/sys/net/ipv4/tcp_syncookies")
	if err != nil {
		t.Fatal(err)
	}
	hostBacklog, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_max_syn_backlog")
	t.Cleanup(func() {
		// The real host's values must never change.
		now, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_syncookies")
		nowB, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_max_syn_backlog")
		if !bytes.Equal(now, hostCookies) || !bytes.Equal(nowB, hostBacklog) {
			t.Errorf("host sysctls changed: tcp_syncookies %q -> %q, tcp_max_syn_backlog %q -> %q", hostCookies, now, hostBacklog, nowB)
		}
	})

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hostfix")
	build := exec.Command("go", "build", "-o", bin, "github.com/hostfix/hostfix")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	ns := "hfsyn-" + hex.EncodeToString(rnd[:])
	run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v %s", ns, err, out)
		}
	})
	inNS := func(argv ...string) []string { return append([]string{"ip", "netns", "exec", ns}, argv...) }
	run(t, inNS("ip", "link", "set", "lo", "up")...)
	if err := os.WriteFile(filepath.Join(tmp, "sysctl.conf"), []byte("net.ipv4.tcp_syncookies = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, inNS("sysctl", "-q", "-p", filepath.Join(tmp, "sysctl.conf"))...)
	rules := fmt.Sprintf(`table inet hostfix_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport %d tcp flags & syn == 0 drop
	}
}
`, helperPort)
	if err := os.WriteFile(filepath.Join(tmp, "rules.nft"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, inNS("nft", "-f", filepath.Join(tmp, "rules.nft"))...)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	self, _ := os.Executable()
	helper := exec.CommandContext(ctx, "ip", inNS(self, "-test.run=^$")[1:]...)
	helper.Env = append(os.Environ(), helperEnv+"=1")
	stdout, _ := helper.StdoutPipe()
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper did not start: %q", line)
	}

	ssCount := func() int {
		out := run(t, inNS("ss", "-Htn", "state", "syn-recv", "sport", "=", ":"+strconv.Itoa(helperPort))...)
		return strings.Count(out, "\n")
	}
	deadline := time.Now().Add(10 * time.Second)
	for ssCount() <= helperBacklog && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}

	// Point the plan layer's lock, backups and audit log into the temp dir: the host's
	// /run, /var/backups and /var/log stay untouched.
	env := append(os.Environ(),
		"HOSTFIX_PLAN_LOCK_FILE="+filepath.Join(tmp, "hostfix.lock"),
		"HOSTFIX_PLAN_BACKUP_DIR="+filepath.Join(tmp, "backups"),
		"HOSTFIX_PLAN_HISTORY_FILE="+filepath.Join(tmp, "history.jsonl"),
		"HOSTFIX_CONFIG="+filepath.Join(tmp, "none.yaml"),
		"HOSTFIX_SYNFLOOD_PROBE_TIMEOUT=1s")
	if err := os.WriteFile(filepath.Join(tmp, "none.yaml"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostfix := func(args ...string) ([]byte, int) {
		c := exec.CommandContext(ctx, "ip", inNS(append([]string{bin}, args...)...)[1:]...)
		c.Env = env
		var errb bytes.Buffer
		c.Stderr = &errb
		out, err := c.Output()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("hostfix %v: %v", args, err)
		}
		if errb.Len() > 0 {
			t.Logf("hostfix %v stderr: %s", args, errb.String())
		}
		return out, code
	}
	type report struct {
		Status   string `json:"status"`
		Findings []struct{ Message string }
		Metrics  struct {
			SynRecvTotal int    `json:"syn_recv_total"`
			Source       string `json:"sockets_source"`
			Listeners    []struct {
				Address     string
				Port        int
				SynRecv     int `json:"syn_recv"`
				SynQueueCap int `json:"syn_queue_cap"`
				AcceptCap   int `json:"accept_queue_cap"`
			} `json:"listeners"`
			Counters map[string]struct {
				Total     uint64   `json:"total"`
				PerSecond *float64 `json:"per_second"`
			} `json:"counters"`
			Netns string `json:"netns"`
			Probe struct {
				ConnectMS *float64 `json:"connect_ms"`
				Error     string   `json:"error"`
			} `json:"probe"`
			KernelLog []struct {
				Listener string `json:"listener"`
				Action   string `json:"action"`
			} `json:"kernel_log"`
		} `json:"metrics"`
	}
	check := func() (report, int, int) {
		out, code := hostfix("synflood", "check", "-o", "json", "--interval", "1s", "--port", strconv.Itoa(helperPort),
			"--probe", fmt.Sprintf("127.0.0.1:%d", helperPort))
		var r report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("check json: %v\n%s", err, out)
		}
		return r, code, ssCount()
	}

	// The same SYN_RECV count as ss; the queue is stable while full, but retry once in case a
	// request socket expired between the two reads.
	r, code, ss := check()
	if r.Metrics.SynRecvTotal != ss {
		r, code, ss = check()
	}
	if r.Metrics.Source != "netlink" {
		t.Errorf("sockets_source %q, want netlink", r.Metrics.Source)
	}
	if len(r.Metrics.Listeners) != 1 || r.Metrics.Listeners[0].SynRecv != ss || r.Metrics.SynRecvTotal != ss {
		t.Fatalf("check says %+v, ss says %d", r.Metrics.Listeners, ss)
	}
	l := r.Metrics.Listeners[0]
	if l.AcceptCap != helperBacklog || l.SynQueueCap != helperBacklog {
		t.Errorf("caps: accept %d syn %d, want %d", l.AcceptCap, l.SynQueueCap, helperBacklog)
	}
	if r.Status != "critical" || code != 2 {
		t.Errorf("status %s exit %d, want critical 2; findings %+v", r.Status, code, r.Findings)
	}
	rate := func(r report, name string) float64 {
		c, ok := r.Metrics.Counters[name]
		if !ok || c.PerSecond == nil {
			t.Fatalf("no rate for %s: %+v", name, r.Metrics.Counters)
		}
		return *c.PerSecond
	}
	if rate(r, "TCPReqQFullDrop") <= 0 && rate(r, "ListenDrops") <= 0 {
		t.Errorf("no drop rate: %+v", r.Metrics.Counters)
	}
	nsID := r.Metrics.Netns
	// The runbook's `time wget`: with the queue full and cookies off, a new connection
	// from localhost cannot even complete its handshake.
	if r.Metrics.Probe.Error == "" {
		t.Errorf("probe connected in %v ms to a full listener with cookies off", *r.Metrics.Probe.ConnectMS)
	}
	// The kernel warns once per listener (rate limited, so it may be missing): whatever
	// dmesg shows for this listener, the check must show too.
	if out, err := exec.Command("dmesg").Output(); err == nil {
		want := fmt.Sprintf("Possible SYN flooding on port 127.0.0.1:%d. Dropping request", helperPort)
		if bytes.Contains(out, []byte(want)) {
			found := false
			for _, k := range r.Metrics.KernelLog {
				found = found || k.Listener == fmt.Sprintf("127.0.0.1:%d", helperPort) && k.Action == "drop"
			}
			if !found {
				t.Errorf("dmesg has %q but the check's kernel_log is %+v", want, r.Metrics.KernelLog)
			}
		} else {
			t.Logf("the kernel did not log the SYN flood warning (rate limited?); kernel log not compared")
		}
	}
	t.Logf("before fix: %s, SYN_RECV %d (ss %d), cap %d, TCPReqQFullDrop %.1f/s, ListenDrops %.1f/s",
		r.Status, r.Metrics.SynRecvTotal, ss, l.SynQueueCap, rate(r, "TCPReqQFullDrop"), rate(r, "ListenDrops"))

	// Fix in that namespace only; persist into the temp dir, not the host's /etc.
	persist := filepath.Join(tmp, "99-zz-hostfix-synflood.conf")
	out, code := hostfix("synflood", "fix", "--persist-file", persist)
	if code != 0 {
		t.Fatalf("fix exit %d:\n%s", code, out)
	}
	if !bytes.Contains(out, []byte("network namespace "+nsID)) {
		t.Errorf("fix does not name the namespace %s:\n%s", nsID, out)
	}
	if got := strings.TrimSpace(run(t, inNS("cat", "/proc/sys/net/ipv4/tcp_syncookies")...)); got != "1" {
		t.Errorf("tcp_syncookies in the namespace = %s, want 1", got)
	}
	if b, _ := os.ReadFile(persist); !bytes.Contains(b, []byte("net.ipv4.tcp_syncookies = 1\n")) {
		t.Errorf("persist file:\n%s", b)
	}
	if out, code := hostfix("synflood", "fix", "--persist-file", persist); code != 0 || !bytes.Contains(out, []byte("nothing to do")) {
		t.Errorf("second fix: exit %d\n%s", code, out)
	}

	r, _, _ = check()
	if d, l := rate(r, "TCPReqQFullDrop"), rate(r, "ListenDrops"); d != 0 || l != 0 {
		t.Errorf("after fix: TCPReqQFullDrop %v/s ListenDrops %v/s, want 0", d, l)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "dropped") || strings.Contains(f.Message, "drop") && strings.Contains(f.Message, "/s") {
			t.Errorf("after fix still: %s", f.Message)
		}
	}
	if r.Status == "critical" {
		t.Errorf("after fix status critical: %+v", r.Findings)
	}
	if r.Metrics.Probe.Error != "" || r.Metrics.Probe.ConnectMS == nil {
		t.Errorf("after fix the probe still fails: %s", r.Metrics.Probe.Error)
	}
	t.Logf("after fix: %s, SyncookiesSent %.1f/s, findings %+v", r.Status, rate(r, "SyncookiesSent"), r.Findings)
}
