// Command mx-dnsserver serves test zones on 127.0.0.1 for scripts/bench-mx.sh and manual
// tries of `hostfix mx check`: it prints its address (127.0.0.1:PORT) on the first line of
// stdout and serves until killed. Zone data is internal/dnstest's format; -synth SUFFIX
// answers "MX 10 mail.SUFFIX" for every name under SUFFIX and "A 127.0.0.1" for the MX.
// Loopback only.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hostfix/hostfix/internal/dnstest"
)

func main() {
	zoneFile := flag.String("zone", "", "zone `FILE` to serve")
	synth := flag.String("synth", "", "answer MX for every name under `SUFFIX`")
	flag.Parse()
	text := ""
	if *zoneFile != "" {
		b, err := os.ReadFile(*zoneFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		text = string(b)
	}
	if *synth != "" {
		text += fmt.Sprintf("\n$SYNTH %s *\n", *synth)
	}
	s, err := dnstest.Start(text)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(s.Addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	s.Close()
}
