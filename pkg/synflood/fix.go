package synflood

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// FixOptions are what `synflood fix` was asked.
type FixOptions struct {
	// Config gives Backlog, SynackRetries, PersistFile and DropIn.
	Config Config
	// BacklogSet: the user gave --backlog, so tcp_max_syn_backlog is raised to it (never
	// lowered) even with SYN cookies on.
	BacklogSet bool
	// KeepCookiesOff leaves tcp_syncookies alone (for setups that must run without cookies)
	// and raises tcp_max_syn_backlog instead: with cookies off it is what limits the queue.
	KeepCookiesOff bool
}

// Desired is one kernel parameter fix wants, with why.
type Desired struct {
	Key, Value, Why string
}

// PlanFix plans the runbook's fix: SYN cookies on live and at boot, tcp_max_syn_backlog
// raised (never lowered) where it matters or was asked for, optionally tcp_synack_retries,
// persisted in a file that wins at boot, with every later-applied conflicting line
// commented out. It reads the host and returns the plan; it changes nothing.
func PlanFix(ctx context.Context, h *system.Host, o FixOptions) (*plan.Plan, error) {
	cfg := o.Config
	if cfg.Backlog < 1 {
		return nil, usage.Errorf("--backlog %d: want a positive number (e.g. 2048)", cfg.Backlog)
	}
	if cfg.SynackRetries < 0 || cfg.SynackRetries > 255 {
		return nil, usage.Errorf("--synack-retries %d: want 1-255 (default 5; each retry doubles the wait, 2 keeps half-open entries ~7 s)", cfg.SynackRetries)
	}
	persist := cfg.PersistFile
	if persist == "" {
		persist = cfg.DropIn
	}
	if !path.IsAbs(persist) {
		return nil, usage.Errorf("--persist-file %q: want an absolute path such as /etc/sysctl.d/99-zz-hostfix-synflood.conf", usage.ClipPath(persist))
	}
	persist = path.Clean(persist)
	if real, err := h.Resolve(persist); err == nil && real != "/dev/null" {
		if fi, err := h.Stat(real); err == nil && !fi.Mode().IsRegular() {
			what := "not a regular file"
			if fi.IsDir() {
				what = "is a directory"
			}
			return nil, usage.Errorf("--persist-file %s: %s (%s): want a file such as %s", persist, what, fi.Mode(), DefaultConfig().DropIn)
		}
	}

	sysctls, _, errs := ReadSysctls(h)
	if len(errs) > 0 {
		return nil, fmt.Errorf("synflood fix: cannot tell what a reboot sets: %w: make it readable (or fix the symlink loop) and run again; nothing changed", errs[0])
	}
	for _, k := range []string{KeySyncookies, KeyMaxSynBacklog} {
		if s := sysctls[k]; s.LiveErr != "" {
			if _, err := h.ReadFile(ProcSysPath(k)); system.IsNotExist(err) {
				why := "is --root a Linux host's root with /proc?"
				if h.Live() {
					why = "is /proc mounted, and IPv4 enabled?"
				}
				return nil, usage.Errorf("synflood fix: cannot read %s: %s does not exist (%s); nothing changed", k, ProcSysPath(k), why)
			}
			return nil, fmt.Errorf("synflood fix: read %s: %s", k, s.LiveErr)
		}
	}
	p := plan.New("synflood fix")
	ns := NetNS(h)
	if h.Live() {
		p.Note("network namespace " + ns + ": these kernel parameters are per namespace; only this one is changed")
	} else {
		p.Note("fixture tree " + h.Root + ": live values are the files under its proc/sys, no kernel is changed")
	}

	var want []Desired
	cookies := sysctls[KeySyncookies].Int()
	if !o.KeepCookiesOff {
		why := "SYN cookies answer SYNs past a full queue instead of dropping them"
		if cookies == 2 {
			why = "2 sends cookies for every SYN (testing mode); 1 uses them only when a queue is full"
		}
		want = append(want, Desired{KeySyncookies, "1", why})
	} else {
		p.Note("--keep-cookies-off: tcp_syncookies left at " + sysctls[KeySyncookies].Live)
	}
	if o.KeepCookiesOff || o.BacklogSet {
		cur := sysctls[KeyMaxSynBacklog].Int()
		switch {
		case cur == cfg.Backlog:
			p.Note(fmt.Sprintf("net.ipv4.tcp_max_syn_backlog is already %d: left alone", cur))
		case cur > cfg.Backlog:
			p.Note(fmt.Sprintf("net.ipv4.tcp_max_syn_backlog is already %d (more than %d): left alone; writing %d would lower it", cur, cfg.Backlog, cfg.Backlog))
		default:
			want = append(want, Desired{KeyMaxSynBacklog, strconv.Itoa(cfg.Backlog), "with cookies off each SYN queue is limited to 3/4 of it"})
		}
	}
	if cfg.SynackRetries > 0 {
		want = append(want, Desired{KeySynackRetries, strconv.Itoa(cfg.SynackRetries), "fewer SYN-ACK retries free half-open entries sooner"})
	}

	for _, d := range want {
		a, err := plan.SetSysctl(h, d.Key, d.Value)
		if err != nil {
			return nil, fmt.Errorf("synflood fix: %w", err)
		}
		p.Add(a)
	}
	// A value that is already right live and at boot needs no persisting: with cookies on
	// and nothing read at boot turning them off, fix has nothing to do (no new drop-in).
	var persistWant []Desired
	for _, d := range want {
		if strings.TrimSpace(sysctls[d.Key].Live) == d.Value && bootGives(sysctls[d.Key].Boot, d.Value) {
			continue
		}
		persistWant = append(persistWant, d)
	}
	edits, notes, err := persistEdits(h, persist, persistWant)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		p.Note(n)
	}
	for _, e := range edits {
		e := e
		a, err := plan.EditFile(h, e.path, func(old []byte, exists bool) ([]byte, error) { return e.transform(old, exists), nil },
			plan.EditOptions{Mode: 0o644, Detail: e.detail})
		if err != nil {
			return nil, fmt.Errorf("synflood fix: %w", err)
		}
		p.Add(a)
	}
	return p, ctx.Err()
}

