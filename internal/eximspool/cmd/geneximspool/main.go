// Command geneximspool writes an Exim spool (input/ directory) for hostfix's benchmarks
// (scripts/bench-mailq.sh).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hostfix/hostfix/internal/eximspool"
)

func main() {
	o := eximspool.Options{UID: -1, GID: -1}
	dir := flag.String("dir", "", "input directory to create (spool_directory/input)")
	flag.IntVar(&o.Messages, "n", 50000, "number of messages")
	flag.BoolVar(&o.Split, "split", false, "split_spool_directory layout")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.IntVar(&o.UID, "uid", -1, "owner of the files")
	flag.IntVar(&o.GID, "gid", -1, "group of the files")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "geneximspool: -dir is required")
		os.Exit(2)
	}
	msgs, err := eximspool.Generate(*dir, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "geneximspool:", err)
		os.Exit(1)
	}
	spam := 0
	for _, m := range msgs {
		if m.Sender == "spam@victim.example" {
			spam++
		}
	}
	fmt.Printf("%d messages, %d from spam@victim.example\n", len(msgs), spam)
}
