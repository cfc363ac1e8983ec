#!/usr/bin/env bash
# bench-exim.sh: time `hostfix exim auth-check` against `grep -c 'authenticator failed'` on
# one generated Exim main log, in the same run, median of RUNS runs each, with the page
# cache warm (the log is read once before timing). The log is written by
# internal/eximgen from real Exim 4.96 line shapes (receptions with and without A=,
# deliveries, completions, lost connections, HELO rejections and 10% authenticator
# failures, 2% of those cPanel service-auth) and deleted at the end.
#
#   scripts/bench-exim.sh                    # 1 GB, 5 runs
#   SIZE=$((256<<20)) RUNS=3 scripts/bench-exim.sh
#   TMPDIR_BENCH=/dev/shm scripts/bench-exim.sh
#
# Needs: go, grep, GNU time (/usr/bin/time, Debian package "time"). Runs as any user.
set -euo pipefail

SIZE=${SIZE:-$((1 << 30))}
RUNS=${RUNS:-5}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-exim: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/bench-exim.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/hostfix" .
go build -o "$WORK/genexim" ./internal/eximgen/cmd/genexim

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# filesystem of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}'); $(grep --version | head -1)"
LOG=$WORK/exim_mainlog
echo "# log: $("$WORK/genexim" -o "$LOG" -bytes "$SIZE" -seed 1)"
cat "$LOG" >/dev/null # warm the page cache

# An empty config so that the host's /etc/hostfix/config.yaml cannot change the run, and
# no chkservd.log.
CONF=$WORK/config.yaml
printf 'exim:\n  chkservd_log: ""\n' >"$CONF"

# The commands run interleaved, RUNS rounds of one run each, so that a change in the
# machine's load (it is shared) hits every command alike; per command, the median wall
# time is printed with the user and system CPU and peak RSS of that run.
KEYS=(grep check json single)
declare -A NAME OK CMD
NAME[grep]="grep -c 'authenticator failed' (reference)"
OK[grep]="0"
CMD[grep]="grep -c 'authenticator failed' $LOG"
NAME[check]="hostfix exim auth-check --log FILE"
OK[check]="0 1 2"
CMD[check]="$WORK/hostfix --config $CONF exim auth-check --log $LOG --since 0"
NAME[json]="hostfix exim auth-check --log FILE -o json"
OK[json]="0 1 2"
CMD[json]="$WORK/hostfix --config $CONF exim auth-check --log $LOG --since 0 -o json"
NAME[single]="GOMAXPROCS=1 hostfix exim auth-check"
OK[single]="0 1 2"
CMD[single]="env GOMAXPROCS=1 $WORK/hostfix --config $CONF exim auth-check --log $LOG --since 0"

declare -A RESULTS MEDIAN RSS CPU
for ((i = 0; i < RUNS; i++)); do
	for k in "${KEYS[@]}"; do
		rc=0
		# word splitting of CMD is intended: no path here has spaces (mktemp under TMPDIR_BENCH)
		# shellcheck disable=SC2086
		eval $TIME -f "'%e %U %S %M'" -o "$WORK/time" ${CMD[$k]} >"$WORK/out.$k" 2>"$WORK/err" || rc=$?
		if [[ " ${OK[$k]} " != *" $rc "* ]]; then
			echo "bench-exim: ${NAME[$k]} exited $rc:" >&2
			cat "$WORK/err" >&2
			exit 1
		fi
		RESULTS[$k]+="$(tail -1 "$WORK/time")"$'\n' # GNU time puts "Command exited with …" first
	done
done
for k in "${KEYS[@]}"; do
	med=$(printf '%s' "${RESULTS[$k]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
	read -r wall user sys rss <<<"$med"
	MEDIAN[$k]=$wall
	RSS[$k]=$rss
	CPU[$k]=$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')
	printf '%-44s %6.2f s wall  %5.2f s user  %5.2f s sys  %7d KB peak RSS   (walls: %s)\n' \
		"${NAME[$k]}" "$wall" "$user" "$sys" "$rss" "$(printf '%s' "${RESULTS[$k]}" | awk '{printf "%s ", $1}')"
done
echo "#   grep counted: $(cat "$WORK/out.grep")"
echo "#   hostfix: $(head -1 "$WORK/out.check")"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "auth-check / grep -c, wall:              $(ratio "${MEDIAN[check]}" "${MEDIAN[grep]}")  (target <= 1.00; peak RSS $((RSS[check] / 1024)) MB, target < 64 MB)"
echo "auth-check (1 thread) / grep -c, wall:   $(ratio "${MEDIAN[single]}" "${MEDIAN[grep]}")"
echo "auth-check / grep -c, CPU (user+sys):    $(ratio "${CPU[check]}" "${CPU[grep]}")"
