package plan

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/hostfix/hostfix/pkg/system"
)

// Options configure one apply.
type Options struct {
	Host   *system.Host
	Config Config
	// NoBackup removes files outright instead of moving them into the backup (the user asked
	// for it with --no-backup); edited files are always backed up.
	NoBackup bool
	// CommandLine is recorded in the audit log.
	CommandLine []string
	// Log receives progress lines (stderr); nil discards.
	Log io.Writer
	// User is recorded in the audit log; empty means the current user (and $SUDO_USER).
	User string
}

// Run is the state of one apply, handed to each action.
type Run struct {
	ID        string
	Host      *system.Host
	BackupDir string // host path of this run's backup directory
	NoBackup  bool
	Log       io.Writer

	man        *manifest
	rolledBack bool            // a rollback put back everything this run had applied
	owned      []ownedFile     // files the running action saved with BackupFile
	backedUp   map[string]bool // real system paths saved with BackupFile in this run
	step       string          // the running step ("command postsuper -h -"), for RecordUndoCommand
}

// Logf writes one progress line to the run's log (stderr with -v; discarded otherwise).
func (r *Run) Logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// StaleError says the host changed between planning and applying.
type StaleError struct {
	Target string
	Reason string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s changed since planned (%s); nothing more was changed — run the command again to re-plan", e.Target, e.Reason)
}

// LockError says another run holds the lock.
type LockError struct {
	LockFile string        // system path
	Holder   string        // "pid 1234: hostfix synflood fix", or "unknown"
	Waited   time.Duration // how long this run waited
}

func (e *LockError) Error() string {
	return fmt.Sprintf("another hostfix run holds %s (%s); waited %s: try again when it has finished, or raise plan.lock_timeout",
		e.LockFile, e.Holder, e.Waited)
}

// NewRunID returns a run id that sorts by time: 20261128T073000Z-1a2b.
func NewRunID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// withDefaults fills empty settings from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.LockFile == "" {
		c.LockFile = d.LockFile
	}
	if c.BackupDir == "" {
		c.BackupDir = d.BackupDir
	}
	if c.HistoryFile == "" {
		c.HistoryFile = d.HistoryFile
	}
	if c.LockTimeout < 0 {
		c.LockTimeout = 0
	}
	return c
}

