#!/bin/sh
# Install the Debian packages revokerd needs, once; a no-op when all are present.
# Usage: scripts/deps.sh build|test|bench
set -eu

build="build-essential pkg-config libevent-dev librdkafka-dev liblmdb-dev
libjansson-dev libssl-dev libcrypt-dev kcat curl"
test="$build libcriterion-dev graphviz openjdk-17-jre-headless maven
ca-certificates python3"
bench="$test wrk nginx-light gnuplot-nox postgresql time"

case "${1:-build}" in
build) want=$build ;;
test) want=$test ;;
bench) want=$bench ;;
*) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
