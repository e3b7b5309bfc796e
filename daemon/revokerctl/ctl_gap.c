/*
 * ctl_gap: `revokerctl ack-gap`, an operator's acknowledgement that the
 * input messages revokerd found deleted before it read them (an input
 * gap: revocations among them were missed) have been dealt with.  The
 * daemon keeps /readyz at 503 input_gap until then; it may be running.
 */
#include <stdio.h>

#include "daemon/revokerctl/ctl.h"
#include "store/graph/store.h"

int
ctl_ack_gap(int argc, char **argv)
{
	struct ctl_opts o;
	struct store *st;
	struct store_txn *t;
	uint64_t n = 0;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "", 0, &o)) != 0)
		return rc;
	if ((st = ctl_open(o.db, 0, 1)) == NULL)
		return 1;
	rc = store_begin(st, 0, &t) == 0 && store_gap_ack(t, &n) == 0 &&
	    store_commit(&t) == 0 ? 0 : 1;
	store_abort(&t);
	store_close(&st);
	if (rc != 0)
		return ctl_fail("ack-gap", "cannot write to %s", o.db);
	if (n == 0)
		printf("ack-gap: no input gap to acknowledge\n");
	else
		printf("ack-gap: %llu missed input messages acknowledged; "
		    "/readyz no longer reports input_gap\n",
		    (unsigned long long)n);
	return 0;
}
