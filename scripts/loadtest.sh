#!/bin/bash
# Load test of POST /introspect against nginx serving a static answer.
#
# Loads NTOK tokens (a tenth of them then revoked) into a fresh database,
# starts build/revokerd on it, and nginx (scripts/nginx-bench.conf, two
# workers) on another loopback port; then runs wrk (-t2 -c64 -d10s by
# default) against each with a Lua script posting /introspect with Basic
# authentication and a mix of active (60%), revoked (20%) and unknown
# (20%) raw tokens.  Prints both rates, their p99 latencies and the ratio.
#
# Usage: scripts/loadtest.sh [BUILD]    (default build)
# Environment: DURATION (10s), CONNS (64), THREADS (2), NTOK (20000),
# HTTP_THREADS (revokerd workers, 2), ROUNDS (3: runs of each server,
# alternating, so that both meet the same noise; medians reported),
# KEEP=1 (keep the temporary folder).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
NTOK=${NTOK:-20000}
HTTP_THREADS=${HTTP_THREADS:-2}
ROUNDS=${ROUNDS:-3}

die() { echo "loadtest: $*" >&2; exit 1; }

[ -x "$BUILD/revokerd" ] || die "no $BUILD/revokerd: make first"
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
	"$ROOT/scripts/deps.sh" bench || die "wrk and nginx-light needed"
fi
for c in wrk nginx python3 curl openssl; do
	command -v "$c" >/dev/null || die "$c is missing"
done

T=$(mktemp -d "${TMPDIR:-/tmp}/revokerd-loadtest.XXXXXX")
DPID= NPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "loadtest: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
DPORT=$(free_port)
NPORT=$(free_port)

# ---- data: events, the raw tokens of each kind, a client ------------------

python3 - "$T" "$NTOK" <<'EOF'
import base64, hashlib, json, sys, time
d, n = sys.argv[1], int(sys.argv[2])
now = int(time.time())
iss = "https://idp.example"
def h(raw):
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()
        ).decode().rstrip("=")
with open(d + "/events.jsonl", "w") as ev, \
     open(d + "/active.txt", "w") as act, open(d + "/revoked.txt", "w") as rev:
    for i in range(n):
        raw = "bench-token-%08d-%s" % (i, "x" * 40)
        tok = {"jti": "t-%d" % i, "hash": h(raw), "sub": "user-%d" % (i % 997),
               "client_id": "agent-%d" % (i % 31), "aud": "rs-%d" % (i % 7),
               "scope": "files:read files:write", "iat": now,
               "exp": now + 86400, "act": {"sub": "agent-%d" % (i % 31)}}
        e = {"v": 1, "type": "token.issued", "id": "e-%d" % i, "time": now,
             "iss": iss, "grant_type": "client_credentials", "token": tok}
        ev.write(json.dumps(e, separators=(",", ":")) + "\n")
        (rev if i % 10 == 0 else act).write(raw + "\n")
    for i in range(0, n, 10):
        e = {"v": 1, "type": "token.revoked", "id": "r-%d" % i, "time": now,
             "iss": iss, "target": {"jti": "t-%d" % i}, "reason": "bench"}
        ev.write(json.dumps(e, separators=(",", ":")) + "\n")
with open(d + "/unknown.txt", "w") as unk:
    for i in range(1000):
        unk.write("unknown-token-%08d-%s\n" % (i, "y" * 40))
EOF
printf 'bench:%s:introspect\n' "$(openssl passwd -6 bench-secret)" \
    >"$T/clients"
AUTH=$(printf %s bench:bench-secret | base64)

# ---- revokerd, loaded with revokerctl replay or through its broker --------

start_daemon() {
	"$BUILD/revokerd" --db "$T/db" --listen "127.0.0.1:$DPORT" \
	    --clients "$T/clients" --http-threads "$HTTP_THREADS" \
	    --log-level warn </dev/null >"$T/revokerd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		curl -fsS -o /dev/null "http://127.0.0.1:$DPORT/healthz" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	cat "$T/revokerd.log" >&2
	die "revokerd did not start"
}

introspect() {
	curl -fsS -H "Authorization: Basic $AUTH" --data-urlencode "token=$1" \
	    "http://127.0.0.1:$DPORT/introspect"
}

if [ -x "$BUILD/revokerctl" ] &&
    "$BUILD/revokerctl" replay --db "$T/db" --file "$T/events.jsonl" \
    >"$T/replay.log" 2>&1; then
	echo "loadtest: $NTOK tokens loaded with revokerctl replay"
	start_daemon
else
	# No revokerctl: feed the embedded broker (its address is logged).
	command -v kcat >/dev/null || die "need revokerctl or kcat"
	"$BUILD/revokerd" --db "$T/db" --listen "127.0.0.1:$DPORT" \
	    --clients "$T/clients" --http-threads "$HTTP_THREADS" \
	    </dev/null >"$T/revokerd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		B=$(grep -o 'broker.* at [0-9.]*:[0-9]*' "$T/revokerd.log" |
		    grep -o '[0-9.]*:[0-9]*$' | head -1) || true
		[ -n "${B:-}" ] && break
		sleep 0.1
	done
	[ -n "${B:-}" ] || die "no embedded broker address in the log"
	kcat -P -b "$B" -t token-events -X message.timeout.ms=15000 \
	    <"$T/events.jsonl" || die "kcat could not produce"
	echo "loadtest: $NTOK tokens fed through the embedded broker $B"
