#!/usr/bin/env bash
# bench-mailq.sh: time hostfix mailq against the reference commands of issue 5 on one
# generated qmail queue, in the same run, median of RUNS runs each (warm page cache:
# every run works on a fresh `cp -a` copy of the same template queue).
#
#   scripts/bench-mailq.sh            # 100,000 messages, 3 runs
#   N=20000 RUNS=5 scripts/bench-mailq.sh
#   ONLY=purge TMPDIR_BENCH=/dev/shm scripts/bench-mailq.sh   # only find -delete and the
#                                     # two --no-backup purges (the delete targets), on tmpfs
#   ONLY=exim scripts/bench-mailq.sh  # Exim (issue 15): a generated spool of N_EXIM=50000
#                                     # messages (40 % spam), list vs exim -bp | wc -l,
#                                     # purge of the spam vs exiqgrep -i -f | xargs exim -Mrm;
#                                     # needs root and exim4 (its own -C config, never the system's)
#   ONLY=postfix scripts/bench-mailq.sh # Postfix: a test-owned unpacked Postfix
#                                     # ($HOSTFIX_POSTFIX_DIR) with N_POSTFIX=5000 deferred
#                                     # messages, list vs postqueue -j | wc -l; needs root
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
go build -o "$WORK/geneximspool" ./internal/eximspool/cmd/geneximspool

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# filesystem of $WORK: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
if [ "${ONLY:-}" != exim ] && [ "${ONLY:-}" != postfix ]; then
	echo "# template: $("$WORK/genqueue" -dir "$WORK/tpl/var/qmail/queue" -n "$N" -seed 1)"
	[ "${ONLY:-}" = purge ] || echo "# small template: $("$WORK/genqueue" -dir "$WORK/small/var/qmail/queue" -n "$SMALL" -seed 2)"
	du -sh "$WORK/tpl" | awk '{print "# template size on disk: " $1}'

	mkdir -p "$WORK/tpl/etc/hostfix" "$WORK/small/etc/hostfix"
	for t in tpl small; do
		[ -d "$WORK/$t" ] || continue
		printf 'mailq:\n  stop_command: [true]\n  start_command: [true]\n  lock_wait: 10s\n  warn_messages: 0\n  crit_messages: 0\n  warn_age: 0s\n  crit_age: 0s\n' >"$WORK/$t/etc/hostfix/config.yaml"
	done
fi

Q=var/qmail/queue
fresh() { # fresh TEMPLATE: a new copy of the template in $WORK/r (hard links kept)
	rm -rf "$WORK/r"
	cp -a "$WORK/$1" "$WORK/r"
	sync
	sleep "${SETTLE:-3}" # let the journal and discards of the rm/cp finish before timing
}

