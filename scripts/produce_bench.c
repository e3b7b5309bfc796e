/*
 * produce-bench: the baseline of the cascade publish bench, a bare
 * idempotent librdkafka producer; also the loader of the bench's input
 * topics.
 *
 * The producer has revokerd's output settings (consumers/kafka/
 * kafka_out.c: enable.idempotence, so acks=all; linger.ms 5; the same
 * queue and message limits).  With -n it sends N messages of -s bytes,
 * each keyed by a distinct 16-character key as revokerd keys its
 * revocations by jti, to the default partitioner, and times from the
 * first send to the last delivery report.  With -f it sends every line
 * of FILE, "PARTITION<tab>PAYLOAD" to that partition (the output of
 * `revokerctl gen --partitions`), or a line with no tab to the
 * partitioner, with no key.
 *
 * With -C it only creates the topics named by -t (a comma-separated
 * list) with PARTITIONS partitions each, through the admin API, so that
 * the bench starts no JVM per topic; a topic that exists is fine.
 *
 * usage: produce-bench -b BROKERS -t TOPIC (-n N -s SIZE | -f FILE)
 *        produce-bench -b BROKERS -t TOPIC[,TOPIC...] -C PARTITIONS
 * Prints one tab-separated line: "produce MESSAGES BYTES SECONDS".
 * Exits 1 if any delivery (or creation) failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *const conf_kv[] = {
	"enable.idempotence", "true",
	"linger.ms", "5",
	"message.timeout.ms", "600000",
	"queue.buffering.max.messages", "1000000",
	"queue.buffering.max.kbytes", "1048576",
	"message.max.bytes", "2000000",
	NULL
};

static long long	 delivered, failed;

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
	fprintf(stderr, "produce-bench: %s\n", what);
	exit(1);
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		delivered++;
	else if (failed++ == 0)
		fprintf(stderr, "produce-bench: delivery failed: %s\n",
		    rd_kafka_err2str(m->err));
}

static rd_kafka_t *
producer(const char *brokers)
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
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL)
		die(err);
	return rk;
}

/* One message, copied; waits for room when the queue is full. */
static void
send1(rd_kafka_t *rk, const char *topic, int32_t part, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	rd_kafka_resp_err_t	 e;

	for (;;) {
		e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
		    RD_KAFKA_V_PARTITION(part),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_KEY(key, klen),
		    RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen),
		    RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(rk, 10);
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		die(rd_kafka_err2str(e));
	rd_kafka_poll(rk, 0);
}

/* N messages of SIZE bytes, distinct keys; returns the bytes sent. */
static long long
send_synthetic(rd_kafka_t *rk, const char *topic, long long n, size_t size)
{
	char		*val, key[32];
	long long	 i;
	int		 kl;

	if ((val = malloc(size)) == NULL)
		die("out of memory");
	memset(val, 'x', size);
	for (i = 0; i < n; i++) {
		kl = snprintf(key, sizeof(key), "k%015llx",
		    (unsigned long long)i * 0x9e3779b97f4a7c15ULL >> 4);
		if (kl < 0 || (size_t)kl >= sizeof(key))
			die("key truncated");
		send1(rk, topic, RD_KAFKA_PARTITION_UA, key, (size_t)kl, val,
		    size);
	}
	free(val);
	return n * (long long)size;
}

/* Every line of FILE, to the partition its prefix names. */
static long long
send_file(rd_kafka_t *rk, const char *topic, const char *file,
    long long *n)
{
	FILE		*f;
	char		*line = NULL, *tab, *end;
	size_t		 cap = 0;
	ssize_t		 len;
	long long	 bytes = 0;
	long		 part;

	if ((f = fopen(file, "r")) == NULL)
		die("cannot open the file");
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		part = RD_KAFKA_PARTITION_UA;
		tab = line;
		if ((end = strchr(line, '\t')) != NULL) {
			part = strtol(line, &tab, 10);
			if (tab != end || part < 0)
				die("a line's partition is not a number");
			tab++;
		}
		send1(rk, topic, (int32_t)part, NULL, 0, tab,
		    (size_t)(len - (tab - line)));
		bytes += len - (tab - line);
		(*n)++;
	}
	free(line);
	fclose(f);
	return bytes;
}

/* Create each topic of the comma-separated list; wait for the result. */
static int
create_topics(rd_kafka_t *rk, char *list, int parts)
{
	rd_kafka_NewTopic_t		*nt[64];
	rd_kafka_queue_t		*q = rd_kafka_queue_new(rk);
	rd_kafka_event_t		*ev;
	const rd_kafka_topic_result_t	**res;
	char				 err[256], *name, *save = NULL;
	size_t				 n = 0, i, nres;
	int				 bad = 0;

	for (name = strtok_r(list, ",", &save); name != NULL && n < 64;
	    name = strtok_r(NULL, ",", &save))
		if ((nt[n++] = rd_kafka_NewTopic_new(name, parts, -1, err,
		    sizeof(err))) == NULL)
			die(err);
	rd_kafka_CreateTopics(rk, nt, n, NULL, q);
	if ((ev = rd_kafka_queue_poll(q, 30000)) == NULL)
		die("no answer to CreateTopics in 30 s");
	res = rd_kafka_CreateTopics_result_topics(
	    rd_kafka_event_CreateTopics_result(ev), &nres);
	for (i = 0; i < nres; i++)
		if (rd_kafka_topic_result_error(res[i]) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR &&
		    rd_kafka_topic_result_error(res[i]) !=
		    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			fprintf(stderr, "produce-bench: %s: %s\n",
			    rd_kafka_topic_result_name(res[i]),
			    rd_kafka_topic_result_error_string(res[i]));
			bad = 1;
		}
	rd_kafka_event_destroy(ev);
	rd_kafka_NewTopic_destroy_array(nt, n);
	rd_kafka_queue_destroy(q);
	return bad;
}

int
main(int argc, char *argv[])
{
	const char	*brokers = NULL, *file = NULL;
	char		*topic = NULL;
	long long	 n = -1, bytes;
	int		 create = 0;
	size_t		 size = 0;
	rd_kafka_t	*rk;
	double		 t0;
	int		 ch;

	while ((ch = getopt(argc, argv, "b:C:f:n:s:t:")) != -1) {
		switch (ch) {
		case 'b': brokers = optarg; break;
		case 'C': create = atoi(optarg); break;
		case 'f': file = optarg; break;
		case 'n': n = atoll(optarg); break;
		case 's': size = (size_t)atol(optarg); break;
		case 't': topic = optarg; break;
		default: goto usage;
		}
	}
	if (brokers == NULL || topic == NULL || optind != argc)
		goto usage;
	rk = producer(brokers);
	if (create > 0)
		return create_topics(rk, topic, create);
	if ((file == NULL) == (n < 0) || (n >= 0 && size == 0))
		goto usage;
	t0 = now();
	if (file != NULL) {
		n = 0;
		bytes = send_file(rk, topic, file, &n);
	} else
		bytes = send_synthetic(rk, topic, n, size);
	while (rd_kafka_outq_len(rk) > 0)
		rd_kafka_poll(rk, 50);
	t0 = now() - t0;
	printf("produce\t%lld\t%lld\t%.6f\n", delivered, bytes, t0);
	rd_kafka_destroy(rk);
	return failed > 0 || delivered != n;
usage:
	fprintf(stderr, "usage: produce-bench -b BROKERS -t TOPIC "
	    "(-n N -s SIZE | -f FILE)\n"
	    "       produce-bench -b BROKERS -t TOPIC[,...] -C PARTITIONS\n");
	return 2;
}
