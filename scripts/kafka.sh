#!/bin/bash
# A real Apache Kafka broker (KRaft, no ZooKeeper) for the scenario tests,
# assembled from Maven Central's jars; no Kafka install, no download of a
# release tarball.
#
# Usage: scripts/kafka.sh fetch|start|start3|stop|status|log [DIR]
#        scripts/kafka.sh start-node|kill-node DIR N
#        scripts/kafka.sh stop-node DIR N [kill]
#        scripts/kafka.sh create-topic NAME PARTITIONS [DIR]
#        scripts/kafka.sh topic-config NAME KEY=VALUE[,KEY=VALUE...] [DIR]
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
#   start3  three KRaft nodes on 127.0.0.1 (default DIR build/kafka3),
#           each broker+controller, node.id 1..3, one controller quorum of
#           the three (every node formatted with the same cluster id and
#           --initial-controllers listing the three), replication factor 3
#           and min ISR 2 by default (internal topics too), a dead node
#           fenced after 3 s (broker.session.timeout.ms). DIR/nodeN/ holds
#           each node as DIR above; DIR/nodes marks a cluster;
#           DIR/bootstrap and the output: the three addresses, comma-
#           separated. Heap -Xmx384m each unless KAFKA_HEAP. Waits until
#           each node lists all three brokers. A formatted DIR restarts.
#   start-node DIR N    start node N of a start3 DIR again, with its data
#           and ports; waits until it is registered and back in the ISR
#           of every partition it replicates. Prints its address.
#   stop-node DIR N [kill]   stop node N as `stop` does, or SIGKILL it
#           at once (a crash) with "kill". kill-node DIR N: the same.
#   stop    SIGTERM, wait (KAFKA_STOP_TIMEOUT, 30 s), then SIGKILL; on a
#           start3 DIR, all nodes at once.
#   status  print the bootstrap and exit 0 if running, else exit 1; on a
#           start3 DIR, 0 only if all three run (else it prints the
#           addresses of those that do and names the others).
#   log     print the last 40 lines of DIR/server.log (of each node).
#   create-topic NAME PARTITIONS [DIR]
#           create a topic with that many partitions (the broker's default
#           is 3, auto-created) and the broker's default replication
#           factor, through Kafka's TopicCommand; the broker is
#           $KAFKA_BOOTSTRAP if set, else the one running in DIR. A JVM
#           start: about a second. KAFKA_TOPIC_CONFIG=KEY=VALUE[,...]
#           creates it with those topic configs (TopicCommand --config),
#           e.g. max.message.bytes=2048.
#   topic-config NAME KEY=VALUE[,KEY=VALUE...] [DIR]
#           alter the configs of an existing topic on the running broker
#           (the broker found as for create-topic), through Kafka's
#           ConfigCommand (kafka-configs.sh --alter --add-config), e.g.
#           max.message.bytes=1048576. The controller has accepted the
#           change when it returns; the broker applies it a moment later.
#
# Environment:
#   KAFKA_PORT, KAFKA_CONTROLLER_PORT  ports of `start` (default: two free
#                         ones; start3 always takes six free ones)
#   KAFKA_HEAP            JVM heap flags (default "-Xms128m -Xmx512m";
#                         start3 and start-node: "-Xms128m -Xmx384m")
#   KAFKA_JVM_OPTS        more JVM flags
#   KAFKA_START_TIMEOUT   seconds to wait for the broker (default 60)
#   KAFKA_LOG_LEVEL       broker log level in server.log (default INFO)
#   KAFKA_JARS            jar folder (default .cache/kafka-jars)
#   KAFKA_TOPIC_CONFIG    topic configs of create-topic (KEY=VALUE[,...])
#
# Broker settings worth knowing when writing tests: num.partitions=3,
# auto.create.topics.enable=true, every replication factor and min ISR 1,
# group.initial.rebalance.delay.ms=0 and group.min.session.timeout.ms=1000
# (so clients may use session.timeout.ms=3000). start3 differs in
# replication factors 3 and min ISR 2, as said above.

