#!/bin/bash
# The refresh bypass of b0009 with the same events (same times) arriving
# in another order: the refresh token t-rt (iat NOW-100), a refresh t-new
# from it (iat NOW) and the revocation of t-rt at NOW-50, which arrives
# last (from another partition, as SPEC section 2 allows). t-rt was already
# revoked when t-new was minted, so t-new breaks parent_inactive (SPEC
# section 5). Expected: t-new revoked and one parent_inactive violation
# for it, as when the revocation arrives first (b0009). (Regression: the
# violation used to be found only when the child arrived second; it is
# now published with the cascade that revokes the child.) A control pair
# in arrival order revocation-then-refresh (t-rt0, t-new0) gets its
# violation too.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

A='{"sub":"agent-a","act":{"sub":"orchestrator"}}'
rt() {
	ev_issued "$1" "$2" kind=refresh sub=user-1 client_id=agent-a \
	    aud=agent-b scope=files:read act="$A" time=$((NOW - 100)) \
	    exp=$((NOW + 3600))
}
refresh() {
	ev_issued "$1" "$2" grant_type=refresh_token sub=user-1 \
	    client_id=agent-a aud=agent-b scope=files:read act="$A" \
	    time="$NOW" exp=$((NOW + 7200)) previous="$3"
}

# Control: revocation, then refresh.
check "t-rt0" produce "$TOPIC_IN" k0 "$(rt e-rt0 t-rt0)" 0
check "t-rt0 revoked at NOW-50" produce "$TOPIC_IN" k0 \
    "$(ev_revoked e-rev0 jti=t-rt0 reason=logout time=$((NOW - 50)))" 0
check "t-rt0 inactive" wait_for 10 is_inactive t-rt0
check "refresh t-new0 from t-rt0 at NOW" produce "$TOPIC_IN" k0 \
    "$(refresh e-new0 t-new0 t-rt0)" 0
check "t-new0 revoked" wait_for 10 eval '[ "$(token_status t-new0)" = revoked ]'

# The case: refresh, then the revocation (earlier time) arrives.
check "t-rt" produce "$TOPIC_IN" k1 "$(rt e-rt t-rt)" 1
check "refresh t-new from t-rt at NOW" produce "$TOPIC_IN" k1 \
    "$(refresh e-new t-new t-rt)" 1
check "t-new active for now" wait_for 10 is_active t-new
check "t-rt revoked at NOW-50, arriving last, on partition 2" \
    produce "$TOPIC_IN" k2 \
    "$(ev_revoked e-rev jti=t-rt reason=logout time=$((NOW - 50)))" 2
check "t-rt inactive" wait_for 10 is_inactive t-rt
check "t-new inactive" wait_for 10 is_inactive t-new
check_eq "t-new revoked" revoked "$(token_status t-new)"

consume "$TOPIC_VIOL" 2 15 >"$T/viol"
sleep 2
consume "$TOPIC_VIOL" 2 5 >"$T/viol"
check_eq "parent_inactive published for t-new0 and for t-new" \
    '[["t-new","parent_inactive"],["t-new0","parent_inactive"]]' \
    "$(jpy "$T/viol" 'sorted([x["jti"], x["rule"]] for x in L)')"
check_match "t-new's detail: previous parent t-rt was revoked at NOW-50" \
    "previous parent t-rt was revoked at $((NOW - 50))" \
    "$(jpy "$T/viol" '([x["detail"] for x in L if x["jti"] == "t-new"] + [""])[0]')"

daemon_stop
finish
