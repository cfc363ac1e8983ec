package plan

// The action constructors runbooks build plans with, and the actions they return. A
// constructor reads the host (through system.Host, under --root) to compute what would
// change and returns a nil Action when nothing would; the action's Apply re-checks that
// state (Verify), saves what it replaces in the run's backup, then changes the host.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/hostfix/hostfix/pkg/system"
)

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

// Outcomer is implemented by actions that know after Apply whether they changed anything
// and how to say what they did. An action without it counts as changed once applied.
type Outcomer interface {
	Outcome() (changed bool, detail string)
}

// Rollbacker is implemented by actions that can put back what this run's Apply changed.
// It returns what it restored, for the report ("" when there was nothing to restore).
// Files the action saved with Run.BackupFile are restored by the plan layer anyway.
type Rollbacker interface {
	Rollback(ctx context.Context, r *Run) (string, error)
}

// ---------------------------------------------------------------------------------------
// Edit a file

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
	applied  bool // the new content is in place (rollback puts the old back)
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
			from, path, len(a), HumanBytes(int64(len(old))), len(b), HumanBytes(int64(len(new))))
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
	if err := a.backup(r); err != nil {
		return opErr(a.h, "back up", a.path, err)
	}
	if err := a.write(ctx, r, a.data, a.newMeta, r.ID); err != nil {
		var re *renamedError
		a.applied = errors.As(err, &re)
		return opErr(a.h, "edit", a.path, err)
	}
	a.applied = true
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
func (a *editAction) write(ctx context.Context, r *Run, data []byte, meta fileMeta, tmpID string) error {
	real := a.h.Path(a.real)
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		return err
	}
	return writeAtomic(ctx, r.Host, real, tempName(real, tmpID), data, meta, a.validate)
}

