package plan

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hostfix/hostfix/pkg/system"
)

// Options configure one apply.
type Options struct {
	Host   *system.Host
	Config Config
	// NoBackup removes files outright instead of moving them into the backup (the user asked
	// for it with --no-backup); edited files are always backed up.
	NoBackup bool
	// CommandLine is recorded in the audit log.
	CommandLine []string
	// Log receives progress lines (stderr); nil discards.
	Log io.Writer
}

// Run is the state of one apply, handed to each action.
type Run struct {
	ID        string
	Host      *system.Host
	BackupDir string // host path of this run's backup directory
	NoBackup  bool
	Log       io.Writer
}

// StaleError says the host changed between planning and applying.
type StaleError struct {
	Target string
	Reason string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s changed since planned (%s); nothing more was changed — run the command again to re-plan", e.Target, e.Reason)
}

// ErrNotImplemented is returned by parts of the layer still being built.
var ErrNotImplemented = errors.New("plan: not implemented yet")

// Apply executes p: lock, verify, back up, change, handlers, finally, audit log.
func Apply(ctx context.Context, p *Plan, o Options) (*Report, error) {
	return nil, ErrNotImplemented
}