// Apply executes p: lock, verify, back up, change, handlers, finally, audit log.
//
// It returns the report and, when the run failed, the error (also in Report.Error). A nil
// report means nothing was attempted (the lock or the backup directory could not be had).
func Apply(ctx context.Context, p *Plan, o Options) (*Report, error) {
	if o.Host == nil {
		return nil, errors.New("apply: no host")
	}
	h := o.Host
	if h.Runner == nil {
		hc := *h
		hc.Runner = system.ExecRunner{}
		h = &hc
	}
	cfg := o.Config.withDefaults()
	rep := &Report{Command: p.Command, Notes: maskAll(p.Notes, p.Secrets), Actions: []ActionResult{}}
	if p.Empty() {
		return rep, nil
	}
	if err := checkPlan(p); err != nil {
		return nil, err
	}
	if err := CheckCommands(p, h); err != nil {
		return nil, err
	}
	lock, err := acquireLock(ctx, h, cfg, maskAll(o.CommandLine, p.Secrets))
	if err != nil {
		return nil, err
	}
	defer lock.release()

	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	info := RunInfo{ID: NewRunID(now), Time: now.UTC(), User: o.User, Command: p.Command,
		CommandLine: maskAll(o.CommandLine, p.Secrets), NoBackup: o.NoBackup, Undoes: p.Undoes}
	if info.User == "" {
		info.User = currentUser()
	}
	info.Around, info.Handlers = recordAround(p)
	backupRoot, err := hostPath(h, cfg.BackupDir)
	if err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	if err := os.MkdirAll(backupRoot, 0o700); err != nil {
		return nil, opErr(h, "create backup directory", cfg.BackupDir, err)
	}
	// Exclusive: two runs in the same second must never share a directory.
	runDir := filepath.Join(backupRoot, info.ID)
	for i := 0; ; i++ {
		err := os.Mkdir(runDir, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i == 20 {
			return nil, opErr(h, "create backup directory", filepath.Join(cfg.BackupDir, info.ID), err)
		}
		info.ID = NewRunID(now)
		runDir = filepath.Join(backupRoot, info.ID)
	}
	if err := writeJSONFile(filepath.Join(runDir, "run.json"), info); err != nil {
		return nil, opErr(h, "write", filepath.Join(cfg.BackupDir, info.ID, "run.json"), err)
	}
	man, err := openManifest(filepath.Join(runDir, "manifest.jsonl"))
	if err != nil {
		return nil, opErr(h, "create", filepath.Join(cfg.BackupDir, info.ID, "manifest.jsonl"), err)
	}
	r := &Run{ID: info.ID, Host: h, BackupDir: runDir, NoBackup: o.NoBackup, Log: o.Log, man: man}
	rep.RunID = info.ID
	rep.BackupDir = filepath.Join(cfg.BackupDir, info.ID)

	failed := r.execute(ctx, p, rep)
	if err := man.close(); err != nil && failed == nil {
		failed = err
		rep.Error = err.Error()
	}
	// Changed says whether the host is changed now: a run whose rollback put everything
	// back did not change it (Finally steps such as restarting a stopped service restore
	// a state rather than change it).
	for _, a := range rep.Actions {
		if a.Phase != "finally" {
			rep.Changed = rep.Changed || a.Changed
		}
	}
	if failed != nil && r.rolledBack {
		rep.Changed = false
	}
	if err := appendHistory(h, cfg, historyOf(info, rep)); err != nil {
		r.Logf("warning: could not append to the audit log %s: %v", cfg.HistoryFile, err)
		rep.Notes = append(rep.Notes, "the audit log could not be written: "+err.Error())
	}
	return rep, failed
}

// applied is an action Apply ran (also when it failed: a partial change is rolled back
// too), with the files it saved through Run.BackupFile.
type applied struct {
	a     Action
	owned []ownedFile
}

// execute runs actions, then handlers, then verify steps — or rollback — then Finally; it
// fills rep.
func (r *Run) execute(ctx context.Context, p *Plan, rep *Report) error {
	var (
		failed   error
		done     []applied
		notified = map[string]bool{}
	)
	results := make([]ActionResult, len(p.Actions))
	for i, a := range p.Actions {
		results[i] = resultOf(a.Describe(), "action", false, p.Secrets)
	}
	total := len(p.Actions)
	reached := 0
	for i, a := range p.Actions {
		reached = i + 1
		if err := ctx.Err(); err != nil {
			failed = fmt.Errorf("interrupted: %w", err)
			reached = i
			break
		}
		if err := a.Verify(ctx, r); err != nil {
			failed = err
			results[i].Error = Mask(err.Error(), p.Secrets)
			break
		}
		d := a.Describe()
		r.Logf("[%d/%d] %s", i+1, total, Mask(stepLine(d), p.Secrets))
		r.step = stepName(d)
		start := time.Now()
		err := safeApply(ctx, a, r)
		done = append(done, applied{a: a, owned: r.sealOwned()})
		changed, detail := outcomeOf(a)
		r.logStep(start, changed, err, p.Secrets)
		results[i].Changed = changed
		if detail != "" {
			results[i].Detail = Mask(detail, p.Secrets)
		}
		if err != nil {
			failed = err
			results[i].Error = Mask(err.Error(), p.Secrets)
			break
		}
		if changed {
			for _, n := range d.Notify {
				notified[n] = true
			}
		}
	}
	for i := reached; i < len(results); i++ {
		results[i].Skipped = true
	}
	rep.Actions = append(rep.Actions, results...)

	if failed == nil {
		for _, hd := range p.Handlers {
			if !notified[hd.Name] {
				continue
			}
			res := resultOf(hd.describe(), "handler", true, p.Secrets)
			if err := r.runHandler(ctx, hd); err != nil {
				res.Error = Mask(err.Error(), p.Secrets)
				rep.Actions = append(rep.Actions, res)
				failed = fmt.Errorf("handler %s failed after the changes: %w", hd.Name, err)
				break
			}
			rep.Actions = append(rep.Actions, res)
		}
		if failed == nil {
			failed = r.verify(ctx, p, rep)
		}
		if failed != nil {
			// The service refused the new state, or a check found it wrong: put the old
			// state back and restart once more so the service runs on what worked before.
			r.rollback(ctx, done, rep, p.Secrets)
			for _, hd := range p.Handlers {
				if notified[hd.Name] {
					if err := r.runHandler(context.WithoutCancel(ctx), hd); err != nil {
						rep.Restored = append(rep.Restored, Mask("handler "+hd.Name+" failed again after rollback: "+err.Error(), p.Secrets))
					} else {
						rep.Restored = append(rep.Restored, "handler "+hd.Name+" re-run on the restored state")
					}
				}
			}
		}
	} else {
		r.rollback(ctx, done, rep, p.Secrets)
	}

	// Finally runs whatever happened (e.g. start the service stopped for the change).
	fctx := context.WithoutCancel(ctx)
	for _, a := range p.Finally {
		d := a.Describe()
		res := resultOf(d, "finally", false, p.Secrets)
		err := a.Verify(fctx, r)
		if err == nil {
			r.Logf("[finally] %s", Mask(stepLine(d), p.Secrets))
			r.step = stepName(d)
			start := time.Now()
			err = safeApply(fctx, a, r)
			r.sealOwned() // a Finally step's saved files are kept for undo, not rolled back
			var dt string
			res.Changed, dt = outcomeOf(a)
			if dt != "" {
				res.Detail = Mask(dt, p.Secrets)
			}
			r.logStep(start, res.Changed, err, p.Secrets)
		}
		if err != nil {
			res.Error = Mask(err.Error(), p.Secrets)
			if failed == nil {
				failed = fmt.Errorf("%s %s: %w", d.Kind, d.Target, err)
			}
		}
		rep.Actions = append(rep.Actions, res)
	}
	if failed != nil {
		rep.Error = Mask(failed.Error(), p.Secrets)
		rep.stale = failed
	}
	return failed
}

// stepLine is an action as the progress log names it: "! service qmail-send: stop: …".
func stepLine(d Description) string {
	s := fmt.Sprintf("%s %s %s", d.Op, d.Kind, d.Target)
	if d.Detail != "" {
		s += ": " + d.Detail
	}
	return s
}

// logStep logs how an action ended and how long it took (-v).
func (r *Run) logStep(start time.Time, changed bool, err error, secrets []string) {
	took := time.Since(start).Round(time.Millisecond)
	switch {
	case err != nil:
		r.Logf("  failed after %s: %s", took, Mask(err.Error(), secrets))
	case changed:
		r.Logf("  done in %s", took)
	default:
		r.Logf("  unchanged (%s)", took)
	}
}

// verify runs the plan's verify steps after the handlers; the first failure is the run's.
func (r *Run) verify(ctx context.Context, p *Plan, rep *Report) error {
	for _, v := range p.Verifies {
		res := resultOf(verifyDescription(v), "verify", false, p.Secrets)
		r.Logf("[verify] %s", Mask(v.Detail, p.Secrets))
		start := time.Now()
		err := safeVerify(ctx, v, r)
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			res.Error = Mask(err.Error(), p.Secrets)
			rep.Actions = append(rep.Actions, res)
			r.Logf("  failed after %s: %s", took, res.Error)
			return fmt.Errorf("verify %s: %w", v.Detail, err)
		}
		res.Detail = fmt.Sprintf("ok in %s", took)
		r.Logf("  ok in %s", took)
		rep.Actions = append(rep.Actions, res)
	}
	return nil
}

