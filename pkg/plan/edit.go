package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/pmezard/go-difflib/difflib"
)

// EditFile: atomic, backed-up file edits.

// EditOptions tune EditFile.
type EditOptions struct {
	// Mode for a file that does not exist yet (default 0644). An existing file keeps its own
	// mode and owner.
	Mode fs.FileMode
	// Secret masks the whole content in diffs and JSON.
	Secret bool
	// Validate is an argv run on the new content before it replaces the file; "{}" in it is
	// replaced by the temp file's path. A non-zero exit leaves the file untouched.
	Validate []string
	// Notify names handlers to trigger when the file changes.
	Notify []string
	// Detail is the one-line reason shown with the action.
	Detail string
}

type editAction struct {
	h        *system.Host
	path     string // system path as the runbook named it
	real     string // system path of the real file (symlinks resolved under --root)
	exists   bool
	old      []byte
	oldSum   string
	oldMeta  fileMeta
	data     []byte
	newMeta  fileMeta
	validate []string
	secret   bool
	desc     Description
	applied  bool     // the new content is in place (rollback puts the old back)
	inPlace  bool     // written in place: the file is a mount point
	madeDirs []string // host paths of the parent directories Apply created
}

// EditFile plans a write of the system path from transform(old). exists is false when the
// file is missing (old is then nil) and the file will be created. It returns a nil Action
// when the new content equals the old (nothing to do).
func EditFile(h *system.Host, path string, transform func(old []byte, exists bool) ([]byte, error), o EditOptions) (Action, error) {
	path = filepath.Clean("/" + path)
	real, err := realPath(h, path)
	if err != nil {
		return nil, opErr(h, "edit", path, err)
	}
	a := &editAction{h: h, path: path, real: real, validate: o.Validate, secret: o.Secret}
	fi, err := os.Stat(h.Path(real))
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("edit %s: not a regular file (%s)", path, fi.Mode().Type())
		}
		a.exists = true
		a.oldMeta = metaOf(fi)
		a.newMeta = a.oldMeta
		if a.old, err = os.ReadFile(h.Path(real)); err != nil {
			return nil, opErr(h, "edit", path, err)
		}
		a.oldSum = checksum(a.old)
	case errors.Is(err, fs.ErrNotExist):
		mode := o.Mode
		if mode == 0 {
			mode = 0o644
		}
		a.newMeta = fileMeta{Mode: mode, UID: -1, GID: -1}
	default:
		return nil, opErr(h, "edit", path, err)
	}
	data, err := transform(a.old, a.exists)
	if err != nil {
		return nil, opErr(h, "edit", path, err)
	}
	if a.exists && bytes.Equal(data, a.old) {
		return nil, nil
	}
	a.data = data
	op := OpChange
	if !a.exists {
		op = OpAdd
	}
	detail := o.Detail
	if real != path {
		detail = joinDetail(detail, "writes through the symlink to "+real)
	}
	a.desc = Description{
		Kind: KindEditFile, Op: op, Target: path, Detail: detail,
		Diff: fileDiff(path, a.old, data, a.exists, o.Secret), Previewable: true,
		Notify: o.Notify,
	}
	return a, nil
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// fileDiff is a unified diff labelled with the system path; secrets show only sizes.
func fileDiff(path string, old, new []byte, exists, secret bool) string {
	from := path
	if !exists {
		from = "/dev/null"
	}
	if secret {
		return fmt.Sprintf("--- %s\n+++ %s\n@@ secret content not shown: %d -> %d bytes @@\n", from, path, len(old), len(new))
	}
	a, b := splitLines(old), splitLines(new)
	if len(a)+len(b) > maxDiffLines || len(old)+len(new) > maxDiffBytes {
		// difflib is quadratic in the worst case; a config file this big is not read as a diff anyway.
		return fmt.Sprintf("--- %s\n+++ %s\n@@ too large to diff: %d lines (%s) -> %d lines (%s) @@\n",
			from, path, len(a), human.Bytes(int64(len(old))), len(b), human.Bytes(int64(len(new))))
	}
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: a, B: b, FromFile: from, ToFile: path, Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("--- %s\n+++ %s\n@@ diff unavailable: %v @@\n", from, path, err)
	}
	if d == "" && !bytes.Equal(old, new) {
		// Differences difflib cannot show per line (e.g. only a final newline).
		d = fmt.Sprintf("--- %s\n+++ %s\n@@ whitespace at end of file changed @@\n", from, path)
	}
	return d
}

