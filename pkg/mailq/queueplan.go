package mailq

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// EximCommandKey is the config key of the Exim command prefix.
const EximCommandKey = "mailq.exim_command"

// Picked is what a selection over any MTA's queue chose.
type Picked struct {
	Source  Source
	Scanned int
	Count   int
	Bytes   int64
	IDs     []string
	Sample  []*Message
	// Unreadable are messages a filter could not decide about (text unreadable).
	Unreadable Unreadable
	// Skipped match but are left alone (being received; --hold: frozen or held already).
	Skipped int
}

// Pick scans src and keeps the messages f selects (envelope filters, then content
// filters), with a sample of up to sample messages.
func Pick(ctx context.Context, src Source, f Filter, now time.Time, sample int) (*Picked, error) {
	return pick(ctx, src, f, now, sample, nil)
}

// pick is Pick; skip, when set, leaves out (and counts in Skipped) messages that match but
// need nothing done (already frozen or on hold for --hold).
func pick(ctx context.Context, src Source, f Filter, now time.Time, sample int, skip func(*Message) bool) (*Picked, error) {
	if sample <= 0 {
		sample = 10
	}
	p := &Picked{Source: src}
	o := f.Needs()
	o.Envelope = true
	if f.Header != nil {
		o.Headers = src.MTA() != MTAQmail // Exim's -H holds them; Postfix: postcat per message
	}
	err := src.Scan(ctx, o, func(m *Message) error {
		p.Scanned++
		if f.Undecided(m, now) {
			p.Unreadable.Add(m)
			return nil
		}
		ok, err := f.Select(src, m, now)
		if err != nil {
			p.Unreadable.AddErr(m, err)
			return nil
		}
		if !ok {
			return nil
		}
		if skip != nil && skip(m) {
			p.Skipped++
			return nil
		}
		p.Count++
		p.Bytes += m.Size
		p.IDs = append(p.IDs, m.ID)
		if len(p.Sample) < sample {
			p.Sample = append(p.Sample, m)
		}
		return nil
	})
	return p, err
}

// ChangeOptions say what to do with the selected messages of an Exim or Postfix queue.
type ChangeOptions struct {
	Config Config
	Source Source
	Filter Filter
	// Hold freezes (Exim -Mf) or holds (postsuper -h) instead of deleting: undoable.
	Hold bool
	// Path is $PATH, for detecting the MTA's tools under --root.
	Path   string
	Sample int
	Now    time.Time
}

// EximArgv is the Exim command prefix: mailq.exim_command, or exim4/exim found on PATH,
// /usr/sbin, /usr/local/sbin (Detected), or not set.
func EximArgv(h *system.Host, cfg Config, path string) plan.Argv {
	return findCommand(h, EximCommandKey, cfg.EximCommand, path, "exim4", "exim")
}

