// Package plan is the one dry-run/exec layer of hostfix. A runbook reads the host and
// builds a Plan: an ordered list of Actions, pure data, each emitted only when it would
// change something. The same Plan is rendered by --dry-run (summary, diffs, secrets masked)
// and executed by Apply, which takes the run lock, re-checks each action against the state
// it was planned on, backs up what it changes under the run's backup directory (with a
// manifest), writes files atomically (mode, owner, xattrs and symlinks kept), runs
// triggered service handlers once at the end, always runs Finally actions, rolls back on
// failure and appends the run to the audit log. History lists recorded runs and Undo builds
// the plan that puts a run's changes back.
//
// Runbooks must not write files, remove paths or run commands themselves; this package must
// not know about any runbook, and it reaches the host only through system.Host (so --root
// confines it) and system.Runner (argv only, never a shell). See docs/safety.md.
package plan
