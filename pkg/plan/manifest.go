package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Manifest entry actions. Each line of a run's manifest.jsonl is one Entry.
const (
	EntryEdit        = "edit"         // an existing file was replaced; Backup holds the old content
	EntryCreate      = "create"       // a file was created; undo removes it
	EntryRemoveFiles = "remove_files" // header of a bulk removal: Path is the directory, Backup the tree it went to
	EntryRemove      = "remove"       // one file moved into the backup (Backup)
	EntryDelete      = "delete"       // one file deleted outright (--no-backup): recorded, not restorable
	EntryMove        = "move"         // Path was renamed to To
	EntrySysctl      = "sysctl"       // Key changed from Old to New
	EntryWritten     = "written"      // what a runbook-owned action left at Path (NewSHA256, or Removed) after saving it with Run.BackupFile
	EntryRemoveDir   = "remove_dir"   // the directory Path was moved into Backup (RemoveDir)
	EntryMkdir       = "mkdir"        // the directory Path was created by the run (EditFile/Move parents); undo removes it if empty
	EntryUndoCommand = "undo_command" // a command an undo runs (Run.RecordUndoCommand): Args, Env, Key, Detected, Stdin, Detail
	EntryTimes       = "times"        // the times of Path were set (SetTimes): old ATimeNS/MTimeNS, the NewMTimeNS written
)

