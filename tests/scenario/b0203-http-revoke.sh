#!/bin/bash
# POST /revoke (RFC 7009, SPEC section 4): read-your-writes (the 200 comes
# once the daemon has applied the revocation, so introspection right after
# it says inactive for the token and every descendant); the token.revoked
# event it publishes to the input topic; unknown tokens are revoked all the
# same (an event each); a token revoked already publishes nothing again;
# 202 when the event is not applied within revoke-wait-ms.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

cat >"$T/events" <<EOF2
user	$(ev_issued e-1 t-user hash="$(token_hash raw-user)" sub=user-1)
user	$(ev_issued e-2 t-orch subject=t-user)
user	$(ev_issued e-3 t-agent subject=t-orch)
user	$(ev_issued e-4 t-tool actor=t-agent)
user	$(ev_issued e-5 t-other hash="$(token_hash raw-other)")
user	$(ev_issued e-6 t-other-kid previous=t-other)
user	$(ev_issued e-7 t-third)
EOF2
check "produce a tree and two other tokens" produce_file "$TOPIC_IN" \
    "$T/events"
for j in t-user t-orch t-agent t-tool t-other t-other-kid t-third; do
	check "$j is active" wait_for 10 is_active "$j"
done
n_in=$(count "$TOPIC_IN")

# ---- read-your-writes -----------------------------------------------------

check_eq "rev revokes t-user by raw token: 200" 200 \
    "$(http POST /revoke -u "$REV" --data-urlencode token=raw-user)"
check_eq "an empty body" "" "$(cat "$T/body")"
# No wait between the 200 and these: the 200 means applied.
for j in t-user t-orch t-agent t-tool; do
	check_eq "$j inactive right after the 200" '{"active":false}' \
	    "$(introspect "$j" "$RS")"
done
introspect t-other "$RS" >"$T/o"
check_eq "t-other untouched" true "$(jget "$T/o" .active)"

consume "$TOPIC_IN" $((n_in + 1)) 10 >"$T/in"
tail -n 1 "$T/in" >"$T/ev"
check_eq "the event on the input topic: token.revoked of t-user, rfc7009" \
    "[1,\"token.revoked\",\"$ISS\",{\"jti\":\"t-user\",\"iss\":\"$ISS\"},\"rfc7009\"]" \
    "$(jpy "$T/ev" '[d["v"], d["type"], d["iss"], d["target"], d["reason"]]')"
check "its id is http-<128-bit hex>, its time now" jpy "$T/ev" \
    "__import__('re').fullmatch('http-[0-9a-f]{32}', d['id']) is not None and abs(d['time'] - $(date +%s)) < 60"
consume "$TOPIC_OUT" 4 15 >"$T/out"
check_eq "four revocations published, caused by that event" \
    "[[\"t-agent\",\"t-orch\",\"t-tool\",\"t-user\"],[\"$(jget "$T/ev" .id)\"]]" \
    "$(jpy "$T/out" '[sorted(x["jti"] for x in L), sorted(set(x["cause"]["event"] for x in L))]')"

# ---- by jti -----------------------------------------------------------------

check_eq "revoke t-other by jti (token_type_hint=jti): 200" 200 \
    "$(http POST /revoke -u "$ADMIN" -d token=t-other -d token_type_hint=jti)"
check_eq "t-other-kid inactive right after" '{"active":false}' \
    "$(introspect t-other-kid "$RS")"
check_eq "with iss given too: 200" 200 "$(http POST /revoke -u "$ADMIN" \
    -d token=t-third -d token_type_hint=jti --data-urlencode "iss=$ISS")"
check_eq "t-third inactive right after" '{"active":false}' \
    "$(introspect t-third "$RS")"

# ---- unknown tokens are revoked all the same; revoked ones publish nothing --
# (SPEC 4: an unknown token is remembered, so its issuance is born revoked:
# f0302 and f0308 go further.)

n_in=$(count "$TOPIC_IN")
check_eq "unknown jti: 200 (revoked all the same, under the only issuer)" \
    200 "$(http POST /revoke -u "$REV" -d token=t-unknown \
    -d token_type_hint=jti)"
check_match "unknown raw token: 200 or 202 (its event is on the topic)" \
    '^20[02]$' "$(http POST /revoke -u "$REV" -d token=raw-unknown)"
in_count_is() { [ "$(count "$TOPIC_IN")" -eq "$1" ]; }
check "each published one event" wait_for 10 in_count_is $((n_in + 2))
n_in=$(count "$TOPIC_IN")
check_eq "revoked already: 200" 200 \
    "$(http POST /revoke -u "$REV" --data-urlencode token=raw-user)"
check_eq "a descendant revoked already: 200" 200 "$(http POST /revoke \
    -u "$REV" -d token=t-tool -d token_type_hint=jti)"
sleep 1
check_eq "neither of these published anything" "$n_in" \
    "$(count "$TOPIC_IN")"
check_eq "no token: 400" 400 "$(http POST /revoke -u "$REV" -d x=1)"
check_eq "introspect-only client: 403" 403 \
    "$(http POST /revoke -u "$RS" -d token=raw-other)"

# ---- concurrent revocations; a caller that leaves early --------------------

for i in $(seq 10); do
	echo "k	$(ev_issued "e-c$i" "t-c$i")"
done >"$T/conc"
echo "k	$(ev_issued e-c-left t-left)" >>"$T/conc"
check "produce eleven more tokens" produce_file "$TOPIC_IN" "$T/conc"
check "they are applied" wait_for 10 is_active t-left
pids=
for i in $(seq 10); do
	curl -s -o /dev/null -w '%{http_code}' -u "$REV" -d "token=t-c$i" \
	    -d token_type_hint=jti --max-time 10 "$URL/revoke" >"$T/c$i" &
	pids="$pids $!"
done
curl -s -o /dev/null -u "$REV" -d token=t-left -d token_type_hint=jti \
    --max-time 0.05 "$URL/revoke"
# shellcheck disable=SC2086
wait $pids	# not a bare wait: the daemon is a child too
check_eq "ten concurrent /revoke: ten 200" "$(printf '200%.0s' $(seq 10))" \
    "$(cat "$T"/c{1..10})"
for i in 1 5 10; do
	check_eq "t-c$i inactive" '{"active":false}' "$(introspect "t-c$i" "$RS")"
done
check "the early leaver's token is revoked all the same" \
    wait_for 10 is_inactive t-left
check_eq "the daemon serves on" 200 "$(http GET /healthz)"

# ---- 202: the event not applied in time -------------------------------------

daemon_stop
daemon_start --profile off --revoke-wait-ms 0
produce "$TOPIC_IN" k "$(ev_issued e-8 t-late)"
check "t-late is active" wait_for 10 is_active t-late
check_eq "revoke-wait-ms 0: 202 Accepted" 202 "$(http POST /revoke \
    -u "$REV" -d token=t-late -d token_type_hint=jti)"
check "t-late becomes inactive all the same" wait_for 10 is_inactive t-late

daemon_stop
finish
