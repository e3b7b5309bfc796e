/*
 * http: the HTTP API of SPEC section 4 (introspection, revocation,
 * admin, health, metrics), served by worker threads that each run an
 * event base and read the store in their own read transactions.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct metrics;
struct pending;
struct http;

struct http_config {
	const char	*listen;		/* "ADDR:PORT" */
	const char	*clients_file;		/* NULL: nobody is let in */
	int		 threads;		/* worker threads */
	int		 revoke_wait_ms; /* /revoke: 200 before, 202 after */
	int		 leeway;		/* seconds, exp/nbf test */
	int		 audience_restricted;	/* aud must name the caller */
	size_t		 max_body;		/* bytes */
	size_t		 max_headers;		/* bytes */
	int		 timeout;		/* seconds, read/write */
	int		 max_conns;		/* per worker, pooled */
	int		 auth_fail_rate;	/* a second, per id and peer */
};

struct http_hooks {
	/*
	 * Publish a token.revoked event (JSON payload, key) to the input
	 * topic, with tag for its delivery report (the report of a tag of
	 * pending_add() must reach pending_report()).  Called from worker
	 * threads; must be thread-safe.  0, or -1 when it was not queued.
	 */
	int		(*submit)(void *arg, const char *key,
			    const char *payload, size_t len, uint64_t tag);
	/*
	 * NULL when ready (caught up, applying, publishing), else why not:
	 * one of SPEC section 4's /readyz reasons.  Thread-safe.
	 */
	const char	*(*ready)(void *arg);
	void		*arg;
	/* /revoke events awaiting their delivery report (pending.h) */
	struct pending	*pending;
};

/*
 * Bind and start the workers.  The store, metrics and hooks must
 * outlive the server.  NULL and errbuf filled on failure.
 */
struct http	*http_start(struct store *, struct metrics *,
		    const struct http_config *, const struct http_hooks *,
		    char *errbuf, size_t errlen);
/* Re-read the clients file; on error keep the old set.  0 or -1. */
int		 http_reload(struct http *);
/*
 * Stop accepting, finish the workers, free; NULLs *hp.  Accepts NULL.
 * A /revoke still waiting is answered first: 202 if its event was
 * acknowledged, else 503.
 */
void		 http_stop(struct http **hp);

#endif