fi
last=$(tail -n 1 "$T/active.txt")
first_rev=$(head -n 1 "$T/revoked.txt")
for _ in $(seq 300); do
	introspect "$last" 2>/dev/null | grep -q '"active":true' &&
	    introspect "$first_rev" | grep -q '^{"active":false}$' && break
	sleep 0.1
done
introspect "$last" | grep -q '"active":true' || die "tokens not loaded"
introspect "$first_rev" | grep -q '^{"active":false}$' ||
    die "revocations not applied"

# ---- nginx ------------------------------------------------------------------

sed -e "s|@DIR@|$T|g" -e "s|@PORT@|$NPORT|g" \
    "$ROOT/scripts/nginx-bench.conf" >"$T/nginx.conf"
nginx -c "$T/nginx.conf" -p "$T" -e "$T/nginx-error.log" &
NPID=$!
for _ in $(seq 50); do
	curl -fsS -o /dev/null -X POST "http://127.0.0.1:$NPORT/introspect" \
	    2>/dev/null && break
	sleep 0.1
done

# ---- wrk --------------------------------------------------------------------

cat >"$T/introspect.lua" <<EOF
-- POST /introspect, cycling over a mix of 60% active, 20% revoked and
-- 20% unknown raw tokens (each thread from its own offset).
local auth = "Basic $AUTH"
local tokens = {}
local i = 0

local function load(file, n)
	local out = {}
	for line in io.lines(file) do
		out[#out + 1] = line
		if #out >= n then break end
	end
	return out
end

function init(args)
	local act = load("$T/active.txt", 6000)
	local rev = load("$T/revoked.txt", 2000)
	local unk = load("$T/unknown.txt", 1000)
	for k = 1, 6000 do
		local pick = k % 5
		local t
		if pick == 3 then t = rev[(k % #rev) + 1]
		elseif pick == 4 then t = unk[(k % #unk) + 1]
		else t = act[(k % #act) + 1] end
		tokens[#tokens + 1] = "token=" .. t
	end
	i = math.random(#tokens)
end

function request()
	i = i % #tokens + 1
	return wrk.format("POST", "/introspect", {
		["Authorization"] = auth,
		["Content-Type"] = "application/x-www-form-urlencoded",
	}, tokens[i])
end
EOF

# cpu PID...: CPU time (user + system, clock ticks) of the processes.
cpu() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# once URL PID...: one wrk run; prints "rate p99 cpu": requests/s, p99 in
# ms, and the server's CPU time per request in µs (the PIDs' user+system).
once() {
	local url=$1 out c0 c1 n
	shift
	c0=$(cpu "$@")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency \
	    -s "$T/introspect.lua" "$url")
	c1=$(cpu "$@")
	echo "$out" >>"$T/wrk.log"
	n=$(echo "$out" | awk '/requests in/ { print $1 }')
	echo "$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')" \
	    "$(to_ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")" \
	    "$(awk -v c=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%.1f", c / hz * 1e6 / n }')"
}

# median FILE COLUMN: the median of a column of numbers.
median() {
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
	    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else print "nan" }'
}

echo "loadtest: wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) CPUs," \
    "revokerd with $HTTP_THREADS HTTP workers, nginx with 2 workers"
# Rounds alternate between the two servers, so both meet the same noise
# from the rest of the machine; the medians are reported.
: >"$T/nginx.runs"
: >"$T/revokerd.runs"
for r in $(seq "$ROUNDS"); do
	# shellcheck disable=SC2046
	once "http://127.0.0.1:$NPORT/introspect" $(pgrep -P "$NPID") \
	    >>"$T/nginx.runs"
	once "http://127.0.0.1:$DPORT/introspect" "$DPID" >>"$T/revokerd.runs"
	echo "loadtest: round $r: nginx $(tail -n 1 "$T/nginx.runs")," \
	    "revokerd $(tail -n 1 "$T/revokerd.runs") (req/s, p99 ms, CPU µs/req)"
done
nrate=$(median "$T/nginx.runs" 1)
np99=$(median "$T/nginx.runs" 2)
ncpu=$(median "$T/nginx.runs" 3)
drate=$(median "$T/revokerd.runs" 1)
dp99=$(median "$T/revokerd.runs" 2)
dcpu=$(median "$T/revokerd.runs" 3)
grep -E 'Non-2xx|Socket errors' "$T/wrk.log" | sed 's/^/loadtest: /' || true

printf '%-10s %14s %10s %14s\n' "" "requests/s" "p99 ms" "CPU µs/req"
printf '%-10s %14.0f %10s %14s\n' nginx "$nrate" "$np99" "$ncpu"
printf '%-10s %14.0f %10s %14s\n' revokerd "$drate" "$dp99" "$dcpu"
awk -v d="$drate" -v n="$nrate" -v dp="$dp99" -v np="$np99" \
    -v dc="$dcpu" -v nc="$ncpu" 'BEGIN {
	printf "ratio      %13.1f%% %9.2fx %13.2fx\n", 100 * d / n, dp / np,
	    dc / nc }'
