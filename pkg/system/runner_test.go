package system

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/internal/testenv"
)

func TestFormatArgv(t *testing.T) {
	cases := map[string][]string{
		"qmailctl stop":                        {"qmailctl", "stop"},
		"echo 'a b' '' 'it'\\''s' '$HOME' '*'": {"echo", "a b", "", "it's", "$HOME", "*"},
		"sysctl -w net.ipv4.tcp_syncookies=1":  {"sysctl", "-w", "net.ipv4.tcp_syncookies=1"},
		"x ';' '|' '&&' '>'":                   {"x", ";", "|", "&&", ">"},
	}
	for want, argv := range cases {
		if got := FormatArgv(argv); got != want {
			t.Errorf("FormatArgv(%q) = %q, want %q", argv, got, want)
		}
		if got := (Cmd{Argv: argv}).String(); got != want {
			t.Errorf("Cmd.String = %q", got)
		}
	}
}

func TestExecRunner(t *testing.T) {
	if runtime.GOOS == "windows" {
		testenv.Skip(t, "uses sh")
	}
	testenv.NeedTool(t, "sh", "pwd", "sleep")
	ctx := context.Background()
	r := ExecRunner{}
	res, err := r.Run(ctx, Cmd{Argv: []string{"sh", "-c", `read x; echo "out $x $V"; echo err >&2`}, Stdin: []byte("in\n"), Env: []string{"V=v"}})
	if err != nil || string(res.Stdout) != "out in v\n" || string(res.Stderr) != "err\n" || res.ExitCode != 0 {
		t.Errorf("run: %+v %v", res, err)
	}
	res, err = r.Run(ctx, Cmd{Argv: []string{"sh", "-c", "echo first >&2; echo second >&2; exit 3"}})
	var ee *ExitError
	if !errors.As(err, &ee) || res.ExitCode != 3 || ee.Result.ExitCode != 3 {
		t.Fatalf("exit 3: %+v %v", res, err)
	}
	if want := `sh -c 'echo first >&2; echo second >&2; exit 3': exit status 3: first`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	_, err = r.Run(ctx, Cmd{Argv: []string{"/nonexistent/hostfix-test"}})
	if err == nil || errors.As(err, &ee) || !strings.HasPrefix(err.Error(), "run /nonexistent/hostfix-test: ") {
		t.Errorf("not started: %v", err)
	}
	if _, err := r.Run(ctx, Cmd{}); err == nil {
		t.Error("empty argv must fail")
	}
	dir := t.TempDir()
	res, err = r.Run(ctx, Cmd{Argv: []string{"pwd"}, Dir: dir})
	if err != nil || strings.TrimSpace(string(res.Stdout)) != dir {
		t.Errorf("Dir: %q %v", res.Stdout, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Run(cctx, Cmd{Argv: []string{"sleep", "5"}}); err == nil {
		t.Error("a cancelled context must stop the command")
	}
}

func TestExitErrorMessage(t *testing.T) {
	e := &ExitError{Cmd: Cmd{Argv: []string{"x"}}, Result: Result{ExitCode: 1, Stdout: []byte("only stdout\nline 2")}}
	if e.Error() != "x: exit status 1: only stdout" {
		t.Errorf("%q", e.Error())
	}
	e = &ExitError{Cmd: Cmd{Argv: []string{"x"}}, Result: Result{ExitCode: 2}}
	if e.Error() != "x: exit status 2" {
		t.Errorf("%q", e.Error())
	}
}

func TestRecorder(t *testing.T) {
	r := &Recorder{Responses: map[string]Result{
		"qmailctl stat": {Stdout: []byte("ok\n")},
		"qmailctl stop": {ExitCode: 1, Stderr: []byte("no such service")},
	}}
	ctx := context.Background()
	res, err := r.Run(ctx, Cmd{Argv: []string{"qmailctl", "stat"}})
	if err != nil || string(res.Stdout) != "ok\n" {
		t.Errorf("stat: %+v %v", res, err)
	}
	_, err = r.Run(ctx, Cmd{Argv: []string{"qmailctl", "stop"}})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Result.ExitCode != 1 {
		t.Errorf("stop: %v", err)
	}
	if res, err := r.Run(ctx, Cmd{Argv: []string{"other", "a b"}}); err != nil || res.ExitCode != 0 {
		t.Errorf("unknown commands succeed empty: %+v %v", res, err)
	}
	if want := []string{"qmailctl stat", "qmailctl stop", "other 'a b'"}; !reflect.DeepEqual(r.Commands(), want) {
		t.Errorf("Commands = %q", r.Commands())
	}
	r.Func = func(c Cmd) (Result, error) { return Result{Stdout: []byte(c.Argv[0])}, nil }
	if res, _ := r.Run(ctx, Cmd{Argv: []string{"f"}}); string(res.Stdout) != "f" || len(r.Calls) != 4 {
		t.Errorf("Func: %+v, %d calls", res, len(r.Calls))
	}
}
