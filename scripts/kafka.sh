#!/bin/bash
# A real Apache Kafka broker (KRaft, no ZooKeeper) for the scenario tests,
# assembled from Maven Central's jars; no Kafka install, no download of a
# release tarball.
#
# Usage: scripts/kafka.sh fetch|start|stop|status|log [DIR]
#
#   fetch   copy the jars named by scripts/kafka/pom.xml (org.apache.kafka:
#           kafka_2.13 and its runtime dependencies, plus an slf4j->log4j2
#           binding) into .cache/kafka-jars/ (ignored by git). Cached: when
#           the folder matches the pom, nothing runs, nothing is downloaded.
#   start   one combined broker+controller on 127.0.0.1, state in DIR
#           (default build/kafka): DIR/server.properties, DIR/data (the log
#           and the KRaft metadata), DIR/server.log (the JVM's output),
#           DIR/pid, DIR/bootstrap (HOST:PORT). Waits until `kcat -L` sees
#           the broker. A DIR that was already formatted is started again
#           with its data and its ports (a broker restart, for outage
#           tests); remove DIR for a fresh broker. Prints the bootstrap.
#   stop    SIGTERM, wait (KAFKA_STOP_TIMEOUT, 30 s), then SIGKILL.
#   status  print the bootstrap and exit 0 if running, else exit 1.
#   log     print the last 40 lines of DIR/server.log.
#   create-topic NAME PARTITIONS [DIR]
#           create a topic with that many partitions (the broker's default
#           is 3, auto-created), through Kafka's TopicCommand; the broker is
#           $KAFKA_BOOTSTRAP if set, else the one running in DIR. A JVM
#           start: about a second.
#
# Environment:
#   KAFKA_PORT, KAFKA_CONTROLLER_PORT  ports (default: two free ones)
#   KAFKA_HEAP            JVM heap flags (default "-Xms128m -Xmx512m")
#   KAFKA_JVM_OPTS        more JVM flags
#   KAFKA_START_TIMEOUT   seconds to wait for the broker (default 60)
#   KAFKA_LOG_LEVEL       broker log level in server.log (default INFO)
#   KAFKA_JARS            jar folder (default .cache/kafka-jars)
#
# Broker settings worth knowing when writing tests: num.partitions=3,
# auto.create.topics.enable=true, every replication factor and min ISR 1,
# group.initial.rebalance.delay.ms=0 and group.min.session.timeout.ms=1000
# (so clients may use session.timeout.ms=3000).
#
# Not done yet: a three-broker cluster (replication factor 3, a broker
# killed under load). It would be one DIR per node, node.id 1..3, and a
# controller.quorum.bootstrap.servers naming the three controllers.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
POM=$ROOT/scripts/kafka/pom.xml
JARS=${KAFKA_JARS:-$ROOT/.cache/kafka-jars}
# Main classes, as bin/kafka-server-start.sh and bin/kafka-storage.sh of
# Kafka 4.x name them.
MAIN_SERVER=kafka.Kafka
MAIN_STORAGE=kafka.tools.StorageTool
MAIN_TOPICS=org.apache.kafka.tools.TopicCommand
TOOLS_LOG4J=$ROOT/scripts/kafka/log4j2-tools.properties

prog=kafka.sh

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }

# step NAME: announce a step, so that a failure names it.
step() { STEP=$1; [ -n "${KAFKA_VERBOSE:-}" ] && say "step: $1"; return 0; }
fail() { say "step '$STEP' failed: $*"; exit 1; }

pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

