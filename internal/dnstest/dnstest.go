// Package dnstest is a small DNS server for tests and benchmarks: it serves zone data given
// as text (RFC 1035 master-file lines, parsed by github.com/miekg/dns) on 127.0.0.1 over
// UDP and TCP on one port, answering like a recursive resolver would (CNAME chains inside
// the data are followed), plus directives that make it misbehave on purpose:
//
//	$SERVFAIL name      answer SERVFAIL for every question about name
//	$TIMEOUT name       never answer questions about name
//	$TRUNCATE name      over UDP answer with TC set and no records (the client must use TCP)
//	$SYNTH suffix host  every name under suffix has "MX 10 host" (benchmarks); host "*"
//	                    means a host of its own, mx.<name>; every name under suffix also
//	                    has "A 127.0.0.1" (and no AAAA)
//
// Test-only: it listens on loopback and nowhere else.
package dnstest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Server is a running test DNS server.
type Server struct {
	Addr string // 127.0.0.1:PORT, UDP and TCP

	udp, tcp *dns.Server
	zone     *Zone
	// Queries counts questions by transport ("udp", "tcp").
	UDPQueries, TCPQueries atomic.Int64
}

// Zone is parsed zone data.
type Zone struct {
	rrs      map[string][]dns.RR // owner (lower case, fqdn) -> records
	servfail map[string]bool
	timeout  map[string]bool
	truncate map[string]bool
	synth    [][2]string // suffix, MX host
}

// ParseZone reads zone text; the default origin is the root, so names must be absolute.
func ParseZone(text string) (*Zone, error) {
	z := &Zone{rrs: map[string][]dns.RR{}, servfail: map[string]bool{}, timeout: map[string]bool{}, truncate: map[string]bool{}}
	var rest strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) > 0 {
			switch f[0] {
			case "$SERVFAIL", "$TIMEOUT", "$TRUNCATE":
				if len(f) != 2 {
					return nil, fmt.Errorf("%s: want one name", f[0])
				}
				set := map[string]map[string]bool{"$SERVFAIL": z.servfail, "$TIMEOUT": z.timeout, "$TRUNCATE": z.truncate}[f[0]]
				set[strings.ToLower(dns.Fqdn(f[1]))] = true
				rest.WriteString("\n")
				continue
			case "$SYNTH":
				if len(f) != 3 {
					return nil, fmt.Errorf("$SYNTH: want suffix and host")
				}
				z.synth = append(z.synth, [2]string{strings.ToLower(dns.Fqdn(f[1])), dns.Fqdn(f[2])})
				rest.WriteString("\n")
				continue
			}
		}
		rest.WriteString(line)
		rest.WriteString("\n")
	}
	zp := dns.NewZoneParser(strings.NewReader(rest.String()), ".", "zone")
	zp.SetDefaultTTL(300)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		z.rrs[name] = append(z.rrs[name], rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return z, nil
}

// Start serves zone text on 127.0.0.1 (a free port) until Close.
func Start(text string) (*Server, error) { return StartAt(text, "127.0.0.1:0") }

// StartAt serves zone text on addr (e.g. 127.0.0.1:53 inside a test's own network
// namespace), UDP and TCP.
func StartAt(text, addr string) (*Server, error) {
	z, err := ParseZone(text)
	if err != nil {
		return nil, err
	}
	s := &Server{zone: z}
	var pc net.PacketConn
	var l net.Listener
	for try := 0; try < 20; try++ {
		pc, err = net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		return nil, err
	}
	s.Addr = pc.LocalAddr().String()
	var started sync.WaitGroup
	started.Add(2)
	s.udp = &dns.Server{PacketConn: pc, Handler: s.handler("udp"), NotifyStartedFunc: started.Done}
	s.tcp = &dns.Server{Listener: l, Handler: s.handler("tcp"), NotifyStartedFunc: started.Done}
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	started.Wait()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

func (s *Server) handler(transport string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		if transport == "udp" {
			s.UDPQueries.Add(1)
		} else {
			s.TCPQueries.Add(1)
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.RecursionAvailable = true
		if len(req.Question) != 1 {
			m.Rcode = dns.RcodeFormatError
			w.WriteMsg(m)
			return
		}
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		z := s.zone
		switch {
		case z.timeout[name]:
			return // say nothing: the client times out
		case z.servfail[name]:
			m.Rcode = dns.RcodeServerFailure
			w.WriteMsg(m)
			return
		case z.truncate[name] && transport == "udp":
			m.Truncated = true
			w.WriteMsg(m)
			return
		}
		m.Answer, m.Rcode = z.answer(name, q.Qtype)
		w.WriteMsg(m)
	}
}

func (z *Zone) answer(name string, qtype uint16) ([]dns.RR, int) {
	var out []dns.RR
	for hop := 0; hop < 10; hop++ {
		rrs, exists := z.rrs[name]
		if !exists {
			for _, sy := range z.synth {
				if strings.HasSuffix(name, "."+sy[0]) || name == sy[0] {
					exists = true
					switch qtype {
					case dns.TypeMX:
						host := sy[1]
						if host == "*." {
							host = "mx." + name
						}
						rrs = []dns.RR{&dns.MX{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 300}, Preference: 10, Mx: host}}
					case dns.TypeA:
						rrs = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(127, 0, 0, 1)}}
					}
				}
			}
		}
		if !exists {
			if len(out) > 0 {
				return out, dns.RcodeSuccess
			}
			return nil, dns.RcodeNameError
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype {
				out = append(out, rr)
				found = true
			}
			if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil || qtype == dns.TypeCNAME {
			return out, dns.RcodeSuccess
		}
		out = append(out, cname)
		name = strings.ToLower(cname.Target)
	}
	return out, dns.RcodeSuccess
}
