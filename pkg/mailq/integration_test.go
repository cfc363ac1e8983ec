//go:build unix

package mailq_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/mailq"
	"github.com/hostfix/hostfix/pkg/system"
)

type qmailRig struct {
	root, queue, pidfile, config string
	victim                       string
	msgs                         []*qmailgen.Message
}

// newRig generates a queue under a temp root, starts a fake qmail-send holding
// lock/sendmutex and writes a config whose stop/start commands end and restart it.
// pick, when set, names a queue file (relative) the fake stop command swaps for a symlink.
func newRig(t *testing.T, mode string, lockWait string, pick ...func([]*qmailgen.Message) string) *qmailRig {
	t.Helper()
	testenv.Integration(t)
	helper := testenv.NeedTool(t, "mailq-helper")[0]
	r := &qmailRig{root: t.TempDir()}
	r.queue = filepath.Join(r.root, "var/qmail/queue")
	r.pidfile = filepath.Join(r.root, "qmail-send.pid")
	var err error
	r.msgs, err = qmailgen.Generate(r.queue, qmailgen.Options{Layout: qmailgen.Layout{Split: 7}, Messages: 300, Seed: 11, NoBodies: true, Queued: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	stop := `["` + helper + `", stop, "` + r.pidfile + `"]`
	if len(pick) > 0 {
		r.victim = pick[0](r.msgs)
		stop = `["` + helper + `", stop, "` + r.pidfile + `", "` + filepath.Join(r.queue, r.victim) + `"]`
	}
	start := `["` + helper + `", start, "` + r.queue + `", "` + r.pidfile + `"]`
	if mode == "stuck" {
		// A qmail-send that does not stop: stop and start change nothing.
		stop = `["` + helper + `", noop]`
		start = `["` + helper + `", noop]`
	}
	r.config = filepath.Join(r.root, "hostfix.yaml")
	cfg := "mailq:\n  lock_wait: " + lockWait + "\n  stop_command: " + stop + "\n  start_command: " + start + "\n"
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(helper, mode, r.queue, r.pidfile)
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go c.Wait()
	t.Cleanup(func() {
		// End whichever fake qmail-send is running now (the restarted one has another pid).
		c.Process.Kill()
		if pid := r.pid(); pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for i := 0; r.pid() == 0; i++ {
		if i > 250 {
			t.Fatal("fake qmail-send did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

func (r *qmailRig) pid() int {
	b, _ := os.ReadFile(r.pidfile)
	n, _ := strconv.Atoi(string(b))
	return n
}

// running reports whether a live qmail-send (the helper) holds lock/sendmutex.
func (r *qmailRig) running(t *testing.T) bool {
	f, err := os.Open(filepath.Join(r.queue, "lock/sendmutex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

func (r *qmailRig) hostfix(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runHostfix(t, nil, r.root, r.config, args...)
}

func (r *qmailRig) scan(t *testing.T) map[string]*mailq.Message {
	h, _ := system.NewHost(r.root, nil)
	q, err := mailq.Open(h, "/var/qmail/queue")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*mailq.Message{}
	if err := q.Scan(context.Background(), mailq.ScanOptions{Envelope: true}, func(m *mailq.Message) error {
		out[m.ID] = m
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIntegrationPurgeWaitsForQmailSend(t *testing.T) {
	r := newRig(t, "qmail-send", "20s")
	first := r.pid()
	if !r.running(t) {
		t.Fatal("fake qmail-send holds no lock")
	}
	start := time.Now()
	out, code := r.hostfix(t, "mailq", "purge", "--sender", `^spam@victim\.example$`, "--yes")
	if code != 0 {
		t.Fatalf("purge exit %d:\n%s", code, out)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Errorf("purge took %s: it cannot have waited for qmail-send to let go of the lock", time.Since(start))
	}
	if log, _ := os.ReadFile(r.pidfile + ".log"); string(log) != "intact" {
		t.Fatalf("qmail-send saw: %q\n%s", log, out)
	}
	if !strings.Contains(out, "! verify: no file of the purged messages is left in /var/qmail/queue (ok in") {
		t.Errorf("no verification line:\n%s", out)
	}
	if r.pid() == first || !r.running(t) {
		t.Fatalf("qmail-send not started again (pid %d, was %d)", r.pid(), first)
	}
	left := r.scan(t)
	want := 0
	for _, m := range r.msgs {
		if m.Sender != "spam@victim.example" {
			want++
			if left[strconv.FormatUint(m.ID, 10)] == nil {
				t.Errorf("message %d (%s) removed", m.ID, m.Sender)
			}
		}
	}
	if len(left) != want {
		t.Fatalf("%d messages left, want %d", len(left), want)
	}
	out, code = r.hostfix(t, "mailq", "purge", "--sender", `^spam@victim\.example$`, "--yes")
	if code != 0 || !strings.Contains(out, "nothing to do") {
		t.Fatalf("second purge: exit %d\n%s", code, out)
	}
}

func TestIntegrationLockTimeoutRemovesNothing(t *testing.T) {
	r := newRig(t, "stuck", "1s")
	before := len(r.scan(t))
	out, code := r.hostfix(t, "mailq", "purge", "--all", "--yes")
	if code != 1 || !strings.Contains(out, "still held after 1s") {
		t.Fatalf("exit %d, want 1 with a lock timeout:\n%s", code, out)
	}
	if after := len(r.scan(t)); after != before {
		t.Fatalf("%d messages after a failed purge, want %d", after, before)
	}
	if !strings.Contains(out, "start") {
		t.Errorf("start not reported:\n%s", out)
	}
}

// TestIntegrationFailedDeleteRestartsAndRollsBack: a file of a selected message turns
// into a symlink after the plan was made (the fake stop command does it), so its removal
// fails half way through the purge: what was moved is put back, the symlink is left alone
// (never followed), and qmail-send is started again.
func TestIntegrationFailedDeleteRestartsAndRollsBack(t *testing.T) {
	var victimID string
	r := newRig(t, "qmail-send", "20s", func(msgs []*qmailgen.Message) string {
		// A spam message in a late split directory: earlier ones are moved before it fails.
		for _, m := range msgs {
			if m.Sender == "spam@victim.example" && m.Preprocessed && m.ID%7 == 5 {
				victimID = strconv.FormatUint(m.ID, 10)
			}
		}
		return filepath.Join("info", "5", victimID)
	})
	victim := r.victim
	first := r.pid()
	before := r.scan(t)
	out, code := r.hostfix(t, "mailq", "purge", "--sender", `^spam@`, "--yes")
	if code != 1 || !strings.Contains(out, "not a regular file") || !strings.Contains(out, "put back") {
		t.Fatalf("exit %d, want 1 with a refused symlink and a rollback:\n%s", code, out)
	}
	if r.pid() == first || !r.running(t) {
		t.Fatalf("qmail-send not started again after the failure:\n%s", out)
	}
	if fi, err := os.Lstat(filepath.Join(r.queue, victim)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was touched: %v", err)
	}
	after := r.scan(t)
	if len(after) != len(before) {
		t.Fatalf("%d messages after rollback, want %d:\n%s", len(after), len(before), out)
	}
	for id, m := range after {
		if id == victimID {
			continue // its info/ is the test's symlink now
		}
		if m.IsDamaged() || len(m.Files) != len(before[id].Files) {
			t.Fatalf("message %s not restored whole: %+v", id, m)
		}
	}
}
