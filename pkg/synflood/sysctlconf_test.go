package synflood

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

func TestParseSysctlConf(t *testing.T) {
	in := `# comment
; also a comment
net.ipv4.tcp_syncookies = 1
  net/ipv4/tcp_max_syn_backlog=4096
-net.core.somaxconn =  8192   
net.ipv4.conf.eth0/100.rp_filter = 0
net/ipv4/conf/eth0.100/rp_filter = 2
net.ipv4.conf.*.rp_filter = 1
kernel.printk = 4 4 1 7
not an assignment
 = 5
`
	as, errs := ParseSysctlConf([]byte(in))
	want := []Assignment{
		{Key: "net.ipv4.tcp_syncookies", Value: "1", Line: 3},
		{Key: "net.ipv4.tcp_max_syn_backlog", Value: "4096", Line: 4},
		{Key: "net.core.somaxconn", Value: "8192", Line: 5, IgnoreFailure: true},
		{Key: "net.ipv4.conf.eth0/100.rp_filter", Value: "0", Line: 6},
		{Key: "net.ipv4.conf.eth0/100.rp_filter", Value: "2", Line: 7},
		{Key: "net.ipv4.conf.*.rp_filter", Value: "1", Line: 8, Glob: true},
		{Key: "kernel.printk", Value: "4 4 1 7", Line: 9},
	}
	if len(as) != len(want) {
		t.Fatalf("got %d assignments %+v", len(as), as)
	}
	for i := range want {
		if as[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", want[i].Line, as[i], want[i])
		}
	}
	if len(errs) != 2 {
		t.Errorf("errors %v, want 2", errs)
	}
	if !as[5].Matches("net.ipv4.conf.lo.rp_filter") || as[5].Matches("net.ipv6.conf.lo.rp_filter") {
		t.Error("glob matching")
	}
}

func FuzzParseSysctlConf(f *testing.F) {
	f.Add([]byte("net.ipv4.tcp_syncookies = 1\n# c\n-net/core/somaxconn=4096\n"))
	f.Add([]byte("net.ipv4.conf.*.rp_filter = 1\r\n;x\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		as, _ := ParseSysctlConf(data)
		for _, a := range as {
			if a.Key == "" || a.Line < 1 {
				t.Fatalf("bad assignment %+v", a)
			}
			if strings.HasPrefix(a.Key, "-") && !a.IgnoreFailure {
				// "--key" keeps one dash after the first is taken as the flag
				continue
			}
			// a key line, re-rendered, parses to the same assignment
			again, _ := ParseSysctlConf([]byte(a.Key + " = " + a.Value + "\n"))
			if len(again) != 1 || again[0].Key != NormalizeSysctlKey(a.Key) || again[0].Value != a.Value {
				if !strings.ContainsAny(a.Key, "=#;\n") && !strings.HasPrefix(a.Key, "-") {
					t.Fatalf("round trip %+v -> %+v", a, again)
				}
			}
		}
	})
}

// tree writes files (path -> content; content "->target" makes a symlink) under a new root.
func tree(t *testing.T, files map[string]string) *system.Host {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "->") {
			if err := os.Symlink(strings.TrimPrefix(c, "->"), full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := system.NewHost(root, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBootValuePrecedence(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string
		value    string
		set      bool
		winner   string
		conflict int
	}{
		{"nothing sets it", map[string]string{"/etc/sysctl.d/10-x.conf": "vm.swappiness=1\n"}, "", false, "", 0},
		{"later name wins across directories", map[string]string{
			"/usr/lib/sysctl.d/50-default.conf": "net.ipv4.tcp_syncookies = 0\n",
			"/etc/sysctl.d/10-mine.conf":        "net.ipv4.tcp_syncookies = 1\n",
		}, "0", true, "/usr/lib/sysctl.d/50-default.conf", 1},
		{"/etc shadows the same name in /usr/lib", map[string]string{
			"/usr/lib/sysctl.d/50-default.conf": "net.ipv4.tcp_syncookies = 0\n",
			"/etc/sysctl.d/50-default.conf":     "net.ipv4.tcp_syncookies = 1\n",
		}, "1", true, "/etc/sysctl.d/50-default.conf", 0},
		{"99-hostfix.conf sorts before 99-sysctl.conf", map[string]string{
			"/etc/sysctl.conf":              "net.ipv4.tcp_syncookies=0\n",
			"/etc/sysctl.d/99-sysctl.conf":  "->../sysctl.conf",
			"/etc/sysctl.d/99-hostfix.conf": "net.ipv4.tcp_syncookies=1\n",
		}, "0", true, "/etc/sysctl.d/99-sysctl.conf -> /etc/sysctl.conf", 1},
		{"absolute link resolved inside root", map[string]string{
			"/etc/sysctl.conf":             "net.ipv4.tcp_syncookies=2\n",
			"/etc/sysctl.d/99-sysctl.conf": "->/etc/sysctl.conf",
		}, "2", true, "/etc/sysctl.d/99-sysctl.conf -> /etc/sysctl.conf", 0},
		{"no 99-sysctl.conf link: /etc/sysctl.conf is not read by systemd", map[string]string{
			"/etc/sysctl.conf":           "net.ipv4.tcp_syncookies=0\n",
			"/etc/sysctl.d/10-mine.conf": "net.ipv4.tcp_syncookies=1\n",
		}, "1", true, "/etc/sysctl.d/10-mine.conf", 1},
		{"masked file", map[string]string{
			"/usr/lib/sysctl.d/90-x.conf": "net.ipv4.tcp_syncookies=0\n",
			"/etc/sysctl.d/90-x.conf":     "->/dev/null",
		}, "", false, "", 0},
		{"last line of a file wins, slash keys", map[string]string{
			"/run/sysctl.d/60-a.conf": "net/ipv4/tcp_syncookies=0\nnet.ipv4.tcp_syncookies = 1\n",
		}, "1", true, "/run/sysctl.d/60-a.conf", 1},
		{"glob", map[string]string{
			"/usr/local/lib/sysctl.d/70-g.conf": "net.ipv4.tcp_sync*=0\n",
		}, "0", true, "/usr/local/lib/sysctl.d/70-g.conf", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tree(t, tt.files)
			files, errs := SysctlFiles(h)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			b := BootValueOf(files, KeySyncookies)
			if b.Value != tt.value || b.Set != tt.set || b.File != tt.winner || len(b.Conflicts()) != tt.conflict {
				t.Errorf("got value %q set %v file %q conflicts %v", b.Value, b.Set, b.File, b.Conflicts())
			}
		})
	}
}

// Issue 8 item 2: sysctl files are read through system.Host.Resolve: a drop-in that is an
// absolute link, or a directory reached through a ".." link, never reads the real host.
func TestSysctlFilesStayInsideRoot(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(outside+"/evil.conf", []byte("net.ipv4.tcp_syncookies = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.MkdirAll(root+"/etc/sysctl.d", 0o755)
	os.MkdirAll(root+"/usr/lib", 0o755)
	if err := os.Symlink(outside+"/evil.conf", root+"/etc/sysctl.d/50-abs.conf"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../.."+outside, root+"/usr/lib/sysctl.d"); err != nil {
		t.Fatal(err)
	}
	h, err := system.NewHost(root, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := SysctlFiles(h)
	for _, f := range files {
		if len(f.Assignments) > 0 || strings.Contains(string(f.Content), "syncookies") {
			t.Errorf("%s (real %s) read content from outside the root: %q", f.Path, f.Real, f.Content)
		}
	}
}
