/*
 * sweeper: the daemon's side of store_sweep() (SPEC 6, --retention).
 *
 * One slice is one write transaction of at most SWEEPER_SLICE entries,
 * run from the event loop between apply batches (the same thread, so
 * the writer is never waited for); the daemon runs one a second, and
 * one after another from a timer due now while more is due, so a
 * backlog never holds the writer long.  Each slice's duration (its
 * lock time) is measured and kept in the metrics.
 */
#ifndef SWEEPER_H
#define SWEEPER_H

#include <stdint.h>

struct metrics;
struct store;

#define SWEEPER_SLICE	64

/*
 * Sweep one slice to the horizon now - retention, and count it in m.
 * Returns 1 when more is due now, 0 when not, -1 when the store failed
 * (the slice rolled back; try again later).  Cost: store_sweep() of
 * SWEEPER_SLICE entries, and one read of the oldest expiry.
 */
int	sweeper_slice(struct store *, int64_t now, int64_t retention,
	    struct metrics *m);

#endif
