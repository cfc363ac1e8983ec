package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
)

// RemoveFiles: bulk removal of regular files into the run's backup.

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
	dirs    map[string]resolvedDir // system dir -> host dir as resolved at Apply
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
		label = human.Plural(int64(len(files)), "file")
	}
	n := min(o.Sample, len(files))
	sample := make([]string, n)
	for i := range n {
		sample[i] = files[i].Path
	}
	a := &removeAction{h: h, files: files, o: o, within: within}
	a.desc = Description{
		Kind: KindRemoveFiles, Op: OpRemove, Target: within,
		Detail:      fmt.Sprintf("%s, %s", label, human.Bytes(total)),
		Previewable: true, Count: int64(len(files) + len(o.Optional)), Bytes: total, Sample: sample,
	}
	return a, nil
}

func (a *removeAction) Describe() Description { return a.desc }

func (a *removeAction) Verify(_ context.Context, r *Run) error {
	hp, err := hostPath(a.h, a.within)
	if err != nil {
		return fmt.Errorf("remove files in %s: %w", a.within, err)
	}
	fi, err := os.Lstat(hp)
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
	a.dirs = dirs
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
		// Absent optional files are not "already gone": they did not exist when planned.
		present, _ := a.presentOptional(resolve)
		err := w.group(ctx, present, &stop)
		w.ds.close()
		a.removed, a.bytes = w.removed, w.bytes
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
	if err := copyAside(filepath.Join(dir, name), filepath.Join(dstDir, name), meta); err != nil {
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
		return "", fmt.Errorf("%s deleted with --no-backup cannot be restored", human.Plural(a.removed, "file"))
	}
	// Each file goes back into the directory it was taken from, resolved as at Apply: a
	// directory swapped for a link since then (to outside the tree) is refused.
	checked := map[string]string{}
	for i := len(a.moved) - 1; i >= 0; i-- {
		p := a.moved[i]
		cut := strings.LastIndexByte(p, '/')
		dir, name := p[:cut], p[cut+1:]
		hd, ok := checked[dir]
		if !ok {
			now, err := hostPath(a.h, dir)
			if err != nil {
				return "", fmt.Errorf("put back %s: %w", p, err)
			}
			if was := a.dirs[dir]; was.err != nil || was.path != now {
				return "", fmt.Errorf("put back %s: %s now leads elsewhere (%s); the file stays in the backup", p, dir, a.h.Unroot(now))
			}
			hd = now
			checked[dir] = hd
		}
		src := filepath.Join(r.BackupDir, a.backup, p)
		dst := filepath.Join(hd, name)
		if _, err := linkOrCopy(src, dst); err != nil {
			return "", opErr(a.h, "put back", p, err)
		}
	}
	if len(a.moved) == 0 {
		return "", nil
	}
	return fmt.Sprintf("%s in %s (put back)", human.Plural(int64(len(a.moved)), "file"), a.within), nil
}

func (a *removeAction) Outcome() (bool, string) {
	verb := "moved into the backup"
	if a.deleted {
		verb = "deleted (--no-backup)"
	}
	d := fmt.Sprintf("%s removed, %s, %s", human.Plural(a.removed, "file"), human.Bytes(a.bytes), verb)
	if a.skipped > 0 {
		d += "; " + human.Count(a.skipped) + " already gone"
	}
	if a.copied.Load() {
		d += "; backup on another filesystem: copied"
	}
	return a.removed > 0, d
}
