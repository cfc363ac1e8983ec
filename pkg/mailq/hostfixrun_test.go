//go:build unix

package mailq_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// runHostfix runs the built hostfix on a rig's --root and --config, with env (nil: this
// process's environment) and no colour, and returns its output and exit code.
func runHostfix(t *testing.T, env []string, root, config string, args ...string) (string, int) {
	t.Helper()
	out, err := hostfixCmd(env, root, config, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func hostfixCmd(env []string, root, config string, args ...string) *exec.Cmd {
	if env == nil {
		env = os.Environ()
	}
	c := exec.Command("hostfix", append([]string{"--root", root, "--config", config}, args...)...)
	c.Env = append(append([]string{}, env...), "HOSTFIX_ROOT=", "NO_COLOR=1")
	return c
}

// listedMsg is one line of `hostfix mailq list -o json`, the fields the rigs compare.
type listedMsg struct {
	ID, State, MTA string
	Size           int64
	Sender         *string
}

// listJSON runs `hostfix mailq list -o json ARGS` on a rig and decodes its lines.
func listJSON(t *testing.T, env []string, root, config string, args ...string) []listedMsg {
	t.Helper()
	out, err := hostfixCmd(env, root, config, append([]string{"mailq", "list", "-o", "json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("hostfix mailq list: %v\n%s", err, out)
	}
	var msgs []listedMsg
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var m listedMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("list line %q: %v", sc.Text(), err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}
