#!/bin/bash
# The harness and the broker alone, no daemon: a fresh topic with three
# partitions, three messages produced with kcat (one to each partition),
# read back with their keys, partitions and values.
. "$(dirname "$0")/lib.sh"

broker_start
topic=$PREFIX-smoke

check "create $topic with 3 partitions" topic_create "$topic" 3
check_match "the broker lists 3 partitions" "topic \"$topic\" with 3 partitions" \
    "$(kcat -b "$BOOTSTRAP" -L -t "$topic" 2>&1)"

for i in 0 1 2; do
	check "produce message $i to partition $i" \
	    produce "$topic" "k$i" "{\"n\":$i,\"s\":\"m $i\"}" "$i"
done

consume "$topic" 3 20 '%p\t%k\t%s\n' >"$T/got"
check_eq "3 messages read back" 3 "$(wc -l <"$T/got")"
check_eq "keys, partitions and values" \
    "$(printf '0\tk0\t{"n":0,"s":"m 0"}\n1\tk1\t{"n":1,"s":"m 1"}\n2\tk2\t{"n":2,"s":"m 2"}')" \
    "$(sort "$T/got")"

consume "$topic" 3 20 >"$T/values"
check_eq "values parse as JSON" "[0,1,2]" \
    "$(jpy "$T/values" 'sorted(x["n"] for x in L)')"
check_eq "nothing more arrives" 3 "$(count "$topic")"

finish
