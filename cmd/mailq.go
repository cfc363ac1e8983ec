package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/doctor"
	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/mailq"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

func init() {
	register(newMailqCmd)
	registerCheck(func(app *App) doctor.Check {
		return doctor.Check{
			Name: "mailq",
			Detect: func(h *system.Host) (bool, string) {
				cfg := app.Config().Mailq
				mta := cfg.MTA
				if mta == "" || mta == "auto" {
					m, err := mailq.DetectMTA(h, cfg)
					if err != nil {
						return true, err.Error() // several queues: Run says which to pick (UNKNOWN)
					}
					mta = m
				}
				switch mta {
				case mailq.MTAExim:
					return true, "exim spool"
				case mailq.MTAPostfix:
					return true, "postfix queue"
				}
				dir := cfg.Queue
				if h.Exists(filepath.Join(dir, "mess")) {
					return true, "qmail queue " + dir
				}
				return false, "no qmail queue at " + dir
			},
			Run: func(ctx context.Context, h *system.Host) (*check.Result, error) {
				cfg := app.Config().Mailq
				src, err := mailq.OpenSource(h, mailq.OpenOptions{Config: cfg, Path: app.Getenv("PATH")})
				if err != nil {
					return nil, err
				}
				q, ok := src.(*mailq.Queue)
				if !ok {
					s, err := mailq.CollectQueueStats(ctx, src, h.Now())
					if err != nil {
						return nil, err
					}
					return s.Check(cfg), nil
				}
				s, err := mailq.CollectStats(ctx, q, h.Now())
				if err != nil {
					return nil, err
				}
				return s.Check(cfg), nil
			},
		}
	})
}

func newMailqCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "mailq",
		Short: "Inspect, show, flush and purge a qmail, Exim or Postfix queue safely",
		Long: `Inspect, show, flush and purge a mail queue: qmail (default /var/qmail/queue; mailq.queue
or --queue), Exim (its spool's input directory, mailq.exim_spool) or Postfix (through
postqueue, postcat and postsuper). --mta auto (the default) picks the MTA that owns a
queue on this host, also under --root. stats is a check (Nagios, Prometheus); list prints
one row or one JSON line per message; show prints one message decoded; flush asks the MTA
to deliver now; purge removes (or with --hold, freezes) the selected messages: on qmail
it stops qmail-send, waits for its lock, removes every file and always starts qmail
again; on Exim and Postfix it uses their own tools on the running queue. See docs/mailq.md.`,
		Example: `  hostfix mailq stats
  hostfix mailq stats -o nagios
  hostfix mailq list --sender '^spam@' --limit 20
  hostfix mailq purge --sender '^spam@victim\.example$' --dry-run
  hostfix mailq show 1xYJxi-0005hB-0f
  hostfix mailq purge --mta exim --header '^X-PHP-Originating-Script: .*mailer\.php' --hold`,
	}
	c.AddCommand(newMailqStatsCmd(app), newMailqListCmd(app), newMailqShowCmd(app), newMailqFlushCmd(app), newMailqPurgeCmd(app))
	return c
}

func mailqQueueFlag(app *App, c *cobra.Command) {
	c.Flags().String("queue", "", "qmail queue `DIR` (system path under --root; config mailq.queue, default /var/qmail/queue)")
	app.Bind(c, "queue", "mailq.queue")
}

// mailqFilterFlags are the selection flags list and purge share.
type mailqFilterFlags struct{ spec mailq.FilterSpec }

func (f *mailqFilterFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.spec.Sender, "sender", "", "envelope sender matches `RE` (Go regexp, unanchored; <> bounces are the empty string: use '^$')")
	fl.StringVar(&f.spec.Recipient, "recipient", "", "any envelope recipient matches `RE`")
	fl.StringVar(&f.spec.Subject, "subject", "", "Subject header matches `RE` (reads the header part of each message)")
	fl.StringVar(&f.spec.OlderThan, "older-than", "", "queued more than `DURATION` ago (90m, 36h, 7d)")
	fl.StringSliceVar(&f.spec.IDs, "id", nil, "message `ID` (repeat or comma-separate)")
	fl.BoolVar(&f.spec.Damaged, "damaged", false, "messages with a broken or partial file set")
	f.addContent(c)
}

