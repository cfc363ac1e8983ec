package cmd

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/synflood"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newSynfloodCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name: "synflood",
			// Every Linux host has a TCP stack: always applies.
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				return synflood.Check(ctx, h, synflood.CheckOptions{Config: app.Config().Synflood, DryRun: app.Opts.DryRun})
			},
		}
	})
}

func newSynfloodCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "synflood",
		Short: "Detect a TCP SYN flood and protect against it (SYN cookies, queues, persistence)",
		Long: `Detect a TCP SYN flood and protect the host against it: the runbook "Detecting and
preventing SYN Flood attacks on web servers running Linux", done as an expert would.

  check  per-listener SYN and accept queues, TcpExt counter rates, the sysctls now and
         at boot, kernel log warnings and an optional local latency probe; a verdict
  fix    SYN cookies on, live and at boot (with conflicting sysctl.d lines disabled)

See docs/synflood.md.`,
	}
	c.AddCommand(newSynfloodCheckCmd(app), newSynfloodFixCmd(app))
	return c
}

type synfloodCheckFlags struct {
	ports       []int
	probe       string
	log         string
	textfileDir string
}

func newSynfloodCheckCmd(app *App) *cobra.Command {
	var f synfloodCheckFlags
	c := &cobra.Command{
		Use:   "check",
		Short: "Diagnose SYN flood symptoms: queues, drops, cookies, sysctls, kernel log, latency",
		Long: `Diagnose SYN flood symptoms on this host (or a snapshot under --root).

Sockets are listed through NETLINK_SOCK_DIAG with the kernel filtering SYN_RECV and LISTEN
sockets (fast with 100,000 half-open connections); under --root, or when netlink is not
available, /proc/net/tcp and /proc/net/tcp6 are parsed. For each listener the report shows
half-open connections (SYN_RECV) against the SYN queue cap, the accept queue against its
cap, SYN-ACK retransmits, and the busiest sources by address and /24 (/64 for IPv6) —
source addresses of SYNs are easily spoofed, so they are evidence, not targets.

The TcpExt counters of /proc/net/netstat (SyncookiesSent/Recv/Failed, ListenOverflows,
ListenDrops, TCPReqQFullDoCookies, TCPReqQFullDrop, TCPSynRetrans) are read twice,
--interval apart, and reported as rates; with --interval 0 only totals since boot are
shown unless --state-file holds the previous run's sample (for cron). The sysctls
tcp_syncookies, tcp_max_syn_backlog, somaxconn and tcp_synack_retries are shown live and as
they will be after a reboot (systemd-sysctl order over /etc, /run, /usr/local/lib and
/usr/lib sysctl.d, naming the winning file and conflicts). Kernel "Possible SYN flooding"
lines come from /dev/kmsg, or --log FILE.

The verdict: CRITICAL when SYNs are dropped (TCPReqQFullDrop, ListenOverflows or
ListenDrops rising), a SYN queue is full with cookies off, an accept queue is full, or the
probe fails or exceeds synflood.probe_crit; WARNING when a queue passes
synflood.queue_warn_percent, cookies are being sent, cookies are off, or the boot value of
tcp_syncookies differs from the live one. Findings tell a spoofed flood (cookies sent,
few come back) from legitimate overload and from an application slow to accept().

EXIT STATUS
  0 OK, 1 WARNING, 2 CRITICAL (Nagios plugin codes); 3 UNKNOWN: the check could not run,
  or bad usage or input (an invalid --port, --probe or --log).`,
		Example: `  hostfix synflood check
  hostfix synflood check --port 80 --port 443 --interval 5s
  hostfix synflood check --probe http://127.0.0.1/ -o nagios
  hostfix synflood check --interval 0 --state-file /var/lib/hostfix/synflood.json -o prometheus --textfile-dir /var/lib/node_exporter
  hostfix --root /srv/snapshot synflood check --log /srv/snapshot/dmesg.txt -o json`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "synflood"},
		RunE: func(c *cobra.Command, _ []string) error {
			if f.textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			cfg := app.Config().Synflood
			r, err := synflood.Check(c.Context(), app.Host(), synflood.CheckOptions{
				Config: cfg, Ports: f.ports, Probe: f.probe, LogFile: f.log, DryRun: app.Opts.DryRun,
			})
			if err != nil {
				return err
			}
			if cfg.StateFile != "" && app.Opts.DryRun {
				app.Logf("dry run: state file %s read, not updated", cfg.StateFile)
			}
			return app.RenderCheck(r, f.textfileDir, "synflood")
		},
	}
	fl := c.Flags()
	fl.IntSliceVar(&f.ports, "port", nil, "only listeners on this local `PORT` (exact match; repeatable)")
	fl.Duration("interval", time.Second, "time between the two counter samples for rates; 0 = totals only, no wait (config synflood.interval)")
	fl.String("state-file", "", "keep the counter sample in `FILE` so the next run (cron) reports rates since this one (config synflood.state_file)")
	fl.StringVar(&f.probe, "probe", "", "time a TCP connect to `HOST:PORT`, or connect + GET for an http(s):// URL")
	fl.StringVar(&f.log, "log", "", "read kernel messages from `FILE` (dmesg, kern.log, journalctl -k) instead of /dev/kmsg")
	fl.StringVar(&f.textfileDir, "textfile-dir", "", "with -o prometheus: write hostfix_synflood.prom atomically into `DIR` (node_exporter textfile collector)")
	fl.String("sockets", "auto", "how to list sockets: auto|netlink|proc (config synflood.sockets)")
	app.Bind(c, "interval", "synflood.interval")
	app.Bind(c, "state-file", "synflood.state_file")
	app.Bind(c, "sockets", "synflood.sockets")
	return c
}

