/*
 * kafka_in: the input source (all partitions, assigned directly, offsets
 * from the caller) and the whole-topic reader of `revokerctl replay`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consumers/kafka/kafka.h"
#include "consumers/kafka/kafka_int.h"
#include "consumers/log/log.h"

#define BATCH_MAX	4096
#define WM_TIMEOUT	5000
#define READ_IDLE_MAX	10	/* seconds without a message: the end */

struct kafka_in {
	rd_kafka_t		*rk;
	rd_kafka_queue_t	*q;
	char			*topic;
	int			 np;
	int64_t			*next;		/* next offset, per partition */
	int			 pipe[2];
	uint8_t			*gap;	/* per partition: out of range */
	int			 ngap;
	void			(*gap_fn)(void *, int32_t, int64_t, int64_t);
	void			*gap_arg;
	rd_kafka_message_t	*msgs[BATCH_MAX];
	struct apply_msg	 km[BATCH_MAX];
};

static const char *consumer_kv[] = {
	"group.id", "revokerd",		/* never joined: assign() only */
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"enable.partition.eof", "false",
	"fetch.wait.max.ms", "10",
	"fetch.error.backoff.ms", "100",
	/*
	 * A stored offset out of the log's range: an error, not a silent
	 * jump, so that kafka_in reports the gap (the whole-topic reader
	 * starts at the log start and needs no such care).
	 */
	"auto.offset.reset", "error",
	NULL
};

static const char *reader_kv[] = {
	"group.id", "revokerctl",	/* never joined: assign() only */
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"enable.partition.eof", "false",
	"fetch.wait.max.ms", "10",
	"auto.offset.reset", "earliest",
	NULL
};

