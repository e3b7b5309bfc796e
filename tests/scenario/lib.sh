# Scenario test helpers; sourced (bash) by every tests/scenario/*.sh:
#
#	#!/bin/bash
#	. "$(dirname "$0")/lib.sh"
#	broker_start
#	daemon_start
#	produce "$TOPIC_IN" k1 "$(ev_issued e1 t1)"
#	check "t1 is active" wait_for 10 is_active t1
#	finish
#
# A script runs alone (`BUILD=build tests/scenario/b0002-x.sh`: it starts
# its own broker) or under tests/scenario/run.sh (which starts one broker
# for all and exports BOOTSTRAP). Each script gets a temporary folder $T,
# removed when all checks passed (kept, and named, otherwise or with
# KEEP=1), and topic names of its own ($TOPIC_IN, $TOPIC_OUT, $TOPIC_VIOL,
# $TOPIC_DLQ), passed to the daemon, so scripts sharing a broker never see
# each other's messages. An EXIT/INT/TERM trap stops the daemon and any
# broker the script started, whatever happens.
#
# Every check prints "ok N - what" or "not ok N - what" (and why);
# finish prints "N passed, N failed" and exits non-zero on any failure.
# Lines starting with "# " are comments.
#
# Environment: BUILD (default build), BROKER (kafka, the default; or mock:
# librdkafka's mock cluster in a process of its own, revokerctl broker;
# scripts that stop or restart the broker skip themselves), BOOTSTRAP (use this broker instead of starting one),
# KEEP=1 (keep $T), DAEMON_PORT (the HTTP port; default a free one),
# DAEMON_START_TIMEOUT (20 s), VERBOSE=1 (show the output of passing
# checks too).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
NAME=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/revokerd-$NAME.XXXXXX") ||
    { echo "cannot make a temporary folder" >&2; exit 1; }
NOW=$(date +%s)
ISS=${ISS:-https://idp.example}
EXCHANGE=urn:ietf:params:oauth:grant-type:token-exchange

# Topics of this run only: the script's name and a random tag.
PREFIX=$NAME-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
TOPIC_IN=$PREFIX-token-events
TOPIC_OUT=$PREFIX-token-revocations
TOPIC_VIOL=$PREFIX-delegation-violations
TOPIC_DLQ=$PREFIX-token-events-dlq

# Clients of the default clients file (daemon_start writes it).
ADMIN=admin:admin-secret	# introspect, revoke, admin
RS=rs:rs-secret			# introspect
REV=rev:rev-secret		# introspect, revoke

PASS=0
FAIL=0
NCHECK=0
FINISHED=
DAEMON_PID=
PORT=${DAEMON_PORT:-}
URL=
OWN_KAFKA=

say() { echo "# $*"; }

# _alive PID: the process exists and is no zombie.
_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# _track PID: tell run.sh about a process to kill if this script is killed
# before its trap runs.
_track() {
	[ -n "${SCENARIO_PIDDIR:-}" ] && echo "$1" >>"$SCENARIO_PIDDIR/$NAME"
	return 0
}

_free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- checks ---------------------------------------------------------------

_pass() { PASS=$((PASS + 1)); echo "ok $NCHECK - $1"; }
_fail() { FAIL=$((FAIL + 1)); echo "not ok $NCHECK - $1"; }

# check DESC CMD [ARGS...]: passes when CMD exits 0. CMD's output goes to
# $T/check.out and is shown (its last 20 lines) when the check fails.
check() {
	local desc=$1
	shift
	NCHECK=$((NCHECK + 1))
	if "$@" >"$T/check.out" 2>&1; then
		_pass "$desc"
		[ -n "${VERBOSE:-}" ] && sed 's/^/#   /' "$T/check.out"
	else
		_fail "$desc"
		echo "#   failed: $*"
		tail -n 20 "$T/check.out" | sed 's/^/#   /'
	fi
	return 0
}

# check_eq DESC EXPECTED ACTUAL: passes when the two strings are equal.
check_eq() {
	NCHECK=$((NCHECK + 1))
	if [ "$2" = "$3" ]; then
		_pass "$1"
	else
		_fail "$1"
		echo "#   expected: $(printf %s "$2" | head -c 2000)"
		echo "#   got:      $(printf %s "$3" | head -c 2000)"
	fi
	return 0
}

# check_match DESC REGEX ACTUAL: passes when ACTUAL matches the extended
# regular expression (grep -E) REGEX.
check_match() {
	NCHECK=$((NCHECK + 1))
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		_pass "$1"
	else
		_fail "$1"
		echo "#   expected to match: $2"
		echo "#   got: $(printf %s "$3" | head -c 2000)"
	fi
	return 0
}

# wait_for TIMEOUT CMD [ARGS...]: run CMD every 0.2 s until it exits 0
# (return 0) or TIMEOUT seconds have passed (return 1). For eventual
# outcomes: check "t1 revoked" wait_for 10 is_inactive t1
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# bail MSG: a failure that makes the rest pointless: count it, finish.
bail() {
	NCHECK=$((NCHECK + 1))
	_fail "$*"
	finish
}

# finish: stop what the script started, print "N passed, N failed", exit 0
# only when nothing failed. A daemon that died by itself is a failure.
finish() {
	if [ -n "$DAEMON_PID" ] && ! _alive "$DAEMON_PID"; then
		NCHECK=$((NCHECK + 1))
		_fail "revokerd was still running at the end"
		daemon_log
		DAEMON_PID=
	fi
	FINISHED=1
	_cleanup
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ] && exit 0
	exit 1
}

