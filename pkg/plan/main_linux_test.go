package plan

import (
	"os"
	"testing"
)

// TestMain lets the test binary double as the helper process that an integration test
// kills with SIGKILL in the middle of an apply.
func TestMain(m *testing.M) {
	if root := os.Getenv(helperEnv); root != "" {
		killHelper(root)
		os.Exit(3)
	}
	os.Exit(m.Run())
}
