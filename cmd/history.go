package cmd

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// HistoryOutput is what `hostfix history -o json` prints.
type HistoryOutput struct {
	HistoryFile string              `json:"history_file"`
	BadLines    int                 `json:"bad_lines"`
	Runs        []plan.HistoryEntry `json:"runs"`
}

func newHistoryCmd(app *App) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "history [RUN-ID]",
		Short: "List past runs that changed the host (id, time, command, changed targets)",
		Long: `List the runs recorded in the audit log (plan.history_file, default
/var/log/hostfix/history.jsonl under --root), oldest first: run id, time, result, the
command and what it changed. A run that left a backup directory but no audit line (it was
killed, or is still running) is listed as "incomplete"; it can still be undone. With
RUN-ID, show that run in full: user, command line, backup directory, every action, the
error and what its rollback restored.

Results: ok, not_changed, failed (rolled back), stale (stopped before changing more),
incomplete.

EXIT STATUS
  0  the history was listed (also when it is empty)
  1  the audit log or the backup directory could not be read
  2  bad usage, or an unknown RUN-ID`,
		Example: `  hostfix history
  hostfix history --limit 5
  hostfix history 20261128T073000Z-1a2b
  hostfix history -o json | jq -r '.runs[-1].run_id'
  hostfix undo $(hostfix history -o json | jq -r '.runs[-1].run_id') --dry-run`,
		Args: atMostOneRunID,
		RunE: func(_ *cobra.Command, args []string) error {
			if limit < 0 {
				return usage.Errorf("--limit %d: must be 0 (all) or more", limit)
			}
			cfg := app.Config().Plan
			runs, bad, err := plan.History(app.Host(), cfg)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				for _, r := range runs {
					if r.RunID == args[0] {
						if app.Opts.Output == "json" {
							return writeJSON(app, HistoryOutput{HistoryFile: cfg.HistoryFile, BadLines: bad, Runs: []plan.HistoryEntry{r}})
						}
						return writeRunText(app, r)
					}
				}
				return usage.Errorf("run %q: not in %s nor in %s (see hostfix history)", usage.Clip(args[0]), cfg.HistoryFile, cfg.BackupDir)
			}
			if limit > 0 && len(runs) > limit {
				runs = runs[len(runs)-limit:]
			}
			if runs == nil {
				runs = []plan.HistoryEntry{}
			}
			if app.Opts.Output == "json" {
				return writeJSON(app, HistoryOutput{HistoryFile: cfg.HistoryFile, BadLines: bad, Runs: runs})
			}
			return writeHistoryText(app, cfg.HistoryFile, runs, bad)
		},
	}
	c.Flags().IntVar(&limit, "limit", 20, "show only the last `N` runs (0: all)")
	return c
}

func writeHistoryText(app *App, file string, runs []plan.HistoryEntry, bad int) error {
	p := app.IO.PaletteOut()
	if len(runs) == 0 {
		_, err := fmt.Fprintf(app.IO.Out, "no runs recorded in %s\n", file)
		return err
	}
	// The table is aligned on plain text, then each result word is coloured in place: the
	// escapes would count as width in the tabwriter and shift the columns after it.
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tTIME (UTC)\tRESULT\tCOMMAND\tCHANGED")
	for _, r := range runs {
		result := r.Result
		changed := r.ChangedTargets()
		summary := "-"
		switch {
		case len(changed) > 3:
			summary = strings.Join(changed[:3], ", ") + fmt.Sprintf(" (+%d more)", len(changed)-3)
		case len(changed) > 0:
			summary = strings.Join(changed, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.RunID, r.Time.UTC().Format("2006-01-02 15:04:05"), result, r.Command, summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	col := strings.Index(lines[0], "RESULT")
	for i, r := range runs {
		line := lines[i+1]
		if col < 0 || !strings.HasPrefix(line[min(col, len(line)):], r.Result) {
			continue
		}
		word := r.Result
		switch r.Result {
		case plan.ResultOK:
			word = p.Green(word)
		case plan.ResultFailed, plan.ResultStale:
			word = p.Red(word)
		case plan.ResultIncomplete:
			word = p.Yellow(word)
		}
		lines[i+1] = line[:col] + word + line[col+len(r.Result):]
	}
	if _, err := io.WriteString(app.IO.Out, strings.Join(lines, "")); err != nil {
		return err
	}
	if bad > 0 {
		fmt.Fprintf(app.IO.ErrOut, "warning: %d unreadable line(s) in %s were skipped\n", bad, file)
	}
	return nil
}

func writeJSON(app *App, v any) error {
	return iostreams.NewJSONEncoder(app.IO.Out).Encode(v)
}

// writeRunText shows one run in full.
func writeRunText(app *App, r plan.HistoryEntry) error {
	p := app.IO.PaletteOut()
	var b strings.Builder
	fmt.Fprintf(&b, "run %s\n", p.Bold(r.RunID))
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-9s %s\n", k+":", v)
		}
	}
	field("time", r.Time.UTC().Format("2006-01-02 15:04:05 UTC"))
	field("user", r.User)
	field("command", system.FormatArgv(r.CommandLine))
	field("result", r.Result)
	field("backup", r.BackupDir)
	field("undoes", r.Undoes)
	field("error", r.Error)
	if len(r.Actions) > 0 {
		b.WriteString("actions:\n")
	}
	for _, a := range r.Actions {
		line := fmt.Sprintf("  %s %s %s", a.Op, a.Kind, a.Target)
		if a.Phase != "action" && a.Phase != "" {
			line += " (" + a.Phase + ")"
		}
		if a.Count > 0 {
			line += fmt.Sprintf(" [%s files, %s]", human.Count(a.Count), human.Bytes(a.Bytes))
		}
		if !a.Changed && a.Phase != "verify" {
			line += p.Dim(" (unchanged)")
		}
		if a.Error != "" {
			line += " " + p.Red("error: "+a.Error)
		}
		b.WriteString(line + "\n")
	}
	if len(r.Restored) > 0 {
		b.WriteString("rolled back:\n")
		for _, s := range r.Restored {
			b.WriteString("  " + s + "\n")
		}
	}
	_, err := io.WriteString(app.IO.Out, b.String())
	return err
}

func init() { register(newHistoryCmd) }

// atMostOneRunID is the Args check of history and undo, in hostfix's words (cobra's says
// "accepts at most 1 arg(s), received 2").
func atMostOneRunID(c *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usage.Errorf("%s takes at most one RUN-ID, got %d (see hostfix history)", c.Name(), len(args))
	}
	return nil
}
