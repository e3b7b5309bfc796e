#!/bin/bash
# Crash soak (issue 10): a generated log (revokerctl gen: exchange chains
# of depth 6 and fan-out 3, refreshes, revocations, attacks, duplicates)
# with a 20,000-token tree whose root is revoked two thirds of the way
# in, fed through a real Kafka broker on one partition (so the apply
# order, and with it every revocation's cause and id, is the log's), is
# applied twice, each by a fresh daemon on its own topics:
# - reference: undisturbed;
# - soak: killed with SIGKILL at $SOAK_KILLS (20) random instants (while
#   it applies batches, inside the large cascade, while it drains the
#   outbox, while it sweeps), restarted on the same database each time.
# Both run with --retention 10d, and the log holds, in three parts (at
# its start, after the tree's revocation, at its end), $SOAK_OLD
# (30,000) tokens that expired a month ago (chains of two, names of
# their own): the sweep forgets them while the rest is applied.  At the end both databases are swept to the same horizon.
# Then the digests are equal, the soak run published every revocation id
# the reference published (duplicates allowed, counted), and it
# dead-lettered exactly what the reference did. Prints the figures: kills,
# duplicates published, time from each restart to the next event applied.
# `make soak` runs it with SOAK_KILLS=100 and a larger log.
. "$(dirname "$0")/lib.sh"

KILLS=${SOAK_KILLS:-20}
EVENTS=${SOAK_EVENTS:-40000}
TREE=${SOAK_TREE:-20000}
OLD=${SOAK_OLD:-30000}
export RETENTION=10d

use_topics() {	# use_topics TAG: this run's own topics
	TOPIC_IN=$PREFIX-$1-token-events
	TOPIC_OUT=$PREFIX-$1-token-revocations
	TOPIC_VIOL=$PREFIX-$1-delegation-violations
	TOPIC_DLQ=$PREFIX-$1-token-events-dlq
}
applied() { metric revokerd_events_applied_total; }
total=$((EVENTS + TREE + 1 + OLD))

# The log's times end now: none of it is near the sweep's horizon.
"$BUILD/revokerctl" gen --seed 7 --events "$EVENTS" --depth 6 --fanout 3 \
    --revoke-share 0.03 --start $((NOW - EVENTS - 3600)) --out "$T/gen" ||
    bail "revokerctl gen"
