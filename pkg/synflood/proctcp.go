package synflood

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// TCP states as the kernel numbers them (include/net/tcp_states.h).
const (
	StateEstablished = 1
	StateSynRecv     = 3
	StateListen      = 10
	StateNewSynRecv  = 12
)

// Socket is one row of /proc/net/tcp{,6} or one sock_diag reply. It is a plain value so the
// parsers can hand out the same one for every row without allocating.
type Socket struct {
	Local, Remote netip.AddrPort
	State         uint8
	// TxQueue and RxQueue are the queue columns. For a LISTEN row RxQueue is the current
	// accept-queue length; TxQueue is its cap in sock_diag (Send-Q) but 0 in /proc.
	TxQueue, RxQueue uint32
	// Retrans is the SYN-ACK retransmit count for a SYN_RECV request socket.
	Retrans uint32
	Inode   uint64
	// CapKnown is true when TxQueue of a LISTEN socket is its accept backlog (sock_diag).
	CapKnown bool
}

// ProcByteOrder is the byte order of the host that wrote a /proc/net/tcp file: the kernel
// prints each 32-bit address word with %08X from host memory, so the digits of 127.0.0.1
// are 0100007F on little-endian machines and 7F000001 on big-endian ones.
type ProcByteOrder = binary.ByteOrder

// ErrStop, returned by a ParseProcNetTCP callback, ends parsing early without an error.
var ErrStop = errors.New("stop")

// ParseProcNetTCP reads /proc/net/tcp or /proc/net/tcp6 content from r and calls fn for
// every socket row; the header line is skipped. order is the byte order of the host that
// produced the file (nil = this machine's). The *Socket passed to fn is reused: copy it to
// keep it. It allocates one read buffer per call, none per line.
func ParseProcNetTCP(r io.Reader, order binary.ByteOrder, fn func(*Socket) error) error {
	if order == nil {
		order = binary.NativeEndian
	}
	// Decide the byte order once: an interface call per word would make the address
	// buffer escape to the heap (two allocations per line).
	little := order.Uint32([]byte{1, 0, 0, 0}) == 1
	buf := make([]byte, 256<<10)
	var s Socket
	start, end, lineNo := 0, 0, 0
	eof := false
	for {
		// find complete lines in buf[start:end]
		i := start
		for {
			j := bytes.IndexByte(buf[i:end], '\n')
			if j < 0 {
				break
			}
			line := buf[i : i+j]
			lineNo++
			if lineNo > 1 || !isHeader(line) {
				if err := parseTCPLine(line, little, &s); err != nil {
					return fmt.Errorf("line %d: %w", lineNo, err)
				}
				if err := fn(&s); err != nil {
					if err == ErrStop {
						return nil
					}
					return err
				}
			}
			i += j + 1
		}
		start = i
		if eof {
			if start < end {
				line := buf[start:end]
				lineNo++
				if lineNo > 1 || !isHeader(line) {
					if err := parseTCPLine(line, little, &s); err != nil {
						return fmt.Errorf("line %d: %w", lineNo, err)
					}
					if err := fn(&s); err != nil && err != ErrStop {
						return err
					}
				}
			}
			return nil
		}
		// move the partial line to the front and read more
		if start > 0 {
			n := copy(buf, buf[start:end])
			start, end = 0, n
		}
		if end == len(buf) {
			return fmt.Errorf("line %d: longer than %d bytes", lineNo+1, len(buf))
		}
		n, err := r.Read(buf[end:])
		end += n
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return err
		}
	}
}

func isHeader(line []byte) bool {
	for _, c := range line {
		if c == ' ' {
			continue
		}
		return c == 's' // "  sl  local_address ..."
	}
	return true // an empty line is skipped like a header
}

var errShort = errors.New("too few fields")

// field returns the next space-separated field of line starting at *pos.
func field(line []byte, pos *int) []byte {
	i := *pos
	for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
		i++
	}
	j := i
	for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' {
		j++
	}
	*pos = j
	return line[i:j]
}

