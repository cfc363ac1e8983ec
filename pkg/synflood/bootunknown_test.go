package synflood

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
)

// checkIdle runs the check on the idle capture with cookies on and the given extra files.
func checkIdle(t *testing.T, h *system.Host) *check.Result {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Interval = 0
	r, err := Check(context.Background(), h, CheckOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var idleLive = map[string]string{KeySyncookies: "1", KeyMaxSynBacklog: "2048", KeySomaxconn: "4096", KeySynackRetries: "5"}

// assertBootUnknown: a sysctl file that cannot be read makes the boot value unknown: a
// WARNING naming the file, and no claim about what happens at reboot.
func assertBootUnknown(t *testing.T, r *check.Result, file string) {
	t.Helper()
	if r.Status != check.Warning {
		t.Errorf("status %s, want warning; findings %+v", r.Status, r.Findings)
	}
	found := false
	for _, f := range r.Findings {
		if f.Severity == check.Warning && strings.Contains(f.Message, file) && strings.Contains(f.Message, "unknown") {
			found = true
		}
		if strings.Contains(f.Message, "returns at reboot") || strings.Contains(f.Message, "after a reboot") {
			t.Errorf("guesses the boot value: %s", f.Message)
		}
	}
	if !found {
		t.Errorf("no WARNING naming %s as making the boot value unknown: %+v", file, r.Findings)
	}
	st := r.Metrics["sysctls"].(map[string]any)[KeySyncookies].(*SysctlState)
	if st.Boot.Unknown == "" || st.Boot.Set {
		t.Errorf("boot value %+v: want unknown", st.Boot)
	}
	for _, d := range r.Details {
		if strings.HasPrefix(d, KeySyncookies) && strings.Contains(d, "kernel default") {
			t.Errorf("detail claims the kernel default: %q", d)
		}
	}
	for _, s := range r.Samples {
		if s.Name == "hostfix_synflood_sysctl_boot" {
			t.Errorf("boot sample for an unknown boot value: %+v", s)
		}
	}
}

func TestCheckBootUnknownLoop(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"link to itself":  {"/etc/sysctl.d/50-loop.conf": "->50-loop.conf"},
		"two-link loop":   {"/etc/sysctl.d/50-a.conf": "->/etc/sysctl.d/50-b.conf", "/etc/sysctl.d/50-b.conf": "->50-a.conf"},
		"sysctl.conf dir": {"/etc/sysctl.conf/x": "net.ipv4.tcp_syncookies = 0\n", "/etc/sysctl.d/99-sysctl.conf": "->../sysctl.conf"},
	} {
		t.Run(name, func(t *testing.T) {
			h := captureTree(t, "host-idle", idleLive)
			if name == "link to itself" {
				// cookies off now: the check must not claim the default returns at reboot
				h = captureTree(t, "host-idle", merge(idleLive, map[string]string{KeySyncookies: "0"}))
			}
			for p, c := range files {
				writeTree(t, h, p, c)
			}
			file := "/etc/sysctl.d/50-"
			if strings.Contains(name, "sysctl.conf") {
				file = "/etc/sysctl.d/99-sysctl.conf"
			}
			assertBootUnknown(t, checkIdle(t, h), file)
		})
	}
}

// writeTree adds a file (or, for "->target", a symlink) to h's root.
func writeTree(t *testing.T, h *system.Host, p, c string) {
	t.Helper()
	full := filepath.Join(h.Root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(c, "->") {
		if err := os.Symlink(strings.TrimPrefix(c, "->"), full); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
}
