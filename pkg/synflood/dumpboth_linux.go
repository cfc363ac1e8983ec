package synflood

import (
	"bytes"
	"errors"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/hostfix/hostfix/pkg/system"
)

// dumpBoth dumps IPv4 and IPv6 sockets concurrently (each dump walks the whole
// established hash, which a child namespace shares with the host: 262,144 buckets here,
// ~30 ms even with no socket of that family). A family with no TCP socket in this
// namespace (/proc/net/sockstat{,6} "inuse 0") cannot have listeners or request sockets
// and is skipped.
func dumpBoth(h *system.Host, ports []int) (*collector, error) {
	type res struct {
		c   *collector
		err error
	}
	var families []uint8
	if n, ok := tcpInUse(h, "/proc/net/sockstat", "TCP:"); !ok || n > 0 {
		families = append(families, unix.AF_INET)
	}
	if n, ok := tcpInUse(h, "/proc/net/sockstat6", "TCP6:"); !ok || n > 0 {
		families = append(families, unix.AF_INET6)
	}
	// One --port is filtered by the kernel; several are filtered here (the collector checks
	// every socket's port either way).
	var sport uint16
	if len(ports) == 1 {
		sport = uint16(ports[0])
	}
	out := make(chan res, len(families))
	for _, f := range families {
		go func(f uint8) {
			c := newCollector(ports)
			err := DumpSocketsPort(f, DiagStates, sport, c.add)
			if f == unix.AF_INET6 && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EAFNOSUPPORT)) {
				err = nil // no IPv6 in this kernel
			}
			out <- res{c, err}
		}(f)
	}
	all := newCollector(ports)
	var firstErr error
	for range families {
		r := <-out
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		all.merge(r.c)
	}
	return all, firstErr
}

// tcpInUse reads "TCP: inuse N" from a sockstat file of the caller's namespace.
func tcpInUse(h *system.Host, file, prefix string) (int, bool) {
	b, err := h.ReadFile(file)
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) >= 3 && string(f[0]) == prefix && string(f[1]) == "inuse" {
			n, err := strconv.Atoi(string(f[2]))
			return n, err == nil
		}
	}
	return 0, false
}
