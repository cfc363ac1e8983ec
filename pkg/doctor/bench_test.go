package doctor

import (
	"context"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
)

// BenchmarkRunParallel runs six checks that each wait 2 ms (as a check waiting on I/O —
// DNS answers, a banner — does): run in parallel, one doctor run costs about one wait plus
// doctor's own overhead, not six waits. Compare ns/op with 2,000,000 (one wait).
func BenchmarkRunParallel(b *testing.B) {
	var checks []Check
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		name := n
		checks = append(checks, Check{Name: name,
			Detect: func(*system.Host) (bool, string) { return true, "bench" },
			Run: func(ctx context.Context, _ *system.Host) (*check.Result, error) {
				t := time.NewTimer(2 * time.Millisecond)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return &check.Result{Check: name, Status: check.OK, Summary: "ok"}, nil
			}})
	}
	h := &system.Host{Root: "/"}
	b.ReportAllocs()
	for b.Loop() {
		out := Run(context.Background(), h, checks, Options{Timeout: time.Second})
		if Worst(out) != check.OK {
			b.Fatal("a check failed")
		}
	}
}
