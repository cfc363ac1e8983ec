package synflood

import (
	"testing"
	"time"
)

func TestParseKernelLog(t *testing.T) {
	boot := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	log := `[1116377.589736] possible SYN flooding on port 80. Sending cookies.
Nov 28 07:00:01 web1 kernel: [ 1234.500000] TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.  Check SNMP counters.
2026-11-28T07:05:00+00:00 web1 kernel: TCP: request_sock_TCP: Possible SYN flooding on port 0.0.0.0:9001. Dropping request.  Check SNMP counters.
[   12.000001] TCPv6: request_sock_TCPv6: Possible SYN flooding on port [::]:443. Sending cookies.  Check SNMP counters.
6,2301,5000000,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:8080. Dropping request.  Check SNMP counters.
[   13.0] eth0: link up
Possible SYN flooding on port 80 but not our format
`
	got := ParseKernelLog([]byte(log), boot, 2026)
	want := []struct {
		listener, action string
		port             int
		time             time.Time
		since            time.Duration
	}{
		{"80", "cookies", 80, boot.Add(1116377589736 * time.Microsecond), 1116377589736 * time.Microsecond},
		{"8080", "cookies", 8080, time.Date(2026, 11, 28, 7, 0, 1, 0, time.Local), 1234500 * time.Millisecond},
		{"0.0.0.0:9001", "drop", 9001, time.Date(2026, 11, 28, 7, 5, 0, 0, time.UTC), 0},
		{"[::]:443", "cookies", 443, boot.Add(12000001 * time.Microsecond), 12000001 * time.Microsecond},
		{"127.0.0.1:8080", "drop", 8080, boot.Add(5 * time.Second), 5 * time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Listener != w.listener || g.Action != w.action || g.Port() != w.port || !g.Time.Equal(w.time) || g.SinceBoot != w.since {
			t.Errorf("%d: got %+v (port %d), want %+v", i, g, g.Port(), w)
		}
	}
}

func FuzzParseKernelLog(f *testing.F) {
	f.Add([]byte("[1116377.589736] possible SYN flooding on port 80. Sending cookies.\n"))
	f.Add([]byte("6,2301,5000000,-;TCP: request_sock_TCP: Possible SYN flooding on port [::]:8080. Dropping request.  Check SNMP counters.\n"))
	f.Add([]byte("Nov 28 07:00:01 web1 kernel: [ 1234.5] TCP: request_sock_TCP: Possible SYN flooding on port 8080. Sending cookies.\n"))
	f.Add([]byte("2026-11-28T07:05:00.123+0100 h kernel: Possible SYN flooding on port 1.2.3.4:1. Dropping request.\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range ParseKernelLog(data, time.Unix(0, 0), 2026) {
			if m.Listener == "" || (m.Action != "cookies" && m.Action != "drop") {
				t.Fatalf("bad message %+v", m)
			}
			if p := m.Port(); p < 0 || p > 65535 {
				t.Fatalf("port %d", p)
			}
		}
	})
}
