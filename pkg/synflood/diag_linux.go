package synflood

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// sock_diag wire format (linux/inet_diag.h). golang.org/x/sys/unix has the constants but
// not these structs, and a hand-rolled dump lets the kernel filter by state while we parse
// replies in place, without a message object per socket (100,000 SYN_RECV sockets are
// ~9 MB of replies).
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	nlmsgHdrLen      = 16
	inetDiagReqV2Len = 56
	inetDiagMsgLen   = 72
)

// DiagStates is the idiag_states bitmask check asks for: SYN_RECV (the kernel adds
// NEW_SYN_RECV request sockets for it; we set that bit too) and LISTEN.
const DiagStates = 1<<StateSynRecv | 1<<StateNewSynRecv | 1<<StateListen

// DumpSockets asks the kernel (NETLINK_SOCK_DIAG, in the caller's network namespace) for
// every TCP socket of family (unix.AF_INET or unix.AF_INET6) whose state is in the states
// bitmask and calls fn for each. The *Socket is reused between calls.
func DumpSockets(family uint8, states uint32, fn func(*Socket) error) error {
	return DumpSocketsPort(family, states, 0, fn)
}

// DumpSocketsPort is DumpSockets limited to one local port (0 = all): the kernel compares
// idiag_sport while it walks the hash tables, so sockets of other ports are never sent.
func DumpSocketsPort(family uint8, states uint32, sport uint16, fn func(*Socket) error) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", os.NewSyscallError("bind", err))
	}
	const seq = 0x5f1d
	req := make([]byte, nlmsgHdrLen+inetDiagReqV2Len)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	r := req[nlmsgHdrLen:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], states)
	// inet_diag_sockid: the source port (network order) or zero; no address filter;
	// cookie = INET_DIAG_NOCOOKIE.
	binary.BigEndian.PutUint16(r[8:], sport)
	ne.PutUint32(r[48:], ^uint32(0))
	ne.PutUint32(r[52:], ^uint32(0))
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: %w", os.NewSyscallError("sendto", err))
	}
	// The kernel fills dump replies up to 32 KiB (netlink max_recvmsg_len); a larger buffer
	// lets it do so.
	buf := make([]byte, 64<<10)
	var s Socket
	stopped := false
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("sock_diag: %w", os.NewSyscallError("recvfrom", err))
		}
		b := buf[:n]
		for len(b) >= nlmsgHdrLen {
			l := int(ne.Uint32(b[0:]))
			typ := ne.Uint16(b[4:])
			if l < nlmsgHdrLen || l > len(b) {
				return fmt.Errorf("sock_diag: malformed reply (length %d of %d)", l, len(b))
			}
			if ne.Uint32(b[8:]) != seq {
				b = b[align4(l):]
				continue
			}
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if l >= nlmsgHdrLen+4 {
					if errno := int32(ne.Uint32(b[nlmsgHdrLen:])); errno != 0 {
						return fmt.Errorf("sock_diag: %w", unix.Errno(-errno))
					}
				}
				return nil
			case sockDiagByFamily:
				if !stopped && l >= nlmsgHdrLen+inetDiagMsgLen {
					decodeDiagMsg(b[nlmsgHdrLen:l], &s)
					if err := fn(&s); err != nil {
						if err != ErrStop {
							return err
						}
						// keep reading to the end of the dump so the socket closes clean
						stopped = true
					}
				}
			}
			b = b[align4(l):]
		}
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

// decodeDiagMsg reads struct inet_diag_msg. Ports and addresses are big-endian, the rest
// native.
func decodeDiagMsg(m []byte, s *Socket) {
	ne := binary.NativeEndian
	family := m[0]
	s.State = m[1]
	s.Retrans = uint32(m[3])
	sport := binary.BigEndian.Uint16(m[4:])
	dport := binary.BigEndian.Uint16(m[6:])
	if family == unix.AF_INET {
		s.Local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m[8:12])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m[24:28])), dport)
	} else {
		s.Local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m[8:24])), sport)
		s.Remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(m[24:40])), dport)
	}
	// id ends at 4+48=52: expires, rqueue, wqueue, uid, inode follow.
	s.RxQueue = ne.Uint32(m[56:])
	s.TxQueue = ne.Uint32(m[60:])
	s.Inode = uint64(ne.Uint32(m[72-4:]))
	s.CapKnown = s.State == StateListen
}
