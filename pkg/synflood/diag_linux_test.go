package synflood

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

// diagMsg builds a struct inet_diag_msg as the kernel sends it: ports and addresses in
// network order, the rest in host order.
func diagMsg(family, state, retrans uint8, sport, dport uint16, src, dst []byte, rq, wq, inode uint32) []byte {
	m := make([]byte, inetDiagMsgLen)
	m[0], m[1], m[3] = family, state, retrans
	binary.BigEndian.PutUint16(m[4:], sport)
	binary.BigEndian.PutUint16(m[6:], dport)
	copy(m[8:24], src)
	copy(m[24:40], dst)
	ne := binary.NativeEndian
	ne.PutUint32(m[56:], rq)
	ne.PutUint32(m[60:], wq)
	ne.PutUint32(m[68:], inode)
	return m
}

func TestDecodeDiagMsg(t *testing.T) {
	v6a := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	v6b := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	tests := []struct {
		name          string
		msg           []byte
		local, remote string
		state         uint8
		rx, tx, retr  uint32
		capKnown      bool
	}{
		{"v4 listener: Recv-Q accept queue, Send-Q backlog", diagMsg(unix.AF_INET, StateListen, 0, 443, 0, []byte{10, 0, 0, 1}, nil, 3, 511, 99),
			"10.0.0.1:443", "0.0.0.0:0", StateListen, 3, 511, 0, true},
		{"v4 request socket", diagMsg(unix.AF_INET, StateSynRecv, 4, 8080, 51000, []byte{127, 0, 0, 1}, []byte{192, 0, 2, 7}, 0, 0, 0),
			"127.0.0.1:8080", "192.0.2.7:51000", StateSynRecv, 0, 0, 4, false},
		{"v6 request socket", diagMsg(unix.AF_INET6, StateSynRecv, 1, 80, 40000, v6a, v6b, 0, 0, 0),
			"[2001:db8::1]:80", "[2001:db8::2]:40000", StateSynRecv, 0, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Socket
			decodeDiagMsg(tt.msg, &s)
			if s.Local.String() != tt.local || s.Remote.String() != tt.remote || s.State != tt.state ||
				s.RxQueue != tt.rx || s.TxQueue != tt.tx || s.Retrans != tt.retr || s.CapKnown != tt.capKnown {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestSynQueueCap(t *testing.T) {
	tests := []struct {
		backlog       int
		known         bool
		somax, maxSyn int
		cookies       int
		want          int
	}{
		{511, true, 4096, 2048, 1, 511},   // cookies on: the listen backlog
		{511, true, 4096, 128, 1, 511},    // tcp_max_syn_backlog does not matter with cookies
		{4096, true, 4096, 1024, 0, 768},  // cookies off: 3/4 of tcp_max_syn_backlog
		{8, true, 4096, 2048, 0, 8},       // cookies off, small backlog
		{0, false, 4096, 2048, 1, 4096},   // /proc: somaxconn as the upper bound
		{0, false, 4096, 1024, 0, 768},    // /proc, cookies off
		{4096, true, 4096, 8192, 2, 4096}, // cookies always
	}
	for _, tt := range tests {
		if got, _ := SynQueueCap(tt.backlog, tt.known, tt.somax, tt.maxSyn, tt.cookies); got != tt.want {
			t.Errorf("SynQueueCap(%+v) = %d, want %d", tt, got, tt.want)
		}
	}
}
