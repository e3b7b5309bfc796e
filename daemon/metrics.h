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
#define MET_NCOUNTERS		7

/* Gauges. */
#define MET_OUTBOX_DEPTH	0	/* outbox entries waiting */
#define MET_CONSUMER_LAG	1	/* messages behind the high watermark */
#define MET_READY		2	/* 1 once caught up */
#define MET_NGAUGES		3

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
/* Append the Prometheus text exposition to out. */
void		 metrics_render(struct metrics *, struct evbuffer *out);

#endif