cmd_fetch() {
	local sum tmp
	step "fetch jars"
	[ -f "$POM" ] || fail "no $POM"
	sum=$(pom_sum)
	if [ -f "$JARS/.pom.sha256" ] &&
	    [ "$(cat "$JARS/.pom.sha256")" = "$sum" ]; then
		return 0
	fi
	command -v mvn >/dev/null || fail "mvn not found (scripts/deps.sh test)"
	mkdir -p "$(dirname "$JARS")" || fail "cannot create $(dirname "$JARS")"
	# One fetch at a time; a second one waits, then finds the cache.
	exec 9>"$JARS.lock"
	flock 9 || fail "flock $JARS.lock"
	if [ -f "$JARS/.pom.sha256" ] &&
	    [ "$(cat "$JARS/.pom.sha256")" = "$sum" ]; then
		exec 9>&-
		return 0
	fi
	say "fetching Kafka jars into $JARS (first run only)"
	tmp=$JARS.tmp.$$
	rm -rf "$tmp"
	if ! mvn -q -B -Dstyle.color=never -f "$POM" \
	    dependency:copy-dependencies -DincludeScope=runtime \
	    -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
		tail -n 30 "$tmp.log" >&2
		rm -rf "$tmp" "$tmp.log"
		fail "mvn dependency:copy-dependencies"
	fi
	rm -f "$tmp.log"
	ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 ||
	    { rm -rf "$tmp"; fail "no kafka_2.13 jar in the copied set"; }
	echo "$sum" >"$tmp/.pom.sha256"
	rm -rf "$JARS"
	mv "$tmp" "$JARS" || fail "mv $tmp $JARS"
	exec 9>&-
}

# free_ports N: print N distinct free TCP ports on 127.0.0.1.
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# cluster_id: a random Kafka Uuid, 22 characters of base64url, not starting
# with '-' (which the tool's option parser would take for a flag).
cluster_id() {
	python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if s[0] != "-":
        print(s)
        break'
}

# prop FILE KEY: the value of KEY in a properties file.
prop() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

write_config() {
	local dir=$1 port=$2 cport=$3
	cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh: one broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=16777216
EOF
	cat >"$dir/log4j2.properties" <<EOF
# Written by scripts/kafka.sh: broker log to stdout (DIR/server.log).
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=${KAFKA_LOG_LEVEL:-INFO}
rootLogger.appenderRef.out.ref=out
logger.state.name=state.change.logger
logger.state.level=WARN
logger.req.name=kafka.request.logger
logger.req.level=WARN
logger.config.name=org.apache.kafka.common.config.AbstractConfig
logger.config.level=WARN
EOF
}

java_flags() {
	# shellcheck disable=SC2086
	echo ${KAFKA_HEAP:--Xms128m -Xmx512m} -XX:+UseG1GC \
	    -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
	    -Dlog4j2.configurationFile="$1/log4j2.properties" \
	    ${KAFKA_JVM_OPTS:-}
}

# alive PID: the process exists and is no zombie (a broker that died while
# this script waits for it stays a zombie until the script exits).
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

running() {
	local pid
	[ -f "$1/pid" ] || return 1
	pid=$(cat "$1/pid")
	[ -n "$pid" ] && alive "$pid" &&
	    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
	    grep -q "$MAIN_SERVER"
}

log_tail() {
	[ -f "$1/server.log" ] || return 0
	say "last lines of $1/server.log:"
	tail -n "${2:-40}" "$1/server.log" >&2
}

