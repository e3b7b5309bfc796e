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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "consumers/apply/apply.h"
#include "consumers/publish/drain.h"
#include "consumers/kafka/kafka.h"
#include "consumers/log/log.h"
#include "consumers/publish/publish.h"
#include "daemon/revokerd/config.h"
#include "daemon/revokerd/sweeper.h"
#include "daemon/http/http.h"
#include "daemon/metrics/metrics.h"
#include "daemon/http/pending.h"
#include "store/graph/store.h"

#define PUMP_MS		20
#define WAKE_MSGS	16384	/* input messages applied per wake-up */
#define RETRY_MIN_MS	100	/* first retry after a store failure */
#define RETRY_MAX_MS	30000	/* backoff doubles up to this */

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
	struct event		*ev_in, *ev_more, *ev_pump, *ev_slice;
	struct event		*ev_retry, *ev_sweep;
	struct event		*ev_sig[3];
	char			 brokers[256];
	int			 caught_up;	/* the input's end seen once */
	int			 paused;	/* READY_STORE_*: applying */
	int			 retry_ms;	/* backoff of the next retry */
	int			 drain_failed;	/* the outbox drain failed */
	uint64_t		 gap_pending;	/* gap messages not acked */
	int			 gap_unrecorded; /* a gap not stored */
	int			 gap_tick;
	int			 lockfd;	/* store_lock() */
	unsigned		 ticks;		/* of the pump timer */
};

static void
count_dead(void *arg, const char *reason)
{
	struct daemon *d = arg;

	metrics_dead(d->metrics, reason);
}

/*
 * One batch from the source: -1 when the store failed (nothing of it
 * kept): the caller pauses and tries the same messages again.
 */
static int
on_batch(void *arg, const struct apply_msg *m, size_t n)
{
	struct daemon *d = arg;

	return apply_batch(d->apply, d->store, m, n, count_dead, d) ==
	    APPLY_OK ? 0 : -1;
}

/*
 * The store failed a batch: stop applying (introspection goes on from
 * the last committed state), say why, and try again after a backoff.
 */
static void
pause_applying(struct daemon *d)
{
	struct timeval tv;
	const char *what;
	int full = store_failure(d->store, &what) == STORE_FAIL_FULL;

	metrics_add(d->metrics, MET_STORE_FAILURES, 1);
	d->paused = full ? READY_STORE_FULL : READY_STORE_ERROR;
	d->retry_ms = d->retry_ms == 0 ? RETRY_MIN_MS :
	    d->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : d->retry_ms * 2;
	if (full)
		log_error("store full (%s): applying paused, introspection "
		    "goes on from the last committed state; make room (disk "
		    "space, or restart with a larger --map-size; nothing is "
		    "lost): retrying in %d ms", what, d->retry_ms);
	else
		log_error("store error (%s): applying paused, introspection "
		    "goes on from the last committed state: retrying in %d "
		    "ms", what, d->retry_ms);
	event_del(d->ev_in);
	tv.tv_sec = d->retry_ms / 1000;
	tv.tv_usec = (d->retry_ms % 1000) * 1000;
	event_add(d->ev_retry, &tv);
}

/* After a backoff: read again from the stored offsets, and apply. */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char err[256];

	(void)fd;
	(void)what;
	store_failure_clear(d->store);
	if (kafka_in_rewind(d->in, err, sizeof(err)) == -1) {
		log_warnx("input: %s", err);
		pause_applying(d);
		return;
	}
	event_add(d->ev_in, NULL);
	event_active(d->ev_in, EV_READ, 0);
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

/*
 * Input messages were deleted before they were read: revocations among
 * them are missed.  Say so loudly and keep it (in the store, so that a
 * restart does not forget) until an operator runs `revokerctl ack-gap`.
 */
static void
on_gap(void *arg, int32_t partition, int64_t from, int64_t to)
{
	struct daemon *d = arg;
	struct store_txn *txn;
	uint64_t added = 0;

	if (to < 0)
		log_error("input gap: %s partition %d: the stored offset %lld "
		    "is past the end of the log (the topic was recreated?): "
		    "messages may have been missed; reading from the log "
		    "start; /readyz says input_gap until `revokerctl ack-gap "
		    "--db %s`", d->cfg.topic_in, (int)partition,
		    (long long)from, d->cfg.db);
	else
		log_error("input gap: %s partition %d: messages %lld to %lld "
		    "were deleted before they were read (retention?): "
		    "revocations among them are missed; /readyz says "
		    "input_gap until `revokerctl ack-gap --db %s`",
		    d->cfg.topic_in, (int)partition, (long long)from,
		    (long long)to - 1, d->cfg.db);
	if (store_begin(d->store, 0, &txn) == -1 || store_gap_add(txn,
	    d->cfg.topic_in, partition, from, to, &added) == -1 ||
	    store_commit(&txn) == -1) {
		store_abort(&txn);
		log_error("input gap: could not record it in the store: "
		    "/readyz says input_gap until a restart");
		added = to > from ? (uint64_t)(to - from) : 1;
		d->gap_unrecorded = 1;
	}
	metrics_add(d->metrics, MET_INPUT_GAP, added);
	d->gap_tick = 0;	/* read the pending count again now */
}

