package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hostfix/hostfix/pkg/human"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// UndoOptions tune Undo.
type UndoOptions struct {
	// Force restores files and values that changed since the run (the later change is
	// overwritten, and itself backed up by the undo run). It never overwrites a file that
	// did not exist when the run removed its namesake: those stay in the backup.
	Force bool
}

// ErrNoRun says there is no run to undo (none recorded, or the id is unknown).
var ErrNoRun = errors.New("no such run")

// ConflictError lists what changed since the run being undone; nothing was changed.
// Conflicts are later changes --force overwrites; Kept are targets undo never overwrites,
// not even with --force (a new file took a removed file's name, a removed directory
// exists again): their saved copies stay in the run's backup.
type ConflictError struct {
	RunID     string
	Conflicts []string
	Kept      []string
	BackupDir string // the run's backup directory (host path), for the by-hand hint
}

func (e *ConflictError) Error() string {
	var parts []string
	if len(e.Conflicts) > 0 {
		parts = append(parts, fmt.Sprintf("%s changed since that run: %s", human.Plural(int64(len(e.Conflicts)), "target"), strings.Join(e.Conflicts, "; ")))
	}
	if len(e.Kept) > 0 {
		parts = append(parts, fmt.Sprintf("%s never overwritten, not even with --force: %s", human.Plural(int64(len(e.Kept)), "target"), strings.Join(e.Kept, "; ")))
	}
	msg := fmt.Sprintf("undo %s: %s; nothing was changed", e.RunID, strings.Join(parts, "; "))
	var hints []string
	if len(e.Conflicts) > 0 {
		hints = append(hints, "use --force to overwrite the changed ones with the saved state")
	}
	if len(e.Kept) > 0 {
		them := "them"
		if len(e.Conflicts) > 0 {
			them = "the others"
		}
		hints = append(hints, "put "+them+" back by hand from "+e.BackupDir+" if that is really wanted")
	}
	return msg + " (" + strings.Join(hints, "; ") + ")"
}

// LatestUndoable returns the id of the newest run that changed something (or was
// interrupted), is not itself an undo, and has not been undone since.
func LatestUndoable(h *system.Host, cfg Config) (string, error) {
	runs, _, err := History(h, cfg)
	if err != nil {
		return "", err
	}
	undone := map[string]bool{}
	for _, r := range runs {
		if r.Undoes != "" && r.Result == ResultOK {
			undone[r.Undoes] = true
		}
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Undoes != "" || undone[r.RunID] || strings.HasPrefix(r.Command, "undo ") {
			continue
		}
		if r.Result == ResultOK || r.Result == ResultIncomplete {
			return r.RunID, nil
		}
	}
	return "", fmt.Errorf("%w: no run to undo in %s", ErrNoRun, cfg.withDefaults().HistoryFile)
}

