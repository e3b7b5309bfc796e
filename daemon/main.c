/*
 * revokerd: consume token events from Kafka into the LMDB delegation
 * graph, publish cascading revocations, serve introspection.
 *
 * One main thread runs a libevent loop that owns the store's writer:
 * the Kafka source wakes it through a pipe (librdkafka's queue I/O
 * event), each wake-up applies waiting messages in batches of one LMDB
 * transaction each, then the outbox drain sends what they produced.
 * HTTP workers are threads of their own that only read the store.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "consumers/apply.h"
#include "consumers/drain.h"
#include "consumers/kafka.h"
#include "consumers/log.h"
#include "consumers/publish.h"
#include "daemon/config.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "daemon/pending.h"
#include "store/store.h"

#define PUMP_MS		20
#define BATCHES_PER_WAKE 16

struct daemon {
	struct config		 cfg;
	struct event_base	*base;
	struct store		*store;
	struct apply		*apply;
	struct kafka_mock	*mock;
	struct kafka_in		*in;
	struct kafka_out	*out;
	struct drain		*drain;
	struct http		*http;
	struct pending		*revokes;
	struct metrics		*metrics;
	struct event		*ev_in, *ev_pump, *ev_sig[3];
	char			 brokers[256];
	int			 failed;
};

/* Apply one batch of messages in one write transaction. */
static int
apply_batch(void *arg, const struct kafka_msg *km, size_t n)
{
	struct daemon *d = arg;
	struct store_txn *txn;
	struct apply_msg m;
	const char *reason;
	size_t i;
	int rc;

	if (store_begin(d->store, 0, &txn) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		m.topic = km[i].topic;
		m.partition = km[i].partition;
		m.offset = km[i].offset;
		m.payload = km[i].payload;
		m.len = km[i].len;
		rc = apply_message(d->apply, txn, &m, &reason);
		if (rc == -1) {
			log_warnx("store: %s", store_strerror(txn));
			store_abort(&txn);
			return -1;
		}
		if (rc == APPLY_DLQ)
			metrics_dead(d->metrics, reason);
	}
	return store_commit(&txn);
}

static void
count_apply(struct daemon *d)
{
	static struct apply_counts last;
	struct apply_counts c;

	apply_counts(d->apply, &c);
	metrics_add(d->metrics, MET_APPLIED, c.applied - last.applied);
	metrics_add(d->metrics, MET_DUPLICATES, c.duplicates -
	    last.duplicates);
	metrics_add(d->metrics, MET_VIOLATIONS, c.violations -
	    last.violations);
	metrics_add(d->metrics, MET_REVOKED, c.revoked - last.revoked);
	last = c;
}

static void
fail(struct daemon *d, const char *what)
{
	log_warnx("%s failed: stopping (state and offsets are safe in %s)",
	    what, d->cfg.db);
	d->failed = 1;
	event_base_loopbreak(d->base);
}

static void
on_input(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	long n = 0;
	int i;

	(void)fd;
	(void)what;
	kafka_in_ack(d->in);
	for (i = 0; i < BATCHES_PER_WAKE; i++) {
		n = kafka_in_poll(d->in, d->cfg.batch, apply_batch, d);
		if (n == -1) {
			fail(d, "applying events");
			return;
		}
		if (n == 0)
			break;
	}
	count_apply(d);
	if (drain_pump(d->drain) == -1)
		fail(d, "the outbox drain");
	if (n > 0)	/* more may wait: come back after other events */
		event_active(d->ev_in, EV_READ, 0);
}

static void
on_pump(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t delivered[PUB_NTOPICS], waiting;
	static uint64_t last[PUB_NTOPICS];
	int64_t lag;
	int known, i;

	(void)fd;
	(void)what;
	if (drain_pump(d->drain) == -1) {
		fail(d, "the outbox drain");
		return;
	}
	drain_counts(d->drain, delivered, &waiting);
	for (i = 0; i < PUB_NTOPICS; i++) {
		metrics_add(d->metrics, MET_PUB_REVOCATIONS + i,
		    delivered[i] - last[i]);
		last[i] = delivered[i];
	}
	metrics_set(d->metrics, MET_OUTBOX_DEPTH, (int64_t)waiting);
	lag = kafka_in_lag(d->in, &known);
	metrics_set(d->metrics, MET_CONSUMER_LAG, lag);
	if (known && lag == 0 && metrics_get(d->metrics, MET_READY) == 0) {
		metrics_set(d->metrics, MET_READY, 1);
		log_info("caught up with %s: ready", d->cfg.topic_in);
	}
}

