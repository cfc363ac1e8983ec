package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/smtpport"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newSmtpportCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name:   "smtpport",
			Detect: func(h *system.Host) (bool, string) { return smtpport.Detect(h, app.Config().Smtpport) },
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				return smtpport.Check(ctx, h, smtpport.CheckOptions{Config: app.Config().Smtpport})
			},
		}
	})
}

func newSmtpportCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "smtpport",
		Short: "Add, check or remove an alternate SMTP port (26, 587…) on xinetd/qmail (Plesk) or Postfix",
		Long: `Give mail users an SMTP port their ISP does not block: the runbook "Setting Alternate
SMTP port in Plesk on Linux", done as an expert would.

  check   which SMTP server runs here, and whether the port is configured, listening,
          answering 220 and allowed by the firewall
  add     configure the port (xinetd service copied from smtp_psa, or a Postfix master.cf
          service), reload, prove it with a real 220 banner, roll back otherwise
  remove  take back exactly what add created

See docs/smtpport.md.`,
	}
	c.AddCommand(newSmtpportCheckCmd(app), newSmtpportAddCmd(app), newSmtpportRemoveCmd(app))
	return c
}

func smtpportPortFlags(app *App, c *cobra.Command) {
	fl := c.Flags()
	fl.Int("port", 26, "the alternate SMTP `PORT` (config smtpport.port)")
	fl.String("name", "", "service `NAME` in /etc/services and xinetd (default smtp_p<port>; config smtpport.name)")
	app.Bind(c, "port", "smtpport.port")
	app.Bind(c, "name", "smtpport.name")
}

func newSmtpportCheckCmd(app *App) *cobra.Command {
	var textfileDir string
	c := &cobra.Command{
		Use:   "check",
		Short: "Report the SMTP server and whether the alternate port is configured, listening, answering and allowed",
		Long: `Report which SMTP server this host runs (xinetd + qmail as on older Plesk, Postfix, or
another program on port 25), the Plesk version when /usr/local/psa/version exists, and for
the port: where it is configured (xinetd service file or master.cf, file and line), what
listens on it (exact port match from /proc/net/tcp{,6}, with the process), whether it
answers with a 220 banner within smtpport.verify_timeout (live host only), and whether
each firewall found (CSF, APF, ufw, firewalld, else nftables or iptables) allows it.

The verdict: CRITICAL when the port is configured but nothing listens or it does not
answer 220 (live host only: a --root snapshot's sockets are not taken as the truth);
WARNING when it is configured but a firewall blocks it, or its xinetd service is
disabled, or a configuration file does not parse; OK otherwise (a port that is not
configured is reported, not an error).

EXIT STATUS
  0 OK, 1 WARNING, 2 CRITICAL (Nagios plugin codes); 3 UNKNOWN: the check could not run,
  or bad usage or input (a port outside 1-65535).`,
		Example: `  hostfix smtpport check
  hostfix smtpport check --port 587 -o nagios
  hostfix --root /srv/snapshot smtpport check -o json`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "smtpport"},
		RunE: func(c *cobra.Command, _ []string) error {
			if textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			r, err := smtpport.Check(c.Context(), app.Host(), smtpport.CheckOptions{Config: app.Config().Smtpport})
			if err != nil {
				return err
			}
			return app.RenderCheck(r, textfileDir, "smtpport")
		},
	}
	c.Flags().Int("port", 26, "the alternate SMTP `PORT` to report on (config smtpport.port)")
	app.Bind(c, "port", "smtpport.port")
	c.Flags().StringVar(&textfileDir, "textfile-dir", "", "with -o prometheus: write hostfix_smtpport_<port>.prom atomically into `DIR` (node_exporter textfile collector)")
	return c
}

