#!/bin/sh
# Run every Criterion unit-test binary given; fail if any fails.
set -u
rc=0
for t in "$@"; do
	echo "== $t"
	"$t" --jobs 2 || rc=1
done
exit $rc
