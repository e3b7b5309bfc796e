/*
 * metrics: counters and gauges kept with relaxed atomics, rendered as
 * Prometheus text.  The HTTP figures are striped over a few cache-line
 * sized shards (one per thread, by a thread-local index) so that
 * workers on different cores do not fight over one line; rendering
 * sums the shards.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "consumers/event/event.h"
#include "daemon/metrics/metrics.h"

#define NSHARDS		8
#define NCLASS		6	/* status classes: other, 1xx .. 5xx */

/*
 * Dead-letter reasons with their own series: the list of
 * consumers/event/tbl_reasons.h, then "other" for a name not in it.
 */
#define NDEAD	(EV_NREASONS + 1)	/* and "other" */

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bucket_us[] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000
};
#define NBUCKETS	(sizeof(bucket_us) / sizeof(bucket_us[0]) + 1)

static const char *const ep_names[MET_NEP] = {
	"introspect", "revoke", "token", "tree", "healthz", "readyz",
	"metrics", "other"
};

static const char *const class_names[NCLASS] = {
	"other", "1xx", "2xx", "3xx", "4xx", "5xx"
};

struct met_shard {
	_Atomic uint64_t	 req[MET_NEP][NCLASS];
	_Atomic uint64_t	 bucket[MET_NEP][NBUCKETS];
	_Atomic uint64_t	 sum_us[MET_NEP];
} __attribute__((aligned(64)));

struct metrics {
	_Atomic uint64_t	 counter[MET_NCOUNTERS];
	_Atomic int64_t		 gauge[MET_NGAUGES];
	_Atomic uint64_t	 dead[NDEAD];
	_Atomic uint64_t	 sweep_bucket[NBUCKETS];	/* one thread */
	_Atomic uint64_t	 sweep_sum_us;
	struct met_shard	 shard[NSHARDS];
};

static _Atomic unsigned	 next_shard;
static _Thread_local int shard_idx = -1;

struct metrics *
metrics_new(void)
{
	struct metrics	*m;

	if ((m = aligned_alloc(64, sizeof(*m))) == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	return m;
}

void
metrics_free(struct metrics **mp)
{
	if (mp == NULL)
		return;
	free(*mp);
	*mp = NULL;
}

void
metrics_add(struct metrics *m, int counter, uint64_t n)
{
	if (m == NULL || counter < 0 || counter >= MET_NCOUNTERS)
		return;
	atomic_fetch_add_explicit(&m->counter[counter], n,
	    memory_order_relaxed);
}

void
metrics_set(struct metrics *m, int gauge, int64_t v)
{
	if (m == NULL || gauge < 0 || gauge >= MET_NGAUGES)
		return;
	atomic_store_explicit(&m->gauge[gauge], v, memory_order_relaxed);
}

int64_t
metrics_get(struct metrics *m, int gauge)
{
	if (m == NULL || gauge < 0 || gauge >= MET_NGAUGES)
		return 0;
	return atomic_load_explicit(&m->gauge[gauge], memory_order_relaxed);
}

void
metrics_dead(struct metrics *m, const char *reason)
{
	size_t	 i;

	if (m == NULL)
		return;
	i = (size_t)event_reason_of(reason);	/* EV_NREASONS: other */
	atomic_fetch_add_explicit(&m->dead[i], 1, memory_order_relaxed);
}

static struct met_shard *
my_shard(struct metrics *m)
{
	if (shard_idx < 0)
		shard_idx = (int)(atomic_fetch_add(&next_shard, 1) % NSHARDS);
	return &m->shard[shard_idx];
}

static size_t
bucket_of(uint64_t usec)
{
	size_t	 i;

	for (i = 0; i < NBUCKETS - 1; i++)
		if (usec <= bucket_us[i])
			break;
	return i;
}

void
metrics_http(struct metrics *m, int ep, int status, uint64_t usec)
{
	struct met_shard	*s;
	int			 cls;

	if (m == NULL)
		return;
	if (ep < 0 || ep >= MET_NEP)
		ep = MET_EP_OTHER;
	cls = status / 100;
	if (cls < 1 || cls >= NCLASS)
		cls = 0;
	s = my_shard(m);
	atomic_fetch_add_explicit(&s->req[ep][cls], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->bucket[ep][bucket_of(usec)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us[ep], usec, memory_order_relaxed);
}

void
metrics_sweep_slice(struct metrics *m, uint64_t usec)
{
	if (m == NULL)
		return;
	atomic_fetch_add_explicit(&m->sweep_bucket[bucket_of(usec)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sweep_sum_us, usec,
	    memory_order_relaxed);
}

static uint64_t
load(_Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static void
render_one(struct evbuffer *out, const char *name, const char *type,
    const char *help, uint64_t v)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
	    name, help, name, type, name, (unsigned long long)v);
}

static void
render_sweep_histogram(struct metrics *m, struct evbuffer *out)
{
	const char	*name = "revokerd_sweep_slice_seconds";
	uint64_t	 cum = 0;
	size_t		 b;

	evbuffer_add_printf(out, "# HELP %s Sweep write transactions by "
	    "duration (the writer's lock time, commit included).\n"
	    "# TYPE %s histogram\n", name, name);
	for (b = 0; b < NBUCKETS; b++) {
		cum += load(&m->sweep_bucket[b]);
		if (b < NBUCKETS - 1)
			evbuffer_add_printf(out, "%s_bucket{le=\"%.6f\"} "
			    "%llu\n", name, bucket_us[b] / 1e6,
			    (unsigned long long)cum);
		else
			evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} "
			    "%llu\n", name, (unsigned long long)cum);
	}
	evbuffer_add_printf(out, "%s_sum %.6f\n%s_count %llu\n", name,
	    load(&m->sweep_sum_us) / 1e6, name, (unsigned long long)cum);
}

