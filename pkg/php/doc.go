// Package php is the "install the PHP mbstring extension" and "increase max_input_vars"
// runbook, for every PHP a host runs: Discover finds the installations (php on PATH and
// versioned binaries, Debian/Ubuntu, RHEL and Remi, cPanel EA4, Plesk, CloudLinux alt-php)
// and, per SAPI, the loaded php.ini, scan dir, mbstring, the effective max_input_vars and
// Suhosin caps, asking each SAPI's own binary on a live host and computing from the files
// under --root; Check turns that into a check.Result; PlanMaxInputVars and PlanMbstring
// build plans. It owns the php.ini and PHP-FPM pool parsers and an in-place editor. It
// must not print, exit, write files or run commands that change anything: reads go
// through system.Host and its Runner, changes through pkg/plan.
package php
