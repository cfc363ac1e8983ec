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
)

// PurgeOptions say what to purge.
type PurgeOptions struct {
	Config Config
	Filter Filter
	// Path is $PATH, for finding qmailctl under --root.
	Path string
	// Sample is how many matching messages the plan's notes show (default 10).
	Sample int
	// Now is the clock for --older-than (default the host's).
	Now time.Time
}

// Selection is what a purge plan selected, for the confirmation question and the check
// after applying.
type Selection struct {
	Queue    *Queue
	Scanned  int
	Count    int
	Bytes    int64
	IDs      map[string]bool
	Sample   []*Message
	Skipped  []string // non-regular files left alone
	Control  Control
	Optional int // files qmail-send may create before it stops, removed if present
}

// PlanPurge selects the messages and plans their removal: stop qmail-send, wait until its
// flock on lock/sendmutex is free, remove every file of each message, and — always, also
// after a failure — start qmail-send again. Nothing matching gives an empty plan (and no
// stop/start). It reads the queue only.
func PlanPurge(ctx context.Context, h *system.Host, o PurgeOptions) (*plan.Plan, *Selection, error) {
	q, err := Open(h, o.Config.Queue)
	if err != nil {
		return nil, nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = h.Now()
	}
	if o.Sample <= 0 {
		o.Sample = 10
	}
	sel := &Selection{Queue: q, IDs: map[string]bool{}}
	// Files are removed split directory by split directory and, inside one, slot by slot in
	// removalOrder: consecutive unlinks stay in one directory (what makes `find -delete`
	// fast) and an interrupted run leaves at worst mess/ files alone, which qmail-send's
	// own cleanup deletes after 36 hours, never an info/ without its mess/ (the "trouble
	// opening mess" loop).
	var files, optional []plan.File
	var groups []int // where each bucket's files start: buckets are removed in parallel
	var pending [nSlots][]plan.File
	bucket := -1
	flush := func() {
		start := len(files)
		for _, s := range removalOrder {
			files = append(files, pending[s]...)
			pending[s] = pending[s][:0]
		}
		if len(files) > start {
			groups = append(groups, start)
		}
	}
	scan := o.Filter.Needs()
	scan.light = true
	scan.noTimes = o.Filter.OlderThan == 0 && !o.Filter.Damaged
	var unreadable Unreadable
	err = q.Scan(ctx, scan, func(m *Message) error {
		sel.Scanned++
		if o.Filter.Undecided(m, now) {
			unreadable.Add(m)
			return nil
		}
		if !o.Filter.Match(m, now) {
			return nil
		}
		if m.bucket != bucket {
			flush()
			bucket = m.bucket
		}
		sel.Count++
		sel.Bytes += m.Size
		sel.IDs[m.ID] = true
		if len(sel.Sample) < o.Sample {
			if scan.noTimes {
				q.queuedTime(m)
			}
			sel.Sample = append(sel.Sample, m)
		}
		for _, f := range m.Files {
			if !f.Regular {
				sel.Skipped = append(sel.Skipped, f.Rel)
				continue
			}
			pending[f.Slot] = append(pending[f.Slot], plan.File{Path: q.Path(f.Rel), Size: f.Size})
		}
		// qmail-send is still running while we plan: it may preprocess a queued message
		// (creating info/local/remote) or schedule a bounce before it stops. Those paths
		// are removed too if they exist by then, so no orphan outlives its mess file.
		// The plan layer removes those present first (before any mess/ file), listing
		// bounce/ once instead of an lstat per message.
		for _, s := range racySlots(m) {
			optional = append(optional, plan.File{Path: q.Path(q.relFor(s, m.ID))})
			sel.Optional++
		}
		return nil
	})
	flush()
	if err != nil {
		return nil, nil, err
	}
	if unreadable.Count > 0 {
		return nil, nil, fmt.Errorf("mailq purge: %s: refusing to guess whether it matches; nothing changed (make it readable, or select it with --id)", unreadable.String())
	}
	p := plan.New("mailq purge")
	if sel.Count == 0 {
		p.Note(fmt.Sprintf("no message in %s matches %s (%s scanned)", q.Dir, o.Filter, human.Count(sel.Scanned)))
		return p, sel, nil
	}
	ctl, err := DetectControl(h, o.Config, o.Path)
	if err != nil {
		return nil, nil, err
	}
	sel.Control = ctl
	p.Note(fmt.Sprintf("%s of %s in %s match %s: %s", human.Plural(sel.Count, "message"), human.Count(sel.Scanned), q, o.Filter, human.Bytes(sel.Bytes)))
	for _, m := range sel.Sample {
		p.Note("  " + SampleLine(m, now))
	}
	if sel.Count > len(sel.Sample) {
		p.Note(fmt.Sprintf("  … and %s more (hostfix mailq list with the same filters shows them all)", human.Count(sel.Count-len(sel.Sample))))
	}
	if sel.Optional > 0 {
		p.Note(fmt.Sprintf("the file count includes %s paths qmail-send may still create before it stops (info/local/remote of queued messages, bounce/); they are removed only if present", human.Count(sel.Optional)))
	}
	if len(sel.Skipped) > 0 {
		p.Note(fmt.Sprintf("left alone (not regular files, remove by hand after checking): %s", strings.Join(sel.Skipped, ", ")))
	}
	switch {
	case ctl.How == "not found":
		p.Note("cannot tell how to stop qmail-send (no qmailctl, /service/qmail-send, qmail.service or /etc/init.d/qmail found): set mailq.stop_command and mailq.start_command, e.g. [svc, -d, /service/qmail-send] and [svc, -u, /service/qmail-send]")
	case ctl.Stop.Detected && !h.Live():
		p.Note(fmt.Sprintf("the %s commands found in this tree are not run under --root (they would act on the real host): set mailq.stop_command and mailq.start_command", ctl.How))
	default:
		p.Note(fmt.Sprintf("qmail-send is stopped and started with %s commands; messages queued after this plan are not touched", ctl.How))
	}
	rm, err := plan.RemoveFiles(h, files, plan.RemoveOptions{
		Within: q.Dir, Label: human.Plural(sel.Count, "message"), MissingOK: true,
		// One bucket at a time per worker keeps each message's mess/ file last (see
		// removalOrder); two buckets at once touch different split directories.
		Groups: groups, Workers: min(2, runtime.GOMAXPROCS(0)), Optional: optional,
	})
	if err != nil {
		return nil, nil, err
	}
	p.Add(plan.Service("qmail-send", "stop", ctl.Stop))
	p.Add(plan.WaitUnlock(h, q.Dir+"/lock/sendmutex", o.Config.LockWait))
	p.Add(rm)
	p.AddFinally(plan.Service("qmail-send", "start", ctl.Start))
	p.Verify("no file of the purged messages is left in "+q.Dir, func(ctx context.Context, r *plan.Run) error {
		start := time.Now()
		all, err := VerifyPurged(ctx, q, sel.IDs)
		if err != nil {
			return fmt.Errorf("re-scan %s: %w", q.Dir, err)
		}
		// Files the plan left alone on purpose (not regular files, named in a note) are
		// not leftovers: only what remains of what was to be removed is.
		skipped := map[string]bool{}
		for _, rel := range sel.Skipped {
			skipped[rel] = true
		}
		var left []Leftover
		for _, l := range all {
			if !skipped[l.Rel] {
				left = append(left, l)
			}
		}
		if len(left) > 0 {
			rels := make([]string, 0, 3)
			for i, l := range left {
				if i == 3 {
					rels = append(rels, fmt.Sprintf("+%d more", len(left)-3))
					break
				}
				rels = append(rels, l.Rel)
			}
			return fmt.Errorf("%s of purged messages still in %s (%s; written while qmail-send was stopping?): the purge is rolled back, run it again",
				human.Plural(len(left), "file"), q.Dir, strings.Join(rels, ", "))
		}
		r.Logf("verified: no file of the %s purged remains in %s (re-scan took %s)", human.Plural(sel.Count, "message"), q.Dir, time.Since(start).Round(time.Millisecond))
		return nil
	})
	return p, sel, nil
}

