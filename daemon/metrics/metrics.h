/*
 * metrics: counters and gauges for GET /metrics (Prometheus text).
 * Every function is thread-safe (atomics); cheap enough for hot paths.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

struct metrics;
struct evbuffer;

/* Counters of the apply loop. */
#define MET_APPLIED		0	/* events applied */
#define MET_DUPLICATES		1	/* events ignored: id seen */
#define MET_VIOLATIONS		2	/* violations found */
#define MET_REVOKED		3	/* tokens newly revoked */
#define MET_PUB_REVOCATIONS	4	/* messages delivered, per topic */
#define MET_PUB_VIOLATIONS	5
#define MET_PUB_DLQ		6
#define MET_STORE_FAILURES	7	/* batches the store failed to apply */
#define MET_INPUT_GAP		8	/* input messages deleted unread */
#define MET_SWEPT_TOKENS	9	/* tokens forgotten (SPEC 6) */
#define MET_SWEPT_KEPT		10	/* revoked: kept as revocations */
#define MET_SWEPT_OTHER		11	/* revocations, rules, placeholders */
#define MET_SWEPT_EVENTS	12	/* applied event ids forgotten */
#define MET_SWEEP_SLICES	13	/* sweep transactions committed */
#define MET_NCOUNTERS		14

/* Gauges. */
#define MET_OUTBOX_DEPTH	0	/* outbox entries waiting */
#define MET_CONSUMER_LAG	1	/* messages behind the high watermark */
#define MET_READY		2	/* 1 while /readyz answers 200 */
#define MET_NOT_READY		3	/* why not: READY_* */
#define MET_OUTPUT_STALLED	4	/* 1: a message refused for good */
#define MET_DB_BYTES		5	/* of the map in use */
#define MET_DB_TOKENS		6	/* token records kept */
#define MET_DB_BYTES_PER_TOKEN	7	/* the two above divided */
#define MET_SWEEP_OLDEST	8	/* s since the oldest kept exp passed */
#define MET_SWEEP_SLICE_MAX	9	/* µs: longest sweep transaction */
#define MET_NGAUGES		10

/*
 * Why /readyz answers 503 (SPEC section 4), the most pressing first: a
 * daemon with several reasons reports the lowest.
 */
#define READY_OK		0
#define READY_STORE_FULL	1	/* applying paused: map or disk full */
#define READY_STORE_ERROR	2	/* applying paused: the store failed */
#define READY_INPUT_GAP		3	/* input deleted unread; ack-gap */
#define READY_OUTPUT_STALLED	4	/* the outbox cannot be published */
#define READY_CATCHING_UP	5	/* not yet at the input's end */
#define READY_NREASONS		6

/* The SPEC's name of a READY_* reason ("" for READY_OK). */
const char	*metrics_ready_reason(int);

/* HTTP endpoints, for request counts and latency. */
#define MET_EP_INTROSPECT	0
#define MET_EP_REVOKE		1
#define MET_EP_TOKEN		2
#define MET_EP_TREE		3
#define MET_EP_HEALTHZ		4
#define MET_EP_READYZ		5
#define MET_EP_METRICS		6
#define MET_EP_OTHER		7
#define MET_NEP			8

struct metrics	*metrics_new(void);
void		 metrics_free(struct metrics **);
void		 metrics_add(struct metrics *, int counter, uint64_t n);
void		 metrics_set(struct metrics *, int gauge, int64_t v);
int64_t		 metrics_get(struct metrics *, int gauge);
/* An event dead-lettered, by reason (a decoder/apply reason string). */
void		 metrics_dead(struct metrics *, const char *reason);
/* One HTTP request: endpoint MET_EP_*, status code, latency in µs. */
void		 metrics_http(struct metrics *, int ep, int status,
		    uint64_t usec);
/* One sweep write transaction of usec µs, for the histogram. */
void		 metrics_sweep_slice(struct metrics *, uint64_t usec);
/* Append the Prometheus text exposition to out. */
void		 metrics_render(struct metrics *, struct evbuffer *out);

#endif
