package plan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/hostfix/hostfix/pkg/system"
)

// Results of a run in the audit log.
const (
	ResultOK         = "ok"
	ResultFailed     = "failed"      // an action failed; this run's changes were rolled back
	ResultStale      = "stale"       // the host changed since planning; stopped before changing more
	ResultIncomplete = "incomplete"  // no audit line: the run was killed or is still running
	ResultNotChanged = "not_changed" // applied, but nothing needed changing after all
)

// HistoryEntry is one line of the audit log (Config.HistoryFile).
type HistoryEntry struct {
	Time        time.Time       `json:"time"`
	User        string          `json:"user"`
	CommandLine []string        `json:"command_line"`
	Command     string          `json:"command"`
	RunID       string          `json:"run_id"`
	Undoes      string          `json:"undoes,omitempty"`
	BackupDir   string          `json:"backup_dir"`
	Result      string          `json:"result"`
	Error       string          `json:"error,omitempty"`
	Restored    []string        `json:"restored,omitempty"`
	Actions     []HistoryAction `json:"actions"`
}

// HistoryAction is an action as the audit log keeps it (no diffs: they may hold secrets).
type HistoryAction struct {
	Kind    Kind   `json:"kind"`
	Op      Op     `json:"op"`
	Target  string `json:"target"`
	Phase   string `json:"phase"`
	Changed bool   `json:"changed"`
	Count   int64  `json:"count,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ChangedTargets lists the targets this run changed, in order, without repeats.
func (e HistoryEntry) ChangedTargets() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range e.Actions {
		if a.Changed && a.Phase == "action" && !seen[a.Target] {
			seen[a.Target] = true
			out = append(out, a.Target)
		}
	}
	return out
}

func historyOf(info RunInfo, rep *Report) HistoryEntry {
	e := HistoryEntry{Time: info.Time, User: info.User, CommandLine: info.CommandLine, Command: info.Command,
		RunID: info.ID, Undoes: info.Undoes, BackupDir: rep.BackupDir, Result: ResultOK, Error: rep.Error, Restored: rep.Restored,
		Actions: []HistoryAction{}}
	if e.CommandLine == nil {
		e.CommandLine = []string{}
	}
	for _, a := range rep.Actions {
		e.Actions = append(e.Actions, HistoryAction{Kind: a.Kind, Op: a.Op, Target: a.Target, Phase: a.Phase,
			Changed: a.Changed, Count: a.Count, Bytes: a.Bytes, Error: a.Error})
	}
	var stale *StaleError
	switch {
	case rep.Error != "" && errors.As(rep.stale, &stale):
		e.Result = ResultStale
	case rep.Error != "":
		e.Result = ResultFailed
	case !rep.Changed:
		e.Result = ResultNotChanged
	}
	return e
}

// appendHistory appends one line to the audit log. O_APPEND keeps concurrent writers'
// lines whole (one write each, well under PIPE_BUF is not needed for regular files).
func appendHistory(h *system.Host, cfg Config, e HistoryEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	path, err := hostPath(h, cfg.HistoryFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var runIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4,}$`)

// ValidRunID reports whether s looks like a run id (it names a directory: no paths).
func ValidRunID(s string) bool { return runIDPattern.MatchString(s) }

// ParseHistoryLine parses one audit-log line.
func ParseHistoryLine(line []byte) (HistoryEntry, error) {
	var e HistoryEntry
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&e); err != nil {
		return HistoryEntry{}, fmt.Errorf("history line: %w", err)
	}
	if dec.More() {
		return HistoryEntry{}, errors.New("history line: trailing data")
	}
	if !ValidRunID(e.RunID) {
		return HistoryEntry{}, fmt.Errorf("history line: bad run id %q", e.RunID)
	}
	if e.Time.IsZero() {
		return HistoryEntry{}, fmt.Errorf("history line %s: no time", e.RunID)
	}
	return e, nil
}

// History returns the recorded runs, oldest first: the audit log's lines plus runs that
// left a backup directory but no audit line (killed mid-apply, or still running), which
// are reported with Result "incomplete". Unreadable lines are skipped and counted in bad.
func History(h *system.Host, cfg Config) (runs []HistoryEntry, bad int, err error) {
	cfg = cfg.withDefaults()
	seen := map[string]bool{}
	hf, err := hostPath(h, cfg.HistoryFile)
	if err != nil {
		return nil, 0, fmt.Errorf("read audit log: %w", err)
	}
	f, err := os.Open(hf)
	switch {
	case err == nil:
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			e, perr := ParseHistoryLine(sc.Bytes())
			if perr != nil {
				bad++
				continue
			}
			seen[e.RunID] = true
			runs = append(runs, e)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, bad, fmt.Errorf("read %s: %w", cfg.HistoryFile, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, 0, fmt.Errorf("read %s: %w", cfg.HistoryFile, err)
	}
	backupRoot, err := hostPath(h, cfg.BackupDir)
	if err != nil {
		return nil, bad, fmt.Errorf("read backups: %w", err)
	}
	dirs, err := os.ReadDir(backupRoot)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, bad, fmt.Errorf("read %s: %w", cfg.BackupDir, err)
	}
	for _, d := range dirs {
		if !d.IsDir() || !ValidRunID(d.Name()) || seen[d.Name()] {
			continue
		}
		info, ierr := readRunInfo(filepath.Join(backupRoot, d.Name()))
		if ierr != nil || info.ID != d.Name() {
			continue
		}
		runs = append(runs, HistoryEntry{Time: info.Time, User: info.User, CommandLine: info.CommandLine,
			Command: info.Command, RunID: info.ID, Undoes: info.Undoes, BackupDir: filepath.Join(cfg.BackupDir, info.ID),
			Result: ResultIncomplete, Actions: []HistoryAction{}})
	}
	// By time (ids of runs in the same second differ only in their random suffix).
	sort.SliceStable(runs, func(i, j int) bool {
		if !runs[i].Time.Equal(runs[j].Time) {
			return runs[i].Time.Before(runs[j].Time)
		}
		return runs[i].RunID < runs[j].RunID
	})
	return runs, bad, nil
}

func readRunInfo(dir string) (RunInfo, error) {
	var info RunInfo
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return info, err
	}
	err = json.Unmarshal(b, &info)
	return info, err
}