set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
POM=$ROOT/scripts/kafka/pom.xml
JARS=${KAFKA_JARS:-$ROOT/.cache/kafka-jars}
# Main classes, as bin/kafka-server-start.sh and bin/kafka-storage.sh of
# Kafka 4.x name them.
MAIN_SERVER=kafka.Kafka
MAIN_STORAGE=kafka.tools.StorageTool
MAIN_TOPICS=org.apache.kafka.tools.TopicCommand
MAIN_CONFIGS=org.apache.kafka.tools.ConfigCommand
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

# write_config DIR PORT CPORT [NODE QUORUM RF ISR]: the broker's settings;
# the optional arguments (a node of start3) default to a single node.
write_config() {
	local dir=$1 port=$2 cport=$3 node=${4:-1} quorum=${5:-127.0.0.1:$3}
	local rf=${6:-1} isr=${7:-1}
	cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh: one broker+controller for tests.
process.roles=broker,controller
node.id=$node
controller.quorum.bootstrap.servers=$quorum
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
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

# tool_addr DIR: the broker of the admin tools: $KAFKA_BOOTSTRAP if set,
# else the one running in DIR (exit 1 if none).
tool_addr() {
	if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
		echo "$KAFKA_BOOTSTRAP"
	else
		cmd_status "$1"
	fi
}

# check_configs WHAT LIST: LIST is KEY=VALUE[,KEY=VALUE...].
check_configs() {
	local kv kvs
	[ -n "$2" ] || die "$1: no KEY=VALUE"
	IFS=, read -ra kvs <<<"$2"
	for kv in "${kvs[@]}"; do
		case "$kv" in
		[a-z]*=?*) ;;
		*) die "$1: '$kv' is no KEY=VALUE" ;;
		esac
	done
}

cmd_create_topic() {
	local name=$1 parts=$2 dir=$3 addr conf=${KAFKA_TOPIC_CONFIG:-} kv
	local args=() kvs
	case "$parts" in
	'' | *[!0-9]*) die "create-topic: partitions must be a number" ;;
	esac
	if [ -n "$conf" ]; then
		check_configs "create-topic: KAFKA_TOPIC_CONFIG" "$conf"
		IFS=, read -ra kvs <<<"$conf"
		for kv in "${kvs[@]}"; do args+=(--config "$kv"); done
	fi
	addr=$(tool_addr "$dir") || exit 1
	cmd_fetch
	step "create topic $name ($MAIN_TOPICS${conf:+, $conf})"
	java -Xmx128m -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
	    -cp "$JARS/*" "$MAIN_TOPICS" --bootstrap-server "$addr" \
	    --create --topic "$name" --partitions "$parts" "${args[@]}" \
	    >/dev/null || fail "$MAIN_TOPICS --create --topic $name"
}

cmd_topic_config() {
	local name=$1 conf=$2 dir=$3 addr
	check_configs topic-config "$conf"
	addr=$(tool_addr "$dir") || exit 1
	cmd_fetch
	step "alter topic $name: $conf ($MAIN_CONFIGS)"
	java -Xmx128m -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
	    -cp "$JARS/*" "$MAIN_CONFIGS" --bootstrap-server "$addr" \
	    --entity-type topics --entity-name "$name" --alter \
	    --add-config "$conf" >/dev/null ||
	    fail "$MAIN_CONFIGS --alter --entity-name $name --add-config $conf"
}

# ---- three nodes (start3) -------------------------------------------------
#
# DIR/nodes (the node count: marks DIR as a cluster), DIR/bootstrap (the
# three PLAINTEXT addresses, comma-separated), DIR/cluster.id, and
# DIR/nodeN/ for N in 1..3, each like the DIR of `start` (server.properties,
# data, server.log, format.log, pid, bootstrap: that node's address).

NNODES=3

is_cluster() { [ -f "$1/nodes" ]; }

# uuids N: N random Kafka Uuids, one a line.
uuids() {
	local i
	for i in $(seq "$1"); do cluster_id || return 1; done
}

