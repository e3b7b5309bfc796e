#!/bin/bash
# RFC 7662 answers of POST /introspect (SPEC section 4): an active token
# gives "active": true and exactly its claims, by raw token (SHA-256) or
# by jti (token_type_hint=jti, an unknown hint or a hint that finds
# nothing widening the search); everything else gives exactly
# {"active":false}: unknown, expired, not yet valid, revoked, pending,
# denied, and a jti known under two issuers unless iss picks one.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce
OTHER=https://other.example

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-full hash="$(token_hash raw-full)" sub=user-1 \
    client_id=agent-a aud=rs-1 scope="files:read files:write" \
    nbf=$((NOW - 10)) kind=refresh act='{"sub":"agent-a"}' \
    may_act='{"sub":"agent-b"}')
k	$(ev_issued e-2 t-min sub=user-2 client_id=app scope=- \
    aud='["rs-1","rs-2"]')
k	$(ev_issued e-3 t-expired iat=$((NOW - 100)) exp=$((NOW - 10)))
k	$(ev_issued e-4 t-future nbf=$((NOW + 3600)))
k	$(ev_issued e-5 t-revoked hash="$(token_hash raw-revoked)")
k	$(ev_revoked e-6 jti=t-revoked reason=logout)
k	$(ev_issued e-7 t-pending grant_type=refresh_token previous=t-missing)
k	$(ev_issued e-8 t-denied grant_type=$EXCHANGE client_id=agent-z \
    aud=rs-9 act='{"sub":"agent-z"}' subject=t-full)
k	$(ev_issued e-9 t-dup sub=user-a)
k	$(ev_issued e-10 t-dup iss=$OTHER sub=user-b)
k	$(ev_issued e-11 t-last)
EOF2
check "produce the events" produce_file "$TOPIC_IN" "$T/events"
check "the last one is applied" wait_for 15 is_active t-last

# ---- active ---------------------------------------------------------------

check_eq "raw token: 200" 200 "$(http POST /introspect -u "$RS" \
    --data-urlencode token=raw-full)"
cp "$T/body" "$T/full"
check_match "Content-Type: application/json" \
    'Content-Type: application/json' "$(cat "$T/headers")"
check_match "Cache-Control: no-store" 'Cache-Control: no-store' \
    "$(cat "$T/headers")"
check_eq "every claim, and nothing else" \
    '["act","active","aud","client_id","exp","iat","iss","jti","may_act","nbf","scope","sub","token_type"]' \
    "$(jpy "$T/full" 'sorted(d)')"
check_eq "the claims' values" \
    "[true,\"$ISS\",\"t-full\",\"user-1\",\"agent-a\",\"rs-1\",\"files:read files:write\",$((NOW - 10)),$NOW,$((NOW + 3600)),\"refresh_token\",{\"sub\":\"agent-a\"},{\"sub\":\"agent-b\"}]" \
    "$(jpy "$T/full" '[d[k] for k in ("active","iss","jti","sub","client_id","aud","scope","nbf","iat","exp","token_type","act","may_act")]')"
check_eq "active comes first" '{"active":true,' "$(head -c 15 "$T/full")"
check_eq "by jti (token_type_hint=jti): the same answer" "$(cat "$T/full")" \
    "$(introspect t-full "$RS")"
check_eq "by jti with its iss: the same answer" "$(cat "$T/full")" \
    "$(introspect t-full "$RS" "$ISS")"
check_eq "raw token with hint=access_token: the same answer" \
    "$(cat "$T/full")" "$(http POST /introspect -u "$RS" \
    -d token=raw-full -d token_type_hint=access_token >/dev/null;
    cat "$T/body")"
check_eq "raw token with hint=jti finds nothing by jti, then by hash" \
    "$(cat "$T/full")" "$(introspect raw-full "$RS")"
introspect t-min "$RS" >"$T/min"
check_eq "absent claims are omitted; aud stays an array" \
    '[["active","aud","client_id","exp","iat","iss","jti","sub","token_type"],["rs-1","rs-2"],"access_token"]' \
    "$(jpy "$T/min" '[sorted(d), d["aud"], d["token_type"]]')"
introspect t-dup "$RS" "$OTHER" >"$T/dup"
check_eq "with iss: the jti of that issuer" "user-b" "$(jget "$T/dup" .sub)"

# ---- inactive -------------------------------------------------------------

inactive() {
	check_eq "$1: exactly {\"active\":false}" '{"active":false}' \
	    "$(shift; "$@")"
}
inactive "unknown raw token" introspect_raw raw-unknown "$RS"
inactive "unknown jti" introspect t-unknown "$RS"
inactive "jti under another issuer" introspect t-full "$RS" "$OTHER"
inactive "expired" introspect t-expired "$RS"
inactive "not yet valid (nbf)" introspect t-future "$RS"
inactive "revoked, by jti" introspect t-revoked "$RS"
inactive "revoked, by raw token" introspect_raw raw-revoked "$RS"
inactive "pending (unknown parent)" introspect t-pending "$RS"
inactive "denied (subject_audience_mismatch)" introspect t-denied "$RS"
inactive "a jti under two issuers, no iss" introspect t-dup "$RS"
check_eq "the stored statuses behind them" \
    "expired revoked pending denied" \
    "$(echo $(token_status t-expired) $(token_status t-revoked) \
    $(token_status t-pending) $(token_status t-denied))"

daemon_stop
finish
