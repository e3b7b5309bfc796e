#!/bin/bash
# Order of arrival does not matter (SPEC sections 2 and 4), over the
# partitions of a real topic:
# - a child produced to partition 2 before its parent (partition 0), in
#   enforce mode: the child, and a grandchild behind it, are pending
#   (inactive) until the parent arrives, then active, and no violation is
#   published;
# - a revocation of a jti not yet issued: when the issuance arrives (on
#   another partition), the token is born revoked, its child too, and
#   both revocations are published once, with the revocation as cause;
# - a revocation by sub before the issuances it covers: a token of that
#   user with iat <= the revocation's time is born revoked, one issued
#   after it is active.
. "$(dirname "$0")/lib.sh"

# metric NAME: its value in /metrics (0 when absent).
metric() {
	http GET /metrics -u "$ADMIN" >/dev/null
	awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$T/body"
}
applied_at_least() { [ "$(metric revokerd_events_applied_total)" -ge "$1" ]; }

broker_start
daemon_start --profile enforce
check_match "the input topic has 3 partitions" \
    "topic \"$TOPIC_IN\" with 3 partitions" \
    "$(kcat -b "$BOOTSTRAP" -L -t "$TOPIC_IN" 2>&1)"

X=$EXCHANGE
# --- a child before its parent
check "agent-a's credential to partition 1" produce "$TOPIC_IN" k1 \
    "$(ev_issued e-cc t-a-cc grant_type=client_credentials sub=agent-a client_id=agent-a)" 1
check "the child (exchange of t-parent) to partition 2" produce "$TOPIC_IN" k2 \
    "$(ev_issued e-child t-child grant_type=$X sub=user-1 client_id=agent-a \
        aud=agent-b scope=files:read act='{"sub":"agent-a"}' \
        subject=t-parent actor=t-a-cc)" 2
check "a refresh of the child to partition 1" produce "$TOPIC_IN" k1 \
    "$(ev_issued e-grand t-grand grant_type=refresh_token sub=user-1 \
        client_id=agent-a aud=agent-b scope=files:read \
        act='{"sub":"agent-a"}' previous=t-child)" 1
check "the child is pending" wait_for 10 eval '[ "$(token_status t-child)" = pending ]'
check "the grandchild is pending" wait_for 10 eval '[ "$(token_status t-grand)" = pending ]'
check "the pending child is inactive" is_inactive t-child
check "the pending grandchild is inactive" is_inactive t-grand
check "agent-a's credential is active" is_active t-a-cc

check "the parent to partition 0" produce "$TOPIC_IN" k0 \
    "$(ev_issued e-parent t-parent sub=user-1 client_id=webapp aud=agent-a \
        scope='files:read files:write')" 0
check "the child becomes active" wait_for 10 is_active t-child
check "the grandchild becomes active" wait_for 10 is_active t-grand
check_eq "child status" active "$(token_status t-child)"
check_eq "grandchild status" active "$(token_status t-grand)"

# --- a revocation before the issuance of its target
# (revoked after t-late's child was minted: no parent_inactive)
check "revocation of t-late to partition 1" produce "$TOPIC_IN" k1 \
    "$(ev_revoked e-rev-late jti=t-late reason=logout time=$((NOW + 5)))" 1
check "the revocation is applied (5 events applied)" \
    wait_for 10 applied_at_least 5
check "t-late's issuance to partition 0" produce "$TOPIC_IN" k0 \
    "$(ev_issued e-late t-late sub=user-1 client_id=webapp aud=agent-a \
        scope=files:read)" 0
check "t-late's child to partition 2" produce "$TOPIC_IN" k2 \
    "$(ev_issued e-late-child t-late-child grant_type=$X sub=user-1 \
        client_id=agent-a aud=agent-b scope=files:read \
        act='{"sub":"agent-a"}' subject=t-late actor=t-a-cc)" 2
check "t-late is born revoked" wait_for 10 eval '[ "$(token_status t-late)" = revoked ]'
check "its child is born revoked" wait_for 10 eval '[ "$(token_status t-late-child)" = revoked ]'
check "t-late inactive" is_inactive t-late
check "t-late-child inactive" is_inactive t-late-child
check "agent-a's credential still active" is_active t-a-cc

consume "$TOPIC_OUT" 2 15 >"$T/out"
sleep 2
consume "$TOPIC_OUT" 2 5 >"$T/out"
check_eq "published: the two born-revoked tokens, once each" \
    '["t-late","t-late-child"]' "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"
check_eq "cause: the early revocation" \
    '[["e-rev-late","t-late","logout"]]' \
    "$(jpy "$T/out" 'sorted({(x["cause"]["event"], x["cause"]["jti"], x["cause"].get("reason")) for x in L})')"
check_eq "path of the child" '["t-late","t-late-child"]' \
    "$(jpy "$T/out" '[x["path"] for x in L if x["jti"] == "t-late-child"][0]')"

# --- a revocation by sub before the tokens it covers
check "revocation of sub user-9 at NOW to partition 2" produce "$TOPIC_IN" k2 \
    "$(ev_revoked e-rev-sub sub=user-9 reason=account_locked time=$NOW)" 2
check "the revocation is applied (8 events applied)" \
    wait_for 10 applied_at_least 8
check "user-9's token of iat NOW-10 to partition 0" produce "$TOPIC_IN" k0 \
    "$(ev_issued e-u9-old t-u9-old sub=user-9 client_id=webapp time=$((NOW - 10)))" 0
check "user-9's token of iat NOW+10 to partition 1" produce "$TOPIC_IN" k1 \
    "$(ev_issued e-u9-new t-u9-new sub=user-9 client_id=webapp time=$((NOW + 10)))" 1
check "the older token is born revoked" wait_for 10 eval '[ "$(token_status t-u9-old)" = revoked ]'
check "the newer token is active" wait_for 10 is_active t-u9-new
check "the older token is inactive" is_inactive t-u9-old

consume "$TOPIC_OUT" 3 15 >"$T/out"
sleep 1
consume "$TOPIC_OUT" 3 5 >"$T/out"
check_eq "published: t-late, t-late-child, t-u9-old" \
    '["t-late","t-late-child","t-u9-old"]' "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"
check_eq "no violation published" 0 "$(count "$TOPIC_VIOL")"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"

daemon_stop
finish
