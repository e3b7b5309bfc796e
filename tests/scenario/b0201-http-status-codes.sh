#!/bin/bash
# Every status code of the HTTP API (SPEC section 4): 200 health checks
# without credentials; 401 with WWW-Authenticate for missing, wrong or
# unknown credentials, answered the same whether the token exists; 403 for
# a missing role; 405 with Allow; 404; 413; 400 for malformed forms; and
# the protocol errors of the strict HTTP/1.1 parser (400, 431, 501, 505),
# keep-alive, pipelining and HTTP/1.0.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off
check "the consumer catches up (readyz)" daemon_wait_ready

produce "$TOPIC_IN" k "$(ev_issued e-1 t-known hash="$(token_hash raw-known)")"
check "t-known becomes active" wait_for 10 is_active t-known

# raw: send stdin as is on one connection, print all that comes back
# within a second of silence (or until the server closes).
raw() {
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
s.settimeout(1)
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.write(out.decode("latin-1"))
' "$PORT"
}
# status_lines: the status line of each answer (a body may run into the
# next answer's status line, as nothing ends a body but its length).
status_lines() { grep -ao 'HTTP/1\.1 [0-9][0-9][0-9] [^'$'\r'']*'; }

# ---- health, no credentials -------------------------------------------------

check_eq "GET /healthz: 200 without credentials" 200 "$(http GET /healthz)"
check_eq "GET /readyz: 200 once caught up" 200 "$(http GET /readyz)"
check_eq "/readyz says so" true "$(jget "$T/body" .ready)"
check_eq "HEAD /healthz: 200" 200 "$(http HEAD /healthz -I)"

# ---- 401 ----------------------------------------------------------------------

check_eq "no credentials: 401" 401 \
    "$(http POST /introspect -d token=raw-known)"
check_match "401 carries WWW-Authenticate Basic" \
    'WWW-Authenticate: Basic realm="revokerd"' "$(cat "$T/headers")"
check_eq "401 body" '{"error":"invalid_client"}' "$(cat "$T/body")"
cp "$T/body" "$T/known401"
check_eq "wrong password: 401" 401 \
    "$(http POST /introspect -u rs:wrong -d token=raw-known)"
check_eq "unknown client: 401" 401 \
    "$(http POST /introspect -u nobody:rs-secret -d token=raw-known)"
check_eq "a Bearer token instead of Basic: 401" 401 \
    "$(http POST /introspect -H 'Authorization: Bearer abc' -d token=x)"
check_eq "unknown token without credentials: 401 as well" 401 \
    "$(http POST /introspect -d token=raw-unknown)"
check_eq "the same body whether the token exists" \
    "$(cat "$T/known401")" "$(cat "$T/body")"
check_eq "401 on /metrics and /v1 too" "401 401 401" \
    "$(http GET /metrics) $(http GET /v1/tokens/t-known) \
$(http POST /revoke -d token=raw-known)"

# ---- 403, 405, 404 ----------------------------------------------------------

check_eq "rs on /revoke: 403" 403 "$(http POST /revoke -u "$RS" -d token=x)"
check_eq "403 body" '{"error":"access_denied"}' "$(cat "$T/body")"
check_eq "rs on /metrics: 403" 403 "$(http GET /metrics -u "$RS")"
check_eq "rev on /v1/tokens: 403" 403 "$(http GET /v1/tokens/t-known -u "$REV")"
check_eq "GET /introspect: 405" 405 "$(http GET /introspect -u "$RS")"
check_match "405 says Allow: POST" 'Allow: POST' "$(cat "$T/headers")"
check_eq "POST /healthz: 405" 405 "$(http POST /healthz -d x=1)"
check_match "405 says Allow: GET, HEAD" 'Allow: GET, HEAD' "$(cat "$T/headers")"
check_eq "unknown path: 404" 404 "$(http GET /nope -u "$ADMIN")"
check_eq "unknown token in the admin API: 404" 404 \
    "$(http GET /v1/tokens/t-nope -u "$ADMIN")"

# ---- 400 and 413 ------------------------------------------------------------

check_eq "no token field: 400" 400 "$(http POST /introspect -u "$RS" -d x=1)"
check_eq "400 body (RFC 7662/6749)" '{"error":"invalid_request"}' \
    "$(cat "$T/body")"
check_eq "bad percent-escape: 400" 400 \
    "$(http POST /introspect -u "$RS" -d 'token=%zz')"
check_eq "a parameter twice: 400" 400 \
    "$(http POST /introspect -u "$RS" -d token=a -d token=b)"
check_eq "a JSON body: 400" 400 "$(http POST /introspect -u "$RS" \
    -H 'Content-Type: application/json' -d '{"token":"a"}')"
head -c 20000 /dev/zero | tr '\0' a >"$T/big"
check_eq "a body over max-body: 413" 413 "$(http POST /introspect -u "$RS" \
    --data-binary "@$T/big")"
check_eq "a body of 10 kB with Expect: 100-continue: 200" 200 \
    "$(http POST /introspect -u "$RS" --data-binary \
    "token=$(head -c 10000 "$T/big")")"

# ---- the parser -------------------------------------------------------------

check_eq "chunked request body: 501" "HTTP/1.1 501 Not Implemented" \
    "$(printf 'POST /introspect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' |
    raw | status_lines)"
check_eq "HTTP/2.0 request line: 505" \
    "HTTP/1.1 505 HTTP Version Not Supported" \
    "$(printf 'GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n' | raw | status_lines)"
check_eq "garbage: 400" "HTTP/1.1 400 Bad Request" \
    "$(printf 'hello there\r\n\r\n' | raw | status_lines)"
check_eq "HTTP/1.1 without Host: 400" "HTTP/1.1 400 Bad Request" \
    "$(printf 'GET /healthz HTTP/1.1\r\n\r\n' | raw | status_lines)"
check_eq "a folded header line: 400" "HTTP/1.1 400 Bad Request" \
    "$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n' |
    raw | status_lines)"
check_eq "two Content-Length: 400" "HTTP/1.1 400 Bad Request" \
    "$(printf 'POST /introspect HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx' |
    raw | status_lines)"
check_eq "headers over 8 KiB: 431" \
    "HTTP/1.1 431 Request Header Fields Too Large" \
    "$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' \
    "$(head -c 9000 "$T/big")" | raw | status_lines)"
check_eq "three pipelined requests: three answers, in order" \
    "$(printf 'HTTP/1.1 200 OK\nHTTP/1.1 404 Not Found\nHTTP/1.1 200 OK')" \
    "$(printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n' |
    raw | status_lines)"
printf 'GET /healthz HTTP/1.0\r\n\r\n' | raw >"$T/h10"
check_match "HTTP/1.0: answered, then closed" 'Connection: close' \
    "$(cat "$T/h10")"
check_eq "HTTP/1.0 with keep-alive: kept alive, and told so" \
    "$(printf 'HTTP/1.1 200 OK\nConnection: keep-alive\nHTTP/1.1 200 OK')" \
    "$(printf 'GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' |
    raw | grep -ao 'HTTP/1.1 200 OK\|Connection: [a-z-]*' | head -3)"
check "curl reuses one connection for two requests" bash -c \
    "curl -sv -o /dev/null -o /dev/null '$URL/healthz' '$URL/healthz' 2>&1 |
    grep -q 'Re-using existing connection'"

# ---- /revoke of an unknown token -------------------------------------------

check_eq "/revoke of an unknown token: 200 (RFC 7009)" 200 \
    "$(http POST /revoke -u "$REV" -d token=raw-unknown)"

daemon_stop
finish
