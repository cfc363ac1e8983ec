// Package exim owns the "535 Incorrect authentication data" runbook for Exim (cPanel and
// plain Debian/RHEL hosts): a streaming parser of Exim main-log lines (authenticator
// failures and authenticated receptions), log discovery with rotated siblings, the
// auth-check report that tells cPanel service-auth key desync apart from account password
// failures and brute force, and the auth-reset plan that removes cPanel's Exim service-auth
// keys and has cPanel recreate them. It reads the host only through *system.Host, never
// prints, never runs a command itself and never bans anything; key contents (the files and
// the key inside a service-auth set_id) are never put in any output.
package exim
