package mx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Resolver asks DNS servers directly (no system resolver, no cache outside one run): UDP
// first, TCP when the answer is truncated, each server in turn, with a timeout and retries.
type Resolver struct {
	Servers []string // HOST:PORT
	Timeout time.Duration
	Retries int

	udp, tcp *dns.Client
	hosts    sync.Map // MX host -> *hostEntry, so 10,000 domains on one MX ask for it once
	conns    sync.Map // server -> chan *udpConn: idle UDP sockets, reused
}

// udpConn is a connected UDP socket kept for more queries to the same server: dialling
// one per query costs more than the query itself when 10,000 domains are checked. Replies
// are matched by message id (stale replies to a timed-out query are skipped), a socket
// that saw an error is closed, and each is replaced after maxConnUses queries, so the
// source port still changes.
type udpConn struct {
	*dns.Conn
	uses int
}

const (
	maxConnUses  = 200
	maxIdleConns = 512
)

func (r *Resolver) pool(srv string) chan *udpConn {
	if v, ok := r.conns.Load(srv); ok {
		return v.(chan *udpConn)
	}
	v, _ := r.conns.LoadOrStore(srv, make(chan *udpConn, maxIdleConns))
	return v.(chan *udpConn)
}

func (r *Resolver) exchangeUDP(ctx context.Context, q *dns.Msg, srv string) (*dns.Msg, error) {
	pool := r.pool(srv)
	var c *udpConn
	select {
	case c = <-pool:
	default:
		conn, err := r.udp.DialContext(ctx, srv)
		if err != nil {
			return nil, err
		}
		c = &udpConn{Conn: conn}
	}
	m, _, err := r.udp.ExchangeWithConnContext(ctx, q, c.Conn)
	c.uses++
	if err != nil || c.uses >= maxConnUses {
		c.Close()
		return m, err
	}
	select {
	case pool <- c:
	default:
		c.Close()
	}
	return m, nil
}

// Close releases the idle sockets.
func (r *Resolver) Close() {
	r.conns.Range(func(_, v any) bool {
		pool := v.(chan *udpConn)
		for {
			select {
			case c := <-pool:
				c.Close()
			default:
				return true
			}
		}
	})
}

// NewResolver builds a resolver from the config, reading /etc/resolv.conf through the
// Host when no resolver is configured.
func NewResolver(h *system.Host, cfg Config) (*Resolver, error) {
	servers, err := resolverServers(h, cfg.Resolvers)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	retries := max(cfg.Retries, 0)
	return &Resolver{
		Servers: servers,
		Timeout: timeout,
		Retries: retries,
		udp:     &dns.Client{Net: "udp", Timeout: timeout, UDPSize: 1232},
		tcp:     &dns.Client{Net: "tcp", Timeout: timeout},
	}, nil
}

func resolverServers(h *system.Host, configured []string) ([]string, error) {
	var out []string
	for _, s := range configured {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			addr, err := serverAddr(f)
			if err != nil {
				return nil, usage.Errorf("resolver %q (--resolver, mx.resolvers): %v: want IP:PORT or an IP address", f, err)
			}
			out = append(out, addr)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	f, err := h.Open("/etc/resolv.conf")
	if err != nil {
		return nil, fmt.Errorf("read /etc/resolv.conf: %w: set mx.resolvers or pass --resolver IP:PORT", err)
	}
	defer f.Close()
	cc, err := dns.ClientConfigFromReader(f)
	if err != nil {
		return nil, fmt.Errorf("read /etc/resolv.conf: %w: set mx.resolvers or pass --resolver IP:PORT", err)
	}
	for _, s := range cc.Servers {
		out = append(out, net.JoinHostPort(s, cc.Port))
	}
	if len(out) == 0 {
		return nil, errors.New("/etc/resolv.conf has no nameserver line: set mx.resolvers or pass --resolver IP:PORT")
	}
	return out, nil
}

func serverAddr(s string) (string, error) {
	host, port := strings.Trim(s, "[]"), "53"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return "", errors.New("not an address")
	}
	if host == "" || port == "" {
		return "", errors.New("empty address or port")
	}
	// An IP address only: a name would be looked up through the system's resolver,
	// which is not the server asked for.
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", errors.New("not an IP address (a resolver is given by address)")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %q: want 1-65535", port)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// DNSError is a lookup that got no usable answer: a timeout, SERVFAIL, REFUSED…
type DNSError struct {
	Name  string
	Type  string
	Rcode int // -1 when there was no answer at all
	Err   error
}