func newMailqStatsCmd(app *App) *cobra.Command {
	var textfileDir string
	c := &cobra.Command{
		Use:   "stats",
		Short: "Check the mail queue (qmail, Exim, Postfix): size, age, recipients, top senders and domains",
		Long: `Scan the qmail queue once (envelopes only, never message bodies) and report the number of
messages (and how many are not yet preprocessed), pending local/remote recipients, pending
bounces, bytes, the oldest message's age, damaged messages, and the top 10 senders and
recipient domains. As a check it warns or goes critical on mailq.warn_messages /
crit_messages and mailq.warn_age / crit_age, and warns on damaged messages.

On Exim (the -H files) and Postfix (postqueue -j) the same check reports the messages by
state (Exim: queued, frozen; Postfix: its queue names) instead of qmail's
preprocessing and channels; metrics and samples carry the mta.`,
		Example: `  hostfix mailq stats
  hostfix mailq stats -o nagios
  hostfix mailq stats -o json | jq .metrics.top_senders
  hostfix mailq stats -o prometheus --textfile-dir /var/lib/prometheus/node-exporter`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindCheck, checkKey: "mailq"},
		RunE: func(c *cobra.Command, _ []string) error {
			if textfileDir != "" && app.Opts.Output != "prometheus" {
				return usage.Errorf("--textfile-dir needs -o prometheus")
			}
			cfg := app.Config().Mailq
			h := app.Host()
			src, err := mailqSource(app)
			if err != nil {
				return err
			}
			q, ok := src.(*mailq.Queue)
			if !ok {
				s, err := mailq.CollectQueueStats(c.Context(), src, h.Now())
				if err != nil {
					return err
				}
				return app.RenderCheck(s.Check(cfg), textfileDir, "mailq")
			}
			s, err := mailq.CollectStats(c.Context(), q, h.Now())
			if err != nil {
				return err
			}
			return app.RenderCheck(s.Check(cfg), textfileDir, "mailq")
		},
	}
	mailqQueueFlag(app, c)
	mailqMTAFlag(app, c)
	c.Flags().StringVar(&textfileDir, "textfile-dir", "", "with -o prometheus, write hostfix_mailq.prom atomically into `DIR` (node_exporter textfile collector)")
	return c
}

