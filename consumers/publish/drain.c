/*
 * drain: the outbox publisher; see drain.h.
 *
 * Entries in flight sit in a ring of slots; a message's tag is the
 * generation and the slot, so a report finds its entry in O(1).  A
 * cascade entry of a million ids is sent in chunks, each derived in a
 * short read transaction, as the sink's queue allows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <assert.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "consumers/publish/drain.h"
#include "consumers/publish/publish.h"
#include "consumers/sink/sink.h"
#include "store/graph/store.h"

#define RING		4096
#define CHUNK		DRAIN_SLICE	/* ids of a cascade per read txn */
#define STALL_RETRY_S	5		/* a refused message is tried again */
#define FAIL_RETRY_S	1		/* after a failed delivery */
#define MAX_INFLIGHT	200000		/* messages */

struct slot {
	uint64_t	 seq;
	uint8_t		 kind;
	uint64_t	 total;		/* messages of the entry */
	uint64_t	 pos;		/* messages (cascade: ids) handled */
	uint64_t	 sent;		/* messages handed to the sink */
	uint64_t	 acked;
};

struct drain {
	struct store	*store;
	struct sink	 sink;		/* ops NULL: none yet */
	const char	*topic[PUB_NTOPICS];
	struct slot	 ring[RING];
	uint64_t	 head, tail;	/* slots in flight: [head, tail) */
	uint64_t	 cursor;	/* last seq taken into the ring */
	uint32_t	 gen;
	int		 failed;	/* a delivery failed: send again */
	int		 rejected;	/* one was refused for good */
	uint64_t	 reject_seq;	/* the first such entry */
	int		 reject_topic;
	uint64_t	 inflight;
	uint64_t	 delivered[PUB_NTOPICS];
	uint64_t	 waiting;
	struct publish_opts opts;
	/* during a send */
	struct slot	*cur;
	uint64_t	 emitted;	/* messages handled in this send */
	uint64_t	 ids;		/* cascade ids wholly handled */
	int		 last_topic;
	int		 full;
	uint64_t	 slice;		/* messages handled in this pump */
	int		 stalled;	/* a message was refused for good */
	uint64_t	 stall_seq;	/* its entry: none later is sent */
	time_t		 retry_at;	/* no sending before */
	int		 fail_s, stall_s;	/* drain_set_retry() */
};

struct drain *
drain_new(struct store *store, const char *trev, const char *tviol,
    const char *tdlq)
{
	struct drain *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->store = store;
	d->topic[PUB_REVOCATIONS] = trev;
	d->topic[PUB_VIOLATIONS] = tviol;
	d->topic[PUB_DLQ] = tdlq;
	d->gen = 1;
	d->fail_s = FAIL_RETRY_S;
	d->stall_s = STALL_RETRY_S;
	return d;
}

void
drain_set_retry(struct drain *d, int fail_s, int stall_s)
{
	d->fail_s = fail_s;
	d->stall_s = stall_s;
}

void
drain_set_sink(struct drain *d, const struct sink *sink)
{
	if (sink != NULL)
		d->sink = *sink;
	else
		memset(&d->sink, 0, sizeof(d->sink));
}

void
drain_set_mode(struct drain *d, int mode)
{
	d->opts.violations = mode != PROFILE_OFF;
	d->opts.enforce = mode == PROFILE_ENFORCE;
}

void
drain_free(struct drain **dp)
{
	if (dp == NULL || *dp == NULL)
		return;
	free(*dp);
	*dp = NULL;
}

void
drain_on_delivery(void *arg, uint64_t tag, int result)
{
	struct drain *d = arg;
	struct slot *s;
	int topic = (int)((tag >> 16) & 0xff) % PUB_NTOPICS;

	if (tag == DRAIN_TAG_OTHER || (uint32_t)(tag >> 32) != d->gen)
		return;
	s = &d->ring[(tag & 0xffff) % RING];
	assert(d->inflight > 0 && s->acked < s->sent);
	d->inflight--;
	if (result == SINK_REJECTED && (!d->rejected ||
	    s->seq < d->reject_seq)) {
		d->rejected = 1;
		d->reject_seq = s->seq;
		d->reject_topic = topic;
	}
	if (result != SINK_DELIVERED) {
		d->failed = 1;
		return;
	}
	s->acked++;
	d->delivered[topic]++;
}

