package smtpport

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// serve answers every connection on a loopback port with fn.
func serve(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	return l.Addr().String()
}

func TestProbeBanner(t *testing.T) {
	ctx := context.Background()
	quit := make(chan string, 1)
	ok := serve(t, func(c net.Conn) {
		c.Write([]byte("220 mail.example ESMTP\r\n"))
		b := make([]byte, 16)
		n, _ := c.Read(b)
		quit <- string(b[:n])
	})
	line, err := ProbeBanner(ctx, ok, time.Second)
	if err != nil || line != "220 mail.example ESMTP" {
		t.Fatalf("220: %q %v", line, err)
	}
	if got := <-quit; got != "QUIT\r\n" {
		t.Fatalf("the probe said %q, want QUIT", got)
	}

	for name, tt := range map[string]struct {
		fn   func(c net.Conn)
		want string
	}{
		"refusal":  {func(c net.Conn) { c.Write([]byte("554 go away\r\n")) }, `got "554 go away"`},
		"closed":   {func(c net.Conn) {}, "connection closed without a greeting"},
		"silent":   {func(c net.Conn) { time.Sleep(2 * time.Second) }, "no 220 banner within 300ms"},
		"no crlf":  {func(c net.Conn) { c.Write([]byte("220")) }, ""},
		"multline": {func(c net.Conn) { c.Write([]byte("220-first\r\n220 second\r\n")) }, ""},
	} {
		t.Run(name, func(t *testing.T) {
			line, err := ProbeBanner(ctx, serve(t, tt.fn), 300*time.Millisecond)
			if tt.want == "" {
				if err != nil || !strings.HasPrefix(line, "220") {
					t.Fatalf("%q %v", line, err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNoBanner) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}

	// Nothing listening: a connect error, not ErrNoBanner.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	if _, err := ProbeBanner(ctx, addr, time.Second); err == nil || errors.Is(err, ErrNoBanner) || !strings.Contains(err.Error(), "connect "+addr) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestWaitBannerGone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.VerifyTimeout, cfg.VerifyWait = 200*time.Millisecond, 400*time.Millisecond
	addr := serve(t, func(c net.Conn) { c.Write([]byte("220 still here\r\n")) })
	err := waitBanner(context.Background(), addr, cfg, false)
	if err == nil || !strings.Contains(err.Error(), `still answers "220 still here"`) {
		t.Fatalf("error %v", err)
	}
	if err := waitBanner(context.Background(), addr, cfg, true); err != nil {
		t.Fatal(err)
	}
}
