package cmd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostfix/hostfix/internal/testenv"
)

// TestVersionFromGitCheckout: a plain `go build` in a git checkout (no ldflags) gives a
// binary whose `version` shows the commit and its date, from the VCS stamp the go command
// records (debug.ReadBuildInfo vcs.revision, vcs.time). It clones this repository's HEAD
// into a temporary directory (a worktree would not be stamped: .git is a file there) and
// builds it with -buildvcs=auto, whatever GOFLAGS says.
func TestVersionFromGitCheckout(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedTool(t, "git", "go")
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		testenv.Skip(t, "the source is not a git checkout")
	}
	head := strings.TrimSpace(run(t, "", "git", "-C", strings.TrimSpace(string(top)), "rev-parse", "HEAD"))
	dir := filepath.Join(t.TempDir(), "hostfix")
	run(t, "", "git", "clone", "-q", "--no-checkout", strings.TrimSpace(string(top)), dir)
	run(t, dir, "git", "checkout", "-q", head)
	when := strings.TrimSpace(run(t, dir, "git", "log", "-1", "--format=%cI", head))
	bin := filepath.Join(t.TempDir(), "hostfix")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var info VersionInfo
	if err := json.Unmarshal([]byte(run(t, "", bin, "version", "-o", "json")), &info); err != nil {
		t.Fatal(err)
	}
	if info.Commit != head {
		t.Errorf("commit %q, want %s", info.Commit, head)
	}
	wantTime, err := time.Parse(time.RFC3339, when)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := time.Parse(time.RFC3339, info.Date); err != nil || !got.Equal(wantTime) {
		t.Errorf("date %q, want %s (%v)", info.Date, when, err)
	}
	text := run(t, "", bin, "version")
	if !strings.Contains(text, "commit:     "+head+"\n") || strings.Contains(text, "not recorded") {
		t.Errorf("version:\n%s", text)
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	c := exec.Command(name, args...)
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}
