#!/bin/bash
# Connections that never close (issue 9, item 6): with --max-conns 2
# --http-timeout 2 on one worker, two clients that sent a bad request
# and then trickle a byte every second must not hold the cap: they get
# their 400, are shut down and drained for a bounded time, then closed,
# and /healthz is served again within a bound.  A request whose head
# trickles in is cut at its deadline, counted from its first byte, not
# restarted by each byte.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off --http-threads 1 --max-conns 2 --http-timeout 2

# ---- two bad requests, then a byte a second ------------------------------
# The clients ignore the end of the server's writing (EOF) and go on
# sending: a connection counts as closed when the server resets it.
python3 - "$PORT" >"$T/bad" 2>&1 <<'EOF2'
import socket, sys, time
port = int(sys.argv[1])
t0 = time.monotonic()
socks, closed, answer = [], {}, {}
for i in range(2):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"BAD\r\n\r\n")
    s.setblocking(False)
    socks.append(s)
def poll(now):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            d = s.recv(4096)
            if d:
                answer.setdefault(i, d.split(b"\r\n")[0].decode())
        except BlockingIOError:
            pass
        except OSError:
            closed[i] = now - t0
healthy = None
last_byte = 0
while time.monotonic() - t0 < 12:
    now = time.monotonic()
    if now - last_byte >= 1.0:
        last_byte = now
        for i, s in enumerate(socks):
            if i not in closed:
                try:
                    s.send(b"x")
                except OSError:
                    closed[i] = now - t0
    poll(now)
    if healthy is None and now - t0 > 0.5:
        h = socket.socket()
        h.settimeout(0.5)
        try:
            h.connect(("127.0.0.1", port))
            h.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if h.recv(100).startswith(b"HTTP/1.1 200"):
                healthy = time.monotonic() - t0
        except OSError:
            pass
        h.close()
    if healthy is not None and len(closed) == 2:
        break
    time.sleep(0.05)
print("answers:", sorted(answer.values()))
print("reset after: %s" % " ".join("%.1f" % closed.get(i, 99)
    for i in range(2)))
print("healthz served after: %.1f" % (healthy if healthy else 99))
print("bounded" if healthy and healthy < 4.5 and
    max(closed.get(i, 99) for i in range(2)) < 6 else "held")
EOF2
say "$(tr '\n' ' ' <"$T/bad")"
check_match "both bad requests get 400" \
    "answers: \['HTTP/1.1 400 Bad Request', 'HTTP/1.1 400 Bad Request'\]" \
    "$(cat "$T/bad")"
check_match "still trickling after the 400: closed, /healthz served again" \
    "^bounded" "$(tail -n 1 "$T/bad")"

# ---- a head trickling in: 408 at its deadline ----------------------------
python3 - "$PORT" >"$T/trickle" 2>&1 <<'EOF2'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setblocking(False)
t0 = time.monotonic()
head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
s.sendall(head[:1])
rest = head[1:] + b"a" * 40
answer, answered, closed, last = None, None, None, t0
while time.monotonic() - t0 < 12 and closed is None:
    now = time.monotonic()
    if now - last >= 1.5 and rest:
        last = now
        try:
            s.send(rest[:1])
        except OSError:
            closed = now - t0
        rest = rest[1:]
    try:
        d = s.recv(4096)
        if d and answer is None:
            answer, answered = d.split(b"\r\n")[0].decode(), now - t0
    except BlockingIOError:
        pass
    except OSError:
        closed = now - t0
    time.sleep(0.02)
print("answer: %s after %.1f s" % (answer, answered or 99))
print("reset after %.1f s" % (closed or 99))
print("cut" if answered is not None and answered < 2.8 and closed is not None
    and closed < 8.5 else "not cut")
EOF2
say "$(tr '\n' ' ' <"$T/trickle")"
check_match "a trickling head: 408" "answer: HTTP/1.1 408 Request Timeout" \
    "$(cat "$T/trickle")"
check_match "at its deadline (2 s from its first byte), then closed" \
    "^cut" "$(tail -n 1 "$T/trickle")"
check "the server still serves" curl -fsS -o /dev/null --max-time 5 \
    "$URL/healthz"

daemon_stop
finish