func (e *DNSError) Error() string {
	if e.Rcode >= 0 {
		return fmt.Sprintf("%s %s: %s", e.Name, e.Type, dns.RcodeToString[e.Rcode])
	}
	return fmt.Sprintf("%s %s: %v", e.Name, e.Type, e.Err)
}

func (e *DNSError) Unwrap() error { return e.Err }

// Query sends one question and returns the answer message. NXDOMAIN and NOERROR are
// answers; any other rcode, or no reply from any server, is a *DNSError.
func (r *Resolver) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	q.SetEdns0(1232, false)
	tname := dns.TypeToString[qtype]
	var last error = &DNSError{Name: name, Type: tname, Rcode: -1, Err: errors.New("no server")}
	for _, srv := range r.Servers {
		for try := 0; try <= r.Retries; try++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			m, err := r.exchangeUDP(ctx, q, srv)
			if err == nil && m.Truncated {
				// The whole answer did not fit in UDP: ask again over TCP (RFC 7766).
				m, _, err = r.tcp.ExchangeContext(ctx, q, srv)
			}
			if err != nil {
				last = &DNSError{Name: name, Type: tname, Rcode: -1, Err: fmt.Errorf("%s: %w", srv, simplifyNetErr(err))}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue // lost or slow: try the same server again
				}
				break // refused connection etc.: next server
			}
			switch m.Rcode {
			case dns.RcodeSuccess, dns.RcodeNameError:
				return m, nil
			}
			last = &DNSError{Name: name, Type: tname, Rcode: m.Rcode}
			break // SERVFAIL, REFUSED: this server cannot answer; ask the next one
		}
	}
	return nil, last
}

func simplifyNetErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errTimeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errRefused
	}
	return err
}

var errRefused = errors.New("connection refused: no DNS server answers there (check the address and port)")

var errTimeout = errors.New("timed out")

// MXHost is one MX record with what its name resolves to.
type MXHost struct {
	Preference uint16       `json:"preference"`
	Host       string       `json:"host"`
	CNAME      []string     `json:"cname,omitempty"` // the CNAME chain from Host, when Host is an alias
	Addrs      []netip.Addr `json:"addresses"`
	Here       bool         `json:"points_here"`
	Err        string       `json:"error,omitempty"` // its A/AAAA lookup failed
}

// Lookup is what DNS says about where mail for a domain goes.
type Lookup struct {
	Domain   string
	NXDomain bool     // the name does not exist
	NullMX   bool     // "MX 0 ." (RFC 7505): the domain takes no mail
	Implicit bool     // no MX: the domain's own A/AAAA is its MX (RFC 5321 §5.1)
	MX       []MXHost // by preference, then name
	Err      error    // the lookup failed (SERVFAIL, timeout): nothing else is known
}

// Lowest returns the MX hosts with the lowest preference (several when they are equal).
func (l *Lookup) Lowest() []MXHost {
	if len(l.MX) == 0 {
		return nil
	}
	n := 1
	for n < len(l.MX) && l.MX[n].Preference == l.MX[0].Preference {
		n++
	}
	return l.MX[:n]
}

