package synflood

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// SysctlDirs are the directories systemd-sysctl reads, highest priority first: a file in
// /etc replaces a file of the same name in the others (man sysctl.d).
var SysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"}

// SysctlConf is /etc/sysctl.conf: systemd-sysctl never reads it itself, only through the
// /etc/sysctl.d/99-sysctl.conf symlink that distributions ship; procps `sysctl --system`
// reads it after every sysctl.d file.
const SysctlConf = "/etc/sysctl.conf"

// SysctlFile is one configuration file in the order it is applied at boot.
type SysctlFile struct {
	// Path is where the file is listed (e.g. /etc/sysctl.d/99-sysctl.conf).
	Path string
	// Real is the file behind Path after resolving symlinks inside --root (e.g.
	// /etc/sysctl.conf); edits go there.
	Real string
	// Masked is a symlink to /dev/null: systemd skips it.
	Masked      bool
	Content     []byte
	Assignments []Assignment
	// ProcpsOnly marks /etc/sysctl.conf when it is appended by `sysctl --system` but is not
	// read by systemd-sysctl (no 99-sysctl.conf link to it).
	ProcpsOnly bool
}

// Setting is one assignment of a key somewhere.
type Setting struct {
	File  string `json:"file"`
	Real  string `json:"real,omitempty"`
	Line  int    `json:"line"`
	Value string `json:"value"`
	// Wins is true for the assignment systemd-sysctl applies last.
	Wins bool `json:"wins"`
	// ProcpsOnly: only `sysctl --system` (procps) applies it, after everything else.
	ProcpsOnly bool `json:"procps_only,omitempty"`
}

// BootValue is what a key will be after a reboot.
type BootValue struct {
	Key string `json:"key"`
	// Value is the winning value; empty when no file sets the key (the kernel default stays).
	Value    string    `json:"value,omitempty"`
	Set      bool      `json:"set"`
	File     string    `json:"file,omitempty"`
	Line     int       `json:"line,omitempty"`
	Settings []Setting `json:"settings,omitempty"`
	// Unknown, when set, is why the boot value cannot be known: a sysctl file that could not
	// be read (permissions, a symlink loop) may set the key. Set and Value are then empty:
	// the files that were read do not tell what a reboot sets.
	Unknown string `json:"unknown,omitempty"`
}

// Conflicts are the settings whose value differs from the winning one.
func (b BootValue) Conflicts() []Setting {
	if !b.Set {
		return nil
	}
	var out []Setting
	for _, s := range b.Settings {
		if !s.Wins && strings.TrimSpace(s.Value) != strings.TrimSpace(b.Value) {
			out = append(out, s)
		}
	}
	return out
}

// SysctlFiles lists the files systemd-sysctl applies at boot, in order: every *.conf of
// SysctlDirs by file name across directories, the first directory owning a name. When no
// listed file resolves to /etc/sysctl.conf but it exists, it is appended with ProcpsOnly.
// Unreadable files are errors; the rest is still returned.
func SysctlFiles(h *system.Host) ([]SysctlFile, []error) {
	return sysctlFilesWith(h, nil)
}

// sysctlFilesWith is SysctlFiles with some files' content replaced (keyed by the real host
// path), so fix can check what the boot value will be after its edits. A replaced file
// that does not exist yet in a sysctl.d directory is listed as if it did.
func sysctlFilesWith(h *system.Host, overlay map[string][]byte) ([]SysctlFile, []error) {
	var errs []error
	byName := map[string]string{}
	for _, dir := range SysctlDirs {
		ents, err := h.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("read %s: %w", dir, err))
			}
			continue
		}
		for _, e := range ents {
			n := e.Name()
			if !strings.HasSuffix(n, ".conf") || e.IsDir() {
				continue
			}
			if _, ok := byName[n]; !ok {
				byName[n] = path.Join(dir, n)
			}
		}
	}
	for p := range overlay {
		dir, n := path.Split(p)
		dir = path.Clean(dir)
		if !strings.HasSuffix(n, ".conf") {
			continue
		}
		for _, d := range SysctlDirs {
			if d != dir {
				continue
			}
			if cur, ok := byName[n]; !ok || dirRank(dir) < dirRank(path.Dir(cur)) {
				byName[n] = p
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var files []SysctlFile
	sawConf := false
	for _, n := range names {
		f, err := loadSysctlFile(h, byName[n], overlay)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if f.Real == SysctlConf {
			sawConf = true
		}
		files = append(files, f)
	}
	if _, over := overlay[SysctlConf]; !sawConf && (over || h.Exists(SysctlConf)) {
		f, err := loadSysctlFile(h, SysctlConf, overlay)
		if err != nil {
			errs = append(errs, err)
		} else {
			f.ProcpsOnly = true
			files = append(files, f)
		}
	}
	return files, errs
}

func dirRank(d string) int {
	for i, x := range SysctlDirs {
		if x == d {
			return i
		}
	}
	return len(SysctlDirs)
}

func loadSysctlFile(h *system.Host, p string, overlay map[string][]byte) (SysctlFile, error) {
	f := SysctlFile{Path: p}
	// The real file, resolved inside --root (system.Host.Resolve): an absolute link in a
	// tree is a path of the tree; a mask is a link to /dev/null.
	real, err := h.Resolve(p)
	if data, ok := overlay[real]; ok {
		f.Real = real
		f.Content = data
		f.Assignments, _ = ParseSysctlConf(data)
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read %s: %w", p, err)
	}
	f.Real = real
	if real == "/dev/null" {
		f.Masked = true
		return f, nil
	}
	data, err := h.ReadFile(real)
	if err != nil {
		return f, fmt.Errorf("read %s: %w", p, err)
	}
	f.Content = data
	f.Assignments, _ = ParseSysctlConf(data)
	return f, nil
}

// BootValueOf computes what systemd-sysctl will set key to at boot from files (in
// SysctlFiles order): the last assignment wins.
func BootValueOf(files []SysctlFile, key string) BootValue {
	b := BootValue{Key: key}
	win := -1
	for _, f := range files {
		if f.Masked {
			continue
		}
		for _, a := range f.Assignments {
			if !a.Matches(key) {
				continue
			}
			s := Setting{File: f.Path, Line: a.Line, Value: a.Value, ProcpsOnly: f.ProcpsOnly}
			if f.Real != f.Path {
				s.Real = f.Real
			}
			b.Settings = append(b.Settings, s)
			if !f.ProcpsOnly {
				win = len(b.Settings) - 1
			}
		}
	}
	if win >= 0 {
		b.Settings[win].Wins = true
		b.Set = true
		b.Value = b.Settings[win].Value
		b.File = b.Settings[win].File
		if b.Settings[win].Real != "" {
			b.File += " -> " + b.Settings[win].Real
		}
		b.Line = b.Settings[win].Line
	}
	return b
}