static void
reload(struct daemon *d)
{
	struct config next;
	struct apply_config ac;
	char err[256];

	if (config_reload(&d->cfg, &next, err, sizeof(err)) == -1) {
		log_warnx("SIGHUP: keeping the old configuration: %s", err);
		return;
	}
	log_init(next.log_level, NULL);
	config_apply(&next, &ac);
	apply_configure(d->apply, &ac);
	drain_set_mode(d->drain, next.profile);
	/* Only what can change at run time moves; the rest waits. */
	d->cfg.profile = next.profile;
	d->cfg.max_depth = next.max_depth;
	d->cfg.allow_impersonation = next.allow_impersonation;
	d->cfg.log_level = next.log_level;
	config_clear(&next);
	if (d->http != NULL && http_reload(d->http) == -1)
		log_warnx("SIGHUP: clients file not reloaded");
	log_info("SIGHUP: configuration reloaded");
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(d->base);
}

static int64_t
offset_of(void *arg, int32_t partition)
{
	struct daemon *d = arg;
	struct store_txn *txn;
	int64_t next = -1;

	if (store_begin(d->store, 1, &txn) == 0) {
		if (store_offset_get(txn, d->cfg.topic_in, partition,
		    &next) != 0)
			next = -1;
		store_abort(&txn);
	}
	return next;
}

#define REVOKES_MAX	4096	/* /revoke events awaiting delivery */
#define REVOKE_STOP_MS	3000	/* how long SIGTERM waits for them */

static int
hook_submit(void *arg, const char *key, const char *payload, size_t len,
    uint64_t tag)
{
	struct daemon *d = arg;

	return kafka_out_send(d->out, d->cfg.topic_in, key, strlen(key),
	    payload, len, tag) == 0 ? 0 : -1;
}

/* Delivery reports: /revoke's to its table, the rest to the drain. */
static void
on_delivery(void *arg, uint64_t tag, int ok)
{
	struct daemon *d = arg;

	if (pending_tag(tag))
		pending_report(d->revokes, tag, ok);
	else
		drain_on_delivery(d->drain, tag, ok);
}

static int
hook_ready(void *arg)
{
	struct daemon *d = arg;

	return metrics_get(d->metrics, MET_READY) != 0;
}

static int
start_kafka(struct daemon *d, char *err, size_t errlen)
{
	const char *topics[4] = { d->cfg.topic_in, d->cfg.topic_out,
	    d->cfg.topic_violations, d->cfg.topic_dlq };

	if (d->cfg.brokers == NULL) {
		d->mock = kafka_mock_start(topics, 4, d->cfg.partitions,
		    d->brokers, sizeof(d->brokers), err, errlen);
		if (d->mock == NULL)
			return -1;
		log_info("embedded Kafka-protocol broker (librdkafka mock "
		    "cluster) at %s; topics %s, %s, %s, %s", d->brokers,
		    topics[0], topics[1], topics[2], topics[3]);
	} else {
		if ((size_t)snprintf(d->brokers, sizeof(d->brokers), "%s",
		    d->cfg.brokers) >= sizeof(d->brokers)) {
			snprintf(err, errlen, "brokers: list too long");
			return -1;
		}
		if (kafka_create_topics(d->brokers, topics, 4,
		    d->cfg.partitions, err, errlen) == -1)
			log_warnx("%s (going on: the topics may exist)", err);
	}
	if ((d->drain = drain_new(d->store, d->cfg.topic_out,
	    d->cfg.topic_violations, d->cfg.topic_dlq)) == NULL)
		return -1;
	if ((d->out = kafka_out_new(d->brokers, on_delivery, d, err,
	    errlen)) == NULL)
		return -1;
	drain_set_sink(d->drain, d->out);
	drain_set_mode(d->drain, d->cfg.profile);
	if ((d->in = kafka_in_new(d->brokers, d->cfg.topic_in, err,
	    errlen)) == NULL)
		return -1;
	return kafka_in_start(d->in, offset_of, d, err, errlen);
}

static int
start_http(struct daemon *d, char *err, size_t errlen)
{
	struct http_config hc;
	struct http_hooks hooks = { hook_submit, hook_ready, d, d->revokes };

	memset(&hc, 0, sizeof(hc));
	hc.listen = d->cfg.listen;
	hc.clients_file = d->cfg.clients;
	hc.threads = d->cfg.http_threads;
	hc.revoke_wait_ms = d->cfg.revoke_wait_ms;
	hc.leeway = d->cfg.leeway;
	hc.audience_restricted = d->cfg.audience_restricted;
	hc.max_body = d->cfg.max_body;
	hc.max_headers = 8192;
	hc.timeout = d->cfg.http_timeout;
	hc.max_conns = d->cfg.max_conns;
	d->http = http_start(d->store, d->metrics, &hc, &hooks, err, errlen);
	if (d->http == NULL)
		return -1;
	log_info("HTTP API on %s", d->cfg.listen);
	return 0;
}

