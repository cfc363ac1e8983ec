package synflood

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// bumpNetstat returns netstat content with the named TcpExt counters increased.
func bumpNetstat(t *testing.T, data []byte, add map[string]uint64) []byte {
	t.Helper()
	lines := bytes.Split(data, []byte("\n"))
	for i := 0; i+1 < len(lines); i++ {
		if !bytes.HasPrefix(lines[i], []byte("TcpExt:")) {
			continue
		}
		names := bytes.Fields(lines[i])[1:]
		vals := bytes.Fields(lines[i+1])[1:]
		for j, n := range names {
			if d, ok := add[string(n)]; ok {
				var v uint64
				for _, c := range vals[j] {
					v = v*10 + uint64(c-'0')
				}
				vals[j] = []byte(strings.TrimSpace(strings.Repeat(" ", 0) + itoa(v+d)))
			}
		}
		lines[i+1] = append([]byte("TcpExt: "), bytes.Join(vals, []byte(" "))...)
		break
	}
	return bytes.Join(lines, []byte("\n"))
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}

func captureTree(t *testing.T, dir string, live map[string]string) *system.Host {
	files := procSys(live)
	files["/proc/net/tcp"] = string(readTestdata(t, dir+"/proc_net_tcp"))
	files["/proc/net/tcp6"] = string(readTestdata(t, dir+"/proc_net_tcp6"))
	files["/proc/net/netstat"] = string(readTestdata(t, dir+"/proc_net_netstat"))
	h := tree(t, files)
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	h.Now = func() time.Time { return now }
	return h
}

// sleepBump advances the host clock and raises counters, as if d passed during a flood.
func sleepBump(t *testing.T, h *system.Host, add map[string]uint64) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		data := readRoot(t, h, "/proc/net/netstat")
		if err := os.WriteFile(h.Path("/proc/net/netstat"), bumpNetstat(t, []byte(data), add), 0o644); err != nil {
			t.Fatal(err)
		}
		now := h.Now().Add(d)
		h.Now = func() time.Time { return now }
		return nil
	}
}

func listener(t *testing.T, r *check.Result, name string) map[string]any {
	t.Helper()
	for _, l := range r.Metrics["listeners"].([]map[string]any) {
		a, _ := l["address"].(string)
		ap := a + ":" + itoa(uint64(l["port"].(uint16)))
		if strings.Contains(a, ":") {
			ap = "[" + a + "]:" + itoa(uint64(l["port"].(uint16)))
		}
		if ap == name {
			return l
		}
	}
	t.Fatalf("listener %s not in %v", name, r.Metrics["listeners"])
	return nil
}

func hasFinding(r *check.Result, sev check.Status, sub string) bool {
	for _, f := range r.Findings {
		if f.Severity == sev && strings.Contains(f.Message, sub) {
			return true
		}
	}
	return false
}

