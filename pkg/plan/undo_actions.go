package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// The actions an undo plan is made of, besides the regular ones it reuses.

// restoreAction shows a regular action as a restore step of an undo.
type restoreAction struct {
	Action
	detail string
}

func (a *restoreAction) Describe() Description {
	d := a.Action.Describe()
	d.Kind = KindRestore
	if a.detail != "" {
		d.Detail = a.detail
	}
	return d
}

func (a *restoreAction) Rollback(ctx context.Context, r *Run) (string, error) {
	if rb, ok := a.Action.(Rollbacker); ok {
		return rb.Rollback(ctx, r)
	}
	return "", nil
}

func (a *restoreAction) Outcome() (bool, string) {
	if oc, ok := a.Action.(Outcomer); ok {
		return oc.Outcome()
	}
	return true, ""
}

// removeTempAction deletes a temp file an interrupted run left next to its target. Its
// content was never in place, so there is nothing to back up.
type removeTempAction struct {
	path, real string
	done       bool
}

func (a *removeTempAction) Describe() Description {
	return Description{Kind: KindRestore, Op: OpRemove, Target: a.path, Previewable: true}
}
func (a *removeTempAction) Verify(context.Context, *Run) error { return nil }
func (a *removeTempAction) Apply(_ context.Context, r *Run) error {
	if err := os.Remove(a.real); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return opErr(r.Host, "remove", a.path, err)
	}
	a.done = true
	return nil
}
func (a *removeTempAction) Outcome() (bool, string) { return a.done, "" }

// unlinkAction removes a file a run created, moving it into this run's backup first (so
// undoing the undo brings it back).
type unlinkAction struct {
	h       *system.Host
	path    string
	sum     string
	applied bool
	rel     string
	full    string // host path resolved at Apply
}

func (a *unlinkAction) Describe() Description {
	return Description{Kind: KindRestore, Op: OpRemove, Target: a.path, Previewable: true}
}

func (a *unlinkAction) Verify(context.Context, *Run) error {
	full, err := parentPath(a.h, a.path)
	if err != nil {
		return fmt.Errorf("remove %s: %w", a.path, err)
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return &StaleError{Target: a.path, Reason: "it is gone"}
	}
	if checksum(b) != a.sum {
		return &StaleError{Target: a.path, Reason: "content checksum differs"}
	}
	return nil
}

