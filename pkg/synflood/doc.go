// Package synflood is the "Detecting and preventing SYN flood attacks" runbook. Check reads
// the host (sockets through NETLINK_SOCK_DIAG or /proc/net/tcp{,6}, TcpExt counters from
// /proc/net/netstat, live and boot-time sysctls, the kernel log, an optional local latency
// probe) and returns a check.Result with a verdict; PlanFix builds a plan.Plan that turns SYN
// cookies on (and, only where it helps, raises tcp_max_syn_backlog) live and persistently.
// It owns the parsers of those kernel and sysctl.d formats. It must not print, exit, write
// /proc/sys or any file itself: changes go through pkg/plan only (the one exception is the
// check's own --state-file, a cache of the previous counter sample, written by SaveState).
package synflood
