package mailq

import (
	"context"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
)

// The 100k benchmarks generate their queue (small bodies: only envelopes and stat()s are
// read) in b.TempDir(), which takes a while once per benchmark. scripts/bench-mailq.sh
// times the whole CLI against the reference commands.

func benchQueue(b *testing.B, n int) *Queue {
	b.Helper()
	root := b.TempDir()
	if _, err := qmailgen.Generate(root+qdir, qmailgen.Options{Messages: n, Seed: 1, NoBodies: true}); err != nil {
		b.Fatal(err)
	}
	q, err := Open(hostAt(b, root), qdir)
	if err != nil {
		b.Fatal(err)
	}
	return q
}

func BenchmarkScan100k(b *testing.B) {
	q := benchQueue(b, 100000)
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := q.Scan(context.Background(), ScanOptions{Envelope: true}, func(*Message) error { n++; return nil }); err != nil || n != 100000 {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkStats100k(b *testing.B) {
	q := benchQueue(b, 100000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := CollectStats(context.Background(), q, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanPurgeSender100k(b *testing.B) {
	q := benchQueue(b, 100000)
	f, _ := FilterSpec{Sender: `^spam@victim\.example$`}.Compile()
	b.ResetTimer()
	for b.Loop() {
		p, sel, err := PlanPurge(context.Background(), q.host, PurgeOptions{Config: testConfig(), Filter: f})
		if err != nil || p.Empty() || sel.Count == 0 {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTodo(b *testing.B) {
	in := []byte("u1001\x00p4242\x00Fuser@example.com\x00Ta@x.org\x00Tb@y.org\x00")
	for b.Loop() {
		if _, err := ParseTodo(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRecipients(b *testing.B) {
	in := []byte("Da@x.org\x00Tb@y.org\x00Dc@z.org\x00Td@w.org\x00")
	for b.Loop() {
		if _, err := ParseRecipients(in, "remote"); err != nil {
			b.Fatal(err)
		}
	}
}