/* The unacknowledged gap, from the store (ack-gap writes it there). */
static void
read_gap(struct daemon *d)
{
	struct store_txn *txn;
	uint64_t n;

	if (d->gap_tick++ % (1000 / PUMP_MS) != 0)
		return;
	if (store_begin(d->store, 1, &txn) == -1)
		return;
	if (store_gap_pending(txn, &n) == 0) {
		if (d->gap_pending > 0 && n == 0)
			log_info("input gap acknowledged");
		d->gap_pending = n;
	}
	store_abort(&txn);
}

/* One step of the outbox drain; a failure is retried, never fatal. */
static void
pump(struct daemon *d)
{
	static const struct timeval now = { 0, 0 };

	if (drain_pump(d->drain) == 0) {
		if (d->drain_failed)
			log_info("outbox: publishing again");
		d->drain_failed = 0;
		metrics_set(d->metrics, MET_OUTPUT_STALLED,
		    drain_stalled(d->drain));
		/*
		 * The next slice from a timer due now, not event_active():
		 * libevent runs an event activated from a callback in the
		 * same pass over the active queue, before it polls again, so
		 * the slices would follow one another without the input (or
		 * anything else) being looked at until the whole cascade was
		 * derived.  A due timer comes after a poll (tests/scenario/
		 * f0201-drain-slices.sh).
		 */
		if (drain_more(d->drain) && d->ev_slice != NULL)
			event_add(d->ev_slice, &now);
		return;
	}
	if (d->drain_failed++ % (10000 / PUMP_MS) == 0)
		log_error("outbox: the drain failed (the producer or the "
		    "store): retrying; /readyz says output_stalled");
}

/* The /readyz reason now: the most pressing one. */
static void
set_ready(struct daemon *d)
{
	int why = READY_OK;

	if (d->paused)
		why = d->paused;
	else if (d->gap_pending > 0 || d->gap_unrecorded)
		why = READY_INPUT_GAP;
	else if (d->drain_failed || (d->drain && drain_stalled(d->drain)))
		why = READY_OUTPUT_STALLED;
	else if (!d->caught_up)
		why = READY_CATCHING_UP;
	metrics_set(d->metrics, MET_NOT_READY, why);
	metrics_set(d->metrics, MET_READY, why == READY_OK);
}

static void
on_input(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct daemon *d = arg;
	long n = 0, total = 0;

	(void)fd;
	(void)what;
	kafka_in_ack(d->in);
	while (total < WAKE_MSGS) {
		n = kafka_in_poll(d->in, d->cfg.batch, on_batch, d);
		if (n == -1) {
			count_apply(d);
			pause_applying(d);
			return;
		}
		if (n == 0)
			break;
		total += n;
		if (d->paused) {
			log_info("store: applying again");
			d->paused = 0;
			d->retry_ms = 0;
		}
	}
	count_apply(d);
	pump(d);
	/*
	 * More may wait: come back after other events, from a timer due
	 * now (as the drain's slices: pump()), not event_active(), which
	 * would run again before the loop polls, so that a backlog kept
	 * the pump timer, the drain's slices and signals waiting.
	 */
	if (n > 0 && d->ev_more != NULL)
		event_add(d->ev_more, &now);
}