func newMailqListCmd(app *App) *cobra.Command {
	var ff mailqFilterFlags
	var limit int
	c := &cobra.Command{
		Use:   "list [filters]",
		Short: "List queued messages: id, queued time, size, state, sender, recipients",
		Long: `List the messages of the qmail queue, one row each: id, time queued (UTC), size in bytes,
state, envelope sender and recipients. Unlike qmail-qread it also lists messages not yet
preprocessed (state queued), being injected, and damaged ones. Done recipients are marked
"(done)". Rows come bucket by bucket as the queue is read (ids ascending inside a split
directory), so output starts at once even on a huge queue.

On Exim the rows come from the spool's -H files in id (arrival) order, states queued,
frozen, injecting or damaged; on Postfix from postqueue -j, the state being the queue
name (deferred, hold, active, incoming, maildrop). --header and --body read the message
itself (qmail: mess/; Exim: -H and -D; Postfix: postcat -q).

-o json prints one JSON object per line (NDJSON), not one document: pipe it into
jq, or stop reading whenever you like. Every object ends with "mta".`,
		Example: `  hostfix mailq list --limit 20
  hostfix mailq list --older-than 3d
  hostfix mailq list --recipient '@example\.com$' -o json | jq -r .id`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			f, err := ff.compile(app)
			if err != nil {
				return err
			}
			if limit < 0 {
				return usage.Errorf("--limit %d: want 0 (no limit) or more", limit)
			}
			h := app.Host()
			src, err := mailqSource(app)
			if err != nil {
				return err
			}
			now := h.Now()
			opts := f.Needs()
			opts.Envelope = true
			if f.Header != nil && src.MTA() != mailq.MTAQmail {
				opts.Headers = true // Exim's -H file holds them already
			}
			w := bufio.NewWriterSize(app.IO.Out, 64<<10)
			var line []byte // one JSON object per message, appended without reflection
			if app.Opts.Output != "json" {
				fmt.Fprintf(w, "%-*s %-19s %9s %-20s %s\n", mailqIDWidth(src.MTA()), "ID", "QUEUED (UTC)", "SIZE", "STATE", "SENDER -> RECIPIENTS")
			}
			n := 0
			var unreadable mailq.Unreadable
			errLimit := errors.New("limit reached")
			err = src.Scan(c.Context(), opts, func(m *mailq.Message) error {
				if f.Undecided(m, now) {
					unreadable.Add(m)
					return nil
				}
				if ok, err := f.Select(src, m, now); err != nil {
					unreadable.AddErr(m, err)
					return nil
				} else if !ok {
					return nil
				}
				n++
				if app.Opts.Output == "json" {
					j := m.JSON(now, f.Subject != nil)
					line = j.AppendJSON(line[:0])
					if _, err := w.Write(line); err != nil {
						return err
					}
				} else if err := mailqListRow(w, m, mailqIDWidth(src.MTA())); err != nil {
					return err
				}
				if limit > 0 && n >= limit {
					return errLimit
				}
				return nil
			})
			if err != nil && !errors.Is(err, errLimit) {
				w.Flush()
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if app.Opts.Output != "json" {
				app.Logf("%s listed", human.Plural(n, "message"))
			}
			if unreadable.Count > 0 {
				// Not skipped in silence: the listing is incomplete, and a script must know.
				return &ExitError{Code: ExitFailed, Err: fmt.Errorf("%s: the listing may be incomplete", unreadable.String())}
			}
			return nil
		},
	}
	mailqQueueFlag(app, c)
	mailqMTAFlag(app, c)
	ff.add(c)
	c.Flags().IntVar(&limit, "limit", 0, "stop after `N` messages (0: all)")
	return c
}

// mailqIDWidth is the ID column's width: qmail inode numbers, Exim's 16-character ids
// (23 from Exim 4.97), Postfix's 10-12 character ones.
func mailqIDWidth(mta string) int {
	switch mta {
	case mailq.MTAExim:
		return 16
	case mailq.MTAPostfix:
		return 12
	}
	return 10
}

func mailqListRow(w io.Writer, m *mailq.Message, width int) error {
	queued := "-"
	if !m.Queued.IsZero() {
		queued = m.Queued.UTC().Format("2006-01-02 15:04:05")
	}
	rc := make([]string, 0, len(m.Recipients))
	for _, r := range m.Recipients {
		a := r.Address
		if r.Done {
			a += " (done)"
		}
		rc = append(rc, a)
	}
	line := fmt.Sprintf("%-*s %-19s %9s %-20s %s", width, m.ID, queued, human.Count(m.Size), m.StateText(), mailqSender(m))
	if len(rc) > 0 {
		line += " -> " + strings.Join(rc, ", ")
	}
	if m.IsDamaged() {
		line += "  [" + strings.Join(m.Damaged, "; ") + "]"
	}
	_, err := io.WriteString(w, line+"\n")
	return err
}

func mailqSender(m *mailq.Message) string {
	if !m.SenderKnown {
		return "?"
	}
	return "<" + m.Sender + ">"
}

