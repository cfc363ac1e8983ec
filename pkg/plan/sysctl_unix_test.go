//go:build unix

package plan

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/internal/testenv"
)

func TestSysctlReadBackFailure(t *testing.T) {
	tr := newTree(t)
	// A parameter that swallows writes, like a kernel refusing a value: a null device
	// inside the root (links are resolved inside the root, so it must be there).
	testenv.NeedRoot(t)
	os.MkdirAll(tr.h.Path("/proc/sys/net/core"), 0o755)
	if err := unix.Mknod(tr.h.Path("/proc/sys/net/core/somaxconn"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		testenv.Skip(t, "cannot create a null device: "+err.Error())
	}
	a := tr.must(SetSysctl(tr.h, "net.core.somaxconn", "4096"))
	p := New("t")
	p.Add(a)
	_, err := tr.apply(p)
	if err == nil || !strings.Contains(err.Error(), "kernel reads back") {
		t.Fatalf("err = %v", err)
	}
}
