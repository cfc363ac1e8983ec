package mx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/dnstest"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func startDNS(t testing.TB) *dnstest.Server {
	t.Helper()
	zone, err := os.ReadFile("testdata/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	s, err := dnstest.Start(string(zone))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func testResolver(t testing.TB, addr string) *Resolver {
	t.Helper()
	h, err := system.NewHost(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(h, Config{Resolvers: []string{addr}, Timeout: 200 * time.Millisecond, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mxString(l *Lookup) string {
	var b []string
	for _, m := range l.MX {
		s := m.Host
		for _, a := range m.Addrs {
			s += " " + a.String()
		}
		if len(m.CNAME) > 0 {
			s += " cname=" + strings.Join(m.CNAME, ">")
		}
		b = append(b, s)
	}
	return strings.Join(b, "; ")
}

func TestLookupMX(t *testing.T) {
	s := startDNS(t)
	r := testResolver(t, s.Addr)
	ctx := context.Background()
	tests := []struct {
		domain, mx string
		lowest     int
		implicit   bool
		null, nx   bool
	}{
		{domain: "here.example", mx: "mail.here.example 127.0.0.1", lowest: 1},
		{domain: "away.example", mx: "mx.away.example 192.0.2.10; mail.here.example 127.0.0.1", lowest: 1},
		{domain: "alias.example", mx: "mx-alias.alias.example 127.0.0.1 cname=mail.here.example", lowest: 1},
		{domain: "nomx.example", mx: "nomx.example 127.0.0.1", lowest: 1, implicit: true},
		{domain: "null.example", null: true},
		{domain: "equal.example", mx: "mail.here.example 127.0.0.1; mx.away.example 192.0.2.10; mx2.away.example 192.0.2.11", lowest: 2},
		{domain: "v6.example", mx: "mx6.v6.example ::1", lowest: 1},
		{domain: "big.example", mx: "mail.here.example 127.0.0.1", lowest: 1},
		{domain: "txtonly.example", implicit: true},
		{domain: "missing.example", nx: true},
	}
	for _, tt := range tests {
		l := r.LookupMX(ctx, tt.domain)
		if l.Err != nil {
			t.Errorf("%s: %v", tt.domain, l.Err)
			continue
		}
		if got := mxString(l); got != tt.mx {
			t.Errorf("%s: MX %q, want %q", tt.domain, got, tt.mx)
		}
		if len(l.Lowest()) != tt.lowest || l.Implicit != tt.implicit && len(l.MX) > 0 || l.NullMX != tt.null || l.NXDomain != tt.nx {
			t.Errorf("%s: lowest %d implicit %v null %v nx %v", tt.domain, len(l.Lowest()), l.Implicit, l.NullMX, l.NXDomain)
		}
	}
	if s.TCPQueries.Load() == 0 {
		t.Errorf("truncated answer for big.example was not asked again over TCP")
	}
}

func TestLookupMXFailures(t *testing.T) {
	s := startDNS(t)
	r := testResolver(t, s.Addr)
	ctx := context.Background()
	var de *DNSError
	l := r.LookupMX(ctx, "broken.example")
	if !errors.As(l.Err, &de) || !strings.Contains(l.Err.Error(), "SERVFAIL") {
		t.Errorf("broken.example: %v, want SERVFAIL", l.Err)
	}
	start := time.Now()
	l = r.LookupMX(ctx, "slow.example")
	if !errors.As(l.Err, &de) || !strings.Contains(l.Err.Error(), "timed out") {
		t.Errorf("slow.example: %v, want a timeout", l.Err)
	}
	// one try and one retry of 200 ms each
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("slow.example failed after %v: retries not made", d)
	}
}

func TestResolverServers(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte("# test\nsearch example\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n"), 0o644)
	h, _ := system.NewHost(root, nil)
	got, err := resolverServers(h, nil)
	if err != nil || strings.Join(got, " ") != "127.0.0.53:53 [::1]:53" {
		t.Fatalf("resolv.conf: %v %v", got, err)
	}
	got, err = resolverServers(h, []string{"127.0.0.1:5353", "::1", "192.0.2.1"})
	if err != nil || strings.Join(got, " ") != "127.0.0.1:5353 [::1]:53 192.0.2.1:53" {
		t.Fatalf("configured: %v %v", got, err)
	}
	if _, err := resolverServers(h, []string{"bad/addr"}); err == nil {
		t.Fatal("bad resolver accepted")
	}
	os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte("search example\n"), 0o644)
	if _, err := resolverServers(h, nil); err == nil || !strings.Contains(err.Error(), "no nameserver") {
		t.Fatalf("empty resolv.conf: %v", err)
	}
}

func TestLookupAllOrder(t *testing.T) {
	s := startDNS(t)
	r := testResolver(t, s.Addr)
	ds := []string{"here.example", "away.example", "null.example", "v6.example", "missing.example"}
	ls := r.LookupAll(context.Background(), ds, 3)
	for i, l := range ls {
		if l.Domain != ds[i] {
			t.Fatalf("result %d is %s, want %s", i, l.Domain, ds[i])
		}
	}
}

// A resolver is an IP address with an optional port 1-65535. A host name was looked up
// through the system's own resolver (DNS traffic to a server nobody named), and a bad port
// (0, 99999, 53x) was accepted and failed per domain as "DNS lookup failed" with Go's
// dial errors; both are bad input now, refused before any lookup.
func TestResolverServersRefuseBadAddresses(t *testing.T) {
	h, _ := system.NewHost(t.TempDir(), nil)
	for _, s := range []string{"nohost:53", "nohost", "127.0.0.1:0", "127.0.0.1:99999", "[::1]:53x", "127.0.0.1:", ":53", "1.2.3:53"} {
		_, err := resolverServers(h, []string{s})
		if err == nil || !usage.Is(err) {
			t.Errorf("resolverServers(%q): %v, want a usage error", s, err)
		}
	}
	got, err := resolverServers(h, []string{"127.0.0.1:5353,[::1]:53", "::1", "192.0.2.1"})
	if err != nil || strings.Join(got, " ") != "127.0.0.1:5353 [::1]:53 [::1]:53 192.0.2.1:53" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// No DNS server on the port: the error says so in words, without Go's socket dump
// ("read udp 127.0.0.1:48984->127.0.0.1:53: read: connection refused").
func TestLookupMXConnectionRefused(t *testing.T) {
	s := startDNS(t)
	addr := s.Addr
	s.Close()
	l := testResolver(t, addr).LookupMX(context.Background(), "here.example")
	if l.Err == nil {
		t.Fatal("no error from a closed port")
	}
	msg := l.Err.Error()
	if strings.Contains(msg, "read udp") || strings.Contains(msg, "->") || !strings.Contains(msg, addr+": connection refused: no DNS server answers there") {
		t.Fatalf("error %q", msg)
	}
}
