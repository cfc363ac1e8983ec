package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/config"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Set at release by -ldflags "-X github.com/hostfix/hostfix/cmd.version=…".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Command kinds, set as the annotation kindKey; they decide exit codes and output formats.
const (
	kindKey    = "hostfix/kind"
	checkKey   = "hostfix/check" // the check's name, for Nagios lines
	kindCheck  = "check"         // read-only diagnosis: Nagios exit codes
	kindChange = "change"        // changes the host through a plan
	// noSetupKey marks commands that need neither the host nor the configuration (version,
	// docs, completion, help), so a broken config file or --root cannot stop them.
	noSetupKey = "hostfix/no-setup"
	// groupKey marks a noun (synflood, mailq, config): it only groups its subcommands.
	groupKey = "hostfix/group"
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "HOSTFIX_CONFIG"

// Exit codes (docs/exit-codes.md).
const (
	ExitOK       = 0
	ExitFailed   = 1 // the change failed (rolled back where possible)
	ExitUsage    = 2 // bad usage or bad input; nothing changed
	ExitUnknown  = 3 // check commands: could not run the check, or bad usage
	ExitWarning  = 1
	ExitCritical = 2
)

// GlobalOptions are the root command's persistent flags.
type GlobalOptions struct {
	DryRun     bool
	Yes        bool
	Output     string
	Color      string
	Root       string
	ConfigFile string
	Quiet      bool
	Verbose    bool
}

// App is what every command gets: streams, global options, configuration and the host.
type App struct {
	IO     *iostreams.IOStreams
	Getenv func(string) string
	// Runner runs external commands; tests may swap it.
	Runner system.Runner
	Opts   GlobalOptions
	// Args is the command line, for the audit log.
	Args []string

	loaded   *config.Loaded
	host     *system.Host
	bindings map[*cobra.Command]map[string]string // command -> config key -> flag name
	started  bool
	stdin    *bufio.Reader // shared by every Confirm, so typed-ahead answers are not lost
}

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

// Execute runs hostfix with the process's arguments and streams and returns the exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal cancels the work (a change rolls back); restoring the default
		// handling lets a second one kill hostfix if that takes too long.
		<-ctx.Done()
		stop()
	}()
	if IsAnsibleModule(os.Args) {
		return RunAnsible(ctx, os.Args[1], os.Stdout, os.Stderr, os.Getenv)
	}
	return Run(ctx, os.Args[1:], iostreams.System(), os.Getenv)
}

// Run runs hostfix with the given arguments and streams (tests call it directly).
func Run(ctx context.Context, args []string, ios *iostreams.IOStreams, getenv func(string) string) int {
	app := NewApp(ios, getenv)
	return app.Execute(ctx, NewRootCmd(app), args)
}

// NewApp returns an App on the given streams and environment, before any flag is parsed.
func NewApp(ios *iostreams.IOStreams, getenv func(string) string) *App {
	if getenv == nil {
		getenv = os.Getenv
	}
	return &App{IO: ios, Getenv: getenv, bindings: map[*cobra.Command]map[string]string{}}
}

// Execute runs root (built by NewRootCmd(app), perhaps with commands added by a test) with
// args and returns the exit code.
func (app *App) Execute(ctx context.Context, root *cobra.Command, args []string) int {
	app.Args = append([]string{"hostfix"}, args...)
	root.SetArgs(args)
	root.SetIn(app.IO.In)
	root.SetOut(app.IO.Out)
	root.SetErr(app.IO.ErrOut)
	addExitStatus(root) // again, for commands added after NewRootCmd (tests)
	c, err := root.ExecuteContextC(ctx)
	return app.exitCode(c, err)
}

func init() {
	// A noun may add its own PersistentPreRunE; the root's setup must still run first.
	cobra.EnableTraverseRunHooks = true
}

