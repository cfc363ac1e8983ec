package exim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

const desyncLine = "2026-11-20 10:00:01 [1001] fixed_plain authenticator failed for localhost.localdomain (localhost) [127.0.0.1]:48454: 535 Incorrect authentication data (set_id=__cpanel__service__auth__exim__S3cretSendKey)\n"

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, s := range files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// newKeysArgv is a configured restart command that writes 16-byte keys under root when
// they are missing, like cpsrvd.
func newKeysArgv(root string) []string {
	d := filepath.Join(root, ServiceAuthDir)
	return []string{"sh", "-c", `[ -e "$1/send" ] && exit 0; mkdir -p "$1" && printf 0123456789abcdef >"$1/send" && printf fedcba9876543210 >"$1/recv" && chmod 0750 "$1"`, "sh", d}
}

func TestResetIdempotent(t *testing.T) {
	root := writeTree(t, map[string]string{
		"usr/local/cpanel/":                "",
		"var/cpanel/serviceauth/exim/send": "OLDSENDKEY_16B.\n",
		"var/cpanel/serviceauth/exim/recv": "OLDRECVKEY_16B.\n",
		"var/log/exim_mainlog":             desyncLine,
	})
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []string{"send", "recv"} {
		if err := os.Chtimes(filepath.Join(root, ServiceAuthDir, k), old, old); err != nil {
			t.Fatal(err)
		}
	}
	h, err := system.NewHost(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Since = 0
	cfg.KeyWait = 2 * time.Second
	cfg.RestartCpanelCommand = newKeysArgv(root)
	cfg.RestartEximCommand = []string{"true"}
	ctx := context.Background()
	p, _, err := PlanReset(ctx, h, ResetOptions{Config: cfg, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if p.Empty() || len(p.Verifies) != 1 || len(p.Handlers) != 2 {
		t.Fatalf("plan: %d actions, %d verifies, %d handlers", len(p.Actions), len(p.Verifies), len(p.Handlers))
	}
	pc := plan.DefaultConfig()
	if _, err := plan.Apply(ctx, p, plan.Options{Host: h, Config: pc}); err != nil {
		t.Fatal(err)
	}
	k := ReadKeys(h)
	if !k.Complete() || k.DirMode != 0o750 {
		t.Fatalf("keys after reset: %s mode %o", k, k.DirMode)
	}
	// second run: the keys are newer than the last failure
	p2, _, err := PlanReset(ctx, h, ResetOptions{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Empty() {
		t.Fatalf("second plan not empty: %d actions", len(p2.Actions))
	}
	if len(p2.Notes) == 0 || !strings.Contains(p2.Notes[0], "already reset") {
		t.Fatalf("notes %q", p2.Notes)
	}
}

func TestResetRefusals(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Since = 0
	// not cPanel
	root := writeTree(t, map[string]string{"var/log/exim_mainlog": desyncLine})
	h, _ := system.NewHost(root, nil)
	if _, _, err := PlanReset(ctx, h, ResetOptions{Config: cfg, Force: true}); !usage.Is(err) || !strings.Contains(err.Error(), "/usr/local/cpanel") {
		t.Fatalf("non-cPanel: %v", err)
	}
	// cPanel, no log: needs --force; with it, a plan
	root = writeTree(t, map[string]string{"usr/local/cpanel/": "", "var/cpanel/serviceauth/exim/send": "x"})
	h, _ = system.NewHost(root, nil)
	if _, _, err := PlanReset(ctx, h, ResetOptions{Config: cfg}); !usage.Is(err) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("no log: %v", err)
	}
	p, _, err := PlanReset(ctx, h, ResetOptions{Config: cfg, Force: true})
	if err != nil || p.Empty() {
		t.Fatalf("no log, --force: %v", err)
	}
	// detected commands: restartsrv_cpsrvd in the tree is Detected, not configured
	root = writeTree(t, map[string]string{"usr/local/cpanel/scripts/restartsrv_cpsrvd": "#!/bin/sh\n", "usr/local/cpanel/scripts/restartsrv_exim": "#!/bin/sh\n"})
	os.Chmod(filepath.Join(root, restartCpsrvd), 0o755)
	h, _ = system.NewHost(root, nil)
	cp, ex := Commands(h, cfg)
	if !cp.Detected || cp.Args[0] != restartCpsrvd || len(ex.Args) != 0 {
		t.Fatalf("detected: %+v %+v", cp, ex)
	}
	os.Chmod(filepath.Join(root, restartExim), 0o755)
	os.Remove(filepath.Join(root, restartCpsrvd))
	os.MkdirAll(filepath.Join(root, "etc/rc.d/init.d"), 0o755)
	os.WriteFile(filepath.Join(root, initCpanel), []byte("#!/bin/sh\n"), 0o755)
	cp, ex = Commands(h, cfg)
	if !cp.Detected || strings.Join(cp.Args, " ") != initCpanel+" restart" || !ex.Detected {
		t.Fatalf("init script: %+v %+v", cp, ex)
	}
	cfg.RestartCpanelCommand = []string{"/bin/true"}
	if cp, _ = Commands(h, cfg); cp.Detected || cp.Key != "exim.restart_cpanel_command" {
		t.Fatalf("configured: %+v", cp)
	}
}

func TestWaitKeysReportsWhatWasFound(t *testing.T) {
	root := writeTree(t, map[string]string{"var/cpanel/serviceauth/exim/send": "short"})
	h, _ := system.NewHost(root, nil)
	err := WaitKeys(context.Background(), h, 30*time.Millisecond, 10*time.Millisecond, func(string, ...any) {})
	if err == nil || !strings.Contains(err.Error(), "send 5 bytes, recv missing") || strings.Contains(err.Error(), "short") {
		t.Fatalf("err %v", err)
	}
}
