package mx

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/dnstest"
	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
)

// benchDomains is the number of domains one benchmark op checks: MX_BENCH_N, default
// 1,000 (scripts/bench-mx.sh times 10,000 through the CLI).
func benchDomains(b *testing.B) int {
	n := 1000
	if s := os.Getenv("MX_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// BenchmarkCheck resolves N synthetic domains, each with an MX host of its own (MX, A and
// AAAA: three queries a domain), against the loopback test server, and judges them
// against a cPanel tree listing all of them.
func BenchmarkCheck(b *testing.B) {
	n := benchDomains(b)
	s, err := dnstest.Start("$SYNTH bench.example *\n")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	root := b.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	var list strings.Builder
	domains := make([]Domain, n)
	for i := range domains {
		name := fmt.Sprintf("d%d.bench.example", i)
		domains[i] = Domain{Name: name, Input: name, Source: "bench"}
		list.WriteString(name + "\n")
	}
	os.WriteFile(filepath.Join(root, "etc/localdomains"), []byte(list.String()), 0o644)
	h, _ := system.NewHost(root, nil)
	cfg := DefaultConfig()
	cfg.Resolvers = []string{s.Addr}
	cfg.Timeout = 2 * time.Second
	if v := os.Getenv("MX_BENCH_PARALLEL"); v != "" {
		cfg.Parallel, _ = strconv.Atoi(v)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := Check(context.Background(), h, CheckOptions{Config: cfg, Domains: domains})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Status != check.OK {
			b.Fatalf("status %s: %s", rep.Status.Upper(), rep.Combined().Summary)
		}
	}
	b.ReportMetric(float64(n), "domains/op")
}

func BenchmarkNormalizeDomain(b *testing.B) {
	for b.Loop() {
		NormalizeDomain("Mail.Bücher-Shop.Example.")
	}
}

func BenchmarkParsePostfixConf(b *testing.B) {
	data := []byte(debianMainCf)
	for b.Loop() {
		pc := ParsePostfixConf(data)
		pc.Expand("$mydestination")
	}
}
