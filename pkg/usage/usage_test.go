package usage

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestUsage(t *testing.T) {
	base := fs.ErrNotExist
	e := Errorf("queue %s: %w", "/var/qmail/queue", base)
	if !Is(e) || !errors.Is(e, fs.ErrNotExist) || e.Error() != "queue /var/qmail/queue: file does not exist" {
		t.Errorf("Errorf: %v", e)
	}
	wrapped := fmt.Errorf("mailq purge: %w", e)
	if !Is(wrapped) {
		t.Error("Is must see through wrapping")
	}
	if Is(errors.New("plain")) || Is(nil) {
		t.Error("plain errors are not usage errors")
	}
	if Wrap(nil) != nil {
		t.Error("Wrap(nil) must be nil")
	}
	if w := Wrap(base); !Is(w) || !errors.Is(w, base) || w.Error() != base.Error() {
		t.Errorf("Wrap: %v", w)
	}
}

func TestClip(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := ""
	for i := 0; i < 100; i++ {
		long += "é"
	}
	got := Clip(long)
	if want := long[:2*MaxEcho] + "…"; got != want {
		t.Errorf("Clip(100 runes) = %q, want %q", got, want)
	}
}
