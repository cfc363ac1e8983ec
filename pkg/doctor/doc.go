// Package doctor runs every check that applies to a host, in parallel, each with a timeout,
// and renders them together (one table, a JSON array, one Nagios line, Prometheus
// textfiles). It owns no check: each runbook's command registers a Check (its Detect beside
// its Run), so a new runbook joins doctor without editing it. A check that errors, panics or
// times out is UNKNOWN with the reason, never dropped. doctor never changes the host.
package doctor
