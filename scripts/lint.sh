#!/bin/sh
# Fail on the C string functions the house style forbids.
set -eu
cd "$(dirname "$0")/.."
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets)[[:space:]]*\(' \
    daemon/*/*.c consumers/*/*.c store/*/*.c scripts/*.c tests/unit/*.c \
    tests/fuzz/*.c 2>/dev/null | grep -v 'snprintf' || true)
if [ -n "$bad" ]; then
	echo "lint: forbidden functions:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "lint: ok"