func TestCheckVerdicts(t *testing.T) {
	flood := map[string]string{KeySyncookies: "0", KeyMaxSynBacklog: "1024", KeySomaxconn: "4", KeySynackRetries: "5"}
	tests := []struct {
		name     string
		dir      string
		live     map[string]string
		add      map[string]uint64
		ports    []int
		status   check.Status
		findings []string
	}{
		{"flood with cookies off: queue full and drops", "netns-cookies-off", flood,
			map[string]uint64{"TCPReqQFullDrop": 20, "ListenDrops": 20}, nil, check.Critical,
			[]string{"127.0.0.1:8080: SYN queue full (5 of 4)", "TCPReqQFullDrop 20/s", "SYN cookies are off"}},
		{"cookies on, spoofed flood", "netns-cookies-off", merge(flood, map[string]string{KeySyncookies: "1", KeySomaxconn: "4096"}),
			map[string]uint64{"SyncookiesSent": 500, "TCPReqQFullDoCookies": 500}, nil, check.Warning,
			[]string{"SYN cookies are being sent", "spoofed"}},
		{"cookies on, legitimate overload", "netns-cookies-off", merge(flood, map[string]string{KeySyncookies: "1", KeySomaxconn: "4096"}),
			map[string]uint64{"SyncookiesSent": 500, "SyncookiesRecv": 450}, nil, check.Warning,
			[]string{"legitimate overload"}},
		{"slow accept", "netns-cookies-off", merge(flood, map[string]string{KeySyncookies: "1", KeySomaxconn: "4096"}),
			map[string]uint64{"ListenOverflows": 3, "ListenDrops": 3}, nil, check.Critical,
			[]string{"slow to accept()"}},
		{"idle host", "host-idle", map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "2048", KeySomaxconn: "4096", KeySynackRetries: "5"},
			nil, nil, check.OK, nil},
		{"--port 80 is exact: 8080's full queue is not counted", "netns-cookies-off", flood,
			nil, []int{80}, check.Warning, []string{"SYN cookies are off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := captureTree(t, tt.dir, tt.live)
			cfg := DefaultConfig()
			r, err := Check(context.Background(), h, CheckOptions{Config: cfg, Ports: tt.ports, Sleep: sleepBump(t, h, tt.add)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.status {
				t.Errorf("status %s, want %s; findings %+v", r.Status, tt.status, r.Findings)
			}
			for _, f := range tt.findings {
				if !hasFinding(r, check.Critical, f) && !hasFinding(r, check.Warning, f) {
					t.Errorf("no finding %q in %+v", f, r.Findings)
				}
			}
			var buf bytes.Buffer
			if err := check.WriteJSON(&buf, r); err != nil {
				t.Fatal(err)
			}
			var out struct {
				Metrics struct {
					SynRecvTotal *int `json:"syn_recv_total"`
					Listeners    []struct {
						Address        *string `json:"address"`
						Port           *int    `json:"port"`
						SynRecv        *int    `json:"syn_recv"`
						SynQueueCap    *int    `json:"syn_queue_cap"`
						AcceptQueue    *int    `json:"accept_queue"`
						AcceptQueueCap *int    `json:"accept_queue_cap"`
					} `json:"listeners"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			if out.Metrics.SynRecvTotal == nil || len(out.Metrics.Listeners) == 0 {
				t.Fatalf("json lacks syn_recv_total or listeners: %s", buf.String())
			}
			for _, l := range out.Metrics.Listeners {
				if l.Address == nil || l.Port == nil || l.SynRecv == nil || l.SynQueueCap == nil || l.AcceptQueue == nil || l.AcceptQueueCap == nil {
					t.Errorf("listener lacks a contract field: %+v", l)
				}
			}
		})
	}
}

func TestCheckCaptureCounts(t *testing.T) {
	h := captureTree(t, "netns-cookies-off", map[string]string{KeySyncookies: "0", KeyMaxSynBacklog: "1024", KeySomaxconn: "4"})
	cfg := DefaultConfig()
	cfg.Interval = 0
	r, err := Check(context.Background(), h, CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	// ss_tan.txt (taken with the capture) shows 5 SYN-RECV on each of 8080 and 8443.
	if got := r.Metrics["syn_recv_total"]; got != 10 {
		t.Errorf("syn_recv_total %v, want 10", got)
	}
	for name, want := range map[string]int{"127.0.0.1:8080": 5, "[::]:8443": 5, "0.0.0.0:80": 0} {
		if got := listener(t, r, name)["syn_recv"]; got != want {
			t.Errorf("%s syn_recv %v, want %d", name, got, want)
		}
	}
	if got := listener(t, r, "0.0.0.0:80")["accept_queue"]; got != 3 {
		t.Errorf("accept queue of :80 = %v, want 3", got)
	}
	if r.Metrics["rates_available"] != false {
		t.Error("rates without an interval")
	}
	// a state file gives rates on the next run
	cfg.StateFile = t.TempDir() + "/state.json"
	if _, err := Check(context.Background(), h, CheckOptions{Config: cfg}); err != nil {
		t.Fatal(err)
	}
	sleepBump(t, h, map[string]uint64{"TCPReqQFullDrop": 60})(context.Background(), time.Minute)
	r, err = Check(context.Background(), h, CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(r, check.Critical, "TCPReqQFullDrop 1/s") {
		t.Errorf("state-file rate: %+v", r.Findings)
	}
}

func TestCheckBootMismatch(t *testing.T) {
	files := merge(procSys(map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "2048", KeySomaxconn: "4096", KeySynackRetries: "5"}),
		map[string]string{
			"/proc/net/tcp":                string(readTestdata(t, "host-idle/proc_net_tcp")),
			"/proc/net/netstat":            string(readTestdata(t, "host-idle/proc_net_netstat")),
			"/etc/sysctl.conf":             "net.ipv4.tcp_syncookies = 0\n",
			"/etc/sysctl.d/99-sysctl.conf": "->../sysctl.conf",
		})
	h := tree(t, files)
	cfg := DefaultConfig()
	cfg.Interval = 0
	r, err := Check(context.Background(), h, CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != check.Warning || !hasFinding(r, check.Warning, "is 1 now but 0 after a reboot (/etc/sysctl.d/99-sysctl.conf -> /etc/sysctl.conf line 1)") {
		t.Errorf("status %s findings %+v", r.Status, r.Findings)
	}
}

func TestCheckBadInput(t *testing.T) {
	h := captureTree(t, "host-idle", defaultLive)
	cfg := DefaultConfig()
	for _, o := range []CheckOptions{
		{Config: cfg, Ports: []int{0}},
		{Config: cfg, Probe: "nonsense"},
		{Config: cfg, Probe: "ftp://x/"},
		{Config: cfg, LogFile: "/nonexistent/log"},
	} {
		if _, err := Check(context.Background(), h, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestCheckInputFileErrors: --log and --state-file name the file once and why in words,
// not Go's "open PATH: …" / "read PATH: is a directory" after it.
func TestCheckInputFileErrors(t *testing.T) {
	h := captureTree(t, "host-idle", defaultLive)
	dir := t.TempDir()
	missing := filepath.Join(dir, "none.log")
	_, err := Check(context.Background(), h, CheckOptions{Config: DefaultConfig(), LogFile: missing})
	if err == nil || err.Error() != "--log "+missing+": no such file or directory" || !usage.Is(err) {
		t.Errorf("--log missing: %v", err)
	}
	_, err = Check(context.Background(), h, CheckOptions{Config: DefaultConfig(), LogFile: dir})
	if err == nil || !strings.HasPrefix(err.Error(), "--log "+dir+": is a directory (d") || !strings.HasSuffix(err.Error(), "): want a log file") || !usage.Is(err) {
		t.Errorf("--log dir: %v", err)
	}
	_, err = LoadState(dir)
	if err == nil || !strings.HasPrefix(err.Error(), "state file "+dir+": is a directory (d") || strings.Contains(err.Error(), "read "+dir) || !usage.Is(err) {
		t.Errorf("state file dir: %v", err)
	}
}
