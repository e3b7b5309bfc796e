#!/bin/bash
# SIGTERM while a /revoke waits for its delivery (the broker frozen by
# SIGSTOP, so it is never acknowledged): the daemon waits a bounded time
# for it, answers the caller 503 (never a 202 for an event the broker
# does not hold), logs at error level that event by its id, and exits 0.
. "$(dirname "$0")/lib.sh"

broker_start_private
KPID=$(cat "$T/kafka/pid")
thaw() { kill -CONT "$KPID" 2>/dev/null; return 0; }
trap 'thaw; _on_exit' EXIT
daemon_start --profile off --revoke-wait-ms 30000

produce "$TOPIC_IN" k "$(ev_issued e-1 t-s)"
check "t-s is active" wait_for 10 is_active t-s
check "the daemon is ready" daemon_wait_ready

kill -STOP "$KPID"
say "broker frozen (SIGSTOP $KPID)"
curl -s -o "$T/rbody" -w '%{http_code}' -u "$REV" -d token=t-s \
    -d token_type_hint=jti --max-time 40 "$URL/revoke" >"$T/rcode" &
CURL=$!
submitted() { grep -q 'submitted event http-' "$T/revokerd.log"; }
check "the /revoke call is waiting" wait_for 10 submitted
ID=$(grep -o 'submitted event http-[0-9a-f]*' "$T/revokerd.log" |
    tail -n 1 | sed 's/.* //')
say "event $ID"
t0=$SECONDS
daemon_stop
say "stopped in $((SECONDS - t0)) s"
wait "$CURL"
check_eq "the caller gets 503" 503 "$(cat "$T/rcode")"
check_eq "temporarily_unavailable" temporarily_unavailable \
    "$(jget "$T/rbody" .error)"
check "the log names the event, at error level" grep -q \
    "error: /revoke event $ID not acknowledged by the broker at shutdown" \
    "$T/revokerd.log"
thaw

finish
