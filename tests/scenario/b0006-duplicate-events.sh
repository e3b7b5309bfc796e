#!/bin/bash
# Idempotence (SPEC sections 2 and 3): an event whose id was already
# applied is ignored, whatever partition it comes from and across a
# restart; a token already revoked is not published again.
# - the same issuance twice (two partitions): one token, no dead letter;
# - the same revocation twice (back to back, then again after a restart):
#   the cascade is published once;
# - another revocation (new id) of an already revoked token: nothing new;
# - a new event id reusing a known jti: dead-lettered duplicate_jti,
#   the token unchanged.
. "$(dirname "$0")/lib.sh"

metric() {
	http GET /metrics -u "$ADMIN" >/dev/null
	awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$T/body"
}
applied_at_least() { [ "$(metric revokerd_events_applied_total)" -ge "$1" ]; }
# seen N: applied + duplicates reached N (every message so far handled).
seen() {
	local a d
	a=$(metric revokerd_events_applied_total)
	d=$(metric revokerd_events_duplicate_total)
	[ $((a + d)) -ge "$1" ]
}

broker_start
daemon_start --profile enforce

E1=$(ev_issued e-1 t-1 sub=user-1 client_id=webapp aud=agent-a scope=files:read)
E2=$(ev_issued e-2 t-2 grant_type=refresh_token sub=user-1 client_id=webapp \
    aud=agent-a scope=files:read previous=t-1)
check "issuance e-1 to partition 0" produce "$TOPIC_IN" k "$E1" 0
check "the same e-1 again, to partition 1" produce "$TOPIC_IN" k "$E1" 1
check "a child e-2 to partition 0" produce "$TOPIC_IN" k "$E2" 0
check "t-1 active" wait_for 10 is_active t-1
check "t-2 active" wait_for 10 is_active t-2
check "three messages handled" wait_for 10 seen 3
check_eq "two events applied" 2 "$(metric revokerd_events_applied_total)"
check_eq "one duplicate ignored" 1 "$(metric revokerd_events_duplicate_total)"
http GET /v1/tokens/t-1 -u "$ADMIN" >/dev/null
check_eq "t-1 has one child" 1 \
    "$(jget "$T/body" .children)"

# (revoked after t-2 was minted: no parent_inactive violation)
R=$(ev_revoked e-r jti=t-1 reason=logout time=$((NOW + 5)))
check "the revocation e-r" produce "$TOPIC_IN" k "$R" 0
check "the same e-r again, at once" produce "$TOPIC_IN" k "$R" 2
check "t-1 inactive" wait_for 10 is_inactive t-1
check "t-2 inactive" wait_for 10 is_inactive t-2
check "five messages handled" wait_for 10 seen 5
consume "$TOPIC_OUT" 2 15 >"$T/out"
sleep 2
consume "$TOPIC_OUT" 2 5 >"$T/out"
check_eq "t-1 and t-2 published once each" '["t-1","t-2"]' \
    "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"

check "another revocation (e-r2) of the revoked t-1" produce "$TOPIC_IN" k \
    "$(ev_revoked e-r2 jti=t-1 reason=again time=$((NOW + 6)))" 1
check "six messages handled" wait_for 10 seen 6
sleep 1
check_eq "e-r2 publishes nothing" 2 "$(count "$TOPIC_OUT")"

check "a new event id reusing jti t-1 (another sub)" produce "$TOPIC_IN" k \
    "$(ev_issued e-1-bis t-1 sub=user-evil client_id=webapp)" 0
consume "$TOPIC_DLQ" 1 15 >"$T/dlq"
check_eq "dead-lettered as duplicate_jti" duplicate_jti "$(jget "$T/dlq" .error)"
check_eq "with its original payload" e-1-bis \
    "$(jpy "$T/dlq" 'json.loads(d["payload"])["id"]')"
http GET /v1/tokens/t-1 -u "$ADMIN" >/dev/null
check_eq "t-1 unchanged: sub user-1, revoked" '["user-1","revoked"]' \
    "$(jpy "$T/body" '[d["claims"]["sub"], d["status"]]')"

daemon_restart --profile enforce
check "after a restart, e-1 again" produce "$TOPIC_IN" k "$E1" 2
check "after a restart, e-r again" produce "$TOPIC_IN" k "$R" 1
check "two messages handled after the restart" wait_for 10 seen 2
check_eq "nothing applied after the restart" 0 \
    "$(metric revokerd_events_applied_total)"
sleep 1
check_eq "still two revocations" 2 "$(count "$TOPIC_OUT")"
check_eq "still one dead letter" 1 "$(count "$TOPIC_DLQ")"
check_eq "t-2 still revoked" revoked "$(token_status t-2)"
check_eq "no violation" 0 "$(count "$TOPIC_VIOL")"

daemon_stop
finish
