package cmd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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
	if !app.started {
		// cobra refused the command line before it parsed all of it (an unknown command, a
		// flag error before -o): find the -o it did not reach, so the error still has the
		// shape the caller asked for.
		if o := outputFromArgs(app.Args); o != "" {
			app.Opts.Output = o
		}
	}
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
	if !app.started {
		msg = cobraMessage(c, app.Args, msg)
	}
	if errors.Is(err, context.Canceled) && c != nil && c.Context().Err() != nil {
		msg = "interrupted: " + msg
	}
	if app.Opts.Output == "json" {
		_ = iostreams.NewJSONLineEncoder(app.IO.ErrOut).Encode(map[string]any{"error": msg, "exit_code": code})
		return code
	}
	// Text and Nagios lines go to a terminal or a monitoring system as they are: what the
	// user gave (an argument, a file name) must not carry escapes or break the line there.
	msg = visibleControls(msg)
	if isCheck && app.Opts.Output == "nagios" {
		name := "hostfix"
		switch {
		case c == nil || c.Parent() == nil:
		case c.Annotations[checkKey] != "":
			name = c.Annotations[checkKey]
		default:
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

// outputFromArgs is the last -o/--output value on a command line (args[0] is the program),
// "" when there is none; "--" ends the flags.
func outputFromArgs(args []string) string {
	out := ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return out
		case a == "-o" || a == "--output":
			if i+1 < len(args) {
				out = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--output="):
			out = strings.TrimPrefix(a, "--output=")
		case strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			out = strings.TrimPrefix(strings.TrimPrefix(a, "-o"), "=")
		}
	}
	return out
}

// cobraMessage puts an error cobra made from the command line into hostfix's words, on one
// line: "unknown command "synflod" for "hostfix" (did you mean "synflood"?)", the echoed
// argument clipped (usage.Clip). An unknown long flag that swallowed the next argument as
// its value (`hostfix --bogus -o json synflood check` reads as the command "json") is
// reported as the unknown flag it is.
func cobraMessage(c *cobra.Command, args []string, msg string) string {
	head, tail, _ := strings.Cut(msg, "\n")
	var unknown, parent string
	if n, _ := fmt.Sscanf(head, "unknown command %q for %q", &unknown, &parent); n != 2 {
		return strings.Join(strings.Fields(msg), " ")
	}
	if c != nil && c.Parent() == nil {
		for i := 1; i < len(args) && args[i] != unknown && args[i] != "--"; i++ {
			if isUnknownLongFlag(c, args[i]) {
				return "unknown flag: " + usage.Clip(args[i])
			}
		}
	}
	msg = fmt.Sprintf("unknown command %q for %q", usage.Clip(unknown), parent)
	var did []string
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "\t") {
			did = append(did, strconv.Quote(strings.TrimSpace(l)))
		}
	}
	if len(did) > 0 {
		msg += " (did you mean " + strings.Join(did, " or ") + "?)"
	}
	return msg
}

func isUnknownLongFlag(c *cobra.Command, a string) bool {
	if !strings.HasPrefix(a, "--") || len(a) == 2 || strings.Contains(a, "=") {
		return false
	}
	name := a[2:]
	return c.Flags().Lookup(name) == nil && c.PersistentFlags().Lookup(name) == nil
}

// flagError is the root's FlagErrorFunc: pflag's errors in hostfix's words, one line, the
// value clipped: "--port abc: not a number", not strconv's internals.
func flagError(_ *cobra.Command, err error) error {
	var inv *pflag.InvalidValueError
	var req *pflag.ValueRequiredError
	var nx *pflag.NotExistError
	switch {
	case errors.As(err, &inv):
		f := inv.GetFlag()
		why := "not a valid " + f.Value.Type()
		var num *strconv.NumError
		switch t := f.Value.Type(); {
		case t == "bool":
			why = "want true or false"
		case strings.HasPrefix(t, "duration"):
			why = "not a duration (e.g. 30s, 5m, 1h)"
		case errors.As(err, &num) && errors.Is(num.Err, strconv.ErrRange):
			why = "out of range"
		case errors.As(err, &num):
			why = "not a number"
		case inv.Unwrap() != nil:
			why = inv.Unwrap().Error()
		}
		return usage.Errorf("--%s %s: %s", f.Name, usage.Clip(inv.GetValue()), why)
	case errors.As(err, &req):
		return usage.Errorf("--%s: needs a value", req.GetFlag().Name)
	case errors.As(err, &nx):
		return usage.Wrap(errors.New(usage.Clip(strings.Join(strings.Fields(err.Error()), " "))))
	}
	return usage.Wrap(err)
}

var (
	exclusiveRE = regexp.MustCompile(`^if any flags in the group \[[^]]*\] are set none of the others can be; \[([^]]*)\] were all set$`)
	requiredRE  = regexp.MustCompile(`^required flag\(s\) (.*) not set$`)
)

// flagGroupError words cobra's flag-group and required-flag errors for people:
// "--quiet and --verbose cannot be used together", "--dir is required".
func flagGroupError(err error) error {
	msg := err.Error()
	if m := exclusiveRE.FindStringSubmatch(msg); m != nil {
		return errors.New(flagList(strings.Fields(m[1])) + " cannot be used together")
	}
	if m := requiredRE.FindStringSubmatch(msg); m != nil {
		var names []string
		for _, q := range strings.Split(m[1], ", ") {
			if n, err := strconv.Unquote(q); err == nil {
				names = append(names, n)
			}
		}
		if len(names) == 1 {
			return errors.New("--" + names[0] + " is required")
		}
		if len(names) > 1 {
			return errors.New(flagList(names) + " are required")
		}
	}
	return err
}

// flagList is "--a and --b", "--a, --b and --c".
func flagList(names []string) string {
	for i, n := range names {
		names[i] = "--" + n
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// visibleControls writes control characters (C0 but tab, DEL, C1) and bytes that are not
// UTF-8 the way Go quotes them (\x1b, \u009b, \xff), leaving the rest of s as it is.
func visibleControls(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[0])
		case unicode.IsControl(r) && r != '\t':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}
