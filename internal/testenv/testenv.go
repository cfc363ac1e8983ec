package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether integration tests must run (CI).
func Required() bool { return os.Getenv("HOSTFIX_REQUIRE_INTEGRATION") == "1" }

// Skip skips the test, or fails it when integration tests are required.
func Skip(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("integration test cannot run: %s (HOSTFIX_REQUIRE_INTEGRATION=1)", why)
	}
	t.Skip(why)
}

// NeedRoot skips unless running as root.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root")
	}
}

// NeedTool skips unless every named program is on PATH, returning their paths.
func NeedTool(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, 0, len(names))
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			Skip(t, "needs "+n+" on PATH")
		}
		paths = append(paths, p)
	}
	return paths
}

// Integration skips in -short mode unless required; integration tests call it first.
func Integration(t testing.TB) {
	t.Helper()
	if testing.Short() && !Required() {
		t.Skip("integration test skipped in -short mode")
	}
}
