#!/usr/bin/env bash
# bench-mailq.sh: time hostfix mailq against the reference commands of issue 5 on one
# generated qmail queue, in the same run, median of RUNS runs each (warm page cache:
# every run works on a fresh `cp -a` copy of the same template queue).
#
#   scripts/bench-mailq.sh            # 100,000 messages, 3 runs
#   N=20000 RUNS=5 scripts/bench-mailq.sh
#   ONLY=purge TMPDIR_BENCH=/dev/shm scripts/bench-mailq.sh   # only find -delete and the
#                                     # two --no-backup purges (the delete targets), on tmpfs
#
# Needs: go, GNU time (/usr/bin/time, Debian package "time"), find, cp. Runs as any user;
# works under a temp directory on /var/tmp (a disk, not tmpfs) and removes it at the end.
set -euo pipefail

N=${N:-100000}
RUNS=${RUNS:-3}
SMALL=${SMALL:-$((N / 10))} # the runbook's fork-per-file find is timed on this many, then scaled
RUNBOOK_RUNS=${RUNBOOK_RUNS:-1} # it takes minutes; one run is enough to see a 30x gap
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-mailq: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/bench-mailq.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/hostfix" .
go build -o "$WORK/genqueue" ./internal/qmailgen/cmd/genqueue

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# filesystem of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
echo "# template: $("$WORK/genqueue" -dir "$WORK/tpl/var/qmail/queue" -n "$N" -seed 1)"
[ "${ONLY:-}" = purge ] || echo "# small template: $("$WORK/genqueue" -dir "$WORK/small/var/qmail/queue" -n "$SMALL" -seed 2)"
du -sh "$WORK/tpl" | awk '{print "# template size on disk: " $1}'

mkdir -p "$WORK/tpl/etc/hostfix" "$WORK/small/etc/hostfix"
for t in tpl small; do
	[ -d "$WORK/$t" ] || continue
	printf 'mailq:\n  stop_command: [true]\n  start_command: [true]\n  lock_wait: 10s\n  warn_messages: 0\n  crit_messages: 0\n  warn_age: 0s\n  crit_age: 0s\n' >"$WORK/$t/etc/hostfix/config.yaml"
done

Q=var/qmail/queue
fresh() { # fresh TEMPLATE: a new copy of the template in $WORK/r (hard links kept)
	rm -rf "$WORK/r"
	cp -a "$WORK/$1" "$WORK/r"
	sync
	sleep "${SETTLE:-3}" # let the journal and discards of the rm/cp finish before timing
}

# measure NAME SETUP CMD...: run CMD RUNS times (after SETUP each time, untimed) and print
# the median wall time and the peak RSS of that run.
declare -A MEDIAN RSS
measure() {
	local name=$1 setup=$2 runs=$RUNS
	shift 2
	if [ "$1" = "--runs" ]; then
		runs=$2
		shift 2
	fi
	local i results=()
	for ((i = 0; i < runs; i++)); do
		[ -n "$setup" ] && $setup
		$TIME -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || {
			echo "bench-mailq: $name failed:" >&2
			cat "$WORK/err" >&2
			exit 1
		}
		results+=("$(cat "$WORK/time")")
	done
	local med
	med=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
	MEDIAN[$name]=${med% *}
	RSS[$name]=${med#* }
	printf '%-34s %8.2f s  %7d KB peak RSS   (runs: %s)\n' "$name" "${med% *}" "${med#* }" \
		"$(printf '%s ' "${results[@]%% *}")"
}

if [ "${ONLY:-}" = purge ]; then
	measure "find -type f -delete (reference)" "fresh tpl" find "$WORK/r/$Q" -type f -delete
	measure "hostfix purge --all --no-backup" "fresh tpl" "$WORK/hostfix" --root "$WORK/r" mailq purge --all --no-backup --yes
	measure "hostfix purge --sender --no-backup" "fresh tpl" "$WORK/hostfix" --root "$WORK/r" mailq purge --sender '^spam@victim\.example$' --no-backup --yes
	ratio() { awk -v a="${MEDIAN[$1]}" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
	echo
	echo "purge --all / find -delete:         $(ratio 'hostfix purge --all --no-backup' "${MEDIAN[find -type f -delete (reference)]}")  (target <= 1.30)"
	echo "purge --sender / find -delete:      $(ratio 'hostfix purge --sender --no-backup' "${MEDIAN[find -type f -delete (reference)]}")  (target <= 2.00)"
	exit 0
fi

fresh tpl
measure "find+cat envelopes (reference)" "" find "$WORK/r/$Q/info" "$WORK/r/$Q/local" "$WORK/r/$Q/remote" "$WORK/r/$Q/todo" -type f -exec cat {} +
measure "hostfix mailq stats" "" "$WORK/hostfix" --root "$WORK/r" mailq stats -o json
measure "hostfix mailq list -o json" "" "$WORK/hostfix" --root "$WORK/r" mailq list -o json
measure "hostfix mailq list (text)" "" "$WORK/hostfix" --root "$WORK/r" mailq list
measure "hostfix purge --dry-run --sender" "" "$WORK/hostfix" --root "$WORK/r" mailq purge --sender '^spam@victim\.example$' --dry-run

measure "find -type f -delete (reference)" "fresh tpl" find "$WORK/r/$Q" -type f -delete
measure "hostfix purge --all --no-backup" "fresh tpl" "$WORK/hostfix" --root "$WORK/r" mailq purge --all --no-backup --yes
measure "hostfix purge --sender --no-backup" "fresh tpl" "$WORK/hostfix" --root "$WORK/r" mailq purge --sender '^spam@victim\.example$' --no-backup --yes
measure "hostfix purge --all (backup: rename)" "fresh tpl" "$WORK/hostfix" --root "$WORK/r" mailq purge --all --yes
measure "runbook find -exec rm (small)" "fresh small" --runs "$RUNBOOK_RUNS" bash -c "for d in mess info local intd todo remote; do find '$WORK/r/$Q/'\$d -type f -exec rm {} \\; ; done"

scale=$(awk -v n="$N" -v s="$SMALL" 'BEGIN {print n / s}')
runbook=$(awk -v t="${MEDIAN[runbook find -exec rm (small)]}" -v k="$scale" 'BEGIN {printf "%.2f", t * k}')
ratio() { awk -v a="${MEDIAN[$1]}" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "runbook find -exec rm, scaled to $N messages: ${runbook} s"
echo "stats / find+cat:                   $(ratio 'hostfix mailq stats' "${MEDIAN[find+cat envelopes (reference)]}")  (target <= 1.00, RSS < 100 MB)"
echo "list -o json / find+cat:            $(ratio 'hostfix mailq list -o json' "${MEDIAN[find+cat envelopes (reference)]}")  (target <= 1.00, RSS < 100 MB)"
echo "purge --all / find -delete:         $(ratio 'hostfix purge --all --no-backup' "${MEDIAN[find -type f -delete (reference)]}")  (target <= 1.30)"
echo "purge --sender / find -delete:      $(ratio 'hostfix purge --sender --no-backup' "${MEDIAN[find -type f -delete (reference)]}")  (target <= 2.00)"
echo "runbook (scaled) / purge --all:     $(awk -v a="$runbook" -v b="${MEDIAN[hostfix purge --all --no-backup]}" 'BEGIN {printf "%.1f", a / b}')x faster  (target >= 30)"
