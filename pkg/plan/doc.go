// Package plan is the one dry-run/exec layer of hostfix. A runbook reads the host and
// builds a Plan: an ordered list of Actions, pure data, each emitted only when it would
// change something. The same Plan is rendered by --dry-run (summary, diffs, secrets masked)
// and executed by Apply, which takes the run lock, re-checks each action against the state
// it was planned on, backs up what it changes under the run's backup directory, writes
// files atomically (mode, owner and symlinks kept), runs triggered service handlers once at
// the end, always runs Finally actions, rolls back on failure and appends the run to the
// audit log. Runbooks must not write files, remove paths or run commands themselves.
package plan
