// Package smartermail owns hostfix's model of a SmarterMail installation: it detects the
// layout of an installation folder (legacy XML or current JSON settings) and says what it
// saw, finds the Domains tree through the domain paths of the config, rewrites those paths
// for a new Domains location (Windows path rules on any system), and plans a migration to a
// new installation folder as copy-tree actions of pkg/plan with preflight checks (service
// stopped, source settled, free space, overwrites). It reads only: it never copies, writes,
// prints or runs a command itself — the copies are actions the apply layer executes, and
// the only command (the service query) goes through the host's Runner.
package smartermail
