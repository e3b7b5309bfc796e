#!/bin/bash
# Broker outages (SPEC section 3: "no revocation is ever lost, across
# crashes and broker outages"), on a private broker:
# 1. a tree of $N tokens is revoked and the broker hangs (SIGSTOP) as soon
#    as the cascade is applied, before the outbox has drained;
#    introspection keeps answering from the graph meanwhile (the tree
#    inactive, others active); the broker resumes (SIGCONT) after a few
#    seconds: every revocation id is in the topic, the outbox drains;
# 2. a second tree is issued, the broker is stopped and restarted (same
#    data, same address), then the second root is revoked: the daemon
#    consumes again and every revocation arrives;
# 3. the same as 1 with the broker killed by SIGKILL (a crash of the
#    broker, not a clean stop) during the drain of a third tree.
# The daemon stays up throughout and ends with exit 0.
. "$(dirname "$0")/lib.sh"

N=${F0002_TOKENS:-20000}	# tokens of trees ta and tb
NC=${F0002_TOKENS_C:-25000}	# of tree tc: a warm producer drains fast

# jtis_revoked PREFIX: the distinct jtis starting with PREFIX in the topic.
jtis_revoked() {
	revocations "$T/.rev"
	cut -f2 "$T/.rev" | grep "^$1" | sort -u | wc -l
}
all_revoked() { [ "$(jtis_revoked "$1")" -ge "$2" ]; }
# outage_during_drain PREFIX SIZE HOW: revoke PREFIX-0, take the broker down
# (HOW: freeze, SIGSTOP then SIGCONT; or kill, SIGKILL then a restart;
# both instant, unlike a clean stop, so the outbox has not drained) as soon as the cascade is applied, check the daemon
# serves, bring the broker back, check every revocation arrives.
outage_during_drain() {
	local pre=$1 N=$2 how=$3 before pub0 pub kpid
	before=$(metric revokerd_tokens_revoked_total)
	pub0=$(metric 'revokerd_published_total{topic="revocations"}')
	check "$pre: revoke the root" produce "$TOPIC_IN" "$pre" \
	    "$(ev_revoked "e-rev-$pre" jti="$pre-0" reason=compromised)"
	check "$pre: the cascade is applied" \
	    fast_wait 30 revoked_at_least $((before + N))
	kpid=$(cat "$T/kafka/pid")
	if [ "$how" = kill ]; then
		kill -KILL "$kpid"
		wait_for 10 _dead "$kpid"
	else
		kill -STOP "$kpid"
	fi
	sleep 3
	pub=$(metric 'revokerd_published_total{topic="revocations"}')
	say "$pre: broker down ($how); $((pub - pub0)) of its $N revocations delivered before"
	check "$pre: the daemon serves while the broker is down" \
	    curl -fsS -o /dev/null --max-time 2 "$URL/healthz"
	check "$pre: the root is inactive while the broker is down" \
	    is_inactive "$pre-0"
	check "$pre: a leaf is inactive while the broker is down" \
	    is_inactive "$pre-$((N - 1))"
	check "$pre: the outage came before the drain ended (outbox not empty)" \
	    eval '[ "$(metric revokerd_outbox_depth)" -gt 0 ]'
	if [ "$how" = kill ]; then
		check "$pre: the broker comes back" broker_restart
	else
		check "$pre: the broker resumes" kill -CONT "$kpid"
	fi
	check "$pre: all $N revocations arrive" wait_for 90 all_revoked "$pre-" "$N"
	check "$pre: the outbox drains" wait_for 30 drained
	revocations "$T/rev-$pre"
	check_eq "$pre: one distinct id per token" "$N" \
	    "$(grep "	$pre-" "$T/rev-$pre" | cut -f1 | sort -u | wc -l)"
	check_eq "$pre: each id for one jti" "$N" \
	    "$(grep "	$pre-" "$T/rev-$pre" | sort -u | wc -l)"
}

broker_start_private
daemon_start --profile off

tree ta "$T/ta" "$N"
tree tb "$T/tb" "$N"
tree tc "$T/tc" "$NC"
check "produce trees ta and tb" eval 'produce_file "$TOPIC_IN" "$T/ta" &&
    produce_file "$TOPIC_IN" "$T/tb"'
check "ta and tb applied" wait_for 60 applied_at_least $((2 * N))

# 1. a hung broker during the drain
outage_during_drain ta "$N" freeze
check "tb is still active" is_active "tb-$((N - 1))"

# 2. stop and restart, then revoke
check "broker stop with nothing to publish" broker_stop
sleep 2
check "the daemon is alive with the broker down" \
    curl -fsS -o /dev/null --max-time 2 "$URL/healthz"
check "broker back" broker_restart
check "revoke tb after the restart" produce "$TOPIC_IN" tb \
    "$(ev_revoked e-rev-tb jti=tb-0 reason=logout)"
check "tb: all $N revocations arrive" wait_for 90 all_revoked tb- "$N"
check "tb: a leaf inactive" is_inactive "tb-$((N - 1))"

# 3. a crash of the broker during the drain
check "produce tree tc" produce_file "$TOPIC_IN" "$T/tc"
check "tc applied" wait_for 60 applied_at_least $((2 * N + NC + 2))
outage_during_drain tc "$NC" kill

revocations "$T/rev-all"
check_eq "every revocation (ta, tb, tc) once in the distinct set" \
    "$((2 * N + NC)) $((2 * N + NC))" \
    "$(cut -f1 "$T/rev-all" | sort -u | wc -l) $(cut -f2 "$T/rev-all" | sort -u | wc -l)"
check_eq "nothing dead-lettered" 0 "$(count "$TOPIC_DLQ")"
daemon_stop
finish