static int
start_events(struct daemon *d)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct timeval tv = { 0, PUMP_MS * 1000 };
	int i;

	if ((d->base = event_base_new()) == NULL)
		return -1;
	for (i = 0; i < 3; i++) {
		d->ev_sig[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		if (d->ev_sig[i] == NULL || evsignal_add(d->ev_sig[i], NULL))
			return -1;
	}
	d->ev_pump = event_new(d->base, -1, EV_PERSIST, on_pump, d);
	if (d->ev_pump == NULL || event_add(d->ev_pump, &tv) == -1)
		return -1;
	return 0;
}

static int
start(struct daemon *d, char *err, size_t errlen)
{
	struct apply_config ac;

	config_apply(&d->cfg, &ac);

	if (start_events(d) == -1) {
		snprintf(err, errlen, "libevent setup failed");
		return -1;
	}
	if ((d->metrics = metrics_new()) == NULL ||
	    (d->revokes = pending_new(REVOKES_MAX)) == NULL ||
	    (d->apply = apply_new(&ac)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((d->store = store_open(d->cfg.db, d->cfg.map_size << 20, err,
	    errlen)) == NULL)
		return -1;
	log_info("database %s", d->cfg.db);
	if (start_kafka(d, err, errlen) == -1 || start_http(d, err, errlen))
		return -1;
	d->ev_in = event_new(d->base, kafka_in_fd(d->in), EV_READ |
	    EV_PERSIST, on_input, d);
	if (d->ev_in == NULL || event_add(d->ev_in, NULL) == -1) {
		snprintf(err, errlen, "libevent setup failed");
		return -1;
	}
	event_active(d->ev_in, EV_READ, 0);
	return 0;
}

/*
 * Give /revoke events their delivery reports a while, so that the calls
 * waiting for them are answered 202 rather than 503.
 */
static void
revokes_settle(struct daemon *d)
{
	int i;

	if (d->out == NULL || d->revokes == NULL)
		return;
	for (i = 0; i < REVOKE_STOP_MS / 100 &&
	    pending_outstanding(d->revokes) > 0; i++)
		kafka_out_poll(d->out, 100);
}

/*
 * Stop in order: /revoke deliveries, HTTP, input, flush the outbox a
 * while, store, broker.
 */
static void
stop(struct daemon *d)
{
	int i;

	revokes_settle(d);
	http_stop(&d->http);
	kafka_in_free(&d->in);
	if (d->out != NULL && d->drain != NULL && !d->failed) {
		for (i = 0; i < 50 && kafka_out_len(d->out) > 0; i++) {
			kafka_out_poll(d->out, 100);
			(void)drain_pump(d->drain);
		}
	}
	if (d->revokes != NULL)
		(void)pending_log_unacked(d->revokes, "at shutdown");
	kafka_out_free(&d->out);
	pending_free(&d->revokes);
	drain_free(&d->drain);
	store_close(&d->store);
	kafka_mock_stop(&d->mock);
	apply_free(&d->apply);
	metrics_free(&d->metrics);
	if (d->ev_in != NULL)
		event_free(d->ev_in);
	if (d->ev_pump != NULL)
		event_free(d->ev_pump);
	for (i = 0; i < 3; i++)
		if (d->ev_sig[i] != NULL)
			event_free(d->ev_sig[i]);
	if (d->base != NULL)
		event_base_free(d->base);
	config_clear(&d->cfg);
}

int
main(int argc, char **argv)
{
	struct daemon d;
	char err[512];
	int rc;

	memset(&d, 0, sizeof(d));
	signal(SIGPIPE, SIG_IGN);
	rc = config_parse(argc, argv, &d.cfg, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc == -1) {
		fprintf(stderr, "revokerd: %s\n", err);
		fprintf(stderr, "revokerd: try --help\n");
		return 2;
	}
	log_init(d.cfg.log_level, "revokerd");
	if (d.cfg.check_only) {
		fprintf(stderr, "revokerd: configuration OK\n");
		config_clear(&d.cfg);
		return 0;
	}
	if (start(&d, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		stop(&d);
		return 1;
	}
	log_info("revokerd running");
	event_base_dispatch(d.base);
	rc = d.failed ? 1 : 0;
	stop(&d);
	log_info("stopped");
	return rc;
}
