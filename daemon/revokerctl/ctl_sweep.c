/*
 * ctl_sweep: `revokerctl sweep`, the daemon's sweep (SPEC 6,
 * --retention) run by hand: on a database no daemon runs on (a replay,
 * to compare its digest with a daemon's), or while one does (LMDB
 * serializes the two writers).  Slices of SWEEP_SLICE entries, each its
 * own transaction, until nothing more is due.
 */
#include <stdio.h>
#include <time.h>

#include "daemon/revokerctl/ctl.h"
#include "store/graph/store.h"

#define SWEEP_SLICE	1024

int
ctl_sweep(int argc, char **argv)
{
	struct store_swept r, sum = { 0 };
	struct ctl_opts o;
	struct store *st;
	struct store_txn *t = NULL;
	int64_t horizon;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "retention,horizon", 0, &o)) != 0)
		return rc;
	horizon = o.has_horizon ? o.horizon : (int64_t)time(NULL) -
	    o.retention;
	if ((st = ctl_open(o.db, 0, 1)) == NULL)
		return 1;
	do {
		if (store_begin(st, 0, &t) == -1 ||
		    store_sweep(t, horizon, SWEEP_SLICE, &r) == -1 ||
		    store_commit(&t) == -1) {
			store_abort(&t);
			store_close(&st);
			return ctl_fail("sweep", "cannot write to %s", o.db);
		}
		sum.tokens += r.tokens;
		sum.kept += r.kept;
		sum.other += r.other;
		sum.events += r.events;
		sum.blocked |= r.blocked;
	} while (r.more);
	store_close(&st);
	printf("sweep: to %lld: %llu tokens forgotten, %llu revoked kept as "
	    "remembered revocations, %llu remembered revocations, rules and "
	    "placeholders forgotten, %llu event ids forgotten\n",
	    (long long)horizon, (unsigned long long)sum.tokens,
	    (unsigned long long)sum.kept, (unsigned long long)sum.other,
	    (unsigned long long)sum.events);
	if (sum.blocked)
		printf("sweep: revoked tokens wait for the outbox to be "
		    "published\n");
	return 0;
}
