package system

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPath(t *testing.T) {
	root := t.TempDir()
	h, err := NewHost(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"/etc/sysctl.conf":     root + "/etc/sysctl.conf",
		"etc/sysctl.conf":      root + "/etc/sysctl.conf",
		"/../../etc/passwd":    root + "/etc/passwd",
		"/var/qmail/../x/./y/": root + "/var/x/y",
		"/":                    root,
	}
	for in, want := range cases {
		if got := h.Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		root + "/etc/sysctl.conf": "/etc/sysctl.conf",
		root:                      "/",
		"/elsewhere/x":            "/elsewhere/x",
		root + "/../x":            root + "/../x",
	} {
		if got := h.Unroot(in); got != want {
			t.Errorf("Unroot(%q) = %q, want %q", in, got, want)
		}
	}
	if h.Live() {
		t.Error("a --root host is not live")
	}
	live, err := NewHost("", nil)
	if err != nil || !live.Live() || live.Path("etc//x") != "/etc/x" || live.Unroot("/etc/x") != "/etc/x" {
		t.Errorf("live host: %+v %v", live, err)
	}
	if _, ok := live.Runner.(ExecRunner); !ok {
		t.Errorf("default runner is %T", live.Runner)
	}
}

func TestNewHostErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHost(file, nil); err == nil || err.Error() != "--root "+file+": not a directory" {
		t.Errorf("file as root: %v", err)
	}
	if _, err := NewHost(filepath.Join(dir, "none"), nil); err == nil || err.Error() != "--root "+filepath.Join(dir, "none")+": no such file or directory" || !IsNotExist(err) {
		t.Errorf("missing root: %v", err)
	}
	// A huge --root is echoed cut to usage.MaxEchoPath characters.
	long := filepath.Join(dir, strings.Repeat("a", 400))
	if _, err := NewHost(long, nil); err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "…") {
		t.Errorf("huge root: %v", err)
	}
	rel, err := NewHost(".", nil)
	if err != nil || !filepath.IsAbs(rel.Root) {
		t.Errorf("relative root must become absolute: %+v %v", rel, err)
	}
}

func TestReads(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/sysctl.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"10-a.conf", "99-b.conf", "x.txt"} {
		if err := os.WriteFile(filepath.Join(root, "etc/sysctl.d", n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/nowhere", filepath.Join(root, "etc/dangling")); err != nil {
		t.Fatal(err)
	}
	h, _ := NewHost(root, &Recorder{})
	if b, err := h.ReadFile("/etc/sysctl.d/10-a.conf"); err != nil || string(b) != "10-a.conf" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	got, err := h.Glob("/etc/sysctl.d/*.conf")
	if want := []string{"/etc/sysctl.d/10-a.conf", "/etc/sysctl.d/99-b.conf"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Glob = %v %v, want host paths %v", got, err, want)
	}
	if !h.Exists("/etc/dangling") || h.Exists("/etc/none") {
		t.Error("Exists: a dangling symlink exists, a missing file does not")
	}
	if _, err := h.Stat("/etc/dangling"); !IsNotExist(err) {
		t.Errorf("Stat follows symlinks: %v", err)
	}
	if fi, err := h.Lstat("/etc/dangling"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat: %v %v", fi, err)
	}
	if entries, err := h.ReadDir("/etc/sysctl.d"); err != nil || len(entries) != 3 {
		t.Errorf("ReadDir: %v %v", entries, err)
	}
	f, err := h.Open("/etc/sysctl.d/x.txt")
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	if _, err := h.ReadFile("/etc/missing"); !IsNotExist(err) || !strings.Contains(err.Error(), root) {
		t.Errorf("missing file: %v", err)
	}
}
