package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/usage"
)

// result is one run of the CLI in a test.
type result struct {
	code           int
	stdout, stderr string
}

// harness builds the real root command plus test-only subcommands.
type harness struct {
	t    *testing.T
	env  map[string]string
	in   string
	tty  bool // stdin, stdout and stderr are terminals
	cmds []func(app *App) *cobra.Command
}

func newHarness(t *testing.T, cmds ...func(app *App) *cobra.Command) *harness {
	// A root with no config file, so the developer's /etc/hostfix cannot leak in.
	return &harness{t: t, env: map[string]string{"HOSTFIX_ROOT": t.TempDir()}, cmds: cmds}
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(h.in)
	ios.InTTY, ios.OutTTY, ios.ErrTTY = h.tty, h.tty, h.tty
	app := NewApp(ios, func(k string) string { return h.env[k] })
	app.Environ = func() []string {
		var kv []string
		for k, v := range h.env {
			kv = append(kv, k+"="+v)
		}
		return kv
	}
	root := NewRootCmd(app)
	for _, f := range h.cmds {
		root.AddCommand(f(app))
	}
	code := app.Execute(context.Background(), root, args)
	return result{code, out.String(), errOut.String()}
}

// testCmd is a test-only command of the given kind whose RunE returns err.
func testCmd(name, kind string, err error) func(app *App) *cobra.Command {
	return func(app *App) *cobra.Command {
		c := &cobra.Command{
			Use:  name,
			Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error { return err },
		}
		if kind != "" {
			c.Annotations = map[string]string{kindKey: kind, checkKey: name}
		}
		c.Flags().String("need", "", "a flag")
		c.Flags().Bool("a", false, "")
		c.Flags().Bool("b", false, "")
		c.Flags().Int("count", 0, "a number")
		c.Flags().Duration("every", 0, "a duration")
		c.Flags().Bool("flag", false, "a boolean")
		c.MarkFlagsMutuallyExclusive("a", "b")
		return c
	}
}

func allTestCmds() []func(app *App) *cobra.Command {
	return []func(app *App) *cobra.Command{
		testCmd("check-usage", kindCheck, usage.Errorf("queue %s: not a qmail queue", "/tmp")),
		testCmd("check-fail", kindCheck, errors.New("read /proc/net/tcp: permission denied")),
		testCmd("check-ok", kindCheck, nil),
		testCmd("change-usage", kindChange, usage.Errorf("--older-than: want a duration")),
		testCmd("change-fail", kindChange, errors.New("write /etc/sysctl.conf: read-only file system")),
		testCmd("change-exit", kindChange, &ExitError{Code: 2}),
		testCmd("change-exit-msg", kindChange, &ExitError{Code: ExitFailed, Err: errors.New("not confirmed: nothing changed")}),
		testCmd("plain-fail", "", errors.New("boom")),
		testCmd("plain-usage", "", usage.Errorf("bad input")),
		func(app *App) *cobra.Command {
			c := testCmd("change-required", kindChange, nil)(app)
			_ = c.MarkFlagRequired("need")
			return c
		},
	}
}