/*
 * Stop on entry seq: nothing after it is sent until it is delivered
 * (retire() ends the stall), and it is tried again every STALL_RETRY_S.
 */
static void
stall(struct drain *d, uint64_t seq, int topic, const char *why)
{
	if (!d->stalled)
		log_error("outbox: entry %llu: a %s message was %s; "
		    "publishing stops here until it is accepted (tried "
		    "again every %d s); /readyz says output_stalled",
		    (unsigned long long)seq, d->topic[topic], why,
		    d->stall_s);
	d->stalled = 1;
	d->stall_seq = seq;
	d->retry_at = time(NULL) + d->stall_s;
}

static int
emit(void *arg, int topic, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct drain *d = arg;
	uint64_t tag = ((uint64_t)d->gen << 32) | ((uint64_t)topic << 16) |
	    (uint64_t)(d->cur - d->ring);
	int rc;

	d->last_topic = topic;

	rc = d->sink.ops->send(d->sink.self, d->topic[topic], key, klen, val,
	    vlen, tag);
	if (rc == SINK_REFUSED) {
		/*
		 * Refused for good (too large for the producer): never
		 * skipped.  The drain stops on it, as if the queue were
		 * full, and tries it again every STALL_RETRY_S.
		 */
		if (!d->stalled)
			log_warnx("outbox: entry %llu: message key %.*s "
			    "refused", (unsigned long long)d->cur->seq,
			    (int)(klen > 256 ? 256 : klen), key ? key : "");
		stall(d, d->cur->seq, topic, "refused for good by the "
		    "producer (too large)");
	}
	if (rc != SINK_SENT) {
		d->full = 1;	/* queue full or not now: retry later */
		return -1;
	}
	d->cur->sent++;
	d->emitted++;
	d->ids += topic == PUB_REVOCATIONS;
	d->inflight++;
	return 0;
}

/* Send what remains of slot s, a chunk at a time. */
static int
send_slot(struct drain *d, struct slot *s)
{
	struct store_txn *txn;
	const void *data;
	size_t len, n;
	uint64_t seq;
	uint8_t kind;
	long r;
	int rc;

	if (store_begin(d->store, 1, &txn) == -1)
		return -1;
	rc = store_outbox_next(txn, s->seq - 1, &seq, &kind, &data, &len);
	if (rc != 0 || seq != s->seq) {
		store_abort(&txn);
		return -1;
	}
	d->cur = s;
	d->emitted = d->ids = 0;
	d->full = 0;
	if (kind == STORE_OUT_CASCADE) {
		n = len / sizeof(uint64_t) - s->pos;
		if (n > CHUNK)
			n = CHUNK;
		r = publish_entry_opts(txn, kind, (const uint64_t *)data +
		    s->pos, n * sizeof(uint64_t), &d->opts, emit, d);
		/*
		 * Full: resume at the first id not wholly sent (its
		 * revocation again when its violation did not go: same id).
		 * Else every id is done, those the publisher skipped too.
		 */
		if (d->full)
			s->pos += d->ids - (d->ids > 0 &&
			    d->last_topic == PUB_VIOLATIONS);
		else
			s->pos += n;
	} else {
		r = publish_entry(txn, kind, data, len, emit, d);
		if (!d->full)
			s->pos = s->total;
	}
	if (r == -1 && !d->full) {
		/* Not the sink: the store failed us.  Keep the entry. */
		store_abort(&txn);
		return -1;
	}
	store_abort(&txn);
	return 0;
}