# node_launch NODEDIR: start the JVM of one node in the background; its
# pid in NODEDIR/pid. No wait.
node_launch() {
	local nd=$1 flags
	flags=$(java_flags "$nd")
	echo "=== kafka.sh: start $(date '+%F %T')" >>"$nd/server.log"
	# shellcheck disable=SC2086
	java $flags -cp "$JARS/*" "$MAIN_SERVER" "$nd/server.properties" \
	    </dev/null >>"$nd/server.log" 2>&1 &
	echo "$!" >"$nd/pid"
}

# node_addr NODEDIR: the node's PLAINTEXT address.
node_addr() {
	local a
	a=$(prop "$1/server.properties" advertised.listeners)
	echo "${a#PLAINTEXT://}"
}

# brokers_seen ADDR: how many brokers the metadata from ADDR lists.
brokers_seen() {
	kcat -b "$1" -L -m 2 2>/dev/null |
	    sed -n 's/^ *\([0-9][0-9]*\) brokers:$/\1/p' | head -n 1
}

# node_wait DIR N DEADLINE [all]: wait until node N answers metadata at
# its own address and lists itself (registered, unfenced); with "all",
# until it lists all $NNODES brokers too. Fails the step (and kills the
# node) if it exits or when SECONDS passes DEADLINE.
node_wait() {
	local dir=$1 n=$2 deadline=$3 all=${4:-} nd addr pid
	nd=$dir/node$n
	addr=$(node_addr "$nd")
	pid=$(cat "$nd/pid")
	step "wait for node $n at $addr (kcat -L)"
	while :; do
		if ! alive "$pid"; then
			rm -f "$nd/pid"
			log_tail "$nd"
			fail "node $n exited"
		fi
		if kcat -b "$addr" -L -m 2 2>/dev/null |
		    grep -q "broker $n at $addr"; then
			[ -z "$all" ] && return 0
			[ "$(brokers_seen "$addr")" = "$NNODES" ] && return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			log_tail "$nd"
			kill -KILL "$pid" 2>/dev/null
			rm -f "$nd/pid"
			fail "no answer after ${KAFKA_START_TIMEOUT:-60} s"
		fi
		sleep 0.5
	done
}

cmd_start3() {
	local dir=$1 ports p i n nd id dids quorum initial addrs deadline
	local flags formatted
	KAFKA_HEAP=${KAFKA_HEAP:--Xms128m -Xmx384m}
	cmd_fetch
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	for n in $(seq $NNODES); do
		if running "$dir/node$n"; then
			die "node $n already running in $dir/node$n" \
			    "(pid $(cat "$dir/node$n/pid"))"
		fi
	done
	command -v java >/dev/null || die "java not found (scripts/deps.sh test)"
	command -v kcat >/dev/null || die "kcat not found (scripts/deps.sh test)"

	formatted=1
	for n in $(seq $NNODES); do
		[ -f "$dir/node$n/data/meta.properties" ] &&
		    [ -f "$dir/node$n/server.properties" ] || formatted=
	done
	if [ -n "$formatted" ] && is_cluster "$dir"; then
		step "reuse formatted storage"
	else
		step "choose ports"
		rm -rf "$dir"/node[0-9]* "$dir/nodes" "$dir/bootstrap"
		ports=$(free_ports $((2 * NNODES))) ||
		    fail "python3 could not find free ports"
		# shellcheck disable=SC2206
		p=($ports)
		[ "$(printf '%s\n' "${p[@]}" | sort -u | wc -l)" = \
		    $((2 * NNODES)) ] || fail "ports used twice: $ports"

		step "choose the cluster id and directory ids"
		id=$(cluster_id) || fail "python3 could not make a cluster id"
		dids=$(uuids $NNODES) || fail "python3 could not make ids"
		# shellcheck disable=SC2206
		dids=($dids)
		quorum= initial=
		for i in $(seq 0 $((NNODES - 1))); do
			quorum=$quorum${quorum:+,}127.0.0.1:${p[$((2 * i + 1))]}
			initial=$initial${initial:+,}$((i + 1))@127.0.0.1:${p[$((2 * i + 1))]}:${dids[$i]}
		done

		for i in $(seq 0 $((NNODES - 1))); do
			n=$((i + 1))
			nd=$dir/node$n
			step "write node$n/server.properties"
			mkdir -p "$nd" || fail "cannot create $nd"
			write_config "$nd" "${p[$((2 * i))]}" \
			    "${p[$((2 * i + 1))]}" "$n" "$quorum" 3 2 ||
			    fail "cannot write $nd/server.properties"
			# A dead node is fenced (its partitions move) after
			# broker.session.timeout.ms: 3 s, not the default 9.
			cat >>"$nd/server.properties" <<EOF
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
unclean.leader.election.enable=false
EOF
			step "format node $n ($MAIN_STORAGE format --initial-controllers)"
			flags=$(java_flags "$nd")
			# Every node formatted with the same cluster id and
			# the same list of initial controllers (id@host:port:
			# directory id): a dynamic quorum of the three.
			# shellcheck disable=SC2086
			if ! java $flags \
			    -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
			    -cp "$JARS/*" "$MAIN_STORAGE" format \
			    --initial-controllers "$initial" -t "$id" \
			    -c "$nd/server.properties" \
			    >"$nd/format.log" 2>&1; then
				cat "$nd/format.log" >&2
				fail "java $MAIN_STORAGE format (node $n)"
			fi
			node_addr "$nd" >"$nd/bootstrap"
		done
		echo "$id" >"$dir/cluster.id"
		echo $NNODES >"$dir/nodes"
	fi
	addrs=
	for n in $(seq $NNODES); do
		addrs=$addrs${addrs:+,}$(node_addr "$dir/node$n")
	done
	echo "$addrs" >"$dir/bootstrap"

	# All at once: a controller alone has no quorum and waits for one.
	for n in $(seq $NNODES); do
		step "start node $n ($MAIN_SERVER)"
		node_launch "$dir/node$n"
	done
	deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
	for n in $(seq $NNODES); do
		node_wait "$dir" "$n" "$deadline" all
	done
	echo "$addrs"
}

