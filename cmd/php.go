package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/php"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newPHPCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name:   "php",
			Detect: func(h *system.Host) (bool, string) { return php.Detect(h, app.Config().PHP) },
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				return php.Check(ctx, h, php.CheckOptions{Config: app.Config().PHP})
			},
		}
	})
}

func newPHPCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "php",
		Short: "Check every PHP the host runs; install mbstring; raise max_input_vars, verified per SAPI",
		Long: `Find every PHP installation on the host and each SAPI it serves through — php on PATH and
versioned binaries, Debian/Ubuntu /etc/php/<X.Y>/{cli,fpm,apache2,cgi}, RHEL and Remi,
cPanel EasyApache 4, Plesk, CloudLinux alt-php — and fix the two classic problems of the
runbooks "How to install PHP mbstring extension" and "increase max_input_vars":

  check             per SAPI: version, serving services, php.ini and scan dir, mbstring,
                    max_input_vars, Suhosin caps, FPM pools; a verdict
  mbstring install  install the right package per PHP, restart what serves it, verify
  max-input-vars    show it per SAPI; set N with a drop-in, reload, verify

On a live host each SAPI's own binary is asked (php8.2 -i, php-fpm8.2 -m); under --root
the values are computed from the ini files. See docs/php.md.`,
		Example: `  hostfix php check
  hostfix php mbstring install --dry-run
  hostfix php max-input-vars set 5000 --php 8.2 --sapi fpm --yes`,
	}
	mb := &cobra.Command{
		Use:   "mbstring",
		Short: "Install the mbstring extension for every PHP and SAPI that lacks it",
		Long: `Install the mbstring extension where a PHP SAPI does not load it: the right package per
installation, phpenmod on Debian where needed, the serving services restarted, each SAPI's
binary asked afterwards. See docs/php.md.`,
		Example: `  hostfix php mbstring install --dry-run`,
	}
	mb.AddCommand(newPHPMbstringInstallCmd(app))
	miv := &cobra.Command{
		Use:   "max-input-vars",
		Short: "Show or raise max_input_vars (and Suhosin's caps) per PHP and SAPI",
		Long: `Show the effective max_input_vars of every PHP SAPI and what sets it, or set it with a
drop-in per scan dir (Suhosin's caps and pinned FPM pools included), reload the serving
services and verify with each SAPI's binary. See docs/php.md.`,
		Example: `  hostfix php max-input-vars show
  hostfix php max-input-vars set 5000 --dry-run`,
	}
	miv.AddCommand(newPHPMaxInputVarsShowCmd(app), newPHPMaxInputVarsSetCmd(app))
	c.AddCommand(newPHPCheckCmd(app), mb, miv)
	return c
}

// phpSelection holds --php and --sapi.
type phpSelection struct {
	php   string
	sapis []string
}

func (s *phpSelection) add(c *cobra.Command) {
	c.Flags().StringVar(&s.php, "php", "all", "which PHP: `ID` as php check shows it (php8.2, ea-php81, alt-php74, plesk-php83, php81, php), a version (8.2 or 82: every installation of it) or all")
	c.Flags().StringSliceVar(&s.sapis, "sapi", []string{"all"}, "which `SAPI`s: cli, fpm, apache2, cgi, litespeed or all (repeat or comma-separate)")
}

func (s *phpSelection) selection() php.Selection { return php.Selection{PHP: s.php, SAPIs: s.sapis} }

func newPHPCheckCmd(app *App) *cobra.Command {
	var textfileDir string
	c := &cobra.Command{
		Use:   "check",
		Short: "Every PHP installation and SAPI: mbstring, max_input_vars, Suhosin, FPM pools",
		Long: `Find every PHP installation and report, per SAPI: version, the services that serve it
(apache2/httpd for mod_php, php<ver>-fpm, ea-php<NN>-php-fpm, plesk-php<NN>-fpm, lsws for
lsphp), the loaded php.ini and scan dir, whether mbstring is loaded, the effective
max_input_vars (and the file:line that sets it) and max_multipart_body_parts, Suhosin and
its caps when loaded, and PHP-FPM pools that pin php_admin_value[max_input_vars].

On a live host every SAPI's binary is asked (-i and -m; mod_php through the CLI binary
with the apache2 ini); under --root the values are computed from the ini files.

WARNING when mbstring is missing for an installed SAPI, the CLI included (composer, drush
and cron jobs need it; php.require_mbstring: false turns this off); when max_input_vars is
at the 1000 default while a web SAPI's error log shows "Input variables exceeded 1000";
when Suhosin caps input variables below max_input_vars; when an ini file cannot be read or
parsed. Each finding names the command that fixes it.

EXIT STATUS
  0 OK, 1 WARNING (Nagios plugin codes); 3 UNKNOWN: the check could not run, or bad usage.`,
		Example: `  hostfix php check
  hostfix php check -o json
  hostfix php check -o nagios
  hostfix --root /srv/snapshot php check`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "php"},
		RunE: func(c *cobra.Command, _ []string) error {
			if textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			r, err := php.Check(c.Context(), app.Host(), php.CheckOptions{Config: app.Config().PHP})
			if err != nil {
				return err
			}
			return app.RenderCheck(r, textfileDir, "php")
		},
	}
	c.Flags().Bool("require-mbstring", true, "warn when a SAPI lacks mbstring (config php.require_mbstring)")
	c.Flags().StringVar(&textfileDir, "textfile-dir", "", "with -o prometheus: write hostfix_php.prom atomically into `DIR` (node_exporter textfile collector)")
	app.Bind(c, "require-mbstring", "php.require_mbstring")
	return c
}

