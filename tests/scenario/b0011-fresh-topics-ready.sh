#!/bin/bash
# A revokerd started on input and output topics that do not exist yet
# creates them and says it is ready: nothing to read is caught up.
# Before, the watermark query at start could come too early for a topic
# just created; the position stayed "before the beginning" (-1), the lag
# gauge counted one per partition that the empty topic never had, and
# /readyz answered 503 catching_up until a first event arrived.
. "$(dirname "$0")/lib.sh"

broker_start
# kcat -L without -t: a metadata request naming a topic creates it.
check "the input topic does not exist yet" \
    bash -c "! kcat -b $BOOTSTRAP -L -m 5 | grep -q 'topic \"$TOPIC_IN\"'"
NO_TOPICS=1 daemon_start --profile off
check "/readyz answers 200 on empty new topics" daemon_wait_ready 20
check_eq "the consumer lag gauge is 0" 0 "$(metric revokerd_consumer_lag)"

produce "$TOPIC_IN" k "$(ev_issued e-1 t-1)"
check "an event on the new topic is applied" wait_for 10 is_active t-1
check_eq "still ready after it" 200 "$(http GET /readyz)"
daemon_stop
finish
