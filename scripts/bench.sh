#!/bin/bash
# make bench: every figure of issue 11 beside its baseline, measured in the
# same run on the same data, written to bench/REPORT.md with PNG plots
# (gnuplot). Each side runs ROUNDS times, the two sides alternating, so
# that both meet the same noise of this shared machine; the report gives
# medians and the spread (min-max), and the command of every row.
#
#   expiry     the store's size with expiry on and off (expiry-bench)
#   cascade    revoke + commit of a tree, against PostgreSQL WITH RECURSIVE
#              on the same tree and a naive LMDB walk (store-bench -W)
#   ingest     revokerd from start to the last event applied, against a
#              bare librdkafka consumer reading the same topic
#   publish    a cascade revoked through POST /revoke until every message
#              is acknowledged, against a bare idempotent producer
#   p99        introspection p99 while that cascade is applied and
#              published, against idle
#   replay     revokerctl replay events/s as the log grows; RSS and
#              database bytes per token of a daemon on the replayed db
#   http       scripts/loadtest.sh: introspection against nginx
#
# Usage: scripts/bench.sh [BUILD_DIR]   (make bench builds and runs it)
# Environment: BENCH_SCALE (full, or small: the whole report in under 3
# minutes), ROUNDS (3), BENCH_DIR (temporary files; default /tmp),
# REPLAY_MAX (largest replayed log; full: 3000000, see the report),
# EXPIRY_BENCH_ARGS, KAFKA_JARS (scripts/kafka.sh), KEEP=1 (keep the
# temporary folder).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
build=${1:-build}
case "$build" in /*) B=$build ;; *) B=$ROOT/$build ;; esac
SCALE=${BENCH_SCALE:-full}
ROUNDS=${ROUNDS:-3}
START=$SECONDS

case "$SCALE" in
small)
	INGEST_N=100000
	REPLAY_SIZES="100000 300000"
	CASCADE_SIZES="10000 100000"
	PUB_N=100000
	EXP_DEFAULT="-t 300 -r 300 -l 60 -R 30 -e 10"
	HTTP_DURATION=2s
	IDLE_DURATION=2s ;;
full)
	INGEST_N=300000
	REPLAY_SIZES="100000 1000000 ${REPLAY_MAX:-3000000}"
	CASCADE_SIZES="10000 100000 1000000"
	PUB_N=1000000
	EXP_DEFAULT="-t 900 -r 300 -l 60 -R 30 -e 10"
	HTTP_DURATION=10s
	IDLE_DURATION=5s ;;
*) echo "bench: BENCH_SCALE is small or full" >&2; exit 2 ;;
esac
EXP_ARGS=${EXPIRY_BENCH_ARGS:-$EXP_DEFAULT}

for p in revokerd revokerctl store-bench expiry-bench consume-bench \
    produce-bench; do
	[ -x "$B/$p" ] || { echo "bench: no $B/$p (make bench)" >&2; exit 1; }
done
for c in curl wrk gnuplot kcat python3 openssl /usr/bin/time; do
	command -v "$c" >/dev/null ||
	    { echo "bench: $c missing (scripts/deps.sh bench)" >&2; exit 1; }
done
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$PGBIN/initdb" ] ||
    { echo "bench: no $PGBIN (scripts/deps.sh bench)" >&2; exit 1; }

T=$(mktemp -d "${BENCH_DIR:-/tmp}/revokerd-bench.XXXXXX")
chmod 711 "$T"		# PostgreSQL runs as another user below
mkdir -p bench
PIDS=()
KAFKA_UP=
PG_UP=

say() { echo "bench: [$((SECONDS - START)) s] $*" >&2; }

# ---- cleanup and the report ------------------------------------------------

# The report is written on exit too, so a failed run keeps what it measured.
assemble() {
	{
		echo "# revokerd bench report"
		echo
		echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
		    "$(uname -sr), BENCH_SCALE=$SCALE, ROUNDS=$ROUNDS;" \
		    "the run took $((SECONDS - START)) s."
		echo "Figures are medians over the rounds, with the spread"
		echo "(min–max) in parentheses; the two sides of a row"
		echo "alternate within each round."
		echo
		echo "## Summary"
		echo
		echo "| row | revokerd | baseline | ratio | goal | met |"
		echo "|---|---|---|---|---|---|"
		cat "$T/summary.md" 2>/dev/null || true
		echo
		cat "$T/notes.md" 2>/dev/null || true
		echo
		for s in expiry cascade ingest publish p99 replay http; do
			cat "$T/sec-$s.md" 2>/dev/null || true
		done
	} >bench/REPORT.md
}

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "$KAFKA_UP" ] && scripts/kafka.sh stop "$T/kafka" >/dev/null 2>&1
	[ -n "$PG_UP" ] && pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -m fast \
	    -w stop >/dev/null 2>&1
	[ "$rc" = 0 ] || echo "- **the run failed (status $rc)**: rows" \
	    "after the failure are missing." >>"$T/notes.md"
	[ -f "$T/summary.md" ] && assemble
	if [ -n "${KEEP:-}" ]; then say "kept $T"; else rm -rf "$T"; fi
	say "bench/REPORT.md written; $((SECONDS - START)) s"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
: >"$T/summary.md"
: >"$T/notes.md"

# ---- helpers ---------------------------------------------------------------

note() { echo "- $*" >>"$T/notes.md"; }

# stat3 FILE COL: "median min max" of a column of numbers.
stat3() {
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
	    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}
# fmt FILE COL [PRINTF]: the median and the spread, for a table cell.
fmt() {
	stat3 "$1" "$2" | awk -v f="${3:-%.3g}" '{
	    printf f " (" f "–" f ")", $1, $2, $3 }'
}
med() { stat3 "$1" "$2" | cut -d' ' -f1; }
sig() { printf %.3g "$1"; }
# summary ROW REVOKERD BASELINE RATIO GOAL MET
summary() { echo "| $1 | $2 | $3 | $4 | $5 | $6 |" >>"$T/summary.md"; }
# yesno EXPR: awk's verdict on a comparison of numbers.
yesno() { awk "BEGIN { print ($1) ? \"yes\" : \"no\" }"; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
# alternate R CMD_A CMD_B: both, in an order that alternates by round.
alternate() {
	if [ $(($1 % 2)) = 1 ]; then "$2"; "$3"; else "$3"; "$2"; fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

printf 'admin:%s:introspect,revoke,admin\n' \
    "$(openssl passwd -6 admin-secret)" >"$T/clients"
AUTH=admin:admin-secret
AUTH64=$(printf %s "$AUTH" | base64)
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
DPID=

# daemon DB TOPIC_IN TOPIC_OUT: start revokerd on the bench's broker.
daemon() {
	"$B/revokerd" --brokers "$BOOT" --db "$1" --listen "127.0.0.1:$PORT" \
	    --clients "$T/clients" --topic-in "$2" --topic-out "$3" \
	    --topic-violations bench-violations --topic-dlq bench-dlq \
	    --retention 3650d --log-level warn </dev/null \
	    >>"$T/revokerd.log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
}
daemon_wait() {
	local i
	for i in $(seq 400); do
		curl -fsS -o /dev/null "$URL/healthz" 2>/dev/null && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 20 "$T/revokerd.log" >&2
	say "revokerd did not start"
	return 1
}
daemon_stop() {
	kill -TERM "$DPID"
	wait "$DPID" || say "revokerd exited with status $?"
	DPID=
}
metrics() { curl -fsS -u "$AUTH" "$URL/metrics"; }
# Input events accounted for: applied, duplicates, dead letters.
consumed() {
	metrics | awk '$1 == "revokerd_events_applied_total" ||
	    $1 == "revokerd_events_duplicate_total" ||
	    $1 ~ /^revokerd_events_dead_total/ { s += $2 }
	    END { print s + 0 }'
}
published() {
	metrics | awk '$1 == "revokerd_published_total{topic=\"revocations\"}" {
	    print $2; f = 1 } END { if (!f) print 0 }'
}
gauge() { metrics | awk -v n="$1" '$1 == n { print $2 }'; }
# poll_until N FN: poll FN every 50 ms until it prints N or more.
poll_until() {
	local v
	while :; do
		v=$("$2" 2>/dev/null || echo 0)
		[ "${v:-0}" -ge "$1" ] && return 0
		kill -0 "$DPID" 2>/dev/null || { say "revokerd died"; return 1; }
		sleep 0.05
	done
}

pg_as() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
psql_() {
	"$PGBIN/psql" -X -h "$T/pg" -p "$PGPORT" -U postgres -d postgres \
	    -v ON_ERROR_STOP=1 "$@"
}

# ---- expiry ----------------------------------------------------------------

section_expiry() {
	say "expiry: $B/expiry-bench $EXP_ARGS"
	mkdir -p "$T/expiry"
	# shellcheck disable=SC2086
	"$B/expiry-bench" $EXP_ARGS "$T/expiry" >bench/expiry.csv
	{
		echo "## Database size against time, expiry on and off"
		echo
		echo "\`$build/expiry-bench $EXP_ARGS DIR\`: a simulated clock;"
		echo "each second issues a batch of tokens (a third exchanged"
		echo "from the second before, 2% revoked, 1% revoked by sub)"
		echo "living -l seconds; with expiry on, the store is swept to"
		echo "now minus -R. One run (deterministic, simulated time)."
		echo
		echo "| second | bytes, expiry on | records | bytes, expiry off | records |"
		echo "|---|---|---|---|---|"
		awk -F, 'NR > 1 && (NR - 2) % 10 == 0 { printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' \
		    bench/expiry.csv
		awk -F, 'END { printf "\nAt the end: %.1f MB with expiry (%d records), %.1f MB without (%d): %.1f%%.\n", $2 / 1e6, $3, $4 / 1e6, $5, 100 * $2 / $4 }' \
		    bench/expiry.csv
		echo
		echo "![size](expiry.png)"
		echo
	} >"$T/sec-expiry.md"
	awk -F, -v cmd="\`expiry-bench $EXP_ARGS\`" 'END {
	    printf "| store size with expiry, end of %s | %.1f MB | %.1f MB " \
		"without expiry | %.1f%% | levels off | %s |\n", cmd,
		$2 / 1e6, $4 / 1e6, 100 * $2 / $4,
		($2 < $4 / 2) ? "yes" : "no" }' bench/expiry.csv \
	    >>"$T/summary.md"
	gnuplot <<PLOT
set terminal png size 800,480
set output "bench/expiry.png"
set datafile separator ","
set key top left
set xlabel "simulated seconds"
set ylabel "MB of the LMDB map in use"
plot "bench/expiry.csv" using 1:(\$2/1e6) skip 1 with lines title "expiry on", \
     "bench/expiry.csv" using 1:(\$4/1e6) skip 1 with lines title "expiry off (baseline)"
PLOT
}

# ---- cascade: store-bench, its naive walk, PostgreSQL ----------------------

pg_start() {
	mkdir -p "$T/pg"
	[ "$(id -u)" = 0 ] && chown postgres "$T/pg"
	PGPORT=$(free_port)
	pg_as "$PGBIN/initdb" -D "$T/pg/data" -U postgres --auth=trust \
	    >"$T/pg/initdb.log" 2>&1 || { cat "$T/pg/initdb.log" >&2; return 1; }
	pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w \
	    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=$T/pg" \
	    start >/dev/null
	PG_UP=1
}

# pg_load N: the tree of store-bench (parent of i is (i - 1) / 8).
pg_load() {
	awk -v n="$1" 'BEGIN { print "0\t\\N\t0"
	    for (i = 1; i < n; i++) printf "%d\t%d\t0\n", i, int((i - 1) / 8) }' \
	    >"$T/pg/tree.tsv"
	psql_ -q <<SQL >/dev/null
DROP TABLE IF EXISTS tokens;
CREATE TABLE tokens (id bigint PRIMARY KEY, parent bigint, status smallint NOT NULL);
\\copy tokens FROM '$T/pg/tree.tsv'
CREATE INDEX ON tokens (parent);
VACUUM ANALYZE tokens;
SQL
}

PG_SQL="BEGIN; UPDATE tokens SET status = 3 WHERE id IN (WITH RECURSIVE d(id) AS (SELECT 0::bigint UNION ALL SELECT t.id FROM tokens t JOIN d ON t.parent = d.id) SELECT id FROM d); COMMIT;"

# pg_once N: load, then time the recursive update and its commit.
pg_once() {
	local out
	pg_load "$CN"
	out=$(printf '\\timing on\n%s\n' "$PG_SQL" | psql_ 2>&1)
	echo "$out" | grep -q "^UPDATE $CN\$" ||
	    { say "PostgreSQL: $out"; return 1; }
	echo "$out" | awk -v n="$CN" '/^Time: / { s += $2 }
	    END { printf "%d %.6f\n", n, s / 1000 }' >>"$T/pg.runs"
}
store_once() {
	"$B/store-bench" -M -W -P -o issue -n "$CN" "$T/sb" 2>/dev/null |
	    awk '$1 == "result" { printf "%s %.6f\n", $3, $4 + $5 }
		$1 == "naive" { printf "%s %.6f\n", $2, $3 >"/dev/stderr" }' \
	    >>"$T/store.runs" 2>>"$T/naive.runs"
}

section_cascade() {
	local r
	say "cascade: PostgreSQL in $T/pg"
	pg_start
	: >"$T/pg.runs"; : >"$T/store.runs"; : >"$T/naive.runs"
	for CN in $CASCADE_SIZES; do
		for r in $(seq "$ROUNDS"); do
			say "cascade: $CN tokens, round $r"
			alternate "$r" store_once pg_once
		done
	done
	pg_as "$PGBIN/pg_ctl" -D "$T/pg/data" -m fast -w stop >/dev/null
	PG_UP=
	rm -rf "$T/pg" "$T/sb"
	{
		echo "## Cascade: revoke + commit against PostgreSQL and a naive LMDB walk"
		echo
		echo "A tree of N tokens, fan-out 8 (parent of i is (i-1)/8);"
		echo "the root is revoked, every descendant with it, in one"
		echo "transaction, commit included; the same tree in each."
		echo
		echo "- revokerd's store: \`$build/store-bench -M -W -P -o issue -n N DIR\`"
		echo "  (store_revoke + store_commit with its outbox entry; messages not derived here, see publish)"
		echo "- naive LMDB walk: the same run's \`-W\` (jti keys, one get and put per token, children one duplicate at a time)"
		echo "- PostgreSQL 15 (\`$PGBIN\`, loopback, temporary cluster, default settings): table"
		echo "  \`tokens(id bigint primary key, parent bigint, status smallint)\`, index on parent, loaded by COPY, then"
		echo "  \`$PG_SQL\` timed by psql with timing on (the sum of the three statements)"
		echo
		echo "| descendants | revokerd s | naive LMDB s | PostgreSQL s | vs naive | vs PostgreSQL (goal ≥ 50×) |"
		echo "|---|---|---|---|---|---|"
	} >"$T/sec-cascade.md"
	: >"$T/cascade.dat"
	for CN in $CASCADE_SIZES; do
		awk -v n="$CN" '$1 == n' "$T/store.runs" >"$T/s.n"
		awk -v n="$CN" '$1 == n' "$T/naive.runs" >"$T/w.n"
		awk -v n="$CN" '$1 == n' "$T/pg.runs" >"$T/p.n"
		echo "$CN $(med "$T/s.n" 2) $(med "$T/w.n" 2) $(med "$T/p.n" 2)" \
		    >>"$T/cascade.dat"
		echo "| $CN | $(fmt "$T/s.n" 2) | $(fmt "$T/w.n" 2) |" \
		    "$(fmt "$T/p.n" 2) |" \
		    "$(awk -v a="$(med "$T/s.n" 2)" -v b="$(med "$T/w.n" 2)" 'BEGIN { printf "%.1f×", b / a }') |" \
		    "$(awk -v a="$(med "$T/s.n" 2)" -v b="$(med "$T/p.n" 2)" 'BEGIN { printf "%.0f×", b / a }') |" \
		    >>"$T/sec-cascade.md"
	done
	{
		echo
		awk 'NR == 1 { n0 = $1; s0 = $2 } END {
		    printf "Linearity: from %d to %d descendants (%.0f×), the store time grew %.1f×.\n",
			n0, $1, $1 / n0, $2 / s0 }' "$T/cascade.dat"
		echo
		echo "![cascade](cascade.png)"
		echo
	} >>"$T/sec-cascade.md"
	read -r n s w p < <(tail -n 1 "$T/cascade.dat")
	summary "cascade revoke+commit, $n descendants" "$(sig "$s") s" \
	    "PostgreSQL $(sig "$p") s" "$(awk -v a="$s" -v b="$p" 'BEGIN { printf "%.0f×", b / a }')" \
	    "≥ 50×" "$(yesno "$p / $s >= 50")"
	summary "cascade revoke+commit, $n descendants" "$(sig "$s") s" \
	    "naive LMDB walk $(sig "$w") s" "$(awk -v a="$s" -v b="$w" 'BEGIN { printf "%.1f×", b / a }')" \
	    "faster" "$(yesno "$w > $s")"
	gnuplot <<PLOT
set terminal png size 800,480
set output "bench/cascade.png"
set logscale xy
set key top left
set xlabel "descendants revoked"
set ylabel "seconds, revoke + commit (median)"
plot "$T/cascade.dat" using 1:2 with linespoints title "revokerd store", \
     "$T/cascade.dat" using 1:3 with linespoints title "naive LMDB walk (baseline)", \
     "$T/cascade.dat" using 1:4 with linespoints title "PostgreSQL WITH RECURSIVE (baseline)"
PLOT
}

# ---- Kafka -----------------------------------------------------------------

kafka_start() {
	say "Kafka: scripts/kafka.sh start $T/kafka"
	KAFKA_UP=1
	BOOT=$(scripts/kafka.sh start "$T/kafka")
	local topics="bench-out,bench-violations,bench-dlq,base-out,rss-in" r
	for r in $(seq "$ROUNDS"); do
		topics="$topics,pub-in-$r,pub-out-$r,busy-in-$r,busy-out-$r"
	done
	"$B/produce-bench" -b "$BOOT" -t "$topics" -C 3
	"$B/produce-bench" -b "$BOOT" -t bench-in -C 4
}

# ---- ingest ----------------------------------------------------------------

consume_once() {
	"$B/consume-bench" -b "$BOOT" -t bench-in -n "$INGEST_N" |
	    awk '{ print $4, $2 / $4 }' >>"$T/consume.runs"
}
ingest_once() {
	local t0 t1
	rm -rf "$T/ingest.db"
	t0=$(now)
	daemon "$T/ingest.db" bench-in bench-out
	daemon_wait
	poll_until "$INGEST_N" consumed
	t1=$(now)
	echo "$(elapsed "$t0" "$t1") lag=$(gauge revokerd_consumer_lag)" \
	    >>"$T/ingest.lag"
	daemon_stop
	awk -v s="$(elapsed "$t0" "$t1")" -v n="$INGEST_N" \
	    'BEGIN { print s, n / s }' >>"$T/ingest.runs"
	rm -rf "$T/ingest.db"
}

section_ingest() {
	local r c d
	say "ingest: $INGEST_N events on 4 partitions"
	"$B/revokerctl" gen --events "$INGEST_N" --partitions 4 \
	    --out "$T/ingest.tsv"
	"$B/produce-bench" -b "$BOOT" -t bench-in -f "$T/ingest.tsv" >/dev/null
	rm -f "$T/ingest.tsv"
	: >"$T/consume.runs"; : >"$T/ingest.runs"
	for r in $(seq "$ROUNDS"); do
		say "ingest: round $r"
		alternate "$r" consume_once ingest_once
	done
	c=$(med "$T/consume.runs" 2)
	d=$(med "$T/ingest.runs" 2)
	{
		echo "## Ingest: revokerd against a bare consumer"
		echo
		echo "$INGEST_N events of \`$build/revokerctl gen --events $INGEST_N --partitions 4\`"
		echo "produced to a 4-partition topic of a real Kafka (\`scripts/kafka.sh start\`, KRaft, one node) by"
		echo "\`$build/produce-bench -f\`, each line to the partition it names."
		echo
		echo "- bare consumer: \`$build/consume-bench -b BROKER -t bench-in -n $INGEST_N\` (high-level consumer, revokerd's fetch settings, every partition assigned from the beginning, read to the high watermark, counted); timed from the client's creation"
		echo "- revokerd: \`$build/revokerd --brokers BROKER --db EMPTY --topic-in bench-in ... --retention 3650d\`, timed from its start until /metrics (polled every 50 ms) shows applied + duplicate + dead-lettered = $INGEST_N"
		echo
		echo "| | seconds | events/s |"
		echo "|---|---|---|"
		echo "| bare consumer | $(fmt "$T/consume.runs" 1) | $(fmt "$T/consume.runs" 2 %.0f) |"
		echo "| revokerd | $(fmt "$T/ingest.runs" 1) | $(fmt "$T/ingest.runs" 2 %.0f) |"
		echo "| ratio (goal ≥ 25%) | | $(awk -v a="$d" -v b="$c" 'BEGIN { printf "%.1f%%", 100 * a / b }') |"
		echo
		echo "Consumer lag when the count was reached: $(cut -d' ' -f2 "$T/ingest.lag" | tr '\n' ' ')."
		echo
	} >"$T/sec-ingest.md"
	summary "ingest events/s, $INGEST_N events, 4 partitions" \
	    "$(printf %.0f "$d")" "bare consumer $(printf %.0f "$c")" \
	    "$(awk -v a="$d" -v b="$c" 'BEGIN { printf "%.1f%%", 100 * a / b }')" \
	    "≥ 25%" "$(yesno "$d / $c >= 0.25")"
}

# ---- publish and p99 -------------------------------------------------------

# tree N FILE: N token.issued events, one tree of fan-out 8 under p-0.
tree() {
	awk -v n="$1" -v now="$(date +%s)" 'BEGIN {
	    for (i = 0; i < n; i++) {
		printf "{\"v\":1,\"type\":\"token.issued\",\"id\":\"e-p-%d\",\"time\":%d,\"iss\":\"https://idp.example\",\"grant_type\":\"refresh_token\",\"token\":{\"jti\":\"p-%d\",\"sub\":\"user-1\",\"client_id\":\"agent-a\",\"iat\":%d,\"exp\":%d}", i, now, i, now, now + 36000
		if (i) printf ",\"parents\":{\"previous\":\"p-%d\"}", int((i - 1) / 8)
		print "}"
	    } }' >"$2"
}

revoke_root() {
	curl -sS -o /dev/null -w '%{http_code}' -u "$AUTH" -d token=p-0 \
	    -d token_type_hint=jti "$URL/revoke"
}

# cascade_run R IN OUT: a daemon on a copy of the tree; revoke the root;
# print "seconds_to_applied seconds_to_published".
cascade_run() {
	local t0 t1 t2 code
	rm -rf "$T/pub.db"
	cp -r --sparse=always "$T/tree.db" "$T/pub.db"
	daemon "$T/pub.db" "$2" "$3"
	daemon_wait
	[ -n "${4:-}" ] && "$4"
	t0=$(now)
	code=$(revoke_root)
	t1=$(now)
	poll_until "$PUB_N" published
	t2=$(now)
	[ -n "${5:-}" ] && "$5"
	echo "$(elapsed "$t0" "$t1") $(elapsed "$t0" "$t2") $code"
}

publish_once() {
	local r=$PR
	cascade_run "$r" "pub-in-$r" "pub-out-$r" >>"$T/publish.runs"
	daemon_stop
	rm -rf "$T/pub.db"
	if [ -z "${MSG_SIZE:-}" ]; then
		MSG_SIZE=$(kcat -C -b "$BOOT" -t "pub-out-$r" -c 2000 -e -q \
		    -f '%S\n' 2>/dev/null | awk '{ s += $1 } END { printf "%d", s / NR }')
		say "publish: revokerd's messages average $MSG_SIZE bytes"
	fi
}
producer_once() {
	"$B/produce-bench" -b "$BOOT" -t base-out -n "$PUB_N" -s "$MSG_SIZE" |
	    awk '{ print $4, $2 / $4 }' >>"$T/producer.runs"
}

# wrk_run DURATION OUT: introspection of random tree tokens by jti.
wrk_run() {
	wrk -t1 -c16 -d"$1" --latency -s "$T/tree.lua" "$URL" >"$2" 2>&1
}
to_ms() {
	awk '$1 == "99%" { v = $2
	    if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
	    else if (v ~ /ms$/) sub(/ms$/, "", v)
	    else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
	    printf "%.3f\n", v }' "$1"
}
busy_idle() { wrk_run "$IDLE_DURATION" "$T/wrk.idle"; }
busy_start() {
	# wrk itself in the background (not a subshell), for its SIGINT.
	wrk -t1 -c16 -d600s --latency -s "$T/tree.lua" "$URL" \
	    >"$T/wrk.busy" 2>&1 &
	WPID=$!
	PIDS+=("$WPID")
	sleep 0.3
}
busy_stop() {
	kill -INT "$WPID"
	wait "$WPID" || true
}
busy_once() {
	local r=$PR
	cascade_run "$r" "busy-in-$r" "busy-out-$r" busy_idle_start \
	    busy_stop >/dev/null
	daemon_stop
	rm -rf "$T/pub.db"
	echo "$(to_ms "$T/wrk.idle") $(to_ms "$T/wrk.busy")" >>"$T/p99.runs"
	cat "$T/wrk.idle" "$T/wrk.busy" >>"$T/wrk.log"
}
busy_idle_start() { busy_idle; busy_start; }

section_publish() {
	local r a b
	say "publish: a tree of $PUB_N tokens, replayed once"
	tree "$PUB_N" "$T/tree.jsonl"
	"$B/revokerctl" replay --db "$T/tree.db" --file "$T/tree.jsonl" \
	    >"$T/tree.replay" 2>&1 || { cat "$T/tree.replay" >&2; return 1; }
	rm -f "$T/tree.jsonl"
	cat >"$T/tree.lua" <<EOF
-- POST /introspect of a random token of the tree, by jti.
local auth = "Basic $AUTH64"
function request()
	return wrk.format("POST", "/introspect", {
		["Authorization"] = auth,
		["Content-Type"] = "application/x-www-form-urlencoded",
	}, "token=p-" .. math.random(0, $PUB_N - 1) .. "&token_type_hint=jti")
end
EOF
	: >"$T/publish.runs"; : >"$T/producer.runs"; : >"$T/p99.runs"
	MSG_SIZE=
	for PR in $(seq "$ROUNDS"); do
		say "publish: round $PR"
		# The first round measures revokerd first: its messages
		# give the baseline's size.
		if [ "$PR" = 1 ]; then publish_once; producer_once
		else alternate "$PR" publish_once producer_once; fi
		say "p99: round $PR"
		busy_once
	done
	rm -rf "$T/tree.db"
	a=$(med "$T/publish.runs" 2)
	b=$(med "$T/producer.runs" 1)
	{
		echo "## Cascade publish: revokerd against a bare idempotent producer"
		echo
		echo "A tree of $PUB_N tokens (fan-out 8, refresh edges) replayed into a database by"
		echo "\`$build/revokerctl replay\`, copied afresh for each run; \`$build/revokerd\` started on the copy"
		echo "(topics of 3 partitions), then the root revoked by \`curl -u admin:... -d token=p-0 -d token_type_hint=jti $URL/revoke\`"
		echo "and timed until \`revokerd_published_total{topic=\"revocations\"}\` (messages with a successful delivery report) = $PUB_N."
		echo "Baseline: \`$build/produce-bench -b BROKER -t base-out -n $PUB_N -s $MSG_SIZE\` (enable.idempotence, acks=all, linger.ms 5 and the"
		echo "queue limits of consumers/kafka/kafka_out.c; $MSG_SIZE bytes, the mean size of revokerd's own messages in round 1), timed to its last delivery report."
		echo
		echo "| | seconds | messages/s |"
		echo "|---|---|---|"
		echo "| revokerd, POST /revoke answered (applied) | $(fmt "$T/publish.runs" 1) | |"
		echo "| revokerd, all published | $(fmt "$T/publish.runs" 2) | $(awk -v n="$PUB_N" '{ print $2, n / $2 }' "$T/publish.runs" >"$T/pr"; fmt "$T/pr" 2 %.0f) |"
		echo "| bare idempotent producer | $(fmt "$T/producer.runs" 1) | $(fmt "$T/producer.runs" 2 %.0f) |"
		echo "| ratio (goal ≤ 2×) | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }') | |"
		echo
		echo "POST /revoke status codes: $(cut -d' ' -f3 "$T/publish.runs" | tr '\n' ' ')(202: not applied within --revoke-wait-ms)."
		echo
		echo "## Introspection p99 during that cascade, against idle"
		echo
		echo "The same daemon on a fresh copy of the tree: \`wrk -t1 -c16 -d$IDLE_DURATION --latency\` POSTing /introspect"
		echo "of random tree tokens by jti while idle; then the same wrk started 0.3 s before POST /revoke and stopped"
		echo "(SIGINT) when the last revocation is published, so it covers apply and publish only."
		echo
		echo "| | p99 ms |"
		echo "|---|---|"
		echo "| idle | $(fmt "$T/p99.runs" 1) |"
		echo "| during the cascade | $(fmt "$T/p99.runs" 2) |"
		echo "| ratio (goal ≤ 2×) | $(awk -v a="$(med "$T/p99.runs" 2)" -v b="$(med "$T/p99.runs" 1)" 'BEGIN { printf "%.2f×", a / b }') |"
		echo
	} >"$T/sec-publish.md"
	summary "cascade publish, $PUB_N revocations, seconds" "$(sig "$a") s" \
	    "idempotent producer $(sig "$b") s" \
	    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }')" \
	    "≤ 2×" "$(yesno "$a / $b <= 2")"
	a=$(med "$T/p99.runs" 2)
	b=$(med "$T/p99.runs" 1)
	summary "introspection p99 during a $PUB_N cascade" "$a ms" \
	    "idle $b ms" \
	    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }')" \
	    "≤ 2×" "$(yesno "$a / $b <= 2")"
}

# ---- replay and RSS --------------------------------------------------------

# replay_once SIZE: a fresh database; "size seconds rate max_rss_kb".
replay_once() {
	local db=$T/replay-$1.db out
	rm -rf "$db"
	out=$(/usr/bin/time -f 'maxrss %M' "$B/revokerctl" replay --db "$db" \
	    --file "$T/log-$1.jsonl" 2>&1)
	echo "$out" | awk -v n="$1" '/^replay: .* events in / {
	    s = $5; r = $7; gsub(/[(\/s)]/, "", r) } $1 == "maxrss" { m = $2 }
	    END { print n, s, n / s, m }' >>"$T/replay.runs"
	"$B/revokerctl" stats --db "$db" |
	    awk -v n="$1" '/^database/ { print n, $(NF - 4) }' >"$T/bpt-$1"
}

# rss SIZE: a daemon on the replayed database, after introspections.
rss_of() {
	local db=$T/replay-$1.db i
	daemon "$db" rss-in bench-out
	daemon_wait
	for i in $(seq 0 199); do
		curl -fsS -o /dev/null -u "$AUTH" -d "token=t-$((i * 997 % $1))" \
		    -d token_type_hint=jti "$URL/introspect"
	done
	metrics >/dev/null
	echo "$1 $(awk '/^RssAnon:/ { a = $2 } /^VmRSS:/ { r = $2 }
	    /^VmHWM:/ { h = $2 } END { print a, r, h }' "/proc/$DPID/status")" \
	    "$(gauge revokerd_db_bytes_per_token)" >>"$T/rss.runs"
	daemon_stop
}

section_replay() {
	local sizes="" n r avail big last
	avail=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
	for n in $REPLAY_SIZES; do
		if [ "$n" -ge 10000000 ] && [ "$avail" -lt $((15 * 1024 * 1024)) ]; then
			note "replay: $n events skipped: less than 15 GB free in $T"
			continue
		fi
		sizes="$sizes $n"
	done
	big=${sizes##* }
	: >"$T/replay.runs"; : >"$T/rss.runs"
	for n in $sizes; do
		say "replay: generating $n events"
		"$B/revokerctl" gen --events "$n" --out "$T/log-$n.jsonl"
	done
	for r in $(seq "$ROUNDS"); do
		for n in $sizes; do
			# One round of the largest log past 1M (time).
			[ "$r" -gt 1 ] && [ "$n" -gt 1000000 ] && continue
			say "replay: $n events, round $r"
			replay_once "$n"
			# The daemon's memory on the 1M and the largest
			# database, after their last replay.
			last=$ROUNDS
			[ "$n" -gt 1000000 ] && last=1
			case " 1000000 $big " in
			*" $n "*) [ "$r" = "$last" ] && rss_of "$n" ;;
			esac
			rm -rf "$T/replay-$n.db"
		done
	done
	rm -rf "$T"/log-*.jsonl "$T"/replay-*.db
	{
		echo "## Replay events/s as the log grows"
		echo
		echo "\`$build/revokerctl replay --db EMPTY --file LOG\` of \`$build/revokerctl gen --events N\`"
		echo "logs, under \`/usr/bin/time -f %M\` (max RSS, which counts the LMDB map's pages the process touched);"
		echo "the rate is replay's own summary line."
		echo "Logs past 1M events are replayed once (time budget)."
		echo
		echo "| events | seconds | events/s | max RSS MB | db bytes per token |"
		echo "|---|---|---|---|---|"
	} >"$T/sec-replay.md"
	: >"$T/replay.dat"
	for n in $sizes; do
		awk -v n="$n" '$1 == n { print $2, $3, $4 / 1024 }' \
		    "$T/replay.runs" >"$T/r.n"
		echo "$n $(med "$T/r.n" 2)" >>"$T/replay.dat"
		echo "| $n | $(fmt "$T/r.n" 1) | $(fmt "$T/r.n" 2 %.0f) |" \
		    "$(fmt "$T/r.n" 3 %.0f) | $(cut -d' ' -f2 "$T/bpt-$n" 2>/dev/null) |" \
		    >>"$T/sec-replay.md"
	done
	{
		echo
		awk 'NR == 1 { n0 = $1; r0 = $2 } END {
		    printf "The rate at %d events is %.0f%% of the rate at %d.\n", $1, 100 * $2 / r0, n0 }' \
		    "$T/replay.dat"
		echo
		echo "![replay](replay.png)"
		echo
		echo "### Memory of a daemon on the replayed database"
		echo
		echo "\`$build/revokerd --db REPLAYED ...\` on the bench's Kafka (an empty input topic), after 200"
		echo "introspections and a /metrics; from /proc/PID/status (RssAnon: anonymous memory, the LMDB map"
		echo "excluded, as it is a file mapping). Goal: RssAnon < 200 MB."
		echo
		echo "| events replayed | RssAnon MB | VmRSS MB | VmHWM MB | revokerd_db_bytes_per_token |"
		echo "|---|---|---|---|---|"
		awk '{ printf "| %d | %.1f | %.1f | %.1f | %s |\n", $1, $2 / 1024, $3 / 1024, $4 / 1024, $5 }' \
		    "$T/rss.runs"
		echo
	} >>"$T/sec-replay.md"
	read -r n a < <(head -n 1 "$T/replay.dat")
	read -r big b < <(tail -n 1 "$T/replay.dat")
	summary "replay events/s, $big-event log" "$(printf %.0f "$b")" \
	    "$n-event log $(printf %.0f "$a")" \
	    "$(awk -v a="$b" -v b="$a" 'BEGIN { printf "%.0f%%", 100 * a / b }')" \
	    "flat (none stated)" "$(yesno "$b / $a >= 0.8")"
	while read -r n a _; do
		summary "daemon RssAnon on a $n-event database" \
		    "$(awk -v a="$a" 'BEGIN { printf "%.1f MB", a / 1024 }')" \
		    "–" "–" "< 200 MB" "$(yesno "$a < 200 * 1024")"
	done <"$T/rss.runs"
	gnuplot <<PLOT
set terminal png size 800,480
set output "bench/replay.png"
set logscale x
set yrange [0:*]
set key bottom left
set xlabel "events in the log"
set ylabel "events/s (median)"
plot "$T/replay.dat" using 1:2 with linespoints title "revokerctl replay"
PLOT
}

# ---- HTTP: scripts/loadtest.sh ---------------------------------------------

section_http() {
	local cmd="DURATION=$HTTP_DURATION ROUNDS=$ROUNDS scripts/loadtest.sh $build"
	say "http: $cmd"
	DURATION=$HTTP_DURATION ROUNDS=$ROUNDS TMPDIR=$T \
	    scripts/loadtest.sh "$B" >"$T/loadtest.out" 2>&1 ||
	    { cat "$T/loadtest.out" >&2; return 1; }
	sed -n 's/^loadtest: round [0-9]*: nginx \([^ ]*\) \([^ ]*\) \([^,]*\), revokerd \([^ ]*\) \([^ ]*\) \([^ ]*\) .*/\1 \2 \3 \4 \5 \6/p' \
	    "$T/loadtest.out" >"$T/http.runs"
	local nr dr np dp
	nr=$(med "$T/http.runs" 1); dr=$(med "$T/http.runs" 4)
	np=$(med "$T/http.runs" 2); dp=$(med "$T/http.runs" 5)
	{
		echo "## Introspection over HTTP against nginx"
		echo
		echo "\`$cmd\`: wrk -t2 -c64 POSTing /introspect (60/20/20 active, revoked, unknown raw"
		echo "tokens) against revokerd (2 workers) and nginx answering a static body, alternating."
		echo
		echo "| | requests/s | p99 ms | server CPU µs/request |"
		echo "|---|---|---|---|"
		echo "| nginx | $(fmt "$T/http.runs" 1 %.0f) | $(fmt "$T/http.runs" 2) | $(fmt "$T/http.runs" 3) |"
		echo "| revokerd | $(fmt "$T/http.runs" 4 %.0f) | $(fmt "$T/http.runs" 5) | $(fmt "$T/http.runs" 6) |"
		echo "| ratio | $(awk -v a="$dr" -v b="$nr" 'BEGIN { printf "%.0f%% (goal ≥ 70%%)", 100 * a / b }') | $(awk -v a="$dp" -v b="$np" 'BEGIN { printf "%.2f× (goal ≤ 1×)", a / b }') | |"
		echo
	} >"$T/sec-http.md"
	summary "introspection requests/s (loadtest.sh)" "$(printf %.0f "$dr")" \
	    "nginx $(printf %.0f "$nr")" \
	    "$(awk -v a="$dr" -v b="$nr" 'BEGIN { printf "%.0f%%", 100 * a / b }')" \
	    "≥ 70%" "$(yesno "$dr / $nr >= 0.7")"
	summary "introspection p99 (loadtest.sh)" "$dp ms" "nginx $np ms" \
	    "$(awk -v a="$dp" -v b="$np" 'BEGIN { printf "%.2f×", a / b }')" \
	    "≤ 1×" "$(yesno "$dp <= $np")"
}

# ---- the run ---------------------------------------------------------------

say "BENCH_SCALE=$SCALE ROUNDS=$ROUNDS, temporary files in $T"
case "$SCALE" in
full)
	case "$REPLAY_SIZES" in
	*10000000*) ;;
	*) note "replay: the largest log is ${REPLAY_MAX:-3000000} events, not 10M:" \
	    "replay runs at about 20k events/s here, so 10M would take about" \
	    "8 minutes alone and the full report would pass 20 minutes" \
	    "(REPLAY_MAX=10000000 runs it)." ;;
	esac ;;
small) note "BENCH_SCALE=small: smaller sizes; compare ratios, not absolute times." ;;
esac
section_expiry
section_cascade
kafka_start
section_ingest
section_publish
section_replay
scripts/kafka.sh stop "$T/kafka" >/dev/null
KAFKA_UP=
section_http
