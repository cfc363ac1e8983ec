package exim

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/eximgen"
)

// benchLog is a generated main log; HOSTFIX_BENCH_EXIM_BYTES sizes it (default 32 MB).
func benchLog(tb testing.TB, size int64) ([]byte, eximgen.Counts) {
	if s := os.Getenv("HOSTFIX_BENCH_EXIM_BYTES"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			tb.Fatal(err)
		}
		size = n
	}
	var buf bytes.Buffer
	c, err := eximgen.Write(&buf, eximgen.Options{Bytes: size, FailureRate: 0.10, ServiceRate: 0.02, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), c
}

func TestScanGenerated(t *testing.T) {
	data, c := benchLog(t, 4<<20)
	tl := NewTally(time.Time{}, time.UTC)
	if err := tl.Scan(context.Background(), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if tl.Failures != c.Failures || tl.ServiceAuth != c.ServiceAuth || tl.Account != c.Account || tl.Logins != c.Logins {
		t.Fatalf("scan: %d failures (%d service, %d account), %d logins; generated %+v", tl.Failures, tl.ServiceAuth, tl.Account, tl.Logins, c)
	}
	if tl.Bytes != int64(len(data)) {
		t.Fatalf("read %d bytes of %d", tl.Bytes, len(data))
	}
	// the same through a reader that returns a few bytes at a time (lines split anywhere)
	tl2 := NewTally(time.Time{}, time.UTC)
	if err := tl2.Scan(context.Background(), &smallReader{data: data[:200000]}); err != nil {
		t.Fatal(err)
	}
	tl3 := NewTally(time.Time{}, time.UTC)
	tl3.chunk(data[:200000])
	if tl2.Failures != tl3.Failures || tl2.Logins != tl3.Logins || tl2.Failures == 0 {
		t.Fatalf("small reads: %d/%d, whole: %d/%d", tl2.Failures, tl2.Logins, tl3.Failures, tl3.Logins)
	}
}

type smallReader struct {
	data []byte
	n    int
}

func (r *smallReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.n = r.n%97 + 1
	k := min(r.n, len(p), len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func BenchmarkScan(b *testing.B) {
	data, _ := benchLog(b, 32<<20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tl := NewTally(time.Time{}, time.UTC)
		if err := tl.Scan(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