func (a *unlinkAction) Apply(_ context.Context, r *Run) error {
	a.rel = filepath.Join("removed", a.path)
	full, err := parentPath(a.h, a.path)
	if err != nil {
		return fmt.Errorf("remove %s: %w", a.path, err)
	}
	a.full = full
	fi, err := os.Lstat(full)
	if err != nil {
		return opErr(a.h, "remove", a.path, err)
	}
	meta := metaOf(fi)
	r.man.add(Entry{Action: EntryRemoveFiles, Path: a.path, Backup: "removed", UID: -1, GID: -1, Size: fi.Size()})
	r.man.addFile(EntryRemove, a.path, a.rel, meta.Mode, meta.UID, meta.GID, fi.Size())
	if err := r.man.sync(); err != nil {
		return err
	}
	dst := filepath.Join(r.BackupDir, a.rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if _, err := moveFile(full, dst); err != nil {
		if fileExists(dst) && !fileExists(full) {
			a.applied = true
		}
		return opErr(a.h, "remove", a.path, err)
	}
	a.applied = true
	return nil
}

func (a *unlinkAction) Rollback(_ context.Context, r *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	// The path as resolved at Apply, checked again: never put a file back through a link
	// that appeared since.
	if full, err := parentPath(a.h, a.path); err != nil || full != a.full {
		return "", fmt.Errorf("put back %s: its directory now leads elsewhere (%v)", a.path, err)
	}
	if _, err := linkOrCopy(filepath.Join(r.BackupDir, a.rel), a.full); err != nil {
		return "", opErr(a.h, "put back", a.path, err)
	}
	return a.path + " (put back)", nil
}

func (a *unlinkAction) Outcome() (bool, string) { return a.applied, "" }

// restoreFilesAction moves a bulk removal's files back from a backup.
type restoreFilesAction struct {
	h      *system.Host
	pairs  []restorePair
	within string
	desc   Description
	done   []restorePair
}

// restorePair is a file to move from src (in the backup) to the system path dst; full is
// dst's host path as resolved when it was restored.
type restorePair struct{ src, dst, full string }

func (a *restoreFilesAction) Describe() Description { return a.desc }

func (a *restoreFilesAction) Verify(context.Context, *Run) error {
	res := newParentResolver(a.h)
	for _, p := range a.pairs {
		dst, err := res.path(p.dst)
		if err != nil {
			return fmt.Errorf("restore %s: %w", p.dst, err)
		}
		if fileExists(dst) {
			return &StaleError{Target: p.dst, Reason: "a file of that name exists again"}
		}
	}
	return nil
}

func (a *restoreFilesAction) Apply(ctx context.Context, r *Run) error {
	made := map[string]bool{}
	res := newParentResolver(a.h)
	for i, p := range a.pairs {
		if i&1023 == 0 && ctx.Err() != nil {
			return fmt.Errorf("restore %s: interrupted: %w", a.within, ctx.Err())
		}
		dst, err := res.path(p.dst)
		if err != nil {
			return fmt.Errorf("restore %s: %w", p.dst, err)
		}
		if dir := filepath.Dir(dst); !made[dir] {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return opErr(a.h, "restore", p.dst, err)
			}
			made[dir] = true
		}
		// link+unlink rather than rename: never replace a file that appeared meanwhile.
		if _, err := linkOrCopy(p.src, dst); err != nil {
			if fileExists(dst) && !fileExists(p.src) {
				a.done = append(a.done, restorePair{src: p.src, dst: p.dst, full: dst})
			}
			return opErr(a.h, "restore", p.dst, err)
		}
		a.done = append(a.done, restorePair{src: p.src, dst: p.dst, full: dst})
	}
	return nil
}

func (a *restoreFilesAction) Rollback(context.Context, *Run) (string, error) {
	res := newParentResolver(a.h)
	for i := len(a.done) - 1; i >= 0; i-- {
		p := a.done[i]
		if full, err := res.path(p.dst); err != nil || full != p.full {
			return "", fmt.Errorf("move %s back into the backup: its directory now leads elsewhere (%v)", p.dst, err)
		}
		if _, err := linkOrCopy(p.full, p.src); err != nil {
			return "", opErr(a.h, "move back into the backup", p.dst, err)
		}
	}
	if len(a.done) == 0 {
		return "", nil
	}
	return fmt.Sprintf("%s in %s (back in the backup)", human.Plural(int64(len(a.done)), "file"), a.within), nil
}

func (a *restoreFilesAction) Outcome() (bool, string) {
	return len(a.done) > 0, fmt.Sprintf("%s moved back", human.Plural(int64(len(a.done)), "file"))
}

// restoreDirAction moves a removed directory tree back from a backup.
type restoreDirAction struct {
	h            *system.Host
	path         string
	src, dst     string
	desc         Description
	done, copied bool
}

func (a *restoreDirAction) Describe() Description { return a.desc }

func (a *restoreDirAction) Verify(context.Context, *Run) error {
	if fileExists(a.dst) {
		return &StaleError{Target: a.path, Reason: "it exists again"}
	}
	return nil
}

func (a *restoreDirAction) Apply(context.Context, *Run) error {
	if err := os.MkdirAll(filepath.Dir(a.dst), 0o755); err != nil {
		return opErr(a.h, "restore", a.path, err)
	}
	copied, err := moveTree(a.src, a.dst)
	a.copied = copied
	if err != nil {
		return opErr(a.h, "restore", a.path, err)
	}
	a.done = true
	return nil
}

func (a *restoreDirAction) Rollback(context.Context, *Run) (string, error) {
	if !a.done {
		return "", nil
	}
	if _, err := moveTree(a.dst, a.src); err != nil {
		return "", opErr(a.h, "move back into the backup", a.path, err)
	}
	return a.path + " (back in the backup)", nil
}

func (a *restoreDirAction) Outcome() (bool, string) { return a.done, "" }
