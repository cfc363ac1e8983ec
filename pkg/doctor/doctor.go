package doctor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hostfix/hostfix/pkg/check"
	"github.com/hostfix/hostfix/pkg/system"
	"github.com/hostfix/hostfix/pkg/usage"
)

// Check is one runbook's check as doctor runs it. Each runbook's command file registers
// one (cmd/<noun>.go), so a new runbook adds itself without editing doctor.
type Check struct {
	// Name is what --only and --skip take and the check label of every output ("synflood").
	Name string
	// Detect says whether the check applies to this host and why (the evidence, or what was
	// looked for). nil means it always applies.
	Detect func(h *system.Host) (applies bool, why string)
	// Run runs the check. It must honour ctx (doctor cancels it at the timeout).
	Run func(ctx context.Context, h *system.Host) (*check.Result, error)
}

// Outcome is one check's result inside a doctor run.
type Outcome struct {
	Name     string
	Result   *check.Result
	Duration time.Duration
	// Skipped is true when Detect said the check does not apply; Why says why.
	Skipped bool
	Why     string
}

// Options tune a doctor run.
type Options struct {
	Only    []string      // run only these checks (by name)
	Skip    []string      // never run these
	Timeout time.Duration // per check; 0 = no timeout
}

// ErrUnknownCheck names a check in --only or --skip that does not exist.
type ErrUnknownCheck struct {
	Name  string
	Known []string
}

func (e *ErrUnknownCheck) Error() string {
	return fmt.Sprintf("no check named %q: the checks are %s", usage.Clip(e.Name), strings.Join(e.Known, ", "))
}

// Validate checks the names in --only and --skip against the registry.
func Validate(checks []Check, o Options) error {
	known := map[string]bool{}
	var names []string
	for _, c := range checks {
		known[c.Name] = true
		names = append(names, c.Name)
	}
	sort.Strings(names)
	for _, n := range append(append([]string{}, o.Only...), o.Skip...) {
		if !known[n] {
			return &ErrUnknownCheck{Name: n, Known: names}
		}
	}
	return nil
}

// Run runs every selected check that applies, in parallel, each with the timeout. A check
// that errors, panics or times out becomes UNKNOWN with the reason; none is dropped.
// Outcomes come back in the registry's order (sorted by name).
func Run(ctx context.Context, h *system.Host, checks []Check, o Options) []Outcome {
	sel := selected(checks, o)
	out := make([]Outcome, len(sel))
	var wg sync.WaitGroup
	for i, c := range sel {
		out[i].Name = c.Name
		wg.Add(1)
		// Detection runs in the check's goroutine too: a slow Detect (a configuration to
		// read) must not hold back the other checks.
		go func(i int, c Check) {
			defer wg.Done()
			t0 := time.Now()
			if c.Detect != nil {
				applies, why := detect(c, h)
				out[i].Why = why
				if !applies {
					out[i].Skipped = true
					return
				}
			}
			out[i].Result = runOne(ctx, h, c, o.Timeout)
			out[i].Duration = time.Since(t0)
		}(i, c)
	}
	wg.Wait()
	return out
}

func selected(checks []Check, o Options) []Check {
	only := set(o.Only)
	skip := set(o.Skip)
	var sel []Check
	for _, c := range checks {
		if len(only) > 0 && !only[c.Name] {
			continue
		}
		if skip[c.Name] {
			continue
		}
		sel = append(sel, c)
	}
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].Name < sel[j].Name })
	return sel
}

func set(ss []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// detect runs a Detect function; a panic there means "applies" so that the check runs and
// reports the problem, rather than silently vanishing.
func detect(c Check, h *system.Host) (applies bool, why string) {
	defer func() {
		if p := recover(); p != nil {
			applies, why = true, fmt.Sprintf("detection panicked: %v", p)
		}
	}()
	return c.Detect(h)
}

// runOne runs one check with its own timeout and turns every failure into UNKNOWN.
func runOne(parent context.Context, h *system.Host, c Check, timeout time.Duration) *check.Result {
	ctx, cancel := parent, context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(parent, timeout)
	}
	defer cancel()
	type done struct {
		r   *check.Result
		err error
	}
	ch := make(chan done, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- done{err: fmt.Errorf("the check panicked: %v\n%s", p, firstFrames(debug.Stack(), 12))}
			}
		}()
		r, err := c.Run(ctx, h)
		ch <- done{r, err}
	}()
	var d done
	select {
	case d = <-ch:
	case <-ctx.Done():
		// The check did not return in time. Its goroutine may still run; its result is
		// dropped (the channel is buffered, so it does not block).
		d.err = ctx.Err()
	}
	if d.err == nil && d.r == nil {
		d.err = errors.New("the check returned no result")
	}
	if d.err != nil {
		return unknown(c.Name, d.err, timeout)
	}
	d.r.Normalize()
	if d.r.Check == "" {
		d.r.Check = c.Name
	}
	return d.r
}

func unknown(name string, err error, timeout time.Duration) *check.Result {
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("timed out after %s (doctor --timeout)", timeout)
	case errors.Is(err, context.Canceled):
		msg = "cancelled"
	}
	first := msg
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	r := &check.Result{Check: name, Status: check.Unknown, Summary: "could not run: " + first}
	r.Add(check.Unknown, msg, "run `hostfix "+name+"` on its own to see the full error")
	r.Normalize()
	return r
}

func firstFrames(stack []byte, lines int) string {
	s := strings.Split(string(stack), "\n")
	if len(s) > lines {
		s = s[:lines]
	}
	return strings.Join(s, "\n")
}

// Worst is the status doctor exits with: the worst of the checks that ran (OK when none did).
func Worst(out []Outcome) check.Status {
	st := check.OK
	for _, o := range out {
		if o.Result != nil {
			st = check.Worse(st, o.Result.Status)
		}
	}
	return st
}

// Ran returns the results of the checks that ran, in order.
func Ran(out []Outcome) []*check.Result {
	var rs []*check.Result
	for _, o := range out {
		if o.Result != nil {
			rs = append(rs, o.Result)
		}
	}
	return rs
}
