package system

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// escapeTree builds a --root tree whose links try every way out: an absolute link to a
// real directory outside the tree, relative links climbing with "..", a link to "/" and
// loops. Outside the tree sits a file that no read may ever return.
func escapeTree(t *testing.T) (h *Host, root, outside string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{root + "/etc/real", root + "/var/lib", outside + "/etc/real"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(root+"/etc/real/conf", "inside")
	write(outside+"/secret", "OUTSIDE")
	write(outside+"/etc/real/conf", "OUTSIDE")
	links := map[string]string{
		"/etc/abs":           "/etc/real",               // absolute, inside: fine
		"/etc/out-abs":       outside,                   // absolute host path: must stay under root
		"/etc/out-rel":       "../../outside",           // climbs out with ..
		"/etc/deep-rel":      "../../../../../../../..", // climbs far past /
		"/etc/slash":         "/",                       // the tree's /, not the host's
		"/etc/loop-a":        "loop-b",
		"/etc/loop-b":        "loop-a",
		"/etc/self":          "self",
		"/var/lib/up":        "../../etc/real", // relative, inside
		"/etc/real/back":     "../out-rel",     // a chain ending outside
		"/etc/dangling":      "/nowhere",
		"/var/lib/dir-loop":  "/var/lib/dir-loop/x",
		"/var/lib/etc-alias": "/etc",
	}
	for l, target := range links {
		if err := os.Symlink(target, root+l); err != nil {
			t.Fatal(err)
		}
	}
	h, err := NewHost(root, &Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return h, root, outside
}

func TestResolveNeverEscapes(t *testing.T) {
	h, root, outside := escapeTree(t)
	cases := map[string]string{
		"/etc/abs/conf":               "/etc/real/conf",
		"/etc/out-abs/secret":         outside + "/secret", // the same path, under root: missing
		"/etc/out-rel/secret":         "/outside/secret",
		"/etc/deep-rel/etc/real/conf": "/etc/real/conf",
		"/etc/slash/etc/real/conf":    "/etc/real/conf",
		"/var/lib/up/conf":            "/etc/real/conf",
		"/etc/real/back/secret":       "/outside/secret",
		"/etc/dangling":               "/nowhere",
		"/var/lib/etc-alias/abs/conf": "/etc/real/conf",
		"/etc/missing/a/b":            "/etc/missing/a/b",
		"/../../etc/abs/../abs/conf":  "/etc/real/conf",
		"/":                           "/",
	}
	for in, want := range cases {
		got, err := h.Resolve(in)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, loop := range []string{"/etc/loop-a", "/etc/loop-b/x", "/etc/self", "/var/lib/dir-loop"} {
		if _, err := h.Resolve(loop); !errors.Is(err, syscall.ELOOP) {
			t.Errorf("Resolve(%q): %v, want ELOOP", loop, err)
		}
	}
	// No read method returns the file outside the tree, whatever the way in.
	ways := []string{"/etc/out-abs/secret", "/etc/out-rel/secret", "/etc/deep-rel" + outside + "/secret",
		"/etc/real/back/secret", "/etc/out-abs/etc/real/conf", "/etc/slash" + outside + "/secret",
		"/etc/deep-rel/../outside/secret"}
	for _, p := range ways {
		if b, err := h.ReadFile(p); err == nil {
			t.Errorf("ReadFile(%q) = %q: escaped the root", p, b)
		}
		if f, err := h.Open(p); err == nil {
			f.Close()
			t.Errorf("Open(%q) escaped the root", p)
		}
		if _, err := h.Stat(p); err == nil {
			t.Errorf("Stat(%q) escaped the root", p)
		}
		if h.Exists(p) {
			t.Errorf("Exists(%q) escaped the root", p)
		}
	}
	if ents, err := h.ReadDir("/etc/out-abs"); err == nil {
		t.Errorf("ReadDir through an absolute link listed the host: %v", ents)
	}
	if ents, err := h.ReadDir("/etc/out-rel"); err == nil {
		t.Errorf("ReadDir through a .. link listed outside the root: %v", ents)
	}
	if m, err := h.Glob("/etc/*/secret"); err != nil || len(m) != 0 {
		t.Errorf("Glob found %v %v outside the root", m, err)
	}
	// Inside, links work as on a real system, and results keep the pattern's names.
	if b, err := h.ReadFile("/var/lib/etc-alias/abs/conf"); err != nil || string(b) != "inside" {
		t.Errorf("ReadFile through inside links: %q %v", b, err)
	}
	m, err := h.Glob("/var/lib/etc-alias/*/conf")
	if want := []string{"/var/lib/etc-alias/abs/conf", "/var/lib/etc-alias/real/conf"}; err != nil || !reflect.DeepEqual(m, want) {
		t.Errorf("Glob = %v %v, want %v", m, err, want)
	}
	if fi, err := h.Lstat("/var/lib/etc-alias/abs"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("Lstat resolves parents, not the last link: %v %v", fi, err)
	}
	if target, err := h.Readlink("/var/lib/etc-alias/out-abs"); err != nil || target != outside {
		t.Errorf("Readlink = %q %v", target, err)
	}
	if _, err := h.ReadFile("/etc/loop-a"); !errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), root) {
		t.Errorf("a loop is ELOOP naming system paths: %v", err)
	}
	if rp, err := h.RealPath("/var/lib/up/conf"); err != nil || rp != root+"/etc/real/conf" {
		t.Errorf("RealPath = %q %v", rp, err)
	}
	if pp, err := h.ParentPath("/var/lib/etc-alias/abs"); err != nil || pp != root+"/etc/abs" {
		t.Errorf("ParentPath = %q %v", pp, err)
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/etc/abs/conf", "/etc/out-rel/secret", "../../x", "/etc/loop-a/../b", "//a//b/../../..", "/etc/real/back/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		h, _, _ := escapeTree(t)
		got, err := h.Resolve(p)
		if err != nil {
			return
		}
		if !filepath.IsAbs(got) || filepath.Clean(got) != got {
			t.Fatalf("Resolve(%q) = %q: not a clean system path", p, got)
		}
		if rp := h.Path(got); rp != h.Root && !strings.HasPrefix(rp, h.Root+"/") {
			t.Fatalf("Resolve(%q) = %q leads outside the root", p, got)
		}
	})
}
