#!/bin/sh
# Build every tests/fuzz/*_fuzz.c as a libFuzzer target under ASan and
# UBSan, and run each for a bounded time on a copy of its seeds.
#
#   FUZZ_SECONDS	seconds per target (default 30)
#   FUZZ_JOBS		parallel fuzzing processes per target (default 1)
#   FUZZ_BUILD		output directory (default build-fuzz)
#   FUZZ_ONLY		run only the target of this name (e.g. event)
#
# A target's sources and libraries come from lines in its header:
#   FUZZ_SOURCES: consumers/event/event.c
#   FUZZ_LIBS: jansson		(pkg-config names)
# Default: every consumers/*/*.c and store/*/*.c, and all the project's
# libraries.  Seeds: tests/fuzz/seeds/<name>/.  Crashes are written to
# $FUZZ_BUILD/artifacts/<name>/ and fail the script.  Installs clang and
# libclang-rt-dev from Debian when they are missing (as root).
set -eu
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
out=${FUZZ_BUILD:-build-fuzz}
only=${FUZZ_ONLY:-}
allpkgs="libevent libevent_pthreads rdkafka lmdb jansson libcrypto"

# True when clang can link a libFuzzer target with the sanitizers.
can_fuzz() {
	command -v clang >/dev/null 2>&1 || return 1
	t=$(mktemp -d)
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
	    '{ (void)d; (void)n; return 0; }' >"$t/t.c"
	ok=0
	clang -fsanitize=fuzzer,address,undefined -o "$t/t" "$t/t.c" \
	    >/dev/null 2>&1 || ok=1
	rm -rf "$t"
	return $ok
}

need_clang() {
	can_fuzz && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "fuzz: clang with libFuzzer missing; run as root or:" \
		    "apt-get install clang libclang-rt-dev" >&2
		exit 1
	fi
	echo "fuzz: installing clang and its sanitizer runtimes" >&2
	export DEBIAN_FRONTEND=noninteractive
	pk="clang libclang-rt-dev"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pk >&2 || {
		apt-get update -qq &&
		    apt-get install -y -qq --no-install-recommends $pk >&2
	}
	can_fuzz || { echo "fuzz: clang cannot link a fuzzer" >&2; exit 1; }
}

# The value of header line "KEY: ..." of file $2, or empty.
header() {
	sed -n "s|^[/ *]*$1:[[:space:]]*||; T; s|[[:space:]]*\\*/.*\$||; p" \
	    "$2" | head -n 1
}

build() {
	src=$1 name=$2
	srcs=$(header FUZZ_SOURCES "$src")
	libs=$(header FUZZ_LIBS "$src")
	[ -n "$srcs" ] || srcs=$(ls consumers/*/*.c store/*/*.c)
	[ -n "$libs" ] || libs=$allpkgs
	# shellcheck disable=SC2086
	clang -std=c11 -g -O1 -Wall -Wextra -D_GNU_SOURCE -I. \
	    $(pkg-config --cflags $libs) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer -o "$out/$name" "$src" $srcs \
	    $(pkg-config --libs $libs)
}

run() {
	name=$1
	top=$(pwd)
	corpus=$top/$out/corpus/$name
	art=$top/$out/artifacts/$name
	log=$top/$out/$name.log
	mkdir -p "$corpus" "$art"
	rm -f "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*
	[ -d "tests/fuzz/seeds/$name" ] &&
	    cp -f tests/fuzz/seeds/"$name"/* "$corpus"/ 2>/dev/null || true
	par=""
	[ "$jobs" -gt 1 ] && par="-jobs=$jobs -workers=$jobs"
	echo "fuzz: $name for ${secs}s" >&2
	rc=0
	# Run in the output directory: -jobs writes fuzz-N.log there.
	# shellcheck disable=SC2086
	(cd "$top/$out" && rm -f fuzz-*.log &&
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    "./$name" -max_total_time="$secs" -max_len=70000 $par \
	    -print_final_stats=1 -artifact_prefix="$art/" "$corpus") \
	    >"$log" 2>&1 || rc=$?
	execs=$(cat "$log" "$top/$out"/fuzz-*.log 2>/dev/null |
	    sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' |
	    awk '{ s += $1 } END { print s + 0 }')
	echo "fuzz: $name: $execs executions, exit $rc" >&2
	if [ "$rc" -ne 0 ] || ls "$art"/crash-* "$art"/leak-* \
	    "$art"/timeout-* "$art"/oom-* >/dev/null 2>&1; then
		tail -n 40 "$log" >&2
		echo "fuzz: $name FAILED; artifacts in $art" >&2
		return 1
	fi
}

need_clang
mkdir -p "$out"
status=0
for src in tests/fuzz/*_fuzz.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" _fuzz.c)
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	build "$src" "$name" || { status=1; continue; }
	run "$name" || status=1
done
exit $status
