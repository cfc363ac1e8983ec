package smartermail_test

// End-to-end tests of `hostfix smartermail migrate` as a real process: testscript
// scenarios on generated installations (testdata/smartermail/script), and a copy killed
// with SIGKILL half-way and resumed.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/scripttest"
	"github.com/hostfix/hostfix/internal/smartermailgen"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hostfix": func() { os.Exit(cmd.Execute()) },
	})
}

func TestScript(t *testing.T) {
	testscript.Run(t, scripttest.Params("../../testdata/smartermail/script", map[string]string{"SECRET": smartermailgen.Secret}, map[string]scripttest.Cmd{
		// gensm LAYOUT INSTALL DOMAINS CONFIG_ROOT [DOMAIN...]
		"gensm": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) < 4 {
				ts.Fatalf("usage: gensm LAYOUT INSTALL DOMAINS CONFIG_ROOT [DOMAIN...]")
			}
			_, err := smartermailgen.Write(smartermailgen.Options{Layout: args[0], Install: ts.MkAbs(args[1]),
				Domains: ts.MkAbs(args[2]), ConfigDomainsRoot: args[3], DomainNames: args[4:], Users: 2, Messages: 3,
				Depth: 2, Excludable: true})
			ts.Check(err)
		},
		// nosecret FILE|DIR...: no file (recursively) contains $SECRET.
		"nosecret": func(ts *testscript.TestScript, neg bool, args []string) {
			for _, a := range args {
				err := filepath.WalkDir(ts.MkAbs(a), func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					b, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					if strings.Contains(string(b), smartermailgen.Secret) {
						ts.Fatalf("%s contains the secret", p)
					}
					return nil
				})
				ts.Check(err)
			}
		},
		// sametree SRC DST: every file of SRC but the default excludes is in DST, same bytes,
		// and DST has no temp files of hostfix.
		"sametree": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: sametree SRC DST")
			}
			if err := sameTree(ts.MkAbs(args[0]), ts.MkAbs(args[1])); err != nil {
				ts.Fatalf("%v", err)
			}
		},
	}))
}

func excluded(rel string) bool {
	base := filepath.Base(rel)
	return strings.HasSuffix(base, ".stat3") || strings.HasSuffix(base, ".grp") || strings.Contains(filepath.ToSlash(rel), "IndexV2/")
}

func sums(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	return out, err
}

func sameTree(src, dst string) error {
	a, err := sums(src)
	if err != nil {
		return err
	}
	b, err := sums(dst)
	if err != nil {
		return err
	}
	n := 0
	for rel, s := range a {
		if excluded(rel) {
			continue
		}
		n++
		if b[rel] != s {
			return fmt.Errorf("%s: copy differs or is missing", rel)
		}
	}
	for rel := range b {
		if strings.Contains(rel, ".hostfix-") {
			return fmt.Errorf("%s: temp file left", rel)
		}
	}
	if len(b) != n {
		return fmt.Errorf("%d files at the destination, want %d", len(b), n)
	}
	return nil
}

// parallelSlack: files the killed run had renamed but not yet recorded are found identical
// by hashing and skipped too, so only the count of files in flight may differ.
const parallelSlack = 2

func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".eml") {
			n++
		}
		return nil
	})
	return n
}

// TestMigrateKilledAndResumed kills hostfix with SIGKILL in the middle of the copy, then
// runs it again: the rerun skips what was verified and ends with a complete tree. On Linux
// the killed run leaves no temp file (new files are written unnamed, O_TMPFILE; the rerun's
// removal of named leftovers is pkg/plan's TestCopyTreeFilesRewriteAndLeftovers).
func TestMigrateKilledAndResumed(t *testing.T) {
	dir := t.TempDir()
	install, domains := filepath.Join(dir, "old", "SmarterMail"), filepath.Join(dir, "old", "Domains")
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprintf("d%d.example", i)
	}
	// About 4,000 messages of 2-50 KB (100 MB): several commit batches, even on a fast disk.
	if _, err := smartermailgen.Write(smartermailgen.Options{Layout: "legacy", Install: install, Domains: domains,
		DomainNames: names, Users: 10, Messages: 50, Depth: 2, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	total := countFiles(domains)
	root := filepath.Join(dir, "root")
	os.MkdirAll(root, 0o755)
	newDomains := filepath.Join(root, "new", "Domains")
	args := []string{"--root", root, "smartermail", "migrate", "--from", install, "--to", filepath.Join(root, "new", "SmarterMail"),
		"--domains-from", domains, "--domains-to", newDomains, "--domains-path", `D:\SmarterMail\Domains`, "--settle", "0", "--yes"}

	c := exec.Command("hostfix", append(args, "--parallel", "1")...)
	c.Env = append(os.Environ(), "NO_COLOR=1")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case err := <-exited:
			t.Fatalf("hostfix finished (%v) before it could be killed: make the tree bigger", err)
		case <-deadline:
			c.Process.Kill()
			t.Fatal("no file was copied within 60s")
		case <-time.After(2 * time.Millisecond):
			done = countFiles(newDomains) >= 100
		}
	}
	if err := c.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	copied := countFiles(newDomains)
	if copied >= total {
		t.Fatalf("all %d files were copied before the kill", total)
	}
	t.Logf("killed after %d of %d messages", copied, total)
	if runtime.GOOS == "linux" {
		var temps []string
		filepath.WalkDir(newDomains, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".hostfix-") {
				temps = append(temps, p)
			}
			return nil
		})
		if len(temps) > 0 {
			t.Errorf("the killed run left %d temp files, e.g. %s", len(temps), temps[0])
		}
	}

	out, err := exec.Command("hostfix", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	text := string(out)
	// The Domains step copies only what the killed run had not finished.
	var line string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "copy_tree "+newDomains+":") {
			line = l
		}
	}
	var copiedAgain, skipped int
	if i := strings.Index(line, ": copied "); i >= 0 {
		fmt.Sscanf(strings.ReplaceAll(line[i:], ",", ""), ": copied %d files", &copiedAgain)
	}
	if i := strings.Index(line, "verified (SHA-256 of source and copy); "); i >= 0 {
		fmt.Sscanf(strings.ReplaceAll(line[i:], ",", ""), "verified (SHA-256 of source and copy); %d skipped", &skipped)
	}
	if skipped < copied-parallelSlack || copiedAgain+skipped < total {
		t.Errorf("the resume copied %d and skipped %d of %d (the killed run had %d):\n%s", copiedAgain, skipped, total, copied, line)
	}
	if err := sameTree(domains, newDomains); err != nil {
		t.Fatalf("after the resume: %v", err)
	}
	out, err = exec.Command("hostfix", args...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "smartermail migrate: nothing to do") {
		t.Fatalf("third run: %v\n%s", err, out)
	}
}
