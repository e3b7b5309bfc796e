/* sweeper: see sweeper.h. */
#include <stdint.h>
#include <time.h>

#include "consumers/log/log.h"
#include "daemon/metrics/metrics.h"
#include "daemon/revokerd/sweeper.h"
#include "store/graph/store.h"

static int64_t
usec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The age of the oldest exp kept, for the gauge: 0 when none passed. */
static void
oldest(struct store *st, int64_t now, struct metrics *m)
{
	struct store_txn *t = NULL;
	int64_t exp;

	if (store_begin(st, 1, &t) == -1)
		return;
	if (store_sweep_oldest(t, &exp) == 0 && exp < now)
		metrics_set(m, MET_SWEEP_OLDEST, now - exp);
	else
		metrics_set(m, MET_SWEEP_OLDEST, 0);
	store_abort(&t);
}

int
sweeper_slice(struct store *st, int64_t now, int64_t retention,
    struct metrics *m)
{
	static int warned;
	struct store_txn *t = NULL;
	struct store_swept r;
	int64_t start = usec_now(), took;

	if (store_begin(st, 0, &t) == -1 ||
	    store_sweep(t, now - retention, SWEEPER_SLICE, &r) == -1 ||
	    store_commit(&t) == -1) {
		store_abort(&t);
		if (warned++ % 60 == 0)
			log_warnx("sweep: the store failed; retrying");
		return -1;
	}
	took = usec_now() - start;
	if (took > metrics_get(m, MET_SWEEP_SLICE_MAX))
		metrics_set(m, MET_SWEEP_SLICE_MAX, took);
	metrics_add(m, MET_SWEEP_SLICES, 1);
	metrics_sweep_slice(m, (uint64_t)took);
	metrics_add(m, MET_SWEPT_TOKENS, r.tokens);
	metrics_add(m, MET_SWEPT_KEPT, r.kept);
	metrics_add(m, MET_SWEPT_OTHER, r.other);
	metrics_add(m, MET_SWEPT_EVENTS, r.events);
	if (r.tokens + r.kept + r.other > 0)
		log_debug("sweep: %llu tokens forgotten, %llu kept revoked, "
		    "%llu others, %llu event ids, in %lld us",
		    (unsigned long long)r.tokens, (unsigned long long)r.kept,
		    (unsigned long long)r.other, (unsigned long long)r.events,
		    (long long)took);
	oldest(st, now, m);
	return r.more;
}
