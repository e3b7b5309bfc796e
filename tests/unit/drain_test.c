/*
 * drain_test: the outbox drain, the at-least-once code, against a fake
 * sink (no broker): a sink that is full every Nth send, deliveries that
 * fail in a burst, a message the far end rejects for good and one the
 * producer refuses.  Every revocation is delivered at least once,
 * nothing after a refused message goes out while it is refused, and the
 * outbox ends empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "consumers/publish/drain.h"
#include "consumers/publish/publish.h"
#include "consumers/sink/sink.h"
#include "store/graph/store.h"
#include "tests/unit/fixture.h"

#define ISS	"https://idp.example"
#define NTREE	3000		/* tokens of the big cascade */
#define MAXREP	400000

struct report {
	uint64_t	 tag;
	char		 key[32];
};

/* The fake sink. */
struct fake {
	struct drain	*d;
	unsigned	 sends;		/* send calls */
	unsigned	 full_every;	/* SINK_FULL on every Nth send */
	unsigned	 fail_from, fail_to; /* deliveries [from, to) fail */
	const char	*reject;	/* key rejected (SINK_REJECTED) */
	const char	*refuse;	/* key refused at send (SINK_REFUSED) */
	unsigned	 reports;	/* reports made */
	struct report	*q;		/* sent, not reported */
	size_t		 nq;
	unsigned	*got;		/* deliveries per token index */
	unsigned	 sent_key[4];	/* sends of keys t-a, t-big, t-c, t-d */
	unsigned	 other;		/* deliveries of unknown keys */
};

static char		 dir[64];
static struct store	*st;
static struct fake	 fk;
static struct sink	 sink;

static const char *const watched[4] = { "t-a", "t-big", "t-c", "t-d" };

static int
fake_send(void *self, const char *topic, const void *key, size_t klen,
    const void *val, size_t vlen, uint64_t tag)
{
	struct fake *f = self;
	struct report *r;
	int i;

	(void)topic, (void)val, (void)vlen;
	f->sends++;
	if (f->full_every != 0 && f->sends % f->full_every == 0)
		return SINK_FULL;
	cr_assert_lt(klen, sizeof(r->key));
	if (f->refuse != NULL && klen == strlen(f->refuse) &&
	    memcmp(key, f->refuse, klen) == 0)
		return SINK_REFUSED;
	cr_assert_lt(f->nq, MAXREP, "more in flight than the drain allows");
	r = &f->q[f->nq++];
	r->tag = tag;
	memcpy(r->key, key, klen);
	r->key[klen] = '\0';
	for (i = 0; i < 4; i++)
		f->sent_key[i] += strcmp(r->key, watched[i]) == 0;
	return SINK_SENT;
}

static void
fake_poll(void *self, int timeout_ms)
{
	struct fake *f = self;
	struct report *q = f->q;
	size_t i, n = f->nq;
	int result, idx;

	(void)timeout_ms;
	f->q = calloc(MAXREP, sizeof(*f->q));	/* reports may send */
	f->nq = 0;
	for (i = 0; i < n; i++) {
		f->reports++;
		if (f->reject != NULL && strcmp(q[i].key, f->reject) == 0)
			result = SINK_REJECTED;
		else if (f->reports >= f->fail_from &&
		    f->reports < f->fail_to)
			result = SINK_FAILED;
		else
			result = SINK_DELIVERED;
		if (result == SINK_DELIVERED) {
			if (sscanf(q[i].key, "t-%d", &idx) == 1 && idx >= 0 &&
			    idx < NTREE)
				f->got[idx]++;
			else
				f->other++;
		}
		drain_on_delivery(f->d, q[i].tag, result);
	}
	free(q);
}

static int
fake_pending(void *self)
{
	return (int)((struct fake *)self)->nq;
}

static int
fake_fatal(void *self)
{
	(void)self;
	return 0;
}

static const struct sink_ops fake_ops = {
	fake_send, fake_poll, fake_pending, fake_fatal
};

