package cmd

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/exim"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newEximCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name: "exim",
			Detect: func(h *system.Host) (bool, string) {
				if logs := app.Config().Exim.Logs; len(logs) > 0 {
					return true, "exim.logs " + strings.Join(logs, ", ")
				}
				for _, p := range exim.DefaultLogs {
					if h.Exists(p) {
						return true, "Exim main log " + p
					}
				}
				return false, "no Exim main log (" + strings.Join(exim.DefaultLogs, ", ") + ")"
			},
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				cfg := app.Config().Exim
				rep, err := exim.AuthCheck(ctx, h, exim.CheckOptions{Config: cfg})
				var nl *exim.NoLogError
				if errors.As(err, &nl) {
					return exim.UnknownResult(err), nil
				}
				if err != nil {
					return nil, err
				}
				return rep.Check(cfg), nil
			},
		}
	})
}

func newEximCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "exim",
		Short: "Tell the causes of Exim's \"535 Incorrect authentication data\" apart; reset cPanel's Exim service auth",
		Long: `Exim answers "535 Incorrect authentication data" for two different reasons:

  - cPanel's own service auth is out of sync: chkservd logs into Exim as
    __cpanel__service__auth__exim__… with keys from /var/cpanel/serviceauth/exim,
    fails, and restarts Exim every few minutes. auth-reset fixes that.
  - users with wrong passwords, and password guessing (brute force). auth-reset does
    nothing for these: auth-check lists the top sources and accounts instead.

  auth-check   read the Exim main log (and rotated ones) and tell the two apart
  auth-reset   remove cPanel's Exim service-auth keys and have cPanel write new ones

See docs/exim.md.`,
		Example: `  hostfix exim auth-check
  hostfix exim auth-check --since 2h -o json | jq .metrics.top_ips
  hostfix exim auth-reset --dry-run`,
	}
	c.AddCommand(newEximAuthCheckCmd(app), newEximAuthResetCmd(app))
	return c
}

func eximLogFlags(app *App, c *cobra.Command) {
	c.Flags().StringArray("log", nil, "read this Exim main log `FILE` (repeatable; - is stdin; .gz is read compressed); default: detect /var/log/exim_mainlog, /var/log/exim4/mainlog or /var/log/exim/main.log with rotated siblings")
	c.Flags().String("since", "", "look back this `DURATION` (24h, 90m; 0 = whole logs; config exim.since, default 24h)")
	app.Bind(c, "log", "exim.logs")
	app.Bind(c, "since", "exim.since")
}

func newEximAuthCheckCmd(app *App) *cobra.Command {
	var textfileDir string
	c := &cobra.Command{
		Use:   "auth-check",
		Short: "Check Exim authentication failures: cPanel service-auth desync vs wrong passwords and brute force",
		Long: `Read the Exim main log and report every "authenticator failed for …: 535 …" line in the
window (--since, default 24h), in all the shapes Exim writes them (with or without [pid],
(helo), I=[…]:port, U=ident, IPv4 or IPv6 hosts, with or without set_id). Rotated logs
(NAME.1, NAME.2.gz, NAME-YYYYMMDD[.gz]) are read as far back as --since reaches when the
log is detected; --log reads exactly the files given. Logs are streamed, never loaded.

Failures are classified: a set_id starting __cpanel__service__auth__ is cPanel's own login
(key desync: hostfix exim auth-reset helps); everything else is an account failure (wrong
password or brute force: the reset does not help). The report shows counts per class and
per authenticator, the top source IPs and accounts (count, distinct accounts or IPs, first
and last seen), authenticated receptions (A=) per account, signs of brute force (one IP on
exim.brute_force_accounts accounts or more, or exim.brute_force_attempts failures from one
IP or on one account), and, when /var/log/chkservd.log exists, how often chkservd
restarted Exim. The key inside a service-auth set_id is never shown.

Thresholds: exim.warn_service_auth / crit_service_auth (service-auth failures),
exim.warn_failures / crit_failures (account failures), exim.warn_restarts (chkservd).
Brute force and non-535 failures (435: the authenticator's backend failed) warn.

EXIT STATUS
  0 OK, 1 WARNING, 2 CRITICAL (Nagios plugin codes); 3 UNKNOWN: no Exim main log found
  (the paths tried are named), a log could not be read, or bad usage or input.`,
		Example: `  hostfix exim auth-check
  hostfix exim auth-check --since 2h -o nagios
  hostfix exim auth-check --log /var/log/exim_mainlog --log /var/log/exim_mainlog-20261130.gz --since 0
  zcat old.gz | hostfix exim auth-check --log - --since 0 -o json
  hostfix exim auth-check -o prometheus --textfile-dir /var/lib/prometheus/node-exporter`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "exim auth"},
		RunE: func(c *cobra.Command, _ []string) error {
			if textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			cfg := app.Config().Exim
			if cfg.Since < 0 {
				return usage.Errorf("--since %s: want a duration of 0 or more", cfg.Since)
			}
			rep, err := exim.AuthCheck(c.Context(), app.Host(), exim.CheckOptions{Config: cfg, Stdin: app.IO.In})
			var nl *exim.NoLogError
			if errors.As(err, &nl) {
				return app.RenderCheck(exim.UnknownResult(err), textfileDir, "exim_auth")
			}
			if err != nil {
				return err
			}
			return app.RenderCheck(rep.Check(cfg), textfileDir, "exim_auth")
		},
	}
	eximLogFlags(app, c)
	c.Flags().StringVar(&textfileDir, "textfile-dir", "", "with -o prometheus, write hostfix_exim_auth.prom atomically into `DIR` (node_exporter textfile collector)")
	return c
}

