package plan

// SetTimes: setting files' access and modification times (qmHandle -t marks qmail
// messages for an early retry this way), with the old times in the manifest.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// TimesOptions tune SetTimes.
type TimesOptions struct {
	// Detail is the line the plan shows ("mark 3 messages for an early retry").
	Detail string
	// Target names the step (e.g. the directory the files are in); default: the files'
	// common directory.
	Target string
}

// SetTimes plans setting the access and modification times of the regular files at the
// system paths (resolved under --root; a symlink is not followed). Each file's old times
// are recorded in the manifest before it is changed: a rollback puts them back, and
// `hostfix undo` does too, refusing (unless --force) a file whose modification time is no
// longer the one the run set (it was written since). A file gone by the time the step
// runs is skipped (a queued message delivered meanwhile). Pass whole seconds for a
// modification time every filesystem keeps exactly. It returns nil for no paths.
func SetTimes(h *system.Host, paths []string, atime, mtime time.Time, o TimesOptions) Action {
	if len(paths) == 0 {
		return nil
	}
	items := make([]timesItem, len(paths))
	for i, p := range paths {
		items[i] = timesItem{path: path.Clean("/" + p), atime: atime, mtime: mtime}
	}
	target := o.Target
	if target == "" {
		target = commonDir(items)
	}
	detail := o.Detail
	if detail == "" {
		detail = fmt.Sprintf("set the times of %s to %s", human.Plural(int64(len(paths)), "file"), mtime.UTC().Format(time.RFC3339))
	}
	return &timesAction{h: h, items: items, desc: Description{Kind: KindSetTimes, Op: OpChange, Target: target,
		Detail: detail, Previewable: true, Count: int64(len(items)), Sample: sampleOf(items)}}
}

type timesItem struct {
	path         string
	atime, mtime time.Time
	// expect (undo) is the modification time the file must still have.
	expect time.Time
}

// timesDone is a file the step changed, for rollback.
type timesDone struct {
	path, full   string
	atime, mtime time.Time // before
	set          time.Time // modification time written
}

type timesAction struct {
	h     *system.Host
	items []timesItem
	desc  Description
	done  []timesDone
	gone  int
}

func (a *timesAction) Describe() Description { return a.desc }

// Verify (for an undo's restore) refuses a file written since the undo was planned.
func (a *timesAction) Verify(context.Context, *Run) error {
	res := newParentResolver(a.h)
	for _, it := range a.items {
		if it.expect.IsZero() {
			continue
		}
		full, err := res.path(it.path)
		if err != nil {
			return fmt.Errorf("set times of %s: %w", it.path, err)
		}
		if fi, err := os.Lstat(full); err == nil && !fi.ModTime().Equal(it.expect) {
			return &StaleError{Target: it.path, Reason: "its modification time changed"}
		}
	}
	return nil
}

func (a *timesAction) Apply(ctx context.Context, r *Run) error {
	res := newParentResolver(a.h)
	type todo struct {
		timesItem
		full string
	}
	var list []todo
	for i, it := range a.items {
		if i&255 == 0 && ctx.Err() != nil {
			return fmt.Errorf("set times: interrupted: %w", ctx.Err())
		}
		full, err := res.path(it.path)
		if err != nil {
			return fmt.Errorf("set times of %s: %w", it.path, err)
		}
		fi, err := os.Lstat(full)
		if err != nil || !fi.Mode().IsRegular() {
			a.gone++
			continue
		}
		r.man.add(Entry{Action: EntryTimes, Path: it.path, UID: -1, GID: -1,
			ATimeNS: atimeOf(fi).UnixNano(), MTimeNS: fi.ModTime().UnixNano(), NewMTimeNS: it.mtime.UnixNano()})
		list = append(list, todo{it, full})
		a.done = append(a.done, timesDone{path: it.path, full: full, atime: atimeOf(fi), mtime: fi.ModTime(), set: it.mtime})
	}
	// The old times are on disk before any file is touched.
	if err := r.man.sync(); err != nil {
		a.done = nil
		return err
	}
	for i, t := range list {
		if i&255 == 0 && ctx.Err() != nil {
			return fmt.Errorf("set times: interrupted: %w", ctx.Err())
		}
		if err := setTimes(t.full, t.atime, t.mtime); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return opErr(a.h, "set times of", t.path, err)
		}
	}
	return nil
}

