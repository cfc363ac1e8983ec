// Package system is hostfix's only view of the host: every system path (/etc, /proc, /var,
// /run …) is resolved under the --root directory by Host.Resolve (symlinks followed
// component by component inside the root, never out of it), and every external
// command goes through a Runner as an argv, never a shell string. It reads; it does not
// decide what to change (runbooks do) and it does not change files itself (pkg/plan does).
package system