_cleanup() {
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait_for 10 _dead "$DAEMON_PID" || kill -KILL "$DAEMON_PID"
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
	fi
	if [ -n "$OWN_KAFKA" ]; then
		"$ROOT/scripts/kafka.sh" stop "$T/kafka" >/dev/null 2>&1
		OWN_KAFKA=
	fi
	if [ -n "${MOCK_PID:-}" ]; then
		kill "$MOCK_PID" 2>/dev/null
		wait "$MOCK_PID" 2>/dev/null
		MOCK_PID=
	fi
	if [ "$FAIL" -eq 0 ] && [ -n "$FINISHED" ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	else
		say "kept $T"
	fi
}

_dead() { ! _alive "$1"; }

_on_exit() {
	[ -n "$FINISHED" ] && return
	NCHECK=$((NCHECK + 1))
	_fail "script ended before finish"
	FINISHED=1
	_cleanup
	echo "$PASS passed, $FAIL failed"
	exit 1
}

trap _on_exit EXIT
trap 'say "interrupted"; exit 1' INT TERM HUP

# ---- JSON, with python3 (jq may be missing) -------------------------------

# jget FILE PATH: print the value at PATH (.a.b[0]; "." is the whole
# document) of the JSON document in FILE ("-": stdin): a string as is,
# anything else as compact JSON. Exit 1 if PATH is absent.
jget() {
	python3 - "$1" "$2" <<'EOF'
import json, re, sys
src = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
v = json.load(src)
for key, idx in re.findall(r'\.([^.\[\]]+)|\[(-?\d+)\]', sys.argv[2]):
    try:
        v = v[int(idx)] if idx else v[key]
    except (KeyError, IndexError, TypeError):
        sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
EOF
}

# jpy FILE EXPR: evaluate a Python expression over FILE ("-": stdin),
# which holds one JSON document or JSON lines: L is the list of documents,
# d the first one (None if empty). Prints a string as is, else compact
# JSON; exits 1 when the result is False or None.
#	jpy out.jsonl 'sorted(x["jti"] for x in L)'
#	jpy out.jsonl 'len(L) == 3'
jpy() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
src = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
text = src.read()
try:
    L = [json.loads(text)] if text.strip() else []
except ValueError:
    L = [json.loads(l) for l in text.splitlines() if l.strip()]
d = L[0] if L else None
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, separators=(",", ":")))
sys.exit(1 if r is False or r is None else 0)
EOF
}

# jcol FILE PATH: for JSON lines, PATH of each line (as jget), one a line.
jcol() {
	python3 - "$1" "$2" <<'EOF'
import json, re, sys
src = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
path = re.findall(r'\.([^.\[\]]+)|\[(-?\d+)\]', sys.argv[2])
for line in src:
    if not line.strip():
        continue
    v = json.loads(line)
    for key, idx in path:
        try:
            v = v[int(idx)] if idx else v[key]
        except (KeyError, IndexError, TypeError):
            v = None
            break
    print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))
