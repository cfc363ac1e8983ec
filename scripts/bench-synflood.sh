#!/usr/bin/env bash
# bench-synflood.sh: time `hostfix synflood check` against ss and netstat on the same
# 100,000 half-open connections, in the same run, inside a private network namespace.
#
#   sudo scripts/bench-synflood.sh [COUNT]     (default 100000; RUNS=5 timed runs each)
#
# Needs root, go, ip (iproute2), nft (nftables), ss (iproute2), netstat (net-tools) and
# GNU time (/usr/bin/time, Debian package "time"). The host's own sysctls, firewall and
# sockets are not touched: everything happens in the namespace, which is deleted at exit.
#
# How the sockets are made: listeners on 127.0.0.1:20000-20003 with listen(65535) and
# somaxconn 65535; scripts/synload sends raw SYNs from 127.1.0.0 upwards; the SYN-ACKs
# loop back to those addresses, which have no socket, and nftables drops the RSTs the
# kernel answers with, so nothing removes an entry (dropping the SYN-ACKs instead does not
# work: a SYN-ACK retransmit that fails to send drops the request socket);
# tcp_synack_retries=8 keeps them alive for minutes; tcp_syncookies=0 so each SYN is queued
# rather than answered statelessly. Four listeners keep each queue under half its backlog,
# below which the kernel does not prune old entries early.
set -euo pipefail

if [ "${1:-}" = --measure ]; then
	# Second half, run by the first inside the namespace: "$work" and RUNS come from it.
	work=$2
	RUNS=$3
	MEASURE=1
fi
COUNT=${1:-100000}
RUNS=${RUNS:-5}
PORTS=20000,20001,20002,20003
self=$(realpath "$0")
cd "$(dirname "$self")/.."

if [ -z "${MEASURE:-}" ]; then
	for tool in go ip nft ss netstat /usr/bin/time; do
		command -v "$tool" >/dev/null || { echo "bench-synflood: needs $tool" >&2; exit 2; }
	done
	[ "$(id -u)" = 0 ] || { echo "bench-synflood: needs root (network namespace, raw sockets)" >&2; exit 2; }

	ns="hfbench-$$-$RANDOM"
	work=$(mktemp -d)
	listener=""
	cleanup() {
		if [ -n "$listener" ]; then kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null; fi
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "$work"
	}
	trap cleanup EXIT

	go build -o "$work/hostfix" .
	go build -o "$work/synload" ./scripts/synload

	nsx() { ip netns exec "$ns" "$@"; }
	ip netns add "$ns"
	nsx ip link set lo up
	nsx sysctl -q -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=1048576 \
		net.ipv4.tcp_syncookies=0 net.ipv4.tcp_synack_retries=8
	nsx nft -f - <<NFT
table inet bench {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 20000-20003 tcp flags & rst == rst drop
	}
}
NFT

	coproc LISTEN { exec ip netns exec "$ns" "$work/synload" -listen -ports "$PORTS" -backlog 65535; }
	listener=$LISTEN_PID
	read -r ready <&"${LISTEN[0]}"
	[ "$ready" = ready ] || { echo "bench-synflood: listener did not start" >&2; exit 1; }

	t0=$EPOCHSECONDS
	nsx "$work/synload" -ports "$PORTS" -count "$COUNT"
	# Let the last SYNs land.
	prev=-1
	for _ in $(seq 50); do
		n=$(nsx ss -Htan state syn-recv | wc -l)
		[ "$n" = "$prev" ] && break
		prev=$n
		sleep 0.2
	done
	echo "SYN_RECV sockets: $n (asked for $COUNT)"
	# The kernel retransmits every SYN-ACK 1, 3, 7, 15 and 31 s after the SYN (then 63 s):
	# 100,000 retransmits per round would land in the timings. Measure in the quiet window.
	quiet=$((t0 + 33 - EPOCHSECONDS))
	if [ "$quiet" -gt 0 ]; then
		echo "waiting ${quiet}s for the SYN-ACK retransmit rounds to spread out"
		sleep "$quiet"
	fi

	# Measure from inside the namespace: no per-command `ip netns exec` in the timings.
	nsx bash "$self" --measure "$work" "$RUNS"
	exit $?
fi

# run NAME ARGV... once; append its wall time (ms) to $work/NAME.t and its peak RSS (KB) to
# $work/NAME.rss
run_once() {
	local name=$1 start end
	shift
	start=$EPOCHREALTIME
	/usr/bin/time -f '%M %U %S' -o "$work/$name.last" "$@" >"$work/$name.out" 2>/dev/null || true
	end=$EPOCHREALTIME
	awk -v s="$start" -v e="$end" 'BEGIN{printf "%.1f\n", (e-s)*1000}' >>"$work/$name.t"
	tail -n1 "$work/$name.last" | awk '{print $1}' >>"$work/$name.rss"
	# CPU time (user+sys, ms) is less disturbed than wall time by other load on the machine
	tail -n1 "$work/$name.last" | awk '{printf "%.0f\n", ($2+$3)*1000}' >>"$work/$name.cpu"
}
median() { sort -n "$1" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
maxof() { sort -n "$1" | tail -n1; }

echo "date: $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)  kernel: $(uname -r)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)  cores: $(nproc)"
echo "timed inside the namespace (no per-command ip netns exec); runs interleaved"

# Interleaved, so background work (SYN-ACK retransmit rounds) hits every command alike.
for _ in $(seq "$RUNS"); do
	run_once hostfix "$work/hostfix" synflood check -o json --interval 0
	run_once ss sh -c 'ss -Htan state syn-recv | wc -l'
	run_once netstat sh -c 'netstat -tuna | grep SYN_RECV | wc -l'
	run_once hostfix_proc "$work/hostfix" synflood check -o json --interval 0 --sockets proc
done
for n in hostfix ss netstat hostfix_proc; do
	printf '%-14s wall median %8.1f ms  runs: %-40s CPU median %6s ms  peak RSS %6s KB\n' "$n" "$(median "$work/$n.t")" "$(tr '\n' ' ' <"$work/$n.t")" "$(median "$work/$n.cpu")" "$(maxof "$work/$n.rss")"
done
hf_count=$(awk -F': ' '/"syn_recv_total"/{gsub(/,/,"",$2); print $2}' "$work/hostfix.out")
echo "counts: hostfix syn_recv_total=$hf_count  ss=$(cat "$work/ss.out")  netstat=$(cat "$work/netstat.out")"

awk -v hf="$(median "$work/hostfix.t")" -v ss="$(median "$work/ss.t")" -v ns="$(median "$work/netstat.t")" \
	-v rss="$(maxof "$work/hostfix.rss")" 'BEGIN{
	printf "hostfix/ss = %.2f (target <= 1)   netstat/hostfix = %.1fx (target >= 5)   hostfix peak RSS = %.1f MB (target < 64)\n", hf/ss, ns/hf, rss/1024
	ok = (hf <= ss) && (ns >= 5*hf) && (rss < 65536)
	print (ok ? "RESULT: all targets met" : "RESULT: target missed")
	exit(ok ? 0 : 1)
}'
