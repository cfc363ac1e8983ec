package php_test

// Integration test against the real PHP of this Debian machine (php-cli, CI installs it):
// `hostfix php mbstring install` really installs php<ver>-mbstring through apt-get and the
// real `php -m` lists it; `hostfix php max-input-vars set 5000 --sapi cli` makes the real
// php print 5000; second runs change nothing; `hostfix undo` puts the old value back. The
// test removes the mbstring package first (every run starts without it) and leaves the
// machine as it found it (package reinstalled if it was there, purged if it never was).

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/cmd"
	"github.com/hostfix/hostfix/internal/testenv"
	"github.com/hostfix/hostfix/pkg/iostreams"
)

// hostfix runs the CLI in this process with a clean HOSTFIX_* environment.
func hostfix(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	getenv := func(k string) string {
		if strings.HasPrefix(k, "HOSTFIX_") {
			return ""
		}
		return os.Getenv(k)
	}
	code := cmd.Run(context.Background(), args, ios, getenv)
	t.Logf("hostfix %s -> %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	return code, out.String(), errOut.String()
}

func output(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

func debInstalled(pkg string) bool {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", pkg).Output()
	return err == nil && strings.Contains(string(out), "install ok installed")
}

type changeReport struct {
	Changed bool   `json:"changed"`
	RunID   string `json:"run_id"`
	Error   string `json:"error"`
}

func changeJSON(t *testing.T, args ...string) changeReport {
	t.Helper()
	code, out, _ := hostfix(t, append(args, "-o", "json")...)
	var r changeReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("hostfix %s: not JSON (%v): %s", strings.Join(args, " "), err, out)
	}
	if code != 0 {
		t.Fatalf("hostfix %s: exit %d: %s", strings.Join(args, " "), code, r.Error)
	}
	return r
}

func TestIntegrationDebianPHP(t *testing.T) {
	testenv.Integration(t)
	testenv.NeedRoot(t)
	testenv.NeedTool(t, "php", "apt-get", "dpkg-query")
	ver := output(t, nil, "php", "-n", "-r", `echo PHP_MAJOR_VERSION.".".PHP_MINOR_VERSION;`)
	pkg := "php" + ver + "-mbstring"
	if !debInstalled("php" + ver + "-cli") {
		testenv.Skip(t, "needs php"+ver+"-cli from Debian")
	}
	noninteractive := []string{"DEBIAN_FRONTEND=noninteractive"}
	hadPkg := debInstalled(pkg)
	// Never installed (no dpkg record at all): purge at the end, so that not even its
	// conffiles stay; otherwise remove, as before.
	known := exec.Command("dpkg-query", "-W", pkg).Run() == nil
	if hadPkg {
		output(t, noninteractive, "apt-get", "remove", "-y", "-q", pkg)
	}
	t.Cleanup(func() {
		switch {
		case hadPkg:
			output(t, noninteractive, "apt-get", "install", "-y", "-q", pkg)
		case !known:
			output(t, noninteractive, "apt-get", "purge", "-y", "-q", pkg)
		case debInstalled(pkg):
			output(t, noninteractive, "apt-get", "remove", "-y", "-q", pkg)
		}
	})
	if strings.Contains(output(t, nil, "php", "-m"), "\nmbstring\n") {
		t.Fatalf("php -m lists mbstring after removing %s", pkg)
	}

	// The check sees it missing.
	if code, out, _ := hostfix(t, "php", "check"); code != 1 || !strings.Contains(out, "php"+ver+" cli: mbstring is not loaded") {
		t.Errorf("php check: exit %d\n%s", code, out)
	}

	// mbstring install, for real, through apt-get; verified with the CLI's own binary.
	r := changeJSON(t, "php", "mbstring", "install", "--yes")
	if !r.Changed {
		t.Errorf("mbstring install: changed = false")
	}
	if !strings.Contains(output(t, nil, "php", "-m"), "\nmbstring\n") {
		t.Fatalf("php -m does not list mbstring after hostfix php mbstring install")
	}
	if r := changeJSON(t, "php", "mbstring", "install", "--yes"); r.Changed {
		t.Errorf("second mbstring install changed something")
	}
	if code, out, _ := hostfix(t, "php", "check"); code != 0 || !strings.Contains(out, "mbstring loaded everywhere") {
		t.Errorf("php check after the install: exit %d\n%s", code, out)
	}

	// max-input-vars set 5000 for the CLI, read back by the real php.
	iniGet := func() string { return output(t, nil, "php", "-r", `echo ini_get("max_input_vars");`) }
	before := iniGet()
	if before == "5000" {
		t.Fatalf("max_input_vars is already 5000 before the test")
	}
	r = changeJSON(t, "php", "max-input-vars", "set", "5000", "--sapi", "cli", "--yes")
	if !r.Changed || r.RunID == "" {
		t.Fatalf("max-input-vars set: %+v", r)
	}
	runID := r.RunID
	undone := false
	t.Cleanup(func() {
		if !undone {
			hostfix(t, "undo", runID)
		}
	})
	if got := iniGet(); got != "5000" {
		t.Errorf("php -r ini_get(max_input_vars) = %q after set 5000", got)
	}
	dropIn := "/etc/php/" + ver + "/cli/conf.d/99-hostfix.ini"
	if _, err := os.Stat(dropIn); err != nil {
		t.Errorf("drop-in: %v", err)
	}
	if r := changeJSON(t, "php", "max-input-vars", "set", "5000", "--sapi", "cli", "--yes"); r.Changed {
		t.Errorf("second max-input-vars set changed something")
	}
	if code, _, errOut := hostfix(t, "php", "max-input-vars", "set", "4000", "--sapi", "cli", "--yes"); code != 2 || !strings.Contains(errOut, "add --force") {
		t.Errorf("lowering without --force: exit %d %s", code, errOut)
	}

	// undo puts the previous value back and removes the drop-in.
	if code, _, _ := hostfix(t, "undo", runID); code != 0 {
		t.Fatalf("undo %s: exit %d", runID, code)
	}
	undone = true
	if got := iniGet(); got != before {
		t.Errorf("after undo max_input_vars = %q, want %q", got, before)
	}
	if _, err := os.Stat(dropIn); !os.IsNotExist(err) {
		t.Errorf("drop-in still there after undo: %v", err)
	}
}
