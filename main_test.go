package main

import (
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/internal/scripttest"
)

// TestMain lets testscript re-run this test binary as the real `hostfix` command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix": func() { os.Exit(cmd.Execute()) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script against the built CLI.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// A developer's environment must not leak into the scripts.
			scripttest.Scrub(env)
			// SRCROOT lets scripts read files of the source tree (packaging/config.yaml).
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("SRCROOT", wd)
			return nil
		},
		Cmds: scripttest.Commands(map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// genqueue DIR N: a real-shaped qmail queue of N messages (doctor, fleet scripts).
			"genqueue": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: genqueue DIR N")
				}
				n, err := strconv.Atoi(args[1])
				ts.Check(err)
				_, err = qmailgen.Generate(ts.MkAbs(args[0]), qmailgen.Options{Messages: n, Seed: 1, NoBodies: true, Layout: qmailgen.Layout{Split: 23}})
				ts.Check(err)
			},
		}),
		Condition: scripttest.Condition,
	})
}
