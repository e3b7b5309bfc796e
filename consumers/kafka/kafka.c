/*
 * kafka: librdkafka input source, output sink, embedded mock broker and
 * whole-topic reader.  See kafka.h.
 *
 * The source assigns partitions directly (no group rebalancing; a group
 * id is set only so librdkafka keeps a consumer queue) and never commits
 * offsets to Kafka: LMDB holds them, written with the effects.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "consumers/kafka/kafka.h"
#include "consumers/kafka/kafka_int.h"
#include "consumers/log/log.h"

#define META_TIMEOUT	10000
#define CREATE_TIMEOUT	5000

int
kafka_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
    char *errbuf,
    size_t errlen)
{
	if (rd_kafka_conf_set(conf, k, v, errbuf, errlen) != RD_KAFKA_CONF_OK)
		return -1;
	return 0;
}

/* Log librdkafka's own lines through ours. */
static void
kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4)
		log_warnx("kafka %s: %s", fac, buf);
	else
		log_debug("kafka %s: %s", fac, buf);
}

rd_kafka_t *
kafka_client_new(rd_kafka_type_t type, const char *brokers, const char **kv,
    char *errbuf, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	size_t i;

	rd_kafka_conf_set_log_cb(conf, kafka_log);
	if (brokers != NULL &&
	    kafka_conf_set(conf, "bootstrap.servers", brokers,
	    errbuf, errlen) == -1)
		goto fail;
	for (i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (kafka_conf_set(conf, kv[i], kv[i + 1], errbuf,
		    errlen) == -1)
			goto fail;
	if ((rk = rd_kafka_new(type, conf, errbuf, errlen)) == NULL)
		goto fail;
	return rk;	/* rd_kafka_new() owns conf now */
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Number of partitions of topic, or -1. */
int
kafka_topic_partitions(rd_kafka_t *rk, const char *topic, char *errbuf,
    size_t errlen)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;
	rd_kafka_resp_err_t err;
	int n = -1;

	if ((rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL)
		return -1;
	err = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT);
	rd_kafka_topic_destroy(rkt);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(errbuf, errlen, "metadata of %s: %s", topic,
		    rd_kafka_err2str(err));
		return -1;
	}
	if (md->topic_cnt == 1 && md->topics[0].err == 0)
		n = md->topics[0].partition_cnt;
	else
		snprintf(errbuf, errlen, "topic %s: %s", topic,
		    md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) :
		    "not found");
	rd_kafka_metadata_destroy(md);
	return n;
}

struct kafka_mock {
	rd_kafka_t		*rk;
	rd_kafka_mock_cluster_t	*mc;
};

struct kafka_mock *
kafka_mock_start(const char *const *topics, size_t ntopics, int partitions,
    char *bootstrap, size_t blen, char *errbuf, size_t errlen)
{
	struct kafka_mock *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	static const char *quiet[] = { "log_level", "3", NULL };

	if ((m->rk = kafka_client_new(RD_KAFKA_PRODUCER, NULL, quiet, errbuf,
	    errlen)) == NULL)
		goto fail;
	if ((m->mc = rd_kafka_mock_cluster_new(m->rk, 1)) == NULL) {
		snprintf(errbuf, errlen, "cannot start the mock cluster");
		goto fail;
	}
	for (i = 0; i < ntopics; i++)
		if (rd_kafka_mock_topic_create(m->mc, topics[i], partitions,
		    1) != 0) {
			snprintf(errbuf, errlen, "cannot create %s", topics[i]);
			goto fail;
		}
	if ((size_t)snprintf(bootstrap, blen, "%s",
	    rd_kafka_mock_cluster_bootstraps(m->mc)) >= blen) {
		snprintf(errbuf, errlen, "bootstrap address too long");
		goto fail;
	}
	return m;
fail:
	kafka_mock_stop(&m);
	return NULL;
}

void
kafka_mock_stop(struct kafka_mock **mp)
{
	struct kafka_mock *m;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	if (m->mc != NULL)
		rd_kafka_mock_cluster_destroy(m->mc);
	if (m->rk != NULL)
		rd_kafka_destroy(m->rk);
	free(m);
	*mp = NULL;
}

/* Create the topics that do not exist yet; errors other than that log. */
int
kafka_create_topics(const char *brokers, const char *const *topics,
    size_t n, int partitions, char *errbuf, size_t errlen)
{
	rd_kafka_t *rk;
	rd_kafka_NewTopic_t *nt[8];
	rd_kafka_AdminOptions_t *opts;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_topic_result_t **res;
	size_t i, nres;
	int rc = 0;

	if (n > 8 || (rk = kafka_client_new(RD_KAFKA_PRODUCER, brokers, NULL,
	    errbuf, errlen)) == NULL)
		return -1;
	q = rd_kafka_queue_new(rk);
	for (i = 0; i < n; i++)
		nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, -1, NULL,
		    0);
	/* Short: a broker without CreateTopics (the mock) must not stall. */
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(opts, CREATE_TIMEOUT,
	    NULL, 0);
	rd_kafka_CreateTopics(rk, nt, n, opts, q);
	rd_kafka_AdminOptions_destroy(opts);
	ev = rd_kafka_queue_poll(q, CREATE_TIMEOUT + 1000);
	if (ev == NULL || rd_kafka_event_error(ev) != 0) {
		snprintf(errbuf, errlen, "create topics: %s", ev ?
		    rd_kafka_event_error_string(ev) : "timed out");
		rc = -1;
	} else {
		res = rd_kafka_CreateTopics_result_topics(
		    rd_kafka_event_CreateTopics_result(ev), &nres);
		for (i = 0; i < nres; i++)
			if (rd_kafka_topic_result_error(res[i]) != 0 &&
			    rd_kafka_topic_result_error(res[i]) !=
			    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
				log_warnx("create topic %s: %s",
				    rd_kafka_topic_result_name(res[i]),
				    rd_kafka_topic_result_error_string(res[i]));
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_NewTopic_destroy_array(nt, n);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}
