package plan

// API of the action constructors. Bodies are being written (see the plan-layer issue);
// the signatures are the contract runbooks code against.

import (
	"io/fs"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// EditOptions tune EditFile.
type EditOptions struct {
	// Mode for a file that does not exist yet (default 0644). An existing file keeps its own
	// mode and owner.
	Mode fs.FileMode
	// Secret masks the whole content in diffs and JSON.
	Secret bool
	// Validate is an argv run on the new content before it replaces the file; "{}" in it is
	// replaced by the temp file's path. A non-zero exit leaves the file untouched.
	Validate []string
	// Notify names handlers to trigger when the file changes.
	Notify []string
	// Detail is the one-line reason shown with the action.
	Detail string
}

// EditFile plans a write of the system path from transform(old). exists is false when the
// file is missing (old is then nil) and the file will be created. It returns a nil Action
// when the new content equals the old (nothing to do).
func EditFile(h *system.Host, path string, transform func(old []byte, exists bool) ([]byte, error), o EditOptions) (Action, error) {
	return nil, ErrNotImplemented
}

// File is one file of a bulk removal, with its size for the summary.
type File struct {
	Path string // system path
	Size int64
}

// RemoveOptions tune RemoveFiles.
type RemoveOptions struct {
	// Within is the directory every file must be inside (a system path); anything outside,
	// a symlink or a non-regular file is refused.
	Within string
	// Label says what the files are ("3 messages"), shown instead of 100,000 paths.
	Label string
	// MissingOK accepts files that vanished since planning (a queue being delivered).
	MissingOK bool
	// Sample is how many paths the dry-run lists (default 5).
	Sample int
}

// RemoveFiles plans removing regular files; nil when files is empty. With backups on, the
// files are moved (renamed, same filesystem) into the run's backup directory.
func RemoveFiles(h *system.Host, files []File, o RemoveOptions) (Action, error) {
	return nil, ErrNotImplemented
}

// Move plans renaming a system path.
func Move(h *system.Host, from, to string) (Action, error) {
	return nil, ErrNotImplemented
}

// SetSysctl plans writing a kernel parameter live (/proc/sys/<key with / for .>) and reading
// it back; nil when the live value already equals value.
func SetSysctl(h *system.Host, key, value string) (Action, error) {
	return nil, ErrNotImplemented
}

// Command plans running an argv. It cannot be previewed.
func Command(argv []string, detail string) Action {
	return nil
}

// InstallPackages plans installing packages with the given package-manager argv prefix
// (e.g. ["apt-get", "install", "-y"]).
func InstallPackages(manager []string, packages ...string) Action {
	return nil
}

// Service plans a service operation at this point of the plan (e.g. stop qmail before a
// purge). For restarts after changes, use Plan.Handle and EditOptions.Notify instead.
func Service(name, operation string, argv []string) Action {
	return nil
}

// WaitUnlock plans waiting until no process holds an flock on the system path (e.g. qmail's
// lock/sendmutex after stopping qmail-send), up to timeout.
func WaitUnlock(h *system.Host, path string, timeout time.Duration) Action {
	return nil
}
