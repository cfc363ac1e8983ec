package cmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/iostreams"
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
		return RunAnsible(ctx, os.Args[1], os.Stdout, os.Stderr, nil)
	}
	return Run(ctx, os.Args[1:], iostreams.System(), nil)
}

// Run runs hostfix with the given arguments, streams and environment (nil getenv: the
// process's; tests call it directly).
func Run(ctx context.Context, args []string, ios *iostreams.IOStreams, getenv func(string) string) int {
	app := NewApp(ios, getenv)
	return app.Execute(ctx, NewRootCmd(app), args)
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
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.BoolVarP(&app.Opts.DryRun, "dry-run", "n", false, "show what would change, change nothing")
	pf.BoolVarP(&app.Opts.Yes, "yes", "y", false, "answer yes to confirmation prompts (needed when stdin is not a terminal)")
	pf.StringVarP(&app.Opts.Output, "output", "o", "text", "output format: text|json (check commands also nagios|prometheus)")
	pf.StringVar(&app.Opts.Color, "color", "auto", "colour: auto|always|never (auto honours NO_COLOR and CLICOLOR_FORCE)")
	pf.StringVar(&app.Opts.Root, "root", "", "resolve every system path under `DIR` (default $HOSTFIX_ROOT or /)")
	pf.StringVar(&app.Opts.ConfigFile, "config", "", "config `FILE` (default $HOSTFIX_CONFIG, else /etc/hostfix/config.yaml under --root)")
	pf.BoolVarP(&app.Opts.Quiet, "quiet", "q", false, "print only the result line (text) and errors: no progress, details or notes")
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
			return usage.Errorf("unknown command %q for %q (see '%s --help')", usage.Clip(args[0]), c.CommandPath(), c.CommandPath())
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