# node_dir DIR N: DIR/nodeN of a cluster, checked.
node_dir() {
	is_cluster "$1" || die "$1 is no cluster of start3"
	case "$2" in
	[1-9]) [ "$2" -le "$NNODES" ] && { echo "$1/node$2"; return 0; } ;;
	esac
	die "node must be a number 1..$NNODES"
}

# cmd_start_node DIR N: start node N again with its data and its ports;
# wait until it is registered. Prints its address.
cmd_start_node() {
	local dir=$1 n=$2 nd
	local deadline addr
	nd=$(node_dir "$dir" "$n") || exit 1
	if running "$nd"; then
		die "node $n already running (pid $(cat "$nd/pid"))"
	fi
	[ -f "$nd/data/meta.properties" ] || die "node $n was never formatted"
	KAFKA_HEAP=${KAFKA_HEAP:--Xms128m -Xmx384m}
	step "start node $n ($MAIN_SERVER)"
	node_launch "$nd"
	deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
	node_wait "$dir" "$n" "$deadline"
	addr=$(node_addr "$nd")
	step "wait for node $n to rejoin the ISR of its partitions"
	until kcat -b "$addr" -L -m 2 2>/dev/null | node_in_isrs "$n"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kcat -b "$addr" -L -m 2 2>&1 | grep partition >&2
			fail "node $n not in every ISR after" \
			    "${KAFKA_START_TIMEOUT:-60} s"
		fi
		sleep 0.5
	done
	echo "$addr"
}

# node_in_isrs N <METADATA: kcat -L's output names N in the ISR of every
# partition N replicates (and lists at least one partition).
node_in_isrs() {
	awk -v n="$1" '
	/^ *partition [0-9]+, leader/ {
		seen = 1
		r = $0; sub(/.*replicas: /, "", r); sub(/, isrs:.*/, "", r)
		i = $0; sub(/.*isrs: /, "", i); sub(/ .*/, "", i)
		if (index("," r ",", "," n ",") && !index("," i ",", "," n ","))
			bad = 1
	}
	END { exit !(seen && !bad) }'
}

