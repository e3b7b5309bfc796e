#!/bin/bash
# revokerctl replay --brokers: a generated log produced to a 4-partition
# topic (each event to the partition gen chose) and replayed from Kafka
# gives the digest of the same log replayed from a file; a second replay
# from Kafka with --force changes nothing; and revokerd, consuming the
# same topic, reaches that very state (digest, stats and show read its
# database while it runs) and publishes the revocations that
# `revokerctl replay --publish-to FILE` writes for the log (the drain
# through the JSONL file sink instead of Kafka).
. "$(dirname "$0")/lib.sh"

[ -x "$BUILD/revokerctl" ] || bail "no $BUILD/revokerctl (make first)"
EVENTS=${EVENTS:-5000}
broker_start
topic=$TOPIC_IN

check "gen writes $EVENTS events on 4 partitions" \
    ctl gen --seed 301 --events "$EVENTS" --partitions 4 \
    --attack-share 0.03 --revoke-share 0.04 --dup-share 0.01 \
    --out "$T/parts.tsv"
cut -f2- "$T/parts.tsv" >"$T/whole.jsonl"
check "create $topic with 4 partitions" topic_create "$topic" 4
for p in 0 1 2 3; do
	sed -n "s/^$p\t//p" "$T/parts.tsv" >"$T/p$p.jsonl"
	check "produce partition $p" produce_file "$topic" "$T/p$p.jsonl" "$p"
done
check_eq "the topic holds the log" "$EVENTS" "$(count "$topic")"

check "replay from the file" ctl replay --db "$T/file" \
    --file "$T/whole.jsonl"
check "replay from Kafka" ctl replay --db "$T/kafka" --brokers "$BOOTSTRAP" \
    --topic "$topic" --batch 500
want=$(ctl digest --db "$T/file")
check_match "a digest" '^[0-9a-f]{64}$' "$want"
check_eq "Kafka and file replays agree" "$want" \
    "$(ctl digest --db "$T/kafka")"
check "replay from Kafka again, --force" ctl replay --db "$T/kafka" \
    --brokers "$BOOTSTRAP" --topic "$topic" --force
check_eq "applying the log twice changes nothing" "$want" \
    "$(ctl digest --db "$T/kafka")"
check "a topic that does not exist fails" bash -c \
    "! '$BUILD/revokerctl' replay --db '$T/none' --brokers '$BOOTSTRAP' \
    --topic '$PREFIX-absent' >/dev/null 2>&1"

daemon_start
check "revokerd catches up with the topic" daemon_wait_ready 120
check "revokerctl stats reads the live database" ctl stats --db "$T/db"
check_eq "revokerd reached the replayed state" "$want" \
    "$(ctl digest --db "$T/db")"
check_match "show reads the live database" '^status ' \
    "$(ctl show --db "$T/db" t-0)"
check "revokerd publishes every revocation" wait_for 60 drained
revocations "$T/daemon.rev"
daemon_stop

check "replay --publish-to writes the history's outputs" \
    ctl replay --db "$T/pub" --file "$T/whole.jsonl" \
    --publish-to "$T/pub.jsonl"
python3 -c 'import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["topic"] == "token-revocations":
        assert d["message"]["type"] == "token.revoked", l
        assert d["key"] == d["message"]["jti"], l
        print(d["message"]["jti"])' "$T/pub.jsonl" |
    sort >"$T/pub.rev"
check "the file holds revocations" test -s "$T/pub.rev"
check_eq "one line per revoked token, as revokerd published" \
    "$(wc -l <"$T/daemon.rev")" "$(wc -l <"$T/pub.rev")"
check "the same tokens as revokerd published" \
    cmp -s "$T/pub.rev" <(cut -f2 "$T/daemon.rev" | sort)
check_match "and the outbox is left empty" 'outbox +0 entries' \
    "$(ctl stats --db "$T/pub")"
check "--publish-to a full disk fails after 10 s without progress" \
    bash -c "! timeout 60 '$BUILD/revokerctl' replay --db '$T/full' \
    --file '$T/whole.jsonl' --publish-to /dev/full >/dev/null 2>&1"
check_match "and keeps the outbox entries it could not write" \
    'outbox +[1-9][0-9]* entries' "$(ctl stats --db "$T/full")"

finish
