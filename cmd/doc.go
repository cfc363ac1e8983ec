// Package cmd is hostfix's cobra wiring and nothing more: global flags, configuration,
// output rendering and the one place errors become exit codes (App.exitCode). Each runbook
// noun has one file here that parses flags into the runbook's Options, calls its pkg and
// renders. It holds no runbook logic: it parses no host files, and it changes the host only
// by handing a runbook's plan to the plan layer.
package cmd