/* The database's size per token record, for the gauges; O(1). */
static void
read_usage(struct daemon *d)
{
	struct store_txn *t = NULL;
	uint64_t bytes, tokens;

	if (store_begin(d->store, 1, &t) == -1)
		return;
	if (store_usage(t, &bytes, &tokens) == 0) {
		metrics_set(d->metrics, MET_DB_BYTES, (int64_t)bytes);
		metrics_set(d->metrics, MET_DB_TOKENS, (int64_t)tokens);
		metrics_set(d->metrics, MET_DB_BYTES_PER_TOKEN, tokens > 0 ?
		    (int64_t)(bytes / tokens) : 0);
	}
	store_abort(&t);
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
	pump(d);
	drain_counts(d->drain, delivered, &waiting);
	for (i = 0; i < PUB_NTOPICS; i++) {
		metrics_add(d->metrics, MET_PUB_REVOCATIONS + i,
		    delivered[i] - last[i]);
		last[i] = delivered[i];
	}
	metrics_set(d->metrics, MET_OUTBOX_DEPTH, (int64_t)waiting);
	lag = kafka_in_lag(d->in, &known);
	metrics_set(d->metrics, MET_CONSUMER_LAG, lag);
	if (known && lag == 0 && !d->caught_up && !d->paused) {
		d->caught_up = 1;
		log_info("caught up with %s: ready", d->cfg.topic_in);
	}
	read_gap(d);
	set_ready(d);
	if (++d->ticks % (1000 / PUMP_MS) == 0)
		read_usage(d);
}

/*
 * One slice of the sweep (sweeper.h): again from a timer due now while
 * more is due, after the loop has polled (see pump()); else in a
 * second.
 */
static void
on_sweep(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval now = { 0, 0 }, later = { 1, 0 };
	struct daemon *d = arg;
	int more;

	(void)fd;
	(void)what;
	more = sweeper_slice(d->store, (int64_t)time(NULL), d->cfg.retention,
	    d->metrics);
	event_add(d->ev_sweep, more == 1 ? &now : &later);
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
on_delivery(void *arg, uint64_t tag, int result)
{
	struct daemon *d = arg;

	if (pending_tag(tag))
		pending_report(d->revokes, tag, result == SINK_DELIVERED);
	else
		drain_on_delivery(d->drain, tag, result);
}

static const char *
hook_ready(void *arg)
{
	struct daemon *d = arg;
	int why = (int)metrics_get(d->metrics, MET_NOT_READY);

	return why == READY_OK ? NULL : metrics_ready_reason(why);
}

static int
start_kafka(struct daemon *d, char *err, size_t errlen)
{
	const char *topics[4] = { d->cfg.topic_in, d->cfg.topic_out,
	    d->cfg.topic_violations, d->cfg.topic_dlq };
	struct sink sink;

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
	if (kafka_out_topic(d->out, d->cfg.topic_out) == -1 ||
	    kafka_out_topic(d->out, d->cfg.topic_violations) == -1 ||
	    kafka_out_topic(d->out, d->cfg.topic_dlq) == -1 ||
	    kafka_out_topic(d->out, d->cfg.topic_in) == -1)
		log_warnx("kafka producer: no topic handle (going on: the "
		    "first message to a topic may wait a second)");
	sink = kafka_out_sink(d->out);
	drain_set_sink(d->drain, &sink);
	drain_set_mode(d->drain, d->cfg.profile);
	if ((d->in = kafka_in_new(d->brokers, d->cfg.topic_in, err,
	    errlen)) == NULL)
		return -1;
	kafka_in_on_gap(d->in, on_gap, d);
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
	hc.auth_fail_rate = d->cfg.auth_fail_rate;
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
	if ((d->ev_slice = evtimer_new(d->base, on_pump, d)) == NULL)
		return -1;
	if ((d->ev_more = evtimer_new(d->base, on_input, d)) == NULL)
		return -1;
	if ((d->ev_retry = evtimer_new(d->base, on_retry, d)) == NULL)
		return -1;
	if ((d->ev_sweep = evtimer_new(d->base, on_sweep, d)) == NULL)
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
	set_ready(d);
	if (store_lock(d->cfg.db, &d->lockfd, err, errlen) != 0)
		return -1;
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
	event_active(d->ev_sweep, EV_TIMEOUT, 0);
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
	if (d->out != NULL && d->drain != NULL) {
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
	if (d->lockfd != -1)
		close(d->lockfd);
	kafka_mock_stop(&d->mock);
	apply_free(&d->apply);
	metrics_free(&d->metrics);
	if (d->ev_in != NULL)
		event_free(d->ev_in);
	if (d->ev_pump != NULL)
		event_free(d->ev_pump);
	if (d->ev_more != NULL)
		event_free(d->ev_more);
	if (d->ev_slice != NULL)
		event_free(d->ev_slice);
	if (d->ev_retry != NULL)
		event_free(d->ev_retry);
	if (d->ev_sweep != NULL)
		event_free(d->ev_sweep);
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
	d.lockfd = -1;
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
	stop(&d);
	log_info("stopped");
	return 0;
}
