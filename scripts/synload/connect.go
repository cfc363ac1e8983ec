//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// connectHold opens count non-blocking TCP connections to dst, spread over ports, waits
// until the client side of each is ESTABLISHED (the server side stays SYN_RECV because
// nftables drops the client's ACK), prints "ready N" and holds them until SIGTERM/SIGINT.
//
// Every socket gets SO_LINGER {on, 0}, so exit closes it with an RST and frees it at once
// instead of leaving 100,000 orphans in FIN_WAIT1 retransmitting into the firewall. On
// SIGTERM it first writes one byte on each (see below).
func connectHold(dstS, portsS string, count, batch int, pause, wait time.Duration) error {
	dst, err := netip.ParseAddr(dstS)
	if err != nil || !dst.Is4() {
		return fmt.Errorf("-dst %q: want an IPv4 address", dstS)
	}
	var ports []int
	for _, p := range strings.Split(portsS, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("-ports: bad port %q", p)
		}
		ports = append(ports, n)
	}
	if count < 1 {
		return fmt.Errorf("-count %d: want at least 1", count)
	}
	if err := raiseNofile(uint64(count) + 256); err != nil {
		return err
	}

	fds := make([]int, 0, count)
	linger := &unix.Linger{Onoff: 1, Linger: 0}
	start := time.Now()
	for i := 0; i < count; i++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("socket %d of %d: %w", i+1, count, err)
		}
		fds = append(fds, fd)
		if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, linger); err != nil {
			return fmt.Errorf("SO_LINGER on socket %d: %w", i+1, err)
		}
		to := &unix.SockaddrInet4{Port: ports[i%len(ports)], Addr: dst.As4()}
		if err := unix.Connect(fd, to); err != nil && err != unix.EINPROGRESS {
			// EADDRNOTAVAIL here means the ephemeral port range is exhausted for this
			// destination: widen net.ipv4.ip_local_port_range or add ports.
			return fmt.Errorf("connect %d of %d to %s:%d: %w", i+1, count, dstS, to.Port, err)
		}
		if batch > 0 && (i+1)%batch == 0 {
			time.Sleep(pause)
		}
	}
	connected := time.Since(start)

	// A SYN lost to a full loopback backlog is retransmitted by the client after 1 s, 3 s…:
	// wait for every client socket to reach ESTABLISHED rather than trusting the first pass.
	deadline := time.Now().Add(wait)
	pending := fds
	for {
		next := pending[:0:0]
		for _, fd := range pending {
			info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
			if err != nil {
				return fmt.Errorf("TCP_INFO: %w", err)
			}
			switch info.State {
			case unix.BPF_TCP_ESTABLISHED:
			case unix.BPF_TCP_SYN_SENT:
				next = append(next, fd)
			default:
				soErr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
				return fmt.Errorf("client socket in TCP state %d (error %v), want ESTABLISHED: is the listener up and does nftables let SYN-ACKs through?", info.State, unix.Errno(soErr))
			}
		}
		pending = next
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d client sockets still in SYN_SENT after %s: listener backlog or tcp_max_syn_backlog too small?", len(pending), count, wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "synload: %d connects in %s, all ESTABLISHED after %s\n", count, connected.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	fmt.Printf("ready %d\n", count)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	<-sig
	// Leave nothing behind: request sockets are not tied to the namespace's lifetime and
	// would sit in the kernel's global established hash for minutes (slowing every later
	// dump, a later benchmark run included). With the firewall rule gone (the script
	// removes it first), one byte on each connection carries the ACK that completes the
	// handshake, so the server's request socket becomes a child in the accept queue; the
	// close then resets it (SO_LINGER 0) and the listener's exit frees it.
	one := []byte{0}
	for _, fd := range fds {
		_, _ = unix.Write(fd, one)
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return nil
}

// raiseNofile sets RLIMIT_NOFILE to at least n. An unprivileged process can only raise
// its soft limit up to the hard one; root can raise both up to fs.nr_open (a global
// sysctl, which is deliberately not touched here).
func raiseNofile(n uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit NOFILE: %w", err)
	}
	if lim.Cur >= n {
		return nil
	}
	want := lim
	want.Cur = n
	if want.Max < n {
		want.Max = n
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
		nrOpen, _ := os.ReadFile("/proc/sys/fs/nr_open")
		return fmt.Errorf("raise RLIMIT_NOFILE from %d/%d to %d (fs.nr_open %s): %w; run as root or lower -count", lim.Cur, lim.Max, n, strings.TrimSpace(string(nrOpen)), err)
	}
	return nil
}
