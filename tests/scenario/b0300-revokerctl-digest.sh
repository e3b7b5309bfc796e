#!/bin/bash
# revokerctl, no broker: a generated log with 4 partitions, replayed whole
# (batches of 1000, and of 1) and with its partitions interleaved in three
# random orders (each partition's own order kept), gives one digest; the
# outbox is cleared; replay refuses a non-empty database; stats counts
# what the log issued; show and tree work and tree --dot is valid DOT.
. "$(dirname "$0")/lib.sh"

[ -x "$BUILD/revokerctl" ] || bail "no $BUILD/revokerctl (make first)"
EVENTS=${EVENTS:-12000}

check "gen writes $EVENTS events on 4 partitions" \
    ctl gen --seed 300 --events "$EVENTS" --partitions 4 \
    --attack-share 0.03 --revoke-share 0.04 --dup-share 0.01 \
    --out "$T/parts.tsv"
cut -f2- "$T/parts.tsv" >"$T/whole.jsonl"
check_eq "every line has a partition 0..3" "0 1 2 3" \
    "$(cut -f1 "$T/parts.tsv" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check "gen is deterministic" cmp -s "$T/parts.tsv" \
    <(ctl gen --seed 300 --events "$EVENTS" --partitions 4 \
    --attack-share 0.03 --revoke-share 0.04 --dup-share 0.01)

# interleave SEED OUT: the partitions of parts.tsv merged in a random
# order that keeps each partition's own order.
interleave() {
	python3 - "$T/parts.tsv" "$1" >"$2" <<'EOF'
import random, sys
parts = {}
for line in open(sys.argv[1]):
    p, ev = line.split("\t", 1)
    parts.setdefault(p, []).append(ev)
rng = random.Random(int(sys.argv[2]))
pos = {p: 0 for p in parts}
left = [p for p in parts for _ in parts[p]]
rng.shuffle(left)
for p in left:
    sys.stdout.write(parts[p][pos[p]])
    pos[p] += 1
EOF
}

# replay_digest NAME FILE [FLAGS...]: replay FILE into $T/NAME, print the
# digest.
replay_digest() {
	local name=$1 file=$2
	shift 2
	ctl replay --db "$T/$name" --file "$file" "$@" \
	    >"$T/$name.out" 2>&1 || { cat "$T/$name.out"; return 1; }
	ctl digest --db "$T/$name"
}

d1000=$(replay_digest b1000 "$T/whole.jsonl" --batch 1000)
check_match "digest is 64 hex digits" '^[0-9a-f]{64}$' "$d1000"
check_eq "batch 1 gives the digest of batch 1000" "$d1000" \
    "$(replay_digest b1 "$T/whole.jsonl" --batch 1)"
for seed in 1 2 3; do
	interleave "$seed" "$T/inter$seed.jsonl"
	check "interleaving $seed is another order" \
	    bash -c "! cmp -s '$T/inter$seed.jsonl' '$T/whole.jsonl'"
	check_eq "interleaving $seed gives the same digest" "$d1000" \
	    "$(replay_digest inter$seed "$T/inter$seed.jsonl" --batch 250)"
done

head -n $((EVENTS / 2)) "$T/whole.jsonl" >"$T/half.jsonl"
dhalf=$(replay_digest half "$T/half.jsonl")
check "half of the log gives another digest" \
    test -n "$dhalf" -a "$dhalf" != "$d1000"
daudit=$(replay_digest audit "$T/whole.jsonl" --profile audit)
check "--profile audit gives another digest (no token denied)" \
    test -n "$daudit" -a "$daudit" != "$d1000"

ctl stats --db "$T/b1000" >"$T/stats"
issued=$(python3 -c '
import json, sys
print(len({json.loads(l)["token"]["jti"] for l in open(sys.argv[1])
    if "\"token.issued\"" in l}))' "$T/whole.jsonl")
check_match "stats counts every token the log issued" \
    "^tokens +$issued issued" "$(cat "$T/stats")"
check_match "the attacks left denied tokens" '^  denied +[1-9]' \
    "$(cat "$T/stats")"
check_match "the revocations left revoked tokens" '^  revoked +[1-9]' \
    "$(cat "$T/stats")"
check_match "replay cleared the outbox" '^outbox +0 entries' \
    "$(cat "$T/stats")"
check_match "replay summary counts duplicates" '[1-9][0-9]* duplicates' \
    "$(cat "$T/b1000.out")"

check "replay refuses a database that is not empty" \
    bash -c "! '$BUILD/revokerctl' replay --db '$T/b1000' \
    --file '$T/half.jsonl' 2>'$T/refuse.err'"
check_match "and says why" 'not empty' "$(cat "$T/refuse.err")"
check "replay --force applies on top" ctl replay --db "$T/b1000" \
    --file "$T/half.jsonl" --force
check_eq "events already applied change nothing" "$d1000" \
    "$(ctl digest --db "$T/b1000")"
check "--keep-outbox keeps the outbox" bash -c \
    "'$BUILD/revokerctl' replay --db '$T/keep' --file '$T/whole.jsonl' \
    --keep-outbox >/dev/null && '$BUILD/revokerctl' stats --db '$T/keep' |
    grep -Eq '^outbox +[1-9]'"

root=$(sed -nE 's/^max fan-out +[0-9]+ children \((.*)\)$/\1/p' "$T/stats")
check "stats names the largest fan-out" test -n "$root"
check_match "show prints the status" \
    '^status +(active|expired|pending|denied|revoked)' \
    "$(ctl show --db "$T/b1000" "$root")"
ctl tree --db "$T/b1000" "$root" >"$T/tree.txt"
check_match "tree starts at the token" "^\[[AEPDR-]\] $root" \
    "$(head -n 1 "$T/tree.txt")"
check "tree lists its children" test "$(wc -l <"$T/tree.txt")" -gt 1
ctl tree --db "$T/b1000" "$root" --dot >"$T/tree.dot"
check "tree --dot is accepted by dot -Tsvg" \
    dot -Tsvg -o "$T/tree.svg" "$T/tree.dot"
check_eq "the DOT graph has a node per token of the tree" \
    "$(grep -c 'label=".*\\n' "$T/tree.dot")" \
    "$(grep -vc 'see above' "$T/tree.txt")"
check "the SVG draws the nodes" test \
    "$(grep -c 'class="node"' "$T/tree.svg")" -gt 1
check "show of an unknown jti fails" \
    bash -c "! '$BUILD/revokerctl' show --db '$T/b1000' no-such-jti"

finish
