package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hostfix/hostfix/pkg/system"
)

// failRunner fails every command with output on both streams, the way apt-get does.
type failRunner struct{ ran []string }

func (f *failRunner) Run(_ context.Context, c system.Cmd) (system.Result, error) {
	f.ran = append(f.ran, c.String())
	res := system.Result{ExitCode: 100, Stdout: []byte("Reading package lists...\nBuilding dependency tree...\n"),
		Stderr: []byte("E: Unable to locate package php9.9-mbstring\nE: give up\n")}
	return res, &system.ExitError{Cmd: c, Result: res}
}

func TestNotifyWrapsAnyAction(t *testing.T) {
	tr := newTree(t)
	tr.write("/etc/x/old.conf", "x", 0o644)
	rm := tr.must(RemoveFiles(tr.h, []File{{Path: "/etc/x/old.conf"}}, RemoveOptions{Within: "/etc/x", Label: "old"}))
	p := New("test notify")
	p.Add(Notify(rm, "reload"))
	p.Handle("reload", cf("reload-it"), "reload it")
	if d := p.Actions[0].Describe(); strings.Join(d.Notify, ",") != "reload" {
		t.Fatalf("Notify: %v", d.Notify)
	}
	rec := &system.Recorder{}
	tr.h.Runner = rec
	rep := tr.mustApply(p)
	if got := strings.Join(rec.Commands(), ";"); got != "reload-it" {
		t.Fatalf("handler runs: %q (report %s)", got, text(rep))
	}
	if tr.exists("/etc/x/old.conf") {
		t.Fatal("file not removed")
	}
	if Notify(nil, "x") != nil {
		t.Fatal("Notify(nil) is not nil")
	}
}

func TestNotifyKeepsTheRootCommandRule(t *testing.T) {
	tr := newTree(t)
	p := New("test notify")
	p.Add(Notify(InstallPackages(Detected("php.package_manager", []string{"apt-get", "install", "-y"}), "php8.2-mbstring"), "restart"))
	p.Handle("restart", cf("restart-fpm"), "restart fpm")
	_, err := tr.apply(p)
	var re *RuleError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "detected, not run under --root: set php.package_manager") {
		t.Fatalf("a wrapped detected command under --root: %v", err)
	}
	if out := text(PreviewOn(p, tr.h)); !strings.Contains(out, "[detected, not run under --root: set php.package_manager]") {
		t.Fatalf("preview does not mark the wrapped command:\n%s", out)
	}
}

func TestCommandFailureShowsLastLines(t *testing.T) {
	tr := newTree(t)
	fr := &failRunner{}
	tr.h.Runner = fr
	p := New("test install")
	p.Add(InstallPackages(cf("apt-get", "install", "-y"), "php9.9-mbstring"))
	rep, err := tr.apply(p)
	if err == nil {
		t.Fatal("no error")
	}
	want := "php9.9-mbstring: exit status 100: Reading package lists... | Building dependency tree... | E: Unable to locate package php9.9-mbstring | E: give up"
	if !strings.Contains(err.Error(), want) || !strings.Contains(rep.Error, "E: Unable to locate package") {
		t.Fatalf("error %q\nwant it to contain %q", err, want)
	}
	if got := LastLines(system.Result{}, 3); got != "(no output)" {
		t.Fatalf("LastLines of nothing: %q", got)
	}
}
