#!/bin/bash
# Bad input goes to the dead-letter topic and consumption goes on (SPEC
# section 2, "Bad input"). On one partition, each bad message is followed
# by a good issuance: garbage (invalid_json), an event over 64 KiB
# (too_large), bytes that are not UTF-8 (invalid_json; the exact bytes in
# payload_b64, README), a duplicate key (invalid_json), "v":2
# (bad_version), a missing exp (missing_field), an unknown type
# (unknown_type). Each dead letter carries the error, the topic, partition
# and offset of the message, and its original payload; every good event
# after a bad one is applied; an event of exactly 64 KiB is accepted.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

good() { ev_issued "e-good-$1" "t-good-$1" sub=user-1 client_id=webapp; }
n=0
# bad NAME ERROR FILE: produce FILE (a bad message) then good event n.
declare -a NAMES ERRORS FILES
bad() {
	NAMES[n]=$1 ERRORS[n]=$2 FILES[n]=$3
	check "produce $1 to partition 0" produce_msg "$TOPIC_IN" "$3" k 0
	good "$n" >"$T/good-$n"
	check "produce good event $n after it" produce_msg "$TOPIC_IN" \
	    "$T/good-$n" k 0
	n=$((n + 1))
}

printf 'this is not JSON {' >"$T/garbage"
bad garbage invalid_json "$T/garbage"

python3 - "$T/oversize" <<'PY'
import json, sys
ev = {"v": 1, "type": "token.revoked", "id": "e-big", "time": 1, "iss": "x",
      "target": {"jti": "t-good-0"}, "pad": "p" * 70000}
open(sys.argv[1], "w").write(json.dumps(ev))
PY
bad "an event of $(wc -c <"$T/oversize") bytes" too_large "$T/oversize"

ev_revoked e-utf jti=t-good-0 | sed 's/t-good-0/t-good-\xff\xfe/' | tr -d '\n' \
    >"$T/notutf8"
bad "non-UTF-8 bytes" invalid_json "$T/notutf8"

ev_revoked e-dup jti=t-good-0 | sed 's/"target"/"type":"token.revoked","target"/' |
    tr -d '\n' >"$T/dupkey"
bad "a duplicate key" invalid_json "$T/dupkey"

ev_revoked e-v2 jti=t-good-0 v=2 | tr -d '\n' >"$T/v2"
bad '"v":2' bad_version "$T/v2"

ev_issued e-noexp t-noexp exp=- | tr -d '\n' >"$T/noexp"
bad "an issuance without exp" missing_field "$T/noexp"

ev_revoked e-type jti=t-good-0 type=token.refreshed | tr -d '\n' >"$T/type"
bad "an unknown type" unknown_type "$T/type"

# An event of exactly 65536 bytes (the default limit) is accepted.
python3 - "$T/atlimit" <<'PY'
import json, sys
ev = {"v": 1, "type": "token.issued", "id": "e-limit", "time": 1900000000,
      "iss": "https://idp.example", "grant_type": "authorization_code",
      "token": {"jti": "t-limit", "sub": "user-1", "client_id": "webapp",
                "iat": 1900000000, "exp": 4102444800}, "pad": ""}
s = json.dumps(ev, separators=(",", ":"))
ev["pad"] = "p" * (65536 - len(s))
s = json.dumps(ev, separators=(",", ":"))
assert len(s) == 65536
open(sys.argv[1], "w").write(s)
PY
check "produce an event of exactly 65536 bytes" produce_msg "$TOPIC_IN" \
    "$T/atlimit" k 0

for ((i = 0; i < n; i++)); do
	check "good event $i (after ${NAMES[i]}) is applied" \
	    wait_for 10 is_active "t-good-$i"
done
check "the 64 KiB event is applied" wait_for 10 is_active t-limit
check "the issuance without exp left no token" \
    eval '[ "$(http GET /v1/tokens/t-noexp -u "$ADMIN")" = 404 ]'

consume "$TOPIC_DLQ" "$n" 15 '%k\t%s\n' >"$T/dlq.kv"
# (the dead-letter topic has 3 partitions: put them back in input order)
cut -f2- "$T/dlq.kv" | python3 -c 'import json, sys
for l in sorted(sys.stdin, key=lambda l: json.loads(l)["offset"]): print(l, end="")' >"$T/dlq"
sleep 1
check_eq "exactly $n dead letters" "$n" "$(count "$TOPIC_DLQ")"
# Offsets of the bad messages on partition 0: 0, 2, 4, ...
for ((i = 0; i < n; i++)); do
	check_eq "dead letter $i: error of ${NAMES[i]}" "${ERRORS[i]}" \
	    "$(jpy "$T/dlq" "L[$i]['error']")"
	check_eq "dead letter $i: v, topic, partition, offset" \
	    "[1,\"$TOPIC_IN\",0,$((2 * i))]" \
	    "$(jpy "$T/dlq" "[L[$i][k] for k in ('v', 'topic', 'partition', 'offset')]")"
	check "dead letter $i: the original payload, byte for byte" \
	    python3 - "$T/dlq" "$i" "${FILES[i]}" <<'PY'
import base64, json, sys
d = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])]
orig = open(sys.argv[3], "rb").read()
got = base64.b64decode(d["payload_b64"]) if "payload_b64" in d \
    else d["payload"].encode()
if got != orig:
    sys.exit("payload differs: %r... vs %r..." % (got[:80], orig[:80]))
if "truncated" in d:
    sys.exit("marked truncated")
PY
done
check "the non-UTF-8 payload has payload_b64 beside payload" \
    jpy "$T/dlq" '"payload_b64" in L[2] and isinstance(L[2]["payload"], str)'
check_eq "no revocation published" 0 "$(count "$TOPIC_OUT")"

daemon_stop
finish
