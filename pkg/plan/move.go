package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hostfix/hostfix/pkg/system"
)

// Move: renaming a system path.

type moveAction struct {
	h          *system.Host
	from, to   string
	fromP, toP string // host paths, directories resolved inside the root
	desc       Description
	applied    bool
	copied     bool
	madeDirs   []string // host paths of the directories Apply created for the target
}

// Move plans renaming a system path. It returns nil when from is gone and to exists (the
// move was done already), and an error when from is missing or to already exists.
func Move(h *system.Host, from, to string) (Action, error) {
	from, to = filepath.Clean("/"+from), filepath.Clean("/"+to)
	fromP, err := parentPath(h, from)
	if err != nil {
		return nil, fmt.Errorf("move %s: %w", from, err)
	}
	toP, err := parentPath(h, to)
	if err != nil {
		return nil, fmt.Errorf("move %s to %s: %w", from, to, err)
	}
	_, ferr := os.Lstat(fromP)
	_, terr := os.Lstat(toP)
	switch {
	case errors.Is(ferr, fs.ErrNotExist) && terr == nil:
		return nil, nil
	case ferr != nil:
		return nil, fmt.Errorf("move %s: %w", from, ferr)
	case terr == nil:
		return nil, fmt.Errorf("move %s to %s: the target exists already; refusing to replace it", from, to)
	case !errors.Is(terr, fs.ErrNotExist):
		return nil, fmt.Errorf("move %s to %s: %w", from, to, terr)
	}
	return &moveAction{h: h, from: from, to: to, fromP: fromP, toP: toP, desc: Description{
		Kind: KindMove, Op: OpChange, Target: from, Detail: "rename to " + to, Previewable: true,
	}}, nil
}

func (a *moveAction) Describe() Description { return a.desc }

func (a *moveAction) Verify(context.Context, *Run) error {
	if _, err := os.Lstat(a.fromP); err != nil {
		return &StaleError{Target: a.from, Reason: "it is gone"}
	}
	if _, err := os.Lstat(a.toP); err == nil {
		return &StaleError{Target: a.from, Reason: a.to + " exists now"}
	}
	return nil
}

func (a *moveAction) Apply(_ context.Context, r *Run) error {
	made, err := mkdirs(r, filepath.Dir(a.toP)) // recorded before the move (undo goes newest first)
	a.madeDirs = made
	if err != nil {
		return opErr(a.h, "move", a.from, err)
	}
	r.man.add(Entry{Action: EntryMove, Path: a.from, To: a.to, UID: -1, GID: -1})
	if err := r.man.sync(); err != nil {
		return err
	}
	copied, err := movePath(a.fromP, a.toP)
	a.copied = copied
	if err != nil {
		return opErr(a.h, "move", a.from, err)
	}
	a.applied = true
	return syncDir(filepath.Dir(a.toP))
}

func (a *moveAction) Rollback(context.Context, *Run) (string, error) {
	if !a.applied {
		rmdirs(a.madeDirs)
		return "", nil
	}
	if _, err := movePath(a.toP, a.fromP); err != nil {
		return "", opErr(a.h, "move back", a.to, err)
	}
	return a.from + " (moved back" + dirsNote(rmdirs(a.madeDirs)) + ")", nil
}

func (a *moveAction) Outcome() (bool, string) {
	if a.copied {
		return a.applied, "rename to " + a.to + "; on another filesystem: copied, then removed"
	}
	return a.applied, ""
}
