#!/bin/bash
# POST /revoke never answers 200 for a revocation it did not make (SPEC 4):
# the issuer of a jti must be certain.  With no issuer known at all, an
# unknown jti without iss is a 400; a jti known under two issuers, without
# iss, is a 400 invalid_request saying so, and nothing is published (both
# tokens stay active); so is an unknown jti once two issuers are known.
# With iss, the one named is revoked and the other stays active.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

in_count_is() { [ "$(count "$TOPIC_IN")" -eq "$1" ]; }

check_eq "no issuer known yet: unknown jti without iss: 400" 400 \
    "$(http POST /revoke -u "$REV" -d token=t-none -d token_type_hint=jti)"
check_eq "invalid_request, saying why" \
    '["invalid_request",true]' \
    "$(jpy "$T/body" '[d["error"], "no issuer" in d["error_description"]]')"

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-shared iss=https://a.example)
k	$(ev_issued e-2 t-shared iss=https://b.example)
EOF2
check "t-shared issued by two issuers" produce_file "$TOPIC_IN" "$T/events"
is_active_under() {
	introspect "$1" "$ADMIN" "$2" >"$T/.ia" &&
	    [ "$(jget "$T/.ia" .active)" = "$3" ]
}
check "active under a" wait_for 10 is_active_under t-shared https://a.example true
check "active under b" wait_for 10 is_active_under t-shared https://b.example true
n_in=$(count "$TOPIC_IN")

check_eq "ambiguous jti without iss: 400" 400 \
    "$(http POST /revoke -u "$REV" -d token=t-shared -d token_type_hint=jti)"
check_eq "invalid_request, naming the several issuers" \
    '["invalid_request",true]' \
    "$(jpy "$T/body" '[d["error"], "several issuers" in d["error_description"]]')"
check_eq "unknown jti without iss, two issuers known: 400" 400 \
    "$(http POST /revoke -u "$REV" -d token=t-nobody -d token_type_hint=jti)"
check_eq "invalid_request too" invalid_request "$(jget "$T/body" .error)"
check_eq "unknown raw token without iss, two issuers known: 400" 400 \
    "$(http POST /revoke -u "$REV" -d token=raw-nobody)"
sleep 1
check_eq "nothing was published" "$n_in" "$(count "$TOPIC_IN")"
check "still active under a" is_active_under t-shared https://a.example true
check "still active under b" is_active_under t-shared https://b.example true

check_eq "with iss=https://a.example: 200" 200 "$(http POST /revoke \
    -u "$REV" -d token=t-shared -d token_type_hint=jti \
    --data-urlencode iss=https://a.example)"
check "inactive under a right after the 200" \
    is_active_under t-shared https://a.example false
check "still active under b" is_active_under t-shared https://b.example true
check "one event published" in_count_is $((n_in + 1))

daemon_stop
finish
