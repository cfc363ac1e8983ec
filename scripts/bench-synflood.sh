#!/usr/bin/env bash
# bench-synflood.sh: time `hostfix synflood check` against ss and netstat on the same
# 100,000 half-open connections, in the same run, inside a private network namespace.
#
#   sudo scripts/bench-synflood.sh [COUNT]          (default 100000; RUNS=5 timed runs each)
#   sudo MODE=raw scripts/bench-synflood.sh [COUNT] (raw spoofed SYNs, no client sockets)
#
# Needs root, go, ip (iproute2), nft (nftables), ss (iproute2), netstat (net-tools) and
# GNU time (/usr/bin/time, Debian package "time"). The host's own sysctls, firewall and
# sockets are not touched: everything happens in the namespace, which is deleted at exit
# (sysctls set here are the namespace's own; RLIMIT_NOFILE is raised for synload only).
#
# How the sockets are made. Both modes: listeners on 127.0.0.1:20000 and up (one per
# 25,000 sockets, at least four) with listen(65535), somaxconn and tcp_max_syn_backlog
# 262144, tcp_syncookies=0 so each SYN is queued rather than answered statelessly, and
# tcp_synack_retries=8 so request sockets live for minutes. 25,000 per listener keeps each
# queue under half its backlog, below which the kernel does not prune old entries early.
#
# MODE=connect (default; the issue's method, the same as the integration test):
# scripts/synload -connect opens COUNT real client connections from 127.0.0.1 (ephemeral
# ports 1024-65535) and holds them (in several processes when RLIMIT_NOFILE cannot be
# raised to COUNT); nftables drops every packet to the listener ports that
# is not a bare SYN, so the client's ACK never arrives: the client socket is ESTABLISHED
# and the server keeps a SYN_RECV request socket. netstat must read and grep both halves
# (2 x COUNT rows); sock_diag filters by state in the kernel.
#
# MODE=raw: scripts/synload sends raw SYNs from 127.1.0.0 upwards; the SYN-ACKs loop back
# to those addresses, which have no socket, and nftables drops the RSTs the kernel answers
# with (dropping the SYN-ACKs instead does not work: a SYN-ACK retransmit that fails to
# send drops the request socket). Only COUNT rows exist: the lighter case for netstat.
set -euo pipefail

if [ "${1:-}" = --measure ]; then
	# Second half, run by the first inside the namespace: "$work", RUNS and the load start
	# time come from it.
	work=$2
	RUNS=$3
	t_start=$4
	MEASURE=1
fi
COUNT=${COUNT:-100000}
if [ -z "${MEASURE:-}" ] && [ -n "${1:-}" ]; then COUNT=$1; fi
RUNS=${RUNS:-5}
MODE=${MODE:-connect}
self=$(realpath "$0")
cd "$(dirname "$self")/.."