// PlanChange plans a purge (or --hold) of the selected messages of an Exim or Postfix
// queue through the MTA's own tools, with no stop or start of the MTA (they lock each
// message themselves), and a verify step that re-reads the queue.
func PlanChange(ctx context.Context, h *system.Host, o ChangeOptions) (*plan.Plan, *Picked, error) {
	now := o.Now
	if now.IsZero() {
		now = h.Now()
	}
	src := o.Source
	if src.MTA() == MTAQmail {
		return nil, nil, usage.Errorf("mailq: PlanChange is for Exim and Postfix queues")
	}
	// Left out: a message still being received (Exim: a -D file without its -H; Exim holds
	// it locked and -Mrm cannot name it yet), and for --hold one that is frozen or held
	// already (so a second --hold is "nothing to do").
	skip := func(m *Message) bool {
		return m.State == StateInjecting || o.Hold && (m.State == StateFrozen || m.State == "hold")
	}
	sel, err := pick(ctx, src, o.Filter, now, o.Sample, skip)
	if err != nil {
		return nil, nil, err
	}
	verb := "purge"
	if o.Hold {
		verb = "purge --hold"
	}
	if sel.Unreadable.Count > 0 {
		return nil, nil, fmt.Errorf("mailq %s: %s: refusing to guess whether it matches; nothing changed (select it with --id, or look at it with hostfix mailq show)", verb, sel.Unreadable.String())
	}
	p := plan.New("mailq " + verb)
	if sel.Skipped > 0 {
		p.Note(fmt.Sprintf("%s matching %s left as they are: being received, or (--hold) frozen or on hold already", human.Plural(sel.Skipped, "message"), o.Filter))
	}
	if sel.Count == 0 {
		p.Note(fmt.Sprintf("no message in %s matches %s (%d scanned)", src, o.Filter, sel.Scanned))
		return p, sel, nil
	}
	p.Note(fmt.Sprintf("%s of %s in %s match %s: %s", human.Plural(sel.Count, "message"), human.Count(sel.Scanned), src, o.Filter, human.Bytes(sel.Bytes)))
	for _, m := range sel.Sample {
		p.Note("  " + SampleLine(m, now))
	}
	if sel.Count > len(sel.Sample) {
		p.Note(fmt.Sprintf("  … and %s more (hostfix mailq list with the same filters shows them all)", human.Count(sel.Count-len(sel.Sample))))
	}
	want := map[string]bool{}
	for _, id := range sel.IDs {
		want[id] = true
	}
	var a *batchAction
	switch s := src.(type) {
	case *EximSpool:
		exim := EximArgv(h, o.Config, o.Path)
		if o.Hold {
			a = newBatch(withArgs(exim, "-Mf"), sel.IDs, o.Config.EximBatch, fmt.Sprintf("freeze %s (exim -Mf)", human.Plural(sel.Count, "message")))
			// Exim's own thaw, recorded with the ids of each batch: a failed run runs it
			// itself, hostfix undo RUN runs it later (Exim locks each message, as for -Mf).
			a.undo = withArgs(exim, "-Mt")
			a.undoDetail = "thaw the messages frozen by the run (exim -Mt)"
			// A message thawed, removed or delivered since is no failure of the thaw.
			a.undoHarmless = eximThawHarmless
			p.Note("--hold: the messages stay in the spool, frozen; hostfix undo RUN thaws them (exim -Mt, recorded with the ids), as a failed run does itself")
		} else {
			a = newBatch(withArgs(exim, "-Mrm"), sel.IDs, o.Config.EximBatch, fmt.Sprintf("remove %s (exim -Mrm, no bounces sent)", human.Plural(sel.Count, "message")))
			a.noUndo = "exim -Mrm deletes the messages"
			a.parallel = min(2, runtime.GOMAXPROCS(0))
			p.Note("undo is not possible: exim -Mrm deletes the messages; use --hold to freeze them instead (undoable)")
		}
		p.Note("Exim keeps running: it locks each message itself, and skips one it is delivering right now (the verify step names it)")
	case *PostfixQueue:
		if o.Hold {
			a = newBatch(withArgs(s.Postsuper, "-h", "-"), sel.IDs, o.Config.EximBatch, fmt.Sprintf("put %s on hold (postsuper -h -, ids on stdin)", human.Plural(sel.Count, "message")))
			a.undo = withArgs(s.Postsuper, "-H", "-")
			a.undoDetail = "release the messages put on hold (postsuper -H -, ids on stdin)"
			p.Note("--hold: the messages move to Postfix's hold queue; hostfix undo RUN releases them (postsuper -H -, recorded with the ids), as a failed run does itself")
		} else {
			a = newBatch(withArgs(s.Postsuper, "-d", "-"), sel.IDs, o.Config.EximBatch, fmt.Sprintf("delete %s (postsuper -d -, ids on stdin)", human.Plural(sel.Count, "message")))
			a.noUndo = "postsuper -d deletes the messages"
			p.Note("undo is not possible: postsuper -d deletes the messages; use --hold to put them on hold instead")
		}
		a.stdin = true
		p.Note("Postfix keeps running: postsuper locks the queue itself")
	default:
		return nil, nil, fmt.Errorf("mailq: cannot change a %s queue this way", src.MTA())
	}
	p.Add(a.noteSource(h))
	hold := o.Hold
	p.Verify(fmt.Sprintf("re-read %s: no selected message is left %s", src.Location(), map[bool]string{false: "in the queue", true: "unheld"}[hold]), func(ctx context.Context, r *plan.Run) error {
		var left []string
		if es, ok := src.(*EximSpool); ok && !hold {
			// A purge only needs to know which ids still have files: the listing.
			ents, err := es.list()
			if err != nil {
				return err
			}
			for _, e := range ents {
				if want[e.id] {
					left = append(left, e.id)
				}
			}
			return leftError(left, false, a)
		}
		err := src.Scan(ctx, ScanOptions{Envelope: true}, func(m *Message) error {
			if !want[m.ID] {
				return nil
			}
			if !hold || (m.State != StateFrozen && m.State != "hold") {
				left = append(left, m.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return leftError(left, hold, a)
	})
	return p, sel, nil
}

// leftError is the verify step's verdict on the selected messages still there (or not
// frozen / held).
func leftError(left []string, hold bool, a *batchAction) error {
	if len(left) == 0 {
		return nil
	}
	what := "still queued"
	if hold {
		what = "not frozen / on hold"
	}
	ids := left
	if len(ids) > 5 {
		ids = append(ids[:5:5], "…")
	}
	why := ""
	if len(a.refused) > 0 {
		why = " (" + clip(a.refused[0]) + ")"
	}
	return fmt.Errorf("verify: %s of the selected messages %s%s: %s; run the same command again once their delivery attempt is over",
		human.Plural(len(left), "message"), what, why, strings.Join(ids, " "))
}
