package php

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/plan"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// MaxInputVarsOptions are the inputs of `php max-input-vars set`.
type MaxInputVarsOptions struct {
	Config Config
	Selection
	// Value is N as typed: a positive decimal integer.
	Value string
	// Pools are FPM pool names (or "all") whose pinned php_admin_value/php_value
	// max_input_vars is changed too; without it such pools are reported and left alone.
	Pools []string
	// Force allows lowering below the current effective value.
	Force bool
}

// ParseMaxInputVars validates N: a positive decimal integer that fits PHP's integer on
// every platform (abc, 0, -5, 1e9 and overflowing values are refused).
func ParseMaxInputVars(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && strings.HasPrefix(v, "-"), err == nil && n <= 0:
		return 0, usage.Errorf("max_input_vars %s: must be a positive integer (e.g. 5000)", usage.Clip(v))
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange), err == nil && n > math.MaxInt32:
		return 0, usage.Errorf("max_input_vars %s: too large (at most %d)", usage.Clip(v), math.MaxInt32)
	case err != nil:
		return 0, usage.Errorf("max_input_vars %q: not a positive integer (e.g. 5000)", usage.Clip(v))
	}
	return n, nil
}

// fileEdit collects the settings one ini file gets, for one EditFile per file.
type fileEdit struct {
	path    string
	create  bool // a new drop-in
	keys    []string
	notify  []string
	targets []target
}

func (f *fileEdit) addKey(k string) {
	for _, x := range f.keys {
		if x == k {
			return
		}
	}
	f.keys = append(f.keys, k)
}

func (f *fileEdit) addNotify(ns ...string) {
	for _, n := range ns {
		dup := false
		for _, x := range f.notify {
			dup = dup || x == n
		}
		if !dup {
			f.notify = append(f.notify, n)
		}
	}
}