// kernelDefaults are the values a key has when no file sets it at boot, where every kernel
// hostfix supports agrees (CONFIG_SYN_COOKIES=y: tcp_syncookies 1).
var kernelDefaults = map[string]string{KeySyncookies: "1"}

// bootGives: after a reboot, the key will be value, by systemd-sysctl and by procps
// `sysctl --system` (which also applies an unlinked /etc/sysctl.conf last).
func bootGives(b BootValue, value string) bool {
	if b.Unknown != "" {
		return false
	}
	for _, s := range b.Settings {
		if (s.Wins || s.ProcpsOnly) && strings.TrimSpace(s.Value) != value {
			return false
		}
	}
	if b.Set {
		return strings.TrimSpace(b.Value) == value
	}
	return kernelDefaults[b.Key] == value
}

type fileEdit struct {
	path      string // real host path
	detail    string
	transform func(old []byte, exists bool) []byte
}

// persistEdits computes the edits that make every wanted value the boot value: set it in the
// persist file (its existing line rewritten in place, else appended) and comment out each
// conflicting line that would be applied after it, by systemd-sysctl or by procps
// `sysctl --system` (which applies /etc/sysctl.conf last). It then re-computes the boot
// values over the edited files and fails if one is still not what fix wants.
func persistEdits(h *system.Host, persist string, want []Desired) ([]fileEdit, []string, error) {
	if len(want) == 0 {
		return nil, nil, nil
	}
	real, err := h.Resolve(persist)
	if err != nil && !system.IsNotExist(err) {
		return nil, nil, fmt.Errorf("synflood fix: %w", err)
	}
	if real == "/dev/null" {
		return nil, nil, usage.Errorf("--persist-file %s is masked (a link to /dev/null): choose another file", persist)
	}
	old, rerr := h.ReadFile(real)
	exists := rerr == nil
	overlay := map[string][]byte{}
	setTransform := func(old []byte, exists bool) []byte { return setKeys(old, exists, want) }
	overlay[real] = setTransform(old, exists)
	edits := []fileEdit{{path: real, detail: persistDetail(h, want), transform: setTransform}}

	files, _ := sysctlFilesWith(h, overlay)
	pos := -1
	for i, f := range files {
		if f.Real == real && !f.ProcpsOnly {
			pos = i
		}
	}
	if pos < 0 {
		// Written where the user asked, but nothing applies it at boot: say so loudly and
		// leave every other file alone (with no place in the boot order, "overriding" has
		// no meaning).
		return edits, []string{fmt.Sprintf("WARNING: %s is not read at boot by systemd-sysctl on this host (it is not a *.conf in a sysctl.d directory, and no sysctl.d entry links to it; Debian 13 dropped /etc/sysctl.d/99-sysctl.conf): the values will not survive a reboot. Use the default drop-in %s, or a file in /etc/sysctl.d", persist, DefaultConfig().DropIn)}, nil
	}
	var notes []string
	disable := map[string][]Desired{} // real path -> keys to comment out
	for i, f := range files {
		if f.Real == real || f.Masked {
			continue
		}
		later := i > pos || f.ProcpsOnly || f.Real == SysctlConf
		for _, d := range want {
			for _, a := range f.Assignments {
				if !a.Matches(d.Key) || strings.TrimSpace(a.Value) == d.Value {
					continue
				}
				if !later {
					continue // applied before the persist file: overridden anyway
				}
				if a.Glob {
					return nil, nil, fmt.Errorf("synflood fix: %s line %d (%s = %s) is a pattern that also sets %s and is applied after %s: edit it by hand", f.Path, a.Line, a.Key, a.Value, d.Key, persist)
				}
				disable[f.Real] = appendUnique(disable[f.Real], d)
			}
		}
	}
	reals := make([]string, 0, len(disable))
	for r := range disable {
		reals = append(reals, r)
	}
	sort.Strings(reals)
	for _, r := range reals {
		keys := disable[r]
		t := func(old []byte, _ bool) []byte { return commentOut(old, keys, persist) }
		c, _ := h.ReadFile(r)
		overlay[r] = t(c, true)
		edits = append(edits, fileEdit{path: r, detail: "comment out " + keysOf(keys) + ": it would override " + persist + " at boot", transform: t})
		if strings.HasPrefix(r, "/usr/") {
			notes = append(notes, r+" belongs to a package: an upgrade may restore the line; hostfix synflood check will say so")
		}
	}
	// Verify by simulation: what will systemd-sysctl apply after these edits?
	files, _ = sysctlFilesWith(h, overlay)
	for _, d := range want {
		b := BootValueOf(files, d.Key)
		if !b.Set || strings.TrimSpace(b.Value) != d.Value {
			return nil, nil, fmt.Errorf("synflood fix: after the edits %s would still be %q at boot (%s): please report this", d.Key, b.Value, b.File)
		}
	}
	return edits, notes, nil
}

