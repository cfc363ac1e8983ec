#!/usr/bin/env bash
# bench-smartermail.sh: time `hostfix smartermail migrate` (verified copy: temp file, fsync,
# SHA-256 of source and re-read copy, rename, per file) against `cp -a` of the same Domains
# tree, in the same run, and a no-change rerun; peak RSS from GNU time.
#
#   scripts/bench-smartermail.sh                       # 20,000 files, ~1 GB
#   DOMAINS=2 USERS=10 MESSAGES=50 scripts/bench-smartermail.sh   # 1,000 files, quick
#   TMPDIR_BENCH=/dev/shm scripts/bench-smartermail.sh  # on tmpfs
#   CACHE=cold scripts/bench-smartermail.sh             # source read from disk (as root)
#
# Tree: DOMAINS x USERS x MESSAGES .eml files of 2-50 KB, every BIG_EVERY-th one BIG bytes
# (default 10 x 20 x 100 = 20,000 messages, one in 200 of 5 MiB: ~1 GB), plus the legacy
# Service files. Needs: go, GNU time (/usr/bin/time), cp. Works in a temp directory on
# /var/tmp (a disk) and removes it at the end.
set -euo pipefail

DOMAINS=${DOMAINS:-10}
USERS=${USERS:-20}
MESSAGES=${MESSAGES:-100}
BIG=${BIG:-$((5 << 20))}
BIG_EVERY=${BIG_EVERY:-200}
PARALLEL=${PARALLEL:-4}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-smartermail: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d "${TMPDIR_BENCH:-/var/tmp}/bench-smartermail.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

go build -o "$WORK/hostfix" .
go build -o "$WORK/gensm" ./internal/smartermailgen/cmd/gensm

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# filesystem of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
echo "# tree: $("$WORK/gensm" -install "$WORK/old/SmarterMail" -domains "$WORK/old/Domains" -n-domains "$DOMAINS" -users "$USERS" -messages "$MESSAGES" -big "$BIG" -big-every "$BIG_EVERY" -excludable=false)"
FILES=$(find "$WORK/old/Domains" -type f | wc -l)
BYTES=$(du -sb "$WORK/old/Domains" | cut -f1)
echo "# Domains: $FILES files, $BYTES bytes (apparent, with folders)"

# run NAME CMD...: wall seconds and peak RSS (KB) of one run, printed and kept in $SECS/$RSS.
run() {
	local name=$1
	shift
	"$TIME" -f '%e %M %U %S' -o "$WORK/time.$name" "$@" >"$WORK/out.$name" 2>&1 || { cat "$WORK/out.$name"; exit 1; }
	read -r SECS RSS USR SYS <"$WORK/time.$name"
	printf '%-34s %8.2f s %8d KB peak RSS %7.2f s user %7.2f s sys\n' "$name" "$SECS" "$RSS" "$USR" "$SYS"
}

BASE=("$WORK/hostfix" --root "$WORK/root" smartermail migrate --from "$WORK/old/SmarterMail" --to "$WORK/new/SmarterMail"
	--domains-from "$WORK/old/Domains" --domains-to "$WORK/new/Domains" --domains-path 'D:\SmarterMail\Domains'
	--parallel "$PARALLEL" --yes)
# --settle 0: the settle check is a fixed wait before copying, not copy work; the rerun
# with the default 2s is timed separately.
MIGRATE=("${BASE[@]}" --settle 0)

# Every copy starts from the same state, because on ext4 the state left by the run before
# can cost a copy more than the copy itself: earlier copies are removed and synced, then
# the script waits out ext4's "recently deleted inode" window (5-10 s, during which new
# files skip over the freed inodes; on a filesystem without a journal every create also
# looks each candidate up), and, as root, drops the page cache and (CACHE=warm, the
# default) reads the source back in; CACHE=cold leaves it on disk, as on a server whose
# mail store is not in memory.
CACHE=${CACHE:-warm}
prep() {
	rm -rf "$WORK/cp" "$WORK/new" "$WORK/root"
	mkdir -p "$WORK/root"
	sync
	sleep "${SETTLE_DELETES:-11}"
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
		[ "$CACHE" = cold ] || tar -cf - -C "$WORK" old | cat >/dev/null
	fi
}
echo "# cache: $CACHE$([ -w /proc/sys/vm/drop_caches ] || echo ' (not root: page cache not dropped)')"

prep
run "cp -a" cp -a "$WORK/old/Domains" "$WORK/cp"
CP=$SECS
prep
run "cp -a; sync" sh -c "cp -a '$WORK/old/Domains' '$WORK/cp' && sync"
CPSYNC=$SECS
prep
run "hostfix migrate (verified copy)" "${MIGRATE[@]}"
HF=$SECS
HFRSS=$RSS
grep -o 'copied [0-9,]* files[^;]*; [0-9,]* verified' "$WORK/out.hostfix migrate (verified copy)" | head -1 | sed 's/^/# /'
sync
run "hostfix migrate (no-change rerun)" "${MIGRATE[@]}"
RE=$SECS
RERSS=$RSS
grep -q 'nothing to do' "$WORK/out.hostfix migrate (no-change rerun)" || { echo "rerun was not a no-op"; cat "$WORK/out.hostfix migrate (no-change rerun)"; exit 1; }
# The same rerun with the default settle check (every file stat-ed twice, 2s apart).
run "hostfix rerun, default settle 2s" "${BASE[@]}"
# cp -a once more after hostfix: on a shared machine the reference is timed twice and the
# faster run is the one compared against.
prep
run "cp -a (again)" cp -a "$WORK/old/Domains" "$WORK/cp"
CP=$(awk -v a="$CP" -v b="$SECS" 'BEGIN {print (a < b) ? a : b}')
rm -rf "$WORK/cp"

awk -v cp="$CP" -v cps="$CPSYNC" -v hf="$HF" -v re="$RE" -v rss="$HFRSS" -v rrss="$RERSS" -v bytes="$BYTES" 'BEGIN {
	printf "throughput: cp -a %.0f MB/s, cp -a+sync %.0f MB/s, hostfix %.0f MB/s\n", bytes/cp/1e6, bytes/cps/1e6, bytes/hf/1e6
	printf "hostfix / cp -a throughput:      %.0f%% (faster cp -a run; target >= 80%%)\n", 100*cp/hf
	printf "hostfix / cp -a+sync throughput: %.0f%%\n", 100*cps/hf
	printf "no-change rerun / first copy:    %.1f%% (target < 10%%)\n", 100*re/hf
	printf "peak RSS: copy %.1f MB, rerun %.1f MB (target < 100 MB)\n", rss/1024, rrss/1024
}'
