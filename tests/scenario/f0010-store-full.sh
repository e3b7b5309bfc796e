#!/bin/bash
# A full store is a pause, not an outage (SPEC section 2, "Bad input";
# section 4 /readyz): revokerd on a 1 MiB LMDB map is fed more tokens than
# fit. It must not exit: applying pauses with the failed batch rolled
# back and its offsets not advanced, /readyz answers 503 store_full,
# introspection goes on from the last committed state, and nothing is
# dead-lettered. Restarted with a larger --map-size it applies every
# event once: the digest equals a clean replay of the topic, and the
# revocation produced after the map filled is applied.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --map-size 1 --batch 100

ready_reason() {
	[ "$(http GET /readyz)" = 503 ] &&
	    [ "$(jget "$T/body" .reason)" = "$1" ]
}

for i in $(seq 0 19); do
	ev_issued "e-early-$i" "t-early-$i" sub=user-1
done >"$T/early"
check "produce 20 early tokens" produce_file "$TOPIC_IN" "$T/early"
check "the early tokens are applied" wait_for 20 applied_at_least 20
check "t-early-1 is active" wait_for 10 is_active t-early-1

python3 - "$T/bulk" "$ISS" "$NOW" <<'PY'
import json, sys
out, iss, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(out, "w") as f:
    for i in range(6000):
        e = {"v": 1, "type": "token.issued", "id": "e-bulk-%d" % i,
             "time": now, "iss": iss, "grant_type": "client_credentials",
             "token": {"jti": "t-bulk-%d-%s" % (i, "x" * 100),
                       "sub": "user-2", "client_id": "agent-%d" % i,
                       "scope": "s " * 50, "iat": now, "exp": now + 3600}}
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
PY
ev_revoked e-late-revoke jti=t-early-1 >>"$T/bulk"
check "produce 6000 tokens and a revocation" produce_file "$TOPIC_IN" \
    "$T/bulk"
check "/readyz answers 503 store_full" wait_for 60 ready_reason store_full
check "the store failure is counted" \
    test "$(metric revokerd_store_failures_total)" -ge 1
check "revokerd_not_ready{reason=\"store_full\"} is 1" \
    test "$(metric 'revokerd_not_ready{reason="store_full"}')" = 1
check "the log says what to do" grep -q 'store full.*--map-size' \
    "$T/revokerd.log"
check "/healthz still answers 200" test "$(http GET /healthz)" = 200
check "introspection answers from the committed state" is_active t-early-2
sleep 3
# (Batches may go through now and then as the drain frees outbox pages.)
check "it keeps retrying, and is still alive" \
    test "$(metric revokerd_store_failures_total)" -ge 2
check_eq "nothing was dead-lettered" 0 "$(count "$TOPIC_DLQ")"

daemon_stop
daemon_start --map-size 64
check "with room, it catches up by itself" daemon_wait_ready 60
check "the revocation produced after the map filled is applied" \
    wait_for 10 is_inactive t-early-1
check_eq "still nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"
daemon_stop
check "replay the topic into a fresh database" ctl replay --db "$T/clean" \
    --brokers "$BOOTSTRAP" --topic "$TOPIC_IN"
check_eq "every event applied once: the digest equals the clean replay" \
    "$(ctl digest --db "$T/clean")" "$(ctl digest --db "$T/db")"
finish