func verifyDescription(v VerifyStep) Description {
	return Description{Kind: KindVerify, Op: OpRun, Target: v.Detail, Previewable: true}
}

// safeVerify turns a panic in a verify function into its error.
func safeVerify(ctx context.Context, v VerifyStep, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error in verify %s: %v (please report it)", v.Detail, p)
		}
	}()
	return v.Check(ctx, r)
}

func (r *Run) runHandler(ctx context.Context, hd Handler) error {
	r.Logf("[handler] %s %s: %s", OpRun, hd.Name, hd.Command)
	if why := hd.Command.blocked(r.Host); why != "" {
		return fmt.Errorf("%s", why) // CheckCommands refused such a plan already
	}
	start := time.Now()
	_, err := r.Host.Runner.Run(ctx, system.Cmd{Argv: hd.Command.Args, Env: hd.Command.Env})
	r.logStep(start, true, err, nil)
	var ee *system.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("%s: exit status %d: %s", hd.Command, ee.Result.ExitCode, LastLines(ee.Result, 5))
	}
	return err
}

// rollback undoes this run's applied actions, newest first: the action's own Rollback,
// then the files it saved with BackupFile.
func (r *Run) rollback(ctx context.Context, done []applied, rep *Report, secrets []string) {
	ctx = context.WithoutCancel(ctx)
	r.rolledBack = true
	r.Logf("rolling back")
	for i := len(done) - 1; i >= 0; i-- {
		a := done[i].a
		d := a.Describe()
		rb, ok := a.(Rollbacker)
		if !ok && len(done[i].owned) == 0 {
			if changed, _ := outcomeOf(a); changed {
				r.rolledBack = false
				rep.Restored = append(rep.Restored, Mask(fmt.Sprintf("NOT restored: %s %s: it cannot be rolled back", d.Kind, d.Target), secrets))
			}
			continue
		}
		if ok {
			what, err := safeRollback(ctx, rb, d, r)
			switch {
			case err != nil:
				r.rolledBack = false
				rep.Restored = append(rep.Restored, Mask(fmt.Sprintf("NOT restored: %s %s: %v", d.Kind, d.Target, err), secrets))
			case what != "":
				rep.Restored = append(rep.Restored, Mask(what, secrets))
			}
		}
		for j := len(done[i].owned) - 1; j >= 0; j-- {
			f := done[i].owned[j]
			what, err := f.restore(ctx, r)
			switch {
			case err != nil:
				r.rolledBack = false
				rep.Restored = append(rep.Restored, Mask(fmt.Sprintf("NOT restored: %s: %v", f.path, err), secrets))
			case what != "":
				rep.Restored = append(rep.Restored, Mask(what, secrets))
			}
		}
	}
}

