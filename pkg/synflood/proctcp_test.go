package synflood

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/synflood/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseAll(t testing.TB, data []byte, order binary.ByteOrder) []Socket {
	t.Helper()
	var out []Socket
	if err := ParseProcNetTCP(bytes.NewReader(data), order, func(s *Socket) error { out = append(out, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// ssStates counts the states and local:peer pairs of `ss -tan` output, the ground truth
// taken at the same moment as the /proc capture.
func ssStates(t *testing.T, data []byte) (map[string]int, map[string]bool) {
	states, pairs := map[string]int{}, map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		states[f[0]]++
		pairs[f[0]+" "+f[3]+" "+f[4]] = true
	}
	return states, pairs
}

var ssName = map[uint8]string{1: "ESTAB", 2: "SYN-SENT", 3: "SYN-RECV", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2", 6: "TIME-WAIT", 7: "UNCONN", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING"}

func ssAddr(ap netip.AddrPort, listen bool) string {
	a := ap.Addr()
	switch {
	case listen && a.IsUnspecified() && a.Is6():
		return fmt.Sprintf("*:%d", ap.Port())
	case listen && a.IsUnspecified() && ap.Port() == 0:
		return "0.0.0.0:*"
	case a.Is4In6():
		return fmt.Sprintf("[%s]:%d", a, ap.Port())
	case a.Is6():
		return fmt.Sprintf("[%s]:%d", a, ap.Port())
	}
	return ap.String()
}

func TestParseProcNetTCPCapture(t *testing.T) {
	dir := "netns-cookies-off/"
	wantStates, wantPairs := ssStates(t, readTestdata(t, dir+"ss_tan.txt"))
	got := map[string]int{}
	for _, f := range []string{"proc_net_tcp", "proc_net_tcp6"} {
		for _, s := range parseAll(t, readTestdata(t, dir+f), nil) {
			name := ssName[s.State]
			got[name]++
			if s.State == StateListen {
				continue
			}
			key := name + " " + ssAddr(s.Local, false) + " " + ssAddr(s.Remote, false)
			if !wantPairs[key] {
				t.Errorf("%s: %q not in ss output", f, key)
			}
			if s.State == StateSynRecv && (s.Inode != 0 || s.Retrans == 0) {
				t.Errorf("%s: request socket %v: inode %d retrans %d, want 0 and > 0", f, s.Local, s.Inode, s.Retrans)
			}
		}
	}
	for st, n := range wantStates {
		if got[st] != n {
			t.Errorf("%s: parsed %d, ss shows %d", st, got[st], n)
		}
	}
}

func TestParseProcNetTCPRows(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name   string
		order  binary.ByteOrder
		line   string
		local  string
		remote string
		state  uint8
		tx, rx uint32
		retr   uint32
		inode  uint64
	}{
		{"v4 listener with accept queue", le, "   0: 00000000:0050 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 49201 4 00000000cd8ce765 100 0 0 10 0",
			"0.0.0.0:80", "0.0.0.0:0", StateListen, 0, 3, 0, 49201},
		{"v4 request socket", le, "   5: 0100007F:1F90 0100007F:BB26 03 00000000:00000000 01:00000034 00000001     0        0 0 0 00000000491b7770",
			"127.0.0.1:8080", "127.0.0.1:47910", StateSynRecv, 0, 0, 1, 0},
		{"v4 big-endian host", be, "   5: 7F000001:1F90 C0A80102:BB26 03 00000000:00000000 01:00000034 00000002     0        0 0 0 00000000491b7770",
			"127.0.0.1:8080", "192.168.1.2:47910", StateSynRecv, 0, 0, 2, 0},
		{"v6 loopback word order", le, "   0: 00000000000000000000000001000000:20FB 00000000000000000000000001000000:CC20 03 00000000:00000000 01:00000034 00000001     0        0 0 0 0000000000000000",
			"[::1]:8443", "[::1]:52256", StateSynRecv, 0, 0, 1, 0},
		{"v6 global, each word swapped", le, "   1: B80D0120000000000000000001000000:0050 B80D0120000000000000000002000000:D431 01 00000010:00000020 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1",
			"[2001:db8::1]:80", "[2001:db8::2]:54321", StateEstablished, 16, 32, 0, 777},
		{"v6 big-endian host", be, "   1: 20010DB8000000000000000000000001:0050 20010DB8000000000000000000000002:D431 01 00000010:00000020 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1",
			"[2001:db8::1]:80", "[2001:db8::2]:54321", StateEstablished, 16, 32, 0, 777},
		{"v4-mapped", le, "   1: 0000000000000000FFFF00000100007F:20FB 0000000000000000FFFF00000100007F:CC20 03 00000000:00000000 01:00000034 00000001     0        0 0 0 00000000883ad453",
			"[::ffff:127.0.0.1]:8443", "[::ffff:127.0.0.1]:52256", StateSynRecv, 0, 0, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAll(t, []byte(tt.line+"\n"), tt.order)
			if len(got) != 1 {
				t.Fatalf("got %d sockets, want 1", len(got))
			}
			s := got[0]
			if s.Local.String() != tt.local || s.Remote.String() != tt.remote {
				t.Errorf("addresses %v %v, want %s %s", s.Local, s.Remote, tt.local, tt.remote)
			}
			if s.State != tt.state || s.TxQueue != tt.tx || s.RxQueue != tt.rx || s.Retrans != tt.retr || s.Inode != tt.inode {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestParseProcNetTCPErrors(t *testing.T) {
	hdr := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	for _, bad := range []string{
		"   0: 0100007F:1F90\n",
		"   0: 0100007X:1F90 0100007F:BB26 03 00000000:00000000 01:00000034 00000001     0        0 0 0\n",
		"   0: 0100007F:1F90 0100007F:BB26 3 00000000:00000000 01:00000034 00000001     0        0 0 0\n",
		"   0: 0100007F:1F90 0100007F:BB26 03 0000000000000000 01:00000034 00000001     0        0 0 0\n",
		"   0: 0100007F:1F90 0100007F:BB26 03 00000000:00000000 01:00000034 00000001     0        0 x 0\n",
		"garbage line\n",
	} {
		err := ParseProcNetTCP(strings.NewReader(hdr+bad), nil, func(*Socket) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: err = %v, want an error naming line 2", bad, err)
		}
	}
	// No trailing newline, CRLF and an empty file are fine.
	n := 0
	err := ParseProcNetTCP(strings.NewReader(hdr+"   5: 0100007F:1F90 0100007F:BB26 03 00000000:00000000 01:00000034 00000001     0        0 0 0\r"), nil, func(*Socket) error { n++; return nil })
	if err != nil || n != 1 {
		t.Errorf("unterminated last line: n=%d err=%v", n, err)
	}
	if err := ParseProcNetTCP(strings.NewReader(""), nil, func(*Socket) error { return nil }); err != nil {
		t.Errorf("empty: %v", err)
	}
}

func FuzzParseProcNetTCP(f *testing.F) {
	for _, name := range []string{"netns-cookies-off/proc_net_tcp", "netns-cookies-off/proc_net_tcp6", "host-idle/proc_net_tcp"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte("   0: 00000000000000000000000001000000:20FB 00000000000000000000000001000000:CC20 03 00000000:00000000 01:00000034 00000001     0        0 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var first []Socket
		err := ParseProcNetTCP(bytes.NewReader(data), nil, func(s *Socket) error { first = append(first, *s); return nil })
		if err != nil {
			return
		}
		// Parsing must not depend on how the reader splits the input.
		var second []Socket
		if err := ParseProcNetTCP(&oneByteReader{data: data}, nil, func(s *Socket) error { second = append(second, *s); return nil }); err != nil {
			t.Fatalf("byte-wise read failed where a whole read worked: %v", err)
		}
		if len(first) != len(second) {
			t.Fatalf("%d vs %d sockets", len(first), len(second))
		}
		for i := range first {
			if first[i] != second[i] {
				t.Fatalf("socket %d differs: %+v vs %+v", i, first[i], second[i])
			}
			if a := first[i].Local.Addr(); !a.IsValid() {
				t.Fatalf("invalid address accepted")
			}
		}
	})
}

type oneByteReader struct {
	data []byte
}

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// benchLines builds n /proc/net/tcp lines: mostly request sockets from many sources.
func benchLines(n int) []byte {
	var b bytes.Buffer
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%6d: 0100007F:%04X %08X:%04X 03 00000000:00000000 01:00000034 00000001     0        0 0 0 0000000000000000\n",
			i, 8000+i%4, 0x0000007F|uint32(i&0xffffff)<<8, 1024+i%60000)
	}
	return b.Bytes()
}

func BenchmarkParseProcNetTCP(b *testing.B) {
	const lines = 1_000_000
	data := benchLines(lines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ParseProcNetTCP(bytes.NewReader(data), nil, func(s *Socket) error { n++; return nil }); err != nil || n != lines {
			b.Fatalf("n=%d err=%v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/lines, "ns/line")
}