func (a *editAction) Rollback(ctx context.Context, r *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	if !a.exists {
		if err := os.Remove(a.h.Path(a.real)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return a.path + " (removed again)", nil
	}
	saved := a.validate
	a.validate = nil // the old content was in place before: no need to validate it
	defer func() { a.validate = saved }()
	if err := a.write(ctx, r, a.old, a.oldMeta, r.ID+"-rollback"); err != nil {
		return "", err
	}
	return a.path, nil
}

func (a *editAction) Outcome() (bool, string) { return a.applied, "" }

// ---------------------------------------------------------------------------------------
// Remove files

// File is one file of a bulk removal, with its size for the summary.
type File struct {
	Path string // system path
	Size int64
}

// RemoveOptions tune RemoveFiles.
type RemoveOptions struct {
	// Within is the directory every file must be inside (a system path); anything outside,
	// a symlink or a non-regular file is refused.
	Within string
	// Label says what the files are ("3 messages"), shown instead of 100,000 paths.
	Label string
	// MissingOK accepts files that vanished since planning (a queue being delivered).
	MissingOK bool
	// Sample is how many paths the dry-run lists (default 5).
	Sample int
	// Groups splits files into independent sequences: group i is files[Groups[i]:Groups[i+1]]
	// (the last one runs to the end; Groups[0] must be 0). Inside a group the order of files
	// is kept; different groups may be removed at the same time by Workers goroutines.
	// Callers group by directory (a qmail split bucket), so concurrent unlinks do not wait
	// on one directory's lock. Nil: one group, removed in order.
	Groups []int
	// Workers is how many groups are removed at once (default 1).
	Workers int
	// Optional are files that may appear before Apply (a service still running at planning
	// time may create them): removed, with the same checks, only if present then, before
	// any of files. A directory holding many of them is listed once instead of lstat-ing
	// every name (qmail's bounce/: one possible file per message, almost none there).
	Optional []File
}

type removeAction struct {
	h      *system.Host
	files  []File
	o      RemoveOptions
	desc   Description
	within string

	// results
	moved   []string // system paths moved into the backup, for rollback
	removed int64
	bytes   int64
	skipped int64
	copied  atomic.Bool // the backup was on another filesystem: copied, then deleted
	deleted bool        // --no-backup
	backup  string
}

// RemoveFiles plans removing regular files; nil when files is empty. With backups on, the
// files are moved (renamed, same filesystem) into the run's backup directory.
func RemoveFiles(h *system.Host, files []File, o RemoveOptions) (Action, error) {
	if len(files) == 0 {
		return nil, nil
	}
	if o.Within == "" {
		return nil, errors.New("remove files: no directory to confine them to (RemoveOptions.Within)")
	}
	within := filepath.Clean("/" + o.Within)
	if within == "/" {
		return nil, errors.New("remove files: refusing to confine a removal to /")
	}
	prefix := within + "/"
	var total int64
	for _, list := range [][]File{files, o.Optional} {
		for _, f := range list {
			if filepath.Clean(f.Path) != f.Path || !strings.HasPrefix(f.Path, prefix) {
				return nil, fmt.Errorf("remove files: %s is not inside %s; refusing", f.Path, within)
			}
			total += f.Size
		}
	}
	if len(o.Groups) > 0 && o.Groups[0] != 0 {
		return nil, errors.New("remove files: the first group must start at file 0")
	}
	for i := 1; i < len(o.Groups); i++ {
		if o.Groups[i] < o.Groups[i-1] || o.Groups[i] > len(files) {
			return nil, fmt.Errorf("remove files: group %d starts at %d, out of order or past the %d files", i, o.Groups[i], len(files))
		}
	}
	if o.Sample <= 0 {
		o.Sample = 5
	}
	label := o.Label
	if label == "" {
		label = plural(int64(len(files)), "file")
	}
	n := min(o.Sample, len(files))
	sample := make([]string, n)
	for i := range n {
		sample[i] = files[i].Path
	}
	a := &removeAction{h: h, files: files, o: o, within: within}
	a.desc = Description{
		Kind: KindRemoveFiles, Op: OpRemove, Target: within,
		Detail:      fmt.Sprintf("%s, %s", label, HumanBytes(total)),
		Previewable: true, Count: int64(len(files) + len(o.Optional)), Bytes: total, Sample: sample,
	}
	return a, nil
}

func (a *removeAction) Describe() Description { return a.desc }

func (a *removeAction) Verify(_ context.Context, r *Run) error {
	fi, err := os.Lstat(a.h.Path(a.within))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &StaleError{Target: a.within, Reason: "the directory is gone"}
		}
		return opErr(a.h, "remove files in", a.within, err)
	}
	if !fi.IsDir() {
		return &StaleError{Target: a.within, Reason: "no longer a directory"}
	}
	return nil
}

