package mx_test

// End-to-end tests of `hostfix mx` as a real process: testscript scenarios
// (testdata/mx/script) against fixture trees of every MTA layout, with DNS served by a
// test server on 127.0.0.1 that the script starts (dnsserver ZONEFILE sets $DNS).

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/dnstest"
	"github.com/hostfix/hostfix/internal/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix":      func() { os.Exit(cmd.Execute()) },
		"mx-ns-helper": func() { os.Exit(nsHelper(os.Args[1:])) },
	})
}

func TestScript(t *testing.T) {
	zone, err := filepath.Abs("testdata/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, scripttest.Params("../../testdata/mx/script", map[string]string{"ZONE": zone}, map[string]scripttest.Cmd{
		// dnsserver ZONEFILE serves the zone on 127.0.0.1 for the rest of the script
		// and sets $DNS to its address.
		"dnsserver": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: dnsserver ZONEFILE")
			}
			s, err := dnstest.Start(ts.ReadFile(args[0]))
			ts.Check(err)
			ts.Defer(s.Close)
			ts.Setenv("DNS", s.Addr)
		},
	}))
}
