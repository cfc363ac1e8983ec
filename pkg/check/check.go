package check

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Status is a Nagios plugin state.
type Status int

const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

// String is the lower-case name used in JSON.
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "unknown"
}

// Upper is the name used on a Nagios status line.
func (s Status) Upper() string { return strings.ToUpper(s.String()) }

// ExitCode is the Nagios plugin exit code.
func (s Status) ExitCode() int { return int(s) }

// Worse returns the more severe of two states; Critical beats Unknown beats Warning beats OK
// (the usual plugin aggregation: an unknown piece never hides a critical one).
func Worse(a, b Status) Status {
	rank := func(s Status) int {
		switch s {
		case Critical:
			return 3
		case Unknown:
			return 2
		case Warning:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// MarshalJSON writes the lower-case name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the lower-case name.
func (s *Status) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v {
	case "ok":
		*s = OK
	case "warning":
		*s = Warning
	case "critical":
		*s = Critical
	case "unknown":
		*s = Unknown
	default:
		return fmt.Errorf("unknown status %q", v)
	}
	return nil
}

// Finding is one thing the check noticed, with what to do about it.
type Finding struct {
	Severity Status `json:"severity"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// Perf is one Nagios performance-data item.
type Perf struct {
	Label string
	Value float64
	// Unknown renders the value as U.
	Unknown bool
	UOM     string // "", s, ms, us, %, B, KB, MB, TB, c
	Warn    string // range, e.g. "50" or "@10:20"; empty for none
	Crit    string
	Min     string
	Max     string
}

// Sample is one Prometheus sample for the textfile collector.
type Sample struct {
	Name   string // full metric name, e.g. hostfix_synflood_syn_recv
	Help   string
	Type   string // gauge or counter
	Labels map[string]string
	Value  float64
}

// Result is the outcome of one check. Metrics is what JSON shows; Perfdata and Samples are
// the same figures shaped for Nagios and Prometheus.
type Result struct {
	Check    string         `json:"check"`
	Status   Status         `json:"status"`
	Summary  string         `json:"summary"`
	Metrics  map[string]any `json:"metrics"`
	Findings []Finding      `json:"findings"`

	// Details are extra lines of human text output (tables), not part of the JSON contract.
	Details []string `json:"-"`
	// Perfdata is rendered after "|" on the Nagios line.
	Perfdata []Perf `json:"-"`
	// Samples are written by the prometheus renderer.
	Samples []Sample `json:"-"`
	// Instance labels say which instance of the check this is, when one host can run it
	// for several (smtpport: port="26"): they label the status sample and name the
	// textfile (TextfileName), so two instances' files neither replace each other nor
	// repeat a series. The check's own samples carry them too.
	Instance map[string]string `json:"-"`
}

// Add appends a finding and raises the status to at least its severity.
func (r *Result) Add(sev Status, msg, hint string) {
	r.Findings = append(r.Findings, Finding{Severity: sev, Message: msg, Hint: hint})
	r.Status = Worse(r.Status, sev)
}

// Normalize fills nil maps and slices so JSON has {} and [] rather than null.
func (r *Result) Normalize() {
	if r.Metrics == nil {
		r.Metrics = map[string]any{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
}