// NewRootCmd builds the command tree.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "hostfix",
		Short: "Hosting-server runbooks as safe, scriptable commands",
		Long: `hostfix turns the classic hosting-server runbooks into commands that diagnose first,
change only what is needed, show every change before making it (--dry-run), back up what
they change, and verify the result.

Check commands exit with Nagios plugin codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN);
commands that change the host exit 0 on success or nothing to do, 1 when the change
failed, 2 on bad usage or input. See docs/exit-codes.md.`,
		Example: `  hostfix synflood check
  hostfix synflood fix --dry-run
  hostfix mailq stats -o nagios
  hostfix --root /srv/snapshot synflood check -o json`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			app.started = true
			return app.setup(c)
		},
	}
	root.SetVersionTemplate("hostfix {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage.Wrap(err) })
	pf := root.PersistentFlags()
	pf.BoolVarP(&app.Opts.DryRun, "dry-run", "n", false, "show what would change, change nothing")
	pf.BoolVarP(&app.Opts.Yes, "yes", "y", false, "answer yes to confirmation prompts (needed when stdin is not a terminal)")
	pf.StringVarP(&app.Opts.Output, "output", "o", "text", "output format: text|json (check commands also nagios|prometheus)")
	pf.StringVar(&app.Opts.Color, "color", "auto", "colour: auto|always|never (auto honours NO_COLOR and CLICOLOR_FORCE)")
	pf.StringVar(&app.Opts.Root, "root", "", "resolve every system path under `DIR` (default $HOSTFIX_ROOT or /)")
	pf.StringVar(&app.Opts.ConfigFile, "config", "", "config `FILE` (default $HOSTFIX_CONFIG, else /etc/hostfix/config.yaml under --root)")
	pf.BoolVarP(&app.Opts.Quiet, "quiet", "q", false, "print only results and errors")
	pf.BoolVarP(&app.Opts.Verbose, "verbose", "v", false, "print progress details on stderr")
	root.MarkFlagsMutuallyExclusive("quiet", "verbose")
	fixed := func(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = root.RegisterFlagCompletionFunc("color", fixed("auto", "always", "never"))
	_ = root.RegisterFlagCompletionFunc("output", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		if c.Annotations[kindKey] == kindCheck {
			return []string{"text", "json", "nagios", "prometheus"}, cobra.ShellCompDirectiveNoFileComp
		}
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.MarkPersistentFlagDirname("root")
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")

	for _, add := range subcommands {
		root.AddCommand(add(app))
	}
	groupCommands(root)
	// cobra's completion commands capture the output stream when they are created.
	root.SetIn(app.IO.In)
	root.SetOut(app.IO.Out)
	root.SetErr(app.IO.ErrOut)
	// Create cobra's help and completion commands now rather than lazily in Execute, so that
	// they are in the tree `hostfix docs` documents and can be marked as needing no setup.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			annotate(c, noSetupKey, "true")
		}
	}
	guardGroups(root)
	addExitStatus(root)
	return root
}

// guardGroups makes every noun reject an unknown subcommand as bad usage. cobra would
// print the noun's help and exit 0 for "hostfix synflood chek", which a script would take
// for success.
func guardGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		guardGroups(sub)
	}
	if c.Parent() == nil || c.Runnable() || !c.HasSubCommands() {
		return
	}
	annotate(c, groupKey, "true")
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usage.Errorf("unknown command %q for %q (see '%s --help')", args[0], c.CommandPath(), c.CommandPath())
		}
		return c.Help()
	}
}