// Entry is one line of a run's manifest: what was changed and how to put it back.
type Entry struct {
	Action string `json:"action"`
	Path   string `json:"path,omitempty"` // system path (the real file, after symlinks)
	To     string `json:"to,omitempty"`   // move destination
	Key    string `json:"key,omitempty"`  // sysctl key
	Old    string `json:"old,omitempty"`  // sysctl value before
	New    string `json:"new,omitempty"`  // sysctl value written
	Mode   string `json:"mode,omitempty"` // octal permission bits, "0644"
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Size   int64  `json:"size,omitempty"`
	// SHA256 is the checksum of the content before the change; NewSHA256 of the content
	// the run wrote. Undo compares the file with NewSHA256 to see if it changed since.
	SHA256    string `json:"sha256,omitempty"`
	NewSHA256 string `json:"new_sha256,omitempty"`
	// Backup is the saved copy, relative to the run's backup directory.
	Backup string `json:"backup,omitempty"`
	Secret bool   `json:"secret,omitempty"`
	// Removed (on a "written" entry) says the action left no file at Path.
	Removed bool `json:"removed,omitempty"`
	// An undo_command entry: the command (Key is its config key), its stdin, the line the
	// undo plan shows, and For, the step of the run that recorded it ("command postsuper -h -").
	Args     []string `json:"args,omitempty"`
	Env      []string `json:"env,omitempty"`
	Detected bool     `json:"detected,omitempty"`
	Stdin    []byte   `json:"stdin,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	For      string   `json:"for,omitempty"`
	// Harmless are regular expressions of the lines a failing undo command prints when
	// what it takes back is taken back already (exim -Mt: "Message X is not frozen").
	Harmless []string `json:"harmless,omitempty"`
	// A times entry: the access and modification times before (Unix nanoseconds) and the
	// modification time the run set (undo compares the file with it).
	ATimeNS    int64 `json:"atime_ns,omitempty"`
	MTimeNS    int64 `json:"mtime_ns,omitempty"`
	NewMTimeNS int64 `json:"new_mtime_ns,omitempty"`
}

// FileMode returns the entry's mode as a Go file mode.
func (e Entry) FileMode() (os.FileMode, error) {
	u, err := strconv.ParseUint(e.Mode, 8, 32)
	if err != nil || u > 0o7777 {
		return 0, fmt.Errorf("bad mode %q", e.Mode)
	}
	return goMode(uint32(u)), nil
}

// ParseManifestLine parses and validates one manifest line. It refuses anything a restore
// could be tricked by: relative or unclean system paths, and a backup path leaving the run
// directory.
func ParseManifestLine(line []byte) (Entry, error) {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&e); err != nil {
		// The decoder's words (invalid character, Go struct field) help no one here.
		return Entry{}, errors.New("manifest line: not a manifest entry: the file is damaged (undo cannot trust it; restore by hand from the run's files/ directory)")
	}
	if dec.More() {
		return Entry{}, errors.New("manifest line: trailing data")
	}
	// Empty lists are no lists (as they are written: omitempty).
	if len(e.Args) == 0 {
		e.Args = nil
	}
	if len(e.Env) == 0 {
		e.Env = nil
	}
	if len(e.Stdin) == 0 {
		e.Stdin = nil
	}
	if len(e.Harmless) == 0 {
		e.Harmless = nil
	}
	checkPath := func(what, p string) error {
		if p == "" || !systemAbs(p, runtime.GOOS == "windows") || filepath.Clean(p) != p {
			return fmt.Errorf("manifest line: %s %q is not a clean absolute path", what, p)
		}
		return nil
	}
	switch e.Action {
	case EntryEdit, EntryRemove:
		if err := checkPath("path", e.Path); err != nil {
			return Entry{}, err
		}
		if e.Backup == "" {
			return Entry{}, fmt.Errorf("manifest line: %s %s without a backup", e.Action, e.Path)
		}
		if _, err := e.FileMode(); err != nil {
			return Entry{}, fmt.Errorf("manifest line: %s: %w", e.Path, err)
		}
	case EntryCreate, EntryDelete, EntryRemoveFiles, EntryWritten, EntryMkdir, EntryTimes:
		if err := checkPath("path", e.Path); err != nil {
			return Entry{}, err
		}
	case EntryRemoveDir:
		if err := checkPath("path", e.Path); err != nil {
			return Entry{}, err
		}
		if e.Backup == "" {
			return Entry{}, fmt.Errorf("manifest line: %s %s without a backup", e.Action, e.Path)
		}
	case EntryMove:
		if err := checkPath("path", e.Path); err != nil {
			return Entry{}, err
		}
		if err := checkPath("to", e.To); err != nil {
			return Entry{}, err
		}
	case EntryUndoCommand:
		if len(e.Args) == 0 || e.Args[0] == "" {
			return Entry{}, errors.New("manifest line: undo_command without a command")
		}
		if _, err := compileHarmless(e.Harmless); err != nil {
			return Entry{}, fmt.Errorf("manifest line: undo_command: %w", err)
		}
	case EntrySysctl:
		if e.Key == "" || strings.ContainsAny(e.Key, "/\x00") || strings.Contains(e.Key, "..") {
			return Entry{}, fmt.Errorf("manifest line: bad sysctl key %q", e.Key)
		}
	default:
		return Entry{}, fmt.Errorf("manifest line: unknown action %q", e.Action)
	}
	if e.Path != "" {
		if err := checkPath("path", e.Path); err != nil {
			return Entry{}, err
		}
	}
	if e.Backup != "" {
		b := filepath.Clean(e.Backup)
		if filepath.IsAbs(b) || systemAbs(b, runtime.GOOS == "windows") || b == "." || b == ".." ||
			strings.HasPrefix(b, "../") || strings.HasPrefix(b, ".."+string(filepath.Separator)) || b != e.Backup {
			return Entry{}, fmt.Errorf("manifest line: backup %q leaves the run directory", e.Backup)
		}
	}
	return e, nil
}

// ReadManifest reads a run's manifest. A bad last line (the run was killed while writing
// it) is left out and reported by cut; a bad line anywhere else is an error.
func ReadManifest(path string) (entries []Entry, cut bool, err error) {
	return readManifest(path, path)
}

func readManifest(path, display string) ([]Entry, bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	var out []Entry
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := ParseManifestLine(line)
		if err != nil {
			if i == len(lines)-1 {
				return out, true, nil
			}
			return nil, false, fmt.Errorf("%s:%d: %w", display, i+1, err)
		}
		out = append(out, e)
	}
	return out, false, nil
}

// RunInfo is run.json in a run's backup directory, written before anything changes, so an
// interrupted run (no audit line) can still be listed and undone.
type RunInfo struct {
	ID          string    `json:"run_id"`
	Time        time.Time `json:"time"`
	User        string    `json:"user"`
	Command     string    `json:"command"`
	CommandLine []string  `json:"command_line"`
	NoBackup    bool      `json:"no_backup,omitempty"`
	Undoes      string    `json:"undoes,omitempty"`
	// Around are the service steps the run did around its changes (stop, wait for a lock
	// before them; start in Finally), and Handlers the handlers its actions could trigger:
	// an undo of the run repeats them around the restore.
	Around   []RecordedStep `json:"around,omitempty"`
	Handlers []RecordedStep `json:"handlers,omitempty"`
}

// RecordedStep is a service step or handler as run.json keeps it.
type RecordedStep struct {
	Kind      Kind          `json:"kind"`  // service, wait_unlock
	Phase     string        `json:"phase"` // "action" (before the changes), "finally" or "handler"
	Name      string        `json:"name"`  // service or handler name, or the lock file
	Operation string        `json:"operation,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	Args      []string      `json:"args,omitempty"`
	Env       []string      `json:"env,omitempty"`
	Key       string        `json:"key,omitempty"`
	Detected  bool          `json:"detected,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"` // wait_unlock
}