// Undo plans putting back what run id changed, from its backup directory: files exactly
// (content, mode, owner), removed files moved back, moves reversed, sysctl values
// rewritten. Targets already back in their old state give no action. Targets changed since
// the run are refused with a *ConflictError unless o.Force. The plan is applied like any
// other (so the undo is itself a run, with its own backup, and can be undone).
func Undo(h *system.Host, cfg Config, id string, o UndoOptions) (*Plan, error) {
	cfg = cfg.withDefaults()
	if id == "" {
		var err error
		if id, err = LatestUndoable(h, cfg); err != nil {
			return nil, err
		}
	}
	if !ValidRunID(id) {
		return nil, fmt.Errorf("%w: %q is not a run id (see hostfix history)", ErrNoRun, usage.Clip(id))
	}
	backupRoot, err := hostPath(h, cfg.BackupDir)
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", id, err)
	}
	runDir := filepath.Join(backupRoot, id)
	entries, cut, err := readManifest(filepath.Join(runDir, "manifest.jsonl"), filepath.Join(cfg.BackupDir, id, "manifest.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s has no backup in %s", ErrNoRun, id, filepath.Join(cfg.BackupDir, id))
	}
	if err != nil {
		return nil, fmt.Errorf("undo %s: %w", id, err)
	}
	p := New("undo " + id)
	p.Undoes = id
	u := &undoer{h: h, id: id, runDir: runDir, force: o.Force, p: p, res: newParentResolver(h), removing: map[string]bool{}}
	// What runbook-owned actions left in the files they saved (Run.BackupFile).
	written := map[string]Entry{}
	for _, e := range entries {
		if e.Action == EntryWritten {
			written[e.Path] = e
		}
	}
	runs, _, _ := History(h, cfg)
	ranBy := undoneBy(runs, id)
	var deleted int64
	var cmdSteps []string // the steps of the run an undo command takes back
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Action != EntryUndoCommand {
			u.lastCmd = nil
		}
		if e.Action != EntryTimes {
			u.lastTimes = nil
		}
		if w, ok := written[e.Path]; ok && (e.Action == EntryEdit || e.Action == EntryCreate) && e.NewSHA256 == "" {
			e.NewSHA256, e.Removed = w.NewSHA256, w.Removed
		}
		switch e.Action {
		case EntryEdit, EntryCreate:
			err = u.file(e)
		case EntryRemoveFiles:
			err = u.removed(e)
		case EntryDelete:
			deleted++
		case EntryMove:
			err = u.move(e)
		case EntryRemoveDir:
			err = u.removedDir(e)
		case EntryMkdir:
			err = u.mkdir(e)
		case EntrySysctl:
			err = u.sysctl(e)
		case EntryTimes:
			err = u.times(e)
		case EntryUndoCommand:
			if !slices.Contains(cmdSteps, e.For) {
				cmdSteps = append(cmdSteps, e.For)
			}
			if ranBy == "" {
				u.command(e)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("undo %s: %w", id, err)
		}
	}
	u.timesNotes()
	if !p.Empty() {
		u.wrap()
	}
	if ranBy != "" && len(cmdSteps) > 0 {
		p.Note("the commands " + id + " recorded to take back " + strings.Join(cmdSteps, ", ") + " were run by " + ranBy + " already: not run again")
	}
	if cut {
		p.Note("the last line of " + id + "'s manifest is incomplete (the run was interrupted while writing it) and was ignored")
	}
	if deleted > 0 {
		p.Note(fmt.Sprintf("%s deleted with --no-backup by %s cannot be restored", human.Plural(deleted, "file"), id))
	}
	// What the run did that no backup holds (its audit line says): said, so that an undo
	// of a package install is not a bare "nothing to do".
	{
		for _, r := range runs {
			if r.RunID != id {
				continue
			}
			for _, a := range r.Actions {
				if !a.Changed || a.Phase != "action" {
					continue
				}
				switch a.Kind {
				case KindInstallPackages:
					p.Note(fmt.Sprintf("%s %s (run by %s) cannot be undone: remove the packages by hand if they must go", a.Kind, a.Target, id))
				case KindCommand:
					if slices.Contains(cmdSteps, string(a.Kind)+" "+a.Target) {
						continue // taken back by the command it recorded
					}
					p.Note(fmt.Sprintf("%s %s (run by %s) cannot be undone: reverse it by hand if needed", a.Kind, a.Target, id))
				}
			}
		}
	}
	cerr := &ConflictError{RunID: id, Conflicts: u.conflicts, Kept: u.kept, BackupDir: u.h.Unroot(runDir)}
	if (len(u.conflicts) > 0 && !o.Force) || (len(u.kept) > 0 && (!o.Force || len(p.Actions) == 0)) {
		// Refused; with --force too when only targets it never overwrites are left (that
		// would be "nothing to do" while nothing is as the run found it).
		return nil, cerr
	}
	for _, c := range u.conflicts {
		p.Note("--force: overwriting a later change: " + c)
	}
	for _, k := range u.kept {
		p.Note("not restored, never overwritten (not even with --force): " + k)
	}
	return p, nil
}

// wrap repeats the run's service sequence around the restore (from its run.json): the
// steps before its changes first, its Finally steps at the end, and its handlers notified
// by every restore step. A run.json without them (older runs) leaves the plan as it is.
func (u *undoer) wrap() {
	info, err := readRunInfo(u.runDir)
	if err != nil || len(info.Around)+len(info.Handlers) == 0 {
		return
	}
	var before, after []Action
	var said, saidAfter []string
	for _, s := range info.Around {
		var a Action
		switch s.Kind {
		case KindService:
			a = Service(s.Name, s.Operation, s.argv())
			if s.Operation != "" {
				if s.Phase == "finally" {
					saidAfter = append(saidAfter, s.Operation+" "+s.Name)
				} else {
					said = append(said, s.Operation+" "+s.Name)
				}
			}
		case KindWaitUnlock:
			a = WaitUnlock(u.h, s.Name, s.Timeout)
			said = append(said, "wait for "+s.Name)
		default:
			continue
		}
		if s.Phase == "finally" {
			after = append(after, a)
		} else {
			before = append(before, a)
		}
	}
	var names []string
	for _, hd := range info.Handlers {
		u.p.Handle(hd.Name, hd.argv(), hd.Detail)
		names = append(names, hd.Name)
	}
	if len(names) > 0 {
		for i, a := range u.p.Actions {
			u.p.Actions[i] = &notifyAction{Action: a, notify: names}
		}
	}
	u.p.Actions = append(before, u.p.Actions...)
	u.p.Finally = append(u.p.Finally, after...)
	if len(said)+len(saidAfter) > 0 {
		note := "around the restore, the undo repeats what " + u.id + " did: " + strings.Join(said, ", ")
		if len(saidAfter) > 0 {
			note += "; " + strings.Join(saidAfter, ", ") + " at the end"
		}
		u.p.Note(note)
	}
}

