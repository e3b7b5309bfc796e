#!/bin/bash
# A revocation the *broker* refuses for good is never skipped (SPEC
# section 3, "No revocation is ever dropped"; section 4 /readyz
# output_stalled). The output topic is created with max.message.bytes
# 2048 before revokerd starts; a token whose jti, sub and client_id are
# 256 characters each is revoked with a 1000-character reason, so its
# revocation message (about 3 KiB) passes the producer (its own
# message.max.bytes is 2 MB) but the broker answers MSG_SIZE_TOO_LARGE in
# the delivery report. The drain must stop on it loudly, as it does when
# the producer refuses: an error line naming the outbox entry, /readyz
# 503 output_stalled, revokerd_output_stalled 1; a revocation applied
# after it is effective at once for introspection but not published past
# it. Once the topic's limit is raised (kafka.sh topic-config) the drain
# resumes by itself (it retries every 5 s): both messages on the topic,
# the big one first, /readyz 200, the gauge 0. A drain blind to the
# broker's refusal resends from the oldest entry in a loop (every ~20 ms,
# a warning each time) and never says output_stalled. (librdkafka 2.0:
# the delivery report says MSG_SIZE_TOO_LARGE, NOT_PERSISTED, for every
# message of the refused batch; the idempotent producer bumps its epoch
# and goes on, no fatal error.)
. "$(dirname "$0")/lib.sh"

broker_start
if [ "${BROKER:-}" = mock ]; then
	say "skipped: the mock cluster has no topic configs"
	finish
fi

LIMIT=2048
BIG=t-big-$(python3 -c 'print("j" * 250)')

ready_reason() {
	[ "$(http GET /readyz)" = 503 ] &&
	    [ "$(jget "$T/body" .reason)" = "$1" ]
}
# out_create: the output topic, one partition (one order), refusing
# record batches over $LIMIT bytes.
out_create() {
	KAFKA_TOPIC_CONFIG=max.message.bytes=$LIMIT topic_create "$TOPIC_OUT" 1
}
# topic_config NAME KEY=VALUE: alter a topic's config on the broker.
topic_config() {
	KAFKA_BOOTSTRAP=$BOOTSTRAP "$ROOT/scripts/kafka.sh" topic-config \
	    "$1" "$2" "$T/kafka"
}
# out_jtis: the jtis on the output topic, in topic order, each at its
# first occurrence (a resend may repeat one: delivery is at-least-once).
out_jtis() {
	consume "$TOPIC_OUT" 0 10 >"$T/out.jsonl"
	jcol "$T/out.jsonl" .jti | awk '!seen[$0]++'
}
# on_topic JTI: some revocation of JTI is on the output topic.
on_topic() { out_jtis | grep -Fxq -- "$1"; }
# broker_refused: the daemon's log reports the broker's refusal (a
# delivery report), not the producer's own (kafka_out_send's "refused").
broker_refused() {
	grep -v 'produce to .*refused' "$T/revokerd.log" |
	    grep -q 'Message size too large'
}

check "an output topic of one partition with max.message.bytes=$LIMIT" \
    out_create
daemon_start

L256=$(python3 -c 'print("s" * 256)')
C256=$(python3 -c 'print("c" * 256)')
REASON=$(python3 -c 'print("r" * 1000)')
{
	ev_issued e-before t-before
	ev_issued e-big "$BIG" sub="$L256" client_id="$C256"
	ev_issued e-after t-after
	ev_issued e-other t-other
} >"$T/issued"
check "produce four tokens, one with 256-character jti, sub, client_id" \
    produce_file "$TOPIC_IN" "$T/issued"
check "they are applied" wait_for 20 applied_at_least 4
check "the big token is active" is_active "$BIG"

check "revoke t-before (a small message)" produce "$TOPIC_IN" k1 \
    "$(ev_revoked e-rev-before jti=t-before)"
check "its revocation is on the topic: small messages pass the limit" \
    wait_for 20 on_topic t-before

check "revoke the big token (a message over $LIMIT bytes)" \
    produce "$TOPIC_IN" k2 \
    "$(ev_revoked e-rev-big jti="$BIG" reason="$REASON")"
check "the big token is revoked for introspection at once" \
    wait_for 10 is_inactive "$BIG"
check "the broker refuses it (MSG_SIZE_TOO_LARGE in a delivery report)" \
    wait_for 20 broker_refused
check "/readyz answers 503 output_stalled" wait_for 20 ready_reason \
    output_stalled
check_eq "revokerd_output_stalled is 1" 1 \
    "$(metric revokerd_output_stalled)"
check_eq "revokerd_not_ready{reason=\"output_stalled\"} is 1" 1 \
    "$(metric 'revokerd_not_ready{reason="output_stalled"}')"
check "the log names the outbox entry at error level" \
    grep -Eq 'error: outbox: entry [0-9]+' "$T/revokerd.log"

check "revoke t-after (a small message, after the big one)" \
    produce "$TOPIC_IN" k3 "$(ev_revoked e-rev-after jti=t-after)"
check "t-after is revoked for introspection at once" \
    wait_for 10 is_inactive t-after
# Longer than one retry (5 s): the drain has tried the big one again.
sleep 7
check "still 503 output_stalled after a retry" ready_reason output_stalled
check_eq "order kept, nothing skipped: only t-before on the topic" \
    t-before "$(out_jtis)"
check "both entries wait in the outbox" \
    test "$(metric revokerd_outbox_depth)" -ge 2
check "revokerd is still running" _alive "$DAEMON_PID"
check "t-other is still active" is_active t-other

check "raise the topic's max.message.bytes to 1048588" \
    topic_config "$TOPIC_OUT" max.message.bytes=1048588
check "the drain resumes by itself: t-after on the topic" \
    wait_for 30 on_topic t-after
check_eq "in topic order: t-before, the big one, then t-after" \
    "$(printf '%s\n' t-before "$BIG" t-after)" "$(out_jtis)"
check "/readyz answers 200 again" daemon_wait_ready 30
check_eq "revokerd_output_stalled is 0" 0 "$(metric revokerd_output_stalled)"
check "the outbox is drained" wait_for 10 drained
daemon_stop
finish
