#!/bin/sh
# make lint: what ../shared/STYLE.md promises (scripts/lint.py says what).
set -eu
cd "$(dirname "$0")/.."
exec python3 scripts/lint.py
