#!/bin/bash
# Failed credentials cost the caller, not the server (SPEC section 4): an
# unknown client id takes as long to refuse as a known one with a wrong
# password, whichever line of the clients file holds the costly hash;
# past --auth-fail-rate failed verifications a second (per client id and
# per peer address) the answer is 429 with Retry-After, without a
# password check; a client verified before the flood is served all along.
. "$(dirname "$0")/lib.sh"

broker_start
# A bcrypt client (cost 10) between two SHA-512 ones: the costly hash is
# not the first line.
make_clients "$T/clients" "$ADMIN:introspect,revoke,admin"
python3 - >>"$T/clients" <<'EOF2' || bail "a bcrypt hash (python3 crypt)"
import ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library("crypt"))
for f in ("crypt_gensalt", "crypt"):
    getattr(lib, f).restype = ctypes.c_char_p
salt = lib.crypt_gensalt(b"$2b$", 10, None, 0)
print("dear:%s:introspect" % lib.crypt(b"dear-secret", salt).decode())
EOF2
echo "rs:$(openssl passwd -6 rs-secret):introspect" >>"$T/clients"
grep -q '^dear:\$2b\$10\$' "$T/clients" || bail "the bcrypt client"
daemon_start --profile off --auth-fail-rate 5

# ---- an unknown id costs what the costliest hash costs ---------------------
# Median wall time of 5 refusals of each kind, far apart enough not to
# spend a budget.  bcrypt-10 takes some 60 ms, SHA-512 a few: before the
# fix an unknown id was checked against the first (SHA-512) line.
python3 - "$URL" >"$T/timing" 2>&1 <<'EOF2'
import base64, statistics, sys, time, urllib.request, urllib.error
def once(user, pw):
    tok = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    req = urllib.request.Request(sys.argv[1] + "/introspect",
        data=b"token=x", headers={"Authorization": "Basic " + tok})
    t = time.monotonic()
    try:
        urllib.request.urlopen(req, timeout=10)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    return code, time.monotonic() - t
known, unknown, codes = [], [], set()
for i in range(5):
    c, t = once("dear", "wrong%d" % i); codes.add(c); known.append(t)
    c, t = once("nobody%d" % i, "wrong%d" % i); codes.add(c); unknown.append(t)
    time.sleep(0.6)
k, u = statistics.median(known), statistics.median(unknown)
print("codes %s known %.1f ms unknown %.1f ms" % (sorted(codes), k * 1e3,
    u * 1e3))
print("similar" if u * 3 >= k else "unknown is cheaper")
EOF2
say "$(head -n 1 "$T/timing")"
check_match "wrong password and unknown id: both 401" "codes \[401\]" \
    "$(cat "$T/timing")"
check_match "an unknown id is refused no faster than a bcrypt client" \
    "^similar" "$(tail -n 1 "$T/timing")"

# ---- the budget ---------------------------------------------------------------
check_eq "rs is verified before the flood" 200 \
    "$(http POST /introspect -u "$RS" -d token=x)"
sleep 1.1	# a new window, whatever the timing part spent

# Wrong guesses for rs as fast as they go, on one keep-alive connection,
# with rs's right password (cached) interleaved; once a guess gets 429,
# a fresh credential of another client from the same address is 429 too
# (the peer's budget), and rs's cached one still 200.
python3 - "$PORT" "$RS" "$ADMIN" >"$T/flood" 2>&1 <<'EOF2'
import base64, http.client, sys, time
port, rs, admin = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def b(s): return "Basic " + base64.b64encode(s.encode()).decode()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def post(auth):
    conn.request("POST", "/introspect", body="token=x", headers={
        "Authorization": auth,
        "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    return r.status, r.getheader("Retry-After"), r.read().decode()
codes, retry, body, rs_codes, admin_code = [], set(), "", set(), None
t0 = time.monotonic()
for i in range(40):
    st, ra, bd = post(b("rs:guess%d" % i))
    codes.append(st)
    rs_codes.add(post(b(rs))[0])
    if st == 429:
        retry.add(ra)
        body = bd
        if admin_code is None:
            # Spaces make this header new to the cache: verified afresh.
            admin_code = post("Basic  " + b(admin)[6:])[0]
print("guesses: %d x 401, %d x 429 in %.2f s" % (codes.count(401),
    codes.count(429), time.monotonic() - t0))
print("retry-after:", sorted(r or "-" for r in retry))
print("body:", body)
print("rs:", sorted(rs_codes))
print("fresh admin during the flood:", admin_code)
time.sleep(1.1)
print("rs guess after a second:", post(b("rs:late"))[0])
print("admin after a second:", post(b(admin))[0])
EOF2
say "$(head -n 1 "$T/flood")"
check_match "a few wrong guesses are checked: 401" \
    "guesses: ([5-9]|1[0-5]) x 401" "$(cat "$T/flood")"
check_match "past the budget: 429" "x 401, (2[5-9]|3[0-5]) x 429" \
    "$(cat "$T/flood")"
check_match "429 carries Retry-After: 1" "retry-after: \['1'\]" \
    "$(cat "$T/flood")"
check_match "429 body" 'body: \{"error":"slow_down"\}' "$(cat "$T/flood")"
check_match "rs, cached, gets 200 throughout" "rs: \[200\]" \
    "$(cat "$T/flood")"
check_match "a fresh credential from the flooding address: 429" \
    "fresh admin during the flood: 429" "$(cat "$T/flood")"
check_match "a second later, guesses are checked again" \
    "rs guess after a second: 401" "$(cat "$T/flood")"
check_match "and the right password passes" "admin after a second: 200" \
    "$(cat "$T/flood")"

check "--help documents --auth-fail-rate" \
    sh -c "'$BUILD/revokerd' --help | grep -q -- --auth-fail-rate"
daemon_stop
finish
