#!/bin/bash
# POST /revoke of a raw token revokerd has not seen (SPEC 4: "token=<raw
# token> publishes a token.revoked event with target {"hash": ..}"): the
# event on the input topic has exactly the target {"hash": H}, H the
# base64url SHA-256 of the raw token, and the issuer: the iss given, else
# the only one known.  (That a later issuance with that hash is born
# revoked is f0309, which needs the hash target in the apply path.)
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

produce "$TOPIC_IN" k "$(ev_issued e-1 t-one)"
check "t-one is active" wait_for 10 is_active t-one
n_in=$(count "$TOPIC_IN")

check_match "unknown raw token: 200 or 202" '^20[02]$' \
    "$(http POST /revoke -u "$REV" --data-urlencode 'token=raw secret+/=')"
check "its event is on the input topic" \
    eval 'consume "$TOPIC_IN" $((n_in + 1)) 10 >"$T/in"'
# The partitions come back in any order: pick the events by type.
check_eq "token.revoked, the only issuer, target {hash}, rfc7009" \
    "[[\"token.revoked\",\"$ISS\",{\"hash\":\"$(token_hash 'raw secret+/=')\"},\"rfc7009\"]]" \
    "$(jpy "$T/in" '[[x["type"], x["iss"], x["target"], x["reason"]] for x in L if x["type"] == "token.revoked"]')"

check_match "with iss given: 200 or 202" '^20[02]$' \
    "$(http POST /revoke -u "$REV" -d token=raw-two \
    --data-urlencode iss=https://other.example)"
check "its event is on the input topic" \
    eval 'consume "$TOPIC_IN" $((n_in + 2)) 10 >"$T/in"'
check_eq "under that issuer, target {hash}" \
    "[[\"https://other.example\",{\"hash\":\"$(token_hash raw-two)\"}]]" \
    "$(jpy "$T/in" '[[x["iss"], x["target"]] for x in L if x["iss"] != "'"$ISS"'"]')"
check "t-one untouched" is_active t-one

daemon_stop
finish
