#!/bin/bash
# Expiry (SPEC 6, --retention; issue 10): with --retention 2s the sweep
# forgets tokens that expired, with their edges and indexes, while a
# live token, a rule and a remembered revocation stay; a late issuance
# covered by either is still born revoked after the sweep; the database
# stays flat over rounds of short-lived tokens; and a replay swept to
# the same horizon has the daemon's digest.
. "$(dirname "$0")/lib.sh"

broker_start
RETENTION=2s daemon_start --profile off

OLD=$((NOW - 7200))	# minted two hours ago, expired an hour ago
# The longest lifetime first (4 h), so the sweep's horizon of a rule is
# the same whenever it runs; t-rooted's revocation before its issuance.
cat >"$T/events" <<EOF2
u	$(ev_issued e-live t-live sub=alice exp=$((NOW + 14400)))
u	$(ev_issued e-p t-parent sub=bob time=$OLD exp=$((NOW - 3600)))
u	$(ev_issued e-c t-child sub=bob time=$OLD exp=$((NOW - 3600)) \
    grant_type=$EXCHANGE act='{"sub":"agent"}' subject=t-parent)
u	$(ev_revoked e-rr jti=t-rooted time=$((NOW - 60)))
u	$(ev_revoked e-rule sub=dave time=$((NOW - 60)))
EOF2
check "produce the first events" produce_file "$TOPIC_IN" "$T/events"
check "they are applied" wait_for 20 applied_at_least 5
# t-rooted only once its revocation is in (the producer may reorder a
# retried message): born revoked, never swept unrevoked first
check "produce t-rooted" produce "$TOPIC_IN" u \
    "$(ev_issued e-r t-rooted sub=carol time=$OLD exp=$((NOW - 3600)))"
check "all applied" wait_for 20 applied_at_least 6
swept() { [ "$(metric 'revokerd_swept_total{what="tokens"}')" -ge "$1" ]; }
check "the two expired tokens are forgotten" wait_for 20 swept 2
# t-rooted, revoked first (so whenever the sweep runs), is born revoked;
# it waits for its message to be out (a new broker may take a while to
# give the producer its id)
check "its revocation is published" wait_for 60 drained
check "the expired revoked one is kept as a revocation" wait_for 60 \
    test "$(metric 'revokerd_swept_total{what="revoked_kept"}')" -ge 1
check_eq "t-parent is unknown" "" "$(token_status t-parent)"
check_eq "GET /v1/tokens/t-child answers 404" 404 \
    "$(http GET /v1/tokens/t-child -u "$ADMIN")"
check_eq "t-live is kept" active "$(token_status t-live)"
check "t-rooted answers inactive" is_inactive t-rooted
ctl show --db "$T/db" --iss "$ISS" t-rooted >"$T/show-rooted" 2>&1
check "show: t-rooted is a remembered revocation" grep -q \
    '^status     revoked (not issued: a placeholder)' "$T/show-rooted"
check "oldest expired token kept: none" \
    test "$(metric revokerd_sweep_oldest_expired_seconds)" = 0
say "sweep transactions: $(metric revokerd_sweep_slices_total)," \
    "the longest $(metric revokerd_sweep_slice_seconds_max) s"

# Late issuances, after the sweep: both born revoked.
cat >"$T/late" <<EOF2
u	$(ev_issued e-l1 t-late-child sub=erin time=$((NOW - 5000)) \
    exp=$((NOW + 3000)) subject=t-rooted grant_type=$EXCHANGE \
    act='{"sub":"agent"}')
u	$(ev_issued e-l2 t-late-dave sub=dave time=$((NOW - 300)) \
    exp=$((NOW + 3000)))
u	$(ev_issued e-l3 t-later-dave sub=dave time=$((NOW - 10)) \
    exp=$((NOW + 3000)))
EOF2
check "produce late issuances" produce_file "$TOPIC_IN" "$T/late"
check "late issuances applied" wait_for 20 applied_at_least 9
check_eq "a late child of a swept revoked token is born revoked" revoked \
    "$(token_status t-late-child)"
check_eq "a late token under a rule is born revoked" revoked \
    "$(token_status t-late-dave)"
check_eq "one minted after the rule is not" active \
    "$(token_status t-later-dave)"
check "introspection says so" is_inactive t-late-dave
ctl show --db "$T/db" t-late-child >"$T/show" 2>&1
check "show names the remembered parent" grep -q \
    'parent     subject  t-rooted revoked (a remembered revocation' \
    "$T/show"

# Rounds of short-lived tokens: the size levels off.
rounds=8
per=3000
: >"$T/sizes"
for r in $(seq 1 $rounds); do
	python3 - "$ISS" "$NOW" "$r" "$per" >"$T/round" <<'EOF'
import json, sys
iss, now, r, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    ev = {"v": 1, "type": "token.issued", "id": "e-%d-%d" % (r, i),
          "time": now - 60, "iss": iss, "grant_type": "client_credentials",
          "token": {"jti": "r%d-%d" % (r, i), "sub": "svc-%d" % (i % 50),
                    "client_id": "svc-%d" % (i % 50), "iat": now - 60,
                    "exp": now - 30}}
    print("k%d\t%s" % (i % 7, json.dumps(ev, separators=(",", ":"))))
EOF
	produce_file "$TOPIC_IN" "$T/round" || break
	want=$((9 + r * per))
	wait_for 60 applied_at_least "$want" || break
	wait_for 60 swept $((2 + r * per)) || break
	# the size gauges are read once a second
	wait_for 5 test "$(metric revokerd_db_tokens)" -le 20
	echo "$(metric revokerd_db_bytes) $(metric revokerd_db_tokens)" \
	    >>"$T/sizes"
done
say "sweep transactions: $(metric revokerd_sweep_slice_seconds_count)," \
    "$(metric 'revokerd_sweep_slice_seconds_bucket{le="0.001000"}') of" \
    "them within 1 ms, $(metric \
    'revokerd_sweep_slice_seconds_bucket{le="0.000500"}') within 0.5 ms;" \
    "the longest $(metric revokerd_sweep_slice_seconds_max) s"
say "db bytes, token records per round: $(tr '\n' ';' <"$T/sizes")"
check_eq "every round applied and swept" $rounds "$(wc -l <"$T/sizes")"
check "the size stays flat (last round within 10% of round 3)" \
    awk 'NR == 3 { b = $1 } END { exit !($1 <= b * 1.1) }' "$T/sizes"
check "token records stay at the live ones" \
    awk '{ if ($2 > 20) exit 1 }' "$T/sizes"
check "event ids of expired tokens are forgotten too" \
    test "$(metric 'revokerd_swept_total{what="events"}')" -ge \
    $((rounds * per))

# A replay of the same log, swept to the same horizon, has the digest.
daemon_stop
consume "$TOPIC_IN" 0 10 >"$T/log.jsonl"
check "replay the log" ctl replay --db "$T/replay" --profile off \
    --file "$T/log.jsonl"
check "sweep the replay" ctl sweep --db "$T/replay" --retention 2s
check "sweep the daemon's database the same way" \
    ctl sweep --db "$T/db" --retention 2s
check_eq "the digests are equal" "$(ctl digest --db "$T/replay")" \
    "$(ctl digest --db "$T/db")"
finish
