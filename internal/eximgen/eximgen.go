// Package eximgen writes synthetic Exim main logs from the line shapes a real Exim 4.96
// writes (receptions, deliveries, completions, connection noise and authenticator
// failures of both classes), for benchmarks and tests. Test-only; it writes only where
// it is told to.
package eximgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand"
	"time"
)

// Options shape a generated log.
type Options struct {
	Bytes       int64     // stop after about this many bytes
	FailureRate float64   // share of lines that are authenticator failures (0.10)
	ServiceRate float64   // share of those failures that are cPanel service-auth (0.02)
	Start       time.Time // timestamp of the first line; one line per Step
	Step        time.Duration
	Seed        int64
	IPs         int // distinct attacking addresses (5000)
	Accounts    int // distinct accounts tried (2000)
}

// Counts is what was written, for a test to compare with.
type Counts struct {
	Lines, Failures, ServiceAuth, Account, Logins int
	Bytes                                         int64
}

// Write writes the log to w.
func Write(w io.Writer, o Options) (Counts, error) {
	if o.FailureRate == 0 {
		o.FailureRate = 0.10
	}
	if o.IPs == 0 {
		o.IPs = 5000
	}
	if o.Accounts == 0 {
		o.Accounts = 2000
	}
	if o.Step == 0 {
		o.Step = 10 * time.Millisecond
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	}
	r := rand.New(rand.NewSource(o.Seed))
	bw := bufio.NewWriterSize(w, 1<<20)
	var c Counts
	t := o.Start
	pid := 20000
	var line []byte
	ip := func() string {
		n := r.Intn(o.IPs)
		if n%7 == 0 {
			return fmt.Sprintf("2001:db8:%x::%x", n/256, n%256+1)
		}
		return fmt.Sprintf("198.51.%d.%d", n/250%256, n%250+1)
	}
	msgID := func() string {
		const a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		b := make([]byte, 16)
		for i := range b {
			b[i] = a[r.Intn(len(a))]
		}
		b[6], b[13] = '-', '-'
		return string(b)
	}
	for c.Bytes < o.Bytes {
		ts := t.Format("2006-01-02 15:04:05")
		t = t.Add(o.Step)
		if r.Intn(50) == 0 {
			pid++
		}
		x := r.Float64()
		line = line[:0]
		switch {
		case x < o.FailureRate:
			c.Failures++
			if r.Float64() < o.ServiceRate {
				c.ServiceAuth++
				line = fmt.Appendf(line, "%s [%d] fixed_plain authenticator failed for localhost.localdomain (localhost) [127.0.0.1]:%d: 535 Incorrect authentication data (set_id=__cpanel__service__auth__exim__%08x)\n",
					ts, pid, 40000+r.Intn(20000), r.Uint32())
			} else {
				c.Account++
				a := r.Intn(o.Accounts)
				auth := "dovecot_login"
				if a%3 == 0 {
					auth = "dovecot_plain"
				}
				line = fmt.Appendf(line, "%s [%d] %s authenticator failed for (User) [%s]:%d I=[192.168.56.110]:%d: 535 Incorrect authentication data (set_id=user%d@example%d.com)\n",
					ts, pid, auth, ip(), 1024+r.Intn(60000), []int{25, 465, 587}[a%3], a, a%50)
			}
		case x < o.FailureRate+0.08:
			c.Logins++
			a := r.Intn(o.Accounts)
			line = fmt.Appendf(line, "%s [%d] %s <= user%d@example%d.com H=(laptop) [%s]:%d I=[192.168.56.110]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:user%d@example%d.com S=%d id=%s@laptop T=\"Re: meeting\"\n",
				ts, pid, msgID(), a, a%50, ip(), 1024+r.Intn(60000), a, a%50, 1000+r.Intn(90000), msgID())
		case x < o.FailureRate+0.30:
			line = fmt.Appendf(line, "%s [%d] %s <= sender%d@remote%d.example H=mx%d.remote.example [203.0.113.%d]:%d I=[192.168.56.110]:25 P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=%d id=%s@remote.example T=\"Your invoice\"\n",
				ts, pid, msgID(), r.Intn(1000), r.Intn(100), r.Intn(9), r.Intn(254)+1, 1024+r.Intn(60000), 2000+r.Intn(200000), msgID())
		case x < o.FailureRate+0.55:
			line = fmt.Appendf(line, "%s [%d] %s => user%d <user%d@example%d.com> R=virtual_user T=dovecot_virtual_delivery C=\"250 2.0.0 <user%d@example%d.com> Saved\"\n",
				ts, pid, msgID(), r.Intn(2000), r.Intn(2000), r.Intn(50), r.Intn(2000), r.Intn(50))
		case x < o.FailureRate+0.70:
			line = fmt.Appendf(line, "%s [%d] %s Completed\n", ts, pid, msgID())
		case x < o.FailureRate+0.85:
			line = fmt.Appendf(line, "%s [%d] SMTP connection from (User) [%s]:%d I=[192.168.56.110]:25 lost D=%ds\n", ts, pid, ip(), 1024+r.Intn(60000), r.Intn(30))
		default:
			line = fmt.Appendf(line, "%s [%d] H=(User) [%s]:%d I=[192.168.56.110]:25 rejected EHLO or HELO User: Your HELO/EHLO name is not a fully qualified domain name\n", ts, pid, ip(), 1024+r.Intn(60000))
		}
		n, err := bw.Write(line)
		c.Bytes += int64(n)
		c.Lines++
		if err != nil {
			return c, err
		}
	}
	return c, bw.Flush()
}
