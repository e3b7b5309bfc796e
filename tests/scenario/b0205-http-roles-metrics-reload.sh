#!/bin/bash
# Roles (SPEC section 6): each client gets exactly the endpoints of its
# roles. GET /metrics is Prometheus text that counts what happened. SIGHUP
# re-reads the clients file; a bad file keeps the clients loaded before.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off
produce "$TOPIC_IN" k "$(ev_issued e-1 t-1)"
check "t-1 is active" wait_for 10 is_active t-1

# ---- the roles matrix -------------------------------------------------------

codes() {
	echo "$(http POST /introspect -u "$1" -d token=t-1 \
	    -d token_type_hint=jti) $(http POST /revoke -u "$1" \
	    -d token=raw-unknown) $(http GET /metrics -u "$1") \
$(http GET /v1/tokens/t-1 -u "$1") $(http GET /v1/tokens/t-1/tree -u "$1")"
}
check_eq "admin (introspect,revoke,admin): everything" \
    "200 200 200 200 200" "$(codes "$ADMIN")"
check_eq "rs (introspect): /introspect only" "200 403 403 403 403" \
    "$(codes "$RS")"
check_eq "rev (introspect,revoke): /introspect and /revoke" \
    "200 200 403 403 403" "$(codes "$REV")"

# ---- /metrics -----------------------------------------------------------------

check_eq "GET /metrics: 200" 200 "$(http GET /metrics -u "$ADMIN")"
cp "$T/body" "$T/metrics"
check_match "Content-Type text/plain; version=0.0.4" \
    'Content-Type: text/plain; version=0.0.4' "$(cat "$T/headers")"
check "every line parses as Prometheus text, every sample has a TYPE" \
    python3 - "$T/metrics" <<'EOF'
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf|NaN)$'
                    % (name, label, label))
types, bad = {}, []
for line in open(sys.argv[1]).read().split("\n")[:-1]:
    m = re.match(r'^# (HELP|TYPE) (%s) (.*)$' % name, line)
    if m:
        if m.group(1) == "TYPE":
            if m.group(3) not in ("counter", "gauge", "histogram", "summary",
                                  "untyped"):
                bad.append(line)
            types[m.group(2)] = m.group(3)
        continue
    m = sample.match(line)
    base = m and re.sub(r'_(bucket|sum|count)$', '', m.group(1))
    if not m or (m.group(1) not in types and types.get(base) != "histogram"):
        bad.append(line)
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
check "histogram buckets grow, +Inf equals _count" python3 - "$T/metrics" <<'EOF'
import re, sys
buckets, counts = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r'revokerd_http_request_duration_seconds_bucket\{endpoint="(\w+)",le="([^"]+)"\} (\d+)', line)
    if m:
        buckets.setdefault(m.group(1), []).append(int(m.group(3)))
    m = re.match(r'revokerd_http_request_duration_seconds_count\{endpoint="(\w+)"\} (\d+)', line)
    if m:
        counts[m.group(1)] = int(m.group(2))
ok = len(buckets) == 8
for ep, b in buckets.items():
    ok = ok and b == sorted(b) and b[-1] == counts[ep]
sys.exit(0 if ok else 1)
EOF
metric() { grep -E "^$1 " "$T/metrics" | awk '{ print $2 }'; }
n=$(metric 'revokerd_http_requests_total\{endpoint="introspect",code="2xx"\}')
check "the introspections counted (2xx): 3 and those of wait_for" \
    test "$n" -ge 4
check_eq "the 403s counted on /metrics (4xx)" 2 \
    "$(metric 'revokerd_http_requests_total\{endpoint="metrics",code="4xx"\}')"
# The issuance, and the two revocations by hash that /revoke of an unknown
# raw token published (SPEC section 4) and the daemon consumed back.
check_eq "three events applied" 3 "$(metric revokerd_events_applied_total)"
check_eq "ready" 1 "$(metric revokerd_ready)"
check_eq "lag 0" 0 "$(metric revokerd_consumer_lag)"
# The gauges are read once a second: fetch again until they are.
db_per_token() {
	[ "$(http GET /metrics -u "$ADMIN")" = 200 ] &&
	    cp "$T/body" "$T/metrics" &&
	    [ "$(metric revokerd_db_tokens)" -ge 1 ] &&
	    [ "$(metric revokerd_db_bytes)" -gt 0 ] &&
	    [ "$(metric revokerd_db_bytes_per_token)" -eq \
	    $(($(metric revokerd_db_bytes) / $(metric revokerd_db_tokens))) ]
}
check "the database's bytes per token record on /metrics" \
    wait_for 5 db_per_token

# ---- SIGHUP -------------------------------------------------------------------

make_clients "$T/clients" "new:new-secret:admin" "$RS:introspect"
check "SIGHUP" kill -HUP "$DAEMON_PID"
check "the new client gets in" wait_for 5 \
    bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -u new:new-secret \
    $URL/metrics)\" = 200 ]"
check_eq "rev, gone from the file: 401" 401 \
    "$(http POST /introspect -u "$REV" -d token=t-1)"
check_eq "rs, still there: 200" 200 \
    "$(http POST /introspect -u "$RS" -d token=t-1)"
echo "this line is not a client" >>"$T/clients"
check "SIGHUP with a bad file" kill -HUP "$DAEMON_PID"
check "a warning names the bad line" wait_for 5 \
    grep -q 'clients:4: .*keeping the clients loaded before' "$T/revokerd.log"
check_eq "the clients loaded before still get in" "200 200" \
    "$(http GET /metrics -u new:new-secret) $(http POST /introspect -u "$RS" \
    -d token=t-1)"
check_eq "and no other" 401 "$(http POST /introspect -u "$REV" -d token=t-1)"

daemon_stop
finish
