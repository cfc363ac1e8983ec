package exim

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func TestRotatedName(t *testing.T) {
	for s, want := range map[string]bool{
		".1": true, ".12.gz": true, "-20261130": true, "-20261130.gz": true, "-2026113012": true,
		".gz": false, ".old": false, "-1": false, ".1.bz2": false, "": false, "-2026-11-30": false, ".notarotation": false,
	} {
		if got := rotatedName(s); got != want {
			t.Errorf("rotatedName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFindLogsDebianRotation(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "var/log/exim4")
	os.MkdirAll(dir, 0o755)
	now := time.Now()
	for name, age := range map[string]time.Duration{"mainlog": 0, "mainlog.1": 20 * time.Hour, "mainlog.2.gz": 44 * time.Hour, "mainlog.3.gz": 70 * time.Hour, "rejectlog": 0} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, nil, 0o644)
		os.Chtimes(p, now.Add(-age), now.Add(-age))
	}
	h, _ := system.NewHost(root, nil)
	logs, _, err := FindLogs(h, nil, now.Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range logs {
		got = append(got, l.Path)
	}
	want := "/var/log/exim4/mainlog /var/log/exim4/mainlog.1 /var/log/exim4/mainlog.2.gz"
	if s := join(got); s != want {
		t.Fatalf("logs %s, want %s", s, want)
	}
	logs, _, _ = FindLogs(h, nil, time.Time{})
	if len(logs) != 4 {
		t.Fatalf("--since 0: %d logs", len(logs))
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func TestChkservd(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/log"), 0o755)
	os.WriteFile(filepath.Join(root, "var/log/chkservd.log"), []byte(`Service Check Started
[2026-11-20 10:05:02 +0000] Loading services ....Done
Service check ....exim [check command:-] [socket connect:+] Restarting exim....
[2026-11-21 10:05:02 +0000] Loading services ....Done
Service check ....cpsrvd [check command:+] Done
Service check ....exim [check command:-] Restarting exim....
Service check ....dovecot [check command:-] Restarting dovecot....
`), 0o644)
	h, _ := system.NewHost(root, nil)
	c, err := ReadChkservd(context.Background(), h, "/var/log/chkservd.log", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.UTC)
	if err != nil || !c.Found || c.Restarts != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = ReadChkservd(context.Background(), h, "/var/log/chkservd.log", time.Time{}, time.UTC)
	if c.Restarts != 2 {
		t.Fatalf("whole log: %+v", c)
	}
	c, err = ReadChkservd(context.Background(), h, "/var/log/none", time.Time{}, time.UTC)
	if err != nil || c.Found {
		t.Fatalf("missing: %+v %v", c, err)
	}
}

// The parallel scan (forked tallies merged) must give what one serial pass gives.
func TestParallelScanMatchesSerial(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	data, _ := benchLog(t, 3<<20)
	par := NewTally(time.Time{}, time.UTC)
	if err := par.Scan(context.Background(), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	ser := NewTally(time.Time{}, time.UTC)
	ser.seed = par.seed
	ser.chunk(data)
	if par.Failures != ser.Failures || par.Logins != ser.Logins || len(par.IPs) != len(ser.IPs) || len(par.Accounts) != len(ser.Accounts) || par.First != ser.First || par.Last != ser.Last {
		t.Fatalf("parallel %d/%d/%d/%d, serial %d/%d/%d/%d", par.Failures, par.Logins, len(par.IPs), len(par.Accounts), ser.Failures, ser.Logins, len(ser.IPs), len(ser.Accounts))
	}
	for k, s := range ser.IPs {
		p := par.IPs[k]
		if p.Count != s.Count || p.Distinct != s.Distinct || p.First != s.First || p.Last != s.Last {
			t.Fatalf("IP %s: parallel %+v, serial %+v", s.Key, p, s)
		}
	}
	for k, s := range ser.Accounts {
		if p := par.Accounts[k]; p.Count != s.Count || p.Distinct != s.Distinct {
			t.Fatalf("account %s: parallel %d/%d, serial %d/%d", s.Key, p.Count, p.Distinct, s.Count, s.Distinct)
		}
	}
}

// A line longer than a chunk is skipped and counted; lines after it still count.
func TestLongLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(desyncLine)
	b.WriteString("2026-11-20 10:00:02 [1] x ")
	b.Write(bytes.Repeat([]byte("y"), 3*chunkSize))
	b.WriteString("\n")
	b.WriteString(desyncLine)
	tl := NewTally(time.Time{}, time.UTC)
	if err := tl.Scan(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if tl.Failures != 2 || tl.LongLines != 1 {
		t.Fatalf("failures %d long lines %d", tl.Failures, tl.LongLines)
	}
}

// A .gz log cut short (a copy that stopped, logrotate still compressing) or corrupted is
// an error that names the file, not a whole log with no failures in it.
func TestDamagedGzipLog(t *testing.T) {
	var full bytes.Buffer
	z := gzip.NewWriter(&full)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(z, "2026-11-20 10:00:%02d [1001] dovecot_login authenticator failed for (User) [185.143.75.81]:28557: 535 Incorrect authentication data (set_id=a%d@example.com)\n", i%60, i)
	}
	z.Close()
	corrupt := bytes.Clone(full.Bytes())
	corrupt[len(corrupt)-6] ^= 0xff // the CRC-32 trailer
	for name, data := range map[string][]byte{"cut.gz": full.Bytes()[:full.Len()/2], "header-only.gz": full.Bytes()[:10], "crc.gz": corrupt} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "var/log"), 0o755)
			os.WriteFile(filepath.Join(root, "var/log", name), data, 0o644)
			h, _ := system.NewHost(root, nil)
			_, err := AuthCheck(context.Background(), h, CheckOptions{Config: Config{Logs: []string{"/var/log/" + name}}})
			if err == nil {
				t.Fatal("a damaged .gz log was read as complete")
			}
			if msg := err.Error(); !strings.Contains(msg, "/var/log/"+name) || !strings.Contains(msg, "damaged or cut short") {
				t.Fatalf("error %q: want the file named and 'damaged or cut short'", msg)
			}
		})
	}
}

