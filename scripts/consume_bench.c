/*
 * consume-bench: the baseline of the ingest bench, a bare librdkafka
 * consumer that reads a whole topic and does nothing with it.
 *
 * A high-level consumer with revokerd's input settings (its own group
 * id, no offset commits, fetch.wait.max.ms 10; consumers/kafka/
 * kafka_in.c) assigns every partition of the topic from its beginning,
 * reads until each partition reaches the high watermark it had at the
 * start, counts messages and bytes, and exits.  The time runs from the
 * creation of the client to the last message, as the ingest bench times
 * revokerd from its start to its last event applied.
 *
 * usage: consume-bench -b BROKERS -t TOPIC [-n EXPECTED]
 * Prints one tab-separated line: "consume MESSAGES BYTES SECONDS".
 * With -n, exits 1 unless exactly EXPECTED messages were read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS	10000

static const char *const conf_kv[] = {
	"group.id", "consume-bench",	/* never joined: assign() only */
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	"enable.partition.eof", "false",
	"fetch.wait.max.ms", "10",
	"auto.offset.reset", "earliest",
	NULL
};

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "consume-bench: %s\n", what);
	exit(1);
}

static rd_kafka_t *
client(const char *brokers)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	rd_kafka_t	*rk;
	char		 err[512];
	size_t		 i;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK)
		die(err);
	for (i = 0; conf_kv[i] != NULL; i += 2)
		if (rd_kafka_conf_set(conf, conf_kv[i], conf_kv[i + 1], err,
		    sizeof(err)) != RD_KAFKA_CONF_OK)
			die(err);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err,
	    sizeof(err))) == NULL)
		die(err);
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

/* The topic's partitions, each with its high watermark in *end. */
static int
partitions(rd_kafka_t *rk, const char *topic, int64_t **end)
{
	const struct rd_kafka_metadata	*md;
	rd_kafka_topic_t		*rkt;
	int64_t				 lo;
	int				 np, p;

	if ((rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL)
		die("rd_kafka_topic_new");
	if (rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
	    md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
		die("no metadata for the topic");
	np = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	if (np <= 0 || (*end = calloc((size_t)np, sizeof(**end))) == NULL)
		die("no partitions");
	for (p = 0; p < np; p++)
		if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo,
		    &(*end)[p], TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
			die("cannot read the watermarks");
	return np;
}

static void
assign_all(rd_kafka_t *rk, const char *topic, int np)
{
	rd_kafka_topic_partition_list_t	*l;
	int				 p;

	l = rd_kafka_topic_partition_list_new(np);
	for (p = 0; p < np; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	if (rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR)
		die("rd_kafka_assign");
	rd_kafka_topic_partition_list_destroy(l);
}

/* Read until every partition reached its end; count and sum. */
static void
drain(rd_kafka_t *rk, const int64_t *end, int np, long long *n,
    long long *bytes)
{
	rd_kafka_message_t	*m;
	int			 left = 0, p;
	int64_t			*next;

	if ((next = calloc((size_t)np, sizeof(*next))) == NULL)
		die("out of memory");
	for (p = 0; p < np; p++)
		left += end[p] > 0;
	while (left > 0) {
		if ((m = rd_kafka_consumer_poll(rk, TIMEOUT_MS)) == NULL)
			die("no message for 10 s before the end");
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
		    m->partition >= 0 && m->partition < np) {
			(*n)++;
			*bytes += (long long)m->len;
			p = m->partition;
			if (next[p] < end[p] && m->offset + 1 >= end[p])
				left--;
			next[p] = m->offset + 1;
		} else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			fprintf(stderr, "consume-bench: %s\n",
			    rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
	free(next);
}

int
main(int argc, char *argv[])
{
	const char	*brokers = NULL, *topic = NULL;
	long long	 want = -1, n = 0, bytes = 0;
	rd_kafka_t	*rk;
	int64_t		*end;
	double		 t0;
	int		 ch, np;

	while ((ch = getopt(argc, argv, "b:n:t:")) != -1) {
		switch (ch) {
		case 'b': brokers = optarg; break;
		case 'n': want = atoll(optarg); break;
		case 't': topic = optarg; break;
		default: goto usage;
		}
	}
	if (brokers == NULL || topic == NULL || optind != argc)
		goto usage;
	t0 = now();
	rk = client(brokers);
	np = partitions(rk, topic, &end);
	assign_all(rk, topic, np);
	drain(rk, end, np, &n, &bytes);
	t0 = now() - t0;
	printf("consume\t%lld\t%lld\t%.6f\n", n, bytes, t0);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	free(end);
	return want >= 0 && n != want;
usage:
	fprintf(stderr, "usage: consume-bench -b BROKERS -t TOPIC "
	    "[-n EXPECTED]\n");
	return 2;
}
