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

struct kafka_mock;

struct kafka_msg {
	const char	*topic;
	int32_t		 partition;
	int64_t		 offset;
	const void	*key;
	size_t		 klen;
	const void	*payload;
	size_t		 len;
};

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
 * Read topic on brokers from the first offset of every partition to the
 * high watermark seen at the start, calling fn for each message in
 * partition order (fn returns 0 to go on, non-zero to stop).  progress
 * (may be NULL) is called now and then with messages read and the total
 * expected.  Returns 0, fn's non-zero value, or -1 with errbuf.
 */
int		 kafka_read_topic(const char *brokers, const char *topic,
		    int (*fn)(void *, const struct kafka_msg *), void *arg,
		    void (*progress)(void *, uint64_t done, uint64_t total),
		    char *errbuf, size_t errlen);

#endif
