package plan

// The action constructors runbooks build plans with, and the actions they return. A
// constructor reads the host (through system.Host, under --root) to compute what would
// change and returns a nil Action when nothing would; the action's Apply re-checks that
// state (Verify), saves what it replaces in the run's backup, then changes the host.

import (
	"context"
)

// Outcomer is implemented by actions that know after Apply whether they changed anything
// and how to say what they did. An action without it counts as changed once applied.
type Outcomer interface {
	Outcome() (changed bool, detail string)
}

// Rollbacker is implemented by actions that can put back what this run's Apply changed.
// It returns what it restored, for the report ("" when there was nothing to restore).
// Files the action saved with Run.BackupFile are restored by the plan layer anyway.
type Rollbacker interface {
	Rollback(ctx context.Context, r *Run) (string, error)
}
