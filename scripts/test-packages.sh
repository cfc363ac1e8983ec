#!/usr/bin/env bash
# Installs the .deb that goreleaser built (dist/) on this machine, checks what it put in
# place, and purges it again: `hostfix version`, `man -w hostfix`, the completions, the
# systemd units (systemd-analyze verify; the timer is not enabled), and that purging leaves
# an edited /etc/hostfix/config.yaml alone while it removes an unedited one.
# Needs root; .ci/run calls it after `goreleaser release --snapshot`. Leaves the machine as
# it found it (hostfix not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls dist/hostfix_*_amd64.deb 2>/dev/null | head -n 1)
[[ -n "$deb" ]] || { echo "no dist/hostfix_*_amd64.deb: run goreleaser release --snapshot --clean --skip=publish first"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }
purge() { dpkg --purge hostfix >/dev/null 2>&1 || true; }
conf=/etc/hostfix/config.yaml
if [[ -e $conf ]] && ! dpkg -s hostfix >/dev/null 2>&1; then
  fail "$conf exists and hostfix is not installed: refusing to touch an admin's file"
fi
purge
trap purge EXIT

echo "install $deb"
dpkg -i "$deb" >/dev/null
v=$(hostfix version) || fail "hostfix version"
echo "  $v"
[[ "$v" == hostfix* ]] || fail "unexpected version line: $v"
page=$(man -w hostfix) || fail "man -w hostfix found no page"
echo "  man page: $page"
man -w hostfix-doctor >/dev/null || fail "man -w hostfix-doctor"
for f in /usr/share/bash-completion/completions/hostfix /usr/share/zsh/vendor-completions/_hostfix \
  /usr/share/fish/vendor_completions.d/hostfix.fish /usr/share/hostfix/config.yaml; do
  [[ -s $f ]] || fail "missing $f"
done
grep -q 'complete' /usr/share/bash-completion/completions/hostfix || fail "bash completion is not a completion script"
for u in hostfix-doctor.service hostfix-doctor.timer; do
  [[ -f /usr/lib/systemd/system/$u ]] || fail "missing unit $u"
done
out=$(systemd-analyze verify /usr/lib/systemd/system/hostfix-doctor.service /usr/lib/systemd/system/hostfix-doctor.timer 2>&1) ||
  fail "systemd-analyze verify: $out"
# Messages about other units on the machine are not ours; any line naming ours is.
if grep -i 'hostfix-doctor' <<<"$out"; then fail "systemd-analyze verify complained about our units"; fi
echo "  systemd-analyze verify: ok"
[[ ! -e /etc/systemd/system/timers.target.wants/hostfix-doctor.timer ]] || fail "the timer was enabled by the package"
cmp -s $conf /usr/share/hostfix/config.yaml || fail "$conf is not the shipped example after install"
hostfix --config $conf config show >/dev/null || fail "the installed config does not load"
# The service's command line works (to a temp dir instead of node_exporter's).
tdir=$(mktemp -d)
rc=0
hostfix --quiet doctor -o prometheus --textfile-dir "$tdir" --only synflood || rc=$?
((rc <= 3)) || fail "doctor exited $rc"
[[ -s $tdir/hostfix_doctor.prom ]] || fail "doctor wrote no hostfix_doctor.prom"
rm -rf "$tdir"
echo "  doctor textfiles: ok"

echo "purge with an unedited config: removed"
dpkg --purge hostfix >/dev/null
[[ ! -e $conf ]] || fail "purge left the unedited $conf"
[[ ! -e /usr/bin/hostfix ]] || fail "purge left /usr/bin/hostfix"

echo "purge with an edited config: kept"
dpkg -i "$deb" >/dev/null
echo "# edited by the admin" >>$conf
dpkg -i "$deb" >/dev/null # reinstall/upgrade keeps the edit
grep -q '^# edited by the admin$' $conf || fail "reinstall replaced the edited $conf"
dpkg --purge hostfix >/dev/null
grep -q '^# edited by the admin$' $conf || fail "purge removed or changed the edited $conf"
rm -f $conf && rmdir /etc/hostfix 2>/dev/null || true
echo "packages: ok"
