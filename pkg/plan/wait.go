package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// WaitUnlock: waiting until a service lets go of its lock.

type waitUnlockAction struct {
	h       *system.Host
	path    string
	timeout time.Duration
	desc    Description
	waited  time.Duration
	note    string // what Apply found, for the report; "" until the lock was seen free
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
	hp, err := hostPath(a.h, a.path)
	if err != nil {
		return fmt.Errorf("wait for lock: %w", err)
	}
	f, err := os.Open(hp)
	if errors.Is(err, fs.ErrNotExist) {
		a.note = "no lock file: nobody holds it"
		return nil
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
			a.note = fmt.Sprintf("lock free after %s", a.waited.Round(time.Millisecond))
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

// Outcome says what the wait found; nothing when it failed (the error says "still held
// after …", and a "lock free" beside it would contradict it).
func (a *waitUnlockAction) Outcome() (bool, string) { return false, a.note }
