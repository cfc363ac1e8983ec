package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
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
			for _, k := range []string{"HOSTFIX_ROOT", "HOSTFIX_CONFIG", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"} {
				env.Setenv(k, "")
			}
			// SRCROOT lets scripts read files of the source tree (packaging/config.yaml).
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("SRCROOT", wd)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N CMD ARGS... runs CMD and fails unless it exits with exactly N;
			// stdout and stderr stay available to the following assertions.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N command [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: bad code %q", args[0])
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				var ee *exec.ExitError
				switch {
				case err == nil:
				case errors.As(err, &ee):
					got = ee.ExitCode()
				default:
					ts.Fatalf("exitcode: %v", err)
				}
				if got != want {
					ts.Logf("stdout:\n%s\nstderr:\n%s", ts.ReadFile("stdout"), ts.ReadFile("stderr"))
					ts.Fatalf("%s exited %d, want %d", args[1], got, want)
				}
			},
			// jsonkeys FILE KEY... fails unless FILE (stdout, stderr or a file) holds exactly
			// one JSON object whose top-level keys are exactly KEY...: the output contract.
			"jsonkeys": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 1 {
					ts.Fatalf("usage: jsonkeys FILE KEY...")
				}
				dec := json.NewDecoder(strings.NewReader(ts.ReadFile(args[0])))
				var obj map[string]json.RawMessage
				if err := dec.Decode(&obj); err != nil {
					ts.Fatalf("jsonkeys: %s is not a JSON object: %v", args[0], err)
				}
				if dec.More() {
					ts.Fatalf("jsonkeys: %s holds more than one JSON value", args[0])
				}
				got := make([]string, 0, len(obj))
				for k := range obj {
					got = append(got, k)
				}
				want := append([]string{}, args[1:]...)
				sort.Strings(got)
				sort.Strings(want)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					ts.Fatalf("jsonkeys: %s has keys %v, want %v", args[0], got, want)
				}
			},
			// ndjson FILE N fails unless FILE is exactly N lines, each one JSON object.
			"ndjson": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: ndjson FILE N")
				}
				want, err := strconv.Atoi(args[1])
				if err != nil {
					ts.Fatalf("ndjson: bad count %q", args[1])
				}
				text := ts.ReadFile(args[0])
				lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
				if text == "" {
					lines = nil
				}
				if len(lines) != want {
					ts.Fatalf("ndjson: %s has %d lines, want %d", args[0], len(lines), want)
				}
				for i, line := range lines {
					var obj map[string]json.RawMessage
					if err := json.Unmarshal([]byte(line), &obj); err != nil {
						ts.Fatalf("ndjson: %s line %d is not a JSON object: %v", args[0], i+1, err)
					}
				}
			},
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
	})
}
