#!/bin/bash
# A broker node crashes under load (SPEC section 3: "no revocation is ever
# lost, across crashes and broker outages"), on a private cluster of three
# KRaft nodes (replication factor 3, min ISR 2; scripts/kafka.sh start3):
# a tree of $N tokens is revoked, and the node leading partition 0 of the
# revocations topic is killed (SIGKILL) as soon as the cascade is applied,
# while the outbox is publishing. The other two keep a quorum and an ISR of
# two: leadership moves, the daemon keeps publishing, introspection keeps
# answering. The node comes back with its data. Every revocation id is in
# the topic (duplicates allowed), nothing is dead-lettered, and the daemon
# runs throughout and ends with exit 0. Skipped with BROKER=mock.
. "$(dirname "$0")/lib.sh"

N=${F0003_TOKENS:-5000}

# all_revoked PREFIX N: at least N distinct jtis starting with PREFIX.
all_revoked() {
	revocations "$T/.rev"
	[ "$(cut -f2 "$T/.rev" | grep -c "^$1")" -ge "$2" ] &&
	    [ "$(cut -f2 "$T/.rev" | grep "^$1" | sort -u | wc -l)" -ge "$2" ]
}

broker_start3_private
daemon_start --profile off

tree ta "$T/ta" "$N"
check "produce tree ta ($N tokens) and a control token" eval \
    'produce_file "$TOPIC_IN" "$T/ta" &&
     produce "$TOPIC_IN" other "$(ev_issued e-other other-1)"'
check "ta applied" wait_for 60 applied_at_least $((N + 1))
check "the root is active" is_active ta-0

VICTIM=$(partition_leader "$TOPIC_OUT" 0)
case "$VICTIM" in [123]) ;; *) bail "leader of $TOPIC_OUT/0: '$VICTIM'" ;; esac
say "node $VICTIM leads $TOPIC_OUT partition 0: it will be killed"

pub0=$(metric 'revokerd_published_total{topic="revocations"}')
check "revoke the root" produce "$TOPIC_IN" ta \
    "$(ev_revoked e-rev-ta jti=ta-0 reason=compromised)"
check "the cascade is applied" fast_wait 30 revoked_at_least "$N"
check "kill -9 node $VICTIM" broker_kill_node "$VICTIM"
# The gauges move every 20 ms, when the daemon's loop is free: read them a
# little after the kill. Deliveries to the dead leader wait for a new one
# (the node is fenced after 3 s), so the drain cannot have ended by then
# unless it had ended before the kill.
sleep 1
depth=$(metric revokerd_outbox_depth)
pub=$(metric 'revokerd_published_total{topic="revocations"}')
say "1 s after the kill of node $VICTIM: $((pub - pub0)) of $N revocations delivered, outbox $depth"
check "the kill came before the drain ended (outbox not empty)" \
    eval '[ "$depth" -gt 0 ] && [ $((pub - pub0)) -lt "$N" ]'

sleep 1
check "the daemon serves while node $VICTIM is down" \
    curl -fsS -o /dev/null --max-time 2 "$URL/healthz"
check "the root is inactive while node $VICTIM is down" is_inactive ta-0
check "a leaf is inactive while node $VICTIM is down" is_inactive "ta-$((N - 1))"
check "the control token is active while node $VICTIM is down" \
    is_active other-1
check "partition 0 has a new leader" eval \
    'wait_for 20 eval "l=\$(partition_leader \"\$TOPIC_OUT\" 0); [ -n \"\$l\" ] && [ \"\$l\" != \"$VICTIM\" ] && [ \"\$l\" != -1 ]"'
check "all $N revocations arrive while node $VICTIM is down" \
    wait_for 60 all_revoked ta- "$N"
check "the outbox drains while node $VICTIM is down" wait_for 30 drained
t0=$SECONDS
check "node $VICTIM comes back" broker_start_node "$VICTIM"
say "node $VICTIM back in the ISRs after $((SECONDS - t0)) s"
check "the daemon serves after node $VICTIM is back" \
    curl -fsS -o /dev/null --max-time 2 "$URL/healthz"

revocations "$T/rev-ta"
check_eq "one distinct id per token" "$N" \
    "$(grep '	ta-' "$T/rev-ta" | cut -f1 | sort -u | wc -l)"
check_eq "each id for one jti" "$N" \
    "$(grep '	ta-' "$T/rev-ta" | sort -u | wc -l)"
say "$(wc -l <"$T/rev-ta") messages for $N revocations (duplicates allowed)"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"
check_eq "the daemon was started once" 1 \
    "$(grep -c '^=== daemon_start' "$T/revokerd.log")"
daemon_stop
finish