func newMailqPurgeCmd(app *App) *cobra.Command {
	var ff mailqFilterFlags
	var noBackup, hold bool
	c := &cobra.Command{
		Use:   "purge (--all | filters)",
		Short: "Remove (or --hold) queued messages safely: qmail stop/lock/remove/start, Exim -Mrm, postsuper -d",
		Long: `Remove the selected messages from the qmail queue. --all selects everything; otherwise
the filters select, all of them at once (AND). The dry-run (--dry-run) shows how many
messages and bytes match, a sample, and every step.

Applying: stop qmail-send (mailq.stop_command, or detected: qmailctl, daemontools svc,
systemd, /etc/init.d/qmail), wait until its flock on lock/sendmutex is free
(mailq.lock_wait; on timeout nothing is removed), remove every file of each message
(mess, info, local, remote, todo, intd, bounce; regular files inside the queue only,
symlinks never followed), then start qmail-send again — always, also after a failure —
and check that no file of a removed message is left (if one is, the purge is rolled
back and the run fails). Under --root only configured stop/start commands run: detected
ones are shown in the dry-run but apply refuses until mailq.stop_command and
mailq.start_command are set. Removed files are moved into the
run's backup directory (hostfix undo RUN puts them back) unless --no-backup. Needs --yes
when stdin is not a terminal. Running the same purge again is "nothing to do".

Exim and Postfix: their own tools on the running queue, no stop or start: exim -Mrm ID…
(mailq.exim_command, batches of mailq.exim_batch) or postsuper -d - (ids on stdin); then
the queue is read again to verify. They delete for good: the plan and the question say
that undo is not possible. --hold freezes instead (exim -Mf; hostfix undo RUN thaws them
with exim -Mt, recorded with the ids) or puts on hold (postsuper -h -; hostfix undo RUN releases
them with postsuper -H -).`,
		Example: `  hostfix mailq purge --sender '^spam@victim\.example$' --dry-run
  hostfix mailq purge --mta exim --sender '@compromised\.example$' --hold --yes
  hostfix mailq purge --recipient '@gone\.example$' --older-than 2d --yes
  hostfix mailq purge --damaged --yes
  hostfix mailq purge --all --no-backup --yes`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			ff.spec.All = c.Flags().Changed("all") && ff.spec.All
			f, err := ff.compile(app)
			if err != nil {
				return err
			}
			if !f.All && !f.HasCriteria() {
				return usage.Errorf("purge needs --all or at least one filter (--sender, --recipient, --subject, --header, --body, --older-than, --id, --damaged): nothing selected, nothing changed")
			}
			h := app.Host()
			cfg := app.Config().Mailq
			src, err := mailqSource(app)
			if err != nil {
				return err
			}
			if src.MTA() != mailq.MTAQmail {
				if noBackup {
					return usage.Errorf("--no-backup is for qmail queues: %s removes messages with its own tools, without a backup", src.MTA())
				}
				return mailqPlanMTAPurge(app, c, src, f, hold)
			}
			if hold {
				return usage.Errorf("--hold freezes messages on Exim and holds them on Postfix; qmail has no hold queue (purge moves the files into the run's backup instead: hostfix undo RUN puts them back)")
			}
			cfg.Queue = src.Location()
			p, sel, err := mailq.PlanPurge(c.Context(), h, mailq.PurgeOptions{Config: cfg, Filter: f, Path: app.Getenv("PATH")})
			if err != nil {
				return err
			}
			question := fmt.Sprintf("purge %s (%s) from %s?", human.Plural(sel.Count, "message"), human.Bytes(sel.Bytes), sel.Queue.Dir)
			return app.ApplyPlan(c.Context(), p, ApplyOptions{Destructive: true, Question: question, NoBackup: noBackup,
				Failed: func(rep *plan.Report) string { return qmailNotRunning(rep, sel.Control.Start) }})
		},
	}
	mailqQueueFlag(app, c)
	ff.add(c)
	c.Flags().BoolVar(&ff.spec.All, "all", false, "select every message in the queue")
	mailqMTAFlag(app, c)
	c.Flags().BoolVar(&hold, "hold", false, "Exim: freeze (exim -Mf), Postfix: put on hold (postsuper -h) instead of deleting; hostfix undo RUN thaws or releases them")
	c.Flags().BoolVar(&noBackup, "no-backup", false, "delete outright instead of moving into the run's backup (undo cannot restore them)")
	return c
}

// qmailNotRunning is the last line of a purge whose final start of qmail-send failed:
// mail is not being delivered until someone starts it, so say it plainly and how.
func qmailNotRunning(rep *plan.Report, start plan.Argv) string {
	for _, a := range rep.Actions {
		if a.Kind == plan.KindService && a.Phase == "finally" && a.Target == "qmail-send" && a.Error != "" {
			return "qmail-send is NOT running: start it with " + start.String()
		}
	}
	return ""
}