// removalOrder removes a message's mess/ file last.
var removalOrder = []Slot{SlotBounce, SlotTodo, SlotIntd, SlotLocal, SlotRemote, SlotInfo, SlotMess}

// racySlots are the files qmail-send can still create for m while it runs: a queued
// message gets info/local/remote when preprocessed, any live message a bounce/ file.
func racySlots(m *Message) []Slot {
	if m.name != "" {
		// Misplaced: qmail-send creates nothing for it, and what exists at the id's real
		// paths belongs to the message that lives there.
		return nil
	}
	var cand []Slot
	switch {
	case m.has[SlotTodo]:
		cand = []Slot{SlotInfo, SlotLocal, SlotRemote, SlotBounce}
	case m.has[SlotInfo]:
		cand = []Slot{SlotBounce}
	}
	var out []Slot
	for _, s := range cand {
		if !m.has[s] {
			out = append(out, s)
		}
	}
	return out
}

// relFor is the path qmail uses for an id's file in a slot.
func (q *Queue) relFor(s Slot, id string) string {
	b := 0
	if n, err := parseID(id); err == nil {
		b = int(n % uint64(q.Split))
	}
	return q.rel(s, b, id)
}

// SampleLine is one message in a dry-run: "#1234 3d2h 4.1 KB <sender> -> rcpt, rcpt".
func SampleLine(m *Message, now time.Time) string {
	age := "?"
	if !m.Queued.IsZero() {
		age = FormatAge(now.Sub(m.Queued))
	}
	var rc []string
	for i, r := range m.Recipients {
		if i == 3 {
			rc = append(rc, fmt.Sprintf("+%d more", len(m.Recipients)-3))
			break
		}
		rc = append(rc, r.Address)
	}
	line := fmt.Sprintf("#%s %s %s %s", m.ID, age, human.Bytes(m.Size), m.StateText())
	if m.SenderKnown {
		line += " <" + m.Sender + ">"
	}
	if len(rc) > 0 {
		line += " -> " + strings.Join(rc, ", ")
	}
	if m.IsDamaged() {
		line += " (" + m.Damaged[0] + ")"
	}
	return line
}

// Leftover is a file of a purged message still in the queue.
type Leftover struct {
	ID  string
	Rel string
}

// VerifyPurged re-scans the queue (directory listings only) and returns every file that
// still belongs to one of ids.
func VerifyPurged(ctx context.Context, q *Queue, ids map[string]bool) ([]Leftover, error) {
	var left []Leftover
	err := q.Scan(ctx, ScanOptions{namesOnly: true}, func(m *Message) error {
		if ids[m.ID] {
			for _, f := range m.Files {
				left = append(left, Leftover{ID: m.ID, Rel: f.Rel})
			}
		}
		return nil
	})
	return left, err
}
