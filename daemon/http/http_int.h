/*
 * http_int: what the files of the HTTP server share (not a public
 * header; see http.h).
 *
 *   http.c		start, reload, stop; the workers' threads and sockets
 *   http_conn.c	connections: accept, read, parse, reply, keep-alive
 *   http_parse.c	the strict HTTP/1.1 request-head and form parsers
 *   http_api.c		routing, authentication, /introspect, health
 *   http_revoke.c	/revoke: resolve, publish, wait for delivery and apply
 *   http_admin.c	/v1/tokens/{jti} and its tree
 *
 * Each worker thread runs its own event base with its own descriptor of
 * the one listening socket (the idle worker accepts), so a request is
 * served start to end by one thread
 * and no request state is shared.  A connection serves its requests one
 * at a time (pipelined ones wait in its input buffer).
 */
#ifndef HTTP_INT_H
#define HTTP_INT_H

#include <sys/queue.h>
#include <sys/uio.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/util.h>

#include "daemon/http/http.h"

struct auth;
struct auth_ctx;
struct event;
struct event_base;
struct evbuffer;
struct evp_md_ctx_st;
struct evp_md_st;
struct store_txn;

/* Request methods. */
#define HM_OTHER	0
#define HM_GET		1
#define HM_POST		2
#define HM_HEAD		3

/* http_parse(): more bytes needed (else 0 or an HTTP status). */
#define HTTP_MORE	1

#define HTTP_MAX_HEADERS	64	/* header fields per request */
#define HTTP_EVID_LEN		37	/* "http-" + 32 hex digits */

/* A parsed request head; pointers into the parsed buffer. */
struct http_msg {
	int		 method;
	const char	*target;	/* origin-form: "/path?query" */
	size_t		 target_len;
	int		 minor;		/* HTTP/1.minor */
	const char	*authz;		/* Authorization value, or NULL */
	size_t		 authz_len;
	const char	*ctype;		/* Content-Type value, or NULL */
	size_t		 ctype_len;
	size_t		 clen;		/* Content-Length (0 when absent) */
	int		 keepalive;
	int		 expect_continue;
	size_t		 head_len;	/* bytes up to the end of the head */
};

/* One field wanted from a form: name in, value out. */
struct http_field {
	const char	*name;
	const char	*val;		/* NUL-terminated, or NULL if absent */
	size_t		 len;
};

struct http_worker;
struct http_conn;

/* The request being served on a connection, as the API sees it. */
struct http_req {
	struct http_worker *w;
	struct http_conn *c;
	int		 method;
	const char	*path;		/* not NUL-terminated */
	size_t		 path_len;
	const char	*query;		/* after '?', or NULL */
	size_t		 query_len;
	const char	*authz;
	size_t		 authz_len;
	const uint8_t	*peer;		/* the peer's address bytes */
	size_t		 peer_len;	/* 4, 8 (an IPv6 /64), or 0 */
	const char	*ctype;
	size_t		 ctype_len;
	const char	*body;
	size_t		 body_len;
	/* kept across an asynchronous wait */
	int		 ep;		/* MET_EP_* */
	int		 keepalive;
	int		 http10;	/* an HTTP/1.0 request */
	int		 head_only;	/* HEAD: no body in the reply */
	uint64_t	 t0;		/* µs, monotonic */
	const char	*allow;		/* Allow: for a 405 */
	/* /revoke waiting for its event to be applied */
	TAILQ_ENTRY(http_req) wait_entry;
	int		 waiting;	/* on w->waits */
	char		 wait_id[HTTP_EVID_LEN + 1];
	uint64_t	 wait_tag;	/* its delivery (pending.h) */
	uint64_t	 wait_until;	/* µs, monotonic: 202 if acked */
	uint64_t	 ack_until;	/* µs, monotonic: 503 if not acked */
};

struct http {
	struct store	*store;
	struct metrics	*met;
	struct http_config cfg;
	char		*listen;
	char		*clients;
	struct http_hooks hooks;
	struct auth	*auth;
	int		 nworkers;
	struct http_worker *w;
	/* connections of all workers: capped at max_conns * nworkers */
	_Atomic long	 nconns;
};

struct http_worker {
	struct http	*h;
	int		 idx;
	pthread_t	 thr;
	int		 running;
	struct event_base *base;
	evutil_socket_t	 lfd;
	struct event	*lev;
	int		 stopfd;	/* eventfd: written by http_stop() */
	struct event	*stop_ev;
	const struct timeval *tmo;	/* the connection timeout */
	struct auth_ctx	*actx;
	struct evp_md_ctx_st *md;	/* SHA-256 of raw tokens */
	struct store_txn *rtxn;		/* introspection's reader, reused */
	struct evp_md_st *sha256;
	char		*scratch;	/* decoded form fields */
	size_t		 scratch_len;
	struct evbuffer	*body;		/* a reply being built */
	int		 nconns;
	TAILQ_HEAD(, http_conn) conns;
	TAILQ_HEAD(, http_req) waits;	/* /revoke requests polling */
	struct event	*wait_ev;	/* their poll timer */
	time_t		 date_at;
	char		 date[40];	/* "Date: ...\r\n" */
};

/* http_parse.c */
int	http_parse(const char *buf, size_t len, size_t max_head,
	    struct http_msg *m);
int	http_form(const char *s, size_t n, struct http_field *f, size_t nf,
	    char *out, size_t outlen);
int	http_decode(const char *s, size_t n, char *out, size_t outlen,
	    int plus);

/* http_conn.c */
void	http_accept_cb(evutil_socket_t, short, void *);
void	http_conns_free(struct http_worker *);
uint64_t http_now_us(void);
/* Answer the request with body iov[0..n) (may be NULL/0). */
void	http_reply(struct http_req *, int status, const char *ctype,
	    const struct iovec *iov, int n);
/* Answer with the whole of w->body. */
void	http_reply_body(struct http_req *, int status, const char *ctype);
/* Answer a request that went asynchronous, then serve the next. */
void	http_resume(struct http_req *);

/* http_api.c: serve r; 0 when answered, 1 when it went asynchronous. */
int	http_api_serve(struct http_req *);
/* The fields of a form body.  0, or -1 (the 400 was sent). */
int	http_form_body(struct http_req *, struct http_field *f, size_t nf);
/* SHA-256 of a raw token, as token.hash names it.  0 or -1. */
int	http_raw_hash(struct http_req *, const char *token,
	    uint8_t h[32]);

/* http_revoke.c: POST /revoke; 0 when answered, 1 when waiting. */
int	http_revoke(struct http_req *);
/* The poll timer of w->waits (arg: the worker). */
void	http_revoke_wait_cb(evutil_socket_t, short, void *);
/* Answer every waiting /revoke now (the worker stops): 202 or 503. */
void	http_revoke_wait_final(struct http_worker *);
/* A waiting /revoke whose connection is freed: forget its delivery. */
void	http_revoke_wait_drop(struct http_req *);

/* http_admin.c */
void	http_admin_token(struct http_req *, const char *rest, size_t len);

/* http_reply.c: the OAuth error object for status, as the body. */
void	http_error(struct http_req *, int status);
/* The same with an error_description (a constant, JSON-safe string). */
void	http_error_desc(struct http_req *, int status, const char *desc);
/* Append s[0..n) to b as a JSON string, quotes included. */
void	http_json_str(struct evbuffer *b, const char *s, size_t n);

#endif
