package mx

import (
	"fmt"
	"net"
	"net/netip"
	"sort"

	"github.com/hostfix/hostfix/pkg/usage"
)

// interfaceAddrs is the live network's addresses. --root relocates files, not the network,
// so it is read also under --root.
var interfaceAddrs = net.InterfaceAddrs

// LocalAddrs are this host's addresses: every interface's plus mx.local_addresses.
type LocalAddrs struct {
	set map[netip.Addr]bool
}

// LocalAddresses collects this host's addresses.
func LocalAddresses(extra []string) (*LocalAddrs, error) {
	la := &LocalAddrs{set: map[netip.Addr]bool{}}
	ifs, err := interfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list this host's addresses: %w", err)
	}
	for _, a := range ifs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if p, ok := netip.AddrFromSlice(ip); ok {
			la.set[p.Unmap()] = true
		}
	}
	for _, s := range extra {
		p, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usage.Errorf("mx.local_addresses %q: not an IP address", s)
		}
		la.set[p.Unmap().WithZone("")] = true
	}
	return la, nil
}

// Has reports whether a is one of this host's addresses.
func (la *LocalAddrs) Has(a netip.Addr) bool { return la.set[a.Unmap().WithZone("")] }

// List returns the addresses, sorted.
func (la *LocalAddrs) List() []string {
	out := make([]string, 0, len(la.set))
	for a := range la.set {
		out = append(out, a.String())
	}
	sort.Strings(out)
	return out
}

// markHere sets Here on every MX host with one of this host's addresses.
func markHere(l *Lookup, la *LocalAddrs) {
	for i := range l.MX {
		for _, a := range l.MX[i].Addrs {
			if la.Has(a) {
				l.MX[i].Here = true
			}
		}
	}
}
