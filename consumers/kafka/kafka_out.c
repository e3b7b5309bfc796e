/*
 * kafka_out: the output sink, an idempotent producer (no loss, no
 * reordering, no duplicates from its own retries) with delivery reports
 * handed back by tag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumers/kafka/kafka.h"
#include "consumers/kafka/kafka_int.h"
#include "consumers/log/log.h"

#define OUT_TOPICS	8

struct kafka_out {
	rd_kafka_t	*rk;
	rd_kafka_topic_t *topics[OUT_TOPICS];	/* kafka_out_topic() */
	int		 ntopics;
	sink_report_fn	*dr;
	void		*arg;
	time_t		 warned;
};

static const char *producer_kv[] = {
	"enable.idempotence", "true",
	"linger.ms", "5",
	"message.timeout.ms", "600000",
	"queue.buffering.max.messages", "1000000",
	"queue.buffering.max.kbytes", "1048576",
	"message.max.bytes", "2000000",
	NULL
};

/*
 * The broker's answers that sending the same message again cannot
 * change until an operator does (a topic limit, a policy, an ACL):
 * SINK_REJECTED.  Any other failure was transient (librdkafka retried
 * until message.timeout.ms): SINK_FAILED.
 */
static int
delivery_result(rd_kafka_resp_err_t err)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return SINK_DELIVERED;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
	case RD_KAFKA_RESP_ERR_INVALID_MSG:
	case RD_KAFKA_RESP_ERR_INVALID_RECORD:
	case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
	case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		return SINK_REJECTED;
	default:
		return SINK_FAILED;
	}
}

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_out *out = opaque;
	int result = delivery_result(m->err);

	(void)rk;
	if (m->err != 0)
		log_warnx("delivery to %s failed: %s (%zu bytes)%s",
		    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err),
		    m->len, result == SINK_REJECTED ? ": refused for good" :
		    "");
	out->dr(out->arg, (uint64_t)(uintptr_t)m->_private, result);
}

struct kafka_out *
kafka_out_new(const char *brokers, sink_report_fn *dr, void *arg,
    char *errbuf, size_t errlen)
{
	struct kafka_out *out;
	rd_kafka_conf_t *conf;
	size_t i;

	if ((out = calloc(1, sizeof(*out))) == NULL)
		return NULL;
	out->dr = dr;
	out->arg = arg;
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_opaque(conf, out);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	if (kafka_conf_set(conf, "bootstrap.servers", brokers, errbuf,
	    errlen) == -1)
		goto fail;
	for (i = 0; producer_kv[i] != NULL; i += 2)
		if (kafka_conf_set(conf, producer_kv[i], producer_kv[i + 1],
		    errbuf,
		    errlen) == -1)
			goto fail;
	if ((out->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf,
	    errlen)) == NULL)
		goto fail;
	return out;
fail:
	if (out->rk == NULL)
		rd_kafka_conf_destroy(conf);
	free(out);
	return NULL;
}

int
kafka_out_send(struct kafka_out *out, const char *topic, const void *key,
    size_t klen, const void *val, size_t vlen, uint64_t tag)
{
	rd_kafka_resp_err_t err;

	err = rd_kafka_producev(out->rk, RD_KAFKA_V_TOPIC(topic),
	    RD_KAFKA_V_KEY(key, klen),
	    RD_KAFKA_V_VALUE((void *)(uintptr_t)val, vlen),
	    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag), RD_KAFKA_V_END);
	if (err == 0)
		return 0;
	if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return 1;
	if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
		log_warnx("produce to %s: %s (%zu bytes): refused", topic,
		    rd_kafka_err2str(err), vlen);
		return 2;
	}
	/* Unknown topic and the like: keep it and say so now and then. */
	if (time(NULL) >= out->warned + 10) {
		out->warned = time(NULL);
		log_warnx("produce to %s: %s (will retry)", topic,
		    rd_kafka_err2str(err));
	}
	return 1;
}

/*
 * A handle held from the start: librdkafka (2.0) asks for the metadata
 * of a topic it has no handle for on its one-second scan, after the
 * first message to it, so each first message (the first revocation of
 * a cascade, the first /revoke) waited up to a second.  O(1).
 */
int
kafka_out_topic(struct kafka_out *out, const char *topic)
{
	rd_kafka_topic_t *t;

	if (out->ntopics == OUT_TOPICS)
		return -1;
	if ((t = rd_kafka_topic_new(out->rk, topic, NULL)) == NULL)
		return -1;
	out->topics[out->ntopics++] = t;
	return 0;
}

void
kafka_out_poll(struct kafka_out *out, int timeout_ms)
{
	rd_kafka_poll(out->rk, timeout_ms);
}

int
kafka_out_fatal(struct kafka_out *out)
{
	char err[256];

	if (rd_kafka_fatal_error(out->rk, err, sizeof(err)) == 0)
		return 0;
	log_warnx("kafka producer: fatal: %s", err);
	return 1;
}

int
kafka_out_len(struct kafka_out *out)
{
	return rd_kafka_outq_len(out->rk);
}

int
kafka_out_flush(struct kafka_out *out, int timeout_ms)
{
	return rd_kafka_flush(out->rk, timeout_ms) == 0 ? 0 : -1;
}

void
kafka_out_free(struct kafka_out **op)
{
	int i;

	if (op == NULL || *op == NULL)
		return;
	for (i = 0; i < (*op)->ntopics; i++)
		rd_kafka_topic_destroy((*op)->topics[i]);
	rd_kafka_destroy((*op)->rk);
	free(*op);
	*op = NULL;
}

static int
out_send(void *self, const char *topic, const void *key, size_t klen,
    const void *val, size_t vlen, uint64_t tag)
{
	return kafka_out_send(self, topic, key, klen, val, vlen, tag);
}

static void
out_poll(void *self, int timeout_ms)
{
	kafka_out_poll(self, timeout_ms);
}

static int
out_pending(void *self)
{
	return kafka_out_len(self);
}

static int
out_fatal(void *self)
{
	return kafka_out_fatal(self);
}

static const struct sink_ops out_ops = {
	out_send, out_poll, out_pending, out_fatal
};

struct sink
kafka_out_sink(struct kafka_out *out)
{
	struct sink s = { &out_ops, out };

	return s;
}