func newSynfloodFixCmd(app *App) *cobra.Command {
	var keepOff bool
	c := &cobra.Command{
		Use:   "fix",
		Short: "Turn SYN cookies on, live and at boot; raise the SYN backlog only where it helps",
		Long: `Protect the host against SYN floods, live and persistently:

  - net.ipv4.tcp_syncookies = 1 (2 is a testing mode and is changed to 1 as well);
  - net.ipv4.tcp_max_syn_backlog raised to --backlog only when you ask (--backlog given,
    or synflood.backlog set in the config) or with --keep-cookies-off, and never lowered:
    its default is max(128, ehash entries / 128), already above 2048 on big hosts;
  - net.ipv4.tcp_synack_retries = --synack-retries when given;
  - the values are written to a sysctl.d drop-in that sorts after 99-sysctl.conf
    (default /etc/sysctl.d/99-zz-hostfix-synflood.conf), or to --persist-file edited in
    place (comments and layout kept: the existing line is rewritten, else one is
    appended). Any other file that would override them at boot (later in systemd-sysctl
    order, or /etc/sysctl.conf, which procps "sysctl --system" applies last) gets the line
    commented out with a note, so live and boot values agree.

Each kernel value is read back after writing; the change fails if the kernel did not take
it. These parameters belong to the network namespace: the plan names the one changed.
Everything goes through the plan: --dry-run shows it, files are backed up, a second run
has nothing to do.

EXIT STATUS
  0 changed, or nothing to do; 1 the change failed (rolled back where possible);
  2 bad usage or bad input (nothing changed).`,
		Example: `  hostfix synflood fix --dry-run
  hostfix synflood fix --yes
  hostfix synflood fix --backlog 4096 --synack-retries 3
  hostfix synflood fix --persist-file /etc/sysctl.conf`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			cfg := app.Config().Synflood
			backlogSet := app.Loaded().Sources["synflood.backlog"].Kind != "default"
			p, err := synflood.PlanFix(c.Context(), app.Host(), synflood.FixOptions{
				Config: cfg, BacklogSet: backlogSet, KeepCookiesOff: keepOff,
			})
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	fl := c.Flags()
	fl.Int("backlog", 2048, "raise net.ipv4.tcp_max_syn_backlog to `N` (never lowered; config synflood.backlog)")
	fl.Int("synack-retries", 0, "set net.ipv4.tcp_synack_retries to `N` (default: leave it; config synflood.synack_retries)")
	fl.String("persist-file", "", "persist in `FILE` instead of the drop-in synflood.drop_in (e.g. /etc/sysctl.conf; config synflood.persist_file)")
	fl.BoolVar(&keepOff, "keep-cookies-off", false, "leave tcp_syncookies alone (must stay off here) and raise tcp_max_syn_backlog instead")
	app.Bind(c, "backlog", "synflood.backlog")
	app.Bind(c, "synack-retries", "synflood.synack_retries")
	app.Bind(c, "persist-file", "synflood.persist_file")
	return c
}