tree soak "$T/tree" "$TREE"
# old FROM N: tokens from-th to (from+N-1)-th of the old era, each odd one
# exchanged from the one before; exp a month ago, in order.
old() {
	python3 - "$ISS" "$NOW" "$1" "$2" <<'PY'
import json, sys
iss, now, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4])
for i in range(first, first + n):
    t = now - 30 * 86400 - 3600 + i
    e = {"v": 1, "type": "token.issued", "id": "e-old-%d" % i, "time": t,
         "iss": iss, "grant_type": "client_credentials",
         "token": {"jti": "old-%d" % i, "sub": "old-svc-%d" % (i // 2),
                   "client_id": "old-client", "iat": t, "exp": t + 3600}}
    if i % 2:
        e["token"]["exp"] -= 1	# no longer than its parent
        e["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange"
        e["token"]["act"] = {"sub": "old-agent"}
        e["parents"] = {"subject": "old-%d" % (i - 1)}
    print(json.dumps(e, separators=(",", ":")))
PY
}
cut=$((EVENTS * 2 / 3))
third=$((OLD / 3))
{
	old 0 "$third"
	head -n "$cut" "$T/gen"
	cut -f2 "$T/tree"
	ev_revoked e-soak-root jti=soak-0 reason=compromised \
	    time=$((NOW + 10))
	old "$third" "$third"
	tail -n +$((cut + 1)) "$T/gen"
	old $((2 * third)) $((OLD - 2 * third))
} >"$T/events"
say "log: $(wc -l <"$T/events") events, $(wc -c <"$T/events") bytes"

broker_start

# feed TAG: fresh topics (one partition) and database, the log produced.
feed() {
	use_topics "$1"
	rm -rf "$T/db"
	check "$1: an input topic of one partition" topic_create "$TOPIC_IN" 1
	check "$1: produce the log" produce_file "$TOPIC_IN" "$T/events"
}
# settle TAG: wait for the whole log to be applied, published, and the
# old era swept (its last token the last to go).
old_gone() { [ -z "$(token_status "old-$((OLD - 1))")" ]; }
settle() {
	check "$1: caught up" daemon_wait_ready 300
	check "$1: outbox drained" wait_for 300 drained
	check "$1: the old era is swept" wait_for 120 old_gone
	daemon_stop
	revocations "$T/rev-$1"
	consume "$TOPIC_DLQ" 0 10 '%o %s\n' | python3 -c 'import json, sys
for l in sys.stdin:
    if l.strip():
        d = json.loads(l.split(" ", 1)[1])
        print(d["offset"], d["error"])' | sort -u >"$T/dlq-$1"
}

t0=$SECONDS
feed ref
daemon_start --batch 500
settle ref
mv "$T/db" "$T/db-ref"
say "reference: $((SECONDS - t0)) s, $(wc -l <"$T/rev-ref") revocations," \
    "$(wc -l <"$T/dlq-ref") dead letters"

t0=$SECONDS
feed soak
kills=0 recover="" swept=0
# the sweep has work: a token kept expired more than --retention ago
sweeping() {
	[ "$(metric revokerd_sweep_oldest_expired_seconds)" -gt 864000 ]
}
RANDOM=42
while [ "$kills" -lt "$KILLS" ]; do
	# time to recover: from the restart to the first event applied
	# (or to ready, once everything is applied)
	s=$(date +%s.%N)
	daemon_start --batch 500
	fast_wait 30 eval '[ "$(applied)" -gt 0 ] ||
	    curl -fs -o /dev/null "$URL/readyz"'
	recover="$recover $(awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
	if [ $((kills % 4)) = 3 ]; then
		# aim at a sweep: while it has old tokens to forget
		fast_wait 5 sweeping
	else
		sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
		[ $((RANDOM % 3)) = 0 ] && sleep 1
	fi
	sweeping && swept=$((swept + 1))
	daemon_kill9
	kills=$((kills + 1))
done
say "$kills kills in $((SECONDS - t0)) s, $swept of them while the" \
    "sweep was forgetting the old era"
say "time from each restart to its first event applied (s):$recover"
daemon_start --batch 500
settle soak
say "soak: $((SECONDS - t0)) s, $(wc -l <"$T/rev-soak") revocation messages"

check "sweep both to the same horizon" eval 'ctl sweep --db "$T/db-ref" \
    --retention 10d && ctl sweep --db "$T/db" --retention 10d'
check "the old era is gone from both" eval '! ctl show --db "$T/db" \
    --iss "$ISS" old-0 && ! ctl show --db "$T/db-ref" --iss "$ISS" old-1'
check_eq "same digest as the undisturbed run" \
    "$(ctl digest --db "$T/db-ref" 2>&1)" "$(ctl digest --db "$T/db" 2>&1)"
comm -23 <(cut -f1 "$T/rev-ref" | sort -u) <(cut -f1 "$T/rev-soak" | sort -u) \
    >"$T/missing"
check_eq "every revocation id of the reference was published" 0 \
    "$(wc -l <"$T/missing")"
check_eq "no revocation id the reference did not publish" \
    "$(cut -f1 "$T/rev-ref" | sort -u | md5sum)" \
    "$(cut -f1 "$T/rev-soak" | sort -u | md5sum)"
check "the big tree's $TREE tokens were revoked" \
    test "$(grep -c $'\tsoak-' "$T/rev-ref")" -ge "$TREE"
dups=$(( $(wc -l <"$T/rev-soak") - $(cut -f1 "$T/rev-soak" | sort -u | wc -l) ))
say "duplicates published across $kills kills: $dups"
check_eq "dead-lettered exactly what the reference did" \
    "$(md5sum <"$T/dlq-ref")" "$(md5sum <"$T/dlq-soak")"
finish
