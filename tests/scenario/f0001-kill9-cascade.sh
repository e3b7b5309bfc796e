#!/bin/bash
# kill -9 in the middle of a large cascade (SPEC section 3: "no revocation
# is ever lost, across crashes"; README: effects, offsets and outbox commit
# in one LMDB transaction).
#
# A log of $N tokens under one root (a tree of fan-out 4 through subject,
# previous and actor edges, some tokens with a second parent outside the
# tree) plus $M unrelated tokens, spread over the 3 partitions by key (so
# children often arrive before their parents), is fed twice, each time to
# a fresh daemon with fresh topics and database, then the root is
# revoked:
# - reference: the daemon runs to the end undisturbed;
# - crash: the daemon is killed with SIGKILL right after the revocation is
#   produced (before or while it applies it), restarted on the same --db,
#   killed again as soon as it has applied the revocation (its cascade
#   committed, nothing published yet), restarted, killed again as soon as it has published some of
#   the revocations (mid-drain), and restarted again.
# Then: both databases have the same digest (revokerctl digest) and the
# same counts by status (revokerctl stats); the set of distinct revocation
# ids published is the same in both runs (duplicates allowed in the crash
# run), one id per tree token, each tree token revoked exactly once in it;
# the unrelated tokens are active; nothing is dead-lettered.
. "$(dirname "$0")/lib.sh"

N=${F0001_TOKENS:-30000}	# tokens under the root, root included
M=1000				# tokens outside the tree

revoked_some() { [ "$(metric revokerd_tokens_revoked_total)" -gt 0 ]; }
published_some() {
	[ "$(metric 'revokerd_published_total{topic="revocations"}')" -gt 0 ]
}
distinct_at_least() {	# distinct_at_least N: the topic holds N distinct ids
	revocations "$T/.rev"
	[ "$(cut -f1 "$T/.rev" | sort -u | wc -l)" -ge "$1" ]
}
use_topics() {	# use_topics TAG: this run's own topics
	TOPIC_IN=$PREFIX-$1-token-events
	TOPIC_OUT=$PREFIX-$1-token-revocations
	TOPIC_VIOL=$PREFIX-$1-delegation-violations
	TOPIC_DLQ=$PREFIX-$1-token-events-dlq
}

python3 - "$T/events" "$N" "$M" "$NOW" "$ISS" <<'PY'
import json, sys
out, n, m, now, iss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
def ev(i, jti, parents):
    e = {"v": 1, "type": "token.issued", "id": "e-" + jti, "time": now,
         "iss": iss, "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
         "token": {"jti": jti, "sub": "user-%d" % (i % 97),
                   "client_id": "agent-%d" % (i % 13), "aud": "rs",
                   "iat": now, "exp": now + 36000}}
    if parents:
        e["parents"] = parents
    return e
