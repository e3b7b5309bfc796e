#!/bin/bash
# Issue 5: refresh grants that bypass revocation or switch context
# (docs/profile.md: parent_inactive, refresh_context_changed), enforce mode.
# - a refresh from a revoked refresh token (revoked at NOW-50, the new
#   token minted at NOW, previous = the revoked one): the new token is
#   inactive (revoked by inheritance), one parent_inactive violation
#   (action denied) is published for it, and its revocation is published
#   with the refresh token's revocation as cause;
# - a refresh that changes the act chain: denied, reason
#   refresh_context_changed, one violation; a refresh of the same token
#   that keeps the context (and slides exp past it) is active.
# (The first case with the revocation arriving after the refresh is
# b0010-refresh-bypass-late-revocation.sh: the same violation, once.)
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

A='{"sub":"agent-a","act":{"sub":"orchestrator"}}'
rt() {	# rt ID JTI: a refresh token of agent-a for user-1, minted at NOW-100
	ev_issued "$1" "$2" kind=refresh sub=user-1 client_id=agent-a \
	    aud=agent-b scope=files:read act="$A" time=$((NOW - 100)) \
	    exp=$((NOW + 3600))
}
refresh() {	# refresh ID JTI PREVIOUS [KEY=VALUE...]: minted at NOW
	local id=$1 jti=$2 prev=$3
	shift 3
	ev_issued "$id" "$jti" grant_type=refresh_token sub=user-1 \
	    client_id=agent-a aud=agent-b scope=files:read act="$A" \
	    time="$NOW" exp=$((NOW + 7200)) previous="$prev" "$@"
}

# --- revocation, then the refresh
check "refresh token t-rt" produce "$TOPIC_IN" k "$(rt e-rt t-rt)" 0
check "t-rt active" wait_for 10 is_active t-rt
check "t-rt revoked at NOW-50" produce "$TOPIC_IN" k \
    "$(ev_revoked e-rev jti=t-rt reason=logout time=$((NOW - 50)))" 0
check "t-rt inactive" wait_for 10 is_inactive t-rt
check "a refresh from t-rt at NOW" produce "$TOPIC_IN" k \
    "$(refresh e-new t-new t-rt)" 0
check "the new token is known" wait_for 10 \
    eval '[ "$(http GET /v1/tokens/t-new -u "$ADMIN")" = 200 ]'
check "the new token is inactive" is_inactive t-new
check_eq "its stored status is revoked (by inheritance)" revoked \
    "$(token_status t-new)"

# --- a refresh that changes the act chain
check "refresh token t-rt3" produce "$TOPIC_IN" k3 "$(rt e-rt3 t-rt3)" 0
check "a refresh of t-rt3 keeping the context" produce "$TOPIC_IN" k3 \
    "$(refresh e-ok t-ok t-rt3)" 0
check "a refresh of t-rt3 with act agent-z" produce "$TOPIC_IN" k3 \
    "$(refresh e-z t-z t-rt3 act='{"sub":"agent-z","act":{"sub":"orchestrator"}}')" 0
check "the faithful refresh is active" wait_for 10 is_active t-ok
check "the act-changing refresh is denied" wait_for 10 \
    eval '[ "$(token_status t-z)" = denied ]'
http GET /v1/tokens/t-z -u "$ADMIN" >/dev/null
check_eq "its reason is refresh_context_changed" refresh_context_changed \
    "$(jget "$T/body" .reason)"
check "the act-changing refresh is inactive" is_inactive t-z
check "t-rt3 itself stays active" is_active t-rt3

# --- what was published
consume "$TOPIC_VIOL" 2 15 >"$T/viol"
sleep 2
consume "$TOPIC_VIOL" 2 5 >"$T/viol"
check_eq "violations: parent_inactive for t-new, refresh_context_changed for t-z" \
    '[["t-new","parent_inactive","denied"],["t-z","refresh_context_changed","denied"]]' \
    "$(jpy "$T/viol" 'sorted([x["jti"], x["rule"], x["action"]] for x in L)')"
check_match "t-new's detail: previous parent t-rt revoked" \
    'previous parent t-rt was revoked' \
    "$(jpy "$T/viol" '[x["detail"] for x in L if x["jti"] == "t-new"][0]')"
check_match "t-z's detail names agent-z and agent-a" 'agent-z.*agent-a' \
    "$(jpy "$T/viol" '[x["detail"] for x in L if x["jti"] == "t-z"][0]')"

consume "$TOPIC_OUT" 2 15 >"$T/out"
sleep 1
consume "$TOPIC_OUT" 2 5 >"$T/out"
check_eq "revocations: t-rt and t-new, cause e-rev" \
    '[["t-new","e-rev"],["t-rt","e-rev"]]' \
    "$(jpy "$T/out" 'sorted([x["jti"], x["cause"]["event"]] for x in L)')"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"

daemon_stop
finish
