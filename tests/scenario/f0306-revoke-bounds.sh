#!/bin/bash
# POST /revoke refuses what could only become a dead letter (SPEC 2: iss
# and jti are 1..256 bytes of UTF-8): a 200 or 202 for an event that is
# never applied would be a yes that does nothing.  Each is a 400
# invalid_request and publishes nothing.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

produce "$TOPIC_IN" k "$(ev_issued e-1 t-one)"
check "t-one is active" wait_for 10 is_active t-one
n_in=$(count "$TOPIC_IN")

long=$(head -c 257 /dev/zero | tr '\0' j)
check_eq "a jti of 257 bytes: 400" 400 "$(http POST /revoke -u "$REV" \
    -d "token=$long" -d token_type_hint=jti)"
check_eq "invalid_request" invalid_request "$(jget "$T/body" .error)"
check_eq "an iss of 257 bytes: 400" 400 "$(http POST /revoke -u "$REV" \
    -d token=t-x -d token_type_hint=jti -d "iss=$long")"
check_eq "an empty iss: 400" 400 "$(http POST /revoke -u "$REV" \
    -d token=t-x -d token_type_hint=jti -d iss=)"
check_eq "a jti that is not UTF-8: 400" 400 "$(http POST /revoke \
    -u "$REV" -d token=t-%ff -d token_type_hint=jti)"
check_eq "a jti with a NUL: 400" 400 "$(http POST /revoke -u "$REV" \
    -d token=t-%00x -d token_type_hint=jti)"
sleep 1
check_eq "nothing was published" "$n_in" "$(count "$TOPIC_IN")"
check_eq "a jti of 256 bytes: 200" 200 "$(http POST /revoke -u "$REV" \
    -d "token=${long:1}" -d token_type_hint=jti)"
check_eq "t-one untouched" true "$(introspect t-one >"$T/o"; jget "$T/o" .active)"

daemon_stop
finish
