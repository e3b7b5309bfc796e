#!/bin/bash
# A backlog of input never holds the main thread: while revokerd
# catches up with $N events waiting in its input topic, its 20 ms pump
# (the consumer lag gauge, /readyz, the drain's slices) keeps running
# between batches. on_input used to ask for the next batches with
# event_active(), which libevent runs again in the same pass before it
# polls or looks at timers, so the lag gauge stood still until the
# whole backlog was applied.
. "$(dirname "$0")/lib.sh"

N=${F0014_EVENTS:-100000}

broker_start
check "an input topic of one partition" topic_create "$TOPIC_IN" 1
ctl gen --seed 14 --events "$N" --revoke-share 0 --attack-share 0 \
    --dup-share 0 --out "$T/events.jsonl" 2>/dev/null
check "produce a backlog of $N events before revokerd starts" \
    produce_file "$TOPIC_IN" "$T/events.jsonl"

daemon_start
: >"$T/samples"
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
	curl -s -u "$ADMIN" "$URL/metrics" >"$T/m" 2>/dev/null || continue
	a=$(sed -n 's/^revokerd_events_applied_total //p' "$T/m")
	l=$(sed -n 's/^revokerd_consumer_lag //p' "$T/m")
	[ -n "$a" ] && [ -n "$l" ] && echo "$a $l" >>"$T/samples"
	[ -n "$a" ] && [ "$a" -ge "$N" ] && break
	sleep 0.1
done
say "$(wc -l <"$T/samples") samples; first: $(head -1 "$T/samples");" \
    "last: $(tail -1 "$T/samples")"
say "samples: $(tr "\n" " " <"$T/samples")"
check "the backlog is applied" wait_for 60 applied_at_least "$N"
# Samples taken while catching up (applied < N) whose lag is between 0
# and N: the pump ran between batches.
mid=$(awk -v n="$N" '$1 > 0 && $1 < n && $2 > 0 && $2 < n' \
    "$T/samples" | cut -d' ' -f2 | sort -u | wc -l)
check "the lag gauge moves while the backlog is applied ($mid values)" \
    test "$mid" -ge 2
check "the lag reaches 0" wait_for 10 \
    bash -c "[ \"\$(curl -s -u '$ADMIN' '$URL/metrics' |
    sed -n 's/^revokerd_consumer_lag //p')\" = 0 ]"
check "/readyz answers 200" daemon_wait_ready 20
daemon_stop
finish
