package cmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/config"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "HOSTFIX_CONFIG"

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
	// Environ lists the environment, to refuse HOSTFIX_<SECTION>_<KEY> variables that set
	// no known key; nil skips that check (tests that give only a Getenv).
	Environ func() []string
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

// NewApp returns an App on the given streams and environment (nil: the process's), before
// any flag is parsed.
func NewApp(ios *iostreams.IOStreams, getenv func(string) string) *App {
	var environ func() []string
	if getenv == nil {
		getenv, environ = os.Getenv, os.Environ
	}
	return &App{IO: ios, Getenv: getenv, Environ: environ, bindings: map[*cobra.Command]map[string]string{}}
}

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
		return usage.Errorf("--output %q: %s supports %s", usage.Clip(app.Opts.Output), c.CommandPath(), strings.Join(allowed, ", "))
	}
	// cobra checks required flags and flag groups only after the pre-run hooks; check them
	// here so that they count as bad usage like every other flag error.
	if err := c.ValidateRequiredFlags(); err != nil {
		return usage.Wrap(flagGroupError(err))
	}
	if err := c.ValidateFlagGroups(); err != nil {
		return usage.Wrap(flagGroupError(err))
	}
	if !needsSetup(c) {
		return nil
	}
	if f := c.Flag("root"); f != nil && f.Changed && app.Opts.Root == "" {
		// --root "$SNAP" with SNAP unset must not mean the live system.
		return usage.Errorf("--root is empty: give the directory (--root / for the live system)")
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
	file, from := app.Opts.ConfigFile, "--config"
	if file == "" {
		file, from = app.Getenv(ConfigEnv), ConfigEnv
	}
	loaded, err := config.Load(config.Options{File: file, FileFrom: from, Resolve: host.Path, Getenv: app.Getenv, Environ: app.Environ, Flags: flags})
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
// as an error (nil for OK). textfileDir, when set with -o prometheus, gets NAME.prom: a
// path the user named, so it is not resolved under --root; with --dry-run it is not
// written and the samples go to stdout instead.
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
		file := check.TextfileName(promName, r)
		if textfileDir != "" && app.Opts.DryRun {
			// --dry-run writes nothing: show what the file would hold.
			app.Logf("dry run: would write %s", filepath.Join(textfileDir, file))
			err = check.WritePrometheus(app.IO.Out, samples)
		} else if textfileDir != "" {
			err = check.WriteTextfile(textfileDir, file, samples)
			if err == nil {
				app.Debugf("wrote %s", filepath.Join(textfileDir, file))
			}
		} else {
			err = check.WritePrometheus(app.IO.Out, samples)
		}
	default:
		err = app.writeText(func(w io.Writer) error { return check.WriteText(w, r, app.IO.PaletteOut()) })
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
	return app.writeText(func(w io.Writer) error { return plan.WriteText(w, r, app.IO.PaletteOut()) })
}

// writeText writes a text result; with --quiet only its first line, the result line
// ("OK 0 SYN_RECV on 1 listener(s), …", "synflood fix: 1 added, …"). Machine formats
// (JSON, Nagios, Prometheus) are never shortened.
func (app *App) writeText(write func(io.Writer) error) error {
	if !app.Opts.Quiet {
		return write(app.IO.Out)
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	line, _, _ := strings.Cut(b.String(), "\n")
	_, err := fmt.Fprintln(app.IO.Out, line)
	return err
}
