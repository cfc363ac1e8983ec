// Command genexim writes a synthetic Exim main log (see package eximgen) for
// scripts/bench-exim.sh.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hostfix/hostfix/internal/eximgen"
)

func main() {
	out := flag.String("o", "", "output `FILE`")
	size := flag.Int64("bytes", 1<<30, "about this many bytes")
	rate := flag.Float64("failures", 0.10, "share of lines that are authenticator failures")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genexim:", err)
		os.Exit(1)
	}
	c, err := eximgen.Write(f, eximgen.Options{Bytes: *size, FailureRate: *rate, ServiceRate: 0.02, Seed: *seed})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genexim:", err)
		os.Exit(1)
	}
	fmt.Printf("%d lines, %d bytes, %d authenticator failures (%d service-auth, %d account), %d authenticated receptions\n",
		c.Lines, c.Bytes, c.Failures, c.ServiceAuth, c.Account, c.Logins)
}
