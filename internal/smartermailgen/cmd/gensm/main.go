// Command gensm writes a SmarterMail installation and Domains tree for benchmarks
// (scripts/bench-smartermail.sh).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hostfix/hostfix/internal/smartermailgen"
)

func main() {
	var o smartermailgen.Options
	var domains int
	flag.StringVar(&o.Layout, "layout", "legacy", "legacy or current")
	flag.StringVar(&o.Install, "install", "", "installation folder to write")
	flag.StringVar(&o.Domains, "domains", "", "Domains folder to write")
	flag.StringVar(&o.ConfigDomainsRoot, "config-root", `C:\SmarterMail\Domains`, "the Domains folder as the config names it")
	flag.IntVar(&domains, "n-domains", 10, "domains")
	flag.IntVar(&o.Users, "users", 20, "users per domain")
	flag.IntVar(&o.Messages, "messages", 100, "messages per user")
	flag.IntVar(&o.Depth, "depth", 2, "nested folders per mailbox")
	flag.IntVar(&o.MinSize, "min", 2<<10, "smallest message")
	flag.IntVar(&o.MaxSize, "max", 50<<10, "largest ordinary message")
	flag.IntVar(&o.BigSize, "big", 0, "size of every -big-every-th message")
	flag.IntVar(&o.BigEvery, "big-every", 0, "one big message every N")
	flag.BoolVar(&o.Excludable, "excludable", true, "add *.stat3, *.grp and IndexV2 files")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.Parse()
	if o.Install == "" || o.Domains == "" {
		fmt.Fprintln(os.Stderr, "gensm: -install and -domains are required")
		os.Exit(2)
	}
	for i := 0; i < domains; i++ {
		o.DomainNames = append(o.DomainNames, fmt.Sprintf("domain%03d.example", i))
	}
	res, err := smartermailgen.Write(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensm:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d bytes (%s layout, domains %s)\n", res.Files, res.Bytes, o.Layout, strings.Join(o.DomainNames[:min(2, len(o.DomainNames))], ", "))
}
