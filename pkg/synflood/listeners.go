package synflood

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"

	"github.com/hostfix/hostfix/pkg/system"
)

// Listener is one listening address:port with the state of its queues. Sockets sharing an
// address and port (SO_REUSEPORT) are summed: a request socket does not say which of them
// owns it.
type Listener struct {
	Address netip.Addr `json:"address"`
	Port    uint16     `json:"port"`
	// Sockets is the number of listening sockets on this address:port (SO_REUSEPORT).
	Sockets int `json:"sockets"`
	// SynRecv is the number of half-open connections (request sockets) of this listener.
	SynRecv int `json:"syn_recv"`
	// SynQueueCap is where the kernel stops queueing new SYNs (see SynQueueCap).
	SynQueueCap       int    `json:"syn_queue_cap"`
	SynQueueCapSource string `json:"syn_queue_cap_source"`
	// SynQueuePercent is SynRecv / SynQueueCap.
	SynQueuePercent float64 `json:"syn_queue_percent"`
	// AcceptQueue is the number of established connections not yet accept()ed;
	// AcceptQueueCap is the listener's backlog (min(listen() backlog, somaxconn)), 0 when
	// unknown (/proc/net/tcp does not show it).
	AcceptQueue    int  `json:"accept_queue"`
	AcceptQueueCap int  `json:"accept_queue_cap"`
	CapKnown       bool `json:"accept_queue_cap_known"`
	// SynAckRetrans is the sum of SYN-ACK retransmits over its SYN_RECV sockets;
	// Retransmitted counts those with at least one (peers that never answer: typical of
	// spoofed sources).
	SynAckRetrans int `json:"synack_retransmits"`
	Retransmitted int `json:"syn_recv_retransmitted"`
	// Orphan: SYN_RECV sockets whose listener was not found (closed meanwhile).
	Orphan bool `json:"orphan,omitempty"`
}

// Name is address:port as ss prints it.
func (l *Listener) Name() string {
	if !l.Address.IsValid() {
		return fmt.Sprintf("*:%d", l.Port)
	}
	return netip.AddrPortFrom(l.Address, l.Port).String()
}

// SourceCount is a remote address or network and its number of SYN_RECV sockets.
type SourceCount struct {
	Source string `json:"source"`
	Count  int    `json:"count"`
}

// Sockets is what the socket scan found.
type Sockets struct {
	// Method is "netlink" (sock_diag) or "proc" (/proc/net/tcp{,6}).
	Method       string
	Listeners    []*Listener
	SynRecvTotal int
	// Sources4 holds the remote address of every IPv4 (and v4-mapped) SYN_RECV socket as
	// a big-endian uint32: appending to a slice and sorting once is cheaper in time and
	// memory than a map with 100,000 keys. Sources6 counts IPv6 sources.
	Sources4 []uint32
	Sources6 map[netip.Addr]int32
	// Fallback says why netlink was not used when it was wanted.
	Fallback string
}

type recvAgg struct {
	count, retrans, retransmitted int
}

// collector accumulates sockets from either source.
type collector struct {
	ports     map[uint16]bool
	listeners map[netip.AddrPort]*Listener
	synrecv   map[netip.AddrPort]*recvAgg
	sources4  []uint32
	sources6  map[netip.Addr]int32
	total     int
	// last caches the aggregate of the previous request socket: a dump returns many in a
	// row for the same listener address, so most lookups are skipped.
	lastKey netip.AddrPort
	last    *recvAgg
}

func newCollector(ports []int) *collector {
	c := &collector{listeners: map[netip.AddrPort]*Listener{}, synrecv: map[netip.AddrPort]*recvAgg{},
		sources6: map[netip.Addr]int32{}}
	if len(ports) > 0 {
		c.ports = map[uint16]bool{}
		for _, p := range ports {
			c.ports[uint16(p)] = true
		}
	}
	return c
}

