package plan

import (
	"context"
)

// Kind names an action kind in the output contract.
type Kind string

const (
	KindEditFile        Kind = "edit_file"
	KindRemoveFiles     Kind = "remove_files"
	KindMove            Kind = "move"
	KindSysctl          Kind = "sysctl"
	KindCommand         Kind = "command"
	KindInstallPackages Kind = "install_packages"
	KindService         Kind = "service"
	KindWaitUnlock      Kind = "wait_unlock"
	KindRestore         Kind = "restore"
	KindRemoveDir       Kind = "remove_dir"
	KindVerify          Kind = "verify"
	KindCustom          Kind = "custom" // a runbook-owned action may use its own kind
	KindCopyTree        Kind = "copy_tree"
	KindSetTimes        Kind = "set_times"
)

// Op is the summary symbol of an action: + add, ~ change, - remove, ! run (not previewable).
type Op string

const (
	OpAdd    Op = "+"
	OpChange Op = "~"
	OpRemove Op = "-"
	OpRun    Op = "!"
)

// Description is what an action shows in a dry-run and in the report. It is computed when
// the action is planned and does not change when it is applied.
type Description struct {
	Kind   Kind
	Op     Op
	Target string // host path, sysctl key, service name or command line
	Detail string // one line for a human
	Diff   string // unified diff for files; secrets already masked
	// Previewable is false for actions whose effect hostfix cannot show in advance
	// (an arbitrary command): dry-run says "cannot be previewed".
	Previewable bool
	// Notify names handlers (service restarts) to run once at the end if this changed.
	Notify []string
	// Count and Bytes summarise bulk removals.
	Count int64
	Bytes int64
	// Sample lists a few of a bulk removal's paths, so a dry-run shows what kind of files go.
	Sample []string
	// Operation is a service step's operation ("stop"), for messages.
	Operation string
}

// Action is one change. Most come from this package's constructors (EditFile, SetSysctl,
// RemoveFiles, …); a runbook may implement one itself (see docs/architecture.md): it
// reads and writes only through r.Host, saves every file it changes with r.BackupFile
// before changing it (so rollback and undo restore it), and may implement Outcomer and
// Rollbacker.
type Action interface {
	Describe() Description
	// Verify checks that the state the action was planned against still holds (file
	// checksum, live value); it returns a *StaleError when it does not.
	Verify(ctx context.Context, r *Run) error
	// Apply changes the host, saving in r's backup what it changes before changing it.
	Apply(ctx context.Context, r *Run) error
}

// Handler is a service restart or reload triggered by actions' Notify, run once, at the end
// of a run, only if a notifying action changed something (Ansible handler semantics).
type Handler struct {
	Name    string
	Command Argv
	Detail  string
}

// Plan is an ordered list of changes for one command.
type Plan struct {
	Command  string
	Actions  []Action
	Handlers []Handler
	// Finally actions run at the end of every apply, also after a failure
	// (e.g. start qmail again). They are shown in the dry-run too.
	Finally []Action
	// Notes are facts the runbook wants shown with the plan (e.g. which network namespace).
	Notes []string
	// Secrets are strings masked wherever the plan is shown.
	Secrets []string
	// Undoes is the run id an undo plan reverts (set by Undo), kept in the audit log.
	Undoes string
	// Verifies are checks run after the handlers (Plan.Verify).
	Verifies []VerifyStep
}

// VerifyStep is a check run after the changes and handlers; see Plan.Verify.
type VerifyStep struct {
	Detail string
	Check  func(ctx context.Context, r *Run) error
}

// Verify adds a check run after the handlers, once every action applied: its error fails
// the run — the whole plan is rolled back, the handlers re-run on the old state, and the
// run is recorded as failed (exit 1). A dry-run shows "verify: <detail>". A runbook
// skips a check that needs the live system under --root itself (with a p.Note instead).
func (p *Plan) Verify(detail string, fn func(ctx context.Context, r *Run) error) {
	if fn != nil {
		p.Verifies = append(p.Verifies, VerifyStep{Detail: detail, Check: fn})
	}
}

// New starts an empty plan for a command ("synflood fix").
func New(command string) *Plan { return &Plan{Command: command} }

// Add appends actions; nil actions (nothing to change) are dropped, so builders can pass the
// constructors' results straight in.
func (p *Plan) Add(actions ...Action) {
	for _, a := range actions {
		if a != nil {
			p.Actions = append(p.Actions, a)
		}
	}
}

// AddFinally appends actions that always run at the end of an apply.
func (p *Plan) AddFinally(actions ...Action) {
	for _, a := range actions {
		if a != nil {
			p.Finally = append(p.Finally, a)
		}
	}
}

// Handle registers a handler (name -> command) that actions can Notify; the first
// registration of a name wins. An empty a.Args is "not set": Apply refuses a plan that
// would need it (the --root command rule, see CheckCommands).
func (p *Plan) Handle(name string, a Argv, detail string) {
	for _, h := range p.Handlers {
		if h.Name == name {
			return
		}
	}
	p.Handlers = append(p.Handlers, Handler{Name: name, Command: a, Detail: detail})
}

// Note adds a line shown with the plan.
func (p *Plan) Note(format string) { p.Notes = append(p.Notes, format) }

// Empty reports whether there is nothing to change. Finally actions alone do not count:
// a plan whose only actions are wrappers (stop/start) around nothing is nothing to do, and
// runbooks should then not add them.
func (p *Plan) Empty() bool { return len(p.Actions) == 0 }