/* n counters from first on, one name, label values vals[]. */
static void
render_family(struct metrics *m, struct evbuffer *out, const char *name,
    const char *help, const char *label, const char *const *vals,
    int first, int n)
{
	int	 i;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name,
	    help, name);
	for (i = 0; i < n; i++)
		evbuffer_add_printf(out, "%s{%s=\"%s\"} %llu\n", name, label,
		    vals[i], (unsigned long long)load(&m->counter[first + i]));
}

/* The sweep of --retention (SPEC 6): what it forgot, how long it held. */
static void
render_sweep(struct metrics *m, struct evbuffer *out)
{
	static const char *const what[] = { "tokens", "revoked_kept",
	    "remembered", "events" };

	render_family(m, out, "revokerd_swept_total", "What the sweep "
	    "forgot: tokens expired --retention ago; revoked ones kept as "
	    "remembered revocations; remembered revocations, rules and "
	    "placeholders past their time; applied event ids.", "what",
	    what, MET_SWEPT_TOKENS, 4);
	render_one(out, "revokerd_sweep_slices_total", "counter",
	    "Sweep write transactions committed.",
	    load(&m->counter[MET_SWEEP_SLICES]));
	evbuffer_add_printf(out, "# HELP revokerd_sweep_oldest_expired_"
	    "seconds Age of the oldest exp among the tokens kept (0: none "
	    "expired).\n"
	    "# TYPE revokerd_sweep_oldest_expired_seconds gauge\n"
	    "revokerd_sweep_oldest_expired_seconds %lld\n"
	    "# HELP revokerd_sweep_slice_seconds_max The longest sweep "
	    "write transaction since start (the writer's lock time).\n"
	    "# TYPE revokerd_sweep_slice_seconds_max gauge\n"
	    "revokerd_sweep_slice_seconds_max %.6f\n",
	    (long long)metrics_get(m, MET_SWEEP_OLDEST),
	    (double)metrics_get(m, MET_SWEEP_SLICE_MAX) / 1e6);
	render_sweep_histogram(m, out);
}

static void
render_counters(struct metrics *m, struct evbuffer *out)
{
	static const char *const topics[] = { "revocations", "violations",
	    "dlq" };

	render_one(out, "revokerd_events_applied_total", "counter",
	    "Input events applied.", load(&m->counter[MET_APPLIED]));
	render_one(out, "revokerd_events_duplicate_total", "counter",
	    "Input events ignored because their id was applied before.",
	    load(&m->counter[MET_DUPLICATES]));
	render_one(out, "revokerd_violations_total", "counter",
	    "Delegation profile violations found.",
	    load(&m->counter[MET_VIOLATIONS]));
	render_one(out, "revokerd_tokens_revoked_total", "counter",
	    "Tokens newly revoked, cascade included.",
	    load(&m->counter[MET_REVOKED]));
	render_family(m, out, "revokerd_published_total", "Messages "
	    "delivered, by topic.", "topic", topics, MET_PUB_REVOCATIONS, 3);
	render_one(out, "revokerd_store_failures_total", "counter",
	    "Batches the store failed to apply (map or disk full, I/O): "
	    "applying pauses and retries.",
	    load(&m->counter[MET_STORE_FAILURES]));
	render_one(out, "revokerd_input_gap_messages_total", "counter",
	    "Input messages deleted from the topic before they were read.",
	    load(&m->counter[MET_INPUT_GAP]));
	render_sweep(m, out);
}

static void
render_dead(struct metrics *m, struct evbuffer *out)
{
	size_t	 i;

	evbuffer_add_printf(out, "# HELP revokerd_events_dead_total "
	    "Input events dead-lettered, by reason.\n"
	    "# TYPE revokerd_events_dead_total counter\n");
	for (i = 0; i < NDEAD; i++)
		evbuffer_add_printf(out,
		    "revokerd_events_dead_total{reason=\"%s\"} %llu\n",
		    event_reason_name((int)i),
		    (unsigned long long)load(&m->dead[i]));
}

static const char *const ready_reasons[READY_NREASONS] = {
	"", "store_full", "store_error", "input_gap", "output_stalled",
	"catching_up"
};

const char *
metrics_ready_reason(int code)
{
	if (code < 0 || code >= READY_NREASONS)
		return "unknown";
	return ready_reasons[code];
}