static void
setup(void)
{
	st = fixture_store("drain_test", 256u << 20, dir);
	memset(&fk, 0, sizeof(fk));
	fk.q = calloc(MAXREP, sizeof(*fk.q));
	fk.got = calloc(NTREE, sizeof(*fk.got));
	cr_assert(fk.q != NULL && fk.got != NULL);
	fk.d = drain_new(st, "rev", "viol", "dlq");
	cr_assert_not_null(fk.d);
	drain_set_retry(fk.d, 0, 0);
	sink.ops = &fake_ops;
	sink.self = &fk;
	drain_set_sink(fk.d, &sink);
}

static void
teardown(void)
{
	drain_free(&fk.d);
	free(fk.q);
	free(fk.got);
	fixture_store_free(&st, dir);
}

TestSuite(drain, .init = setup, .fini = teardown);

static uint64_t
put(struct store_txn *t, const char *jti, const char *parent)
{
	struct store_token	 tok;
	struct store_put_args	 a;
	uint64_t		 id;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = ISS;
	tok.jti = jti;
	tok.sub = "u";
	tok.client_id = "c";
	tok.iat = 1764380000;
	tok.exp = 1764380900;
	if (parent != NULL)
		cr_assert_eq(store_ref(t, ISS, parent,
		    &tok.parent[STORE_PARENT_SUBJECT]), 0);
	a.tok = &tok;
	cr_assert_eq(store_put(t, &a, &id), 0);
	return id;
}

/* Revoke jti in a transaction of its own: one outbox entry. */
static void
revoke(const char *jti)
{
	struct store_txn	*t = NULL;
	struct store_cause	 c = { "e-x", "", ISS, jti, STORE_TGT_JTI,
	    1764380100 };
	uint64_t		 id;
	uint32_t		 ref;
	char			 ev[48];

	snprintf(ev, sizeof(ev), "e-%s", jti);
	c.event_id = ev;
	cr_assert_eq(store_begin(st, 0, &t), 0);
	cr_assert_eq(store_lookup(t, ISS, jti, &id), 0);
	cr_assert_eq(store_cause_add(t, &c, &ref), 0);
	cr_assert_eq(store_revoke(t, id, ref, NULL), 0);
	cr_assert_eq(store_commit(&t), 0);
}

/* A tree of NTREE tokens t-0 .. (t-i under t-(i-1)/4). */
static void
tree(void)
{
	struct store_txn	*t = NULL;
	char			 jti[16], par[16];
	int			 i;

	cr_assert_eq(store_begin(st, 0, &t), 0);
	for (i = 0; i < NTREE; i++) {
		snprintf(jti, sizeof(jti), "t-%d", i);
		snprintf(par, sizeof(par), "t-%d", (i - 1) / 4);
		put(t, jti, i == 0 ? NULL : par);
	}
	cr_assert_eq(store_commit(&t), 0);
}

static uint64_t
outbox(void)
{
	struct store_txn	*t = NULL;
	uint64_t		 n;

	cr_assert_eq(store_begin(st, 1, &t), 0);
	cr_assert_eq(store_outbox_count(t, &n), 0);
	store_abort(&t);
	return n;
}

/* Pump until the outbox is empty or n rounds went by; the rounds. */
static int
pump(int n)
{
	int i;

	for (i = 0; i < n && (outbox() > 0 || fk.nq > 0); i++)
		cr_assert_eq(drain_pump(fk.d), 0);
	return i;
}

/*
 * A sink full on every 7th send and a burst of 500 failed deliveries
 * in the middle of a 3,000-token cascade: every revocation is delivered
 * at least once, and the outbox ends empty.
 */
Test(drain, at_least_once_through_full_and_failures)
{
	int	i;

	tree();
	revoke("t-0");
	fk.full_every = 7;
	fk.fail_from = 1000;
	fk.fail_to = 1500;
	pump(100000);
	cr_assert_eq(outbox(), 0, "the outbox ends empty");
	for (i = 0; i < NTREE; i++)
		cr_assert_geq(fk.got[i], 1, "t-%d never delivered", i);
	cr_expect_gt(fk.reports, (unsigned)NTREE, "failed ones sent again");
	cr_expect_eq(fk.other, 0);
	cr_expect_eq(drain_stalled(fk.d), 0);
}