func (c *collector) add(s *Socket) error {
	if c.ports != nil && !c.ports[s.Local.Port()] {
		return nil
	}
	switch s.State {
	case StateListen:
		l := c.listeners[s.Local]
		if l == nil {
			l = &Listener{Address: s.Local.Addr(), Port: s.Local.Port(), CapKnown: s.CapKnown}
			c.listeners[s.Local] = l
		}
		l.Sockets++
		l.AcceptQueue += int(s.RxQueue)
		if s.CapKnown {
			l.AcceptQueueCap += int(s.TxQueue)
		}
	case StateSynRecv, StateNewSynRecv:
		a := c.last
		if a == nil || s.Local != c.lastKey {
			a = c.synrecv[s.Local]
			if a == nil {
				a = &recvAgg{}
				c.synrecv[s.Local] = a
			}
			c.last, c.lastKey = a, s.Local
		}
		a.count++
		a.retrans += int(s.Retrans)
		if s.Retrans > 0 {
			a.retransmitted++
		}
		if r := s.Remote.Addr().Unmap(); r.Is4() {
			b := r.As4()
			c.sources4 = append(c.sources4, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
		} else {
			c.sources6[r]++
		}
		c.total++
	}
	return nil
}

// finish matches request sockets to listeners: the exact address first, then a wildcard
// listener of the same family, then any wildcard on the port ([::] also takes IPv4).
func (c *collector) finish(method string) *Sockets {
	out := &Sockets{Method: method, SynRecvTotal: c.total, Sources4: c.sources4, Sources6: c.sources6}
	for _, l := range c.listeners {
		out.Listeners = append(out.Listeners, l)
	}
	find := func(ap netip.AddrPort) *Listener {
		if l := c.listeners[ap]; l != nil {
			return l
		}
		a := ap.Addr()
		if a.Is4In6() {
			if l := c.listeners[netip.AddrPortFrom(a.Unmap(), ap.Port())]; l != nil {
				return l
			}
		}
		if a.Is4() || a.Is4In6() {
			if l := c.listeners[netip.AddrPortFrom(netip.IPv4Unspecified(), ap.Port())]; l != nil {
				return l
			}
		}
		return c.listeners[netip.AddrPortFrom(netip.IPv6Unspecified(), ap.Port())]
	}
	orphans := map[uint16]*Listener{}
	for ap, a := range c.synrecv {
		l := find(ap)
		if l == nil {
			l = orphans[ap.Port()]
			if l == nil {
				l = &Listener{Port: ap.Port(), Orphan: true}
				orphans[ap.Port()] = l
				out.Listeners = append(out.Listeners, l)
			}
		}
		l.SynRecv += a.count
		l.SynAckRetrans += a.retrans
		l.Retransmitted += a.retransmitted
	}
	sort.Slice(out.Listeners, func(i, j int) bool {
		a, b := out.Listeners[i], out.Listeners[j]
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Address.Less(b.Address)
	})
	return out
}

// ScanOptions say how to list sockets.
type ScanOptions struct {
	Ports []int
	// Method: "auto" (netlink on a live host, else /proc), "netlink" or "proc".
	Method string
	// Order is the byte order of the host that wrote /proc/net/tcp (nil = native).
	Order binary.ByteOrder
}

// ScanSockets lists LISTEN and SYN_RECV sockets. On a live host it asks the kernel through
// sock_diag, which filters by state in the kernel; under --root, or when netlink is not
// available, it parses /proc/net/tcp and /proc/net/tcp6 under the root.
func ScanSockets(ctx context.Context, h *system.Host, o ScanOptions) (*Sockets, error) {
	method := o.Method
	if method == "" || method == "auto" {
		method = "proc"
		if h.Live() {
			method = "netlink"
		}
	}
	if method == "netlink" && !h.Live() {
		return nil, fmt.Errorf("sockets: netlink needs the live host, not --root %s", h.Root)
	}
	var fallback string
	if method == "netlink" {
		c, err := dumpBoth(h, o.Ports)
		if err == nil {
			return c.finish("netlink"), nil
		}
		if o.Method == "netlink" {
			return nil, err
		}
		fallback = err.Error()
	}
	c := newCollector(o.Ports)
	read := 0
	for _, p := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := h.Open(p)
		if err != nil {
			if system.IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("sockets: %w", err)
		}
		err = ParseProcNetTCP(f, o.Order, c.add)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("sockets: parse %s: %w", p, err)
		}
		read++
	}
	if read == 0 {
		return nil, fmt.Errorf("sockets: neither /proc/net/tcp nor /proc/net/tcp6 exists under %s", h.Root)
	}
	s := c.finish("proc")
	s.Fallback = fallback
	return s, nil
}

// merge adds another family's sockets (keys never collide across families).
func (c *collector) merge(o *collector) {
	for k, l := range o.listeners {
		c.listeners[k] = l
	}
	for k, a := range o.synrecv {
		c.synrecv[k] = a
	}
	c.sources4 = append(c.sources4, o.sources4...)
	for k, n := range o.sources6 {
		c.sources6[k] += n
	}
	c.total += o.total
}

