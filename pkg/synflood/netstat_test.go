package synflood

import (
	"strings"
	"testing"
)

func TestParseNetstatCapture(t *testing.T) {
	for _, name := range []string{"netns-cookies-off/proc_net_netstat", "host-idle/proc_net_netstat", "netns-cookies-off/proc_net_snmp"} {
		m, err := ParseNetstat(readTestdata(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.HasSuffix(name, "snmp") {
			if _, ok := m["Tcp"]["ActiveOpens"]; !ok {
				t.Errorf("%s: no Tcp ActiveOpens", name)
			}
			continue
		}
		for _, n := range CounterNames {
			if _, ok := m["TcpExt"][n]; !ok {
				t.Errorf("%s: TcpExt %s missing", name, n)
			}
		}
	}
	// The capture was taken during a flood on a listener with cookies off.
	m, _ := ParseNetstat(readTestdata(t, "netns-cookies-off/proc_net_netstat"))
	if m["TcpExt"]["TCPReqQFullDrop"] == 0 || m["TcpExt"]["ListenDrops"] == 0 {
		t.Errorf("TCPReqQFullDrop %d ListenDrops %d, want both > 0", m["TcpExt"]["TCPReqQFullDrop"], m["TcpExt"]["ListenDrops"])
	}
}

func TestParseNetstatOrderIndependent(t *testing.T) {
	a := "TcpExt: SyncookiesSent ListenDrops\nTcpExt: 5 7\n"
	b := "TcpExt: ListenDrops SyncookiesSent\nTcpExt: 7 5\nIpExt: InNoRoutes\nIpExt: 0\n"
	ma, err1 := ParseNetstat([]byte(a))
	mb, err2 := ParseNetstat([]byte(b))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if ma["TcpExt"]["ListenDrops"] != 7 || mb["TcpExt"]["ListenDrops"] != 7 || mb["TcpExt"]["SyncookiesSent"] != 5 {
		t.Errorf("got %v and %v", ma, mb)
	}
	m, err := ParseNetstat([]byte("Tcp: MaxConn\nTcp: -1\n"))
	if err != nil || m["Tcp"]["MaxConn"] != ^uint64(0) {
		t.Errorf("signed value: %v %v", m, err)
	}
}

func TestParseNetstatErrors(t *testing.T) {
	for _, bad := range []string{
		"TcpExt: A B\nTcpExt: 1\n",
		"TcpExt: A B\n",
		"TcpExt: A\nIpExt: 1\n",
		"TcpExt: A\nTcpExt: x\n",
		"no colon here\n",
		"TcpExt:\nTcpExt:\n",
	} {
		if _, err := ParseNetstat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseNetstat(f *testing.F) {
	f.Add(readTestdata(f, "netns-cookies-off/proc_net_netstat"))
	f.Add(readTestdata(f, "netns-cookies-off/proc_net_snmp"))
	f.Add([]byte("TcpExt: A B\nTcpExt: 1 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseNetstat(data)
		if err != nil {
			return
		}
		for prefix, vals := range m {
			if prefix == "" || len(vals) == 0 {
				t.Fatalf("empty prefix or section: %q %v", prefix, vals)
			}
		}
	})
}