// Apply removes the files: per file one Lstat and one unlink or rename, nothing else, so a
// 100,000-file purge costs about what `find -delete` costs.
func (a *removeAction) Apply(ctx context.Context, r *Run) error {
	a.deleted = r.NoBackup
	realWithin, err := realPath(a.h, a.within)
	if err != nil {
		return opErr(a.h, "remove files in", a.within, err)
	}
	header := Entry{Action: EntryRemoveFiles, Path: a.within, Size: a.desc.Bytes, UID: -1, GID: -1}
	if !r.NoBackup {
		a.backup = "removed"
		header.Backup = a.backup
	}
	r.man.add(header)
	if err := r.man.sync(); err != nil {
		return err
	}
	groups := a.o.Groups
	if len(groups) == 0 {
		groups = []int{0}
	}
	workers := min(max(a.o.Workers, 1), len(groups))
	// Groups are handed out in order; each worker keeps its own directory handles, and the
	// manifest and rollback list are shared under mu. The first error stops every worker
	// after the file it is on; the manifest then still lists everything already removed.
	var (
		mu       sync.Mutex
		next     atomic.Int64
		stop     atomic.Bool
		firstErr error
		dirs     = map[string]resolvedDir{} // system dir -> resolved host dir, under mu
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		stop.Store(true)
	}
	resolve := func(dir string) resolvedDir {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := dirs[dir]; ok {
			return d
		}
		// A directory swapped for a symlink must not lead the removal elsewhere.
		var d resolvedDir
		rd, err := realPath(a.h, dir)
		switch {
		case err != nil:
			d.err = err
		case rd != dir && !strings.HasPrefix(rd+"/", realWithin+"/"):
			d.err = fmt.Errorf("%s leads outside %s (to %s); refusing", dir, a.within, rd)
		}
		d.path = a.h.Path(rd)
		dirs[dir] = d
		return d
	}
	work := func() {
		w := removeWorker{a: a, r: r, mu: &mu, ds: newDirSet(), made: map[string]bool{}, local: map[string]resolvedDir{}, resolve: resolve, missingOK: a.o.MissingOK}
		defer w.ds.close()
		for !stop.Load() {
			g := int(next.Add(1) - 1)
			if g >= len(groups) {
				break
			}
			end := len(a.files)
			if g+1 < len(groups) {
				end = groups[g+1]
			}
			if err := w.group(ctx, a.files[groups[g]:end], &stop); err != nil {
				fail(err)
			}
		}
		mu.Lock()
		a.removed += w.removed
		a.bytes += w.bytes
		a.skipped += w.skipped
		mu.Unlock()
	}
	if len(a.o.Optional) > 0 {
		w := removeWorker{a: a, r: r, mu: &mu, ds: newDirSet(), made: map[string]bool{}, local: map[string]resolvedDir{}, resolve: resolve, missingOK: true}
		present, absent := a.presentOptional(resolve)
		w.skipped = absent
		err := w.group(ctx, present, &stop)
		w.ds.close()
		a.removed, a.bytes, a.skipped = w.removed, w.bytes, w.skipped
		if err != nil {
			return err
		}
	}
	if workers == 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work()
			}()
		}
		wg.Wait()
	}
	if firstErr != nil {
		return firstErr
	}
	if a.copied.Load() {
		r.Logf("note: the backup directory is on another filesystem than %s: files were copied and fsynced, then deleted (slower)", a.within)
	}
	return r.man.sync()
}

// listOptionalAt is how many optional files of one directory make listing it (one
// getdents pass) cheaper than an lstat per name.
const listOptionalAt = 1024

// presentOptional returns the optional files that may exist now: in a directory with many
// of them, those its listing names (the rest are counted as absent); elsewhere all, for
// the per-file lstat to decide. Every returned file still gets the full check.
func (a *removeAction) presentOptional(resolve func(string) resolvedDir) ([]File, int64) {
	count := map[string]int{}
	for _, f := range a.o.Optional {
		count[f.Path[:strings.LastIndexByte(f.Path, '/')]]++
	}
	listed := map[string]map[string]bool{}
	for dir, n := range count {
		if n < listOptionalAt {
			continue
		}
		d := resolve(dir)
		if d.err != nil {
			continue // the per-file path reports or skips it
		}
		ents, err := os.ReadDir(d.path)
		if err != nil {
			continue
		}
		names := make(map[string]bool, len(ents))
		for _, e := range ents {
			names[e.Name()] = true
		}
		listed[dir] = names
	}
	var present []File
	var absent int64
	for _, f := range a.o.Optional {
		cut := strings.LastIndexByte(f.Path, '/')
		if names, ok := listed[f.Path[:cut]]; ok && !names[f.Path[cut+1:]] {
			absent++
			continue
		}
		present = append(present, f)
	}
	return present, absent
}

// resolvedDir is a directory of a removal resolved on the host, or why it cannot be used.
type resolvedDir struct {
	path string
	err  error
}

// removeWorker removes groups of files; one per goroutine.
type removeWorker struct {
	a       *removeAction
	r       *Run
	mu      *sync.Mutex // guards r.man and a.moved
	ds      *dirSet
	made    map[string]bool
	local   map[string]resolvedDir
	resolve func(string) resolvedDir
	// missingOK skips files that are gone (RemoveOptions.MissingOK; always for Optional).
	missingOK bool

	removed, bytes, skipped int64
}