func versionLine() string {
	i := BuildInfo()
	return fmt.Sprintf("%s (commit %s, built %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}

// groupCommands sorts the top-level commands into help sections: the runbooks (a noun
// with check or change commands), the audit log and undo, and the rest.
func groupCommands(root *cobra.Command) {
	root.AddGroup(
		&cobra.Group{ID: "runbooks", Title: "Runbooks:"},
		&cobra.Group{ID: "runs", Title: "Past runs:"},
		&cobra.Group{ID: "other", Title: "Other commands:"},
	)
	var hasKind func(c *cobra.Command) bool
	hasKind = func(c *cobra.Command) bool {
		if c.Annotations[kindKey] != "" {
			return true
		}
		for _, sub := range c.Commands() {
			if hasKind(sub) {
				return true
			}
		}
		return false
	}
	for _, c := range root.Commands() {
		switch {
		case c.GroupID != "":
		case c.Name() == "history" || c.Name() == "undo":
			c.GroupID = "runs"
		case hasKind(c):
			c.GroupID = "runbooks"
		default:
			c.GroupID = "other"
		}
	}
	root.SetHelpCommandGroupID("other")
	root.SetCompletionCommandGroupID("other")
}

func annotate(c *cobra.Command, key, value string) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[key] = value
}

// exitStatusHelp is the EXIT STATUS paragraph each command's help ends with
// (docs/exit-codes.md is the full table).
var exitStatusHelp = map[string]string{
	kindCheck: `Exit status (Nagios plugin codes): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
(the check could not run, or bad usage or input).`,
	kindChange: `Exit status: 0 changed, or nothing to do; 1 the change failed (rolled back where
possible); 2 bad usage or bad input (nothing changed).`,
	"": `Exit status: 0 success; 1 failure; 2 bad usage or bad input.`,
}

// addExitStatus appends the exit status paragraph to every runnable command's help, unless
// the command already documents it.
func addExitStatus(c *cobra.Command) {
	for _, sub := range c.Commands() {
		addExitStatus(sub)
	}
	if !c.Runnable() || c.Parent() == nil || c.Annotations[groupKey] != "" || strings.Contains(strings.ToLower(c.Long), "exit status") {
		return
	}
	if _, skip := c.Annotations[noSetupKey]; skip && c.Name() == "help" {
		return
	}
	long := c.Long
	if long == "" {
		long = c.Short + "."
	}
	c.Long = strings.TrimRight(long, "\n") + "\n\n" + exitStatusHelp[c.Annotations[kindKey]]
}

// needsSetup is false for commands (or children of commands) marked noSetupKey.
func needsSetup(c *cobra.Command) bool {
	for p := c; p != nil; p = p.Parent() {
		if _, ok := p.Annotations[noSetupKey]; ok {
			return false
		}
	}
	return true
}

// subcommands is filled by each noun's file in its init(), so adding a runbook touches only
// its own file.
var subcommands []func(*App) *cobra.Command

func register(f func(*App) *cobra.Command) { subcommands = append(subcommands, f) }

// setup validates global flags, decides colour and loads configuration and the host.
func (app *App) setup(c *cobra.Command) error {
	mode, err := iostreams.ParseColorMode(app.Opts.Color)
	if err != nil {
		return usage.Wrap(err)
	}
	app.IO.SetColorMode(mode, app.Getenv)
	if c.Annotations[groupKey] != "" {
		return nil // a noun prints its help; it needs no host or config
	}
	allowed := []string{"text", "json"}
	if c.Annotations[kindKey] == kindCheck {
		allowed = append(allowed, "nagios", "prometheus")
	}
	ok := false
	for _, f := range allowed {
		ok = ok || app.Opts.Output == f
	}
	if !ok {
		return usage.Errorf("--output %q: %s supports %s", app.Opts.Output, c.CommandPath(), strings.Join(allowed, ", "))
	}
	// cobra checks required flags and flag groups only after the pre-run hooks; check them
	// here so that they count as bad usage like every other flag error.
	if err := c.ValidateRequiredFlags(); err != nil {
		return usage.Wrap(err)
	}
	if err := c.ValidateFlagGroups(); err != nil {
		return usage.Wrap(err)
	}
	if !needsSetup(c) {
		return nil
	}
	if app.Opts.Root == "" {
		app.Opts.Root = app.Getenv("HOSTFIX_ROOT")
	}
	host, err := system.NewHost(app.Opts.Root, app.Runner)
	if err != nil {
		return usage.Wrap(err)
	}
	app.host = host
	// Bindings of the command and of its parents (a noun may bind a persistent flag such
	// as mailq --queue); when two flags bound to one key are both set, the nearest wins.
	flags := map[string]*pflag.Flag{}
	for p := c; p != nil; p = p.Parent() {
		for key, name := range app.bindings[p] {
			if f := flags[key]; f != nil && f.Changed {
				continue
			}
			f := c.Flags().Lookup(name)
			if f == nil {
				f = c.InheritedFlags().Lookup(name)
			}
			flags[key] = f
		}
	}
	file := app.Opts.ConfigFile
	if file == "" {
		file = app.Getenv(ConfigEnv)
	}
	loaded, err := config.Load(config.Options{File: file, Resolve: host.Path, Getenv: app.Getenv, Flags: flags})
	if err != nil {
		return usage.Wrap(err)
	}
	app.loaded = loaded
	return nil
}

// Bind ties a command's flag to a config key, so the flag (when set) overrides env and file.
// A persistent flag bound on a parent command applies to all its subcommands.
func (app *App) Bind(c *cobra.Command, flag, key string) {
	if app.bindings[c] == nil {
		app.bindings[c] = map[string]string{}
	}
	app.bindings[c][key] = flag
}

// Config is the effective configuration (valid inside RunE).
func (app *App) Config() *config.Config { return &app.loaded.Config }

// Loaded is the configuration with its sources.
func (app *App) Loaded() *config.Loaded { return app.loaded }

// Host is the machine (or --root tree) being worked on.
func (app *App) Host() *system.Host { return app.host }

// Logf prints a progress line on stderr unless --quiet.
func (app *App) Logf(format string, args ...any) {
	if !app.Opts.Quiet {
		fmt.Fprintf(app.IO.ErrOut, format+"\n", args...)
	}
}

// Debugf prints a detail line on stderr with --verbose.
func (app *App) Debugf(format string, args ...any) {
	if app.Opts.Verbose {
		fmt.Fprintf(app.IO.ErrOut, format+"\n", args...)
	}
}

// Confirm asks before a destructive step. --yes answers for the user; without it a
// non-terminal stdin is refused rather than blocking or guessing.
func (app *App) Confirm(question string) error {
	if app.Opts.Yes {
		return nil
	}
	if !app.IO.InTTY {
		return usage.Errorf("%s needs confirmation, but stdin is not a terminal: pass --yes to confirm (or --dry-run to preview)", question)
	}
	fmt.Fprintf(app.IO.ErrOut, "%s [y/N] ", question)
	if app.stdin == nil {
		app.stdin = bufio.NewReader(app.IO.In)
	}
	line, _ := app.stdin.ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &ExitError{Code: ExitFailed, Err: errors.New("not confirmed: nothing changed")}
}

// RenderCheck prints a check result in the chosen format and returns the Nagios exit code
// as an error (nil for OK). textfileDir, when set with -o prometheus, gets NAME.prom.
func (app *App) RenderCheck(r *check.Result, textfileDir, promName string) error {
	r.Normalize()
	var err error
	switch app.Opts.Output {
	case "json":
		err = check.WriteJSON(app.IO.Out, r)
	case "nagios":
		err = check.WriteNagios(app.IO.Out, r)
	case "prometheus":
		samples := append(check.StatusSamples("hostfix_"+promName, r), r.Samples...)
		if textfileDir != "" {
			err = check.WriteTextfile(textfileDir, "hostfix_"+promName+".prom", samples)
			if err == nil {
				app.Debugf("wrote %s", filepath.Join(textfileDir, "hostfix_"+promName+".prom"))
			}
		} else {
			err = check.WritePrometheus(app.IO.Out, samples)
		}
	default:
		err = check.WriteText(app.IO.Out, r, app.IO.PaletteOut())
	}
	if err != nil {
		return err
	}
	if r.Status != check.OK {
		return &ExitError{Code: r.Status.ExitCode()}
	}
	return nil
}

// RenderPlan prints a plan report (dry-run or applied) in the chosen format.
func (app *App) RenderPlan(r *plan.Report) error {
	if app.Opts.Output == "json" {
		return plan.WriteJSON(app.IO.Out, r)
	}
	return plan.WriteText(app.IO.Out, r, app.IO.PaletteOut())
}

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
