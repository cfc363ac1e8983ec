package plan

// Run.BackupFile: what a runbook-owned action uses to save a file before changing it, so
// that rollback and undo restore it like a file EditFile changed.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ownedFile is a file saved with Run.BackupFile, to restore on rollback.
type ownedFile struct {
	path    string // real system path
	existed bool
	backup  string // relative to the run's backup directory, when existed
	meta    fileMeta
	sum     string
}

// BackupFile saves the system path p (content, mode, owner) into this run's backup and
// manifest before the calling action changes it: a rollback of the run and `hostfix undo`
// then put it back as it was. A file that does not exist yet is recorded as created (undo
// removes it again). Call it in Action.Apply before the change; saving the same file twice
// in one run keeps the first (original) copy. p is resolved inside --root like every path.
func (r *Run) BackupFile(p string) error {
	p = filepath.Clean("/" + p)
	real, err := r.Host.Resolve(p)
	if err != nil {
		return fmt.Errorf("back up %s: %w", p, err)
	}
	if r.backedUp[real] {
		return nil
	}
	hp := r.Host.Path(real)
	f := ownedFile{path: real}
	e := Entry{Action: EntryCreate, Path: real, UID: -1, GID: -1}
	fi, err := os.Lstat(hp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return opErr(r.Host, "back up", p, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("back up %s: not a regular file (%s)", p, fi.Mode().Type())
	default:
		data, err := os.ReadFile(hp)
		if err != nil {
			return opErr(r.Host, "back up", p, err)
		}
		f.existed = true
		f.meta = metaOf(fi)
		f.sum = checksum(data)
		f.backup = filepath.Join("files", real)
		e = Entry{Action: EntryEdit, Path: real, Mode: fmt.Sprintf("%04o", unixMode(f.meta.Mode)),
			UID: f.meta.UID, GID: f.meta.GID, Size: int64(len(data)), SHA256: f.sum, Backup: f.backup}
		if err := writeNew(filepath.Join(r.BackupDir, f.backup), data, fileMeta{Mode: 0o600, UID: -1}); err != nil {
			return opErr(r.Host, "back up", p, err)
		}
	}
	r.man.add(e)
	if err := r.man.sync(); err != nil {
		return err
	}
	if r.backedUp == nil {
		r.backedUp = map[string]bool{}
	}
	r.backedUp[real] = true
	r.owned = append(r.owned, f)
	return nil
}

// sealOwned ends an action's BackupFile list: it records, for each saved file, what the
// action left there (the checksum undo compares against to see later edits) and returns
// the list for rollback.
func (r *Run) sealOwned() []ownedFile {
	owned := r.owned
	r.owned = nil
	for _, f := range owned {
		e := Entry{Action: EntryWritten, Path: f.path, UID: -1, GID: -1}
		if data, err := os.ReadFile(r.Host.Path(f.path)); err == nil {
			e.NewSHA256 = checksum(data)
		} else {
			e.Removed = true
		}
		r.man.add(e)
	}
	if len(owned) > 0 {
		if err := r.man.sync(); err != nil {
			r.Logf("warning: %v", err)
		}
	}
	return owned
}

// restore puts a saved file back (rollback).
func (f ownedFile) restore(ctx context.Context, r *Run) (string, error) {
	hp := r.Host.Path(f.path)
	if !f.existed {
		if err := os.Remove(hp); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", nil
			}
			return "", err
		}
		return f.path + " (removed again)", nil
	}
	data, err := os.ReadFile(filepath.Join(r.BackupDir, f.backup))
	if err != nil {
		return "", fmt.Errorf("saved copy: %w", err)
	}
	if cur, err := os.ReadFile(hp); err == nil && checksum(cur) == f.sum {
		if fi, err := os.Lstat(hp); err == nil && metaOf(fi) == f.meta {
			return "", nil // untouched
		}
	}
	if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
		return "", err
	}
	if _, err := writeAtomic(ctx, r.Host, hp, tempName(hp, r.ID+"-rollback"), data, f.meta, nil); err != nil {
		return "", err
	}
	return f.path, nil
}