struct kafka_in *
kafka_in_new(const char *brokers, const char *topic, char *errbuf,
    size_t errlen)
{
	struct kafka_in *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->pipe[0] = in->pipe[1] = -1;
	if ((in->topic = strdup(topic)) == NULL)
		goto fail;
	in->rk = kafka_client_new(RD_KAFKA_CONSUMER, brokers, consumer_kv,
	    errbuf,
	    errlen);
	if (in->rk == NULL)
		goto fail;
	rd_kafka_poll_set_consumer(in->rk);
	if ((in->q = rd_kafka_queue_get_consumer(in->rk)) == NULL) {
		snprintf(errbuf, errlen, "no consumer queue");
		goto fail;
	}
	if (pipe2(in->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		snprintf(errbuf, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	rd_kafka_queue_io_event_enable(in->q, in->pipe[1], "1", 1);
	return in;
fail:
	kafka_in_free(&in);
	return NULL;
}

/* Assign every partition at in->next[] (-1: the beginning). */
static int
assign_all(struct kafka_in *in, char *errbuf, size_t errlen)
{
	rd_kafka_topic_partition_list_t *tl;
	rd_kafka_resp_err_t err;
	int p;

	tl = rd_kafka_topic_partition_list_new(in->np);
	for (p = 0; p < in->np; p++)
		rd_kafka_topic_partition_list_add(tl, in->topic, p)->offset =
		    in->next[p] < 0 ? RD_KAFKA_OFFSET_BEGINNING : in->next[p];
	err = rd_kafka_assign(in->rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	if (err != 0) {
		snprintf(errbuf, errlen, "assign: %s", rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

int
kafka_in_rewind(struct kafka_in *in, char *errbuf, size_t errlen)
{
	/* Unassign first, so that no message fetched before is kept. */
	(void)rd_kafka_assign(in->rk, NULL);
	return assign_all(in, errbuf, errlen);
}

int
kafka_in_start(struct kafka_in *in, int64_t (*offset_of)(void *, int32_t),
    void *arg, char *errbuf, size_t errlen)
{
	int64_t lo, hi;
	int p;

	if ((in->np = kafka_topic_partitions(in->rk, in->topic, errbuf,
	    errlen)) <= 0)
		return -1;
	if ((in->next = calloc(in->np, sizeof(*in->next))) == NULL ||
	    (in->gap = calloc(in->np, 1)) == NULL)
		return -1;
	for (p = 0; p < in->np; p++) {
		in->next[p] = offset_of(arg, p);
		if (in->next[p] < 0 && rd_kafka_query_watermark_offsets(in->rk,
		    in->topic, p, &lo, &hi, WM_TIMEOUT) == 0)
			in->next[p] = lo;
	}
	if (assign_all(in, errbuf, errlen) == -1)
		return -1;
	log_info("consuming %s: %d partitions", in->topic, in->np);
	return 0;
}

int
kafka_in_fd(struct kafka_in *in)
{
	return in->pipe[0];
}

void
kafka_in_ack(struct kafka_in *in)
{
	char buf[256];

	while (read(in->pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* Keep the messages, log the errors; returns the count kept. */
static size_t
sift(struct kafka_in *in, ssize_t n)
{
	rd_kafka_message_t *m;
	size_t k = 0;
	ssize_t i;

	for (i = 0; i < n; i++) {
		m = in->msgs[i];
		if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET &&
		    m->partition >= 0 && m->partition < in->np) {
			in->gap[m->partition] = 1;
			in->ngap++;
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err != 0) {
			log_warnx("kafka consumer: %s",
			    rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		in->km[k].topic = in->topic;
		in->km[k].partition = m->partition;
		in->km[k].offset = m->offset;
		in->km[k].key = m->key;
		in->km[k].klen = m->key_len;
		in->km[k].payload = m->payload;
		in->km[k].len = m->len;
		in->msgs[k++] = m;
	}
	return k;
}

/*
 * Partitions whose next offset fell out of the log's range, now that
 * every message before the error is applied (so in->next[] is where the
 * fetch stopped): report [next, log start) and go on from the log start.
 * The log start is asked of the broker (a blocking call, on this rare
 * path only); a partition it cannot be had for stays marked and is
 * tried at the next poll.
 */
static void
gaps(struct kafka_in *in)
{
	char err[256];
	int64_t lo, hi, to;
	int p, moved = 0;

	for (p = 0; p < in->np; p++) {
		if (!in->gap[p])
			continue;
		if (rd_kafka_query_watermark_offsets(in->rk, in->topic, p, &lo,
		    &hi, WM_TIMEOUT) != 0)
			continue;
		/* Past the end: the topic was recreated; how much is gone is
		 * not known. */
		to = in->next[p] > hi ? -1 : lo;
		if (in->gap_fn != NULL)
			in->gap_fn(in->gap_arg, p, in->next[p], to);
		in->next[p] = lo;
		in->gap[p] = 0;
		in->ngap--;
		moved = 1;
	}
	if (moved && assign_all(in, err, sizeof(err)) == -1)
		log_warnx("input: %s", err);
}

void
kafka_in_on_gap(struct kafka_in *in,
    void (*fn)(void *, int32_t, int64_t, int64_t), void *arg)
{
	in->gap_fn = fn;
	in->gap_arg = arg;
}

long
kafka_in_poll(struct kafka_in *in, size_t max,
    int (*fn)(void *, const struct apply_msg *, size_t), void *arg)
{
	ssize_t n;
	size_t k, i;
	int rc = 0;

	if (max > BATCH_MAX)
		max = BATCH_MAX;
	n = rd_kafka_consume_batch_queue(in->q, 0, in->msgs, max);
	if (n <= 0)
		return 0;
	k = sift(in, n);
	if (k > 0)
		rc = fn(arg, in->km, k);
	for (i = 0; i < k; i++) {
		if (rc == 0 && in->km[i].partition < in->np)
			in->next[in->km[i].partition] = in->km[i].offset + 1;
		rd_kafka_message_destroy(in->msgs[i]);
	}
	if (rc == 0 && in->ngap > 0)
		gaps(in);
	/* n, not k: a batch of errors alone must not look like an end. */
	return rc == 0 ? (long)n : -1;
}

int64_t
kafka_in_lag(struct kafka_in *in, int *known)
{
	int64_t lag = 0, lo, hi, at;
	int p;

	*known = in->np > 0;
	for (p = 0; p < in->np; p++) {
		if (rd_kafka_get_watermark_offsets(in->rk, in->topic, p, &lo,
		    &hi) != 0 || hi < 0) {
			*known = 0;
			continue;
		}
		/*
		 * next[p] < 0: nothing read yet and the start unknown when
		 * assigned (a topic just created, its watermarks not served
		 * yet): we read from the log's start, lo.  Not next[p] itself,
		 * or an empty new topic looked 1 behind for ever.
		 */
		if ((at = in->next[p]) < 0 && (at = lo) < 0) {
			*known = 0;
			continue;
		}
		if (hi > at)
			lag += hi - at;
	}
	return lag;
}

void
kafka_in_free(struct kafka_in **inp)
{
	struct kafka_in *in;

	if (inp == NULL || (in = *inp) == NULL)
		return;
	if (in->q != NULL)
		rd_kafka_queue_destroy(in->q);
	if (in->rk != NULL) {
		rd_kafka_consumer_close(in->rk);
		rd_kafka_destroy(in->rk);
	}
	if (in->pipe[0] != -1)
		close(in->pipe[0]);
	if (in->pipe[1] != -1)
		close(in->pipe[1]);
	free(in->next);
	free(in->gap);
	free(in->topic);
	free(in);
	*inp = NULL;
}

/* The whole-topic reader. */
struct reader {
	int64_t		*end;
	int64_t		*next;
	int		 np;
	uint64_t	 done, total;
};

static int
reader_start(rd_kafka_t *rk, const char *topic, struct reader *r,
    char *errbuf, size_t errlen)
{
	rd_kafka_topic_partition_list_t *tl;
	int64_t lo, hi;
	int p;

	if ((r->np = kafka_topic_partitions(rk, topic, errbuf, errlen)) <= 0)
		return -1;
	r->end = calloc(r->np, sizeof(*r->end));
	r->next = calloc(r->np, sizeof(*r->next));
	if (r->end == NULL || r->next == NULL)
		return -1;
	tl = rd_kafka_topic_partition_list_new(r->np);
	for (p = 0; p < r->np; p++) {
		if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
		    WM_TIMEOUT) != 0) {
			snprintf(errbuf, errlen, "watermarks of %s/%d", topic,
			    p);
			rd_kafka_topic_partition_list_destroy(tl);
			return -1;
		}
		r->next[p] = lo;
		r->end[p] = hi;
		r->total += hi - lo;
		rd_kafka_topic_partition_list_add(tl, topic, p)->offset = lo;
	}
	rd_kafka_assign(rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	return 0;
}

static int
reader_done(const struct reader *r)
{
	int p;

	for (p = 0; p < r->np; p++)
		if (r->next[p] < r->end[p])
			return 0;
	return 1;
}

int
kafka_read_topic(const char *brokers, const char *topic,
    int (*fn)(void *, const struct apply_msg *), void *arg,
    void (*progress)(void *, uint64_t, uint64_t), char *errbuf,
    size_t errlen)
{
	struct reader r = { NULL, NULL, 0, 0, 0 };
	struct apply_msg km;
	rd_kafka_message_t *m;
	rd_kafka_t *rk;
	int rc = 0, idle = 0;

	rk = kafka_client_new(RD_KAFKA_CONSUMER, brokers, reader_kv, errbuf,
	    errlen);
	if (rk == NULL)
		return -1;
	rd_kafka_poll_set_consumer(rk);
	if (reader_start(rk, topic, &r, errbuf, errlen) == -1)
		rc = -1;
	while (rc == 0 && !reader_done(&r)) {
		if ((m = rd_kafka_consumer_poll(rk, 1000)) == NULL) {
			/*
			 * Nothing for a while short of the end: the offsets
			 * left are transaction markers (never delivered) or
			 * were deleted.  Stop rather than wait forever.
			 */
			if (++idle < READ_IDLE_MAX)
				continue;
			log_warnx("%s: nothing more after %d s; the offsets "
			    "left are not messages (transaction markers?)",
			    topic, READ_IDLE_MAX);
			break;
		}
		idle = 0;
		if (m->err == 0 && m->partition < r.np &&
		    m->offset < r.end[m->partition]) {
			km.topic = topic;
			km.partition = m->partition;
			km.offset = m->offset;
			km.key = m->key;
			km.klen = m->key_len;
			km.payload = m->payload;
			km.len = m->len;
			r.next[m->partition] = m->offset + 1;
			rc = fn(arg, &km);
			if (progress != NULL && (++r.done & 4095) == 0)
				progress(arg, r.done, r.total);
		} else if (m->err != 0)
			log_warnx("kafka: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
	if (progress != NULL && rc == 0)
		progress(arg, r.done, r.total);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(r.end);
	free(r.next);
	return rc;
}

static int
topic_read(void *self, source_fn *fn, void *arg, source_progress_fn *progress,
    char *errbuf, size_t errlen)
{
	struct kafka_topic *kt = self;

	return kafka_read_topic(kt->brokers, kt->topic, fn, arg, progress,
	    errbuf, errlen);
}

static const struct source_ops topic_ops = { topic_read };

struct source
kafka_topic_source(struct kafka_topic *kt)
{
	struct source s = { &topic_ops, kt };

	return s;
}
