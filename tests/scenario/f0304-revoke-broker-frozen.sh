#!/bin/bash
# POST /revoke while the broker hangs (SIGSTOP of a private broker: the
# connection stays open but nothing is acknowledged): never a 200 or 202
# for an event the broker does not hold (SPEC 4: "a 200 or 202 is never
# followed by the revocation being lost").  Every call answers 503 with
# Retry-After within a bound; after SIGCONT a retry is answered 200, and
# every event answered 200 or 202 is on the input topic.
. "$(dirname "$0")/lib.sh"

broker_start_private
KPID=$(cat "$T/kafka/pid")
thaw() { kill -CONT "$KPID" 2>/dev/null; return 0; }
trap 'thaw; _on_exit' EXIT
daemon_start --profile off

for i in 1 2 3; do
	echo "k	$(ev_issued "e-$i" "t-f$i")"
done >"$T/events"
check "produce three tokens" produce_file "$TOPIC_IN" "$T/events"
check "they are active" wait_for 10 is_active t-f3
check "the daemon is ready" daemon_wait_ready

kill -STOP "$KPID"
say "broker frozen (SIGSTOP $KPID)"
for i in 1 2 3; do
	code=$(http POST /revoke -u "$REV" -d "token=t-f$i" \
	    -d token_type_hint=jti)
	check_eq "t-f$i: 503 while the broker hangs" 503 "$code"
	check_eq "t-f$i: temporarily_unavailable" temporarily_unavailable \
	    "$(jget "$T/body" .error)"
	check "t-f$i: Retry-After" grep -qi '^Retry-After: [0-9]' "$T/headers"
done
check "introspection answers meanwhile: t-f1 active" is_active t-f1
thaw
say "broker resumed"

retry_ok() {
	code=$(http POST /revoke -u "$REV" -d token=t-f1 -d token_type_hint=jti)
	echo "$code"
	[ "$code" = 200 ]
}
check "a retry after SIGCONT: 200" wait_for 60 retry_ok
check "t-f1 inactive" is_inactive t-f1

# Each event the daemon answered 200/202 for is on the topic: the ids
# come from its log ("submitted event ID", then "ID: ... 503" for those
# refused).
grep -o 'submitted event http-[0-9a-f]*' "$T/revokerd.log" |
    sed 's/.* //' | sort -u >"$T/submitted"
grep -o 'event http-[0-9a-f]*: no acknowledgement' "$T/revokerd.log" |
    sed 's/event \(http-[0-9a-f]*\):.*/\1/' | sort -u >"$T/refused"
comm -23 "$T/submitted" "$T/refused" >"$T/stood"
check_eq "three events were refused with 503" 3 "$(wc -l <"$T/refused")"
consume "$TOPIC_IN" 4 10 >"$T/in"
jcol "$T/in" .id | sort -u >"$T/on_topic"
check_eq "every event answered 200/202 is on the input topic" "" \
    "$(comm -23 "$T/stood" "$T/on_topic")"
check "at least one did stand (the retry)" test -s "$T/stood"

daemon_stop
finish