func parseTCPLine(line []byte, little bool, s *Socket) error {
	pos := 0
	if f := field(line, &pos); len(f) == 0 || f[len(f)-1] != ':' {
		return fmt.Errorf("want \"N:\" slot number, got %q", trunc(f))
	}
	var local, remote, st, queues, timer, retr []byte
	if !fixedFields(line, &pos, &local, &remote, &st, &queues, &timer, &retr) {
		local = field(line, &pos)
		remote = field(line, &pos)
		st = field(line, &pos)
		queues = field(line, &pos)
		timer = field(line, &pos)
		retr = field(line, &pos)
	}
	_ = field(line, &pos) // uid
	_ = field(line, &pos) // timeout
	inode := field(line, &pos)
	if len(inode) == 0 || len(timer) == 0 {
		return errShort
	}
	var err error
	if s.Local, err = parseAddrPort(local, little); err != nil {
		return fmt.Errorf("local address %q: %w", trunc(local), err)
	}
	if s.Remote, err = parseAddrPort(remote, little); err != nil {
		return fmt.Errorf("remote address %q: %w", trunc(remote), err)
	}
	v, ok := hexU64(st)
	if !ok || len(st) != 2 {
		return fmt.Errorf("state %q: want two hex digits", trunc(st))
	}
	s.State = uint8(v)
	if len(queues) != 17 || queues[8] != ':' {
		return fmt.Errorf("queues %q: want tx:rx", trunc(queues))
	}
	tx, ok1 := hexU64(queues[:8])
	rx, ok2 := hexU64(queues[9:])
	if !ok1 || !ok2 {
		return fmt.Errorf("queues %q: bad hex", trunc(queues))
	}
	s.TxQueue, s.RxQueue = uint32(tx), uint32(rx)
	rt, ok := hexU64(retr)
	if !ok {
		return fmt.Errorf("retrnsmt %q: bad hex", trunc(retr))
	}
	s.Retrans = uint32(rt)
	in, ok := decU64(inode)
	if !ok {
		return fmt.Errorf("inode %q: bad number", trunc(inode))
	}
	s.Inode = in
	s.CapKnown = false
	return nil
}

// fixedFields cuts the fixed-width columns the kernel prints after the slot
// (" %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X", 32 hex digits per address in
// tcp6) by position instead of scanning for blanks. On any mismatch it leaves *pos alone and
// returns false, and the caller scans.
func fixedFields(line []byte, pos *int, local, remote, st, queues, timer, retr *[]byte) bool {
	p := *pos + 1
	if p+14 > len(line) || line[p-1] != ' ' {
		return false
	}
	w := 13
	if line[p+8] != ':' {
		w = 37
	}
	// widths of: local, remote, st, queues, timer, retr; each followed by one blank
	widths := [6]int{w, w, 2, 17, 11, 8}
	outs := [6]*[]byte{local, remote, st, queues, timer, retr}
	for i, n := range widths {
		if p+n >= len(line) || line[p+n] != ' ' {
			return false
		}
		*outs[i] = line[p : p+n]
		p += n + 1
	}
	*pos = p - 1
	return true
}

func trunc(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// parseAddrPort decodes "0100007F:0050" (IPv4) or 32 hex digits ":" port (IPv6).
func parseAddrPort(f []byte, little bool) (netip.AddrPort, error) {
	var zero netip.AddrPort
	if len(f) != 8+1+4 && len(f) != 32+1+4 {
		return zero, errors.New("want 8 or 32 hex digits, colon, 4 hex digits")
	}
	n := len(f) - 5
	if f[n] != ':' {
		return zero, errors.New("missing colon before port")
	}
	p, ok := hexU64(f[n+1:])
	if !ok {
		return zero, errors.New("bad port")
	}
	var b [16]byte
	for w := 0; w < n/8; w++ {
		v, ok := hexU64(f[w*8 : w*8+8])
		if !ok {
			return zero, errors.New("bad hex")
		}
		// Each word is a __be32 printed as a host-order u32: put it back in memory order.
		if little {
			b[w*4], b[w*4+1], b[w*4+2], b[w*4+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		} else {
			b[w*4], b[w*4+1], b[w*4+2], b[w*4+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		}
	}
	if n == 8 {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[:4])), uint16(p)), nil
	}
	return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(p)), nil
}

// hexVal maps an ASCII byte to its hex digit value, or 0xff: a table lookup instead of a
// three-way range test per character (the parser's hot loop).
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

func hexU64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	bad := byte(0)
	for _, c := range b {
		d := hexVal[c]
		bad |= d
		v = v<<4 | uint64(d&0xf)
	}
	return v, bad&0xf0 == 0
}

func decU64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
