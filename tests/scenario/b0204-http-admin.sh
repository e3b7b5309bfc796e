#!/bin/bash
# The admin API (SPEC section 4): GET /v1/tokens/{jti} gives status,
# reason, claims, parents and children count; GET /v1/tokens/{jti}/tree
# gives the descendants (a DAG: a token reached twice is listed once, with
# each edge) as JSON or as Graphviz DOT that `dot` accepts, even for ids
# that need quoting.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce
OTHER=https://other.example
Q='t-"q\x'	# a jti that needs escaping in JSON, DOT and the URL
QJ='t-\"q\\x'	# $Q as a JSON string's content

cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-root sub=user-1 scope="a b")
k	$(ev_issued e-2 t-a subject=t-root)
k	$(ev_issued e-3 t-b subject=t-a)
k	$(ev_issued e-4 t-c subject=t-root actor=t-a)
k	$(ev_issued e-5 t-pending grant_type=refresh_token previous=t-missing)
k	$(ev_issued e-6 t-old iat=$((NOW - 100)) exp=$((NOW - 10)))
k	$(ev_issued e-7 t-dup)
k	$(ev_issued e-8 t-dup iss=$OTHER)
k	$(ev_issued e-9 "$Q" subject=t-b)
EOF2
check "produce the events" produce_file "$TOPIC_IN" "$T/events"
check "the last one is applied" wait_for 15 is_active "$Q"

get() { http GET "$1" -u "$ADMIN"; }

# ---- one token ----------------------------------------------------------------

check_eq "GET /v1/tokens/t-a: 200" 200 "$(get /v1/tokens/t-a)"
cp "$T/body" "$T/a"
check_eq "status, claims, parents, children" \
    "[\"$ISS\",\"t-a\",true,\"active\",\"t-a\",{\"subject\":{\"iss\":\"$ISS\",\"jti\":\"t-root\",\"status\":\"active\"}},2]" \
    "$(jpy "$T/a" '[d["iss"], d["jti"], d["issued"], d["status"], d["claims"]["jti"], d["parents"], d["children"]]')"
check_eq "an active token has no reason" false "$(jpy "$T/a" '"reason" in d' || true)"
get /v1/tokens/t-c >/dev/null
check_eq "t-c: a subject and an actor parent" '["t-root","t-a"]' \
    "$(jpy "$T/body" '[d["parents"]["subject"]["jti"], d["parents"]["actor"]["jti"]]')"
get /v1/tokens/t-pending >/dev/null
check_eq "pending, with the rule as reason" '["pending","unknown_parent"]' \
    "$(jpy "$T/body" '[d["status"], d["reason"]]')"
get /v1/tokens/t-old >/dev/null
check_eq "expired" '["expired","expired"]' \
    "$(jpy "$T/body" '[d["status"], d["reason"]]')"
check_eq "a parent named but never issued, with its iss" '[false,"pending"]' \
    "$(get "/v1/tokens/t-missing?iss=$ISS" >/dev/null
    jpy "$T/body" '[d["issued"], d["status"]]')"
check_eq "without iss: 404 (a jti alone finds issued tokens only)" 404 \
    "$(get /v1/tokens/t-missing)"
check_eq "unknown jti: 404" 404 "$(get /v1/tokens/t-nope)"
check_eq "a jti under two issuers: 409" 409 "$(get /v1/tokens/t-dup)"
check_eq "?iss= picks one: 200" 200 "$(get "/v1/tokens/t-dup?iss=$OTHER")"
check_eq "and it is that one" "$OTHER" "$(jget "$T/body" .iss)"
check_eq "a percent-encoded jti" 200 "$(get /v1/tokens/t-%22q%5Cx)"
check_eq "its jti" "$Q" "$(jget "$T/body" .jti)"
check_eq "/v1/tokens/: 404" 404 "$(get /v1/tokens/)"
check_eq "/v1/tokens/a/b: 404" 404 "$(get /v1/tokens/t-a/b)"

# ---- the tree -------------------------------------------------------------------

check_eq "GET /v1/tokens/t-root/tree: 200" 200 "$(get /v1/tokens/t-root/tree)"
cp "$T/body" "$T/tree"
check_eq "each descendant once, with its depth" \
    "[[\"$QJ\",3],[\"t-a\",1],[\"t-b\",2],[\"t-c\",1],[\"t-root\",0]]" \
    "$(jpy "$T/tree" 'sorted([n["jti"], n["depth"]] for n in d["nodes"])')"
check_eq "every edge, with its kind" \
    "[[\"t-a\",\"t-b\",\"subject\"],[\"t-a\",\"t-c\",\"actor\"],[\"t-b\",\"$QJ\",\"subject\"],[\"t-root\",\"t-a\",\"subject\"],[\"t-root\",\"t-c\",\"subject\"]]" \
    "$(jpy "$T/tree" 'sorted([{n["id"]: n["jti"] for n in d["nodes"]}[e["from"]], {n["id"]: n["jti"] for n in d["nodes"]}[e["to"]], e["kind"]] for e in d["edges"])')"
check_eq "count, not truncated" '[5,false]' \
    "$(jpy "$T/tree" '[d["count"], d["truncated"]]')"
check_eq "?format=dot: 200" 200 "$(get '/v1/tokens/t-root/tree?format=dot')"
cp "$T/body" "$T/tree.dot"
check_match "Content-Type text/vnd.graphviz" 'Content-Type: text/vnd.graphviz' \
    "$(cat "$T/headers")"
check "dot -Tsvg accepts it" dot -Tsvg -o "$T/tree.svg" "$T/tree.dot"
check_eq "five edges in the DOT" 5 "$(grep -c -- '->' "$T/tree.dot")"
check "the quoted jti is a label of the SVG" grep -qF 't&#45;&quot;q\x' \
    "$T/tree.svg"
check_eq "a leaf's tree: itself" 1 \
    "$(get '/v1/tokens/t-%22q%5Cx/tree' >/dev/null; jget "$T/body" .count)"
check_eq "?format=xml: 400" 400 "$(get '/v1/tokens/t-root/tree?format=xml')"

# ---- a revoked token, its cause ---------------------------------------------

check "revoke t-a" produce "$TOPIC_IN" k \
    "$(ev_revoked e-10 jti=t-a reason=compromised)"
check "t-c becomes revoked" wait_for 10 is_inactive t-c
get /v1/tokens/t-c >/dev/null
check_eq "t-c: revoked by inheritance, with the cause" \
    '["revoked","compromised","e-10","t-a","jti",true]' \
    "$(jpy "$T/body" '[d["status"], d["reason"], d["cause"]["event"], d["cause"]["target"], d["cause"]["target_kind"], d["cause"]["inherited"]]')"
get /v1/tokens/t-a >/dev/null
check_eq "t-a: revoked by its own revocation" '["revoked",false]' \
    "$(jpy "$T/body" '[d["status"], d["cause"]["inherited"]]')"
get /v1/tokens/t-root/tree >/dev/null
check_eq "the tree shows the statuses" \
    "[[\"$QJ\",\"revoked\"],[\"t-a\",\"revoked\"],[\"t-b\",\"revoked\"],[\"t-c\",\"revoked\"],[\"t-root\",\"active\"]]" \
    "$(jpy "$T/body" 'sorted([n["jti"], n["status"]] for n in d["nodes"])')"
get '/v1/tokens/t-root/tree?format=dot' >/dev/null
check "the DOT of it still parses" dot -Tsvg -o /dev/null "$T/body"

daemon_stop
finish
