package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Exit codes (docs/exit-codes.md). Check commands exit with check.Status.ExitCode (Nagios).
const (
	ExitOK      = 0
	ExitFailed  = 1 // the change failed (rolled back where possible)
	ExitUsage   = 2 // bad usage or bad input; nothing changed
	ExitUnknown = 3 // check commands: could not run the check, or bad usage
)

// ExitError carries an exit code; a nil Err means the output already said everything.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// exitCode is the one place errors become exit codes and error messages.
func (app *App) exitCode(c *cobra.Command, err error) int {
	if err == nil {
		return ExitOK
	}
	// -o nagios or prometheus means a monitoring system is the caller. When the command line
	// did not even reach a command (a misspelt check under a noun, "mailq stat"), it was
	// meant for a check: UNKNOWN (3), never 2, which Nagios would read as CRITICAL. A real
	// command of another kind keeps its own codes.
	monitoring := app.Opts.Output == "nagios" || app.Opts.Output == "prometheus"
	isCheck := c != nil && c.Annotations[kindKey] == kindCheck ||
		monitoring && (c == nil || c.Parent() == nil || c.Annotations[groupKey] != "")
	if !app.started {
		// cobra refused the command line before setup ran: honour a --color it parsed.
		if mode, err := iostreams.ParseColorMode(app.Opts.Color); err == nil {
			app.IO.SetColorMode(mode, app.Getenv)
		}
	}
	code := ExitFailed
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	case usage.Is(err) || !app.started:
		// !started: cobra refused the arguments before any command ran.
		code = ExitUsage
		if isCheck {
			code = ExitUnknown
		}
	case isCheck:
		code = ExitUnknown
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) && c != nil && c.Context().Err() != nil {
		msg = "interrupted: " + msg
	}
	if app.Opts.Output == "json" {
		enc := json.NewEncoder(app.IO.ErrOut)
		enc.SetEscapeHTML(false) // "->" and "<addr>" stay readable
		_ = enc.Encode(map[string]any{"error": msg, "exit_code": code})
		return code
	}
	if isCheck && app.Opts.Output == "nagios" {
		name := c.Annotations[checkKey]
		if name == "" {
			name = c.Parent().Name() + "_" + c.Name()
		}
		name = strings.ToUpper(strings.NewReplacer(" ", "_", ".", "_").Replace(name))
		fmt.Fprintf(app.IO.Out, "%s UNKNOWN: %s\n", name, strings.ReplaceAll(msg, "|", "/"))
	}
	p := app.IO.PaletteErr()
	fmt.Fprintf(app.IO.ErrOut, "%s %s\n", p.Red("hostfix:"), msg)
	if !app.started && c != nil && !strings.Contains(msg, "--help") {
		fmt.Fprintf(app.IO.ErrOut, "Run '%s --help' for usage.\n", c.CommandPath())
	}
	return code
}