func newSmtpportAddCmd(app *App) *cobra.Command {
	var o smtpport.AddOptions
	c := &cobra.Command{
		Use:   "add",
		Short: "Add the alternate SMTP port (xinetd or Postfix), reload, and prove it with a 220 banner",
		Long: `Add an alternate SMTP port the way this host's SMTP server expects it.

xinetd mode (auto when /etc/xinetd.d/smtp_psa exists): a new service file
/etc/xinetd.d/<name> (no dot in the name: xinetd's includedir skips such files) copied from
smtp_psa with every attribute kept (server, server_args, user, instances, flags…) and only
the service id changed, and "<name> <port>/tcp mail" and "<name> <port>/udp mail" in
/etc/services. With --unlisted the service file says type = UNLISTED, port = <port> and
protocol = tcp instead, and /etc/services is left alone. xinetd is reloaded by
smtpport.xinetd_reload_command (empty = detect: systemctl reload xinetd, the init script,
or SIGHUP to the pid in /var/run/xinetd.pid).

postfix mode (auto when Postfix is the MTA): a master.cf service "<port> inet … smtpd"
right after the smtp inet service, with its fields and -o options carried over. The edited
master.cf is parsed by postconf -M on a scratch copy (smtpport.postconf_command, else
/usr/sbin/postconf) or by hostfix's own parser when Postfix's tools are absent, and refused
on error. Postfix is reloaded by smtpport.postfix_reload_command (empty = detect: Plesk's
mailmng --reload-service, else postfix reload).

Refused (exit 2, nothing changed): a port outside 1-65535; a port /etc/services assigns to
another service; a port something else listens on; a bad service name; an smtp_psa or
master.cf that does not parse (file and line named); both modes possible without --mode.

On the live host the run ends by connecting to 127.0.0.1:<port> (and ::1 when the service
listens on IPv6) and requiring a 220 banner within smtpport.verify_wait; otherwise the
whole change is rolled back (files and /etc/services lines, reloaded again) and the error
quotes the server's log. Under --root the check is skipped with a note.

Firewalls (CSF, APF, ufw, firewalld, nftables, iptables) are detected; one that blocks the
port is reported, and with --open-firewall opened the way that tool expects (CSF TCP_IN and
APF IG_TCP_CPORTS edited and reloaded, ufw allow, firewall-cmd --permanent --add-port).
Raw nftables/iptables rulesets are not edited.

A second run changes nothing; --dry-run shows every file diff.

EXIT STATUS
  0 changed, or nothing to do; 1 the change failed (rolled back); 2 bad usage or bad
  input (nothing changed).`,
		Example: `  hostfix smtpport add --dry-run
  hostfix smtpport add --port 26
  hostfix smtpport add --port 587 --name smtp_p587 --mode postfix
  hostfix smtpport add --port 26 --unlisted --open-firewall`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			o.Config = app.Config().Smtpport
			p, err := smtpport.PlanAdd(c.Context(), app.Host(), o)
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	smtpportPortFlags(app, c)
	fl := c.Flags()
	fl.String("mode", "auto", "how to add the port: auto|xinetd|postfix (config smtpport.mode)")
	fl.BoolVar(&o.Unlisted, "unlisted", false, "xinetd: type = UNLISTED with port and protocol in the service file; /etc/services untouched")
	fl.BoolVar(&o.OpenFirewall, "open-firewall", false, "open the port in the firewall that blocks it (CSF, APF, ufw, firewalld)")
	app.Bind(c, "mode", "smtpport.mode")
	return c
}

func newSmtpportRemoveCmd(app *App) *cobra.Command {
	var o smtpport.RemoveOptions
	c := &cobra.Command{
		Use:   "remove",
		Short: "Remove the alternate SMTP port that add created, reload, and prove it is closed",
		Long: `Remove exactly what "smtpport add" created for the port: the xinetd service file, its
/etc/services lines, the master.cf service and the firewall rule it opened (recognised by
the comments add writes). The server is reloaded and, on the live host, the port must stop
answering 220 (else the removal is rolled back).

A port configured by something other than hostfix is refused unless --force, which removes
the port's xinetd service file named <name>, its /etc/services lines, its master.cf service
and the firewall rules allowing it, whoever wrote them.

EXIT STATUS
  0 changed, or nothing to do; 1 the change failed (rolled back); 2 bad usage or bad
  input (nothing changed).`,
		Example: `  hostfix smtpport remove --dry-run
  hostfix smtpport remove --port 26
  hostfix smtpport remove --port 26 --force`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			o.Config = app.Config().Smtpport
			p, err := smtpport.PlanRemove(c.Context(), app.Host(), o)
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	smtpportPortFlags(app, c)
	c.Flags().BoolVar(&o.Force, "force", false, "also remove configuration of the port that hostfix did not write")
	return c
}
