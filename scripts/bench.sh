#!/bin/sh
# Benchmarks: the store cascade micro-benchmark, then the HTTP load test
# when scripts/loadtest.sh exists.
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
