// Package check is the shape every read-only diagnosis returns (a Result with a Nagios-style
// Status, metrics and findings) and its renderers: text, json, nagios and the Prometheus
// textfile format. It owns the mapping from status to exit code for check commands. It does
// not probe anything itself.
package check
