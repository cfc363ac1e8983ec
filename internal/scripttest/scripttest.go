// Package scripttest holds what every testscript harness of hostfix shares: the custom
// commands (exitcode, jsonkeys, ndjson), the environment scrub and the [root] condition.
// main_test.go and the runbooks' own harnesses use it (Params), so a script asserts
// exit codes and the JSON contract the same way everywhere. Test-only; it changes nothing.
package scripttest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// Scrub clears variables of a developer's environment that would change hostfix's
// behaviour in a script.
func Scrub(env *testscript.Env) {
	for _, k := range []string{"HOSTFIX_ROOT", "HOSTFIX_CONFIG", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"} {
		env.Setenv(k, "")
	}
}

// Condition answers [root]; other conditions are testscript's own ([exec:prog] …).
func Condition(cond string) (bool, error) {
	switch cond {
	case "root":
		return os.Geteuid() == 0, nil
	}
	return false, errors.New("unknown condition " + cond)
}

// Commands returns the shared custom commands, merged with extra (extra wins).
func Commands(extra map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exitcode": exitcode,
		"jsonkeys": jsonkeys,
		"ndjson":   ndjson,
	}
	for k, v := range extra {
		cmds[k] = v
	}
	return cmds
}

// exitcode N CMD ARGS... runs CMD and fails unless it exits with exactly N; stdout and
// stderr stay available to the following assertions.
func exitcode(ts *testscript.TestScript, neg bool, args []string) {
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
}

// jsonkeys FILE KEY... fails unless FILE (stdout, stderr or a file) holds exactly one JSON
// object whose top-level keys are exactly KEY...: the output contract.
func jsonkeys(ts *testscript.TestScript, neg bool, args []string) {
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
}

// ndjson FILE N fails unless FILE is exactly N lines, each one JSON object.
func ndjson(ts *testscript.TestScript, neg bool, args []string) {
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
}

// Cmd is a custom testscript command.
type Cmd = func(ts *testscript.TestScript, neg bool, args []string)

// Params are the settings every hostfix harness runs its scripts with: the scripts in dir,
// explicit exec, the scrubbed environment plus env, the [root] condition, and the shared
// commands plus extra. A harness's TestScripts is then one testscript.Run call.
func Params(dir string, env map[string]string, extra map[string]Cmd) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			Scrub(e)
			for k, v := range env {
				e.Setenv(k, v)
			}
			return nil
		},
		Condition: Condition,
		Cmds:      Commands(extra),
	}
}
