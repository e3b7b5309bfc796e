#!/bin/bash
# No event stops consumption (issue 9, item 1): token A names B as its
# previous token, then B, whose jti is 63 a's and an e-acute, names A. The
# cycle's violation detail used to cut B's jti inside the e-acute; the
# output could not be encoded, the daemon exited and every restart died
# on the same batch, so no later revocation was ever applied. Now the
# cycle is reported, the events after it are applied, and `revokerctl
# replay` of the same lines succeeds.
. "$(dirname "$0")/lib.sh"

broker_start
daemon_start --profile enforce

B=$(printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9')
{
	ev_issued e-pa t-pa grant_type=refresh_token previous="$B"
	ev_issued e-pb "$B" grant_type=refresh_token previous=t-pa
	ev_issued e-after t-after sub=user-9
	ev_revoked e-rev jti=t-pa
} >"$T/events"
check "produce the poison pill and two events after it" \
    produce_file "$TOPIC_IN" "$T/events" 0
check "every event is applied" wait_for 20 applied_at_least 4
check "revokerd is still running" _alive "$DAEMON_PID"
check "/readyz answers 200" daemon_wait_ready 20
check "the event after the pill is applied" is_active t-after
check "the revocation after the pill is applied" wait_for 10 is_inactive \
    t-pa
check "the cycle's violation is published" wait_for 20 \
    grep -q parent_cycle <(consume "$TOPIC_VIOL" 1 10)
check_eq "nothing was dead-lettered" 0 "$(count "$TOPIC_DLQ")"
daemon_stop
check "revokerctl replay of the same lines succeeds" \
    ctl replay --db "$T/replay" --file "$T/events"
check_eq "and reaches the daemon's state" "$(ctl digest --db "$T/db")" \
    "$(ctl digest --db "$T/replay")"
finish