func newPHPMbstringInstallCmd(app *App) *cobra.Command {
	var sel phpSelection
	c := &cobra.Command{
		Use:   "install",
		Short: "Install mbstring where it is missing, restart the serving services, verify per SAPI",
		Long: `Install the mbstring extension for every selected PHP and SAPI that does not load it:

  - the package per installation: php<X.Y>-mbstring (Debian/Ubuntu), php-mbstring
    (RHEL, SUSE), php<NN>-php-mbstring (Remi), ea-php<NN>-php-mbstring (cPanel EA4),
    plesk-php<NN>-mbstring (Plesk), alt-php<NN>-mbstring (CloudLinux) — patterns in
    php.packages; one run of the package manager (php.package_manager, detected: apt-get,
    dnf, yum, zypper; argvs in php.package_managers), non-interactive;
  - on Debian/Ubuntu, phpenmod -v <X.Y> -s <sapi> mbstring where the package leaves the
    module disabled (disabled by the admin) or is installed but not enabled;
  - one restart of exactly the services that serve the changed SAPIs, at the end;
  - on a live host, each selected SAPI's own binary must then list mbstring (php8.2 -m,
    php-fpm8.2 -m); if not, the run fails (a package cannot be uninstalled by rollback).

A package-manager failure is reported with its last lines of output. A PHP with no known
package (built from source) is an error when selected by --php, a note otherwise. When
mbstring is loaded everywhere selected, there is nothing to do.

EXIT STATUS
  0 installed, or nothing to do; 1 the install or its verification failed;
  2 bad usage or bad input (nothing changed).`,
		Example: `  hostfix php mbstring install --dry-run
  hostfix php mbstring install --yes
  hostfix php mbstring install --php 8.2 --sapi cli,fpm
  hostfix php mbstring install --php ea-php81`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := php.PlanMbstring(c.Context(), app.Host(), php.MbstringOptions{Config: app.Config().PHP, Selection: sel.selection()})
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	sel.add(c)
	return c
}

func newPHPMaxInputVarsShowCmd(app *App) *cobra.Command {
	var sel phpSelection
	c := &cobra.Command{
		Use:   "show",
		Short: "Show the effective max_input_vars per PHP and SAPI, and what sets it",
		Long: `Show the effective max_input_vars of every selected PHP and SAPI, the file:line that
sets it ("default" for PHP's 1000), max_multipart_body_parts, Suhosin's caps and FPM pools
that pin it. Asked from each SAPI's binary on a live host, computed from the ini files
under --root.

EXIT STATUS
  0 shown; 3 it could not be read, or bad usage.`,
		Example: `  hostfix php max-input-vars show
  hostfix php max-input-vars show --php 8.2 -o json`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "php_max_input_vars"},
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := php.ShowMaxInputVars(c.Context(), app.Host(), app.Config().PHP, sel.selection())
			if err != nil {
				return err
			}
			return app.RenderCheck(r, "", "php_max_input_vars")
		},
	}
	sel.add(c)
	return c
}

func newPHPMaxInputVarsSetCmd(app *App) *cobra.Command {
	var (
		sel   phpSelection
		pools []string
		force bool
	)
	c := &cobra.Command{
		Use:   "set N",
		Short: "Set max_input_vars = N per SAPI (drop-in), raise Suhosin's caps, reload, verify",
		Long: `Set max_input_vars = N for the selected PHPs and SAPIs:

  - in a drop-in that sorts last in the SAPI's scan dir (php.drop_in, default
    99-hostfix.ini: e.g. /etc/php/8.2/fpm/conf.d/99-hostfix.ini); a scan-dir file that
    sorts after it and sets the value is edited in place instead, and so is php.ini
    where there is no scan dir (comments and layout kept);
  - suhosin.post.max_vars and suhosin.request.max_vars raised to N where Suhosin is loaded;
  - a PHP-FPM pool that pins php_admin_value[max_input_vars] (or php_value) wins over
    php.ini for its requests: it is reported, and changed in the pool file when --pool
    names it (or --pool all);
  - the serving services reloaded once at the end (php.reload_command, detected:
    systemctl reload); on a live host the effective value is then verified with each
    SAPI's own binary (php8.2 -i, php-fpm8.2 -i; php-fpm -t for a changed pool).

N must be a positive integer. Lowering below the current effective value needs --force:
it drops fields of big forms (WooCommerce variations, menus, translation screens).
Dry-run shows every diff; a second run has nothing to do; hostfix undo restores.

EXIT STATUS
  0 changed, or nothing to do; 1 the change or its verification failed (rolled back);
  2 bad usage or bad input (nothing changed).`,
		Example: `  hostfix php max-input-vars set 5000 --dry-run
  hostfix php max-input-vars set 5000 --php 8.2 --sapi fpm --yes
  hostfix php max-input-vars set 10000 --sapi fpm --pool shop
  hostfix php max-input-vars set 3000 --force`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usage.Errorf("max-input-vars set needs exactly one value N (e.g. 5000)")
			}
			return nil
		},
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, args []string) error {
			p, err := php.PlanMaxInputVars(c.Context(), app.Host(), php.MaxInputVarsOptions{
				Config: app.Config().PHP, Selection: sel.selection(), Value: args[0], Pools: pools, Force: force,
			})
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	sel.add(c)
	c.Flags().StringSliceVar(&pools, "pool", nil, "also change the PHP-FPM pool `NAME` (or all) that pins max_input_vars in its pool file")
	c.Flags().BoolVar(&force, "force", false, "allow lowering max_input_vars below the current effective value")
	return c
}