// TopSources returns the n busiest remote addresses and networks (/24 for IPv4, /64 for
// IPv6). Only the winners are turned into strings: with 100,000 sources, formatting and
// sorting them all would cost more than listing the sockets.
func (s *Sockets) TopSources(n int) (addrs, nets []SourceCount) {
	if n <= 0 {
		return []SourceCount{}, []SourceCount{}
	}
	ta, tn := newTop(n), newTop(n)
	src := radixSort(s.Sources4)
	// Runs of equal addresses are one source; runs of equal /24 prefixes one network.
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j] == src[i] {
			j++
		}
		ta.offer(v4key(src[i]), j-i)
		i = j
	}
	for i := 0; i < len(src); {
		net := src[i] &^ 0xff
		j := i + 1
		for j < len(src) && src[j]&^0xff == net {
			j++
		}
		tn.offer(func() string { return v4key(net)() + "/24" }, j-i)
		i = j
	}
	nets6 := map[netip.Prefix]int32{}
	for a, c := range s.Sources6 {
		ta.offer(func() string { return a.String() }, int(c))
		p, _ := a.Prefix(64)
		nets6[p] += c
	}
	for p, c := range nets6 {
		tn.offer(func() string { return p.String() }, int(c))
	}
	return ta.result(), tn.result()
}

// radixSort sorts addresses in four byte-wide counting passes: linear, ~10x faster than a
// comparison sort on 100,000 sources, for one extra buffer of the same size.
func radixSort(a []uint32) []uint32 {
	if len(a) < 256 {
		slices.Sort(a)
		return a
	}
	buf := make([]uint32, len(a))
	src, dst := a, buf
	for shift := 0; shift < 32; shift += 8 {
		var count [257]int
		for _, v := range src {
			count[(v>>shift)&0xff+1]++
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for _, v := range src {
			d := (v >> shift) & 0xff
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	return src // after four passes the sorted data is back in a
}

func v4key(a uint32) func() string {
	return func() string {
		return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}).String()
	}
}

// top keeps the n largest counts; ties go to the first offered (the lower address), so
// output is stable.
type top struct {
	n     int
	items []SourceCount
}

func newTop(n int) *top { return &top{n: n} }

func (t *top) offer(name func() string, count int) {
	// Callers offer in ascending address order, so on a tie the entry already kept wins:
	// no need to format the name (most sources of a flood have the same count).
	if len(t.items) == t.n && count <= t.items[len(t.items)-1].Count {
		return
	}
	sc := SourceCount{Source: name(), Count: count}
	i := sort.Search(len(t.items), func(i int) bool {
		x := t.items[i]
		return x.Count < sc.Count || x.Count == sc.Count && x.Source > sc.Source
	})
	if i >= t.n {
		return
	}
	t.items = append(t.items, SourceCount{})
	copy(t.items[i+1:], t.items[i:])
	t.items[i] = sc
	if len(t.items) > t.n {
		t.items = t.items[:t.n]
	}
}

func (t *top) result() []SourceCount {
	if t.items == nil {
		return []SourceCount{}
	}
	return t.items
}

// SynQueueCap is where a listener's SYN (request) queue stops taking unproven SYNs:
//
//	backlog  = min(listen() backlog, net.core.somaxconn)  (sk_max_ack_backlog; Send-Q in ss -lt)
//	cookies on  (tcp_syncookies 1 or 2): cap = backlog
//	                 past it the kernel answers with SYN cookies instead of queueing
//	cookies off (tcp_syncookies 0):     cap = min(backlog, tcp_max_syn_backlog - tcp_max_syn_backlog/4)
//	                 past it new SYNs are dropped (TCPReqQFullDrop), and unproven peers
//	                 already past 3/4 of tcp_max_syn_backlog
//
// This is the Linux ≥ 4.4 behaviour (per-listener request queue, inet_csk_reqsk_queue_is_full
// and tcp_conn_request). backlog is unknown when read from /proc/net/tcp: somaxconn, its
// upper bound, stands in and the source says so.
func SynQueueCap(backlog int, backlogKnown bool, somaxconn, maxSynBacklog, cookies int) (int, string) {
	src := "listen backlog"
	if !backlogKnown {
		backlog, src = somaxconn, "somaxconn (upper bound: /proc/net/tcp does not show the listen backlog)"
	}
	if cookies == 0 && maxSynBacklog > 0 {
		if c := maxSynBacklog - maxSynBacklog/4; backlog <= 0 || c < backlog {
			return c, "3/4 of tcp_max_syn_backlog (cookies off)"
		}
	}
	return backlog, src
}

// NetNS names the caller's network namespace ("net:[4026531840]") on a live host.
func NetNS(h *system.Host) string {
	if !h.Live() {
		return "fixture tree " + h.Root
	}
	s, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return s
}

func trimNL(b []byte) string { return string(bytes.TrimSpace(b)) }