EOF
}

# ---- events ---------------------------------------------------------------

# ev_issued ID JTI [KEY=VALUE...]: print a token.issued event (one line).
# Defaults: iss=$ISS time=$NOW iat=time exp=time+3600 sub=user-1
# client_id=client-1 grant_type=authorization_code. Keys: v type id time
# iss grant_type (the event); jti hash kind sub client_id aud scope iat nbf
# exp act may_act (the token); subject actor previous (the parents). A
# VALUE starting with { [ " or a digit is JSON (aud='["a","b"]',
# act='{"sub":"a"}', subject='{"iss":"x","jti":"y"}'); KEY=- drops a
# default; extra='{...}' merges raw members into the event.
ev_issued() {
	python3 - "$ISS" "$NOW" "$@" <<'EOF'
import json, sys
iss, now, eid, jti = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kv = dict(a.split("=", 1) for a in sys.argv[5:])
def val(s):
    if s[:1] in '{["-0123456789' and s != "-":
        try:
            return json.loads(s)
        except ValueError:
            pass
    return s
ev = {"v": 1, "type": "token.issued", "id": eid, "time": now, "iss": iss,
      "grant_type": "authorization_code"}
tok = {"jti": jti, "sub": "user-1", "client_id": "client-1"}
parents = {}
for k in ("v", "type", "id", "time", "iss", "grant_type"):
    if k in kv:
        ev[k] = val(kv.pop(k))
t = ev.get("time") if isinstance(ev.get("time"), int) else now
tok["iat"] = t
tok["exp"] = t + 3600
extra = val(kv.pop("extra", "{}"))
for k, s in kv.items():
    dst = parents if k in ("subject", "actor", "previous") else tok
    dst[k] = val(s)
ev["token"] = {k: v for k, v in tok.items() if v != "-"}
parents = {k: v for k, v in parents.items() if v != "-"}
if parents:
    ev["parents"] = parents
ev = {k: v for k, v in ev.items() if v != "-"}
ev.update(extra)
print(json.dumps(ev, separators=(",", ":")))
EOF
}

# ev_revoked ID KIND=VALUE [reason=R] [time=N] [iss=I] [target_iss=I]:
# print a token.revoked event; KIND is jti, sub, client_id or actor.
ev_revoked() {
	python3 - "$ISS" "$NOW" "$@" <<'EOF'
import json, sys
iss, now, eid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kv = dict(a.split("=", 1) for a in sys.argv[4:])
ev = {"v": 1, "type": "token.revoked", "id": eid, "time": now, "iss": iss}
target = {}
for k, s in kv.items():
    if k in ("jti", "sub", "client_id", "actor"):
        target[k] = s
    elif k == "target_iss":
        target["iss"] = s
    elif k in ("time", "v"):
        ev[k] = int(s)
    else:
        ev[k] = s
ev["target"] = target
print(json.dumps(ev, separators=(",", ":")))
EOF
}

# token_hash RAW: base64url (no padding) SHA-256 of a raw token string, as
# the token.hash field wants it.
token_hash() {
	printf %s "$1" | openssl dgst -sha256 -binary | base64 |
	    tr '+/' '-_' | tr -d '=\n'
}

# ---- broker ---------------------------------------------------------------

# broker_start: use the shared broker ($BOOTSTRAP, set by run.sh) or, when
# there is none, start a private one in $T/kafka. Sets BOOTSTRAP.
broker_start() {
	if [ -n "${BOOTSTRAP:-}" ]; then
		say "broker $BOOTSTRAP (shared)"
		return 0
	fi
	if [ "${BROKER:-kafka}" = mock ]; then
		_mock_start
		return
	fi
	broker_start_private
}

# A mock cluster of this script's own (BROKER=mock, no shared broker).
_mock_start() {
	"$BUILD/revokerctl" broker >"$T/mock.addr" 2>"$T/mock.log" &
	MOCK_PID=$!
	_track "$MOCK_PID"
	wait_for 5 test -s "$T/mock.addr" || bail "start revokerctl broker"
	BOOTSTRAP=$(cat "$T/mock.addr")
	export BOOTSTRAP
	say "broker $BOOTSTRAP (librdkafka mock cluster, private)"
}

