#!/usr/bin/env bash
# bench-mx.sh: time `hostfix mx check -` over N synthetic domains against a loopback test
# DNS server (scripts/mx-dnsserver), and a `dig +short MX` loop over the same domains
# against the same server, in the same run (issue 11: under 3 s for 10,000 domains on 2
# cores, at least 20x faster than the dig loop).
#
#   scripts/bench-mx.sh                 # 10,000 domains, hostfix median of 3 runs, dig once
#   N=2000 RUNS=5 scripts/bench-mx.sh
#   DIG_N=1000 scripts/bench-mx.sh      # dig over the first 1,000 only, scaled to N
#
# Every domain has an MX host of its own (mx.dI.bench.example, A 127.0.0.1, no AAAA), so
# hostfix asks three questions a domain (MX, A, AAAA) where dig asks one; the cPanel tree
# lists every domain in /etc/localdomains, so the verdict is OK (exit 0) when all answers
# came. Needs go and dig (Debian bind9-dnsutils). Loopback only.
set -euo pipefail

N=${N:-10000}
RUNS=${RUNS:-3}
DIG_N=${DIG_N:-$N}
PARALLEL=${PARALLEL:-} # mx.parallel; empty = the default
command -v dig >/dev/null || { echo "bench-mx: needs dig (apt-get install bind9-dnsutils)" >&2; exit 2; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-mx.XXXXXX")
SERVER=
cleanup() {
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/hostfix" .
go build -o "$WORK/mx-dnsserver" ./scripts/mx-dnsserver

"$WORK/mx-dnsserver" -synth bench.example >"$WORK/addr" &
SERVER=$!
for _ in $(seq 50); do [ -s "$WORK/addr" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/addr")
PORT=${ADDR##*:}

mkdir -p "$WORK/root/etc"
seq 0 $((N - 1)) | sed 's/^/d/; s/$/.bench.example/' >"$WORK/domains"
cp "$WORK/domains" "$WORK/root/etc/localdomains"
head -n "$DIG_N" "$WORK/domains" >"$WORK/dig-domains"

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $N domains, DNS server $ADDR (mx-dnsserver -synth bench.example)"

now() { date +%s.%N; }
flags=(--root "$WORK/root" mx check - --resolver "$ADDR" -o nagios)
[ -n "$PARALLEL" ] && flags+=(--parallel "$PARALLEL")

times=()
for i in $(seq "$RUNS"); do
	t0=$(now)
	"$WORK/hostfix" "${flags[@]}" <"$WORK/domains" >"$WORK/out" || { cat "$WORK/out"; echo "bench-mx: hostfix mx check failed" >&2; exit 1; }
	t1=$(now)
	times+=("$(echo "$t1 - $t0" | bc)")
done
head -c 300 "$WORK/out"; echo
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(((RUNS + 1) / 2))p")
echo "hostfix mx check - ($N domains): median ${median}s of runs: ${times[*]}"

t0=$(now)
while read -r d; do dig +short +tries=1 +time=2 MX "$d" @127.0.0.1 -p "$PORT"; done <"$WORK/dig-domains" >"$WORK/dig-out"
t1=$(now)
dig_s=$(echo "$t1 - $t0" | bc)
got=$(grep -c ' mx\.' "$WORK/dig-out" || true)
[ "$got" -eq "$DIG_N" ] || echo "bench-mx: warning: dig answered $got of $DIG_N" >&2
dig_scaled=$(echo "scale=3; $dig_s * $N / $DIG_N" | bc)
echo "dig +short MX loop ($DIG_N domains): ${dig_s}s; for $N: ${dig_scaled}s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ratio: $(echo "scale=1; $dig_scaled / $median" | bc)x faster (target >= 20x); hostfix under 3 s: $(echo "$median < 3" | bc | sed 's/1/yes/; s/0/no/')"