func (s RecordedStep) argv() Argv {
	return Argv{Args: s.Args, Env: s.Env, Key: s.Key, Detected: s.Detected}
}

// recordAround lists the steps an undo of p repeats: the service and lock-wait actions
// before p's first other action, p's Finally service steps, and its handlers that an
// action notifies.
func recordAround(p *Plan) (around, handlers []RecordedStep) {
	rec := func(a Action, phase string) (RecordedStep, bool) {
		switch x := a.(type) {
		case *commandAction:
			if x.desc.Kind != KindService {
				return RecordedStep{}, false
			}
			return RecordedStep{Kind: KindService, Phase: phase, Name: x.desc.Target, Operation: x.desc.Operation,
				Args: x.cmd.Args, Env: x.cmd.Env, Key: x.cmd.Key, Detected: x.cmd.Detected}, true
		case *waitUnlockAction:
			return RecordedStep{Kind: KindWaitUnlock, Phase: phase, Name: x.path, Timeout: x.timeout}, true
		}
		return RecordedStep{}, false
	}
	notified := map[string]bool{}
	leading := true
	for _, a := range p.Actions {
		for _, n := range a.Describe().Notify {
			notified[n] = true
		}
		if !leading {
			continue
		}
		if s, ok := rec(a, "action"); ok {
			around = append(around, s)
		} else {
			leading = false
		}
	}
	for _, a := range p.Finally {
		if s, ok := rec(a, "finally"); ok {
			around = append(around, s)
		}
	}
	for _, hd := range p.Handlers {
		if notified[hd.Name] {
			handlers = append(handlers, RecordedStep{Kind: KindService, Phase: "handler", Name: hd.Name, Detail: hd.Detail,
				Args: hd.Command.Args, Env: hd.Command.Env, Key: hd.Command.Key, Detected: hd.Command.Detected})
		}
	}
	return around, handlers
}

// manifest appends entries to a run's manifest.jsonl through a buffer. Edits sync it before
// each change (the entry is the promise undo relies on); bulk removals only flush at the
// end, because undo finds moved files by walking the backup tree anyway.
type manifest struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
	err error
}

func openManifest(path string) (*manifest, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &manifest{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (m *manifest) add(e Entry) {
	if m == nil || m.err != nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		m.err = err
		return
	}
	b = append(b, '\n')
	_, m.err = m.w.Write(b)
}

// addFile is the fast path for one bulk-removal entry: no reflection, ~1 µs.
func (m *manifest) addFile(action, path, backup string, mode os.FileMode, uid, gid int, size int64) {
	if m == nil || m.err != nil {
		return
	}
	b := m.buf[:0]
	b = append(b, `{"action":"`...)
	b = append(b, action...)
	b = append(b, `","path":`...)
	b = appendJSONString(b, path)
	b = append(b, `,"mode":"`...)
	b = appendOctal(b, unixMode(mode))
	b = append(b, `","uid":`...)
	b = strconv.AppendInt(b, int64(uid), 10)
	b = append(b, `,"gid":`...)
	b = strconv.AppendInt(b, int64(gid), 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, size, 10)
	if backup != "" {
		b = append(b, `,"backup":`...)
		b = appendJSONString(b, backup)
	}
	b = append(b, "}\n"...)
	m.buf = b
	_, m.err = m.w.Write(b)
}

func appendOctal(b []byte, u uint32) []byte {
	s := strconv.FormatUint(uint64(u), 8)
	for i := len(s); i < 4; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendJSONString quotes s as JSON; plain ASCII (every queue file name) takes the fast path.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// sync flushes the buffer and fsyncs the file.
func (m *manifest) sync() error {
	if m == nil {
		return nil
	}
	if m.err != nil {
		return fmt.Errorf("write manifest: %w", m.err)
	}
	if err := m.w.Flush(); err != nil {
		m.err = err
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("fsync manifest: %w", err)
	}
	return nil
}

func (m *manifest) close() error {
	if m == nil {
		return nil
	}
	err := m.sync()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// systemAbs says whether p is a system path as manifests hold them: absolute on the host.
// On Windows the Root is a drive (C:\ for the live system) and a path inside it is kept
// without its volume, as \Program Files\SmarterMail: rooted, which filepath.IsAbs does
// not call absolute there. A UNC path (\\server\share) is absolute as it is; a path on
// another drive never gets into a manifest (it is outside the Root).
func systemAbs(p string, windows bool) bool {
	if !windows {
		return strings.HasPrefix(p, "/")
	}
	if len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		c := p[0] | 0x20
		return c >= 'a' && c <= 'z'
	}
	return strings.HasPrefix(p, `\`) || strings.HasPrefix(p, "/")
}
