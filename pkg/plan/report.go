package plan

import (
	"fmt"
	"io"
	"strings"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/iostreams"
	"github.com/hostfix/hostfix/pkg/system"
)

// Report is the change-command object of the output contract (docs/output.md).
type Report struct {
	Command   string         `json:"command"`
	DryRun    bool           `json:"dry_run"`
	Changed   bool           `json:"changed"`
	Actions   []ActionResult `json:"actions"`
	RunID     string         `json:"run_id"`
	BackupDir string         `json:"backup_dir"`
	Notes     []string       `json:"notes,omitempty"`
	// Error is set when the apply failed; Restored lists what rollback put back.
	Error    string   `json:"error,omitempty"`
	Restored []string `json:"restored,omitempty"`
	// UndoCommand is the command line the text report gives to undo the run; empty means
	// "hostfix undo RUN-ID". cmd sets it so that it works as printed (with --root).
	UndoCommand string `json:"-"`

	stale error // the failure, kept to classify the run in the audit log
}

// ActionResult is one action in a report. In a dry-run Changed means "would change".
type ActionResult struct {
	Kind    Kind   `json:"kind"`
	Op      Op     `json:"op"`
	Target  string `json:"target"`
	Changed bool   `json:"changed"`
	Detail  string `json:"detail"`
	Diff    string `json:"diff"`
	Count   int64  `json:"count,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	// Previewable is false for commands whose effect cannot be shown in advance.
	Previewable bool `json:"previewable"`
	// Phase is "action", "handler", "verify" or "finally".
	Phase string `json:"phase"`
	Error string `json:"error,omitempty"`
	// Sample lists a few paths of a bulk removal.
	Sample []string `json:"sample,omitempty"`
	// Skipped is set on actions an apply did not reach because an earlier one failed.
	Skipped bool `json:"skipped,omitempty"`
	// Blocked (dry-run) says why apply would refuse to run this step: "not set: set KEY"
	// or "detected, not run under --root: set KEY" (the --root command rule).
	Blocked string `json:"blocked,omitempty"`
}

// Preview is the report of a dry-run: exactly the plan Apply would execute. It does not
// know the host, so it marks only commands that are not set; use PreviewOn to apply the
// whole --root command rule.
func Preview(p *Plan) *Report { return PreviewOn(p, nil) }

// PreviewOn is Preview for the host the plan would be applied to: steps Apply would refuse
// to run there (the --root command rule, see CheckCommands) are marked in Blocked, and a
// note says which config keys to set. The whole plan is still shown.
func PreviewOn(p *Plan, h *system.Host) *Report {
	r := &Report{Command: p.Command, DryRun: true, Notes: maskAll(p.Notes, p.Secrets), Actions: []ActionResult{}}
	notified := map[string]bool{}
	var keys []string
	seen := map[string]bool{}
	mark := func(res *ActionResult, a Argv) {
		res.Blocked = a.blocked(h)
		if res.Blocked != "" && a.Key != "" && !seen[a.Key] {
			seen[a.Key] = true
			keys = append(keys, a.Key)
		}
	}
	step := func(a Action, phase string) {
		d := a.Describe()
		res := resultOf(d, phase, true, p.Secrets)
		if cmd, ok := commandOf(a); ok {
			mark(&res, cmd)
		}
		r.Actions = append(r.Actions, res)
	}
	for _, a := range p.Actions {
		step(a, "action")
		for _, n := range a.Describe().Notify {
			notified[n] = true
		}
	}
	if len(p.Actions) > 0 {
		for _, hd := range p.Handlers {
			if notified[hd.Name] {
				res := resultOf(hd.describe(), "handler", true, p.Secrets)
				mark(&res, hd.Command)
				r.Actions = append(r.Actions, res)
			}
		}
		for _, v := range p.Verifies {
			r.Actions = append(r.Actions, resultOf(verifyDescription(v), "verify", false, p.Secrets))
		}
		for _, a := range p.Finally {
			step(a, "finally")
		}
	}
	if len(keys) > 0 {
		r.Notes = append(r.Notes, "apply refuses this plan until you set "+strings.Join(keys, ", ")+" (config file, HOSTFIX_* variable or flag)")
	} else if h == nil && hasBlocked(r) {
		r.Notes = append(r.Notes, "apply refuses this plan until every command marked not set is set")
	}
	r.Changed = len(p.Actions) > 0
	return r
}

func hasBlocked(r *Report) bool {
	for _, a := range r.Actions {
		if a.Blocked != "" {
			return true
		}
	}
	return false
}

func (h Handler) describe() Description {
	d := h.Detail
	if d == "" {
		d = h.Command.String()
	}
	return Description{Kind: KindService, Op: OpRun, Target: h.Name, Detail: withSource(d, h.Command)}
}

func resultOf(d Description, phase string, changed bool, secrets []string) ActionResult {
	return ActionResult{
		Kind: d.Kind, Op: d.Op, Target: Mask(d.Target, secrets), Changed: changed,
		Detail: Mask(d.Detail, secrets), Diff: Mask(d.Diff, secrets),
		Count: d.Count, Bytes: d.Bytes, Previewable: d.Previewable, Phase: phase,
		Sample: d.Sample,
	}
}

func maskAll(ss []string, secrets []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = Mask(s, secrets)
	}
	return out
}

// Mask replaces every secret in s with ********.
func Mask(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "********")
		}
	}
	return s
}

// WriteJSON writes the report as one JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	if r.Actions == nil {
		r.Actions = []ActionResult{}
	}
	return iostreams.NewJSONEncoder(w).Encode(r) // the one encoder of every command
}

// Summary is the terraform-style count line: "2 to add, 1 to change, 0 to remove, 1 to run".
func (r *Report) Summary() string {
	var add, change, remove, run int
	for _, a := range r.Actions {
		if !a.Changed {
			continue
		}
		switch a.Op {
		case OpAdd:
			add++
		case OpChange:
			change++
		case OpRemove:
			remove++
		case OpRun:
			run++
		}
	}
	verb := "to"
	if !r.DryRun {
		verb = ""
	}
	if verb == "" {
		return fmt.Sprintf("%d added, %d changed, %d removed, %d run", add, change, remove, run)
	}
	return fmt.Sprintf("%d to add, %d to change, %d to remove, %d to run", add, change, remove, run)
}

// WriteText writes the human form: a headline, the summary line, then per action its symbol,
// target, detail and diff (coloured when the palette is on).
func WriteText(w io.Writer, r *Report, p iostreams.Palette) error {
	var b strings.Builder
	switch {
	case len(r.Actions) == 0 || !r.Changed && r.Error == "":
		fmt.Fprintf(&b, "%s: nothing to do\n", r.Command)
	case r.DryRun:
		fmt.Fprintf(&b, "%s (dry run, nothing changed): %s\n", r.Command, r.Summary())
	case r.Error != "":
		fmt.Fprintf(&b, "%s: %s\n", r.Command, p.Red("FAILED: "+r.Error))
	default:
		fmt.Fprintf(&b, "%s: %s\n", r.Command, r.Summary())
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  %s %s\n", p.Dim("note:"), n)
	}
	for _, a := range r.Actions {
		sym := string(a.Op)
		switch a.Op {
		case OpAdd:
			sym = p.Green(sym)
		case OpChange:
			sym = p.Yellow(sym)
		case OpRemove:
			sym = p.Red(sym)
		case OpRun:
			sym = p.Cyan(sym)
		}
		line := fmt.Sprintf("%s %s %s", sym, a.Kind, p.Bold(a.Target))
		if a.Kind == KindVerify {
			line = fmt.Sprintf("%s verify: %s", sym, a.Target)
			if a.Detail != "" {
				line += " (" + a.Detail + ")"
			}
		} else if a.Detail != "" {
			line += ": " + a.Detail
		}
		switch {
		case a.Phase == "handler":
			line += p.Dim(" (handler: runs once at the end)")
		case a.Phase == "finally":
			line += p.Dim(" (always runs at the end)")
		case a.Phase == "verify" && r.DryRun:
			line += p.Dim(" (checked after the changes; a failure rolls them back)")
		}
		if a.Blocked != "" {
			line += " " + p.Red("["+a.Blocked+"]")
		}
		if r.DryRun && !a.Previewable && a.Diff == "" && a.Blocked == "" {
			line += p.Dim(" [cannot be previewed]")
		}
		switch {
		case a.Skipped:
			line += p.Dim(" (not run: stopped before it)")
		case !r.DryRun && !a.Changed && a.Error == "" && a.Kind != KindVerify:
			line += p.Dim(" (unchanged)")
		}
		if a.Error != "" {
			line += " " + p.Red("error: "+a.Error)
		}
		b.WriteString(line + "\n")
		if a.Diff != "" {
			b.WriteString(colorDiff(a.Diff, p))
		}
		if r.DryRun && len(a.Sample) > 0 {
			for _, s := range a.Sample {
				b.WriteString("    " + p.Dim(s) + "\n")
			}
			if more := a.Count - int64(len(a.Sample)); more > 0 {
				b.WriteString("    " + p.Dim(fmt.Sprintf("… and %s more", human.Count(more))) + "\n")
			}
		}
	}
	if len(r.Restored) > 0 {
		b.WriteString("rolled back:\n")
		for _, s := range r.Restored {
			b.WriteString("  " + s + "\n")
		}
	}
	switch {
	case r.DryRun || r.RunID == "":
	case r.Changed:
		undo := r.UndoCommand
		if undo == "" {
			undo = "hostfix undo " + r.RunID
		}
		fmt.Fprintf(&b, "run %s; backup in %s (undo: %s)\n", r.RunID, r.BackupDir, undo)
	default:
		fmt.Fprintf(&b, "run %s; its record is in %s\n", r.RunID, r.BackupDir)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func colorDiff(diff string, p iostreams.Palette) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(diff, "\n") {
		if line == "" {
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(body, "+++") || strings.HasPrefix(body, "---"):
			body = p.Bold(body)
		case strings.HasPrefix(body, "+"):
			body = p.Green(body)
		case strings.HasPrefix(body, "-"):
			body = p.Red(body)
		case strings.HasPrefix(body, "@@"):
			body = p.Cyan(body)
		}
		b.WriteString("    " + body + "\n")
	}
	return b.String()
}