cmd_start() {
	local dir=$1 port cport ports addr id pid deadline flags
	cmd_fetch
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	if running "$dir"; then
		die "already running in $dir (pid $(cat "$dir/pid")):" \
		    "$(cat "$dir/bootstrap")"
	fi
	command -v java >/dev/null || die "java not found (scripts/deps.sh test)"
	command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh test)"
	flags=$(java_flags "$dir")

	if [ -f "$dir/data/meta.properties" ] && [ -f "$dir/server.properties" ]
	then
		step "reuse formatted storage"
		port=$(prop "$dir/server.properties" advertised.listeners)
		port=${port##*:}
		[ -n "$port" ] || fail "no advertised.listeners port"
	else
		step "choose ports"
		rm -rf "$dir/data"
		ports=$(free_ports 2) || fail "python3 could not find free ports"
		port=${KAFKA_PORT:-${ports%% *}}
		cport=${KAFKA_CONTROLLER_PORT:-${ports##* }}
		[ "$port" != "$cport" ] || fail "port $port used twice"

		step "write server.properties"
		write_config "$dir" "$port" "$cport" ||
		    fail "cannot write $dir/server.properties"

		step "format storage ($MAIN_STORAGE)"
		id=$(cluster_id) || fail "python3 could not make a cluster id"
		# shellcheck disable=SC2086
		if ! java $flags -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
		    -cp "$JARS/*" "$MAIN_STORAGE" format \
		    --standalone -t "$id" -c "$dir/server.properties" \
		    >"$dir/format.log" 2>&1; then
			cat "$dir/format.log" >&2
			fail "java $MAIN_STORAGE format"
		fi
	fi
	addr=127.0.0.1:$port

	step "start broker ($MAIN_SERVER)"
	: >>"$dir/server.log"
	# shellcheck disable=SC2086
	java $flags -cp "$JARS/*" "$MAIN_SERVER" "$dir/server.properties" \
	    </dev/null >>"$dir/server.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$addr" >"$dir/bootstrap"

	step "wait for the broker at $addr (kcat -L)"
	deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
	while :; do
		if ! alive "$pid"; then
			rm -f "$dir/pid"
			log_tail "$dir"
			fail "the broker exited"
		fi
		if kcat -b "$addr" -L -m 2 2>/dev/null |
		    grep -q "broker 1 at $addr"; then
			break
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log_tail "$dir"
			kill -KILL "$pid" 2>/dev/null
			rm -f "$dir/pid"
			fail "no answer after ${KAFKA_START_TIMEOUT:-60} s"
		fi
		sleep 0.5
	done
	echo "$addr"
}

cmd_stop() {
	local dir=$1 pid deadline
	if ! running "$dir"; then
		rm -f "$dir/pid"
		say "not running in $dir"
		return 0
	fi
	pid=$(cat "$dir/pid")
	kill -TERM "$pid" 2>/dev/null
	deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-30}))
	while alive "$pid"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			say "pid $pid still alive after SIGTERM: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
			sleep 0.5
			break
		fi
		sleep 0.2
	done
	# Reap it when it is our child (start and stop in one shell).
	wait "$pid" 2>/dev/null
	rm -f "$dir/pid"
	return 0
}

cmd_status() {
	if running "$1"; then
		cat "$1/bootstrap"
		return 0
	fi
	say "not running in $1"
	return 1
}

cmd_create_topic() {
	local name=$1 parts=$2 dir=$3 addr
	case "$parts" in
	'' | *[!0-9]*) die "create-topic: partitions must be a number" ;;
	esac
	if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
		addr=$KAFKA_BOOTSTRAP
	else
		addr=$(cmd_status "$dir") || exit 1
	fi
	cmd_fetch
	step "create topic $name ($MAIN_TOPICS)"
	java -Xmx128m -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
	    -cp "$JARS/*" "$MAIN_TOPICS" --bootstrap-server "$addr" \
	    --create --topic "$name" --partitions "$parts" \
	    --replication-factor 1 >/dev/null ||
	    fail "$MAIN_TOPICS --create --topic $name"
}

case "${1:-}" in
fetch) cmd_fetch ;;
start) cmd_start "${2:-$ROOT/build/kafka}" ;;
stop) cmd_stop "${2:-$ROOT/build/kafka}" ;;
status) cmd_status "${2:-$ROOT/build/kafka}" ;;
log) log_tail "${2:-$ROOT/build/kafka}" 40 ;;
create-topic)
	[ $# -ge 3 ] || die "usage: $0 create-topic NAME PARTITIONS [DIR]"
	cmd_create_topic "$2" "$3" "${4:-$ROOT/build/kafka}" ;;
*)
	echo "usage: $0 fetch|start|stop|status|log [DIR]" >&2
	echo "       $0 create-topic NAME PARTITIONS [DIR]" >&2
	exit 2 ;;
esac