// group removes files in order: per file one fstatat (regular file, not a symlink) and one
// unlinkat or renameat relative to its directory, as find -delete does, instead of
// resolving the full path twice.
func (w *removeWorker) group(ctx context.Context, files []File, stop *atomic.Bool) error {
	a, r := w.a, w.r
	for i, f := range files {
		if i&1023 == 0 && (ctx.Err() != nil || stop.Load()) {
			if ctx.Err() != nil {
				return fmt.Errorf("remove files in %s: interrupted: %w", a.within, ctx.Err())
			}
			return nil
		}
		cut := strings.LastIndexByte(f.Path, '/')
		dir, name := f.Path[:cut], f.Path[cut+1:]
		d, seen := w.local[dir]
		if !seen {
			d = w.resolve(dir)
			w.local[dir] = d
		}
		if d.err != nil {
			if errors.Is(d.err, fs.ErrNotExist) && w.missingOK {
				w.skipped++
				continue
			}
			return opErr(a.h, "remove", f.Path, d.err)
		}
		rdir := d.path
		st, err := w.ds.stat(rdir, name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && w.missingOK {
				w.skipped++
				continue
			}
			return opErr(a.h, "remove", f.Path, err)
		}
		if !st.mode.IsRegular() {
			return fmt.Errorf("remove %s: not a regular file (%s); refusing", f.Path, st.mode.Type())
		}
		meta := fileMeta{Mode: st.mode.Perm() | st.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), UID: st.uid, GID: st.gid}
		if r.NoBackup {
			if err := w.ds.unlink(rdir, name); err != nil {
				if errors.Is(err, fs.ErrNotExist) && w.missingOK {
					w.skipped++
					continue
				}
				return opErr(a.h, "remove", f.Path, err)
			}
			w.mu.Lock()
			r.man.addFile(EntryDelete, f.Path, "", meta.Mode, meta.UID, meta.GID, st.size)
			w.mu.Unlock()
		} else {
			rel := filepath.Join(a.backup, f.Path)
			ddir := filepath.Dir(filepath.Join(r.BackupDir, rel))
			if !w.made[ddir] {
				if err := os.MkdirAll(ddir, 0o700); err != nil {
					return opErr(a.h, "back up", f.Path, err)
				}
				w.made[ddir] = true
			}
			if err := a.moveAside(w.ds, rdir, ddir, name, meta); err != nil {
				if errors.Is(err, fs.ErrNotExist) && w.missingOK {
					w.skipped++
					continue
				}
				return opErr(a.h, "remove", f.Path, err)
			}
			w.mu.Lock()
			a.moved = append(a.moved, f.Path)
			r.man.addFile(EntryRemove, f.Path, rel, meta.Mode, meta.UID, meta.GID, st.size)
			w.mu.Unlock()
		}
		w.removed++
		w.bytes += st.size
	}
	return nil
}

// moveAside renames a file into the backup; across filesystems it copies, fsyncs, removes.
func (a *removeAction) moveAside(ds *dirSet, dir, dstDir, name string, meta fileMeta) error {
	if !a.copied.Load() {
		err := ds.rename(dir, name, dstDir, name)
		if err == nil || !isEXDEV(err) {
			return err
		}
		a.copied.Store(true)
	}
	// Copy under a partial name and rename: a copy cut short by a kill is never taken for
	// a backed-up file (undo skips partialSuffix names).
	dst := filepath.Join(dstDir, name)
	tmp := dst + partialSuffix
	if err := copyFile(filepath.Join(dir, name), tmp, meta); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return ds.unlink(dir, name)
}

// partialSuffix marks a backup copy still being written.
const partialSuffix = ".hostfix-partial"