// An empty --log (--log= or a blank exim.logs entry) is bad input; it was taken for the
// root directory ("log  is a directory").
func TestEmptyLogPath(t *testing.T) {
	h, _ := system.NewHost(t.TempDir(), nil)
	for _, p := range []string{"", " "} {
		_, _, err := FindLogs(h, []string{p}, time.Time{})
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "empty log path") {
			t.Fatalf("FindLogs(%q): %v, want a usage error about an empty log path", p, err)
		}
	}
}

// The same log named twice (again, by another spelling, through a symlink, or - twice) is
// read once: it was read each time, doubling the counts (WARNING became CRITICAL).
func TestFindLogsDuplicates(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/log"), 0o755)
	os.WriteFile(filepath.Join(root, "var/log/exim_mainlog"), []byte("x\n"), 0o644)
	os.Symlink("exim_mainlog", filepath.Join(root, "var/log/alias"))
	h, _ := system.NewHost(root, nil)
	logs, _, err := FindLogs(h, []string{"/var/log/exim_mainlog", "/var/log//exim_mainlog", "/var/log/../log/exim_mainlog", "/var/log/alias", "-", "-"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range logs {
		got = append(got, l.Path)
	}
	if s := join(got); s != "/var/log/exim_mainlog -" {
		t.Fatalf("logs %q, want each once", s)
	}
}

// Detected logs: /var/log/exim_mainlog as a symlink to /var/log/exim/main.log is one log.
func TestFindLogsDetectedSymlink(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/log/exim"), 0o755)
	os.WriteFile(filepath.Join(root, "var/log/exim/main.log"), []byte("x\n"), 0o644)
	os.Symlink("exim/main.log", filepath.Join(root, "var/log/exim_mainlog"))
	h, _ := system.NewHost(root, nil)
	logs, _, err := FindLogs(h, nil, time.Time{})
	if err != nil || len(logs) != 1 {
		t.Fatalf("%d logs (%v), want 1", len(logs), err)
	}
}

// A --log path too long for the system is one short line: it was printed three times in
// full with Go's "lstat" (300,000 bytes for a 100,000-byte argument).
func TestFindLogsLongPath(t *testing.T) {
	h, _ := system.NewHost(t.TempDir(), nil)
	_, _, err := FindLogs(h, []string{"/" + strings.Repeat("a", 100000)}, time.Time{})
	if err == nil || len(err.Error()) > 400 || strings.Contains(err.Error(), "lstat") || !usage.Is(err) {
		t.Fatalf("%d bytes, usage error %v: %.300v", len(err.Error()), usage.Is(err), err)
	}
}
