// Package mx owns the "lowest numbered MX record points to local host" runbook: it looks a
// domain's MX up over real DNS (github.com/miekg/dns), compares the lowest-preference MX
// hosts' addresses with this host's own, reads the MTA's local-domain lists (cPanel Exim,
// Sendmail, Postfix, Debian exim4) and gives a verdict per domain (Check); Plan makes the
// lists agree with DNS through pkg/plan. It never prints, never reads flags and never
// writes to the host itself: files are read through *system.Host and every change is a
// plan action.
package mx