func (a *removeAction) Rollback(_ context.Context, r *Run) (string, error) {
	if a.deleted {
		if a.removed == 0 {
			return "", nil
		}
		return "", fmt.Errorf("%s deleted with --no-backup cannot be restored", plural(a.removed, "file"))
	}
	for i := len(a.moved) - 1; i >= 0; i-- {
		p := a.moved[i]
		src := filepath.Join(r.BackupDir, a.backup, p)
		if err := os.Rename(src, a.h.Path(p)); err != nil {
			if !isEXDEV(err) {
				return "", opErr(a.h, "put back", p, err)
			}
			fi, serr := os.Lstat(src)
			if serr != nil {
				return "", opErr(a.h, "put back", p, serr)
			}
			if err := copyFile(src, a.h.Path(p), metaOf(fi)); err != nil {
				return "", opErr(a.h, "put back", p, err)
			}
			os.Remove(src)
		}
	}
	if len(a.moved) == 0 {
		return "", nil
	}
	return fmt.Sprintf("%s in %s (put back)", plural(int64(len(a.moved)), "file"), a.within), nil
}

func (a *removeAction) Outcome() (bool, string) {
	verb := "moved into the backup"
	if a.deleted {
		verb = "deleted (--no-backup)"
	}
	d := fmt.Sprintf("%s removed, %s, %s", plural(a.removed, "file"), HumanBytes(a.bytes), verb)
	if a.skipped > 0 {
		d += fmt.Sprintf("; %d already gone", a.skipped)
	}
	if a.copied.Load() {
		d += "; backup on another filesystem: copied"
	}
	return a.removed > 0, d
}

// plural says "1 file" / "2 files" with thousands separators.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Thousands(n) + " " + noun + "s"
}

// Thousands formats 1234567 as "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// HumanBytes formats a size in SI units as ls -h --si does ("5.6 MB").
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// ---------------------------------------------------------------------------------------
// Move

type moveAction struct {
	h          *system.Host
	from, to   string
	fromP, toP string // host paths, directories resolved inside the root
	desc       Description
	applied    bool
}

// Move plans renaming a system path. It returns nil when from is gone and to exists (the
// move was done already), and an error when from is missing or to already exists.
func Move(h *system.Host, from, to string) (Action, error) {
	from, to = filepath.Clean("/"+from), filepath.Clean("/"+to)
	fromP, toP := parentPath(h, from), parentPath(h, to)
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
	r.man.add(Entry{Action: EntryMove, Path: a.from, To: a.to, UID: -1, GID: -1})
	if err := r.man.sync(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(a.toP), 0o755); err != nil {
		return opErr(a.h, "move", a.from, err)
	}
	if err := os.Rename(a.fromP, a.toP); err != nil {
		return opErr(a.h, "move", a.from, err)
	}
	a.applied = true
	return syncDir(filepath.Dir(a.toP))
}

func (a *moveAction) Rollback(context.Context, *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	if err := os.Rename(a.toP, a.fromP); err != nil {
		return "", fmt.Errorf("move %s back: %w", a.to, err)
	}
	return a.from + " (moved back)", nil
}

func (a *moveAction) Outcome() (bool, string) { return a.applied, "" }

// ---------------------------------------------------------------------------------------
// Sysctl

type sysctlAction struct {
	h          *system.Host
	key, file  string
	old, value string
	desc       Description
	applied    bool
}

// SysctlPath is the system path of a kernel parameter: /proc/sys/ plus the key with dots
// as slashes (net.ipv4.tcp_syncookies -> /proc/sys/net/ipv4/tcp_syncookies).
func SysctlPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// NormalizeSysctl folds the whitespace of a multi-value parameter ("4096\t65535" and
// "4096 65535" are the same value).
func NormalizeSysctl(v string) string { return strings.Join(strings.Fields(v), " ") }

// SetSysctl plans writing a kernel parameter live (/proc/sys/<key with / for .>) and reading
// it back; nil when the live value already equals value.
func SetSysctl(h *system.Host, key, value string) (Action, error) {
	if key == "" || strings.ContainsAny(key, "/ \t\n") || strings.Contains(key, "..") {
		return nil, fmt.Errorf("sysctl %q: not a kernel parameter name", key)
	}
	file := SysctlPath(key)
	cur, err := os.ReadFile(hostPath(h, file))
	if err != nil {
		return nil, opErr(h, "sysctl", key, err)
	}
	old, want := NormalizeSysctl(string(cur)), NormalizeSysctl(value)
	if old == want {
		return nil, nil
	}
	return &sysctlAction{h: h, key: key, file: file, old: old, value: want, desc: Description{
		Kind: KindSysctl, Op: OpChange, Target: key, Detail: fmt.Sprintf("%s -> %s (live, %s)", old, want, file),
		Previewable: true,
	}}, nil
}