// Rollback puts the old times back on the files that still have the time the step set.
func (a *timesAction) Rollback(context.Context, *Run) (string, error) {
	n := 0
	for i := len(a.done) - 1; i >= 0; i-- {
		d := a.done[i]
		fi, err := os.Lstat(d.full)
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Equal(d.set) {
			continue // gone, or written since: not ours to touch
		}
		if err := setTimes(d.full, d.atime, d.mtime); err != nil {
			return "", opErr(a.h, "put back the times of", d.path, err)
		}
		n++
	}
	if n == 0 {
		return "", nil
	}
	return fmt.Sprintf("old times of %s put back (%s)", human.Plural(int64(n), "file"), a.desc.Target), nil
}

func (a *timesAction) Outcome() (bool, string) {
	note := human.Plural(int64(len(a.done)), "file")
	if a.gone > 0 {
		note += fmt.Sprintf(" (%s gone since the plan)", human.Count(int64(a.gone)))
	}
	return len(a.done) > 0, note
}

// times plans putting back times a run set; consecutive entries make one step.
func (u *undoer) times(e Entry) error {
	full, err := u.res.path(e.Path)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(full)
	if err != nil || !fi.Mode().IsRegular() {
		u.timesGone++
		return nil
	}
	oldM, oldA := time.Unix(0, e.MTimeNS), time.Unix(0, e.ATimeNS)
	cur := fi.ModTime()
	switch {
	case cur.Equal(oldM):
		return nil // already back
	case !cur.Equal(time.Unix(0, e.NewMTimeNS)):
		u.timesChanged = append(u.timesChanged, e.Path)
		if !u.force {
			return nil
		}
	}
	if u.lastTimes == nil {
		u.lastTimes = &timesAction{h: u.h, desc: Description{Kind: KindRestore, Op: OpChange, Previewable: true}}
		u.p.Add(u.lastTimes)
	}
	u.lastTimes.items = append(u.lastTimes.items, timesItem{path: e.Path, atime: oldA, mtime: oldM, expect: cur})
	d := &u.lastTimes.desc
	d.Count = int64(len(u.lastTimes.items))
	d.Target = commonDir(u.lastTimes.items)
	d.Sample = sampleOf(u.lastTimes.items)
	d.Detail = fmt.Sprintf("put back the access and modification times of %s saved by %s", human.Plural(d.Count, "file"), u.id)
	return nil
}

// timesNotes reports, once, the files whose times an undo leaves.
func (u *undoer) timesNotes() {
	if u.timesGone > 0 {
		u.p.Note(fmt.Sprintf("%s whose times %s set are gone since (nothing to put back)", human.Plural(int64(u.timesGone), "file"), u.id))
	}
	if n := len(u.timesChanged); n > 0 {
		sort.Strings(u.timesChanged)
		c := fmt.Sprintf("%s written since (modification time differs from the one the run set), e.g. %s", human.Plural(int64(n), "file"), u.timesChanged[0])
		u.conflicts = append(u.conflicts, c)
	}
}

func commonDir(items []timesItem) string {
	if len(items) == 0 {
		return "/"
	}
	dir := path.Dir(items[0].path)
	for _, it := range items[1:] {
		for dir != "/" && !(it.path == dir || len(it.path) > len(dir) && it.path[:len(dir)] == dir && it.path[len(dir)] == '/') {
			dir = path.Dir(dir)
		}
	}
	return dir
}

func sampleOf(items []timesItem) []string {
	n := min(len(items), 5)
	out := make([]string, n)
	for i := range n {
		out[i] = items[i].path
	}
	return out
}