static void
render_gauges(struct metrics *m, struct evbuffer *out)
{
	static const char *const names[MET_NOT_READY] = {
		"revokerd_outbox_depth", "revokerd_consumer_lag",
		"revokerd_ready"
	};
	static const char *const help[MET_NOT_READY] = {
		"Outbox entries waiting to be published.",
		"Messages behind the input topic's high watermark.",
		"1 while /readyz answers 200."
	};
	int	 i, why = (int)metrics_get(m, MET_NOT_READY);

	for (i = 0; i < MET_NOT_READY; i++)
		evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n"
		    "%s %lld\n", names[i], help[i], names[i], names[i],
		    (long long)metrics_get(m, i));
	evbuffer_add_printf(out, "# HELP revokerd_output_stalled 1 while the "
	    "drain stops on a message the broker refuses for good.\n"
	    "# TYPE revokerd_output_stalled gauge\n"
	    "revokerd_output_stalled %lld\n",
	    (long long)metrics_get(m, MET_OUTPUT_STALLED));
	evbuffer_add_printf(out, "# HELP revokerd_db_bytes Bytes of the "
	    "LMDB map in use.\n# TYPE revokerd_db_bytes gauge\n"
	    "revokerd_db_bytes %lld\n"
	    "# HELP revokerd_db_tokens Token records kept (issued and "
	    "placeholders).\n# TYPE revokerd_db_tokens gauge\n"
	    "revokerd_db_tokens %lld\n"
	    "# HELP revokerd_db_bytes_per_token Bytes in use per token "
	    "record kept (0: none).\n"
	    "# TYPE revokerd_db_bytes_per_token gauge\n"
	    "revokerd_db_bytes_per_token %lld\n",
	    (long long)metrics_get(m, MET_DB_BYTES),
	    (long long)metrics_get(m, MET_DB_TOKENS),
	    (long long)metrics_get(m, MET_DB_BYTES_PER_TOKEN));
	evbuffer_add_printf(out, "# HELP revokerd_not_ready Why /readyz "
	    "answers 503: 1 for the reason it gives.\n"
	    "# TYPE revokerd_not_ready gauge\n");
	for (i = 1; i < READY_NREASONS; i++)
		evbuffer_add_printf(out, "revokerd_not_ready{reason=\"%s\"} "
		    "%d\n", ready_reasons[i], i == why);
}

static void
render_requests(struct metrics *m, struct evbuffer *out)
{
	uint64_t	 n;
	int		 ep, c, s;

	evbuffer_add_printf(out, "# HELP revokerd_http_requests_total "
	    "HTTP requests, by endpoint and status class.\n"
	    "# TYPE revokerd_http_requests_total counter\n");
	for (ep = 0; ep < MET_NEP; ep++)
		for (c = 0; c < NCLASS; c++) {
			for (n = 0, s = 0; s < NSHARDS; s++)
				n += load(&m->shard[s].req[ep][c]);
			evbuffer_add_printf(out, "revokerd_http_requests_total"
			    "{endpoint=\"%s\",code=\"%s\"} %llu\n",
			    ep_names[ep], class_names[c],
			    (unsigned long long)n);
		}
}

static void
render_histogram(struct metrics *m, struct evbuffer *out, int ep)
{
	const char	*name = "revokerd_http_request_duration_seconds";
	uint64_t	 cum = 0, sum = 0;
	size_t		 b;
	int		 s;

	for (b = 0; b < NBUCKETS; b++) {
		for (s = 0; s < NSHARDS; s++)
			cum += load(&m->shard[s].bucket[ep][b]);
		if (b < NBUCKETS - 1)
			evbuffer_add_printf(out, "%s_bucket{endpoint=\"%s\","
			    "le=\"%.6f\"} %llu\n", name, ep_names[ep],
			    bucket_us[b] / 1e6, (unsigned long long)cum);
		else
			evbuffer_add_printf(out, "%s_bucket{endpoint=\"%s\","
			    "le=\"+Inf\"} %llu\n", name, ep_names[ep],
			    (unsigned long long)cum);
	}
	for (s = 0; s < NSHARDS; s++)
		sum += load(&m->shard[s].sum_us[ep]);
	evbuffer_add_printf(out, "%s_sum{endpoint=\"%s\"} %.6f\n"
	    "%s_count{endpoint=\"%s\"} %llu\n", name, ep_names[ep],
	    sum / 1e6, name, ep_names[ep], (unsigned long long)cum);
}

void
metrics_render(struct metrics *m, struct evbuffer *out)
{
	int	 ep;

	if (m == NULL || out == NULL)
		return;
	render_counters(m, out);
	render_dead(m, out);
	render_gauges(m, out);
	render_requests(m, out);
	evbuffer_add_printf(out, "# HELP "
	    "revokerd_http_request_duration_seconds HTTP request latency, "
	    "by endpoint.\n"
	    "# TYPE revokerd_http_request_duration_seconds histogram\n");
	for (ep = 0; ep < MET_NEP; ep++)
		render_histogram(m, out, ep);
}