// PlanMaxInputVars plans max_input_vars = N for the selected SAPIs: a drop-in that sorts
// last in each SAPI's scan dir (or php.ini edited in place where there is none), the
// Suhosin caps raised to N where Suhosin is loaded, pinned FPM pool values changed when
// --pool names them, the serving services reloaded (handlers), and, on a live host, the
// effective value verified with each SAPI's own binary.
func PlanMaxInputVars(ctx context.Context, h *system.Host, o MaxInputVarsOptions) (*plan.Plan, error) {
	n, err := ParseMaxInputVars(o.Value)
	if err != nil {
		return nil, err
	}
	// PHP reads only *.ini files from a scan dir, and the drop-in belongs in that dir.
	if d := o.Config.DropIn; len(d) <= len(".ini") || !strings.HasSuffix(d, ".ini") || strings.ContainsAny(d, `/\`) || strings.HasPrefix(d, ".") {
		return nil, usage.Errorf("php.drop_in %q: want a file name ending in .ini (PHP reads only *.ini from its scan dir), such as 99-hostfix.ini", usage.Clip(d))
	}
	_, targets, err := selectTargets(ctx, h, o.Config, o.Selection)
	if err != nil {
		return nil, err
	}
	val := strconv.FormatInt(n, 10)
	p := plan.New("php max-input-vars set")
	edits := map[string]*fileEdit{}
	var order []string
	edit := func(file string, create bool) *fileEdit {
		if e, ok := edits[file]; ok {
			return e
		}
		e := &fileEdit{path: file, create: create}
		edits[file] = e
		order = append(order, file)
		return e
	}
	poolEdits := map[string][]Pool{}
	var poolOrder []string
	var verify []target
	poolsSeen := map[string]bool{}
	handlers := map[string]plan.Argv{}

	for _, t := range targets {
		s := t.s
		var keys []string
		if s.MaxInputVars != n {
			if s.MaxInputVars > n && !o.Force {
				return nil, usage.Errorf("%s: lowering max_input_vars from %d to %d drops fields of big forms: add --force to lower it (nothing changed)", t.label(), s.MaxInputVars, n)
			}
			keys = append(keys, "max_input_vars")
		}
		if su := s.Suhosin; su != nil {
			if su.PostMaxVars < n {
				keys = append(keys, "suhosin.post.max_vars")
			}
			if su.RequestMaxVars < n {
				keys = append(keys, "suhosin.request.max_vars")
			}
		}
		notify := notifyNames(s)
		if len(keys) > 0 {
			file, create, err := iniTarget(h, o.Config, t)
			if err != nil {
				if o.PHP == t.in.ID {
					return nil, err // named exactly: say so rather than skip it
				}
				p.Note(err.Error())
				continue
			}
			e := edit(file, create)
			for _, k := range keys {
				e.addKey(k)
			}
			e.addNotify(notify...)
			e.targets = append(e.targets, t)
			verify = append(verify, t)
		}
		for _, pool := range s.Pools {
			id := pool.File + "[" + pool.Name + "]"
			if pool.MaxInputVars == nil || *pool.MaxInputVars == n || poolsSeen[id] {
				continue
			}
			poolsSeen[id] = true
			if !poolSelected(o.Pools, pool.Name) {
				p.Note(fmt.Sprintf("%s pool %s pins max_input_vars = %d (%s:%d %s): its requests keep %d; add --pool %s to change it there",
					t.in.ID, pool.Name, *pool.MaxInputVars, pool.File, pool.Line, pool.Key, *pool.MaxInputVars, pool.Name))
				continue
			}
			if *pool.MaxInputVars > n && !o.Force {
				return nil, usage.Errorf("%s pool %s: lowering max_input_vars from %d to %d drops fields of big forms: add --force to lower it (nothing changed)", t.in.ID, pool.Name, *pool.MaxInputVars, n)
			}
			if _, ok := poolEdits[pool.File]; !ok {
				poolOrder = append(poolOrder, pool.File)
			}
			poolEdits[pool.File] = append(poolEdits[pool.File], pool)
			e := edit(pool.File, false)
			e.addNotify(notify...)
		}
	}
	if err := checkPoolNames(o.Pools, targets); err != nil {
		return nil, err
	}

	for _, file := range order {
		e := edits[file]
		pools := poolEdits[file]
		keys := e.keys
		detail := "max_input_vars = " + val
		if len(pools) > 0 {
			var names []string
			for _, pl := range pools {
				names = append(names, pl.Name)
			}
			detail = "pool " + strings.Join(names, ", ") + ": " + detail
		} else {
			var labels []string
			for _, t := range e.targets {
				labels = append(labels, t.label())
			}
			detail += " for " + strings.Join(labels, ", ")
		}
		a, err := plan.EditFile(h, file, func(old []byte, exists bool) ([]byte, error) {
			out := old
			if !exists {
				out = []byte("; written by hostfix (php max-input-vars set): remove this file to go back to php.ini's values\n")
			}
			for _, k := range keys {
				var err error
				if out, _, err = SetIni(out, k, val); err != nil {
					return nil, fmt.Errorf("%s: %w", file, err)
				}
			}
			for _, pl := range pools {
				var err error
				if out, _, err = SetSectionIni(out, pl.Name, pl.Key, val); err != nil {
					return nil, fmt.Errorf("%s: %w", file, err)
				}
			}
			return out, nil
		}, plan.EditOptions{Mode: 0o644, Detail: detail, Notify: e.notify})
		if err != nil {
			return nil, err
		}
		p.Add(a)
	}
	for _, e := range edits {
		for _, name := range e.notify {
			handlers[name] = serviceArgv(h, "php.reload_command", o.Config.ReloadCommand, "reload", strings.TrimPrefix(name, "reload-"))
		}
	}
	for _, name := range sortedKeys(handlers) {
		p.Handle(name, handlers[name], "reload "+strings.TrimPrefix(name, "reload-")+" so it reads the new value")
	}
	if p.Empty() {
		return p, nil
	}
	if !live(h) {
		p.Note(verifyNote)
		return p, nil
	}
	for _, t := range verify {
		t := t
		c, ok := ProbeArgv(t.in, t.s, "-i")
		if !ok {
			p.Note(fmt.Sprintf("%s: no binary to ask; the value is not verified", t.label()))
			continue
		}
		p.Verify(fmt.Sprintf("%s: max_input_vars is %s (%s)", t.label(), val, c), func(ctx context.Context, r *plan.Run) error {
			res, err := r.Host.Runner.Run(ctx, c)
			if err != nil {
				return fmt.Errorf("%s: %w", t.label(), err)
			}
			got, ok := ParsePHPInfo(res.Stdout).Int("max_input_vars")
			if !ok || got != n {
				return fmt.Errorf("%s: max_input_vars is %d after the change, not %d (asked %s): something else sets it (-d in the service, PHP_INI_SCAN_DIR, a later file)", t.label(), got, n, c)
			}
			return nil
		})
	}
	for _, file := range poolOrder {
		fpm := poolFPM(targets, file)
		if fpm == nil {
			continue
		}
		c := system.Cmd{Argv: []string{fpm.s.Binary, "-t"}}
		p.Verify(fmt.Sprintf("%s: the FPM configuration with %s passes its test (%s)", fpm.label(), file, c), func(ctx context.Context, r *plan.Run) error {
			if _, err := r.Host.Runner.Run(ctx, c); err != nil {
				return fmt.Errorf("%s: %w", fpm.label(), err)
			}
			return nil
		})
	}
	return p, nil
}

func notifyNames(s *SAPI) []string {
	out := make([]string, len(s.Services))
	for i, svc := range s.Services {
		out[i] = "reload-" + svc
	}
	return out
}

func poolSelected(pools []string, name string) bool {
	for _, p := range pools {
		if p == "all" || p == name {
			return true
		}
	}
	return false
}

func checkPoolNames(pools []string, targets []target) error {
	for _, want := range pools {
		if want == "all" {
			continue
		}
		found := false
		for _, t := range targets {
			for _, pl := range t.s.Pools {
				found = found || pl.Name == want
			}
		}
		if !found {
			return usage.Errorf("--pool %s: no such PHP-FPM pool in the selected PHP", usage.Clip(want))
		}
	}
	return nil
}

func poolFPM(targets []target, file string) *target {
	for i, t := range targets {
		for _, pl := range t.s.Pools {
			if pl.File == file && t.s.Binary != "" {
				return &targets[i]
			}
		}
	}
	return nil
}

// iniTarget is the file max_input_vars goes into for a SAPI: the drop-in in its scan dir,
// unless a scan-dir file that sorts after the drop-in sets it (that one wins, so it is
// edited in place); php.ini in place where there is no scan dir.
func iniTarget(h *system.Host, cfg Config, t target) (string, bool, error) {
	s := t.s
	if dirs := ScanDirs(s.ScanDir); len(dirs) > 0 {
		// The last directory is read last: the drop-in goes there.
		dir := dirs[len(dirs)-1]
		drop := dir + "/" + cfg.DropIn
		for i := len(s.files) - 1; i >= 0; i-- {
			f := s.files[i]
			if path.Dir(f.path) != dir || path.Base(f.path) <= cfg.DropIn {
				continue
			}
			if _, ok := Last(f.ds, "max_input_vars"); ok {
				return f.path, false, nil
			}
		}
		return drop, !h.Exists(drop), nil
	}
	if s.Ini != "" {
		return s.Ini, false, nil
	}
	return "", false, fmt.Errorf("%s loads no php.ini and has no scan dir: nowhere to set max_input_vars (see `%s --ini`)", t.label(), firstNonEmpty(s.Binary, "php"))
}

// ShowMaxInputVars reports max_input_vars per SAPI (what `php max-input-vars show` prints):
// always OK, with the file that sets each value, pinned pools and Suhosin caps.
func ShowMaxInputVars(ctx context.Context, h *system.Host, cfg Config, sel Selection) (*check.Result, error) {
	_, targets, err := selectTargets(ctx, h, cfg, sel)
	if err != nil {
		return nil, err
	}
	r := &check.Result{Check: "php_max_input_vars"}
	var rows []map[string]any
	for _, t := range targets {
		s := t.s
		line := fmt.Sprintf("%-22s max_input_vars %d (%s)  max_multipart_body_parts %d  [%s]", t.label(), s.MaxInputVars, s.MaxInputVarsFrom, s.MaxMultipartBodyParts, s.Source)
		row := map[string]any{"php": t.in.ID, "sapi": s.Name, "max_input_vars": s.MaxInputVars, "from": s.MaxInputVarsFrom,
			"max_multipart_body_parts": s.MaxMultipartBodyParts, "source": s.Source}
		if su := s.Suhosin; su != nil {
			line += fmt.Sprintf("  suhosin.post.max_vars %d suhosin.request.max_vars %d", su.PostMaxVars, su.RequestMaxVars)
			row["suhosin"] = su
		}
		r.Details = append(r.Details, line)
		var pools []map[string]any
		for _, pl := range s.Pools {
			if pl.MaxInputVars != nil {
				r.Details = append(r.Details, fmt.Sprintf("  pool %s pins %d (%s:%d %s)", pl.Name, *pl.MaxInputVars, pl.File, pl.Line, pl.Key))
				pools = append(pools, map[string]any{"pool": pl.Name, "max_input_vars": *pl.MaxInputVars, "file": pl.File, "line": pl.Line, "key": pl.Key})
			}
		}
		if pools != nil {
			row["pools"] = pools
		}
		rows = append(rows, row)
		r.Samples = append(r.Samples, check.Sample{Name: "hostfix_php_max_input_vars", Help: "Effective max_input_vars of the SAPI", Type: "gauge",
			Labels: map[string]string{"php": t.in.ID, "sapi": s.Name}, Value: float64(s.MaxInputVars)})
	}
	r.Summary = fmt.Sprintf("max_input_vars of %s", plural(len(targets), "SAPI"))
	if !live(h) {
		r.Summary += " (computed from the ini files under --root)"
	}
	r.Metrics = map[string]any{"sapis": rows}
	r.Normalize()
	return r, nil
}
