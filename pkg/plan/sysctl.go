package plan

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hostfix/hostfix/pkg/system"
)

// SetSysctl: live kernel parameters.

type sysctlAction struct {
	h          *system.Host
	key, file  string
	old, value string
	desc       Description
	applied    bool
}

// SysctlPath is the system path of a kernel parameter: /proc/sys/ plus the key with dots
// as slashes (net.ipv4.tcp_syncookies -> /proc/sys/net/ipv4/tcp_syncookies).
func SysctlPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// NormalizeSysctl folds the whitespace of a multi-value parameter ("4096\t65535" and
// "4096 65535" are the same value).
func NormalizeSysctl(v string) string { return strings.Join(strings.Fields(v), " ") }

// SetSysctl plans writing a kernel parameter live (/proc/sys/<key with / for .>) and reading
// it back; nil when the live value already equals value.
func SetSysctl(h *system.Host, key, value string) (Action, error) {
	if key == "" || strings.ContainsAny(key, "/ \t\n") || strings.Contains(key, "..") {
		return nil, fmt.Errorf("sysctl %q: not a kernel parameter name", key)
	}
	file := SysctlPath(key)
	hp, err := hostPath(h, file)
	if err != nil {
		return nil, fmt.Errorf("sysctl %s: %w", key, err)
	}
	cur, err := os.ReadFile(hp)
	if err != nil {
		return nil, opErr(h, "sysctl", key, err)
	}
	old, want := NormalizeSysctl(string(cur)), NormalizeSysctl(value)
	if old == want {
		return nil, nil
	}
	return &sysctlAction{h: h, key: key, file: file, old: old, value: want, desc: Description{
		Kind: KindSysctl, Op: OpChange, Target: key, Detail: fmt.Sprintf("%s -> %s (live, %s)", old, want, file),
		Previewable: true,
	}}, nil
}

func (a *sysctlAction) Describe() Description { return a.desc }

func (a *sysctlAction) read() (string, error) {
	hp, err := hostPath(a.h, a.file)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(hp)
	return NormalizeSysctl(string(b)), err
}

func (a *sysctlAction) Verify(context.Context, *Run) error {
	cur, err := a.read()
	if err != nil {
		return opErr(a.h, "sysctl", a.key, err)
	}
	if cur != a.old {
		return &StaleError{Target: a.key, Reason: fmt.Sprintf("live value is %s, planned against %s", cur, a.old)}
	}
	return nil
}

func (a *sysctlAction) Apply(_ context.Context, r *Run) error {
	r.man.add(Entry{Action: EntrySysctl, Key: a.key, Path: a.file, Old: a.old, New: a.value, UID: -1, GID: -1})
	if err := r.man.sync(); err != nil {
		return err
	}
	a.applied = true // even a failed write may have half-taken: rollback writes old back
	return writeSysctl(a.h, a.key, a.value)
}

// writeSysctl writes a value and reads it back: the kernel may refuse or clamp it.
func writeSysctl(h *system.Host, key, value string) error {
	file, err := hostPath(h, SysctlPath(key))
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("sysctl %s: %w", key, err)
	}
	if _, err := f.WriteString(value + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sysctl %s = %s: %w", key, value, err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("sysctl %s: read back: %w", key, err)
	}
	if got := NormalizeSysctl(string(b)); got != NormalizeSysctl(value) {
		return fmt.Errorf("sysctl %s: wrote %s but the kernel reads back %s", key, value, got)
	}
	return nil
}

func (a *sysctlAction) Rollback(context.Context, *Run) (string, error) {
	if !a.applied {
		return "", nil
	}
	if err := writeSysctl(a.h, a.key, a.old); err != nil {
		return "", err
	}
	return a.key + " = " + a.old, nil
}

func (a *sysctlAction) Outcome() (bool, string) { return a.applied, "" }
