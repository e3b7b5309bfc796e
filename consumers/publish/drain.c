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

#include "consumers/apply/apply.h"
#include "consumers/publish/drain.h"
#include "consumers/kafka/kafka.h"
#include "consumers/log/log.h"
#include "consumers/publish/publish.h"
#include "store/graph/store.h"

#define RING		4096
#define CHUNK		DRAIN_SLICE	/* ids of a cascade per read txn */
#define STALL_RETRY_S	5		/* a refused message is tried again */
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
	struct kafka_out *out;
	const char	*topic[PUB_NTOPICS];
	struct slot	 ring[RING];
	uint64_t	 head, tail;	/* slots in flight: [head, tail) */
	uint64_t	 cursor;	/* last seq taken into the ring */
	uint32_t	 gen;
	int		 failed;
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
	time_t		 stall_at;	/* when it was last tried */
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
	return d;
}

void
drain_set_sink(struct drain *d, struct kafka_out *out)
{
	d->out = out;
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
drain_on_delivery(void *arg, uint64_t tag, int ok)
{
	struct drain *d = arg;
	struct slot *s;

	if (tag == DRAIN_TAG_OTHER || (uint32_t)(tag >> 32) != d->gen)
		return;
	s = &d->ring[(tag & 0xffff) % RING];
	d->inflight--;
	if (!ok) {
		d->failed = 1;
		return;
	}
	s->acked++;
	d->delivered[((tag >> 16) & 0xff) % PUB_NTOPICS]++;
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

	rc = kafka_out_send(d->out, d->topic[topic], key, klen, val, vlen,
	    tag);
	if (rc == 1 || rc == -1) {
		d->full = 1;	/* queue full or not now: retry later */
		return -1;
	}
	if (rc == 2) {
		/*
		 * Refused for good (too large for the producer or the
		 * topic): never skipped.  The drain stops on it, as if the
		 * queue were full, and tries it again every STALL_RETRY_S.
		 */
		if (!d->stalled)
			log_error("outbox: entry %llu: a %s message (key %.*s) "
			    "was refused for good (too large for the topic "
			    "or the producer); publishing stops here until "
			    "it is accepted; /readyz says output_stalled",
			    (unsigned long long)d->cur->seq, d->topic[topic],
			    (int)(klen > 256 ? 256 : klen), key ? key : "");
		d->stalled = 1;
		d->stall_at = time(NULL);
		d->full = 1;
		return -1;
	}
	if (d->stalled) {
		log_info("outbox: entry %llu accepted: publishing again",
		    (unsigned long long)d->cur->seq);
		d->stalled = 0;
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
	if (d->stalled && time(NULL) - d->stall_at < STALL_RETRY_S)
		return 0;
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
		d->head++;
	}
	return txn == NULL ? 0 : store_commit(&txn);
}

int
drain_pump(struct drain *d)
{
	struct store_txn *txn;

	if (d->out == NULL)
		return 0;
	kafka_out_poll(d->out, 0);
	if (kafka_out_fatal(d->out))
		return -1;
	if (d->failed) {
		if (d->inflight > 0)
			return 0;
		log_warnx("outbox: a delivery failed; sending again from "
		    "the oldest entry");
		d->failed = 0;
		d->gen++;
		d->head = d->tail = d->cursor = 0;
	}
	if (retire(d) == -1 || fill(d) == -1)
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
