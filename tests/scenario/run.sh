#!/bin/bash
# Run the scenario scripts against one real Kafka broker.
#
# Usage: tests/scenario/run.sh BUILD_DIR [NAME...]
#
# Runs every tests/scenario/[bfr][0-9]*.sh in name order (b basic, f faults
# and security, r regressions: simple before complex), or only those whose
# names start with one of the NAMEs given (e.g. `run.sh build b0001 f`).
# Other files (wip-*.sh, lib.sh) are never run. One broker, started here
# with scripts/kafka.sh in a temporary folder, serves every script
# (BOOTSTRAP is exported; each script uses topics of its own); a script
# that needs to stop a broker starts its own (broker_start_private).
#
# Prints each script's checks and its result, then the total as a last
# line "N passed, N failed" (checks over all scripts; a script that dies
# without its own result line counts one failure), and exits non-zero if
# anything failed. SCENARIO_TIMEOUT (600 s) bounds each script.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export LC_ALL=C

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [NAME...]" >&2
	exit 2
fi
BUILD=$1
shift
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD

scripts=()
for f in "$HERE"/[bfr][0-9]*.sh; do
	[ -f "$f" ] || continue
	n=$(basename "$f")
	if [ $# -gt 0 ]; then
		want=
		for p in "$@"; do
			case "$n" in "$p"*) want=1 ;; esac
		done
		[ -n "$want" ] || continue
	fi
	scripts+=("$f")
done

RUN=$(mktemp -d "${TMPDIR:-/tmp}/revokerd-scenario.XXXXXX") || exit 1
export SCENARIO_PIDDIR=$RUN/pids
mkdir -p "$SCENARIO_PIDDIR"
KDIR=$RUN/kafka
total_pass=0
total_fail=0

# kill_leftovers NAME: processes a killed script could not stop itself.
kill_leftovers() {
	local f=$SCENARIO_PIDDIR/$1 pid
	[ -f "$f" ] || return 0
	while read -r pid; do
		if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
		    grep -Eq 'revokerd|kafka\.Kafka'; then
			echo "# killing leftover pid $pid of $1"
			kill -KILL "$pid" 2>/dev/null
		fi
	done <"$f"
	rm -f "$f"
}

# BROKER=mock: librdkafka's mock cluster in a process of its own
# (revokerctl broker), for quick runs; scripts that stop or restart the
# broker skip themselves.
start_mock() {
	mkdir -p "$KDIR"
	"$BUILD/revokerctl" broker >"$KDIR/bootstrap" 2>"$KDIR/server.log" &
	echo $! >"$KDIR/mockpid"
	for _ in $(seq 50); do
		[ -s "$KDIR/bootstrap" ] && break
		sleep 0.1
	done
	BOOTSTRAP=$(cat "$KDIR/bootstrap")
	[ -n "$BOOTSTRAP" ] || return 1
	export BOOTSTRAP
	echo "# broker: librdkafka mock cluster at $BOOTSTRAP (BROKER=mock)"
}

broker_alive() {
	if [ -f "$KDIR/mockpid" ]; then
		kill -0 "$(cat "$KDIR/mockpid")" 2>/dev/null
	else
		"$ROOT/scripts/kafka.sh" status "$KDIR" >/dev/null 2>&1
	fi
}

cleanup() {
	if [ -f "$KDIR/mockpid" ]; then
		kill "$(cat "$KDIR/mockpid")" 2>/dev/null
		rm -f "$KDIR/mockpid"
		echo "# mock broker stopped"
	fi
	if [ -f "$KDIR/pid" ]; then
		"$ROOT/scripts/kafka.sh" stop "$KDIR" >/dev/null 2>&1
		echo "# broker stopped"
	fi
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'echo "# interrupted"; exit 1' INT TERM HUP

start_broker() {
	local t0=$SECONDS
	case "${BROKER:-kafka}" in
	kafka) ;;
	mock)
		start_mock
		return ;;
	*)
		echo "# unknown BROKER=${BROKER} (kafka or mock)"
		return 1 ;;
	esac
	rm -rf "$KDIR"
	BOOTSTRAP=$("$ROOT/scripts/kafka.sh" start "$KDIR") || return 1
	export BOOTSTRAP
	echo "# broker: Apache Kafka at $BOOTSTRAP, state $KDIR" \
	    "(up in $((SECONDS - t0)) s)"
}

if [ ${#scripts[@]} -eq 0 ]; then
	echo "# no scenario script matches"
elif ! start_broker; then
	echo "0 passed, 1 failed"
	exit 1
fi

for f in "${scripts[@]}"; do
	n=$(basename "$f" .sh)
	log=$RUN/$n.log
	t0=$SECONDS
	echo "=== $n"
	timeout -k 10 "${SCENARIO_TIMEOUT:-600}" bash "$f" </dev/null 2>&1 |
	    tee "$log" | sed -u 's/^/    /'
	rc=${PIPESTATUS[0]}
	kill_leftovers "$n"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		fl=${line#*passed, }
		fl=${fl%% failed*}
	else
		p=0
		fl=0
	fi
	[ "$rc" -eq 124 ] && echo "    # timed out after ${SCENARIO_TIMEOUT:-600} s"
	# A script that failed without saying so counts one failure.
	[ "$rc" -ne 0 ] && [ "$fl" -eq 0 ] && fl=1
	echo "--- $n: $p passed, $fl failed ($((SECONDS - t0)) s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + fl))
	if [ -n "${BOOTSTRAP:-}" ] && ! broker_alive; then
		echo "# the shared broker died during $n: starting a new one"
		"$ROOT/scripts/kafka.sh" log "$KDIR"
		total_fail=$((total_fail + 1))
		start_broker || break
	fi
done

cleanup
trap - EXIT
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
