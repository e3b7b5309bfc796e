#!/bin/bash
# Silent loss at the input (issue 9, item 7): messages deleted from the
# input topic before revokerd read them (here with Kafka's own
# DeleteRecordsCommand while the daemon was stopped; retention does the
# same) used to be skipped with a warning of librdkafka's. Now revokerd
# logs the range at error level, counts it
# (revokerd_input_gap_messages_total), holds /readyz at 503 input_gap,
# across restarts, until an operator runs `revokerctl ack-gap`, and goes
# on applying and answering meanwhile. And `revokerctl replay --force`
# refuses a database that a running daemon holds.
. "$(dirname "$0")/lib.sh"

broker_start
if [ "${BROKER:-}" = mock ]; then
	say "skipped: the mock cluster cannot delete records"
	finish
fi
check "an input topic of one partition" topic_create "$TOPIC_IN" 1
daemon_start

ready_reason() {
	[ "$(http GET /readyz)" = 503 ] &&
	    [ "$(jget "$T/body" .reason)" = "$1" ]
}

for i in 0 1 2; do ev_issued "e-g$i" "t-g$i"; done >"$T/first"
check "produce three tokens" produce_file "$TOPIC_IN" "$T/first"
check "they are applied" wait_for 20 applied_at_least 3
check "/readyz answers 200" daemon_wait_ready 20
daemon_stop

{
	ev_issued e-g3 t-g3
	ev_revoked e-g4 jti=t-g0
	ev_issued e-g5 t-g5
	ev_issued e-g6 t-g6
	ev_issued e-g7 t-g7
} >"$T/second"
check "produce five more while revokerd is stopped" \
    produce_file "$TOPIC_IN" "$T/second"
printf '{"partitions":[{"topic":"%s","partition":0,"offset":6}],"version":1}\n' \
    "$TOPIC_IN" >"$T/delete.json"
check "delete offsets 3 to 5 (a revocation among them)" \
    java -Xmx128m -cp "${KAFKA_JARS:-$ROOT/.cache/kafka-jars}/*" \
    org.apache.kafka.tools.DeleteRecordsCommand \
    --bootstrap-server "$BOOTSTRAP" --offset-json-file "$T/delete.json"

daemon_start
check "the messages after the gap are applied" wait_for 20 is_active t-g7
check "/readyz answers 503 input_gap" wait_for 10 ready_reason input_gap
check_eq "the gap is counted" 3 \
    "$(metric revokerd_input_gap_messages_total)"
check "the log names the range at error level" \
    grep -q 'error: input gap: .* partition 0: messages 3 to 5' "$T/revokerd.log"
check "introspection goes on" is_active t-g1
check "the missed revocation is missed (the gap's point)" is_active t-g0

daemon_restart
check "the gap outlives a restart" wait_for 10 ready_reason input_gap
check_eq "and is not counted twice" 0 \
    "$(metric revokerd_input_gap_messages_total)"

check "replay --force refuses the database of a running daemon" \
    bash -c '! "$1/revokerctl" replay --force --db "$2" --file "$3" \
    2>"$4"' _ "$BUILD" "$T/db" "$T/first" "$T/replay.err"
check "and says why" grep -q 'in use by another process, pid' \
    "$T/replay.err"

check_match "revokerctl ack-gap acknowledges it" "3 missed input messages" \
    "$(ctl ack-gap --db "$T/db")"
check "/readyz answers 200 again, the daemon still running" \
    daemon_wait_ready 10
check_match "a second ack-gap finds nothing" "no input gap" \
    "$(ctl ack-gap --db "$T/db")"
daemon_stop
finish
