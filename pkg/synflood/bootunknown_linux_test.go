package synflood

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

// unreadableRootEnv hands the fixture tree to the unprivileged child of
// TestCheckBootUnknownUnreadable.
const unreadableRootEnv = "HOSTFIX_TEST_UNREADABLE_ROOT"

// TestCheckBootUnknownUnreadable: /etc/sysctl.conf with mode 000, read by a user who really
// cannot read it. Run as root (CI), the test re-runs itself as nobody, since root reads a
// mode 000 file; run as another user it checks directly. Either way the read really fails.
func TestCheckBootUnknownUnreadable(t *testing.T) {
	if root := os.Getenv(unreadableRootEnv); root != "" {
		h, err := system.NewHost(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.ReadFile(filepath.Join(root, "etc/sysctl.conf")); err == nil {
			t.Fatal("this user can read the mode 000 file: the test proves nothing")
		}
		assertBootUnknown(t, checkIdle(t, h), "/etc/sysctl.conf")
		return
	}
	h := captureTree(t, "host-idle", idleLive)
	writeTree(t, h, "/etc/sysctl.conf", "net.ipv4.tcp_syncookies = 1\n")
	writeTree(t, h, "/etc/sysctl.d/99-sysctl.conf", "->../sysctl.conf")
	if err := os.Chmod(filepath.Join(h.Root, "etc/sysctl.conf"), 0); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		assertBootUnknown(t, checkIdle(t, h), "/etc/sysctl.conf")
		return
	}
	// As root: let nobody reach the tree and the test binary, and run this test as nobody.
	// (t.TempDir makes its directories 0700; /tmp itself is left alone.)
	for d := h.Root; strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(h.Root, "synflood.test")
	copyExecutable(t, bin)
	cmd := exec.Command(bin, "-test.run=^TestCheckBootUnknownUnreadable$", "-test.count=1")
	cmd.Env = append(os.Environ(), unreadableRootEnv+"="+h.Root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

func copyExecutable(t *testing.T, dst string) {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
