#!/bin/bash
# A raw token revoked by POST /revoke before its issuance event arrives is
# born revoked (SPEC 2, target {"hash": H}: "remembered like a jti if not
# seen yet"), and so is its child.  Needs both the /revoke side (f0308)
# and the hash target in the event decoder and store.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile off

produce "$TOPIC_IN" k "$(ev_issued e-0 t-first)"
check "an issuer is known" wait_for 10 is_active t-first

check_match "unknown raw token: 200 or 202" '^20[02]$' \
    "$(http POST /revoke -u "$REV" -d token=raw-early)"
cat >"$T/events" <<EOF2
k	$(ev_issued e-1 t-early hash="$(token_hash raw-early)")
k	$(ev_issued e-2 t-early-kid subject=t-early)
k	$(ev_issued e-3 t-witness)
EOF2
check "its issuance arrives, with a child and a witness" \
    produce_file "$TOPIC_IN" "$T/events"
check "the witness is active (the events are applied)" \
    wait_for 10 is_active t-witness
check_eq "the raw token is inactive" '{"active":false}' \
    "$(introspect_raw raw-early)"
check "t-early is born revoked" is_inactive t-early
check "its child too" is_inactive t-early-kid

daemon_stop
finish