if [ -z "${MEASURE:-}" ]; then
	case "$MODE" in connect | raw) ;; *) echo "bench-synflood: MODE=$MODE: want connect or raw" >&2; exit 2 ;; esac
	case "$COUNT" in '' | *[!0-9]*) echo "bench-synflood: COUNT $COUNT: want a number" >&2; exit 2 ;; esac
	for tool in go ip nft ss netstat /usr/bin/time; do
		command -v "$tool" >/dev/null || { echo "bench-synflood: needs $tool" >&2; exit 2; }
	done
	[ "$(id -u)" = 0 ] || { echo "bench-synflood: needs root (network namespace, raw sockets, RLIMIT_NOFILE)" >&2; exit 2; }
	nports=$(((COUNT + 24999) / 25000))
	[ "$nports" -ge 4 ] || nports=4
	last=$((20000 + nports - 1))
	PORTS=$(seq -s, 20000 "$last")
	if [ "$MODE" = connect ]; then
		# One client process holds at most its RLIMIT_NOFILE of sockets. synload raises the
		# limit itself, but past the hard limit that needs CAP_SYS_RESOURCE (which
		# containers often drop, even for root) and stays under fs.nr_open (global, not
		# touched here). Without it, split the connections over several processes.
		per=$COUNT
		if ! (ulimit -Hn $((COUNT + 256))) 2>/dev/null; then
			per=$(($(ulimit -Hn) - 256))
			[ "$per" -ge 1000 ] || { echo "bench-synflood: open-file hard limit $(ulimit -Hn) too low for synload" >&2; exit 2; }
		fi
	fi

	ns="hfbench-$$-$RANDOM"
	work=$(mktemp -d)
	pids=()
	nsx() { ip netns exec "$ns" "$@"; }
	cleanup() {
		# Request sockets outlive the namespace (minutes, in the host's shared established
		# hash) and slow every later dump. In connect mode, lift the firewall rule so the
		# clients' last byte completes each handshake (synload writes it on SIGTERM), then
		# the clients reset their connections (SO_LINGER 0), then the listeners go.
		local i
		if [ "$MODE" = connect ]; then nsx nft delete table inet bench 2>/dev/null || true; fi
		for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
			kill "${pids[i]}" 2>/dev/null || true
			wait "${pids[i]}" 2>/dev/null || true
		done
		# Anything still running in the namespace is ours (it is private): a process left
		# there would keep its sockets, and the namespace, alive after ip netns del.
		for i in $(ip netns pids "$ns" 2>/dev/null); do kill "$i" 2>/dev/null || true; done
		for ((i = 0; i < 50; i++)); do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.2
		done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "$work"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM

	go build -o "$work/hostfix" .
	go build -o "$work/synload" ./scripts/synload

	# start NAME ARGV...: run synload in the namespace in the background, wait for its
	# "ready" line (it holds its sockets until killed).
	start() {
		local name=$1 i
		shift
		# Not through the nsx function: a backgrounded function is a subshell whose $! is
		# not synload's pid. ip netns exec execs synload, so $! is synload.
		ip netns exec "$ns" "$work/synload" "$@" >"$work/$name.ready" 2>"$work/$name.err" &
		pids+=($!)
		for ((i = 0; i < 1200; i++)); do
			if grep -q '^ready' "$work/$name.ready"; then cat "$work/$name.err" >&2; return 0; fi
			kill -0 "${pids[-1]}" 2>/dev/null || break
			sleep 0.1
		done
		echo "bench-synflood: synload $name did not get ready:" >&2
		cat "$work/$name.err" >&2
		exit 1
	}

	# Request sockets left by an earlier run (raw mode, or a run that was killed) are still
	# walked by every dump until their timers drop them: wait for them to go, for a fair run.
	# (0 when the cache is merged into another or slabinfo is unreadable: no wait then)
	stale() { awk '$1 == "request_sock_TCP" {n = $2} END {print n + 0}' /proc/slabinfo 2>/dev/null || echo 0; }
	for ((i = 0; i < 60; i++)); do
		[ "$(stale)" -lt 5000 ] && break
		[ "$i" = 0 ] && echo "waiting for $(stale) request sockets left from earlier runs to expire"
		sleep 5
	done
	echo "request sockets in the kernel before the run (all namespaces): $(stale)"

	ip netns add "$ns"
	nsx ip link set lo up
	nsx sysctl -q -w net.core.somaxconn=262144 net.ipv4.tcp_max_syn_backlog=262144 \
		net.ipv4.tcp_syncookies=0 net.ipv4.tcp_synack_retries=8 \
		net.ipv4.ip_local_port_range="1024 65535"
	if [ "$MODE" = connect ]; then
		# Only bare SYNs reach the listeners: the client's ACK (and anything after it) is
		# dropped, so every connection stays half-open on the server side.
		nsx nft -f - <<NFT
table inet bench {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 20000-$last tcp flags & (syn | ack) != syn drop
	}
}
NFT
	else
		nsx nft -f - <<NFT