// mkdir plans removing a directory the run created, when the undo leaves it empty: every
// entry in it must be something this undo removes (entries are planned newest first, so
// what the run put inside was planned already).
func (u *undoer) mkdir(e Entry) error {
	full, err := u.res.path(e.Path)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(full)
	if err != nil || !fi.IsDir() {
		return nil // gone already (or replaced: not ours to remove)
	}
	ents, err := os.ReadDir(full)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	for _, d := range ents {
		if !u.removing[filepath.Join(e.Path, d.Name())] {
			u.p.Note(e.Path + " is not empty (" + d.Name() + " was put there since " + u.id + "): the directory stays")
			return nil
		}
	}
	u.removing[e.Path] = true
	u.p.Add(&rmdirAction{h: u.h, path: e.Path, full: full, desc: Description{
		Kind: KindRestore, Op: OpRemove, Target: e.Path, Previewable: true,
		Detail: "directory created by " + u.id + "; removed if empty",
	}})
	return nil
}

type undoer struct {
	h         *system.Host
	id        string
	runDir    string
	force     bool
	p         *Plan
	conflicts []string // later changes: refused, overwritten with --force
	kept      []string // never overwritten: refused, notes with --force
	res       *parentResolver
	removing  map[string]bool // system paths this undo removes (files it unlinks, moves away, dirs)

	lastCmd      *commandAction // the undo_command step planned last (records of one step join it)
	lastCmdEntry Entry
	lastTimes    *timesAction // the times restore being filled (consecutive times entries)
	timesGone    int
	timesChanged []string
}

// file plans restoring one edited or created file.
func (u *undoer) file(e Entry) error {
	real, err := u.res.path(e.Path)
	if err != nil {
		return err
	}
	if tmp := tempName(real, u.id); fileExists(tmp) {
		u.p.Add(&restoreAction{Action: &removeTempAction{path: tempName(e.Path, u.id), real: tmp},
			detail: "leftover temp file of the interrupted run"})
	}
	cur, err := os.ReadFile(real)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	var fi fs.FileInfo
	if exists {
		if fi, err = os.Lstat(real); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			u.conflicts = append(u.conflicts, e.Path+" is no longer a regular file")
			return nil
		}
	}
	curSum := checksum(cur)
	if e.Action == EntryCreate {
		switch {
		case !exists:
			return nil // already gone
		case curSum != e.NewSHA256:
			u.conflicts = append(u.conflicts, e.Path+" (created by the run) was edited since")
			if !u.force {
				return nil
			}
		}
		u.removing[e.Path] = true
		u.p.Add(&restoreAction{Action: &unlinkAction{h: u.h, path: e.Path, sum: curSum},
			detail: "created by " + u.id + "; remove it again"})
		return nil
	}
	// EntryEdit: restore the saved copy with its mode and owner.
	saved, err := os.ReadFile(filepath.Join(u.runDir, e.Backup))
	if err != nil {
		return fmt.Errorf("%s: saved copy: %w", e.Path, err)
	}
	if checksum(saved) != e.SHA256 {
		return fmt.Errorf("%s: the saved copy %s does not match its checksum in the manifest; refusing to restore it", e.Path, e.Backup)
	}
	mode, _ := e.FileMode()
	want := fileMeta{Mode: mode, UID: e.UID, GID: e.GID}
	switch {
	case exists && curSum == e.SHA256:
		if metaOf(fi) == want {
			return nil // never changed, or already undone
		}
	case exists && curSum == e.NewSHA256:
	case !exists && e.Removed:
		// the run's own action removed it: put it back
	case !exists:
		u.conflicts = append(u.conflicts, e.Path+" was removed since")
		if !u.force {
			return nil
		}
	default:
		u.conflicts = append(u.conflicts, e.Path+" was edited since (checksum differs)")
		if !u.force {
			return nil
		}
	}
	a := &editAction{h: u.h, path: e.Path, real: e.Path, exists: exists, old: cur, data: saved,
		newMeta: want, secret: e.Secret}
	op := OpChange
	if exists {
		a.oldSum = curSum
		a.oldMeta = metaOf(fi)
	} else {
		op = OpAdd
	}
	detail := "restore the copy saved by " + u.id
	if exists && bytes.Equal(cur, saved) {
		detail += fmt.Sprintf(" (mode/owner %04o %d:%d)", unixMode(want.Mode), want.UID, want.GID)
	}
	a.desc = Description{Kind: KindRestore, Op: op, Target: e.Path, Detail: detail,
		Diff: fileDiff(e.Path, cur, saved, exists, e.Secret), Previewable: true}
	u.p.Add(a)
	return nil
}