func newEximAuthResetCmd(app *App) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "auth-reset",
		Short: "Reset cPanel's Exim service auth: remove /var/cpanel/serviceauth/exim, restart cPanel, wait for new keys",
		Long: `Fix the cPanel service-auth desync behind "535 Incorrect authentication data" for
__cpanel__service__auth__exim__… logins (see hostfix exim auth-check).

Refused (exit 2, nothing changed) on a host that is not cPanel (no /usr/local/cpanel).
It first reads the Exim main log like auth-check (--since, --log): with no service-auth
failure in the window it says the reset will not help and needs --force; when the keys
were written after the last service-auth failure, it is already done (nothing to do).

The plan: move /var/cpanel/serviceauth/exim (the send and recv keys) into the run's
backup (hostfix undo puts the old keys back; their contents are never shown), run
exim.restart_cpanel_command (default: /usr/local/cpanel/scripts/restartsrv_cpsrvd, else
/etc/rc.d/init.d/cpanel restart) and exim.restart_exim_command (default:
/usr/local/cpanel/scripts/restartsrv_exim when present), then wait up to exim.key_wait
(30s) for the directory to be back with 16-byte send and recv keys. Keys missing or of
the wrong size by then fail the run: everything is rolled back. A mode or owner other than
cPanel's usual 0750 root:mail is reported as a warning. Under --root, detected restart
commands are not run: set the config keys.

EXIT STATUS
  0 reset done, or nothing to do; 1 the reset failed (rolled back: the old keys are back);
  2 bad usage, not a cPanel host, or the logs show the reset would not help (use --force).`,
		Example: `  hostfix exim auth-reset --dry-run
  hostfix exim auth-reset
  hostfix exim auth-reset --force --since 0`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			cfg := app.Config().Exim
			if cfg.Since < 0 {
				return usage.Errorf("--since %s: want a duration of 0 or more", cfg.Since)
			}
			if cfg.KeyWait <= 0 {
				return usage.Errorf("exim.key_wait %s: want a duration above 0", cfg.KeyWait)
			}
			h := app.Host()
			p, _, err := exim.PlanReset(c.Context(), h, exim.ResetOptions{Config: cfg, Force: force, Check: exim.CheckOptions{Stdin: app.IO.In}})
			if err != nil {
				return err
			}
			if err := app.ApplyPlan(c.Context(), p, ApplyOptions{}); err != nil {
				return err
			}
			if !app.Opts.DryRun && !p.Empty() {
				for _, w := range exim.ReadKeys(h).Warnings(h) {
					app.Logf("warning: %s", w)
				}
				app.Logf("new keys in place; check again in a few minutes: hostfix exim auth-check --since 10m")
			}
			return nil
		},
	}
	eximLogFlags(app, c)
	c.Flags().BoolVar(&force, "force", false, "reset even when the logs show no service-auth failure since the keys were written")
	return c
}
