/*
 * pending: the table of /revoke events awaiting their delivery report.
 * A report reaches the submission it was sent with and no other; a
 * submission whose owner left is kept until its report; the count of
 * outstanding ones is what shutdown waits for; a full table says so.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "consumers/log/log.h"
#include "daemon/http/pending.h"

Test(pending, report_reaches_its_submission)
{
	struct pending	*p = pending_new(8);
	uint64_t	 a, b;

	cr_assert_not_null(p);
	cr_assert_eq(pending_add(p, "http-a", &a), 0);
	cr_assert_eq(pending_add(p, "http-b", &b), 0);
	cr_assert_neq(a, b);
	cr_assert(pending_tag(a) && pending_tag(b));
	cr_assert_eq(pending_outstanding(p), 2);
	cr_assert_eq(pending_state(p, a), PENDING_WAIT);
	pending_report(p, b, 1);
	cr_assert_eq(pending_state(p, a), PENDING_WAIT);
	cr_assert_eq(pending_state(p, b), PENDING_ACKED);
	pending_report(p, a, 0);
	cr_assert_eq(pending_state(p, a), PENDING_FAILED);
	cr_assert_eq(pending_outstanding(p), 0);
	/* a second report changes nothing */
	pending_report(p, a, 1);
	cr_assert_eq(pending_state(p, a), PENDING_FAILED);
	pending_release(p, a, 1);
	pending_release(p, b, 1);
	cr_assert_eq(pending_state(p, a), PENDING_FAILED, "freed: unknown");
	pending_free(&p);
	cr_assert_null(p);
	pending_free(&p);
}

/* The drain's tags (generation << 32 | topic << 16 | slot) are not ours. */
Test(pending, drain_tags_are_not_ours)
{
	cr_assert_not(pending_tag(0));
	cr_assert_not(pending_tag(((uint64_t)1 << 32) | (2 << 16) | 17));
	cr_assert_not(pending_tag(((uint64_t)0x7fffffff << 32) | 0xffff));
}

Test(pending, released_before_report_is_kept_until_it)
{
	struct pending	*p = pending_new(1);
	uint64_t	 a, b;

	cr_assert_eq(pending_add(p, "http-a", &a), 0);
	pending_release(p, a, 1);
	cr_assert_eq(pending_outstanding(p), 1);
	cr_assert_eq(pending_add(p, "http-b", &b), -1, "still taken");
	cr_assert_eq(pending_log_unacked(p, "at shutdown"), 1);
	pending_report(p, a, 1);
	cr_assert_eq(pending_outstanding(p), 0);
	cr_assert_eq(pending_log_unacked(p, "at shutdown"), 0);
	cr_assert_eq(pending_add(p, "http-b", &b), 0, "freed by the report");
	cr_assert_neq(a, b, "a reused slot gets a new tag");
	pending_report(p, a, 0);	/* stale: ignored */
	cr_assert_eq(pending_state(p, b), PENDING_WAIT);
	pending_free(&p);
}

Test(pending, never_sent_is_freed_at_once)
{
	struct pending	*p = pending_new(1);
	uint64_t	 a;

	cr_assert_eq(pending_add(p, "http-a", &a), 0);
	pending_release(p, a, 0);
	cr_assert_eq(pending_outstanding(p), 0);
	cr_assert_eq(pending_state(p, a), PENDING_FAILED);
	cr_assert_eq(pending_add(p, "http-a", &a), 0);
	pending_free(&p);
}

Test(pending, bounds)
{
	struct pending	*p;
	uint64_t	 t;
	char		 id[200];

	cr_assert_null(pending_new(0));
	cr_assert_null(pending_new(65537));
	cr_assert_not_null(p = pending_new(65536));
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	cr_assert_eq(pending_add(p, id, &t), 0, "a long id is cut");
	cr_assert_eq(pending_log_unacked(p, "now"), 1);
	pending_free(&p);
}

struct race {
	struct pending	*p;
	uint64_t	 tags[2000];
	int		 n;
};

static void *
reporter(void *arg)
{
	struct race	*r = arg;
	int		 i;

	for (i = 0; i < r->n; i++)
		pending_report(r->p, r->tags[i], 1);
	return NULL;
}

/* Reports from one thread, releases from another: nothing is lost. */
Test(pending, threads)
{
	struct race	 r;
	pthread_t	 th;
	int		 i;

	log_init(LOG_WARN, NULL);	/* no line per late delivery */
	cr_assert_not_null(r.p = pending_new(4096));
	r.n = 2000;
	for (i = 0; i < r.n; i++)
		cr_assert_eq(pending_add(r.p, "http-x", &r.tags[i]), 0);
	cr_assert_eq(pthread_create(&th, NULL, reporter, &r), 0);
	for (i = 0; i < r.n; i++)
		pending_release(r.p, r.tags[i], 1);
	pthread_join(th, NULL);
	cr_assert_eq(pending_outstanding(r.p), 0);
	for (i = 0; i < 4096; i++)
		cr_assert_eq(pending_add(r.p, "http-y", &r.tags[0]), 0,
		    "slot %d free again", i);
	pending_free(&r.p);
}