with open(out, "w") as f:
    for i in range(n):
        jti = "t-%d" % i
        p = {}
        if i > 0:
            kind = ("subject", "previous", "actor")[i % 3]
            p[kind] = "t-%d" % ((i - 1) // 4)
            if i % 10 == 0:		# a second parent outside the tree
                other = "actor" if kind != "actor" else "subject"
                p[other] = "o-%d" % (i % m)
        f.write("k%d\t%s\n" % (i % 11, json.dumps(ev(i, jti, p),
                separators=(",", ":"))))
    for i in range(m):
        p = {"subject": "o-%d" % ((i - 1) // 4)} if i > 0 else {}
        f.write("k%d\t%s\n" % (i % 11, json.dumps(ev(i, "o-%d" % i, p),
                separators=(",", ":"))))
PY
say "$N tree tokens, $M others: $(wc -c <"$T/events") bytes of events"
REVOKE=$(ev_revoked e-rev-root jti=t-0 reason=compromised time=$((NOW + 10)))

broker_start

# feed TAG: a fresh daemon on fresh topics and $T/db, the whole log applied.
feed() {
	use_topics "$1"
	rm -rf "$T/db"
	daemon_start --profile off
	check "$1: produce the log" produce_file "$TOPIC_IN" "$T/events"
	check "$1: all $((N + M)) issuances applied" \
	    wait_for 120 applied_at_least $((N + M))
	check_eq "$1: no token revoked yet" 0 "$(count "$TOPIC_OUT")"
}

# --- reference
t0=$SECONDS
feed ref
check "ref: produce the root's revocation" produce "$TOPIC_IN" k0 "$REVOKE"
check "ref: $N revocations published" wait_for 120 distinct_at_least "$N"
check "ref: outbox drained" wait_for 30 drained
check "ref: t-0 inactive" is_inactive t-0
check "ref: a leaf, t-$((N - 1)), inactive" is_inactive "t-$((N - 1))"
check "ref: an outside token, o-$((M - 1)), active" is_active "o-$((M - 1))"
daemon_stop
revocations "$T/rev-ref"
check_eq "ref: exactly $N messages" "$N" "$(wc -l <"$T/rev-ref")"
mv "$T/db" "$T/db-ref"
say "reference run: $((SECONDS - t0)) s"

# --- crash
t0=$SECONDS
feed crash
check "crash: produce the root's revocation" produce "$TOPIC_IN" k0 "$REVOKE"
daemon_kill9
say "first SIGKILL, right after the revocation was produced"
daemon_start --profile off
check "crash: the cascade is applied" fast_wait 60 revoked_some
daemon_kill9
revocations "$T/rev-kill1"
say "second SIGKILL: $(wc -l <"$T/rev-kill1") revocations in the topic"
check "crash: the second kill came before the cascade was all published" \
    eval '[ "$(wc -l <"$T/rev-kill1")" -lt "$N" ]'
daemon_start --profile off
check "crash: after a restart, some revocations published" \
    fast_wait 60 published_some
daemon_kill9
revocations "$T/rev-kill2"
say "third SIGKILL: $(wc -l <"$T/rev-kill2") revocations in the topic"
daemon_start --profile off
check "crash: after the restart, $N distinct revocations" \
    wait_for 120 distinct_at_least "$N"
check "crash: outbox drained" wait_for 30 drained
check "crash: t-0 inactive" is_inactive t-0
check "crash: a leaf, t-$((N - 1)), inactive" is_inactive "t-$((N - 1))"
check "crash: an outside token, o-$((M - 1)), active" is_active "o-$((M - 1))"
daemon_stop
revocations "$T/rev-crash"
say "crash run: $((SECONDS - t0)) s, $(wc -l <"$T/rev-crash") messages"

# --- compare
check_eq "same digest" "$(ctl digest --db "$T/db-ref" 2>&1)" \
    "$(ctl digest --db "$T/db" 2>&1)"
ctl stats --db "$T/db-ref" >"$T/stats-ref" 2>&1
ctl stats --db "$T/db" >"$T/stats-crash" 2>&1
# (sizes aside, and which token of equal fan-out is named: ids are given
# in order of arrival)
check_eq "same revokerctl stats (counts by status, edges, events, depth)" \
    "$(grep -v '^database' "$T/stats-ref" | sed 's/^\(max fan-out.*\) (.*)/\1/')" \
    "$(grep -v '^database' "$T/stats-crash" | sed 's/^\(max fan-out.*\) (.*)/\1/')"
check_match "stats: $((N + M)) tokens, $M active, $N revoked" \
    "tokens +$((N + M)) issued.* active +$M .* revoked +$N\$" \
    "$(tr '\n' ' ' <"$T/stats-crash" | sed 's/ placeholders.*//')"
check_eq "same set of revocation ids" \
    "$(cut -f1 "$T/rev-ref" | sort -u | md5sum)" \
    "$(cut -f1 "$T/rev-crash" | sort -u | md5sum)"
check_eq "crash: one jti per id, one id per jti, $N tree tokens" \
    "$N $N $N" \
    "$(sort -u "$T/rev-crash" | wc -l) $(cut -f1 "$T/rev-crash" | sort -u | wc -l) $(cut -f2 "$T/rev-crash" | sort -u | wc -l)"
check_eq "crash: the revoked are exactly t-0 .. t-$((N - 1))" \
    "$(seq 0 $((N - 1)) | sed 's/^/t-/' | sort | md5sum)" \
    "$(cut -f2 "$T/rev-crash" | sort -u | md5sum)"
check_eq "nothing dead-lettered (either run)" "0 0" \
    "$(use_topics ref; count "$TOPIC_DLQ") $(use_topics crash; count "$TOPIC_DLQ")"

finish
