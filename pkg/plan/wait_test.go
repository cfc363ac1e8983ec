//go:build unix

package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// TestWaitUnlockNoteAgreesWithTheResult: a wait that times out reports no "lock free after
// 0s" beside its "still held after" error; one that gets the lock says so.
func TestWaitUnlockNoteAgreesWithTheResult(t *testing.T) {
	root := t.TempDir()
	h, err := system.NewHost(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(root, "sendmutex")
	f, err := os.Create(lock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Another open file description holds the lock, as qmail-send would.
	holder, err := os.Open(lock)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(holder.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	a := WaitUnlock(h, "/sendmutex", 120*time.Millisecond)
	err = a.Apply(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "still held after") {
		t.Fatalf("held lock: %v", err)
	}
	if _, note := a.(Outcomer).Outcome(); strings.Contains(note, "free") {
		t.Errorf("failed wait says %q", note)
	}
	holder.Close()
	a = WaitUnlock(h, "/sendmutex", time.Second)
	if err := a.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, note := a.(Outcomer).Outcome(); !strings.HasPrefix(note, "lock free after ") {
		t.Errorf("free lock: note %q", note)
	}
	a = WaitUnlock(h, "/nolock", time.Second)
	if err := a.Apply(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, note := a.(Outcomer).Outcome(); !strings.Contains(note, "no lock file") {
		t.Errorf("no lock file: note %q", note)
	}
}
