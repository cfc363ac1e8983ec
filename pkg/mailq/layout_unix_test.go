//go:build unix

package mailq

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hostfix/hostfix/internal/qmailgen"
)

// TestIDNotInode: a queue copied or restored keeps names but not inodes; hostfix must not
// care (the fixture's ids are never the files' inodes).
func TestIDNotInode(t *testing.T) {
	q, dir := fixture(t, qmailgen.Layout{Split: 23}, map[string]string{
		"mess/5/5": body, "info/5/5": "Fa@b\x00", "remote/5/5": "Tc@d\x00",
	})
	fi, err := os.Stat(filepath.Join(dir, "mess/5/5"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Sys().(*syscall.Stat_t).Ino == 5 {
		// Inode 5 is reserved on ext4 (the boot loader inode) and long handed out on tmpfs,
		// whose counter is shared by the whole system: a test file does not get it.
		t.Fatalf("the fixture's inode is its id: the test would prove nothing")
	}
	ms := scanAll(t, q, ScanOptions{Envelope: true})
	if m := ms["5"]; m == nil || m.IsDamaged() || m.Sender != "a@b" {
		t.Fatalf("copied message: %+v", m)
	}
}
