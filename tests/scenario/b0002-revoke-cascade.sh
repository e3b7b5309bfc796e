#!/bin/bash
# A delegation chain user -> orchestrator -> agent-a, all active; revoking
# the user's token revokes the chain, publishes one revocation per token
# with its depth and path, and introspection answers {"active":false} for
# each (SPEC sections 1, 3, 4). Also an example of lib.sh for new scenarios.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

cat >"$T/events" <<EOF2
user	$(ev_issued e-1 t-user sub=user-123 client_id=webapp aud=orchestrator scope=files:read)
user	$(ev_issued e-2 t-orch grant_type=$EXCHANGE sub=user-123 \
    client_id=orchestrator aud=agent-a scope=files:read \
    act='{"sub":"orchestrator"}' subject=t-user)
user	$(ev_issued e-3 t-agent grant_type=$EXCHANGE sub=user-123 \
    client_id=agent-a aud=agent-b scope=files:read \
    act='{"sub":"agent-a","act":{"sub":"orchestrator"}}' subject=t-orch)
EOF2
check "produce three issuances" produce_file "$TOPIC_IN" "$T/events"
for j in t-user t-orch t-agent; do
	check "$j becomes active" wait_for 10 is_active "$j"
done
introspect t-agent >"$T/intro"
check_eq "introspection names the subject" user-123 "$(jget "$T/intro" .sub)"
check_eq "introspection carries the act chain" \
    '{"sub":"agent-a","act":{"sub":"orchestrator"}}' "$(jget "$T/intro" .act)"

check "produce the revocation of t-user" produce "$TOPIC_IN" user \
    "$(ev_revoked e-4 jti=t-user reason=logout)"
for j in t-user t-orch t-agent; do
	check "$j becomes inactive" wait_for 10 is_inactive "$j"
done

consume "$TOPIC_OUT" 3 15 >"$T/out"
check_eq "one revocation event per token" '["t-agent","t-orch","t-user"]' \
    "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"
check_eq "t-agent's event: depth and path" \
    '[2,["t-user","t-orch","t-agent"]]' \
    "$(jpy "$T/out" '[[x["depth"], x["path"]] for x in L if x["jti"] == "t-agent"][0]')"
check_eq "every event names its cause" '["e-4"]' \
    "$(jpy "$T/out" 'sorted(set(x["cause"]["event"] for x in L))')"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"
check_eq "t-agent's stored status" revoked "$(token_status t-agent)"

daemon_stop
finish