table inet bench {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 20000-$last tcp flags & rst == rst drop
	}
}
NFT
	fi

	start listen -listen -ports "$PORTS" -backlog 65535
	t_start=$EPOCHSECONDS
	if [ "$MODE" = connect ]; then
		left=$COUNT
		i=0
		while [ "$left" -gt 0 ]; do
			n=$((left < per ? left : per))
			i=$((i + 1))
			start "connect$i" -connect -ports "$PORTS" -count "$n"
			left=$((left - n))
		done
	else
		nsx "$work/synload" -ports "$PORTS" -count "$COUNT"
		# Let the last SYNs land.
		prev=-1
		for _ in $(seq 50); do
			n=$(nsx ss -Htan state syn-recv | wc -l)
			[ "$n" = "$prev" ] && break
			prev=$n
			sleep 0.2
		done
	fi
	t_end=$EPOCHSECONDS

	# All three tools must see exactly COUNT before anything is timed.
	hf_n=$(nsx "$work/hostfix" synflood check -o json --interval 0 | awk -F': ' '/"syn_recv_total"/{gsub(/,/,"",$2); print $2}' || true)
	ss_n=$(nsx ss -Htan state syn-recv | wc -l)
	ns_n=$(nsx sh -c 'netstat -tuna | grep SYN_RECV | wc -l')
	est_n=$(nsx ss -Htan state established | wc -l)
	echo "mode $MODE: $COUNT asked, SYN_RECV counted by hostfix $hf_n, ss $ss_n, netstat $ns_n; ESTABLISHED (client side) $est_n; listeners on ports 20000-$last"
	if [ "$hf_n" != "$COUNT" ] || [ "$ss_n" != "$COUNT" ] || [ "$ns_n" != "$COUNT" ]; then
		echo "bench-synflood: the tools do not all count $COUNT SYN_RECV sockets; not timing" >&2
		exit 1
	fi

	# The kernel retransmits every SYN-ACK 1, 3, 7, 15 and 31 s after the SYN (then 63 s,
	# and in connect mode the client answers each with an ACK): COUNT retransmits per round
	# would land in the timings. Measure in the quiet window after the 31 s round.
	quiet=$((t_end + 33 - EPOCHSECONDS))
	if [ "$quiet" -gt 0 ]; then
		echo "waiting ${quiet}s for the SYN-ACK retransmit rounds to spread out"
		sleep "$quiet" & wait $! # (a signal interrupts wait, not a foreground sleep)
	fi

	# Measure from inside the namespace: no per-command `ip netns exec` in the timings.
	nsx bash "$self" --measure "$work" "$RUNS" "$t_start"
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
echo "mode: $MODE  timed inside the namespace (no per-command ip netns exec); runs interleaved"
t_measure=$EPOCHSECONDS

# Interleaved, so background work (SYN-ACK retransmit rounds) hits every command alike.
for _ in $(seq "$RUNS"); do
	run_once hostfix "$work/hostfix" synflood check -o json --interval 0
	run_once ss sh -c 'ss -Htan state syn-recv | wc -l'
	run_once netstat sh -c 'netstat -tuna | grep SYN_RECV | wc -l'
	run_once hostfix_proc "$work/hostfix" synflood check -o json --interval 0 --sockets proc
	# No socket is in TIME_WAIT: this is the kernel walking its established hash and
	# sending nothing, the floor under any sock_diag dump (hostfix's and ss's).
	run_once walk_only ss -Htan state time-wait
done
for n in hostfix ss netstat hostfix_proc walk_only; do
	printf '%-14s wall median %8.1f ms  runs: %-40s CPU median %6s ms  peak RSS %6s KB\n' "$n" "$(median "$work/$n.t")" "$(tr '\n' ' ' <"$work/$n.t")" "$(median "$work/$n.cpu")" "$(maxof "$work/$n.rss")"
done
echo "timed from $((t_measure - t_start)) s to $((EPOCHSECONDS - t_start)) s after the first SYN (SYN-ACK retransmit rounds at 31 s and 63 s after each SYN)"
hf_count=$(awk -F': ' '/"syn_recv_total"/{gsub(/,/,"",$2); print $2}' "$work/hostfix.out")
echo "counts: hostfix syn_recv_total=$hf_count  ss=$(cat "$work/ss.out")  netstat=$(cat "$work/netstat.out")"

awk -v hf="$(median "$work/hostfix.t")" -v ss="$(median "$work/ss.t")" -v ns="$(median "$work/netstat.t")" \
	-v rss="$(maxof "$work/hostfix.rss")" 'BEGIN{
	printf "hostfix/ss = %.2f (target <= 1)   netstat/hostfix = %.1fx (target >= 5)   hostfix peak RSS = %.1f MB (target < 64)\n", hf/ss, ns/hf, rss/1024
	ok = (hf <= ss) && (ns >= 5*hf) && (rss < 65536)
	print (ok ? "RESULT: all targets met" : "RESULT: target missed")
	exit(ok ? 0 : 1)
}'