# cmd_stop_node DIR N [kill]: stop node N (cmd_stop: SIGTERM, then
# SIGKILL after KAFKA_STOP_TIMEOUT), or with "kill" SIGKILL at once (a
# crash). Its data stays.
cmd_stop_node() {
	local dir=$1 n=$2 how=${3:-} nd pid
	nd=$(node_dir "$dir" "$n") || exit 1
	if [ "$how" != kill ]; then
		step "stop node $n"
		cmd_stop "$nd"
		return
	fi
	step "kill -9 node $n"
	if ! running "$nd"; then
		rm -f "$nd/pid"
		say "node $n not running"
		return 0
	fi
	pid=$(cat "$nd/pid")
	kill -KILL "$pid" 2>/dev/null || fail "kill -KILL $pid"
	while alive "$pid"; do sleep 0.05; done
	wait "$pid" 2>/dev/null
	rm -f "$nd/pid"
	return 0
}

# A cluster stops all its nodes at once: the last one would otherwise wait
# for a quorum that has left.
cmd_stop_cluster() {
	local dir=$1 n
	for n in $(seq $NNODES); do
		cmd_stop "$dir/node$n" 2>/dev/null &
	done
	wait
	return 0
}

# Running: all nodes up; prints the bootstrap. Otherwise prints the
# addresses of the nodes that run (if any), names the others, exit 1.
cmd_status_cluster() {
	local dir=$1 n up= down=
	for n in $(seq $NNODES); do
		if running "$dir/node$n"; then
			up=$up${up:+,}$(node_addr "$dir/node$n")
		else
			down="$down $n"
		fi
	done
	if [ -z "$down" ]; then
		cat "$dir/bootstrap"
		return 0
	fi
	[ -n "$up" ] && echo "$up"
	say "not running in $dir: node$down"
	return 1
}

cmd_log_cluster() {
	local n
	for n in $(seq $NNODES); do
		log_tail "$1/node$n" "${2:-40}"
	done
}

case "${1:-}" in
fetch) cmd_fetch ;;
start) cmd_start "${2:-$ROOT/build/kafka}" ;;
start3) cmd_start3 "${2:-$ROOT/build/kafka3}" ;;
stop)
	d=${2:-$ROOT/build/kafka}
	if is_cluster "$d"; then cmd_stop_cluster "$d"; else cmd_stop "$d"; fi ;;
status)
	d=${2:-$ROOT/build/kafka}
	if is_cluster "$d"; then cmd_status_cluster "$d"; else cmd_status "$d"; fi ;;
log)
	d=${2:-$ROOT/build/kafka}
	if is_cluster "$d"; then cmd_log_cluster "$d" 40; else log_tail "$d" 40; fi ;;
start-node)
	[ $# -eq 3 ] || die "usage: $0 start-node DIR N"
	cmd_start_node "$2" "$3" ;;
stop-node)
	[ $# -ge 3 ] && [ $# -le 4 ] || die "usage: $0 stop-node DIR N [kill]"
	[ -z "${4:-}" ] || [ "$4" = kill ] || die "stop-node: 4th argument: kill"
	cmd_stop_node "$2" "$3" "${4:-}" ;;
kill-node)
	[ $# -eq 3 ] || die "usage: $0 kill-node DIR N"
	cmd_stop_node "$2" "$3" kill ;;
create-topic)
	[ $# -ge 3 ] || die "usage: $0 create-topic NAME PARTITIONS [DIR]"
	cmd_create_topic "$2" "$3" "${4:-$ROOT/build/kafka}" ;;
topic-config)
	[ $# -ge 3 ] && [ $# -le 4 ] ||
	    die "usage: $0 topic-config NAME KEY=VALUE[,KEY=VALUE...] [DIR]"
	cmd_topic_config "$2" "$3" "${4:-$ROOT/build/kafka}" ;;
*)
	echo "usage: $0 fetch|start|start3|stop|status|log [DIR]" >&2
	echo "       $0 start-node|kill-node DIR N" >&2
	echo "       $0 stop-node DIR N [kill]" >&2
	echo "       $0 create-topic NAME PARTITIONS [DIR]" >&2
	echo "       $0 topic-config NAME KEY=VALUE[,KEY=VALUE...] [DIR]" >&2
	exit 2 ;;
esac
