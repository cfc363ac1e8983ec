package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// RemoveDirOptions tune RemoveDir.
type RemoveDirOptions struct {
	// Detail is the one-line reason shown with the action.
	Detail string
	// Secret: the tree's file names and contents are never shown (no sample in the dry-run,
	// JSON or logs); the backup directory is private to root (0700) as always.
	Secret bool
	// Notify names handlers to trigger when the directory is removed.
	Notify []string
}

type removeDirAction struct {
	h       *system.Host
	dir     string // system path as named (its parents resolved: realDir)
	realDir string // system path of the directory itself
	desc    Description
	secret  bool
	backup  string // relative to the run's backup directory
	applied bool
	copied  bool
}

// RemoveDir plans removing the directory tree dir (e.g. /var/cpanel/serviceauth/exim): it
// is moved into the run's backup whole (--no-backup does not apply: undo must be able to
// put it back) and undo moves it back. It returns nil when dir does not exist, and an
// error when it is not a directory (a symlink to one included: the link is not removed).
func RemoveDir(h *system.Host, dir string, o RemoveDirOptions) (Action, error) {
	dir = filepath.Clean("/" + dir)
	if dir == "/" {
		return nil, errors.New("remove directory: refusing to remove /")
	}
	parent, err := h.Resolve(filepath.Dir(dir))
	if err != nil {
		return nil, fmt.Errorf("remove directory %s: %w", dir, err)
	}
	real := filepath.Join(parent, filepath.Base(dir))
	if real == "/" {
		return nil, fmt.Errorf("remove directory %s: refusing", dir)
	}
	hp := h.Path(real)
	fi, err := os.Lstat(hp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, opErr(h, "remove directory", dir, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("remove directory %s: it is a symlink; refusing (remove the link or its target by name)", dir)
	case !fi.IsDir():
		what := "a file"
		if !fi.Mode().IsRegular() {
			what = "not a file either"
		}
		return nil, fmt.Errorf("remove directory %s: %s (%s), not a directory; look at it and move it away by hand", dir, what, fi.Mode())
	}
	var files, bytes int64
	var sample []string
	err = filepath.WalkDir(hp, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		files++
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			bytes += fi.Size()
		}
		if len(sample) < 5 && !o.Secret {
			sample = append(sample, filepath.Join(dir, strings.TrimPrefix(p, hp)))
		}
		return nil
	})
	if err != nil {
		return nil, opErr(h, "remove directory", dir, err)
	}
	detail := fmt.Sprintf("%s, %s; moved into the backup", human.Plural(files, "file"), human.Bytes(bytes))
	if o.Secret {
		detail += " (secret: contents not shown)"
	}
	if o.Detail != "" {
		detail = o.Detail + "; " + detail
	}
	if real != dir {
		detail += "; the directory is " + real
	}
	return &removeDirAction{h: h, dir: dir, realDir: real, secret: o.Secret, desc: Description{
		Kind: KindRemoveDir, Op: OpRemove, Target: dir, Detail: detail, Previewable: true,
		Notify: o.Notify, Count: files, Bytes: bytes, Sample: sample,
	}}, nil
}

func (a *removeDirAction) Describe() Description { return a.desc }

func (a *removeDirAction) Verify(context.Context, *Run) error {
	parent, err := a.h.Resolve(filepath.Dir(a.dir))
	if err != nil {
		return fmt.Errorf("remove directory %s: %w", a.dir, err)
	}
	if filepath.Join(parent, filepath.Base(a.dir)) != a.realDir {
		return &StaleError{Target: a.dir, Reason: "its parent directory now leads elsewhere"}
	}
	fi, err := os.Lstat(a.h.Path(a.realDir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &StaleError{Target: a.dir, Reason: "it is gone"}
	case err != nil:
		return opErr(a.h, "remove directory", a.dir, err)
	case !fi.IsDir():
		return &StaleError{Target: a.dir, Reason: "no longer a directory"}
	}
	return nil
}

func (a *removeDirAction) Apply(_ context.Context, r *Run) error {
	hp := a.h.Path(a.realDir)
	fi, err := os.Lstat(hp)
	if err != nil {
		return opErr(a.h, "remove directory", a.dir, err)
	}
	meta := metaOf(fi)
	a.backup = filepath.Join("dirs", a.realDir)
	r.man.add(Entry{Action: EntryRemoveDir, Path: a.realDir, Backup: a.backup, Mode: fmt.Sprintf("%04o", unixMode(meta.Mode)),
		UID: meta.UID, GID: meta.GID, Size: a.desc.Bytes, Secret: a.secret})
	if err := r.man.sync(); err != nil {
		return err
	}
	dst := filepath.Join(r.BackupDir, a.backup)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return opErr(a.h, "back up", a.dir, err)
	}
	copied, err := moveTree(hp, dst)
	a.copied = copied
	if err != nil {
		if copied && fileExists(dst) {
			// The copy is complete (a failed copy is removed again) but removing the
			// original failed part-way: the rollback puts the whole tree back.
			a.applied = true
		}
		return opErr(a.h, "remove directory", a.dir, err)
	}
	a.applied = true
	return syncDir(filepath.Dir(hp))
}

func (a *removeDirAction) Rollback(_ context.Context, r *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	hp := a.h.Path(a.realDir)
	if fileExists(hp) {
		// A partial cross-filesystem removal: the backup copy is complete; replace the rest.
		if err := os.RemoveAll(hp); err != nil {
			return "", err
		}
	}
	if _, err := moveTree(filepath.Join(r.BackupDir, a.backup), hp); err != nil {
		return "", fmt.Errorf("move %s back: %w", a.dir, err)
	}
	return a.dir + " (put back)", nil
}

func (a *removeDirAction) Outcome() (bool, string) {
	if !a.applied {
		return false, ""
	}
	d := a.desc.Detail
	if a.copied {
		d += "; backup on another filesystem: copied"
	}
	return true, d
}
