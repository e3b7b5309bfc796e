#!/bin/bash
# POST /revoke while the broker is down (SPEC 4: 503 temporarily_unavailable
# "means the broker did not acknowledge it in time: the caller must
# retry"), on a private broker: the answer is 503 with Retry-After, never
# a 200 or 202, and introspection keeps answering from the graph; once
# the broker is back, a retry succeeds and the token is inactive.
. "$(dirname "$0")/lib.sh"

broker_start_private
daemon_start --profile off

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-a)
k	$(ev_issued e-2 t-a-kid subject=t-a)
EOF2
check "produce a token and its child" produce_file "$TOPIC_IN" "$T/events"
check "the child is active" wait_for 10 is_active t-a-kid
check "the daemon is ready" daemon_wait_ready

check "the broker stops" broker_stop
check_eq "/revoke with the broker down: 503" 503 "$(http POST /revoke \
    -u "$REV" -d token=t-a -d token_type_hint=jti)"
check_eq "temporarily_unavailable" temporarily_unavailable \
    "$(jget "$T/body" .error)"
check "with Retry-After" grep -qi '^Retry-After: [0-9]' "$T/headers"
check_eq "a raw token too: 503" 503 "$(http POST /revoke -u "$REV" \
    -d token=raw-unknown)"
check "introspection answers meanwhile: t-a-kid still active" \
    is_active t-a-kid
check "the daemon serves on" curl -fsS -o /dev/null --max-time 2 \
    "$URL/healthz"

check "the broker comes back" eval '"$ROOT/scripts/kafka.sh" start "$T/kafka" >/dev/null'
_track "$(cat "$T/kafka/pid")"
# The caller retries until it gets an answer that stands (200 or 202).
retry_ok() {
	code=$(http POST /revoke -u "$REV" -d token=t-a -d token_type_hint=jti)
	echo "$code"
	[ "$code" = 200 ] || [ "$code" = 202 ]
}
check "a retry succeeds (200 or 202) once the broker is back" \
    wait_for 60 retry_ok
check "t-a is inactive" wait_for 10 is_inactive t-a
check "its child too" is_inactive t-a-kid
check_eq "and the revocation is on the input topic" ok \
    "$(consume "$TOPIC_IN" 3 10 >"$T/in" && grep -q '"target":{"jti":"t-a"' \
    "$T/in" && echo ok)"

daemon_stop
finish
