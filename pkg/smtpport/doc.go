// Package smtpport is the "Setting an alternate SMTP port in Plesk on Linux" runbook: an
// extra SMTP port (26, 587…) for users whose ISP blocks port 25. Check reads the host
// (which SMTP server runs it: xinetd + qmail as on older Plesk, Postfix or something else;
// the Plesk version; whether the port is configured, listening, answering 220 and allowed
// by the firewall) and returns a check.Result. PlanAdd builds a plan.Plan that adds the
// port the way the host's SMTP server expects (an xinetd service copied from smtp_psa plus
// its /etc/services lines, or a Postfix master.cf service), reloads it, optionally opens
// the firewall and, on the live host, proves the result with a real 220 banner (rolling
// everything back otherwise). PlanRemove takes back exactly what add created.
//
// It owns the parsers of xinetd service files, /etc/services and Postfix's master.cf. It
// must not print, exit, run a command that changes the host or write a file itself:
// reads go through *system.Host, changes through pkg/plan.
package smtpport
