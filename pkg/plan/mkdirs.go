package plan

// Parent directories an action creates: recorded in the manifest before they are made, so
// rollback and undo remove them again (only when empty).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// mkdirs creates the missing directories down to the host path dir (mode 0755), recording
// each in r's manifest (EntryMkdir, system path) before creating it. It returns the host
// paths it created, outermost first.
func mkdirs(r *Run, dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) || d == r.Host.Root {
			break
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	for i := len(missing) - 1; i >= 0; i-- {
		r.man.add(Entry{Action: EntryMkdir, Path: r.Host.Unroot(missing[i]), Mode: "0755", UID: -1, GID: -1})
	}
	if err := r.man.sync(); err != nil {
		return nil, err
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // made meanwhile by someone else: not ours
			}
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}

// rmdirs removes directories mkdirs made (innermost first) if they are empty. It returns
// how many it removed.
func rmdirs(made []string) int {
	n := 0
	for i := len(made) - 1; i >= 0; i-- {
		if os.Remove(made[i]) == nil {
			n++
		}
	}
	return n
}

// dirsNote is the rollback's addition for removed directories.
func dirsNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %s it created", human.Plural(n, "directory"))
}

// rmdirAction removes, in an undo, a directory the undone run created, if it is empty
// by then.
type rmdirAction struct {
	h       *system.Host
	path    string // system path
	full    string // host path
	desc    Description
	removed bool
	left    bool
}

func (a *rmdirAction) Describe() Description { return a.desc }

func (a *rmdirAction) Verify(context.Context, *Run) error { return nil }

func (a *rmdirAction) Apply(context.Context, *Run) error {
	err := os.Remove(a.full)
	switch {
	case err == nil:
		a.removed = true
	case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
		a.left = true // something new is in it: keep it
	case errors.Is(err, fs.ErrNotExist):
	default:
		return opErr(a.h, "remove directory", a.path, err)
	}
	return nil
}

func (a *rmdirAction) Rollback(context.Context, *Run) (string, error) {
	if !a.removed {
		return "", nil
	}
	if err := os.Mkdir(a.full, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", opErr(a.h, "recreate directory", a.path, err)
	}
	return a.path + " (directory recreated)", nil
}

func (a *rmdirAction) Outcome() (bool, string) {
	if a.left {
		return false, "not empty: left in place"
	}
	return a.removed, ""
}