if [ "${ONLY:-}" = exim ] || [ "${ONLY:-}" = postfix ]; then
	[ "$(id -u)" = 0 ] || { echo "bench-mailq: ONLY=$ONLY needs root (the MTA's own tools)" >&2; exit 2; }
	chmod 755 "$WORK"
	declare -A MEDIAN RSS
	ratio2() { awk -v a="${MEDIAN[$1]}" -v b="${MEDIAN[$2]}" 'BEGIN {printf "%.2f", a / b}'; }
	measure_simple() { # NAME SETUP CMD...: median of RUNS wall time and its peak RSS
		local name=$1 setup=$2 i results=() med
		shift 2
		for ((i = 0; i < RUNS; i++)); do
			[ -n "$setup" ] && $setup
			$TIME -f '%e %M' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || {
				echo "bench-mailq: $name failed:" >&2
				cat "$WORK/err" >&2
				exit 1
			}
			results+=("$(cat "$WORK/time")")
		done
		med=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
		MEDIAN[$name]=${med% *}
		RSS[$name]=${med#* }
		printf '%-42s %8.2f s  %7d KB peak RSS   (runs: %s)\n' "$name" "${med% *}" "${med#* }" "$(printf '%s ' "${results[@]%% *}")"
	}
fi

if [ "${ONLY:-}" = exim ]; then
	N_EXIM=${N_EXIM:-50000}
	EXIM=${EXIM:-$(command -v exim4 || command -v exim)}
	EXIQGREP=${EXIQGREP:-$(command -v exiqgrep)}
	uid=$(id -u Debian-exim 2>/dev/null || id -u exim)
	gid=$(id -g Debian-exim 2>/dev/null || id -g exim)
	echo "# exim: $("$EXIM" -bV 2>/dev/null | head -1)"
	echo "# template: $("$WORK/geneximspool" -dir "$WORK/extpl/spool/input" -n "$N_EXIM" -seed 1 -uid "$uid" -gid "$gid")"
	mkdir -p "$WORK/log" "$WORK/extpl/etc/hostfix"
	chown -R "$uid:$gid" "$WORK/extpl/spool" "$WORK/log"
	chmod 755 "$WORK/extpl" "$WORK/extpl/spool"
	printf 'primary_hostname = bench.example\nspool_directory = %s\nlog_file_path = %s/%%slog\nkeep_environment =\nbegin routers\ndefer_all:\n  driver = redirect\n  allow_defer\n  data = :defer: bench\nbegin retry\n* * F,4d,1h\n' \
		"$WORK/r/spool" "$WORK/log" >"$WORK/exim.conf"
	printf 'mailq:\n  mta: exim\n  exim_spool: /spool/input\n  exim_command: [%s, -C, %s]\n  warn_messages: 0\n  crit_messages: 0\n  warn_age: 0s\n  crit_age: 0s\n' \
		"$EXIM" "$WORK/exim.conf" >"$WORK/extpl/etc/hostfix/config.yaml"
	freshex() {
		fresh extpl
		chmod 755 "$WORK/r"
	}
	freshex
	measure_simple "exim -bp | wc -l (reference)" "" bash -c "'$EXIM' -C '$WORK/exim.conf' -bp | wc -l"
	measure_simple "hostfix mailq list -o json (exim)" "" "$WORK/hostfix" --root "$WORK/r" mailq list -o json
	measure_simple "hostfix mailq stats (exim)" "" "$WORK/hostfix" --root "$WORK/r" mailq stats -o json
	measure_simple "exiqgrep -i -f | xargs exim -Mrm (ref)" freshex bash -c "'$EXIQGREP' -E '$EXIM' -C '$WORK/exim.conf' -i -f 'spam@victim\\.example' | xargs '$EXIM' -C '$WORK/exim.conf' -Mrm"
	left=$("$EXIM" -C "$WORK/exim.conf" -bpc)
	measure_simple "hostfix mailq purge --sender (exim)" freshex "$WORK/hostfix" --root "$WORK/r" mailq purge --sender '^spam@victim\.example$' --yes
	echo "# messages left: reference $left, hostfix $("$EXIM" -C "$WORK/exim.conf" -bpc)"
	echo
	echo "exim list -o json / exim -bp | wc -l:   $(ratio2 'hostfix mailq list -o json (exim)' 'exim -bp | wc -l (reference)')  (target <= 1.00)"
	echo "exim purge --sender / exiqgrep|xargs:   $(ratio2 'hostfix mailq purge --sender (exim)' 'exiqgrep -i -f | xargs exim -Mrm (ref)')  (target <= 1.00)"
	exit 0
fi

if [ "${ONLY:-}" = postfix ]; then
	N_POSTFIX=${N_POSTFIX:-5000}
	PF=${HOSTFIX_POSTFIX_DIR:-/opt/hostfix-ci/postfix}
	export LD_LIBRARY_PATH=$PF/usr/lib/postfix
	getent group postdrop >/dev/null || { echo "bench-mailq: needs the group postdrop" >&2; exit 2; }
	getent passwd postfix >/dev/null || { echo "bench-mailq: needs the user postfix" >&2; exit 2; }
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$WORK/pf/etc" "$WORK/pf/queue" "$WORK/pf/data" "$WORK/pfroot/etc/hostfix"
	chown postfix: "$WORK/pf/data"
	chmod 755 "$WORK/pf"
	imp=$("$PF/usr/sbin/postconf" -dh import_environment 2>/dev/null)
	{
		echo "compatibility_level = 3.6"
		echo "queue_directory = $WORK/pf/queue"
		echo "command_directory = $PF/usr/sbin"
		echo "daemon_directory = $PF/usr/lib/postfix/sbin"
		echo "meta_directory = $PF/etc/postfix"
		echo "shlib_directory = $PF/usr/lib/postfix"
		echo "data_directory = $WORK/pf/data"
		echo "mail_owner = postfix"
		echo "setgid_group = postdrop"
		echo "maillog_file = $WORK/pf/maillog"
		echo "maillog_file_prefixes = $WORK/pf"
		echo "import_environment = $imp LD_LIBRARY_PATH=$PF/usr/lib/postfix"
		echo "myhostname = bench.example"
		echo "mydestination ="
		echo "inet_interfaces = loopback-only"
		echo "inet_protocols = ipv4"
		echo "mynetworks = 127.0.0.0/8"
		echo "defer_transports = smtp"
		echo "relayhost = [127.0.0.1]:1"
		echo "smtp_dns_support_level = disabled"
		echo "alias_maps ="
		echo "alias_database ="
	} >"$WORK/pf/etc/main.cf"
	printf '127.0.0.1:%s inet n - n - - smtpd\npickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\nqmgr unix n - n 300 1 qmgr\nrewrite unix - - n - - trivial-rewrite\nbounce unix - - n - 0 bounce\ndefer unix - - n - 0 bounce\ntrace unix - - n - 0 bounce\nflush unix n - n 1000? 0 flush\nsmtp unix - - n - - smtp\nshowq unix n - n - - showq\nerror unix - - n - - error\nretry unix - - n - - error\npostlog unix-dgram n - n - 1 postlogd\nanvil unix - - n - 1 anvil\nscache unix - - n - 1 scache\nproxymap unix - - n - - proxymap\nverify unix - - n - 1 verify\n' \
		"$port" >"$WORK/pf/etc/master.cf"
	"$PF/usr/sbin/postfix" -c "$WORK/pf/etc" start 2>/dev/null
	trap '"$PF/usr/sbin/postfix" -c "$WORK/pf/etc" stop 2>/dev/null; rm -rf "$WORK"' EXIT
	python3 -c '
import smtplib, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
s = None
for _ in range(50):
    try:
        s = smtplib.SMTP("127.0.0.1", port)
        break
    except OSError:
        time.sleep(0.2)
for i in range(n):
    sender = "spam@victim.example" if i % 5 < 2 else "user%d@example.org" % (i % 500)
    s.sendmail(sender, ["r%d@example.net" % i], "Subject: m %d\r\n\r\nbody %d\r\n" % (i, i))
    if i % 500 == 499:
        s.quit()
        s = smtplib.SMTP("127.0.0.1", port)
s.quit()
' "$port" "$N_POSTFIX"
	until [ "$("$PF/usr/sbin/postqueue" -c "$WORK/pf/etc" -j | grep -c '"queue_name": "deferred"')" -ge "$N_POSTFIX" ]; do sleep 2; done
	echo "# postfix $("$PF/usr/sbin/postconf" -c "$WORK/pf/etc" -h mail_version) with $N_POSTFIX deferred messages"
	printf 'mailq:\n  mta: postfix\n  postqueue_command: [%s, -c, %s]\n  postsuper_command: [%s, -c, %s]\n  postcat_command: [%s, -c, %s]\n  warn_messages: 0\n  crit_messages: 0\n  warn_age: 0s\n  crit_age: 0s\n' \
		"$PF/usr/sbin/postqueue" "$WORK/pf/etc" "$PF/usr/sbin/postsuper" "$WORK/pf/etc" "$PF/usr/sbin/postcat" "$WORK/pf/etc" >"$WORK/pfroot/etc/hostfix/config.yaml"
	measure_simple "postqueue -j | wc -l (reference)" "" bash -c "'$PF/usr/sbin/postqueue' -c '$WORK/pf/etc' -j | wc -l"
	measure_simple "hostfix mailq list -o json (postfix)" "" "$WORK/hostfix" --root "$WORK/pfroot" mailq list -o json
	echo
	echo "postfix list -o json / postqueue -j:    $(ratio2 'hostfix mailq list -o json (postfix)' 'postqueue -j | wc -l (reference)')  (target <= 1.20)"
	exit 0
fi

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
