package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/mx"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newMXCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name: "mx",
			Detect: func(h *system.Host) (bool, string) {
				mta, err := mx.DetectMTA(h, app.Config().MX)
				if err != nil {
					return false, err.Error()
				}
				return true, "MTA " + mta
			},
			// Every domain the MTA lists (mx check --all).
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				cfg := app.Config().MX
				lists, err := mx.ReadLists(h, cfg)
				if err != nil {
					return nil, err
				}
				if len(lists.All) == 0 {
					return &check.Result{Check: "mx", Status: check.OK, Summary: "the " + lists.MTA + " lists name no domain"}, nil
				}
				rep, err := mx.Check(ctx, h, mx.CheckOptions{Config: cfg, All: true})
				if err != nil {
					return nil, err
				}
				return rep.Combined(), nil
			},
		}
	})
}

func newMXCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "mx",
		Short: `Find why "lowest numbered MX record points to local host" and make the MTA's local domains agree with DNS`,
		Long: `Compare each domain's MX in DNS with this host's addresses and with the MTA's local-domain
lists, and make the lists agree: the runbook "Lowest numbered MX record points to local
host" (Exim; Sendmail says "mail loops back to me", Postfix "loops back to myself"), and its
opposite, a domain local here whose MX is elsewhere.

  check  the verdict per domain: MX by preference, where it points, the local list, mail
         log evidence
  fix    add the domain to the local list when its lowest MX is this host, or take it out
         (and into the remote list on cPanel) when it is elsewhere or with --remote

MTAs: cPanel Exim (/etc/localdomains, /etc/remotedomains, /etc/secondarymx, MXCHECK in
/var/cpanel/users), Sendmail (/etc/mail/local-host-names), Postfix (mydestination and
virtual_mailbox_domains in main.cf) and Debian exim4 (dc_other_hostnames), detected from
the files present or named with --mta. DNS is asked directly (the servers of
/etc/resolv.conf under --root, or --resolver). See docs/mx.md.`,
	}
	fl := c.PersistentFlags()
	fl.StringSlice("resolver", nil, "DNS server `IP:PORT` to ask (repeat or comma-separate; config mx.resolvers, default: /etc/resolv.conf)")
	app.Bind(c, "resolver", "mx.resolvers")
	fl.Duration("timeout", 0, "timeout of one DNS query (config mx.timeout, default 2s)")
	app.Bind(c, "timeout", "mx.timeout")
	fl.Int("retries", 0, "times a timed-out query is sent again (config mx.retries, default 2)")
	app.Bind(c, "retries", "mx.retries")
	fl.Int("parallel", 0, "domains looked up at once (config mx.parallel, default 64)")
	app.Bind(c, "parallel", "mx.parallel")
	fl.String("mta", "", "the MTA whose lists are read: cpanel, sendmail, postfix or exim4 (config mx.mta, default: detect)")
	app.Bind(c, "mta", "mx.mta")
	fl.StringSlice("local-address", nil, "an `ADDRESS` of this host no interface shows, e.g. a public NAT address (repeat; config mx.local_addresses)")
	app.Bind(c, "local-address", "mx.local_addresses")
	c.AddCommand(newMXCheckCmd(app), newMXFixCmd(app))
	return c
}

// mxDomains validates every domain named on the command line ("-" reads stdin, one per
// line, # comments) before anything else happens.
func mxDomains(app *App, args []string) ([]mx.Domain, error) {
	var out []mx.Domain
	stdin := false
	for i, a := range args {
		if a == "-" {
			if stdin {
				continue
			}
			stdin = true
			ds, err := mx.ReadDomains(bufio.NewReader(app.IO.In), "stdin")
			if err != nil {
				return nil, usage.Errorf("%v: not a domain name; nothing was done for any domain", err)
			}
			out = append(out, ds...)
			continue
		}
		d, err := mx.ParseDomain(a, fmt.Sprintf("argument %d", i+1))
		if err != nil {
			return nil, usage.Errorf("%v: not a domain name; nothing was done for any domain", err)
		}
		out = append(out, d)
	}
	return mx.Unique(out), nil
}

