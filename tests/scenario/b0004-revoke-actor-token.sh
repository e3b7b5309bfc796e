#!/bin/bash
# Revoking an actor token (agent-a's client-credentials token, a
# compromised credential) revokes every token minted with it and their
# descendants (SPEC section 1: the cascade follows the actor edge too), and
# nothing above: the subject chain (the users' tokens, the orchestrator's)
# and the other agents' credentials stay active. Two users' chains share
# agent-a; both of agent-a's exchanged tokens, and agent-b's token minted
# from one of them, are revoked, with depth and path through the actor
# edge.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

X=$EXCHANGE
cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-user sub=user-123 client_id=webapp aud=orchestrator scope=files:read)
k	$(ev_issued e-2 t-user2 sub=user-2 client_id=webapp aud=orchestrator scope=files:read)
k	$(ev_issued e-3 t-orch-cc grant_type=client_credentials sub=orchestrator client_id=orchestrator)
k	$(ev_issued e-4 t-a-cc grant_type=client_credentials sub=agent-a client_id=agent-a)
k	$(ev_issued e-5 t-b-cc grant_type=client_credentials sub=agent-b client_id=agent-b)
k	$(ev_issued e-6 t-orch grant_type=$X sub=user-123 client_id=orchestrator \
    aud=agent-a scope=files:read act='{"sub":"orchestrator"}' \
    subject=t-user actor=t-orch-cc)
k	$(ev_issued e-7 t-orch2 grant_type=$X sub=user-2 client_id=orchestrator \
    aud=agent-a scope=files:read act='{"sub":"orchestrator"}' \
    subject=t-user2 actor=t-orch-cc)
k	$(ev_issued e-8 t-a grant_type=$X sub=user-123 client_id=agent-a \
    aud=agent-b scope=files:read \
    act='{"sub":"agent-a","act":{"sub":"orchestrator"}}' \
    subject=t-orch actor=t-a-cc)
k	$(ev_issued e-9 t-a2 grant_type=$X sub=user-2 client_id=agent-a \
    aud=agent-b scope=files:read \
    act='{"sub":"agent-a","act":{"sub":"orchestrator"}}' \
    subject=t-orch2 actor=t-a-cc)
k	$(ev_issued e-10 t-b grant_type=$X sub=user-123 client_id=agent-b \
    aud=files-api scope=files:read \
    act='{"sub":"agent-b","act":{"sub":"agent-a","act":{"sub":"orchestrator"}}}' \
    subject=t-a actor=t-b-cc)
EOF2
check "produce ten issuances" produce_file "$TOPIC_IN" "$T/events"
ALL="t-user t-user2 t-orch-cc t-a-cc t-b-cc t-orch t-orch2 t-a t-a2 t-b"
for j in $ALL; do
	check "$j becomes active" wait_for 10 is_active "$j"
done

# (at NOW+5, after the tokens were minted: no parent_inactive violation)
check "produce the revocation of agent-a's credential t-a-cc" \
    produce "$TOPIC_IN" k \
    "$(ev_revoked e-rev jti=t-a-cc reason=compromised time=$((NOW + 5)))"
for j in t-a-cc t-a t-a2 t-b; do
	check "$j becomes inactive" wait_for 10 is_inactive "$j"
	check_eq "$j stored status revoked" revoked "$(token_status "$j")"
done
for j in t-user t-user2 t-orch t-orch2 t-orch-cc t-b-cc; do
	check "$j (above, or another agent's) stays active" is_active "$j"
	check_eq "$j stored status active" active "$(token_status "$j")"
done

consume "$TOPIC_OUT" 4 15 >"$T/out"
sleep 2
consume "$TOPIC_OUT" 4 5 >"$T/out"
check_eq "exactly four revocations, one per revoked token" \
    '["t-a","t-a-cc","t-a2","t-b"]' \
    "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"
check_eq "depth and path through the actor edge" \
    '{"t-a":[1,["t-a-cc","t-a"]],"t-a-cc":[0,["t-a-cc"]],"t-a2":[1,["t-a-cc","t-a2"]],"t-b":[2,["t-a-cc","t-a","t-b"]]}' \
    "$(jpy "$T/out" 'json.dumps({x["jti"]: [x["depth"], x["path"]] for x in L}, sort_keys=True, separators=(",", ":"))')"
check_eq "every cause is (e-rev, t-a-cc, compromised)" \
    '["{\"event\":\"e-rev\",\"jti\":\"t-a-cc\",\"reason\":\"compromised\"}"]' \
    "$(jpy "$T/out" 'sorted({json.dumps(x["cause"], sort_keys=True, separators=(",", ":")) for x in L})')"
check_eq "sub and client_id of the revoked" \
    '[["t-a","user-123","agent-a"],["t-a-cc","agent-a","agent-a"],["t-a2","user-2","agent-a"],["t-b","user-123","agent-b"]]' \
    "$(jpy "$T/out" 'sorted([x["jti"], x["sub"], x["client_id"]] for x in L)')"
check_eq "no violation published" 0 "$(count "$TOPIC_VIOL")"

daemon_stop
finish
