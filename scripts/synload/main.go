//go:build linux

// Command synload builds half-open TCP connections for benchmarking `hostfix synflood
// check`. Run it only inside a private network namespace (scripts/bench-synflood.sh makes
// one); it has three modes:
//
//   - -listen: listen on -dst:-ports with -backlog, never accept, wait for SIGTERM.
//   - -connect: open -count real client connections (non-blocking connect) to the
//     listeners and hold them until SIGTERM. With nftables dropping every packet to the
//     listener ports that is not a bare SYN, the client's ACK never arrives: the client
//     socket is ESTABLISHED and the server keeps a SYN_RECV request socket (the issue's
//     "same way" as the integration test). Needs RLIMIT_NOFILE above -count (raised here;
//     root may raise it up to fs.nr_open).
//   - default (raw): send raw SYN packets from many 127.x.y.z source addresses, where
//     nftables drops the kernel's RSTs so each SYN leaves one SYN_RECV request socket and
//     no client socket exists. Needs CAP_NET_RAW.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	dst := flag.String("dst", "127.0.0.1", "listener `address` (IPv4)")
	ports := flag.String("ports", "20000", "listener `ports`, comma separated; SYNs are spread over them")
	count := flag.Int("count", 100000, "number of SYNs (one per source address and port)")
	batch := flag.Int("batch", 2000, "SYNs per batch; a short pause follows each so the loopback backlog (netdev_max_backlog) does not overflow")
	pause := flag.Duration("pause", 2*time.Millisecond, "pause after each batch")
	listen := flag.Bool("listen", false, "instead of sending, listen on -dst:-ports with -backlog, never accept, and wait to be killed")
	backlog := flag.Int("backlog", 65535, "listen() backlog with -listen (capped by net.core.somaxconn)")
	connect := flag.Bool("connect", false, "instead of raw SYNs, open -count real client connections to -dst:-ports, print \"ready N\" and hold them until SIGTERM")
	wait := flag.Duration("wait", 30*time.Second, "with -connect: how long to wait for the handshakes to reach ESTABLISHED on the client side")
	flag.Parse()
	if *listen && *connect {
		fmt.Fprintln(os.Stderr, "synload: -listen and -connect exclude each other")
		os.Exit(2)
	}
	if *connect {
		if err := connectHold(*dst, *ports, *count, *batch, *pause, *wait); err != nil {
			fmt.Fprintln(os.Stderr, "synload:", err)
			os.Exit(1)
		}
		return
	}
	if *listen {
		if err := listenForever(*dst, *ports, *backlog); err != nil {
			fmt.Fprintln(os.Stderr, "synload:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dst, *ports, *count, *batch, *pause); err != nil {
		fmt.Fprintln(os.Stderr, "synload:", err)
		os.Exit(1)
	}
}

func run(dstS, portsS string, count, batch int, pause time.Duration) error {
	dst, err := netip.ParseAddr(dstS)
	if err != nil || !dst.Is4() {
		return fmt.Errorf("-dst %q: want an IPv4 address", dstS)
	}
	var ports []uint16
	for _, p := range strings.Split(portsS, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("-ports: bad port %q", p)
		}
		ports = append(ports, uint16(n))
	}
	if count < 1 || count > 250*65536 {
		return fmt.Errorf("-count %d: want 1..%d", count, 250*65536)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("raw socket (needs CAP_NET_RAW): %w", err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrInet4{Addr: dst.As4()}
	pkt := make([]byte, 40)
	for i := 0; i < count; i++ {
		// Sources 127.1.0.0 upwards: 65,536 per second octet, never 127.0.x.x.
		src := [4]byte{127, byte(1 + i>>16), byte(i >> 8), byte(i)}
		sport := uint16(1024 + (i*7919)%60000)
		build(pkt, src, dst.As4(), sport, ports[i%len(ports)], uint32(i)*2654435761)
		if err := unix.Sendto(fd, pkt, 0, to); err != nil {
			return fmt.Errorf("send SYN %d: %w", i, err)
		}
		if batch > 0 && (i+1)%batch == 0 {
			time.Sleep(pause)
		}
	}
	return nil
}

func listenForever(dstS, portsS string, backlog int) error {
	dst, err := netip.ParseAddr(dstS)
	if err != nil || !dst.Is4() {
		return fmt.Errorf("-dst %q: want an IPv4 address", dstS)
	}
	for _, p := range strings.Split(portsS, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("-ports: bad port %q", p)
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: n, Addr: dst.As4()}); err != nil {
			return fmt.Errorf("bind %s:%d: %w", dstS, n, err)
		}
		if err := unix.Listen(fd, backlog); err != nil {
			return fmt.Errorf("listen %s:%d: %w", dstS, n, err)
		}
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	<-sig
	return nil
}

// build writes an IPv4 + TCP SYN packet. The kernel fills the IP checksum and total length
// for IP_HDRINCL sockets; the TCP checksum is ours.
func build(p []byte, src, dst [4]byte, sport, dport uint16, seq uint32) {
	be := binary.BigEndian
	p[0] = 0x45
	p[1] = 0
	be.PutUint16(p[2:], 40)
	be.PutUint16(p[4:], 0)
	be.PutUint16(p[6:], 0x4000) // DF
	p[8] = 64
	p[9] = unix.IPPROTO_TCP
	be.PutUint16(p[10:], 0)
	copy(p[12:16], src[:])
	copy(p[16:20], dst[:])
	t := p[20:]
	be.PutUint16(t[0:], sport)
	be.PutUint16(t[2:], dport)
	be.PutUint32(t[4:], seq)
	be.PutUint32(t[8:], 0)
	t[12] = 5 << 4 // data offset: 5 words, no options
	t[13] = 0x02   // SYN
	be.PutUint16(t[14:], 64240)
	be.PutUint16(t[16:], 0)
	be.PutUint16(t[18:], 0)
	// checksum over the pseudo-header and the segment
	var sum uint32
	for i := 0; i < 4; i += 2 {
		sum += uint32(be.Uint16(src[i:])) + uint32(be.Uint16(dst[i:]))
	}
	sum += unix.IPPROTO_TCP + 20
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(t[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(t[16:], ^uint16(sum))
}
