#!/bin/bash
# --audience-restricted: a token is active for a caller only if its aud
# names the caller's client_id (a string aud, or an array holding it);
# for any other caller, and for a token with no aud, {"active":false}.
. "$(dirname "$0")/lib.sh"

broker_start
make_clients "$T/clients" "rs:rs-secret:introspect" \
    "rs-2:rs2-secret:introspect" "admin:admin-secret:introspect,revoke,admin"
daemon_start --profile off --audience-restricted

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-one aud=rs)
k	$(ev_issued e-2 t-two aud='["rs-2","rs"]')
k	$(ev_issued e-3 t-none)
k	$(ev_issued e-4 t-last aud=admin)
EOF2
check "produce the events" produce_file "$TOPIC_IN" "$T/events"
check "the last one is applied" wait_for 15 is_active t-last

active() { introspect "$1" "$2" >"$T/a"; jget "$T/a" .active; }
check_eq "aud rs: active for rs" true "$(active t-one "$RS")"
check_eq "aud rs: inactive for rs-2" false "$(active t-one rs-2:rs2-secret)"
check_eq "aud [rs-2, rs]: active for both" "true true" \
    "$(active t-two "$RS") $(active t-two rs-2:rs2-secret)"
check_eq "aud [rs-2, rs]: inactive for admin" false \
    "$(active t-two "$ADMIN")"
check_eq "no aud: inactive for all" "false false" \
    "$(active t-none "$RS") $(active t-none "$ADMIN")"
check_eq "the inactive answer is exactly {\"active\":false}" \
    '{"active":false}' "$(introspect t-one rs-2:rs2-secret)"

daemon_stop
finish
