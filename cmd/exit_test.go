package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/usage"
)

// TestErrorsBeforeParsing: a command line cobra refuses before it has parsed -o (an unknown
// command, a flag error before -o) still gets the error shape -o asked for: one JSON object,
// or a Nagios UNKNOWN line and exit 3.
func TestErrorsBeforeParsing(t *testing.T) {
	h := newHarness(t, allTestCmds()...)
	long := strings.Repeat("x", 300)
	cases := []struct {
		args   []string
		code   int
		format string // json, nagios or text
		msg    string // the whole message (JSON "error", the text after "hostfix: ", after "UNKNOWN: ")
	}{
		{[]string{"no-such", "-o", "json"}, 2, "json", `unknown command "no-such" for "hostfix"`},
		{[]string{"-o", "json", "no-such"}, 2, "json", `unknown command "no-such" for "hostfix"`},
		{[]string{"check-ok", "--bogus", "-o", "json"}, 3, "json", "unknown flag: --bogus"},
		{[]string{"change-usage", "--bogus", "--output=json"}, 2, "json", "unknown flag: --bogus"},
		{[]string{"--bogus", "-o", "json", "check-ok"}, 2, "json", "unknown flag: --bogus"},
		{[]string{"check-ok", "--count", "abc", "-ojson"}, 3, "json", "--count abc: not a number"},
		{[]string{"synflod", "check", "-o", "nagios"}, 3, "nagios", `unknown command "synflod" for "hostfix" (did you mean "synflood"?)`},
		{[]string{"-o", "nagios", "synflod", "check"}, 3, "nagios", `unknown command "synflod" for "hostfix" (did you mean "synflood"?)`},
		{[]string{"synflod", "check"}, 2, "text", `unknown command "synflod" for "hostfix" (did you mean "synflood"?)`},
		{[]string{"check-ok", "--count", "abc"}, 3, "text", "--count abc: not a number"},
		{[]string{"check-ok", "--count", "99999999999999999999"}, 3, "text", "--count 99999999999999999999: out of range"},
		{[]string{"check-ok", "--every", "soon"}, 3, "text", "--every soon: not a duration (e.g. 30s, 5m, 1h)"},
		{[]string{"check-ok", "--flag=maybe"}, 3, "text", "--flag maybe: want true or false"},
		{[]string{"change-usage", "--count"}, 2, "text", "--count: needs a value"},
		{[]string{"check-ok", "--count", long}, 3, "text", "--count " + long[:60] + "…: not a number"},
		{[]string{"no-" + long}, 2, "text", `unknown command "no-` + long[:57] + `…" for "hostfix"`},
		// Control characters and broken UTF-8 in what the user gave are shown escaped: an
		// error line never drives the terminal (colours, cursor) nor breaks into two lines.
		{[]string{"check-ok", "--count", "\x1b[31mred\nx\xff"}, 3, "text", `--count \x1b[31mred x\xff: not a number`},
		{[]string{"check-ok", "--count", "\x1b[31m", "-o", "json"}, 3, "json", "--count \x1b[31m: not a number"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := h.run(c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			switch c.format {
			case "json":
				if r.stdout != "" {
					t.Errorf("stdout = %q, want nothing", r.stdout)
				}
				var got struct {
					Error    string `json:"error"`
					ExitCode int    `json:"exit_code"`
				}
				if err := json.Unmarshal([]byte(r.stderr), &got); err != nil {
					t.Fatalf("stderr is not one JSON object: %v\n%s", err, r.stderr)
				}
				if got.Error != c.msg || got.ExitCode != c.code {
					t.Errorf("stderr = %+v, want error %q exit_code %d", got, c.msg, c.code)
				}
			case "nagios":
				if want := "HOSTFIX UNKNOWN: " + c.msg + "\n"; r.stdout != want {
					t.Errorf("stdout = %q, want %q", r.stdout, want)
				}
			default:
				first, _, _ := strings.Cut(r.stderr, "\n")
				if want := "hostfix: " + c.msg; first != want {
					t.Errorf("first stderr line = %q, want %q\nstderr: %s", first, want, r.stderr)
				}
				if strings.Contains(r.stderr, "strconv") || strings.Contains(r.stderr, "Did you mean") {
					t.Errorf("stderr has cobra's or Go's own words: %q", r.stderr)
				}
			}
		})
	}
}

// TestErrorsEscapeControlCharacters: a message that carries what the user gave (here a
// runbook's usage error and a Nagios UNKNOWN line) shows control characters escaped.
func TestErrorsEscapeControlCharacters(t *testing.T) {
	h := newHarness(t, testCmd("change-raw", kindChange, usage.Errorf("--sapi %s: unknown SAPI", "\x1b[31mred\u009b\xff")))
	r := h.run("change-raw")
	if want := "hostfix: --sapi \\x1b[31mred\\u009b\\xff: unknown SAPI\n"; r.stderr != want || r.code != 2 {
		t.Errorf("exit %d, stderr %q, want %q", r.code, r.stderr, want)
	}
	h = newHarness(t, allTestCmds()...)
	r = h.run("check-ok", "--bogus\x1b[2J", "-o", "nagios")
	if want := "CHECK-OK UNKNOWN: unknown flag: --bogus\\x1b[2J\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}
