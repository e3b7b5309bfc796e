#!/bin/bash
# Issue 5: the cross-chain splice attack (docs/profile.md,
# subject_audience_mismatch). Two users' delegation chains run side by
# side through the same orchestrator and agents. Agent-a gets hold of
# user-2's token meant for agent-b (aud agent-b) and presents it as
# subject, with its own genuine actor token; every other claim of the
# minted token is right (act extends the subject's by agent-a, one aud,
# scope and exp within the parents').
# - enforce: the minted token is inactive, GET /v1/tokens shows status
#   denied and reason subject_audience_mismatch, and exactly one violation
#   is published (that rule, action denied); user-1's three-hop chain and
#   user-2's chain beside it stay active;
# - audit (a fresh database and topics): the same violation with action
#   flagged, and the token stays active.
. "$(dirname "$0")/lib.sh"

broker_start

X=$EXCHANGE
A2='{"sub":"agent-a","act":{"sub":"orchestrator"}}'
cat >"$T/events" <<EOF2
u1	$(ev_issued e-1 t-u1 sub=user-1 client_id=webapp aud=orchestrator scope=files:read)
u2	$(ev_issued e-2 t-u2 sub=user-2 client_id=webapp aud=orchestrator scope=files:read)
cc	$(ev_issued e-3 t-orch-cc grant_type=client_credentials sub=orchestrator client_id=orchestrator)
cc	$(ev_issued e-4 t-a-cc grant_type=client_credentials sub=agent-a client_id=agent-a)
cc	$(ev_issued e-5 t-b-cc grant_type=client_credentials sub=agent-b client_id=agent-b)
u1	$(ev_issued e-6 t-u1-orch grant_type=$X sub=user-1 client_id=orchestrator \
    aud=agent-a scope=files:read act='{"sub":"orchestrator"}' \
    subject=t-u1 actor=t-orch-cc)
u2	$(ev_issued e-7 t-u2-orch grant_type=$X sub=user-2 client_id=orchestrator \
    aud=agent-a scope=files:read act='{"sub":"orchestrator"}' \
    subject=t-u2 actor=t-orch-cc)
u1	$(ev_issued e-8 t-u1-a grant_type=$X sub=user-1 client_id=agent-a \
    aud=agent-b scope=files:read act="$A2" subject=t-u1-orch actor=t-a-cc)
u2	$(ev_issued e-9 t-u2-a grant_type=$X sub=user-2 client_id=agent-a \
    aud=agent-b scope=files:read act="$A2" subject=t-u2-orch actor=t-a-cc)
u1	$(ev_issued e-10 t-u1-b grant_type=$X sub=user-1 client_id=agent-b \
    aud=files-api scope=files:read \
    act='{"sub":"agent-b","act":{"sub":"agent-a","act":{"sub":"orchestrator"}}}' \
    subject=t-u1-a actor=t-b-cc)
EOF2
# The splice: agent-a presents t-u2-a (aud agent-b) with its own t-a-cc.
SPLICE=$(ev_issued e-splice t-splice grant_type=$X sub=user-2 \
    client_id=agent-a aud=files-api scope=files:read \
    act='{"sub":"agent-a","act":{"sub":"agent-a","act":{"sub":"orchestrator"}}}' \
    subject=t-u2-a actor=t-a-cc)
LEGIT="t-u1 t-u2 t-orch-cc t-a-cc t-b-cc t-u1-orch t-u2-orch t-u1-a t-u2-a t-u1-b"

for mode in enforce audit; do
	say "--- profile $mode"
	if [ "$mode" = audit ]; then
		daemon_stop
		rm -rf "$T/db"
		TOPIC_IN=$PREFIX-audit-token-events
		TOPIC_OUT=$PREFIX-audit-token-revocations
		TOPIC_VIOL=$PREFIX-audit-delegation-violations
		TOPIC_DLQ=$PREFIX-audit-token-events-dlq
	fi
	daemon_start --profile "$mode"
	check "$mode: produce both chains" produce_file "$TOPIC_IN" "$T/events"
	check "$mode: produce the splice" produce "$TOPIC_IN" u2 "$SPLICE"
	for j in $LEGIT; do
		check "$mode: $j active" wait_for 10 is_active "$j"
	done
	check "$mode: the splice is applied" wait_for 10 \
	    eval '[ "$(http GET /v1/tokens/t-splice -u "$ADMIN")" = 200 ]'
	http GET /v1/tokens/t-splice -u "$ADMIN" >/dev/null
	cp "$T/body" "$T/splice-$mode"
	consume "$TOPIC_VIOL" 1 15 >"$T/viol"
	sleep 1
	consume "$TOPIC_VIOL" 1 5 >"$T/viol"
	check_eq "$mode: exactly one violation published" 1 "$(wc -l <"$T/viol")"
	check_eq "$mode: rule, token, action" \
	    "[\"subject_audience_mismatch\",\"t-splice\",\"$ISS\",\"$([ $mode = enforce ] && echo denied || echo flagged)\"]" \
	    "$(jpy "$T/viol" '[d["rule"], d["jti"], d["iss"], d["action"]]')"
	check_match "$mode: the detail names the subject's aud and the actor" \
	    'agent-b.*agent-a' "$(jget "$T/viol" .detail)"
	check "$mode: v, type, id, time" jpy "$T/viol" \
	    'd["v"] == 1 and d["type"] == "delegation.violation" and d["id"] and isinstance(d["time"], int)'
	if [ "$mode" = enforce ]; then
		check_eq "enforce: the spliced token is denied, by subject_audience_mismatch" \
		    '["denied","subject_audience_mismatch"]' \
		    "$(jpy "$T/splice-$mode" '[d["status"], d.get("reason")]')"
		check "enforce: the spliced token is inactive" is_inactive t-splice
	else
		check_eq "audit: the spliced token is active" active \
		    "$(jget "$T/splice-$mode" .status)"
		check "audit: introspection says active" is_active t-splice
	fi
	for j in $LEGIT; do
		check "$mode: $j still active" is_active "$j"
	done
	check_eq "$mode: nothing revoked" 0 "$(count "$TOPIC_OUT")"
	check_eq "$mode: nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"
done

daemon_stop
finish