func newMXCheckCmd(app *App) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use:   "check (DOMAIN... | - | --all)",
		Short: "Check that each domain's MX and the MTA's local-domain lists agree",
		Long: `Check each domain: its MX records by preference (no MX: the domain's own A/AAAA, RFC 5321
§5.1; "MX 0 ." is a null MX: no mail), the A and AAAA of every MX host, whether the
lowest-preference MX is this host (its interfaces' addresses plus mx.local_addresses),
and whether the MTA treats the domain as local.

Verdict per domain:
  CRITICAL  the lowest MX is this host but the domain is not local (mail for it fails
            with "lowest numbered MX record points to local host"); the domain is local
            but its MX is elsewhere (mail from this host for it never leaves); or it is in
            both /etc/localdomains and /etc/remotedomains
  WARNING   a backup MX set-up that disagrees with DNS (cPanel's /etc/secondarymx), an MX
            that is a CNAME (RFC 2181 §10.3), a local domain with a null MX or no DNS
  UNKNOWN   DNS failed (SERVFAIL, timeout): never OK
  OK        the lists agree with DNS (whatever cPanel's MXCHECK says)
The mail log (mx.mail_log, default the MTA's) is searched for the MTA's error text naming
the domain; hits are shown as evidence.

Domains come from the arguments, from stdin with "-" (one per line, # comments), or from
the MTA's lists with --all. IDNs are looked up as A-labels (xn--…). The text output is a
table; -o json prints one check object per domain (one per line, NDJSON, when there is
more than one); -o nagios one line for the worst domain with counts as perfdata.

EXIT STATUS
  0 OK, 1 WARNING, 2 CRITICAL, from the worst domain (Nagios plugin codes; CRITICAL
  outranks UNKNOWN); 3 UNKNOWN: DNS failed for a domain and none is CRITICAL, the check
  could not run, or bad input (a name that is not a domain, an IP address, a resolver
  that is not IP:PORT: the message names the argument or stdin line, and nothing is
  checked).`,
		Example: `  hostfix mx check example.com
  hostfix mx check --all
  hostfix mx check - < domains.txt -o json | jq -c 'select(.status != "ok")'
  hostfix mx check example.com --resolver 127.0.0.1:53 --local-address 203.0.113.7
  hostfix mx check --all -o nagios`,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "mx"},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return usage.Errorf("mx check needs domains: name them, pass - to read them from stdin, or --all for every domain the MTA lists")
			}
			domains, err := mxDomains(app, args)
			if err != nil {
				return err
			}
			h := app.Host()
			rep, err := mx.Check(c.Context(), h, mx.CheckOptions{Config: app.Config().MX, Domains: domains, All: all})
			if err != nil {
				return err
			}
			for _, s := range rep.Lists.Skipped {
				app.Debugf("not a domain name, skipped: %s", s)
			}
			if app.Opts.Output == "json" {
				if len(rep.Results) == 1 {
					if err := check.WriteJSON(app.IO.Out, rep.Results[0].Result); err != nil {
						return err
					}
				} else {
					w := bufio.NewWriterSize(app.IO.Out, 64<<10)
					enc := json.NewEncoder(w)
					enc.SetEscapeHTML(false)
					for _, d := range rep.Results {
						d.Result.Normalize()
						if err := enc.Encode(d.Result); err != nil {
							return err
						}
					}
					if err := w.Flush(); err != nil {
						return err
					}
				}
				if rep.Status != check.OK {
					return &ExitError{Code: rep.Status.ExitCode()}
				}
				return nil
			}
			return app.RenderCheck(rep.Combined(), "", "mx")
		},
	}
	c.Flags().BoolVar(&all, "all", false, "check every domain the MTA's lists name")
	return c
}

func newMXFixCmd(app *App) *cobra.Command {
	var remote bool
	c := &cobra.Command{
		Use:   "fix (DOMAIN... | -) [--remote]",
		Short: "Make the MTA's local-domain lists agree with DNS (local when the lowest MX is here)",
		Long: `Make the MTA's lists agree with DNS for each domain. When its lowest MX is this host, the
domain is added to the local list (and taken out of the remote one); when the MX is
elsewhere, or with --remote, it is taken out of the local list (cPanel: and put in
/etc/remotedomains; also in /etc/secondarymx when this host is a backup MX).

Per MTA: cPanel Exim edits /etc/localdomains, /etc/remotedomains and /etc/secondarymx
(Exim reads them live: nothing to restart); Sendmail edits /etc/mail/local-host-names and
restarts sendmail (mx.sendmail_restart_command); Postfix edits mydestination in main.cf
(an edit of the file in the plan, not postconf -e) and reloads (mx.postfix_reload_command);
Debian exim4 edits dc_other_hostnames in update-exim4.conf.conf, then runs
update-exim4.conf (mx.exim4_update_command) and restarts exim4
(mx.exim4_restart_command). Empty commands are detected.

Every domain is validated first: one bad name and nothing is changed for any domain. A
domain whose DNS fails, or a local one whose DNS names no mail server at all (NXDOMAIN,
null MX), is not guessed at: nothing changes (pass --remote to make it remote anyway); a
domain DNS names no server for that is not local is left as it is (nothing to fix). On the live host the MTA's routing of postmaster@DOMAIN is verified
afterwards (exim -bt, sendmail -bv, postconf) and a wrong result rolls everything back;
under --root that check is skipped with a note. On cPanel a domain with MXCHECK auto
gets a note: cPanel may re-detect and revert the edit. Running it again changes nothing.`,
		Example: `  hostfix mx fix example.com --dry-run
  hostfix mx fix example.com shop.example
  hostfix mx fix old.example --remote
  hostfix mx check --all -o json | jq -r 'select(.status=="critical") | .metrics.domain' | hostfix mx fix -`,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usage.Errorf("mx fix needs domains: name them, or pass - to read them from stdin")
			}
			domains, err := mxDomains(app, args)
			if err != nil {
				return err
			}
			h := app.Host()
			p, _, err := mx.PlanFix(c.Context(), h, mx.FixOptions{
				CheckOptions: mx.CheckOptions{Config: app.Config().MX, Domains: domains},
				Remote:       remote,
				Path:         app.Getenv("PATH"),
			})
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	c.Flags().BoolVar(&remote, "remote", false, "make the domains remote (not local) whatever DNS says")
	return c
}
