#!/bin/bash
# A request whose lines end in a bare LF (or a CR without LF) can never
# be a valid head: it is answered 400 at once, not left waiting for the
# timeout (issue 9, item 8c).
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off --http-timeout 5

# send BYTES (python literal): the first status line within 2 s, or none.
send() {
	python3 - "$PORT" "$1" <<'EOF2'
import ast, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(ast.literal_eval(sys.argv[2]))
s.settimeout(2)
t = time.monotonic()
try:
    d = s.recv(200)
    print("%s after %.1f s" % (d.split(b"\r\n")[0].decode() or "closed",
        time.monotonic() - t))
except socket.timeout:
    print("no answer within 2 s")
EOF2
}

check_match "LF-only request line and head: 400 at once" \
    "^HTTP/1.1 400 Bad Request after 0\.[0-9] s" \
    "$(send 'b"GET /healthz HTTP/1.1\nHost: x\n\n"')"
check_match "LF-only request line alone: 400 at once" \
    "^HTTP/1.1 400 Bad Request after 0\.[0-9] s" \
    "$(send 'b"GET /healthz HTTP/1.1\n"')"
check_match "CRLF request line, LF-only header: 400 at once" \
    "^HTTP/1.1 400 Bad Request after 0\.[0-9] s" \
    "$(send 'b"GET /healthz HTTP/1.1\r\nHost: x\n"')"
check_match "a CR not followed by LF: 400 at once" \
    "^HTTP/1.1 400 Bad Request after 0\.[0-9] s" \
    "$(send 'b"GET /healthz HTTP/1.1\rHost: x"')"
check_match "a partial head with a CR at its end still waits" \
    "^no answer within 2 s" "$(send 'b"GET /healthz HTTP/1.1\r"')"
check_match "a good head is served" "^HTTP/1.1 200 OK" \
    "$(send 'b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"')"

daemon_stop
finish
