package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hostfix/hostfix/pkg/plan"
)

// planCmd is a test change command: it plans writing "new" to the system path --file and
// applies it through App.ApplyPlan.
func planCmd(app *App) *cobra.Command {
	var file, validate string
	var destructive, empty bool
	c := &cobra.Command{
		Use:         "plan-test",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{kindKey: kindChange},
		RunE: func(c *cobra.Command, _ []string) error {
			p := plan.New("plan-test")
			if !empty {
				a, err := plan.EditFile(app.Host(), file, func([]byte, bool) ([]byte, error) { return []byte("new\n"), nil },
					plan.EditOptions{Validate: strings.Fields(validate)})
				if err != nil {
					return err
				}
				p.Add(a)
			}
			return app.ApplyPlan(c.Context(), p, ApplyOptions{Destructive: destructive, Question: "really write " + file + "?"})
		},
	}
	c.Flags().StringVar(&file, "file", "/etc/a.conf", "")
	c.Flags().BoolVar(&destructive, "destructive", false, "")
	c.Flags().BoolVar(&empty, "empty", false, "")
	c.Flags().StringVar(&validate, "validate", "", "")
	return c
}

func TestApplyPlan(t *testing.T) {
	h := newHarness(t, planCmd)
	root := h.env["HOSTFIX_ROOT"]
	target := filepath.Join(root, "etc/a.conf")
	os.MkdirAll(filepath.Dir(target), 0o755)
	os.WriteFile(target, []byte("old\n"), 0o644)
	content := func() string { b, _ := os.ReadFile(target); return string(b) }

	r := h.run("plan-test", "--empty")
	if r.code != 0 || r.stdout != "plan-test: nothing to do\n" {
		t.Errorf("empty plan: %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = h.run("plan-test", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "plan-test (dry run, nothing changed): 0 to add, 1 to change") ||
		!strings.Contains(r.stdout, "+new") || content() != "old\n" {
		t.Errorf("dry-run: %d %q %q", r.code, r.stdout, r.stderr)
	}

	r = h.run("plan-test", "--dry-run", "-o", "json")
	var rep plan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.DryRun || !rep.Changed || len(rep.Actions) != 1 {
		t.Errorf("dry-run json: %v %+v", err, rep)
	}

	// A failing validator: exit 1, the report on stdout says it, stderr has no second message.
	r = h.run("plan-test", "--validate", "false {}")
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED") || r.stderr != "" || content() != "old\n" {
		t.Errorf("failed apply: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// Destructive without --yes and without a terminal: refused, nothing changed.
	r = h.run("plan-test", "--destructive")
	if r.code != 2 || !strings.Contains(r.stderr, "really write /etc/a.conf? needs confirmation") || content() != "old\n" {
		t.Errorf("unconfirmed: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// At a terminal, "n" declines.
	h.tty, h.in = true, "n\n"
	r = h.run("plan-test", "--destructive")
	if r.code != 1 || !strings.Contains(r.stderr, "not confirmed") || content() != "old\n" {
		t.Errorf("declined: %d %q %q", r.code, r.stdout, r.stderr)
	}
	h.tty, h.in = true, "y\n"
	r = h.run("plan-test", "--destructive", "--validate", "true {}")
	if r.code != 0 || !strings.Contains(r.stdout, "plan-test: 0 added, 1 changed") || content() != "new\n" {
		t.Errorf("confirmed: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestApplyPlanNeedsRootOnLiveHost(t *testing.T) {
	old := geteuid
	geteuid = func() int { return 1000 }
	t.Cleanup(func() { geteuid = old })
	h := newHarness(t, planCmd)
	h.env["HOSTFIX_ROOT"] = "" // the live system
	file := "/nonexistent-hostfix-test/a.conf"
	r := h.run("plan-test", "--file", file)
	if r.code != 2 || !strings.Contains(r.stderr, "plan-test changes the live system and needs root") {
		t.Errorf("non-root: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("file created")
	}
	// Dry-run still works.
	r = h.run("plan-test", "--file", file, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "+ edit_file "+file) {
		t.Errorf("non-root dry-run: %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestUndoNeedsRootOnLiveHost(t *testing.T) {
	old := geteuid
	geteuid = func() int { return 1000 }
	t.Cleanup(func() { geteuid = old })
	h := newHarness(t)
	h.env["HOSTFIX_ROOT"] = ""
	r := h.run("undo")
	if r.code != 2 || !strings.Contains(r.stderr, "undo changes the live system and needs root") {
		t.Errorf("non-root undo: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
