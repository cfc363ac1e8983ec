package cmd

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/usage"
)

// doctorChecks is the one registry of checks doctor runs. Each runbook's command file adds
// its check from init() with registerCheck, next to the command that runs it alone.
var doctorChecks []func(app *App) doctor.Check

func registerCheck(f func(app *App) doctor.Check) { doctorChecks = append(doctorChecks, f) }

// DoctorChecks returns the registered checks bound to app (tests and the Ansible module use it).
func (app *App) DoctorChecks() []doctor.Check {
	cs := make([]doctor.Check, 0, len(doctorChecks))
	for _, f := range doctorChecks {
		cs = append(cs, f(app))
	}
	return cs
}

func init() {
	register(newDoctorCmd)
}

type doctorFlags struct {
	only, skip  []string
	timeout     time.Duration
	textfileDir string
}

func newDoctorCmd(app *App) *cobra.Command {
	var f doctorFlags
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Run every check that applies to this host, in parallel: one table, the worst exit code",
		Long: `Run every hostfix check that applies to this host at once, each in parallel with its own
timeout, and report them together: one table (check, status, summary), the worst Nagios
exit code. Which checks apply is decided by each runbook (synflood always; mailq where a
qmail queue exists; the others where their service, log or configuration is found);
checks that do not apply are listed as skipped with the reason. A check that cannot run,
panics or times out is UNKNOWN with the reason, never dropped.

-o json prints a JSON array of the check objects (the same objects each check prints on
its own); -o nagios one line for the host with every check's status and perfdata
(labelled CHECK::LABEL) and one long-output line per check; -o prometheus the samples of
every check, or with --textfile-dir one hostfix_<check>.prom per check plus
hostfix_doctor.prom (hostfix_doctor_check_status{check="…"}), each written atomically.
Works under --root like every check. doctor changes nothing.`,
		Example: `  hostfix doctor
  hostfix doctor --only synflood,mailq -o nagios
  hostfix doctor --skip mx --timeout 60s -o json | jq '.[] | select(.status != "ok")'
  hostfix doctor -o prometheus --textfile-dir /var/lib/prometheus/node-exporter`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "doctor"},
		RunE: func(c *cobra.Command, _ []string) error {
			if f.textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			if f.timeout < 0 {
				return usage.Errorf("--timeout %s: want 0 (no timeout) or more", f.timeout)
			}
			checks := app.DoctorChecks()
			o := doctor.Options{Only: f.only, Skip: f.skip, Timeout: f.timeout}
			if err := doctor.Validate(checks, o); err != nil {
				return usage.Wrap(err)
			}
			out := doctor.Run(c.Context(), app.Host(), checks, o)
			if err := app.renderDoctor(out, f.textfileDir); err != nil {
				return err
			}
			if st := doctor.Worst(out); st != check.OK {
				return &ExitError{Code: st.ExitCode()}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&f.only, "only", nil, "run only these checks (`NAME,...`)")
	fl.StringSliceVar(&f.skip, "skip", nil, "do not run these checks (`NAME,...`)")
	fl.DurationVar(&f.timeout, "timeout", 20*time.Second, "give each check at most `DURATION`; one that takes longer is UNKNOWN")
	fl.StringVar(&f.textfileDir, "textfile-dir", "", "with -o prometheus: write one .prom file per check and hostfix_doctor.prom atomically into `DIR`")
	return c
}

func (app *App) renderDoctor(out []doctor.Outcome, textfileDir string) error {
	switch app.Opts.Output {
	case "json":
		return doctor.WriteJSON(app.IO.Out, out)
	case "nagios":
		return doctor.WriteNagios(app.IO.Out, out)
	case "prometheus":
		names, files := doctor.PromFiles(out)
		if textfileDir != "" && app.Opts.DryRun {
			// --dry-run writes nothing, as for a single check: show what the files would hold.
			for _, n := range names {
				app.Logf("dry run: would write %s", filepath.Join(textfileDir, n))
			}
			textfileDir = ""
		}
		if textfileDir == "" {
			var all []check.Sample
			for _, n := range names {
				all = append(all, files[n]...)
			}
			return check.WritePrometheus(app.IO.Out, all)
		}
		for _, n := range names {
			if err := check.WriteTextfile(textfileDir, n, files[n]); err != nil {
				return err
			}
			app.Debugf("wrote %s", filepath.Join(textfileDir, n))
		}
		return nil
	}
	if err := doctor.WriteText(app.IO.Out, out, app.IO.PaletteOut()); err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	return nil
}
