//go:build unix

package qmailgen

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestWriteFaithful checks the properties of a queue written by qmail itself that the
// generator promises: id = inode of mess/ at creation, file in mess/<id mod split>/,
// todo/ and intd/ one hard-linked file, info/ mtime = queue time, modes as qmail sets them.
func TestWriteFaithful(t *testing.T) {
	dir := t.TempDir()
	if err := Skeleton(dir, Layout{Split: 23}); err != nil {
		t.Fatal(err)
	}
	w := &Writer{Dir: dir, Layout: Layout{Split: 23}}
	queued := &Message{Sender: "a@b", Remote: []Rcpt{{Addr: "c@d"}}, Size: 100}
	pre := &Message{Sender: "", Remote: []Rcpt{{Addr: "x@y", Done: true}, {Addr: "z@w"}}, Preprocessed: true, Size: 100, Age: 3600e9}
	for _, m := range []*Message{queued, pre} {
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	p := func(parts ...string) string { return filepath.Join(append([]string{dir}, parts...)...) }
	id, n := strconv.FormatUint(queued.ID, 10), strconv.FormatUint(queued.ID%23, 10)
	fi, err := os.Stat(p("mess", n, id))
	if err != nil || fi.Sys().(*syscall.Stat_t).Ino != queued.ID || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mess: %v %v", fi, err)
	}
	todo, err1 := os.Stat(p("todo", id))
	intd, err2 := os.Stat(p("intd", id))
	if err1 != nil || err2 != nil || !os.SameFile(todo, intd) {
		t.Fatalf("todo/intd not one hard-linked file: %v %v", err1, err2)
	}
	b, _ := os.ReadFile(p("todo", id))
	if string(b) != "u1001\x00p10001\x00Fa@b\x00Tc@d\x00" {
		t.Fatalf("todo %q", b)
	}
	id, n = strconv.FormatUint(pre.ID, 10), strconv.FormatUint(pre.ID%23, 10)
	if b, _ := os.ReadFile(p("info", n, id)); string(b) != "F\x00" {
		t.Fatalf("info %q", b)
	}
	if b, _ := os.ReadFile(p("remote", n, id)); string(b) != "Dx@y\x00Tz@w\x00" {
		t.Fatalf("remote %q", b)
	}
	if _, err := os.Stat(p("local", n, id)); !os.IsNotExist(err) {
		t.Fatalf("local/ written without local recipients: %v", err)
	}
	if ents, _ := os.ReadDir(p("pid")); len(ents) != 0 {
		t.Fatalf("pid/ not cleaned: %v", ents)
	}
	if err := Skeleton(dir, Layout{}); err == nil {
		t.Fatal("Skeleton accepted a directory that already holds a queue")
	}
}
