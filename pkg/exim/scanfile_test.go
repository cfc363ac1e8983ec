package exim

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestScanFileManual scans HOSTFIX_EXIM_SCAN_FILE when set (a manual measuring aid).
func TestScanFileManual(t *testing.T) {
	p := os.Getenv("HOSTFIX_EXIM_SCAN_FILE")
	if p == "" {
		return
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl := NewTally(time.Time{}, time.UTC)
	if err := tl.Scan(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d failures %d logins", tl.Failures, tl.Logins)
}