// safeRollback turns a panic in an action's Rollback into its error.
func safeRollback(ctx context.Context, rb Rollbacker, d Description, r *Run) (what string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error in the rollback of %s %s: %v (please report it)", d.Kind, d.Target, p)
		}
	}()
	return rb.Rollback(ctx, r)
}

// runLock is the exclusive lock of mutating runs.
type runLock struct {
	fl   *flock.Flock
	path string
}

func acquireLock(ctx context.Context, h *system.Host, cfg Config, cmdline []string) (*runLock, error) {
	path, err := hostPath(h, cfg.LockFile)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, opErr(h, "lock", cfg.LockFile, err)
	}
	fl := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o644))
	start := time.Now()
	ok, err := fl.TryLock()
	if err == nil && !ok && cfg.LockTimeout > 0 {
		lctx, cancel := context.WithTimeout(ctx, cfg.LockTimeout)
		ok, err = fl.TryLockContext(lctx, 100*time.Millisecond)
		cancel()
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	if err != nil {
		return nil, opErr(h, "lock", cfg.LockFile, err)
	}
	if !ok {
		holder := "holder unknown"
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = strings.TrimSpace(string(b))
		}
		return nil, &LockError{LockFile: cfg.LockFile, Holder: holder, Waited: time.Since(start).Round(time.Millisecond)}
	}
	// Name the holder for whoever waits next; the lock itself is the flock, not this text.
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0); err == nil {
		fmt.Fprintf(f, "pid %d: %s\n", os.Getpid(), system.FormatArgv(cmdline))
		f.Close()
	}
	return &runLock{fl: fl, path: path}, nil
}

func (l *runLock) release() {
	if f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_TRUNC, 0); err == nil {
		f.Close()
	}
	_ = l.fl.Unlock()
}

func currentUser() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if s := os.Getenv("SUDO_USER"); s != "" && s != name {
		name += " (sudo from " + s + ")"
	}
	return name
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeNew(path, append(b, '\n'), fileMeta{Mode: 0o600, UID: -1})
}

// outcomeOf asks an action whether its Apply changed anything (true when it cannot say).
func outcomeOf(a Action) (bool, string) {
	if oc, ok := a.(Outcomer); ok {
		return oc.Outcome()
	}
	return true, ""
}

// safeApply turns a panic inside an action into its error, so a bug still ends in a
// rollback and the Finally steps instead of a half-applied host.
func safeApply(ctx context.Context, a Action, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error in %s %s: %v (please report it)", a.Describe().Kind, a.Describe().Target, p)
		}
	}()
	return a.Apply(ctx, r)
}

// checkPlan refuses plans that could only fail half-way: two edits of one file (the second
// was planned against content the first replaces, so it would always be stale).
func checkPlan(p *Plan) error {
	seen := map[string]bool{}
	for _, a := range p.Actions {
		e, ok := a.(*editAction)
		if !ok {
			continue
		}
		if seen[e.real] {
			return fmt.Errorf("plan %q edits %s twice: a runbook must combine both changes into one EditFile", p.Command, e.real)
		}
		seen[e.real] = true
	}
	return nil
}