// persistDetail says why the persist file changes: what each key is at boot today.
func persistDetail(h *system.Host, want []Desired) string {
	files, _ := SysctlFiles(h)
	var why []string
	for _, d := range want {
		b := BootValueOf(files, d.Key)
		switch {
		case !b.Set:
			why = append(why, d.Key+": no file sets it, the kernel default applies at boot")
		case strings.TrimSpace(b.Value) != d.Value:
			why = append(why, fmt.Sprintf("%s: boot would set %s (%s line %d)", d.Key, b.Value, b.File, b.Line))
		}
	}
	s := "persist " + keysOf(want) + " for boot"
	if len(why) > 0 {
		s += " (" + strings.Join(why, "; ") + ")"
	}
	return s
}

func appendUnique(ds []Desired, d Desired) []Desired {
	for _, x := range ds {
		if x.Key == d.Key {
			return ds
		}
	}
	return append(ds, d)
}

func keysOf(ds []Desired) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Key
	}
	return strings.Join(s, ", ")
}

// setKeys sets each key in a sysctl.d file, keeping everything else byte for byte: the last
// assignment of the key gets the new value in its own spacing; an earlier assignment with a
// different value is commented out (it is dead and misleading); a missing key is appended.
func setKeys(old []byte, exists bool, want []Desired) []byte {
	lines := splitKeep(old)
	for _, d := range want {
		last := -1
		for i, l := range lines {
			if k, _, ok := assignmentOf(l); ok && k == d.Key {
				last = i
			}
		}
		if last < 0 {
			if len(lines) == 0 && !exists {
				lines = append(lines, "# Written by hostfix synflood fix: SYN flood protection. Other files must not\n",
					"# set these keys later in the boot order (see `hostfix synflood check`).\n")
			}
			if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
				lines[n-1] += "\n"
			}
			lines = append(lines, d.Key+" = "+d.Value+"\n")
			continue
		}
		for i := 0; i < last; i++ {
			if k, v, ok := assignmentOf(lines[i]); ok && k == d.Key && v != d.Value {
				lines[i] = disabledNote(d.Key, "set again below") + "# " + lines[i]
			}
		}
		lines[last] = replaceValue(lines[last], d.Value)
	}
	return []byte(strings.Join(lines, ""))
}

// commentOut comments out the assignments of keys, each after a note naming the file that
// now owns the value.
func commentOut(old []byte, keys []Desired, owner string) []byte {
	lines := splitKeep(old)
	out := make([]string, 0, len(lines)+len(keys))
	for _, l := range lines {
		if k, v, ok := assignmentOf(l); ok {
			for _, d := range keys {
				if matchesKey(l, d.Key) && v != d.Value {
					out = append(out, disabledNote(k, "set to "+d.Value+" in "+owner))
					l = "# " + l
					break
				}
			}
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, ""))
}

func disabledNote(key, why string) string {
	return "# disabled by hostfix synflood fix: " + key + " is " + why + "\n"
}

func matchesKey(line, key string) bool {
	as, _ := ParseSysctlConf([]byte(line))
	return len(as) == 1 && as[0].Matches(key)
}

// assignmentOf returns the normalised key and trimmed value of an assignment line.
func assignmentOf(line string) (string, string, bool) {
	as, _ := ParseSysctlConf([]byte(line))
	if len(as) != 1 || as[0].Glob {
		return "", "", false
	}
	return as[0].Key, as[0].Value, true
}

// replaceValue swaps the value of "key = value" keeping the key, the spacing around "="
// and the line ending.
func replaceValue(line, value string) string {
	eq := strings.IndexByte(line, '=')
	body := strings.TrimRight(line, "\r\n")
	end := line[len(body):]
	rest := body[eq+1:]
	lead := rest[:len(rest)-len(strings.TrimLeft(rest, " \t"))]
	trail := rest[len(strings.TrimRight(rest, " \t")):]
	return body[:eq+1] + lead + value + trail + end
}

func splitKeep(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}
