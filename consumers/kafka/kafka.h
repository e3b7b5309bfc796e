/*
 * kafka: the Kafka side of revokerd, on librdkafka.
 *
 * - an input source: all partitions of the input topic, assigned
 *   directly (no consumer group), from offsets the caller gives (kept in
 *   LMDB, not in Kafka), delivered to the caller in batches;
 * - an output sink: an idempotent producer with delivery reports;
 * - the embedded broker: librdkafka's mock cluster, for `make run`;
 * - a one-shot reader of a whole topic, for `revokerctl replay`.
 */
#ifndef KAFKA_H
#define KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "consumers/apply/apply.h"	/* struct apply_msg: what is consumed */
#include "consumers/sink/sink.h"
#include "consumers/source/source.h"

struct kafka_mock;

/*
 * Start an embedded Kafka-protocol broker (librdkafka's mock cluster)
 * with the topics given, each with `partitions` partitions.  *bootstrap
 * gets its address ("127.0.0.1:PORT").  NULL and errbuf on failure.
 */
struct kafka_mock *kafka_mock_start(const char *const *topics, size_t ntopics,
		    int partitions, char *bootstrap, size_t blen,
		    char *errbuf, size_t errlen);
void		 kafka_mock_stop(struct kafka_mock **);

/*
 * Create those of topics that do not exist yet on brokers, with
 * `partitions` partitions each.  0 or -1 with errbuf.
 */
int		 kafka_create_topics(const char *brokers,
		    const char *const *topics, size_t n, int partitions,
		    char *errbuf, size_t errlen);

/*
 * Read topic on brokers from the first offset of every partition to the
 * high watermark seen at the start, calling fn for each message in
 * partition order (fn returns 0 to go on, non-zero to stop).  progress
 * (may be NULL) is called now and then with messages read and the total
 * expected.  Returns 0, fn's non-zero value, or -1 with errbuf.
 */
int		 kafka_read_topic(const char *brokers, const char *topic,
		    int (*fn)(void *, const struct apply_msg *), void *arg,
		    void (*progress)(void *, uint64_t done, uint64_t total),
		    char *errbuf, size_t errlen);
/*
 * kafka_read_topic() behind struct source (consumers/source/source.h):
 * the caller owns *kt and keeps it while the source is used.
 */
struct kafka_topic {
	const char	*brokers;
	const char	*topic;
};
struct source	 kafka_topic_source(struct kafka_topic *kt);

/*
 * The input source: all partitions of one topic, assigned directly.
 * new: NULL and errbuf on failure.  start: assign every partition at
 * the offset offset_of() gives (-1: the beginning); 0 or -1.
 */
struct kafka_in;
struct kafka_in	*kafka_in_new(const char *brokers, const char *topic,
		    char *errbuf, size_t errlen);
int		 kafka_in_start(struct kafka_in *,
		    int64_t (*offset_of)(void *, int32_t partition), void *arg,
		    char *errbuf, size_t errlen);
/* A descriptor that turns readable when messages wait; -1 if none. */
int		 kafka_in_fd(struct kafka_in *);
/* Drain the wake-up descriptor. */
void		 kafka_in_ack(struct kafka_in *);
/*
 * Hand up to max waiting messages to fn in one call (without
 * blocking); errors of the consumer are logged.  Returns the count
 * taken from the queue (messages and errors; 0: it was empty), or -1
 * when fn failed: the caller must then stop (its state and offsets are
 * in its store, from which a restart resumes).
 */
long		 kafka_in_poll(struct kafka_in *, size_t max,
		    int (*fn)(void *, const struct apply_msg *, size_t n),
		    void *arg);
/*
 * fn(arg, partition, from, to) is called when messages [from, to) of a
 * partition were deleted before they were read (to is -1 when the
 * topic was recreated and how many is not known); reading goes on from
 * the log start.
 */
void		 kafka_in_on_gap(struct kafka_in *,
		    void (*fn)(void *, int32_t, int64_t, int64_t), void *arg);
/*
 * Read again from the offsets after the last batch fn accepted: what
 * was fetched since (a batch fn refused, and all after it) is dropped
 * and fetched anew.  0 or -1 with errbuf.
 */
int		 kafka_in_rewind(struct kafka_in *, char *errbuf,
    size_t errlen);
/*
 * Messages behind the high watermarks, and 1 in *known when every
 * partition has reported one.  Cheap (cached by librdkafka).
 */
int64_t		 kafka_in_lag(struct kafka_in *, int *known);
void		 kafka_in_free(struct kafka_in **);

/*
 * The output sink: an idempotent producer.  send copies the message;
 * tag comes back with its delivery report, dr(arg, tag, SINK_DELIVERED,
 * SINK_FAILED or SINK_REJECTED).  send returns SINK_SENT, SINK_FULL to
 * retry later (the local queue is full, or the topic is not known yet:
 * poll, then send again), SINK_REFUSED when the message can never go
 * (too large: it is logged), or -1.  kafka_out_sink() is the same
 * behind struct sink (consumers/sink/sink.h), for the drain.
 */
struct kafka_out;
struct kafka_out *kafka_out_new(const char *brokers, sink_report_fn *dr,
		    void *arg, char *errbuf, size_t errlen);
struct sink	 kafka_out_sink(struct kafka_out *);
int		 kafka_out_send(struct kafka_out *, const char *topic,
		    const void *key, size_t klen, const void *val, size_t vlen,
		    uint64_t tag);
/*
 * Learn topic's partitions now, not at its first message (up to 8
 * topics; 0 or -1).
 */
int		 kafka_out_topic(struct kafka_out *, const char *topic);
/* Serve delivery reports (calls dr); never blocks when timeout is 0. */
void		 kafka_out_poll(struct kafka_out *, int timeout_ms);
/* 1 once the producer has hit a fatal error (it cannot send again). */
int		 kafka_out_fatal(struct kafka_out *);
/* Messages not yet acknowledged by the broker. */
int		 kafka_out_len(struct kafka_out *);
/* Wait up to timeout_ms for every message; 0 if all went, else -1. */
int		 kafka_out_flush(struct kafka_out *, int timeout_ms);
void		 kafka_out_free(struct kafka_out **);

#endif
