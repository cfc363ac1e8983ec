package system

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	dir, cleanup, err := Scratch("hostfix-test-", map[string][]byte{"main.cf": nil, "../master.cf": []byte("smtp inet n - n - - smtpd\n")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "master.cf")) // a name is only a name: no ../
	if err != nil || string(b) != "smtp inet n - n - - smtpd\n" {
		t.Fatalf("master.cf: %q %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "main.cf"))
	if err != nil || fi.Size() != 0 || time.Since(fi.ModTime()) < 50*time.Second || fi.Mode().Perm() != 0o600 {
		t.Fatalf("main.cf: %v %v", fi, err)
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cleanup left %s: %v", dir, err)
	}
}
