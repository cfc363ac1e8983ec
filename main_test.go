package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
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
			for _, k := range []string{"HOSTFIX_ROOT", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"} {
				env.Setenv(k, "")
			}
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
