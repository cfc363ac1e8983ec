package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// Cmd is one external command: an argv, never a shell string.
type Cmd struct {
	Argv  []string
	Dir   string
	Env   []string // added to the inherited environment
	Stdin []byte
}

// String renders the argv for messages, quoting words that need it.
func (c Cmd) String() string { return FormatArgv(c.Argv) }

// FormatArgv quotes an argv for display only; hostfix never hands this to a shell.
func FormatArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`;&|<>*?()[]{}#~") {
			parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}

// Result is what a command printed and how it ended.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Cmd    Cmd
	Result Result
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(string(e.Result.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(e.Result.Stdout))
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg != "" {
		return fmt.Sprintf("%s: exit status %d: %s", e.Cmd, e.Result.ExitCode, msg)
	}
	return fmt.Sprintf("%s: exit status %d", e.Cmd, e.Result.ExitCode)
}

// Runner runs commands. Run returns *ExitError for a non-zero exit and another error when
// the command could not be started.
type Runner interface {
	Run(ctx context.Context, c Cmd) (Result, error)
}

// ExecRunner runs commands for real with os/exec.
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, c Cmd) (Result, error) {
	if len(c.Argv) == 0 {
		return Result{}, errors.New("run: empty command")
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	if len(c.Env) > 0 {
		cmd.Env = append(cmd.Environ(), c.Env...)
	}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &ee):
		res.ExitCode = ee.ExitCode()
		return res, &ExitError{Cmd: c, Result: res}
	default:
		return res, fmt.Errorf("run %s: %w", c, err)
	}
}

// Recorder is a Runner for tests: it records every command and answers from Responses
// (keyed by the formatted argv), or with an empty success.
type Recorder struct {
	mu        sync.Mutex
	Calls     []Cmd
	Responses map[string]Result
	// Func, when set, answers instead of Responses.
	Func func(c Cmd) (Result, error)
}

// Run implements Runner.
func (r *Recorder) Run(_ context.Context, c Cmd) (Result, error) {
	r.mu.Lock()
	r.Calls = append(r.Calls, c)
	fn := r.Func
	res, ok := r.Responses[c.String()]
	r.mu.Unlock()
	if fn != nil {
		return fn(c)
	}
	if ok && res.ExitCode != 0 {
		return res, &ExitError{Cmd: c, Result: res}
	}
	return res, nil
}

// Commands returns the recorded argvs, formatted.
func (r *Recorder) Commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.Calls))
	for i, c := range r.Calls {
		out[i] = c.String()
	}
	return out
}