// Diffs of files bigger than this are summarised.
const (
	maxDiffLines = 50000
	maxDiffBytes = 8 << 20
)

// splitLines keeps a missing final newline visible, as diff(1) does.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	last := lines[len(lines)-1]
	if !strings.HasSuffix(last, "\n") {
		lines[len(lines)-1] = last + "\n\\ No newline at end of file\n"
	}
	return lines
}

func (a *editAction) Describe() Description { return a.desc }

func (a *editAction) Verify(_ context.Context, r *Run) error {
	real, err := realPath(a.h, a.path)
	if err != nil {
		return fmt.Errorf("edit %s: %w", a.path, err)
	}
	if real != a.real {
		return &StaleError{Target: a.path, Reason: "now leads to " + real + " instead of " + a.real}
	}
	data, err := os.ReadFile(a.h.Path(real))
	switch {
	case err == nil && !a.exists:
		return &StaleError{Target: a.path, Reason: "the file was created meanwhile"}
	case errors.Is(err, fs.ErrNotExist) && a.exists:
		return &StaleError{Target: a.path, Reason: "the file was removed meanwhile"}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("edit %s: %w", a.path, err)
	case a.exists && checksum(data) != a.oldSum:
		return &StaleError{Target: a.path, Reason: "content checksum differs"}
	}
	return nil
}

func (a *editAction) Apply(ctx context.Context, r *Run) error {
	if !a.exists {
		// Recorded before the file's own entry: undo, going newest first, removes the
		// file before the directories.
		made, err := mkdirs(r, filepath.Dir(a.h.Path(a.real)))
		a.madeDirs = made
		if err != nil {
			return opErr(a.h, "edit", a.path, err)
		}
	}
	if err := a.backup(r); err != nil {
		return opErr(a.h, "back up", a.path, err)
	}
	inPlace, err := a.write(ctx, r, a.data, a.newMeta, r.ID)
	a.inPlace = inPlace
	if err != nil {
		var re *renamedError
		a.applied = errors.As(err, &re)
		return opErr(a.h, "edit", a.path, err)
	}
	a.applied = true
	if inPlace {
		r.Logf("note: %s is a mount point (rename gives EBUSY): written in place after the backup, not atomically", a.path)
	}
	return nil
}

func (a *editAction) backup(r *Run) error {
	e := Entry{Action: EntryCreate, Path: a.real, Mode: fmt.Sprintf("%04o", unixMode(a.newMeta.Mode)),
		UID: a.newMeta.UID, GID: a.newMeta.GID, Size: int64(len(a.data)), NewSHA256: checksum(a.data), Secret: a.secret}
	if a.exists {
		e.Action = EntryEdit
		e.Mode = fmt.Sprintf("%04o", unixMode(a.oldMeta.Mode))
		e.UID, e.GID = a.oldMeta.UID, a.oldMeta.GID
		e.Size = int64(len(a.old))
		e.SHA256 = a.oldSum
		e.Backup = filepath.Join("files", a.real)
		if err := writeNew(filepath.Join(r.BackupDir, e.Backup), a.old, fileMeta{Mode: 0o600, UID: -1}); err != nil {
			return err
		}
	}
	r.man.add(e)
	return r.man.sync()
}

// write does the atomic replace; new files get their directories created.
func (a *editAction) write(ctx context.Context, r *Run, data []byte, meta fileMeta, tmpID string) (bool, error) {
	real := a.h.Path(a.real)
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return false, err
	}
	return writeAtomic(ctx, r.Host, real, tempName(real, tmpID), data, meta, a.validate)
}

func (a *editAction) Rollback(ctx context.Context, r *Run) (string, error) {
	if !a.applied {
		rmdirs(a.madeDirs)
		return "", nil
	}
	if !a.exists {
		if err := os.Remove(a.h.Path(a.real)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return a.path + " (removed again" + dirsNote(rmdirs(a.madeDirs)) + ")", nil
	}
	saved := a.validate
	a.validate = nil // the old content was in place before: no need to validate it
	defer func() { a.validate = saved }()
	if _, err := a.write(ctx, r, a.old, a.oldMeta, r.ID+"-rollback"); err != nil {
		return "", err
	}
	return a.path, nil
}

func (a *editAction) Outcome() (bool, string) {
	if a.inPlace {
		return a.applied, joinDetail(a.desc.Detail, "the file is a mount point (rename gives EBUSY): written in place after the backup, not atomically")
	}
	return a.applied, ""
}