# broker_start_private: always start a broker of this script's own, in
# $T/kafka (for tests that stop or restart it: broker_stop,
# broker_restart). About 3 s, plus a jar download on the very first run.
broker_start_private() {
	case "${BROKER:-kafka}" in
	kafka) ;;
	mock)
		# The mock cannot be stopped and restarted with its log.
		say "skipped: needs a real Kafka broker (BROKER=mock)"
		echo "0 passed, 0 failed"
		FINISHED=1
		_cleanup
		exit 0 ;;
	*) bail "unknown BROKER=${BROKER}" ;;
	esac
	BOOTSTRAP=$("$ROOT/scripts/kafka.sh" start "$T/kafka") ||
	    bail "start a Kafka broker (scripts/kafka.sh start $T/kafka)"
	OWN_KAFKA=1
	_track "$(cat "$T/kafka/pid")"
	export BOOTSTRAP
	say "broker $BOOTSTRAP (private, $T/kafka)"
}

# broker_stop: stop the private broker (its data stays, for broker_start_
# again / broker_restart). broker_restart: stop, then start it again with
# its data and its address.
broker_stop() {
	[ -n "$OWN_KAFKA" ] || bail "broker_stop: no private broker"
	"$ROOT/scripts/kafka.sh" stop "$T/kafka" >/dev/null
}
broker_restart() {
	[ -n "$OWN_KAFKA" ] || bail "broker_restart: no private broker"
	"$ROOT/scripts/kafka.sh" stop "$T/kafka" >/dev/null
	"$ROOT/scripts/kafka.sh" start "$T/kafka" >/dev/null ||
	    bail "restart the broker"
	_track "$(cat "$T/kafka/pid")"
}

# topic_create NAME PARTITIONS: a topic with that many partitions (the
# broker auto-creates others with 3). About a second (a JVM).
topic_create() {
	KAFKA_BOOTSTRAP=$BOOTSTRAP "$ROOT/scripts/kafka.sh" create-topic \
	    "$1" "$2" "$T/kafka"
}

# topic_ensure NAME...: make sure the topics exist (auto-created with 3
# partitions when missing), waiting up to 10 s.
topic_ensure() {
	local t
	for t in "$@"; do
		wait_for 10 _topic_exists "$t" || return 1
	done
}
_topic_exists() {
	kcat -b "$BOOTSTRAP" -L -m 5 -t "$1" 2>/dev/null |
	    grep -Eq "topic \"$1\" with [1-9][0-9]* partitions"
}

# ---- metrics and outputs (for the fault tests) -----------------------------

# metric NAME: the value of one /metrics series (0 when absent).
metric() {
	http GET /metrics -u "$ADMIN" >/dev/null
	awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$T/body"
}
applied_at_least() { [ "$(metric revokerd_events_applied_total)" -ge "$1" ]; }
drained() { [ "$(metric revokerd_outbox_depth)" = 0 ]; }
revoked_at_least() { [ "$(metric revokerd_tokens_revoked_total)" -ge "$1" ]; }
# fast_wait TIMEOUT CMD...: wait_for at 10 ms steps, to catch a moment.
fast_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.01
	done
}
# revocations OUT: the topic's revocations as "id TAB jti", sorted.
revocations() {
	timeout 60 kcat -C -b "$BOOTSTRAP" -t "$TOPIC_OUT" -o beginning -e -q \
	    -X fetch.wait.max.ms=10 -f '%s\n' 2>/dev/null |
	    python3 -c 'import json, sys
for l in sys.stdin:
    if l.strip():
        d = json.loads(l)
        print(d["id"] + "\t" + d["jti"])' | sort >"$1"
}

