//go:build unix

package exim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The mmap path must count what the read path counts, with windows ending mid-line and,
// in the second file, exactly on a newline.
func TestScanFileMatchesRead(t *testing.T) {
	dir := t.TempDir()
	data, _ := benchLog(t, 3*mmapWindow+12345)
	// every line exactly 256 bytes: each window boundary falls just after a newline
	line := "2026-11-20 10:00:01 [1] dovecot_login authenticator failed for (x) [198.51.100.9]:1: 535 Incorrect authentication data (set_id="
	line += strings.Repeat("a", 256-len(line)-2) + ")\n"
	if len(line) != 256 {
		t.Fatalf("line is %d bytes", len(line))
	}
	aligned := bytes.Repeat([]byte(line), 2*mmapWindow/256+3)
	// the random one ends in a line without its newline
	data = append(data, desyncLine[:len(desyncLine)-1]...)
	for name, content := range map[string][]byte{"random": data, "aligned": aligned} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		mm := NewTally(time.Time{}, time.UTC)
		done, err := mm.scanFile(context.Background(), f, int64(len(content)))
		f.Close()
		if err != nil || !done {
			t.Fatalf("%s: scanFile %v %v", name, done, err)
		}
		rd := NewTally(time.Time{}, time.UTC)
		if err := rd.Scan(context.Background(), bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		if mm.Failures != rd.Failures || mm.Logins != rd.Logins || mm.Bytes != rd.Bytes || len(mm.IPs) != len(rd.IPs) || mm.LongLines != 0 {
			t.Fatalf("%s: mmap %d failures %d logins %d bytes, read %d %d %d", name, mm.Failures, mm.Logins, mm.Bytes, rd.Failures, rd.Logins, rd.Bytes)
		}
		if name == "aligned" && mm.Failures != len(aligned)/256 {
			t.Fatalf("aligned: %d failures of %d lines", mm.Failures, len(aligned)/256)
		}
	}
}

// A file cut short while it is mapped (copytruncate) is an error, not a SIGBUS crash.
func TestScanFileTruncated(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	data, _ := benchLog(t, 2*mmapWindow)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	tl := NewTally(time.Time{}, time.UTC)
	done, err := tl.scanFile(context.Background(), f, int64(len(data)))
	if !done || err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("done %v err %v", done, err)
	}
}
