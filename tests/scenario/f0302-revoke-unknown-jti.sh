#!/bin/bash
# POST /revoke of a jti revokerd has not seen yet (SPEC 4: "unknown tokens
# are revoked all the same"): with iss, the event on the input topic has
# target {"jti", "iss"}, the answer is 200 (or 202), and when the token's
# issuance arrives it is born revoked, a child with it.  Without iss, the
# only issuer known is taken, with the same outcome.  Before v1.1 these
# answered 200 and were forgotten: the late tokens came out active.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

check_match "unknown jti with iss: 200 or 202" '^20[02]$' \
    "$(http POST /revoke -u "$REV" -d token=t-early -d token_type_hint=jti \
    --data-urlencode "iss=$ISS")"
check "the event is on the input topic" \
    eval 'consume "$TOPIC_IN" 1 10 >"$T/in"'
check_eq "target {jti, iss}, iss, reason rfc7009" \
    "[\"$ISS\",{\"jti\":\"t-early\",\"iss\":\"$ISS\"},\"rfc7009\"]" \
    "$(head -n 1 "$T/in" >"$T/ev"; jpy "$T/ev" '[d["iss"], d["target"], d["reason"]]')"

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-early)
k	$(ev_issued e-2 t-early-kid subject=t-early)
k	$(ev_issued e-3 t-witness)
EOF2
check "its issuance arrives, with a child and a witness" \
    produce_file "$TOPIC_IN" "$T/events"
check "the witness is active (the events are applied)" \
    wait_for 10 is_active t-witness
check "t-early is born revoked" is_inactive t-early
check "its child too" is_inactive t-early-kid
check_eq "stored status revoked" revoked "$(token_status t-early)"

# Without iss: the only issuer known ($ISS) is taken.
check_eq "unknown jti without iss, one issuer known: 200" 200 \
    "$(http POST /revoke -u "$REV" -d token=t-later -d token_type_hint=jti)"
check "the event is on the topic" eval 'consume "$TOPIC_IN" 5 10 >"$T/in"'
check_eq "under that issuer" "[{\"jti\":\"t-later\",\"iss\":\"$ISS\"}]" \
    "$(jpy "$T/in" '[x["target"] for x in L if x["type"] == "token.revoked" and x["target"]["jti"] == "t-later"]')"
produce "$TOPIC_IN" k "$(ev_issued e-4 t-later)"
produce "$TOPIC_IN" k "$(ev_issued e-5 t-witness-2)"
check "the second witness is active" wait_for 10 is_active t-witness-2
check "t-later is born revoked" is_inactive t-later

check_eq "revoking it again: 200, revoked already" 200 \
    "$(http POST /revoke -u "$REV" -d token=t-later -d token_type_hint=jti)"

daemon_stop
finish