# tree PREFIX FILE SIZE: SIZE tokens under PREFIX-0 (fan-out 5).
tree() {
	python3 - "$1" "$2" "$3" "$NOW" "$ISS" <<'PY'
import json, sys
pre, out, n, now, iss = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
with open(out, "w") as f:
    for i in range(n):
        e = {"v": 1, "type": "token.issued", "id": "e-%s-%d" % (pre, i),
             "time": now, "iss": iss, "grant_type": "refresh_token",
             "token": {"jti": "%s-%d" % (pre, i), "sub": "user-1",
                       "client_id": "agent-a", "iat": now, "exp": now + 36000}}
        if i:
            e["parents"] = {"previous": "%s-%d" % (pre, (i - 1) // 5)}
        f.write("%s\t%s\n" % (pre, json.dumps(e, separators=(",", ":"))))
PY
}

# ---- produce and consume (kcat) ---------------------------------------------

# produce TOPIC KEY JSON [PARTITION]: one message. JSON must be one line
# with no tab. KEY may be "" (an empty key).
produce() {
	printf '%s\t%s\n' "$2" "$3" | kcat -P -b "$BOOTSTRAP" -t "$1" \
	    -K '\t' ${4:+-p "$4"} -X message.timeout.ms=15000
}

# produce_file TOPIC FILE [PARTITION]: one message per line of FILE; a line
# "KEY<tab>JSON" has a key, a line with no tab has none.
produce_file() {
	kcat -P -b "$BOOTSTRAP" -t "$1" -K '\t' ${3:+-p "$3"} \
	    -X message.timeout.ms=15000 <"$2"
}

# produce_msg TOPIC FILE [KEY] [PARTITION]: the whole FILE, byte for byte,
# as one message (for payloads with newlines, tabs, binary, big sizes).
produce_msg() {
	kcat -P -b "$BOOTSTRAP" -t "$1" ${3:+-k "$3"} ${4:+-p "$4"} \
	    -X message.timeout.ms=15000 "$2"
}

# consume TOPIC N TIMEOUT [FORMAT]: read TOPIC from its beginning, again
# and again, until it holds at least N messages or TIMEOUT seconds passed;
# print every message then present (FORMAT: kcat -f, default '%s\n', the
# value; '%k\t%s\n' adds the key, '%p ' the partition). Exit 1 on
# timeout, with what was there. N=0: one pass, what is there now. A topic
# that does not exist counts as empty.
#	consume "$TOPIC_OUT" 3 10 >"$T/out.jsonl" || echo short
consume() {
	local topic=$1 n=$2 left fmt=${4:-'%s\n'}
	local deadline=$((SECONDS + ${3:-10})) out=$T/.consume.$BASHPID
	while :; do
		left=$((deadline - SECONDS))
		[ "$left" -lt 2 ] && left=2
		timeout "$left" kcat -C -b "$BOOTSTRAP" -t "$topic" \
		    -o beginning -e -q -X fetch.wait.max.ms=10 -f "$fmt" \
		    >"$out" 2>/dev/null
		if [ "$(wc -l <"$out")" -ge "$n" ] || [ "$n" -eq 0 ]; then
			cat "$out"
			rm -f "$out"
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			cat "$out"
			rm -f "$out"
			return 1
		fi
		sleep 0.3
	done
}

# count TOPIC: how many messages TOPIC holds now.
count() { consume "$1" 0 10 '.\n' | wc -l; }

# ---- the daemon -------------------------------------------------------------

# make_clients FILE [ID:SECRET:ROLES...]: a clients file with SHA-512 crypt
# hashes; with no clients given, the default three ($ADMIN, $RS, $REV).
make_clients() {
	local f=$1 c id secret roles
	shift
	[ $# -eq 0 ] && set -- "$ADMIN:introspect,revoke,admin" \
	    "$RS:introspect" "$REV:introspect,revoke"
	echo "# written by tests/scenario/lib.sh" >"$f"
	for c in "$@"; do
		id=${c%%:*}
		secret=${c#*:}
		secret=${secret%:*}
		roles=${c##*:}
		echo "$id:$(openssl passwd -6 "$secret"):$roles" >>"$f"
	done
}

# daemon_start [FLAGS...]: start $BUILD/revokerd on the broker with this
# script's topics, database $T/db, clients $T/clients (the default file if
# missing), listening on 127.0.0.1:$PORT (a free port, kept across
# restarts), output appended to $T/revokerd.log; wait (up to
# DAEMON_START_TIMEOUT s) for /healthz. Creates the four topics first
# (3 partitions; topic_create before to have others; NO_TOPICS=1: none,
# revokerd creates them). Sets DAEMON_PID, URL.
# Retention is $RETENTION (10 years unless set, or a later --retention
# flag), so the fixed dates of generated logs are not swept under a test
# of something else; the expiry scenarios set their own.
# Bails out (a failure, then finish) if the daemon does not come up.
daemon_start() {
	local deadline
	[ -x "$BUILD/revokerd" ] || bail "no $BUILD/revokerd (make first)"
	[ -n "${BOOTSTRAP:-}" ] || bail "daemon_start before broker_start"
	[ -f "$T/clients" ] || make_clients "$T/clients"
	[ -n "$PORT" ] || PORT=$(_free_port)
	URL=http://127.0.0.1:$PORT
	# NO_TOPICS=1: leave them to revokerd (it creates what is missing).
	[ -n "${NO_TOPICS:-}" ] ||
	    topic_ensure "$TOPIC_IN" "$TOPIC_OUT" "$TOPIC_VIOL" "$TOPIC_DLQ" ||
	    bail "create the topics"
	echo "=== daemon_start $(date +%T) $*" >>"$T/revokerd.log"
	"$BUILD/revokerd" --brokers "$BOOTSTRAP" --db "$T/db" \
	    --listen "127.0.0.1:$PORT" --clients "$T/clients" \
	    --topic-in "$TOPIC_IN" --topic-out "$TOPIC_OUT" \
	    --topic-violations "$TOPIC_VIOL" --topic-dlq "$TOPIC_DLQ" \
	    --retention "${RETENTION:-3650d}" \
	    "$@" </dev/null >>"$T/revokerd.log" 2>&1 &
	DAEMON_PID=$!
	_track "$DAEMON_PID"
	deadline=$((SECONDS + ${DAEMON_START_TIMEOUT:-20}))
	until curl -fsS -o /dev/null --max-time 2 "$URL/healthz" 2>/dev/null
	do
		if ! _alive "$DAEMON_PID"; then
			wait "$DAEMON_PID"
			say "revokerd exited with status $?"
			DAEMON_PID=
			daemon_log
			bail "revokerd starts"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			daemon_log
			bail "revokerd answers /healthz within" \
			    "${DAEMON_START_TIMEOUT:-20} s"
		fi
		sleep 0.1
	done
	say "revokerd pid $DAEMON_PID at $URL"
}

# daemon_stop: SIGTERM, wait (up to 20 s, then SIGKILL), and check that it
# exited with status 0 (a check of its own).
daemon_stop() {
	local rc
	[ -n "$DAEMON_PID" ] || bail "daemon_stop: no daemon"
	kill -TERM "$DAEMON_PID"
	if wait_for 20 _dead "$DAEMON_PID"; then
		wait "$DAEMON_PID"
		rc=$?
	else
		kill -KILL "$DAEMON_PID"
		wait "$DAEMON_PID"
		rc="killed after 20 s"
	fi
	DAEMON_PID=
	check_eq "revokerd exits 0 on SIGTERM" 0 "$rc"
	[ "$rc" = 0 ] || daemon_log
}

# daemon_kill9: SIGKILL (a crash), and reap it.
daemon_kill9() {
	[ -n "$DAEMON_PID" ] || bail "daemon_kill9: no daemon"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# daemon_restart [FLAGS...]: daemon_stop, then daemon_start (same database,
# port and topics).
daemon_restart() { daemon_stop; daemon_start "$@"; }

# daemon_wait_ready [TIMEOUT]: wait for /readyz to answer 200 (the consumer
# caught up); default 20 s.
daemon_wait_ready() {
	wait_for "${1:-20}" curl -fsS -o /dev/null --max-time 2 "$URL/readyz"
}

# daemon_log [N]: show the last N (40) lines of $T/revokerd.log.
daemon_log() {
	say "last lines of $T/revokerd.log:"
	tail -n "${1:-40}" "$T/revokerd.log" 2>/dev/null | sed 's/^/#   /'
}

# ctl ARGS...: run $BUILD/revokerctl.
ctl() { "$BUILD/revokerctl" "$@"; }

# ---- HTTP ---------------------------------------------------------------------

# http METHOD PATH [CURL ARGS...]: print the status code ("000" if no
# answer); the body goes to $T/body, the headers to $T/headers.
#	code=$(http POST /introspect -u "$RS" -d token=t1 -d token_type_hint=jti)
http() {
	local m=$1 p=$2
	shift 2
	curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -X "$m" \
	    --max-time 10 "$@" "$URL$p" 2>/dev/null
	return 0
}

# introspect JTI [AUTH] [ISS]: print the /introspect answer for a jti
# (token_type_hint=jti), as $ADMIN unless AUTH is given; exit 1 unless 200.
introspect() {
	local code
	code=$(http POST /introspect -u "${2:-$ADMIN}" \
	    --data-urlencode "token=$1" -d token_type_hint=jti \
	    ${3:+--data-urlencode "iss=$3"})
	cat "$T/body"
	[ "$code" = 200 ]
}

# introspect_raw TOKEN [AUTH]: the same for a raw token (looked up by hash).
introspect_raw() {
	local code
	code=$(http POST /introspect -u "${2:-$ADMIN}" \
	    --data-urlencode "token=$1")
	cat "$T/body"
	[ "$code" = 200 ]
}

# is_active JTI / is_inactive JTI: exit 0 when /introspect says
# "active": true / exactly {"active":false}. For wait_for.
is_active() {
	introspect "$1" >"$T/.is" && [ "$(jget "$T/.is" .active)" = true ]
}
is_inactive() {
	introspect "$1" >"$T/.is" && jpy "$T/.is" 'd == {"active": False}' \
	    >/dev/null
}

# token_status JTI [ISS]: print the stored status from GET /v1/tokens/JTI
# (active, revoked, expired, pending, denied).
token_status() {
	local code
	code=$(http GET "/v1/tokens/$1${2:+?iss=$2}" -u "$ADMIN")
	[ "$code" = 200 ] && jget "$T/body" .status
}

# ---- three brokers (scripts/kafka.sh start3) ----------------------------------

# broker_start3_private: a cluster of this script's own: three KRaft nodes
# (broker+controller each, node ids 1..3) in $T/kafka/node1..3, replication
# factor 3 and min ISR 2 by default. Sets BOOTSTRAP to the three addresses.
# Skips the script with BROKER=mock, like broker_start_private. About 10 s.
# broker_stop / broker_restart do not apply; _cleanup stops all nodes.
broker_start3_private() {
	local n
	case "${BROKER:-kafka}" in
	kafka) ;;
	mock)
		say "skipped: needs a real Kafka cluster (BROKER=mock)"
		echo "0 passed, 0 failed"
		FINISHED=1
		_cleanup
		exit 0 ;;
	*) bail "unknown BROKER=${BROKER}" ;;
	esac
	OWN_KAFKA=1
	BOOTSTRAP=$("$ROOT/scripts/kafka.sh" start3 "$T/kafka") ||
	    bail "start three Kafka nodes (scripts/kafka.sh start3 $T/kafka)"
	for n in 1 2 3; do _track "$(cat "$T/kafka/node$n/pid")"; done
	export BOOTSTRAP
	say "brokers $BOOTSTRAP (private cluster of 3, $T/kafka)"
}

# broker_kill_node N: SIGKILL node N of the private cluster (a crash; its
# data stays). broker_stop_node N: the same with SIGTERM (a clean stop).
# broker_start_node N: start it again with its data and address; returns
# once it is registered and back in the ISR of its partitions.
broker_kill_node() {
	"$ROOT/scripts/kafka.sh" kill-node "$T/kafka" "$1" >/dev/null
}
broker_stop_node() {
	"$ROOT/scripts/kafka.sh" stop-node "$T/kafka" "$1" >/dev/null
}
broker_start_node() {
	"$ROOT/scripts/kafka.sh" start-node "$T/kafka" "$1" >/dev/null ||
	    return 1
	_track "$(cat "$T/kafka/node$1/pid")"
}

# partition_leader TOPIC PARTITION: the node id that leads it now.
partition_leader() {
	kcat -b "$BOOTSTRAP" -L -m 5 -t "$1" 2>/dev/null |
	    sed -n "s/^ *partition $2, leader \([0-9-]*\),.*/\1/p" | head -n 1
}
