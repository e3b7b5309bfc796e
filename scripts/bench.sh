#!/bin/sh
# Benchmarks: the store's size with expiry on and off (bench/REPORT.md,
# bench/expiry.png), the store cascade micro-benchmark, then the HTTP
# load test when scripts/loadtest.sh exists.
# Usage: scripts/bench.sh [BUILD_DIR]   (make bench builds and runs it)
# Environment: STORE_BENCH_ARGS (e.g. "-n 100000 -o issue"), BENCH_DIR
# (where the temporary LMDB goes; default /tmp).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/revokerd-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

bin=$build/store-bench
if [ ! -x "$bin" ]; then
	# Not built by make (another module broken?): the store alone.
	echo "bench: $bin missing; building it against $build/libstore.a" \
	    "only, without message derivation" >&2
	bin=$tmp/store-bench
	# shellcheck disable=SC2046
	cc -O2 -g -std=c11 -D_GNU_SOURCE -DNO_PUBLISH -I. -o "$bin" \
	    scripts/store_bench.c "$build/libstore.a" \
	    $(pkg-config --libs lmdb libcrypto)
fi

mkdir -p bench
report=bench/REPORT.md
{
	echo "# revokerd bench report"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr)."
	echo
} >"$report"

# Expiry: the store's size over time for a steady stream of short-lived
# tokens, with the sweep and, as the baseline in the same run, without.
exp_args=${EXPIRY_BENCH_ARGS:--t 900 -r 300 -l 60 -R 30 -e 10}
echo "== store size with expiry ($build/expiry-bench $exp_args)"
# shellcheck disable=SC2086
mkdir -p "$tmp/expiry"
"$build/expiry-bench" $exp_args "$tmp/expiry" >bench/expiry.csv
tail -n 3 bench/expiry.csv
{
	echo "## Database size against time, expiry on and off"
	echo
	echo "\`$build/expiry-bench $exp_args DIR\`: a simulated clock;"
	echo "each second issues a batch of tokens (a third exchanged from"
	echo "the second before, 2% revoked, 1% revoked by sub) living -l"
	echo "seconds; with expiry on, the store is swept to now minus -R."
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
} >>"$report"
if command -v gnuplot >/dev/null 2>&1; then
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
else
	echo "bench: gnuplot missing: no bench/expiry.png" >&2
fi

echo "== store cascade ($bin, LMDB under $tmp)"
# shellcheck disable=SC2086
"$bin" ${STORE_BENCH_ARGS:-} "$tmp/db"

echo
if [ -x scripts/loadtest.sh ]; then
	echo "== HTTP load test (scripts/loadtest.sh)"
	scripts/loadtest.sh "$build"
elif [ -f scripts/loadtest.sh ]; then
	echo "== HTTP load test (sh scripts/loadtest.sh)"
	sh scripts/loadtest.sh "$build"
else
	echo "== HTTP load test: skipped (no scripts/loadtest.sh yet)"
fi
