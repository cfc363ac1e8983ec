#!/usr/bin/env bash
# bench-doctor.sh: issue 14's doctor target. On one host snapshot (--root) with a
# 50,000-message qmail queue, 50,000 SYN_RECV sockets in /proc/net/tcp and 1,000 hosted
# domains (cPanel /etc/localdomains) answered by a loopback test DNS server, time each
# check alone and `hostfix doctor` running them all, in the same run (median of RUNS):
# doctor must take no longer than its slowest single check plus 10% (the checks really run
# in parallel), under 100 MB peak RSS.
#
#   scripts/bench-doctor.sh                # 50,000 / 50,000 / 1,000, median of 11 rounds
#   MSGS=20000 SOCKS=20000 DOMAINS=500 RUNS=5 scripts/bench-doctor.sh
#
# Needs go and GNU time (/usr/bin/time). Loopback only. Removes its temp tree at the end
# (KEEP=1 keeps it and prints where).
set -euo pipefail
MSGS=${MSGS:-50000}
SOCKS=${SOCKS:-50000}
DOMAINS=${DOMAINS:-1000}
RUNS=${RUNS:-11}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-doctor: needs GNU time at /usr/bin/time" >&2; exit 2; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/bench-doctor.XXXXXX")
SERVER=
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

go build -o "$WORK/hostfix" .
go build -o "$WORK/genqueue" ./internal/qmailgen/cmd/genqueue
go build -o "$WORK/dnsserver" ./scripts/mx-dnsserver
R=$WORK/root

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# queue: $("$WORK/genqueue" -dir "$R/var/qmail/queue" -n "$MSGS" -seed 1)"

# /proc/net/tcp as the kernel prints it: one listener on :80 and SOCKS request sockets.
mkdir -p "$R/proc/net" "$R/proc/sys/net/ipv4" "$R/proc/sys/net/core" "$R/etc/hostfix"
awk -v n="$SOCKS" 'BEGIN {
	print "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	printf "%4d: 00000000:0050 00000000:0000 0A 00000000:00000081 00:00000000 00000000     0        0 49201 4 00000000cd8ce765 100 0 0 10 0\n", 0
	for (i = 1; i <= n; i++) {
		ip = sprintf("%02X%02X%02X0A", (i % 250) + 1, int(i / 250) % 256, int(i / 64000) % 256)
		printf "%4d: 0100007F:0050 %s:%04X 03 00000000:00000000 01:00000034 00000001     0        0 0 0 00000000491b7770\n", i, ip, 1024 + (i % 60000)
	}
}' >"$R/proc/net/tcp"
head -n 1 "$R/proc/net/tcp" >"$R/proc/net/tcp6"
cp testdata/synflood/host-idle/proc_net_netstat "$R/proc/net/netstat"
echo 1 >"$R/proc/sys/net/ipv4/tcp_syncookies"
echo 128 >"$R/proc/sys/net/ipv4/tcp_max_syn_backlog"
echo 4096 >"$R/proc/sys/net/core/somaxconn"
echo "# sockets: $SOCKS SYN_RECV on :80 in $R/proc/net/tcp"

# cPanel-style Exim lists: DOMAINS local domains, answered by the test DNS server.
mkdir -p "$R/usr/local/cpanel" "$R/var/cpanel/users"
: >"$R/etc/remotedomains"
: >"$R/etc/secondarymx"
for ((i = 0; i < DOMAINS; i++)); do echo "d$i.bench.example"; done >"$R/etc/localdomains"
"$WORK/dnsserver" -synth bench.example >"$WORK/dns.addr" &
SERVER=$!
for _ in $(seq 50); do [ -s "$WORK/dns.addr" ] && break; sleep 0.1; done
DNS=$(head -n 1 "$WORK/dns.addr")
echo "# domains: $DOMAINS in /etc/localdomains, DNS server $DNS"
cat >"$R/etc/hostfix/config.yaml" <<YAML
synflood:
  interval: 0s
mx:
  resolvers: [$DNS]
  local_addresses: [127.0.0.1]
YAML

# Each round runs every command once, in turn (synflood, mailq, mx, doctor), so a change
# in the machine's load hits them alike; wall time from bash's EPOCHREALTIME (microseconds:
# GNU time's %e has 10 ms steps, 2 % of these runs), peak RSS from GNU time.
NAMES=(synflood mailq mx doctor)
declare -A ARGS=([synflood]="synflood check" [mailq]="mailq stats" [mx]="mx check --all" [doctor]="doctor --timeout 120s")
declare -A TIMES RSS CPU SRV
# The DNS server's CPU time (utime+stime, clock ticks) from /proc: its work is part of what
# mx and doctor cost the machine.
srvticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
TCK=$(getconf CLK_TCK)
for ((r = 0; r < RUNS; r++)); do
	for name in "${NAMES[@]}"; do
		# shellcheck disable=SC2206 # the arguments are words
		args=(${ARGS[$name]})
		s0=$(srvticks)
		t0=$EPOCHREALTIME
		"$TIME" -f '%M %U %S' -o "$WORK/time" "$WORK/hostfix" --root "$R" "${args[@]}" >/dev/null 2>"$WORK/err" || true
		t1=$EPOCHREALTIME
		s1=$(srvticks)
		TIMES[$name]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') "
		read -r m u sy < <(tail -n 1 "$WORK/time")
		CPU[$name]+="$(awk -v u="$u" -v s="$sy" 'BEGIN {printf "%.2f", u + s}') "
		SRV[$name]+="$(awk -v a="$s0" -v b="$s1" -v t="$TCK" 'BEGIN {printf "%.2f", (b - a) / t}') "
		((m > ${RSS[$name]:-0})) && RSS[$name]=$m
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "(wall: median of $RUNS rounds; cpu: user+sys of hostfix, median; dns: the DNS server's cpu during the run, median)"
for name in "${NAMES[@]}"; do
	# shellcheck disable=SC2086 # lists of numbers
	med=$(median ${TIMES[$name]})
	# shellcheck disable=SC2086
	printf '%-10s wall %6ss  cpu %5ss  dns %5ss  %6.1f MB peak RSS  (runs: %s)\n' "$name" "$med" "$(median ${CPU[$name]})" "$(median ${SRV[$name]})" \
		"$(awk -v k="${RSS[$name]}" 'BEGIN {print k / 1024}')" "${TIMES[$name]% }"
	echo "$med" >"$WORK/med.$name"
done
"$WORK/hostfix" --root "$R" doctor --timeout 120s | head -n 8 | sed 's/^/  | /' || true

slowest=$(cat "$WORK"/med.synflood "$WORK"/med.mailq "$WORK"/med.mx | sort -n | tail -n 1)
doctor=$(cat "$WORK/med.doctor")
echo
echo "slowest single check: ${slowest}s; doctor: ${doctor}s; ratio $(awk -v d="$doctor" -v s="$slowest" 'BEGIN {printf "%.3f", d / s}') (target <= 1.10)"