// TestExitCodes is the table of docs/exit-codes.md.
func TestExitCodes(t *testing.T) {
	h := newHarness(t, allTestCmds()...)
	cases := []struct {
		args   []string
		code   int
		stderr string // substring; "" means stderr must be empty
	}{
		{[]string{"check-ok"}, 0, ""},
		{[]string{"check-usage"}, 3, "hostfix: queue /tmp: not a qmail queue\n"},
		{[]string{"check-fail"}, 3, "hostfix: read /proc/net/tcp: permission denied\n"},
		{[]string{"check-ok", "--bogus"}, 3, "unknown flag: --bogus"},
		{[]string{"check-ok", "extra"}, 3, `unknown command "extra"`},
		{[]string{"check-ok", "-o", "xml"}, 3, `--output "xml": hostfix check-ok supports text, json, nagios, prometheus`},
		{[]string{"check-ok", "--a", "--b"}, 3, "hostfix: --a and --b cannot be used together\n"},
		{[]string{"change-usage"}, 2, "hostfix: --older-than: want a duration\n"},
		{[]string{"change-fail"}, 1, "hostfix: write /etc/sysctl.conf: read-only file system\n"},
		{[]string{"change-exit"}, 2, ""},
		{[]string{"change-exit-msg"}, 1, "not confirmed: nothing changed"},
		{[]string{"change-usage", "--bogus"}, 2, "unknown flag: --bogus\nRun 'hostfix change-usage --help' for usage.\n"},
		{[]string{"change-usage", "extra"}, 2, `unknown command "extra"`},
		{[]string{"change-usage", "-o", "nagios"}, 2, `--output "nagios": hostfix change-usage supports text, json`},
		{[]string{"-o", "prometheus", "config", "bogus"}, 3, `unknown command "bogus" for "hostfix config"`},
		{[]string{"change-required"}, 2, "hostfix: --need is required\n"},
		{[]string{"change-required", "--need", "x", "--a", "--b"}, 2, "--a and --b cannot be used together"},
		{[]string{"change-fail", "-q", "-v"}, 2, "hostfix: --quiet and --verbose cannot be used together\n"},
		{[]string{"change-fail", "--color", "purple"}, 2, `--color "purple": want auto, always or never`},
		{[]string{"plain-fail"}, 1, "hostfix: boom\n"},
		{[]string{"plain-usage"}, 2, "hostfix: bad input\n"},
		{[]string{"no-such-command"}, 2, `unknown command "no-such-command" for "hostfix"`},
		{[]string{"--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{[]string{"check-ok", "--root", "/nonexistent/hostfix"}, 3, "--root /nonexistent/hostfix: no such file or directory"},
		{[]string{"change-fail", "--root", "/nonexistent/hostfix"}, 2, "--root /nonexistent/hostfix"},
		{[]string{"change-fail", "--config", "/nonexistent/c.yaml"}, 2, "config /nonexistent/c.yaml: no such file or directory (fix the path given to --config)"},
		{[]string{"check-ok", "--config", "/nonexistent/c.yaml"}, 3, "config /nonexistent/c.yaml"},
		{[]string{"--help"}, 0, ""},
		{[]string{"config"}, 0, ""},
		{[]string{"config", "shwo"}, 2, `hostfix: unknown command "shwo" for "hostfix config" (see 'hostfix config --help')`},
		{[]string{"completion", "tcsh"}, 2, `unknown command "tcsh" for "hostfix completion"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := h.run(c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.code, r.stdout, r.stderr)
			}
			if c.stderr == "" && r.stderr != "" {
				t.Errorf("stderr = %q, want nothing", r.stderr)
			}
			if !strings.Contains(r.stderr, c.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, c.stderr)
			}
		})
	}
}

// TestJSONErrors: with -o json an error is one JSON object on stderr and stdout is empty.
func TestJSONErrors(t *testing.T) {
	h := newHarness(t, allTestCmds()...)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"change-fail", "-o", "json"}, 1, "write /etc/sysctl.conf: read-only file system"},
		{[]string{"change-usage", "-o", "json"}, 2, "--older-than: want a duration"},
		{[]string{"check-fail", "-o", "json"}, 3, "read /proc/net/tcp: permission denied"},
		{[]string{"-o", "json", "check-ok", "--bogus"}, 3, "unknown flag: --bogus"},
		{[]string{"-o", "json", "change-exit-msg"}, 1, "not confirmed: nothing changed"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := h.run(c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d", r.code, c.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
			var got map[string]any
			dec := json.NewDecoder(strings.NewReader(r.stderr))
			dec.UseNumber()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stderr is not JSON: %v\n%s", err, r.stderr)
			}
			if dec.More() {
				t.Errorf("stderr has more than one JSON value: %s", r.stderr)
			}
			want := map[string]any{"error": c.msg, "exit_code": json.Number(itoa(c.code))}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("stderr = %v, want %v", got, want)
			}
		})
	}
	// ExitError without a message says nothing, in JSON too.
	if r := h.run("change-exit", "-o", "json"); r.code != 2 || r.stderr != "" {
		t.Errorf("silent exit: code %d stderr %q", r.code, r.stderr)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }

// TestNagiosUnknown: a check that cannot run prints a Nagios UNKNOWN line on stdout, so the
// monitoring system shows the reason, and exits 3.
func TestNagiosUnknown(t *testing.T) {
	h := newHarness(t, allTestCmds()...)
	r := h.run("check-fail", "-o", "nagios")
	if r.code != 3 || r.stdout != "CHECK-FAIL UNKNOWN: read /proc/net/tcp: permission denied\n" {
		t.Errorf("code %d stdout %q", r.code, r.stdout)
	}
	r = h.run("check-usage", "-o", "nagios", "--a", "--b")
	if r.code != 3 || !strings.HasPrefix(r.stdout, "CHECK-USAGE UNKNOWN: --a and --b cannot be used together") {
		t.Errorf("code %d stdout %q", r.code, r.stdout)
	}
	if strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("want one line: %q", r.stdout)
	}
}

// TestRenderCheck: the status decides the exit code in every format, and the JSON object is
// exactly the contract of docs/output.md.
func TestRenderCheck(t *testing.T) {
	for _, st := range []check.Status{check.OK, check.Warning, check.Critical, check.Unknown} {
		for _, format := range []string{"text", "json", "nagios", "prometheus"} {
			cmd := func(app *App) *cobra.Command {
				return &cobra.Command{
					Use:         "demo",
					Annotations: map[string]string{kindKey: kindCheck, checkKey: "demo"},
					RunE: func(*cobra.Command, []string) error {
						r := &check.Result{Check: "demo", Summary: "all " + st.String(), Metrics: map[string]any{"n": 3}}
						if st != check.OK {
							r.Add(st, "something is "+st.String(), "do this")
						}
						return app.RenderCheck(r, "", "demo")
					},
				}
			}
			r := newHarness(t, cmd).run("demo", "-o", format)
			if r.code != st.ExitCode() {
				t.Errorf("%s %s: exit %d, want %d", st, format, r.code, st.ExitCode())
			}
			if r.stderr != "" {
				t.Errorf("%s %s: stderr %q", st, format, r.stderr)
			}
			switch format {
			case "json":
				var obj map[string]json.RawMessage
				if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil {
					t.Fatalf("json: %v", err)
				}
				keys := make([]string, 0, len(obj))
				for k := range obj {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if want := []string{"check", "findings", "metrics", "status", "summary"}; !reflect.DeepEqual(keys, want) {
					t.Errorf("json keys %v, want %v", keys, want)
				}
				if string(obj["status"]) != `"`+st.String()+`"` {
					t.Errorf("status %s", obj["status"])
				}
			case "nagios":
				if !strings.HasPrefix(r.stdout, "DEMO "+st.Upper()+": all "+st.String()) {
					t.Errorf("nagios: %q", r.stdout)
				}
			case "prometheus":
				if !strings.Contains(r.stdout, "hostfix_demo_status "+itoa(int(st))+"\n") {
					t.Errorf("prometheus: %q", r.stdout)
				}
			case "text":
				if !strings.HasPrefix(r.stdout, st.Upper()+" all "+st.String()+"\n") {
					t.Errorf("text: %q", r.stdout)
				}
			}
		}
	}
}

// TestColor: colour per stream, from --color, NO_COLOR, CLICOLOR_FORCE and the terminal.
func TestColor(t *testing.T) {
	cmd := func(app *App) *cobra.Command {
		return &cobra.Command{
			Use:         "demo",
			Annotations: map[string]string{kindKey: kindCheck, checkKey: "demo"},
			RunE: func(*cobra.Command, []string) error {
				return app.RenderCheck(&check.Result{Check: "demo", Status: check.Critical, Summary: "bad"}, "", "demo")
			},
		}
	}
	cases := []struct {
		name  string
		tty   bool
		env   map[string]string
		args  []string
		color bool
	}{
		{"pipe", false, nil, nil, false},
		{"terminal", true, nil, nil, true},
		{"always on a pipe", false, nil, []string{"--color", "always"}, true},
		{"never on a terminal", true, nil, []string{"--color=never"}, false},
		{"NO_COLOR on a terminal", true, map[string]string{"NO_COLOR": "1"}, nil, false},
		{"NO_COLOR loses to --color always", false, map[string]string{"NO_COLOR": "1"}, []string{"--color", "always"}, true},
		{"CLICOLOR_FORCE on a pipe", false, map[string]string{"CLICOLOR_FORCE": "1"}, nil, true},
		{"CLICOLOR_FORCE=0 on a pipe", false, map[string]string{"CLICOLOR_FORCE": "0"}, nil, false},
		{"NO_COLOR beats CLICOLOR_FORCE", false, map[string]string{"NO_COLOR": "x", "CLICOLOR_FORCE": "1"}, nil, false},
		{"CLICOLOR=0 on a terminal", true, map[string]string{"CLICOLOR": "0"}, nil, false},
		{"TERM=dumb on a terminal", true, map[string]string{"TERM": "dumb"}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, cmd)
			h.tty = c.tty
			for k, v := range c.env {
				h.env[k] = v
			}
			r := h.run(append([]string{"demo"}, c.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d", r.code)
			}
			if got := strings.Contains(r.stdout, "\x1b["); got != c.color {
				t.Errorf("colour = %v, want %v: %q", got, c.color, r.stdout)
			}
		})
	}
	// Per stream: stdout piped, stderr a terminal.
	ios, _, out, errOut := iostreams.Test()
	ios.ErrTTY = true
	app := NewApp(ios, func(string) string { return "" })
	root := NewRootCmd(app)
	root.AddCommand(testCmd("fail", kindChange, errors.New("boom"))(app), cmd(app))
	app.Execute(context.Background(), root, []string{"fail"})
	if !strings.Contains(errOut.String(), "\x1b[31mhostfix:") {
		t.Errorf("stderr on a terminal is not coloured: %q", errOut.String())
	}
	out.Reset()
	app.Execute(context.Background(), root, []string{"demo"})
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("piped stdout is coloured: %q", out.String())
	}
}

// TestConfirm: --yes answers; a non-terminal stdin is refused with advice; a terminal
// is asked, on stderr, and several prompts share one reader.
func TestConfirm(t *testing.T) {
	cmd := func(app *App) *cobra.Command {
		return &cobra.Command{
			Use:         "purge",
			Annotations: map[string]string{kindKey: kindChange},
			RunE: func(*cobra.Command, []string) error {
				if err := app.Confirm("delete 3 messages?"); err != nil {
					return err
				}
				if err := app.Confirm("really?"); err != nil {
					return err
				}
				_, err := app.IO.Out.Write([]byte("deleted\n"))
				return err
			},
		}
	}
	cases := []struct {
		name   string
		tty    bool
		in     string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"pipe refused", false, "y\ny\n", nil, 2, "", "hostfix: delete 3 messages? needs confirmation, but stdin is not a terminal: pass --yes to confirm (or --dry-run to preview)\n"},
		{"pipe with --yes", false, "", []string{"--yes"}, 0, "deleted\n", ""},
		{"terminal yes", true, "y\nYES\n", nil, 0, "deleted\n", "delete 3 messages? [y/N] really? [y/N] "},
		{"terminal no", true, "y\nn\n", nil, 1, "", "delete 3 messages? [y/N] really? [y/N] \x1b[31mhostfix:\x1b[0m not confirmed: nothing changed\n"},
		{"terminal empty answer", true, "\n", nil, 1, "", "not confirmed"},
		{"terminal EOF", true, "", nil, 1, "", "not confirmed"},
		{"-y on a terminal does not ask", true, "", []string{"-y"}, 0, "deleted\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, cmd)
			h.tty, h.in = c.tty, c.in
			r := h.run(append([]string{"purge"}, c.args...)...)
			if r.code != c.code || r.stdout != c.stdout || !strings.Contains(r.stderr, c.stderr) || (c.stderr == "" && r.stderr != "") {
				t.Errorf("got exit %d stdout %q stderr %q\nwant exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}

func TestQuietVerbose(t *testing.T) {
	cmd := func(app *App) *cobra.Command {
		return &cobra.Command{Use: "talk", RunE: func(*cobra.Command, []string) error {
			app.Logf("progress %d", 1)
			app.Debugf("detail %d", 2)
			return nil
		}}
	}
	h := newHarness(t, cmd)
	for _, c := range []struct {
		flag, want string
	}{{"", "progress 1\n"}, {"-q", ""}, {"-v", "progress 1\ndetail 2\n"}} {
		args := []string{"talk"}
		if c.flag != "" {
			args = append(args, c.flag)
		}
		if r := h.run(args...); r.code != 0 || r.stderr != c.want || r.stdout != "" {
			t.Errorf("%q: exit %d stdout %q stderr %q, want stderr %q", c.flag, r.code, r.stdout, r.stderr, c.want)
		}
	}
}

// TestRootAndConfig: --root and HOSTFIX_ROOT place the host; the default config file is
// read under it; HOSTFIX_CONFIG and --config choose another; bound flags win over env.
func TestRootAndConfig(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/hostfix"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostfix/config.yaml"), []byte("synflood:\n  backlog: 111\n  top_sources: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("synflood:\n  backlog: 222\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got struct {
		root, path       string
		backlog, top     int
		backlogSrc, file string
	}
	cmd := func(app *App) *cobra.Command {
		c := &cobra.Command{Use: "show", RunE: func(*cobra.Command, []string) error {
			got.root = app.Host().Root
			got.path = app.Host().Path("/etc/hostfix/config.yaml")
			got.backlog = app.Config().Synflood.Backlog
			got.top = app.Config().Synflood.TopSources
			got.backlogSrc = app.Loaded().Sources["synflood.backlog"].String()
			got.file = app.Loaded().File
			return nil
		}}
		c.Flags().Int("backlog", 0, "")
		app.Bind(c, "backlog", "synflood.backlog")
		return c
	}
	h := newHarness(t, cmd)
	h.env["HOSTFIX_ROOT"] = root
	check := func(args []string, backlog int, src string) {
		t.Helper()
		got.backlog = -1
		if r := h.run(append([]string{"show"}, args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if got.backlog != backlog || got.backlogSrc != src {
			t.Errorf("%v: backlog %d from %s, want %d from %s", args, got.backlog, got.backlogSrc, backlog, src)
		}
	}
	check(nil, 111, "file /etc/hostfix/config.yaml:2")
	if got.root != root || got.path != filepath.Join(root, "etc/hostfix/config.yaml") || got.top != 3 {
		t.Errorf("HOSTFIX_ROOT not used: %+v", got)
	}
	h.env["HOSTFIX_SYNFLOOD_BACKLOG"] = "333"
	check(nil, 333, "env HOSTFIX_SYNFLOOD_BACKLOG")
	check([]string{"--backlog", "444"}, 444, "flag --backlog")
	delete(h.env, "HOSTFIX_SYNFLOOD_BACKLOG")
	h.env["HOSTFIX_CONFIG"] = other
	check(nil, 222, "file "+other+":2")
	if got.top != 10 {
		t.Errorf("HOSTFIX_CONFIG must replace the default file, not merge: top_sources %d", got.top)
	}
	check([]string{"--config", filepath.Join(root, "etc/hostfix/config.yaml")}, 111, "file "+filepath.Join(root, "etc/hostfix/config.yaml")+":2")
	// --root beats HOSTFIX_ROOT.
	delete(h.env, "HOSTFIX_CONFIG")
	check([]string{"--root", t.TempDir()}, 2048, "default")
}

// TestNoSetupCommands: version, docs, completion and help work with a broken config file.
func TestNoSetupCommands(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/hostfix"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostfix/config.yaml"), []byte("nonsense: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.env["HOSTFIX_ROOT"] = root
	for _, args := range [][]string{{"version"}, {"completion", "bash"}, {"help", "config"}, {"docs", "--dir", t.TempDir()}} {
		if r := h.run(args...); r.code != 0 {
			t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if r := h.run("config", "show"); r.code != 2 || !strings.Contains(r.stderr, "/etc/hostfix/config.yaml:1") {
		t.Errorf("config show with a broken file: exit %d: %s", r.code, r.stderr)
	}
}

func TestCompletion(t *testing.T) {
	h := newHarness(t)
	for shell, marker := range map[string]string{
		"bash":       "__start_hostfix",
		"zsh":        "#compdef hostfix",
		"fish":       "complete -c hostfix",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := h.run("completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: exit %d, no %q in output (%d bytes)", shell, r.code, marker, len(r.stdout))
		}
	}
	for args, want := range map[string]string{
		"--color|":                 "auto\nalways\nnever\n:4\n",
		"config|show|-o|":          "text\njson\n:4\n",
		"synflood|check|--output|": "text\njson\nnagios\nprometheus\n:4\n",
	} {
		r := h.run(append([]string{"__complete"}, strings.Split(args, "|")...)...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Errorf("complete %q: exit %d %q, want %q", args, r.code, r.stdout, want)
		}
	}
	// Dynamic completion goes through the root's setup too.
	r := h.run("__complete", "con")
	if r.code != 0 || !strings.Contains(r.stdout, "config") {
		t.Errorf("__complete: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestExitStatusInHelp(t *testing.T) {
	h := newHarness(t, allTestCmds()...)
	for cmd, want := range map[string]string{
		"check-ok":    "Exit status (Nagios plugin codes): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
		"change-fail": "Exit status: 0 changed, or nothing to do; 1 the change failed",
		"version":     "Exit status: 0 success; 1 failure; 2 bad usage or bad input.",
	} {
		r := h.run(cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("%s --help lacks %q:\n%s", cmd, want, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	h := newHarness(t)
	r := h.run("version", "-o", "json")
	var v map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.stdout)
	}
	for _, k := range []string{"version", "commit", "date", "go_version", "platform"} {
		if v[k] == "" {
			t.Errorf("version -o json lacks %s: %v", k, v)
		}
	}
	if len(v) != 5 {
		t.Errorf("unexpected keys: %v", v)
	}
	r = h.run("--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "hostfix "+v["version"]+" (commit ") {
		t.Errorf("--version: %q", r.stdout)
	}
	if r := h.run("version", "-o", "nagios"); r.code != 2 {
		t.Errorf("version -o nagios: exit %d", r.code)
	}
}

func TestConfigShow(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("mailq:\n  queue: /srv/queue\n  stop_command: [qmailctl, stop]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.env["HOSTFIX_SYNFLOOD_INTERVAL"] = "5s"
	r := h.run("--config", file, "config", "show")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"# effective configuration; config file: " + file + "\n",
		"\nmailq:\n  queue: /srv/queue # from file " + file + ":2\n",
		"  stop_command: [qmailctl, stop] # from file " + file + ":3\n",
		"  interval: 5s # from env HOSTFIX_SYNFLOOD_INTERVAL\n",
		"  lock_file: /run/hostfix.lock # default\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config show lacks %q:\n%s", want, r.stdout)
		}
	}
	r = h.run("--config", file, "config", "show", "-o", "json")
	var got map[string]ConfigValue
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	if v := got["synflood.interval"]; v.Value != "5s" || v.Source != "env" || v.Origin != "HOSTFIX_SYNFLOOD_INTERVAL" {
		t.Errorf("synflood.interval = %+v", v)
	}
	if v := got["mailq.stop_command"]; !reflect.DeepEqual(v.Value, []any{"qmailctl", "stop"}) || v.Source != "file" || v.Origin != file+":3" {
		t.Errorf("mailq.stop_command = %+v", v)
	}
	if v := got["synflood.backlog"]; v.Value != float64(2048) || v.Source != "default" || v.Origin != "" {
		t.Errorf("synflood.backlog = %+v", v)
	}
}

func TestFlagsOnEveryCommand(t *testing.T) {
	// Every registered command must accept the global flags and follow the output rule
	// (text and json at least).
	app := NewApp(&iostreams.IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, nil)
	root := NewRootCmd(app)
	for _, name := range []string{"dry-run", "yes", "output", "color", "root", "config", "quiet", "verbose"} {
		if root.PersistentFlags().Lookup(name) == nil {
			t.Errorf("global flag --%s missing", name)
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if k := c.Annotations[kindKey]; k != "" && k != kindCheck && k != kindChange {
			t.Errorf("%s: unknown kind %q", c.CommandPath(), k)
		}
		if c.Annotations[kindKey] == kindCheck && c.Annotations[checkKey] == "" {
			t.Errorf("%s: check command without a %s annotation (its Nagios name)", c.CommandPath(), checkKey)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// TestBindOnParent: a persistent flag bound on a noun applies to its subcommands, and a
// leaf's own binding of the same key wins.
func TestBindOnParent(t *testing.T) {
	var queue string
	var src string
	noun := func(app *App) *cobra.Command {
		n := &cobra.Command{Use: "noun"}
		n.PersistentFlags().String("queue", "", "")
		app.Bind(n, "queue", "mailq.queue")
		leaf := &cobra.Command{Use: "leaf", RunE: func(*cobra.Command, []string) error {
			queue, src = app.Config().Mailq.Queue, app.Loaded().Sources["mailq.queue"].String()
			return nil
		}}
		other := &cobra.Command{Use: "other", RunE: leaf.RunE}
		other.Flags().String("q2", "", "")
		app.Bind(other, "q2", "mailq.queue")
		n.AddCommand(leaf, other)
		return n
	}
	h := newHarness(t, noun)
	h.env["HOSTFIX_MAILQ_QUEUE"] = "/env"
	for _, c := range []struct {
		args       []string
		queue, src string
	}{
		{[]string{"noun", "leaf"}, "/env", "env HOSTFIX_MAILQ_QUEUE"},
		{[]string{"noun", "leaf", "--queue", "/flag"}, "/flag", "flag --queue"},
		{[]string{"noun", "--queue", "/flag", "leaf"}, "/flag", "flag --queue"},
		{[]string{"noun", "other", "--q2", "/leaf"}, "/leaf", "flag --q2"},
		{[]string{"noun", "other", "--queue", "/parent"}, "/parent", "flag --queue"},
		{[]string{"noun", "other", "--queue", "/parent", "--q2", "/leaf"}, "/leaf", "flag --q2"},
	} {
		queue, src = "", ""
		if r := h.run(c.args...); r.code != 0 || queue != c.queue || src != c.src {
			t.Errorf("%v: exit %d %s; queue %q from %q, want %q from %q", c.args, r.code, r.stderr, queue, src, c.queue, c.src)
		}
	}
}

// TestInterrupted: a signal cancels the context; the command's error says so and the exit
// code follows the command's kind.
func TestInterrupted(t *testing.T) {
	wait := func(kind string) func(app *App) *cobra.Command {
		return func(app *App) *cobra.Command {
			c := &cobra.Command{Use: "wait-" + kind, RunE: func(c *cobra.Command, _ []string) error {
				<-c.Context().Done()
				return fmt.Errorf("sample counters: %w", c.Context().Err())
			}}
			c.Annotations = map[string]string{kindKey: kind, checkKey: "wait"}
			return c
		}
	}
	for kind, code := range map[string]int{kindCheck: 3, kindChange: 1} {
		ios, _, _, errOut := iostreams.Test()
		app := NewApp(ios, func(k string) string { return map[string]string{"HOSTFIX_ROOT": t.TempDir()}[k] })
		root := NewRootCmd(app)
		root.AddCommand(wait(kind)(app))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if got := app.Execute(ctx, root, []string{"wait-" + kind}); got != code {
			t.Errorf("%s: exit %d, want %d", kind, got, code)
		}
		if want := "hostfix: interrupted: sample counters: context canceled\n"; errOut.String() != want {
			t.Errorf("%s: stderr %q, want %q", kind, errOut.String(), want)
		}
	}
}
