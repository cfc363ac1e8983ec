package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/config"
	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/mailq"
	"github.com/hostfix/hostfix/pkg/usage"
)

// mailq show and flush, and what list, stats and purge share for Exim and Postfix: --mta
// and the content filters.

func mailqMTAFlag(app *App, c *cobra.Command) {
	c.Flags().String("mta", "auto", "mail system: `auto` (the one that owns a queue here, also under --root), qmail, exim or postfix (config mailq.mta)")
	app.Bind(c, "mta", "mailq.mta")
}

// addContent registers --header, --body and --case-sensitive.
func (f *mailqFilterFlags) addContent(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.spec.Header, "header", "", "any header line matches `RE` (folded lines joined, RFC 2047 words decoded; case-insensitive unless --case-sensitive)")
	fl.StringVar(&f.spec.Body, "body", "", "a line of the body matches `RE` (read up to mailq.body_scan_bytes per message, default 1 MiB)")
	fl.BoolVar(&f.spec.CaseSensitive, "case-sensitive", false, "--header and --body match case-sensitively (qmHandle -H/-B)")
}

// compile builds the filter with mailq.body_scan_bytes.
func (f *mailqFilterFlags) compile(app *App) (mailq.Filter, error) {
	f.spec.BodyLimit = app.Config().Mailq.BodyScanBytes
	return f.spec.Compile()
}

// mailqSource opens the queue of the configured (or detected) MTA. A --queue on the
// command line is qmail's queue: with mailq.mta auto it decides (detection would pass
// over a directory that is not a qmail queue and open another MTA's instead of saying
// so); with another MTA it is a contradiction.
func mailqSource(app *App) (mailq.Source, error) {
	cfg := app.Config().Mailq
	var mta string
	if src := app.Loaded().Sources["mailq.queue"]; src.Kind == config.FromFlag {
		switch cfg.MTA {
		case "", "auto":
			mta = mailq.MTAQmail
		case mailq.MTAQmail:
		default:
			return nil, usage.Errorf("--queue %s is a qmail queue, but mailq.mta is %s: drop one of them", usage.ClipPath(cfg.Queue), cfg.MTA)
		}
	}
	return mailq.OpenSource(app.Host(), mailq.OpenOptions{Config: cfg, MTA: mta, Path: app.Getenv("PATH")})
}

func newMailqShowCmd(app *App) *cobra.Command {
	var raw bool
	var maxBytes int64
	c := &cobra.Command{
		Use:   "show ID",
		Short: "Show one queued message: envelope, decoded headers, text, attachments",
		Long: `Show one message of the queue (qmail, Exim or Postfix; --mta): its envelope (sender,
recipients with done/pending state, queue state, age, size), then the message: every
header with folded lines joined and RFC 2047 words decoded, the text of its text parts
(transfer encoding undone, UTF-8 and Latin-1 converted) up to --max-bytes in all, and its
attachments by name, type and size. --raw prints the message as the MTA stores it
(qmail's mess/ file, Exim's headers and -D body, Postfix's postcat -q contents). -o json
prints one object. An ID that is not in the queue exits 2.`,
		Example: `  hostfix mailq show 1234567
  hostfix mailq show 1xYJxi-0005hB-0f --max-bytes 4096
  hostfix mailq show 1234567 --raw | less
  hostfix mailq show 4Xb2kq1Zz3 --mta postfix -o json | jq .attachments`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id := strings.TrimPrefix(args[0], "#")
			if !mailq.ValidQueueID(id) {
				return usage.Errorf("%q is not a message id (see hostfix mailq list)", args[0])
			}
			if maxBytes < 0 {
				return usage.Errorf("--max-bytes %d: want 0 (default 64 KiB) or more", maxBytes)
			}
			src, err := mailqSource(app)
			if err != nil {
				return err
			}
			m, err := mailq.FindMessage(c.Context(), src, id)
			if err != nil {
				return err
			}
			w := bufio.NewWriterSize(app.IO.Out, 64<<10)
			defer w.Flush()
			if raw {
				r, err := mailq.OpenRaw(src, m)
				if err != nil {
					return err
				}
				defer r.Close()
				_, err = io.Copy(w, r)
				return err
			}
			sh, err := mailq.Show(src, m, app.Host().Now(), maxBytes)
			if err != nil {
				return err
			}
			if app.Opts.Output == "json" {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				return enc.Encode(sh)
			}
			return mailqShowText(w, m, sh, app.Host().Now())
		},
	}
	mailqQueueFlag(app, c)
	mailqMTAFlag(app, c)
	c.Flags().BoolVar(&raw, "raw", false, "print the message as stored, nothing decoded")
	c.Flags().Int64Var(&maxBytes, "max-bytes", 0, "show at most `N` bytes of text in all (default 64 KiB)")
	return c
}