// removed plans moving a bulk removal's files back from the backup. It walks the backup
// tree rather than trusting per-file manifest lines, so files moved by a run killed before
// it flushed its manifest come back too.
func (u *undoer) removed(e Entry) error {
	if e.Backup == "" {
		return nil // --no-backup: counted through the delete entries
	}
	base := filepath.Join(u.runDir, e.Backup)
	top := filepath.Join(base, e.Path)
	var pairs []restorePair
	var partial []string
	var bytes int64
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == top {
				return filepath.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if strings.HasSuffix(p, partialSuffix) {
			partial = append(partial, p) // a copy a killed run never finished: the original is still in place
			return nil
		}
		sys := strings.TrimPrefix(p, base)
		dst, err := u.res.path(sys)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(dst); err == nil {
			if sameContent(p, dst) {
				return nil // copied, but the run died before deleting the original
			}
			// A new file took the name (qmail names queue files by inode): never clobber it.
			u.kept = append(u.kept, sys+" exists again (a new file took its name); it stays in the backup")
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		pairs = append(pairs, restorePair{src: p, dst: sys})
		bytes += fi.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("read backup %s: %w", top, err)
	}
	if len(partial) > 0 {
		u.p.Note(fmt.Sprintf("%s in %s are unfinished copies of files that were never removed (left alone)", human.Plural(int64(len(partial)), "file"), top))
	}
	if len(pairs) == 0 {
		return nil
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].dst < pairs[j].dst })
	sample := make([]string, 0, 5)
	for i := 0; i < len(pairs) && i < 5; i++ {
		sample = append(sample, pairs[i].dst)
	}
	u.p.Add(&restoreFilesAction{h: u.h, pairs: pairs, within: e.Path, desc: Description{
		Kind: KindRestore, Op: OpAdd, Target: e.Path, Previewable: true,
		Detail: fmt.Sprintf("move %s (%s) back from the backup of %s", human.Plural(int64(len(pairs)), "file"), human.Bytes(bytes), u.id),
		Count:  int64(len(pairs)), Bytes: bytes, Sample: sample,
	}})
	return nil
}

func (u *undoer) move(e Entry) error {
	from, err := u.res.path(e.Path)
	if err != nil {
		return err
	}
	to, err := u.res.path(e.To)
	if err != nil {
		return err
	}
	_, ferr := os.Lstat(from)
	_, terr := os.Lstat(to)
	switch {
	case ferr == nil && terr != nil:
		return nil // already back
	case ferr != nil && terr == nil:
		a, err := Move(u.h, e.To, e.Path)
		if err != nil {
			return err
		}
		u.removing[e.To] = true
		u.p.Add(&restoreAction{Action: a, detail: "move back to " + e.Path})
	default:
		u.kept = append(u.kept, fmt.Sprintf("%s / %s: both or neither exist now", e.Path, e.To))
	}
	return nil
}

func (u *undoer) sysctl(e Entry) error {
	hp, err := hostPath(u.h, SysctlPath(e.Key))
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", e.Key, err)
	}
	b, err := os.ReadFile(hp)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", e.Key, err)
	}
	cur := NormalizeSysctl(string(b))
	switch {
	case cur == NormalizeSysctl(e.Old):
		return nil
	case cur != NormalizeSysctl(e.New):
		u.conflicts = append(u.conflicts, fmt.Sprintf("%s is %s now, the run set %s", e.Key, cur, e.New))
		if !u.force {
			return nil
		}
	}
	a, err := SetSysctl(u.h, e.Key, e.Old)
	if err != nil || a == nil {
		return err
	}
	u.p.Add(&restoreAction{Action: a, detail: fmt.Sprintf("%s -> %s (value before %s)", cur, NormalizeSysctl(e.Old), u.id)})
	return nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// sameContent reports whether two files have the same bytes (only asked for conflicts).
func sameContent(a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		return false
	}
	y, err := os.ReadFile(b)
	return err == nil && bytes.Equal(x, y)
}

// removedDir plans moving a directory tree RemoveDir took back from the backup.
func (u *undoer) removedDir(e Entry) error {
	src := filepath.Join(u.runDir, e.Backup)
	if !fileExists(src) {
		return nil // already put back (or the backup is gone: nothing to restore)
	}
	dst, err := u.res.path(e.Path)
	if err != nil {
		return err
	}
	if fileExists(dst) {
		u.kept = append(u.kept, e.Path+" exists again; the removed directory stays in the backup")
		return nil
	}
	detail := "move the directory back from the backup of " + u.id
	if e.Secret {
		detail += " (secret: contents not shown)"
	}
	u.p.Add(&restoreDirAction{h: u.h, path: e.Path, src: src, dst: dst, desc: Description{
		Kind: KindRestore, Op: OpAdd, Target: e.Path, Detail: detail, Previewable: true, Bytes: e.Size,
	}})
	return nil
}
