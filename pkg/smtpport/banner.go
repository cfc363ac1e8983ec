package smtpport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ErrNoBanner is a connection that gave no 220 greeting.
var ErrNoBanner = errors.New("no 220 banner")

// ProbeBanner connects to addr (host:port) and reads the SMTP greeting within timeout. It
// returns the first greeting line; the error wraps ErrNoBanner when the server answered
// something else, closed the connection or stayed silent. It says QUIT before closing so
// the server logs a clean session.
func ProbeBanner(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	r := bufio.NewReaderSize(c, 1024)
	line, err := r.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if len(line) > 200 {
		line = line[:200]
	}
	if err != nil && line == "" {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "", fmt.Errorf("%s: %w within %s", addr, ErrNoBanner, timeout)
		}
		return "", fmt.Errorf("%s: %w: connection closed without a greeting", addr, ErrNoBanner)
	}
	if !strings.HasPrefix(line, "220") {
		return line, fmt.Errorf("%s: %w: got %q", addr, ErrNoBanner, line)
	}
	c.Write([]byte("QUIT\r\n"))
	return line, nil
}