// LookupMX resolves a domain's MX records and the addresses of every MX host (A and AAAA,
// in parallel). A domain without MX records has an implicit MX: itself.
func (r *Resolver) LookupMX(ctx context.Context, domain string) *Lookup {
	l := &Lookup{Domain: domain}
	m, err := r.Query(ctx, domain, dns.TypeMX)
	if err != nil {
		l.Err = err
		return l
	}
	if m.Rcode == dns.RcodeNameError {
		l.NXDomain = true
		return l
	}
	var null bool
	for _, rr := range m.Answer {
		mx, ok := rr.(*dns.MX)
		if !ok {
			continue
		}
		target := strings.ToLower(strings.TrimSuffix(mx.Mx, "."))
		if target == "" {
			null = true
			continue
		}
		l.MX = append(l.MX, MXHost{Preference: mx.Preference, Host: target})
	}
	if null && len(l.MX) == 0 {
		l.NullMX = true
		return l
	}
	if len(l.MX) == 0 {
		l.Implicit = true
		l.MX = []MXHost{{Preference: 0, Host: domain}}
	}
	sort.SliceStable(l.MX, func(i, j int) bool {
		if l.MX[i].Preference != l.MX[j].Preference {
			return l.MX[i].Preference < l.MX[j].Preference
		}
		return l.MX[i].Host < l.MX[j].Host
	})
	var wg sync.WaitGroup
	for i := range l.MX {
		wg.Add(1)
		go func(mh *MXHost) {
			defer wg.Done()
			e := r.host(ctx, mh.Host)
			mh.Addrs, mh.CNAME = e.addrs, e.cname
			if e.err != nil {
				mh.Err = e.err.Error()
			}
		}(&l.MX[i])
	}
	wg.Wait()
	if l.Implicit && len(l.MX[0].Addrs) == 0 && l.MX[0].Err == "" {
		// No MX and no address: nobody can deliver mail to it, like a null MX.
		l.MX = nil
	}
	return l
}

type hostEntry struct {
	once  sync.Once
	addrs []netip.Addr
	cname []string
	err   error
}

func (r *Resolver) host(ctx context.Context, name string) *hostEntry {
	v, _ := r.hosts.LoadOrStore(name, &hostEntry{})
	e := v.(*hostEntry)
	e.once.Do(func() { e.addrs, e.cname, e.err = r.resolveHost(ctx, name) })
	return e
}

// resolveHost asks A and AAAA at once and follows a CNAME chain the server did not
// resolve itself (at most 8 links).
func (r *Resolver) resolveHost(ctx context.Context, name string) ([]netip.Addr, []string, error) {
	type res struct {
		addrs []netip.Addr
		cname []string
		err   error
	}
	ask := func(qtype uint16) res {
		var out res
		cur := name
		for hop := 0; hop < 8; hop++ {
			m, err := r.Query(ctx, cur, qtype)
			if err != nil {
				out.err = err
				return out
			}
			if m.Rcode == dns.RcodeNameError {
				return out
			}
			next := ""
			owner := dns.Fqdn(cur)
			for _, rr := range m.Answer {
				switch v := rr.(type) {
				case *dns.CNAME:
					if strings.EqualFold(v.Hdr.Name, owner) {
						owner = v.Target
						out.cname = append(out.cname, strings.ToLower(strings.TrimSuffix(v.Target, ".")))
						next = v.Target
					}
				case *dns.A:
					if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
						out.addrs = append(out.addrs, a)
					}
				case *dns.AAAA:
					if a, ok := netip.AddrFromSlice(v.AAAA.To16()); ok {
						out.addrs = append(out.addrs, a)
					}
				}
			}
			if len(out.addrs) > 0 || next == "" {
				return out
			}
			cur = strings.TrimSuffix(next, ".")
		}
		out.err = fmt.Errorf("%s: CNAME chain longer than 8", name)
		return out
	}
	var a, aaaa res
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = ask(dns.TypeA) }()
	go func() { defer wg.Done(); aaaa = ask(dns.TypeAAAA) }()
	wg.Wait()
	addrs := append(a.addrs, aaaa.addrs...)
	cname := a.cname
	if len(cname) == 0 {
		cname = aaaa.cname
	}
	// One family failing while the other answered still tells where mail goes; both
	// failing (or one failing with no address at all) is a failure.
	var err error
	if a.err != nil && (aaaa.err != nil || len(addrs) == 0) {
		err = a.err
	} else if aaaa.err != nil && len(addrs) == 0 {
		err = aaaa.err
	}
	return addrs, cname, err
}

// LookupAll resolves every domain with at most parallel lookups at once; results come back
// in the order of domains.
func (r *Resolver) LookupAll(ctx context.Context, domains []string, parallel int) []*Lookup {
	out := make([]*Lookup, len(domains))
	if parallel < 1 {
		parallel = 1
	}
	parallel = min(parallel, len(domains))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = r.LookupMX(ctx, domains[i])
			}
		}()
	}
	for i := range domains {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}