/* Take the next entry after the cursor into a new slot; 0 if none. */
static int
take_next(struct drain *d, struct slot **sp)
{
	struct store_txn *txn;
	struct slot *s;
	const void *data;
	size_t len;
	uint64_t seq;
	uint8_t kind;
	int rc;

	if (d->stalled && d->cursor >= d->stall_seq)
		return 0;	/* nothing past a stalled entry */
	if (store_begin(d->store, 1, &txn) == -1)
		return -1;
	rc = store_outbox_next(txn, d->cursor, &seq, &kind, &data, &len);
	store_abort(&txn);
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	s = &d->ring[d->tail++ % RING];
	memset(s, 0, sizeof(*s));
	s->seq = seq;
	s->kind = kind;
	s->total = kind == STORE_OUT_CASCADE ? len / sizeof(uint64_t) : 1;
	d->cursor = seq;
	*sp = s;
	return 1;
}

static int
fill(struct drain *d)
{
	struct slot *s;
	int rc;

	d->full = 0;
	if (d->retry_at != 0 && time(NULL) < d->retry_at)
		return 0;
	d->retry_at = 0;
	assert(d->head <= d->tail && d->tail - d->head <= RING);
	for (d->slice = 0; !d->full && d->inflight < MAX_INFLIGHT &&
	    d->slice < DRAIN_SLICE; d->slice += d->emitted) {
		s = d->head < d->tail ? &d->ring[(d->tail - 1) % RING] : NULL;
		if (s == NULL || s->pos >= s->total) {
			if (d->tail - d->head >= RING)
				break;
			if ((rc = take_next(d, &s)) <= 0)
				return rc;
		}
		if (send_slot(d, s) == -1)
			return -1;
	}
	return 0;
}

/* Delete the delivered entries at the head of the ring. */
static int
retire(struct drain *d)
{
	struct store_txn *txn = NULL;
	struct slot *s;

	while (d->head < d->tail) {
		s = &d->ring[d->head % RING];
		if (s->pos < s->total || s->acked < s->sent)
			break;
		if (txn == NULL && store_begin(d->store, 0, &txn) == -1)
			return -1;
		if (store_outbox_del(txn, s->seq) == -1) {
			store_abort(&txn);
			return -1;
		}
		if (d->stalled && s->seq >= d->stall_seq) {
			log_info("outbox: entry %llu delivered: publishing "
			    "again", (unsigned long long)s->seq);
			d->stalled = 0;
		}
		d->head++;
	}
	return txn == NULL ? 0 : store_commit(&txn);
}

int
drain_pump(struct drain *d)
{
	struct store_txn *txn;

	d->slice = 0;	/* drain_more() tells of this pump alone */
	d->full = 0;
	if (d->sink.ops == NULL)
		return 0;
	d->sink.ops->poll(d->sink.self, 0);
	if (d->sink.ops->fatal(d->sink.self))
		return -1;
	if (retire(d) == -1)	/* what was delivered goes, failed or not */
		return -1;
	if (d->failed) {
		if (d->inflight > 0)
			return 0;
		if (d->rejected)
			stall(d, d->reject_seq, d->reject_topic, "refused for "
			    "good by the broker (too large for the topic, or "
			    "not allowed)");
		else {
			log_warnx("outbox: a delivery failed; sending again "
			    "from the oldest entry in %d s", d->fail_s);
			d->retry_at = time(NULL) + d->fail_s;
		}
		d->failed = d->rejected = 0;
		d->gen++;
		d->head = d->tail = d->cursor = 0;
	}
	if (fill(d) == -1)
		return -1;
	if (store_begin(d->store, 1, &txn) == 0) {
		(void)store_outbox_count(txn, &d->waiting);
		store_abort(&txn);
	}
	return 0;
}

void
drain_counts(struct drain *d, uint64_t delivered[3], uint64_t *waiting)
{
	memcpy(delivered, d->delivered, sizeof(d->delivered));
	*waiting = d->waiting;
}

int
drain_more(const struct drain *d)
{
	return !d->full && !d->stalled && d->slice >= DRAIN_SLICE;
}

int
drain_stalled(const struct drain *d)
{
	return d->stalled;
}
