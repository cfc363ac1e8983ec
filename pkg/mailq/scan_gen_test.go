package mailq

import (
	"context"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/qmailgen"
	"github.com/hostfix/hostfix/pkg/system"
)

func hostAt(t testing.TB, root string) *system.Host {
	t.Helper()
	h, err := system.NewHost(root, &system.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestScanGenerated checks the scan against what the generator wrote, for the default,
// big-todo and unsplit layouts.
func TestScanGenerated(t *testing.T) {
	for _, l := range []qmailgen.Layout{{Split: 23}, {Split: 7, BigTodo: true}, {Split: 1}} {
		root := t.TempDir()
		now := time.Now()
		want, err := qmailgen.Generate(root+"/var/qmail/queue", qmailgen.Options{Layout: l, Messages: 300, Seed: 7, NoBodies: true, Now: now, Queued: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		q, err := Open(hostAt(t, root), "/var/qmail/queue")
		if err != nil {
			t.Fatal(err)
		}
		if q.Split != l.Split || q.BigTodo != l.BigTodo {
			t.Fatalf("layout %+v detected as split %d big-todo %v", l, q.Split, q.BigTodo)
		}
		got := map[string]*Message{}
		err = q.Scan(context.Background(), ScanOptions{Envelope: true}, func(m *Message) error {
			got[m.ID] = m
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%+v: scanned %d messages, wrote %d", l, len(got), len(want))
		}
		for _, w := range want {
			m := got[itoa(w.ID)]
			if m == nil {
				t.Fatalf("message %d missing", w.ID)
			}
			if m.IsDamaged() {
				t.Errorf("%d damaged: %v", w.ID, m.Damaged)
			}
			if m.Sender != w.Sender || !m.SenderKnown {
				t.Errorf("%d: sender %q, want %q", w.ID, m.Sender, w.Sender)
			}
			wantState := StatePreprocessed
			if !w.Preprocessed {
				wantState = StateQueued
			}
			if m.State != wantState {
				t.Errorf("%d: state %s, want %s", w.ID, m.State, wantState)
			}
			if m.Size != int64(w.Size) {
				t.Errorf("%d: size %d, want %d", w.ID, m.Size, w.Size)
			}
			if d := m.Queued.Sub(now.Add(-w.Age)); d > time.Millisecond || d < -time.Millisecond {
				t.Errorf("%d: queued %v, want %v", w.ID, m.Queued, now.Add(-w.Age))
			}
			pending := 0
			for _, r := range append(append([]qmailgen.Rcpt{}, w.Local...), w.Remote...) {
				if !r.Done || !w.Preprocessed {
					pending++
				}
			}
			if m.Pending() != pending {
				t.Errorf("%d: %d pending recipients, want %d (%+v)", w.ID, m.Pending(), pending, m.Recipients)
			}
			if m.Bounce != w.Bounce {
				t.Errorf("%d: bounce %v, want %v", w.ID, m.Bounce, w.Bounce)
			}
		}
	}
}
