package mailq

import (
	"context"
	"fmt"
	"time"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
)

// FlushKey is the config key of qmail's flush command.
const FlushKey = "mailq.flush_command"

// FlushOptions say what mailq flush asks the MTA to retry.
type FlushOptions struct {
	Config Config
	Source Source
	// Filter selects messages; without criteria the whole queue is retried.
	Filter Filter
	Path   string
	Sample int
	Now    time.Time
}

// QmailFlushArgv is how qmail-send is asked to retry now (ALRM): mailq.flush_command, or
// from the detected service: qmailctl flush, svc -a (daemontools), systemctl kill -s ALRM
// (systemd). Never a process-name guess: with only an init script, it is not set.
func QmailFlushArgv(h *system.Host, cfg Config, path string) (plan.Argv, string, error) {
	if len(cfg.FlushCommand) > 0 {
		return plan.Configured(FlushKey, cfg.FlushCommand), "config", nil
	}
	ctl, err := DetectControl(h, Config{}, path)
	if err != nil {
		return plan.Argv{}, "", err
	}
	switch ctl.How {
	case "qmailctl":
		return plan.Detected(FlushKey, []string{ctl.Stop.Args[0], "flush"}), ctl.How, nil
	case "daemontools":
		return plan.Detected(FlushKey, []string{"svc", "-a", ctl.Stop.Args[2]}), ctl.How, nil
	case "systemd":
		return plan.Detected(FlushKey, []string{"systemctl", "kill", "-s", "ALRM", "--kill-who=main", ctl.Stop.Args[2]}), ctl.How, nil
	}
	return plan.Argv{Key: FlushKey}, ctl.How, nil
}

// PlanFlush plans asking the MTA to deliver now: qmail ALRM (after marking selected
// messages for an early retry, as qmHandle -t does), exim -qff or exim -M IDs, postqueue
// -f or postqueue -i ID.
func PlanFlush(ctx context.Context, h *system.Host, o FlushOptions) (*plan.Plan, *Picked, error) {
	now := o.Now
	if now.IsZero() {
		now = h.Now()
	}
	p := plan.New("mailq flush")
	src := o.Source
	var sel *Picked
	if o.Filter.HasCriteria() {
		var err error
		if sel, err = Pick(ctx, src, o.Filter, now, o.Sample); err != nil {
			return nil, nil, err
		}
		if sel.Unreadable.Count > 0 {
			p.Note(sel.Unreadable.String() + ": not flushed")
		}
		if sel.Count == 0 {
			p.Note(fmt.Sprintf("no message in %s matches %s (%d scanned)", src, o.Filter, sel.Scanned))
			return p, sel, nil
		}
		p.Note(fmt.Sprintf("%s of %s in %s match %s", human.Plural(sel.Count, "message"), human.Count(sel.Scanned), src, o.Filter))
		for _, m := range sel.Sample {
			p.Note("  " + SampleLine(m, now))
		}
	}
	switch s := src.(type) {
	case *Queue:
		argv, how, err := QmailFlushArgv(h, o.Config, o.Path)
		if err != nil {
			return nil, nil, err
		}
		if sel != nil {
			a, n := s.retryAction(ctx, h, sel, now)
			if n == 0 {
				p.Note("none of them is preprocessed yet (no info/ file): qmail-send tries them on its next pass anyway")
			} else {
				p.Add(a)
			}
		}
		detail := "ask qmail-send to retry every message now (ALRM)"
		if how != "" && how != "not found" {
			detail += " via " + how
		}
		p.Add(plan.Command(argv, detail))
	case *EximSpool:
		exim := EximArgv(h, o.Config, o.Path)
		if sel == nil {
			p.Add(plan.Command(withArgs(exim, "-qff"), "deliver every message now, frozen ones too (exim -qff: runs until the queue run ends)"))
		} else {
			p.Add(newBatch(withArgs(exim, "-M"), sel.IDs, o.Config.EximBatch, fmt.Sprintf("deliver %s now (exim -M, frozen ones too)", human.Plural(sel.Count, "message"))).noteSource(h))
		}
	case *PostfixQueue:
		if sel == nil {
			p.Add(plan.Command(withArgs(s.Postqueue, "-f"), "ask Postfix to deliver every deferred message now (postqueue -f)"))
		} else {
			p.Add(newBatch(withArgs(s.Postqueue, "-i"), sel.IDs, 1, fmt.Sprintf("ask Postfix to deliver %s now (postqueue -i ID, one call each)", human.Plural(sel.Count, "message"))).noteSource(h))
		}
	}
	return p, sel, nil
}

// retryAction marks the selected preprocessed messages for an early retry the way
// qmHandle -t does: their info/ file's times are set to now (qmail-send computes the next
// retry from it: the schedule starts again, and the message may stay longer in the queue).
// It is plan.SetTimes: the old times are in the run's manifest, so a failed run and
// hostfix undo put them back.
func (q *Queue) retryAction(ctx context.Context, h *system.Host, sel *Picked, now time.Time) (plan.Action, int) {
	want := map[string]bool{}
	for _, id := range sel.IDs {
		want[id] = true
	}
	var paths []string
	q.Scan(ctx, ScanOptions{namesOnly: true}, func(m *Message) error {
		if want[m.ID] && m.Has(SlotInfo) {
			paths = append(paths, q.Path(q.rel(SlotInfo, m.bucket, m.FileName())))
		}
		return nil
	})
	// Whole seconds, as qmHandle sets them (utime), and exactly what undo compares with.
	now = now.Truncate(time.Second)
	a := plan.SetTimes(h, paths, now, now, plan.TimesOptions{Target: q.Dir + "/info",
		Detail: fmt.Sprintf("mark %s for an early retry: info/ times set to now (qmHandle -t); a failed run and hostfix undo put the old times back", human.Plural(len(paths), "message"))})
	return a, len(paths)
}
