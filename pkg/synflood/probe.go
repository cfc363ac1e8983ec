package synflood

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/usage"
)

// ProbeResult is the runbook's `time wget` done right: how long the TCP handshake took
// (a full SYN queue shows here first) and, for a URL, the whole GET.
type ProbeResult struct {
	Target    string   `json:"target"`
	ConnectMS *float64 `json:"connect_ms,omitempty"`
	RequestMS *float64 `json:"request_ms,omitempty"`
	HTTPCode  int      `json:"http_status,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// ParseProbeTarget validates --probe: HOST:PORT or an http(s):// URL.
func ParseProbeTarget(s string) (addr string, u *url.URL, err error) {
	if strings.Contains(s, "://") {
		u, err = url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", nil, usage.Errorf("--probe %q: want HOST:PORT or an http:// or https:// URL", usage.Clip(s))
		}
		addr = u.Host
		if u.Port() != "" && !validPort(u.Port()) {
			return "", nil, usage.Errorf("--probe %q: want a TCP port 1-65535", usage.Clip(s))
		}
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			addr = net.JoinHostPort(u.Hostname(), port)
		}
		return addr, u, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return "", nil, usage.Errorf("--probe %q: want HOST:PORT (e.g. 127.0.0.1:80) or a URL", usage.Clip(s))
	}
	if !validPort(port) {
		return "", nil, usage.Errorf("--probe %q: want a TCP port 1-65535 (nothing can be connected to port %s)", usage.Clip(s), usage.Clip(port))
	}
	return s, nil, nil
}

// validPort: a port number a connection can go to (1-65535), or a service name.
func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	if err != nil {
		_, err = net.LookupPort("tcp", port)
		return err == nil
	}
	return n >= 1 && n <= 65535
}

// Probe connects to target (and GETs it when it is a URL) within timeout.
func Probe(ctx context.Context, target string, timeout time.Duration) (ProbeResult, error) {
	addr, u, err := ParseProbeTarget(target)
	if err != nil {
		return ProbeResult{}, err
	}
	r := ProbeResult{Target: target}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		r.Error = fmt.Sprintf("connect %s: %v", addr, err)
		return r, nil
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	r.ConnectMS = &ms
	c.Close()
	if u == nil {
		return r, nil
	}
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	req.Header.Set("User-Agent", "hostfix-synflood-probe")
	start = time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r.Error = fmt.Sprintf("GET %s: %v", u.Redacted(), err)
		return r, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	ms2 := float64(time.Since(start).Microseconds()) / 1000
	r.RequestMS = &ms2
	r.HTTPCode = resp.StatusCode
	return r, nil
}
