#!/bin/bash
# The HTTP server's bounds: --max-conns connections per worker (the next
# one is closed at once), --http-timeout for an idle connection and for a
# request that trickles in (408), a pipelining client that never reads
# its answers is not read from without bound, and the server keeps
# serving others through all of it.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off --http-threads 1 --max-conns 4 --http-timeout 2

# The probe of the harness left no connection open; hold four now.
python3 - "$PORT" >"$T/cap" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
time.sleep(0.5)
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(2)
try:
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    print("fifth:", s.recv(100)[:15])
except (ConnectionError, socket.timeout) as e:
    print("fifth:", type(e).__name__)
# The held ones still work.
held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
print("held:", held[0].recv(100)[:15])
EOF
wait $!
check_match "a fifth connection is closed at once" \
    "fifth: (b''|ConnectionResetError|BrokenPipeError)" "$(cat "$T/cap")"
check_match "the four held ones are served" "held: b'HTTP/1.1 200 OK'" \
    "$(cat "$T/cap")"
check "and once they are gone, new ones are served" wait_for 5 \
    curl -fsS -o /dev/null "$URL/healthz"

# An idle connection is closed after the timeout.
python3 - "$PORT" >"$T/idle" 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
t = time.time()
d = s.recv(100)
print("closed after %.0f s: %r" % (time.time() - t, d))
EOF
check_match "an idle connection: closed after 2 s" "closed after [23] s: b''" \
    "$(cat "$T/idle")"

# A head sent a byte at a time, slower than the timeout allows: 408.
python3 - "$PORT" >"$T/slow" 2>&1 <<'EOF'
import select, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
out = b""
try:
    for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
        s.sendall(bytes([ch]))
        if select.select([s], [], [], 0.1)[0]:
            break
    out = s.recv(200)
except (ConnectionError, socket.timeout) as e:
    print(type(e).__name__)
print(out.split(b"\r\n")[0].decode())
EOF
check_match "a trickling request: 408" "HTTP/1.1 408 Request Timeout" \
    "$(cat "$T/slow")"

# A client pipelining requests and never reading the answers: the server
# stops reading it when its buffers fill, and serves others meanwhile.
python3 - "$PORT" "$URL" >"$T/flood" 2>&1 <<'EOF'
import socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(3)
req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 1000
sent = 0
try:
    while sent < 200 * 1024 * 1024:
        s.sendall(req)
        sent += len(req)
except (socket.timeout, ConnectionError):
    pass
print("sent before blocking: %d MB" % (sent // (1024 * 1024)))
r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    "--max-time", "5", sys.argv[2] + "/healthz"],
                   capture_output=True, text=True)
print("other client:", r.stdout)
EOF
say "$(tr "\n" " " <"$T/flood")"
check_match "the flooding client is blocked well before 200 MB" \
    "sent before blocking: [0-9]{1,2} MB" "$(cat "$T/flood")"
check_match "another client is served meanwhile" "other client: 200" \
    "$(cat "$T/flood")"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$DAEMON_PID/status")
check "the daemon's memory stays small (RSS ${rss} kB < 200 MB)" \
    test "$rss" -lt 204800

daemon_stop
finish
