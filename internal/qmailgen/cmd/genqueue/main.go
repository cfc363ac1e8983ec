// Command genqueue writes a realistic qmail queue for hostfix's benchmarks
// (scripts/bench-mailq.sh). It refuses a directory that already holds a queue.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hostfix/hostfix/internal/qmailgen"
)

func main() {
	var o qmailgen.Options
	dir := flag.String("dir", "", "queue directory to create")
	flag.IntVar(&o.Messages, "n", 100000, "number of messages")
	flag.IntVar(&o.Split, "split", 23, "conf-split")
	flag.BoolVar(&o.BigTodo, "big-todo", false, "split todo/ and intd/ too")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.BoolVar(&o.NoBodies, "small", false, "small messages only")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "genqueue: -dir is required")
		os.Exit(2)
	}
	msgs, err := qmailgen.Generate(*dir, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genqueue:", err)
		os.Exit(1)
	}
	var bytes int64
	spam := 0
	for _, m := range msgs {
		bytes += int64(m.Size)
		if m.Sender == "spam@victim.example" {
			spam++
		}
	}
	fmt.Printf("%d messages, %d bytes, %d from spam@victim.example\n", len(msgs), bytes, spam)
}