func (a *sysctlAction) Describe() Description { return a.desc }

func (a *sysctlAction) read() (string, error) {
	b, err := os.ReadFile(hostPath(a.h, a.file))
	return NormalizeSysctl(string(b)), err
}

func (a *sysctlAction) Verify(context.Context, *Run) error {
	cur, err := a.read()
	if err != nil {
		return opErr(a.h, "sysctl", a.key, err)
	}
	if cur != a.old {
		return &StaleError{Target: a.key, Reason: fmt.Sprintf("live value is %s, planned against %s", cur, a.old)}
	}
	return nil
}

func (a *sysctlAction) Apply(_ context.Context, r *Run) error {
	r.man.add(Entry{Action: EntrySysctl, Key: a.key, Path: a.file, Old: a.old, New: a.value, UID: -1, GID: -1})
	if err := r.man.sync(); err != nil {
		return err
	}
	a.applied = true // even a failed write may have half-taken: rollback writes old back
	return writeSysctl(a.h, a.key, a.value)
}

// writeSysctl writes a value and reads it back: the kernel may refuse or clamp it.
func writeSysctl(h *system.Host, key, value string) error {
	file := hostPath(h, SysctlPath(key))
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("sysctl %s: read back: %w", key, err)
	}
	if got := NormalizeSysctl(string(b)); got != NormalizeSysctl(value) {
		return fmt.Errorf("sysctl %s: wrote %s but the kernel reads back %s", key, value, got)
	}
	return nil
}

func (a *sysctlAction) Rollback(context.Context, *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	if err := writeSysctl(a.h, a.key, a.old); err != nil {
		return "", err
	}
	return a.key + " = " + a.old, nil
}

func (a *sysctlAction) Outcome() (bool, string) { return a.applied, "" }

// ---------------------------------------------------------------------------------------
// Wait for a lock

type waitUnlockAction struct {
	h       *system.Host
	path    string
	timeout time.Duration
	desc    Description
	waited  time.Duration
}

// WaitUnlock plans waiting until no process holds an flock on the system path (e.g. qmail's
// lock/sendmutex after stopping qmail-send), up to timeout.
func WaitUnlock(h *system.Host, path string, timeout time.Duration) Action {
	path = filepath.Clean("/" + path)
	return &waitUnlockAction{h: h, path: path, timeout: timeout, desc: Description{
		Kind: KindWaitUnlock, Op: OpRun, Target: path,
		Detail: fmt.Sprintf("wait up to %s until no process holds its lock", timeout), Previewable: true,
	}}
}

func (a *waitUnlockAction) Describe() Description { return a.desc }

func (a *waitUnlockAction) Verify(context.Context, *Run) error { return nil }

func (a *waitUnlockAction) Apply(ctx context.Context, r *Run) error {
	f, err := os.Open(hostPath(a.h, a.path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no lock file: nobody can hold it
	}
	if err != nil {
		return opErr(a.h, "wait for lock", a.path, err)
	}
	defer f.Close()
	start := time.Now()
	deadline := start.Add(a.timeout)
	for {
		free, err := tryFlock(f)
		if err != nil {
			return opErr(a.h, "wait for lock", a.path, err)
		}
		if free {
			a.waited = time.Since(start)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for lock %s: still held after %s (is the service really stopped?)", a.path, a.timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for lock %s: %w", a.path, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (a *waitUnlockAction) Outcome() (bool, string) {
	return false, fmt.Sprintf("lock free after %s", a.waited.Round(time.Millisecond))
}