/* Three entries in order: t-a, t-big, t-c. */
static void
three_entries(void)
{
	struct store_txn	*t = NULL;

	cr_assert_eq(store_begin(st, 0, &t), 0);
	put(t, "t-a", NULL);
	put(t, "t-big", NULL);
	put(t, "t-c", NULL);
	put(t, "t-d", "t-c");
	cr_assert_eq(store_commit(&t), 0);
	revoke("t-a");
	revoke("t-big");
	revoke("t-c");
}

/*
 * The far end rejects t-big for good (a topic's max.message.bytes):
 * the drain stops on its entry, says so, sends nothing after it (t-c
 * is never sent), never skips it, and resumes once it is accepted.
 */
Test(drain, rejected_message_stalls_never_skipped)
{
	unsigned	c, big;

	three_entries();
	fk.reject = "t-big";
	pump(5);
	cr_assert_eq(drain_stalled(fk.d), 1, "output_stalled");
	/* t-c may have gone before the rejection came back: pipelining */
	c = fk.sent_key[2];
	big = fk.sent_key[1];
	pump(50);
	cr_expect_eq(drain_stalled(fk.d), 1, "still stalled");
	cr_expect_eq(fk.sent_key[0], 1, "t-a, delivered, went once");
	cr_expect_gt(fk.sent_key[1], big, "t-big tried again");
	cr_expect_eq(fk.sent_key[2], c, "nothing after t-big while stalled");
	cr_expect_eq(outbox(), 2, "t-big's and t-c's entries kept");

	fk.reject = NULL;	/* the operator raised the limit */
	pump(50);
	cr_expect_eq(drain_stalled(fk.d), 0, "resumed");
	cr_expect_eq(outbox(), 0);
	cr_expect_eq(fk.sent_key[2], c + 1, "t-c (again) after t-big");
	cr_expect_eq(fk.sent_key[0], 1, "t-a not again");
}

/* The same when the producer refuses t-big at send (too large). */
Test(drain, refused_message_stalls_never_skipped)
{
	three_entries();
	fk.refuse = "t-big";
	pump(50);
	cr_assert_eq(drain_stalled(fk.d), 1, "output_stalled");
	cr_expect_eq(fk.sent_key[0], 1);
	cr_expect_eq(fk.sent_key[2], 0, "t-c waits behind t-big");
	cr_expect_eq(outbox(), 2);

	fk.refuse = NULL;
	pump(50);
	cr_expect_eq(drain_stalled(fk.d), 0, "resumed");
	cr_expect_eq(outbox(), 0);
	cr_expect_eq(fk.sent_key[1], 1, "t-big went once accepted");
	cr_expect_eq(fk.sent_key[2], 1);
}

/* A slice at a time: one pump sends at most DRAIN_SLICE messages. */
Test(drain, slices_bounded)
{
	unsigned	before;

	tree();
	revoke("t-0");
	cr_assert_eq(drain_pump(fk.d), 0);
	cr_expect_leq(fk.sends, DRAIN_SLICE, "%u sent in one pump",
	    fk.sends);
	cr_expect_eq(drain_more(fk.d), 1, "more to send");
	before = fk.sends;
	cr_assert_eq(drain_pump(fk.d), 0);
	cr_expect_gt(fk.sends, before);
	pump(100);
	cr_expect_eq(outbox(), 0);
}

/*
 * While it waits to send again after failed deliveries, the drain says
 * it has no more to send, so the daemon does not pump it in a busy
 * loop (drain_more() used to repeat the last full slice).
 */
Test(drain, no_busy_loop_while_waiting_to_retry)
{
	unsigned	before;
	int		i, spins = 0;

	tree();
	revoke("t-0");
	drain_set_retry(fk.d, 1, 5);
	cr_assert_eq(drain_pump(fk.d), 0);	/* a full slice */
	cr_assert_eq(drain_more(fk.d), 1);
	fk.fail_from = 1;			/* all of it fails */
	fk.fail_to = 100000;
	cr_assert_eq(drain_pump(fk.d), 0);	/* reports; again in 1 s */
	before = fk.sends;
	for (i = 0; i < 1000; i++) {
		cr_assert_eq(drain_pump(fk.d), 0);
		if (!drain_more(fk.d))
			break;
		spins++;
	}
	cr_expect_eq(fk.sends, before, "nothing sent during the wait");
	cr_expect_lt(spins, 10, "drain_more() said 1 on %d idle pumps",
	    spins);
}
