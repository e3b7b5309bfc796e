#!/bin/bash
# The three-hop chain of SPEC section 2, in enforce mode: user ->
# orchestrator -> agent-a -> agent-b, each hop a token exchange with the
# agent's own client-credentials token as actor token, an act chain that
# grows by one level per hop and an aud naming the next party. All seven
# tokens are active (the profile finds nothing). Revoking the user's token
# publishes exactly four revocations (the user's, the orchestrator's,
# agent-a's, agent-b's), each with the cause (event id, jti, reason), depth
# and path of SPEC section 3; the agents' own credentials stay active, and
# nothing else is published (no violation, no dead letter).
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

X=$EXCHANGE
cat >"$T/events" <<EOF2
u	$(ev_issued e-1 t-user sub=user-123 client_id=webapp aud=orchestrator scope='files:read files:write')
u	$(ev_issued e-2 t-orch-cc grant_type=client_credentials sub=orchestrator client_id=orchestrator)
u	$(ev_issued e-3 t-a-cc grant_type=client_credentials sub=agent-a client_id=agent-a)
u	$(ev_issued e-4 t-b-cc grant_type=client_credentials sub=agent-b client_id=agent-b)
u	$(ev_issued e-5 t-orch grant_type=$X sub=user-123 client_id=orchestrator \
    aud=agent-a scope=files:read act='{"sub":"orchestrator"}' \
    subject=t-user actor=t-orch-cc)
u	$(ev_issued e-6 t-a grant_type=$X sub=user-123 client_id=agent-a \
    aud=agent-b scope=files:read \
    act='{"sub":"agent-a","act":{"sub":"orchestrator"}}' \
    subject=t-orch actor=t-a-cc)
u	$(ev_issued e-7 t-b grant_type=$X sub=user-123 client_id=agent-b \
    aud=files-api scope=files:read \
    act='{"sub":"agent-b","act":{"sub":"agent-a","act":{"sub":"orchestrator"}}}' \
    subject=t-a actor=t-b-cc)
EOF2
check "produce seven issuances" produce_file "$TOPIC_IN" "$T/events"
ALL="t-user t-orch-cc t-a-cc t-b-cc t-orch t-a t-b"
for j in $ALL; do
	check "$j becomes active" wait_for 10 is_active "$j"
done
check_eq "agent-b's token: status active" active "$(token_status t-b)"
introspect t-b >"$T/intro"
check_eq "agent-b's token carries the three-level act chain" \
    '{"sub":"agent-b","act":{"sub":"agent-a","act":{"sub":"orchestrator"}}}' \
    "$(jget "$T/intro" .act)"
check_eq "agent-b's token: aud names the resource" files-api \
    "$(jget "$T/intro" .aud)"
check_eq "no violation for the legitimate chain" 0 "$(count "$TOPIC_VIOL")"

check "produce the revocation of t-user" produce "$TOPIC_IN" u \
    "$(ev_revoked e-rev jti=t-user reason=logout time=$((NOW + 5)))"
for j in t-user t-orch t-a t-b; do
	check "$j becomes inactive" wait_for 10 is_inactive "$j"
	check_eq "$j stored status revoked" revoked "$(token_status "$j")"
done
for j in t-orch-cc t-a-cc t-b-cc; do
	check "$j (an agent's own credential) stays active" is_active "$j"
done

consume "$TOPIC_OUT" 4 15 '%k\t%s\n' >"$T/out.kv"
cut -f2- "$T/out.kv" >"$T/out"
sleep 2	# anything more would show up by now
consume "$TOPIC_OUT" 4 5 >"$T/out2"
check_eq "exactly four revocations published" 4 "$(wc -l <"$T/out2")"
check_eq "one per token of the chain" '["t-a","t-b","t-orch","t-user"]' \
    "$(jpy "$T/out" 'sorted(x["jti"] for x in L)')"
check_eq "keyed by jti" "$(cut -f1 "$T/out.kv" | sort | tr '\n' ' ')" \
    "$(jcol "$T/out" .jti | sort | tr '\n' ' ')"
check_eq "every cause is (e-rev, t-user, logout)" \
    '["{\"event\":\"e-rev\",\"jti\":\"t-user\",\"reason\":\"logout\"}"]' \
    "$(jpy "$T/out" 'sorted({json.dumps(x["cause"], sort_keys=True, separators=(",", ":")) for x in L})')"
check_eq "depth and path of each" \
    '{"t-a":[2,["t-user","t-orch","t-a"]],"t-b":[3,["t-user","t-orch","t-a","t-b"]],"t-orch":[1,["t-user","t-orch"]],"t-user":[0,["t-user"]]}' \
    "$(jpy "$T/out" 'json.dumps({x["jti"]: [x["depth"], x["path"]] for x in L}, sort_keys=True, separators=(",", ":"))')"
check_eq "time is the revocation's time" "[$((NOW + 5))]" \
    "$(jpy "$T/out" 'sorted({x["time"] for x in L})')"
check_eq "v, type, iss, sub, client_id of each" \
    '[[1,"token.revoked","https://idp.example","t-a","user-123","agent-a"],[1,"token.revoked","https://idp.example","t-b","user-123","agent-b"],[1,"token.revoked","https://idp.example","t-orch","user-123","orchestrator"],[1,"token.revoked","https://idp.example","t-user","user-123","webapp"]]' \
    "$(jpy "$T/out" 'sorted([x["v"], x["type"], x["iss"], x["jti"], x["sub"], x["client_id"]] for x in L)')"
check "four distinct, non-empty ids" \
    jpy "$T/out" 'len({x["id"] for x in L if isinstance(x["id"], str) and x["id"]}) == 4'
check_eq "no violation published" 0 "$(count "$TOPIC_VIOL")"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"

daemon_stop
finish