func mailqShowText(w io.Writer, m *mailq.Message, sh *mailq.Shown, now time.Time) error {
	fmt.Fprintf(w, "Message %s (%s, %s)\n", m.ID, m.MTAName(), m.StateText())
	if !m.Queued.IsZero() {
		fmt.Fprintf(w, "  queued:     %s (%s ago)\n", m.Queued.UTC().Format("2006-01-02 15:04:05 UTC"), mailq.FormatAge(now.Sub(m.Queued)))
	}
	fmt.Fprintf(w, "  size:       %d bytes\n", m.Size)
	fmt.Fprintf(w, "  sender:     %s\n", mailqSender(m))
	for i, r := range m.Recipients {
		label := "  recipients:"
		if i > 0 {
			label = "             "
		}
		state := "pending"
		if r.Done {
			state = "done"
		}
		fmt.Fprintf(w, "%s %s (%s)\n", label, r.Address, state)
	}
	for _, d := range m.Damaged {
		fmt.Fprintf(w, "  damaged:    %s\n", d)
	}
	fmt.Fprintln(w, "\nheaders:")
	for _, h := range sh.Headers {
		fmt.Fprintf(w, "  %s: %s\n", h.Name, h.Value)
	}
	for _, p := range sh.Parts {
		cs := ""
		if p.Charset != "" {
			cs = "; charset=" + p.Charset
		}
		fmt.Fprintf(w, "\n--- %s%s ---\n", p.Type, cs)
		io.WriteString(w, p.Text)
		if !strings.HasSuffix(p.Text, "\n") {
			fmt.Fprintln(w)
		}
		if p.Truncated {
			fmt.Fprintln(w, "[… cut at --max-bytes]")
		}
	}
	if len(sh.Attachments) > 0 {
		fmt.Fprintln(w, "\nattachments:")
		for _, a := range sh.Attachments {
			name := a.Name
			if name == "" {
				name = "(no name)"
			}
			fmt.Fprintf(w, "  %s  %s  %d bytes\n", name, a.Type, a.Size)
		}
	}
	for _, p := range sh.Problems {
		fmt.Fprintf(w, "\nnote: %s\n", p)
	}
	return nil
}

func newMailqFlushCmd(app *App) *cobra.Command {
	var ff mailqFilterFlags
	c := &cobra.Command{
		Use:   "flush [filters]",
		Short: "Ask the MTA to deliver queued messages now (qmail ALRM, exim -qff, postqueue -f)",
		Long: `Ask the mail system to try delivering now.

qmail: without filters, send ALRM to qmail-send (mailq.flush_command, e.g. [qmailctl,
flush]; else from the detected service: qmailctl flush, svc -a for daemontools,
systemctl kill -s ALRM for systemd; never a guess by process name). With filters, first
mark the selected (preprocessed) messages for an early retry the way qmHandle -t does
(their info/ times set to now: the retry schedule starts again, which also lengthens
their stay in the queue; hostfix undo RUN puts the old times back), then signal. Exim: exim -qff (every message, frozen ones too),
or exim -M ID… for the selected ones. Postfix: postqueue -f, or postqueue -i ID for each
selected one. Under --root a detected command is not run (set the mailq.* command).`,
		Example: `  hostfix mailq flush --dry-run
  hostfix mailq flush --recipient '@gmail\.com$'
  hostfix mailq flush --mta exim --sender '^billing@'`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			f, err := ff.compile(app)
			if err != nil {
				return err
			}
			src, err := mailqSource(app)
			if err != nil {
				return err
			}
			p, _, err := mailq.PlanFlush(c.Context(), app.Host(), mailq.FlushOptions{Config: app.Config().Mailq, Source: src, Filter: f, Path: app.Getenv("PATH")})
			if err != nil {
				return err
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{})
		},
	}
	mailqQueueFlag(app, c)
	mailqMTAFlag(app, c)
	ff.add(c)
	return c
}

// mailqPlanMTAPurge is purge on an Exim or Postfix queue: their tools, no stop/start.
func mailqPlanMTAPurge(app *App, c *cobra.Command, src mailq.Source, f mailq.Filter, hold bool) error {
	p, sel, err := mailq.PlanChange(c.Context(), app.Host(), mailq.ChangeOptions{Config: app.Config().Mailq, Source: src, Filter: f, Hold: hold, Path: app.Getenv("PATH")})
	if err != nil {
		return err
	}
	verb := "purge"
	tail := " — undo is not possible (use --hold to freeze them instead)"
	if hold {
		verb, tail = "hold", ""
	}
	question := fmt.Sprintf("%s %s (%s) in %s%s?", verb, human.Plural(sel.Count, "message"), human.Bytes(sel.Bytes), src, tail)
	return app.ApplyPlan(c.Context(), p, ApplyOptions{Destructive: !hold, Question: question})
}
