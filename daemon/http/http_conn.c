/*
 * http_conn: one worker's connections.  Accept (up to max_conns per
 * worker), read into the connection's buffer, parse a request head in
 * place and wait for its body, hand the request to the API, write the
 * reply, keep the connection alive.  A connection serves one request at
 * a time; a request that goes asynchronous (/revoke waiting for its
 * event) holds back the ones pipelined behind it.
 *
 * Time bounds: an idle connection is closed after --http-timeout without
 * a byte; a request has --http-timeout in all, from its first byte, to
 * bring its head and body (a deadline timer, not reset by each byte:
 * 408 after it); after an error reply, or a reply with Connection:
 * close, the connection is shut for writing and drained for at most
 * LINGER_SEC (or the timeout, if shorter) in all, then closed.
 *
 * Costs, per request, on the hot path: one read(2), one writev(2), no
 * allocation (the input buffer is the connection's and grows only for a
 * large body, up to max_headers + max_body; the output evbuffer reuses
 * small chunks), no printf.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "consumers/log/log.h"
#include "daemon/http/auth.h"
#include "daemon/http/http_int.h"
#include "daemon/metrics/metrics.h"

#define ACCEPT_BURST	64
#define IN_INITIAL	4096		/* input buffer of a new connection */
#define READ_MIN	1024		/* room wanted before a read */
#define OUT_HIGH	(256 * 1024)	/* stop reading above this */
#define LINGER_SEC	2		/* most time spent closing */

struct http_conn {
	TAILQ_ENTRY(http_conn) entry;
	struct http_worker *w;
	evutil_socket_t	 fd;
	struct event	*rev;
	struct event	*wev;
	struct event	*dev;		/* deadline: of a request, or linger */
	char		*ib;		/* input: [ioff, ilen) unconsumed */
	size_t		 ioff;
	size_t		 ilen;
	size_t		 icap;
	struct evbuffer	*out;
	int		 busy;		/* a request is asynchronous */
	int		 closing;	/* close once out is written */
	int		 lingering;	/* closed for writing, draining input */
	int		 sent_continue;
	int		 paused;	/* not reading: buffers full */
	int		 closing_by;	/* dev bounds the close now */
	uint64_t	 head_t0;	/* µs: a partial request's first byte */
	uint8_t		 peer[16];	/* address bytes, for auth budgets */
	size_t		 peer_len;
	struct http_req	 req;
};

static void	conn_process(struct http_conn *);
static void	conn_throttle(struct http_conn *);

uint64_t
http_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
conn_free(struct http_conn *c)
{
	struct http_worker	*w = c->w;

	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	w->h->nconns--;
	if (c->req.waiting) {
		TAILQ_REMOVE(&w->waits, &c->req, wait_entry);
		http_revoke_wait_drop(&c->req);
	}
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->dev != NULL)
		event_free(c->dev);
	free(c->ib);
	if (c->out != NULL)
		evbuffer_free(c->out);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

void
http_conns_free(struct http_worker *w)
{
	struct http_conn	*c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_free(c);
}

/*
 * Close within a bound from now: arm the deadline timer for the linger,
 * unless an earlier one (set by conn_refuse()) already bounds it.
 * 0 or -1.
 */
static int
conn_bound_close(struct http_conn *c)
{
	struct timeval	 tv = { LINGER_SEC, 0 };

	if (c->w->h->cfg.timeout < LINGER_SEC)
		tv.tv_sec = c->w->h->cfg.timeout;
	if (c->closing_by)
		return 0;
	c->closing_by = 1;
	return evtimer_add(c->dev, &tv);
}

/*
 * Stop writing, read and drop what the peer still sends (so that the
 * close sends no RST that would destroy the reply in flight), then
 * close: when the peer closes, or at the bounded deadline.
 */
static void
conn_linger(struct http_conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1 || conn_bound_close(c) == -1) {
		conn_free(c);
		return;
	}
	c->lingering = 1;
	c->paused = 0;
	c->ioff = c->ilen = 0;
	if (event_add(c->rev, c->w->tmo) == -1)
		conn_free(c);
}

/* Write what we can; 0, or -1 when the connection was freed. */
static int
conn_flush(struct http_conn *c)
{
	if (evbuffer_get_length(c->out) > 0 &&
	    evbuffer_write(c->out, c->fd) == -1 &&
	    errno != EAGAIN && errno != EINTR) {
		conn_free(c);
		return -1;
	}
	if (evbuffer_get_length(c->out) > 0) {
		if (!event_pending(c->wev, EV_WRITE, NULL))
			event_add(c->wev, c->w->tmo);
		return 0;
	}
	if (event_pending(c->wev, EV_WRITE, NULL))
		event_del(c->wev);
	if (c->closing && !c->busy) {
		conn_linger(c);
		return -1;
	}
	return 0;
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		conn_free(c);
		return;
	}
	if (conn_flush(c) == 0 && !c->busy &&
	    evbuffer_get_length(c->out) < OUT_HIGH)
		conn_process(c);
}

/* The most input a connection holds: one whole request and a bit. */
static size_t
in_limit(const struct http_conn *c)
{
	const struct http_config *cfg = &c->w->h->cfg;

	return cfg->max_headers + cfg->max_body + READ_MIN;
}

/* Make room to read: move the unconsumed bytes down, or grow. */
static int
conn_room(struct http_conn *c)
{
	size_t	 cap;
	char	*p;

	if (c->icap - c->ilen >= READ_MIN)
		return 0;
	if (c->ioff > 0) {
		memmove(c->ib, c->ib + c->ioff, c->ilen - c->ioff);
		c->ilen -= c->ioff;
		c->ioff = 0;
	}
	if (c->icap - c->ilen >= READ_MIN || c->icap >= in_limit(c))
		return 0;
	cap = c->icap * 2 < in_limit(c) ? c->icap * 2 : in_limit(c);
	if ((p = realloc(c->ib, cap)) == NULL)
		return -1;
	c->ib = p;
	c->icap = cap;
	return 0;
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;
	ssize_t			 n;

	if (what & EV_TIMEOUT) {
		if (!c->busy)
			conn_free(c);
		return;
	}
	if (c->lingering)
		c->ioff = c->ilen = 0;
	if (conn_room(c) == -1 || c->ilen == c->icap) {
		conn_free(c);
		return;
	}
	n = read(fd, c->ib + c->ilen, c->icap - c->ilen);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_free(c);
		return;
	}
	if (n > 0)
		c->ilen += (size_t)n;
	if (c->lingering)
		c->ioff = c->ilen = 0;
	else if (!c->busy)
		conn_process(c);
	else
		conn_throttle(c);
}

/* The address bytes a budget counts by: IPv4, or an IPv6 /64. */
static void
conn_peer(struct http_conn *c, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*sin6 =
	    (const struct sockaddr_in6 *)ss;

	c->peer_len = 0;
	if (ss->ss_family == AF_INET) {
		memcpy(c->peer, &sin->sin_addr, 4);
		c->peer_len = 4;
	} else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(c->peer, sin6->sin6_addr.s6_addr + 12, 4);
		c->peer_len = 4;
	} else if (ss->ss_family == AF_INET6) {
		memcpy(c->peer, sin6->sin6_addr.s6_addr, 8);
		c->peer_len = 8;
	}
}

static void	conn_deadline_cb(evutil_socket_t, short, void *);

static int
conn_new(struct http_worker *w, evutil_socket_t fd,
    const struct sockaddr_storage *ss)
{
	struct http_conn	*c;
	int			 one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->w = w;
	c->fd = fd;
	c->req.w = w;
	c->req.c = c;
	conn_peer(c, ss);
	c->icap = IN_INITIAL;
	c->ib = malloc(c->icap);
	c->out = evbuffer_new();
	c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(w->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb,
	    c);
	c->dev = evtimer_new(w->base, conn_deadline_cb, c);
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->nconns++;
	w->h->nconns++;
	if (c->ib == NULL || c->out == NULL || c->rev == NULL ||
	    c->wev == NULL || c->dev == NULL ||
	    event_add(c->rev, w->tmo) == -1) {
		c->fd = -1;
		conn_free(c);
		return -1;
	}
	return 0;
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_worker	*w = arg;

	(void)fd;
	(void)what;
	event_add(w->lev, NULL);
}

/* Out of descriptors: stop accepting for a while rather than spin. */
static void
accept_pause(struct http_worker *w)
{
	struct timeval	 tv = { 0, 100000 };

	log_warn("http: accept");
	event_del(w->lev);
	event_base_once(w->base, -1, EV_TIMEOUT, accept_resume_cb, w, &tv);
}

void
http_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct http_worker	*w = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	evutil_socket_t		 fd;
	int			 i, e;

	(void)what;
	for (i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			e = errno;	/* accept_pause() logs: keep ours */
			if (e == EMFILE || e == ENFILE || e == ENOBUFS ||
			    e == ENOMEM) {
				accept_pause(w);
				return;
			}
			if (e == ECONNABORTED || e == EINTR)
				continue;
			return;
		}
		/*
		 * The cap is shared: with one listening socket whichever
		 * worker wakes first accepts, so a busy one must not refuse
		 * what an idle one could serve.  (Workers racing may pass it
		 * by one each.)
		 */
		if (w->h->nconns >= (long)w->h->cfg.max_conns *
		    w->h->nworkers) {
			log_debug("http: connection cap %d reached",
			    w->h->cfg.max_conns * w->h->nworkers);
			close(fd);
		} else if (conn_new(w, fd, &ss) == -1) {
			log_warnx("http: out of memory for a connection");
			close(fd);
		}
	}
}

static void
update_date(struct http_worker *w)
{
	struct tm	 tm;
	time_t		 now = time(NULL);

	if (now == w->date_at)
		return;
	w->date_at = now;
	if (gmtime_r(&now, &tm) == NULL || strftime(w->date, sizeof(w->date),
	    "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm) == 0)
		w->date[0] = '\0';
}

static const char *
reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* A bounded string builder: no printf on the hot path. */
struct hbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 full;
};

static void
hb_add(struct hbuf *b, const char *s, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
hb_str(struct hbuf *b, const char *s)
{
	hb_add(b, s, strlen(s));
}

static void
hb_num(struct hbuf *b, size_t v)
{
	char	 d[24];
	size_t	 i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	hb_add(b, d + i, sizeof(d) - i);
}

/* The status line and headers, into buf.  Its length, or -1. */
static int
reply_head(struct http_req *r, int status, const char *ctype, size_t len,
    char *buf, size_t buflen)
{
	struct hbuf	 b = { buf, 0, buflen, 0 };

	update_date(r->w);
	hb_add(&b, "HTTP/1.1 ", 9);
	hb_num(&b, (size_t)status);
	hb_add(&b, " ", 1);
	hb_str(&b, reason_of(status));
	hb_add(&b, "\r\n", 2);
	hb_str(&b, r->w->date);
	if (ctype != NULL) {
		hb_add(&b, "Content-Type: ", 14);
		hb_str(&b, ctype);
		hb_add(&b, "\r\n", 2);
	}
	hb_add(&b, "Content-Length: ", 16);
	hb_num(&b, len);
	hb_str(&b, "\r\nCache-Control: no-store\r\n");
	if (status == 401)
		hb_str(&b, "WWW-Authenticate: Basic realm=\"revokerd\"\r\n");
	if (status == 429) {
		hb_add(&b, "Retry-After: ", 13);
		hb_num(&b, AUTH_RETRY_AFTER);
		hb_add(&b, "\r\n", 2);
	}
	if (status == 405 && r->allow != NULL) {
		hb_add(&b, "Allow: ", 7);
		hb_str(&b, r->allow);
		hb_add(&b, "\r\n", 2);
	}
	if (status == 503)
		hb_str(&b, "Retry-After: 1\r\n");
	if (!r->keepalive)
		hb_str(&b, "Connection: close\r\n");
	else if (r->http10)	/* RFC 9112 9.3: 1.0 keeps alive if told */
		hb_str(&b, "Connection: keep-alive\r\n");
	hb_add(&b, "\r\n", 2);
	return b.full ? -1 : (int)b.len;
}

void
http_reply(struct http_req *r, int status, const char *ctype,
    const struct iovec *iov, int niov)
{
	struct http_conn	*c = r->c;
	char			 head[512];
	size_t			 len = 0;
	int			 i, n;

	for (i = 0; i < niov; i++)
		len += iov[i].iov_len;
	if ((n = reply_head(r, status, ctype, len, head, sizeof(head))) < 0)
		fatalx("http: reply head too long");
	evbuffer_add(c->out, head, (size_t)n);
	for (i = 0; i < niov && !r->head_only; i++)
		evbuffer_add(c->out, iov[i].iov_base, iov[i].iov_len);
	metrics_http(r->w->h->met, r->ep, status, http_now_us() - r->t0);
	if (!r->keepalive)
		c->closing = 1;
}

void
http_reply_body(struct http_req *r, int status, const char *ctype)
{
	struct http_conn	*c = r->c;
	struct http_worker	*w = r->w;
	char			 head[512];
	int			 n;

	n = reply_head(r, status, ctype, evbuffer_get_length(w->body), head,
	    sizeof(head));
	if (n < 0)
		fatalx("http: reply head too long");
	evbuffer_add(c->out, head, (size_t)n);
	if (r->head_only)
		evbuffer_drain(w->body, evbuffer_get_length(w->body));
	else
		evbuffer_add_buffer(c->out, w->body);
	metrics_http(w->h->met, r->ep, status, http_now_us() - r->t0);
	if (!r->keepalive)
		c->closing = 1;
}

void
http_resume(struct http_req *r)
{
	struct http_conn	*c = r->c;

	c->busy = 0;
	conn_process(c);
}

/* Answer a request that could not be parsed, and close. */
static void
conn_refuse(struct http_conn *c, int status)
{
	struct http_req	*r = &c->req;

	r->ep = MET_EP_OTHER;
	r->keepalive = 0;
	r->head_only = 0;
	r->allow = NULL;
	r->t0 = http_now_us();
	http_error(r, status);
	if (conn_bound_close(c) == -1)
		log_warnx("http: cannot arm a close deadline");
}

static void
req_fill(struct http_req *r, const struct http_msg *m, const char *p)
{
	const char	*q;

	r->method = m->method;
	r->path = m->target;
	r->path_len = m->target_len;
	r->query = NULL;
	r->query_len = 0;
	if ((q = memchr(m->target, '?', m->target_len)) != NULL) {
		r->path_len = (size_t)(q - m->target);
		r->query = q + 1;
		r->query_len = m->target_len - r->path_len - 1;
	}
	r->authz = m->authz;
	r->authz_len = m->authz_len;
	r->peer = r->c->peer;
	r->peer_len = r->c->peer_len;
	r->ctype = m->ctype;
	r->ctype_len = m->ctype_len;
	r->body = p + m->head_len;
	r->body_len = m->clen;
	r->keepalive = m->keepalive;
	r->http10 = m->minor == 0;
	r->head_only = m->method == HM_HEAD;
	r->allow = NULL;
	r->ep = MET_EP_OTHER;
}

/*
 * Wait for more of a request: its first byte starts its deadline
 * (conn_deadline_cb() answers 408 when it passes).  1, or -1 (the
 * connection is being refused).
 */
static int
conn_more(struct http_conn *c, const struct http_msg *m)
{
	if (c->head_t0 == 0) {
		c->head_t0 = http_now_us();
		if (evtimer_add(c->dev, c->w->tmo) == -1) {
			conn_refuse(c, 500);
			return -1;
		}
	}
	if (m != NULL && m->expect_continue && !c->sent_continue) {
		evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		c->sent_continue = 1;
	}
	return 1;
}

/* Serve one request from c->ib.  0 served, 1 need more, -1 stop. */
static int
conn_one(struct http_conn *c)
{
	struct http_config	*cfg = &c->w->h->cfg;
	struct http_msg		 m;
	const char		*p;
	size_t			 len, look, total;
	int			 rc;

	p = c->ib + c->ioff;
	len = c->ilen - c->ioff;
	look = len < cfg->max_headers ? len : cfg->max_headers;
	if ((rc = http_parse(p, look, cfg->max_headers, &m)) == HTTP_MORE)
		return conn_more(c, NULL);
	if (rc == 0 && m.clen > cfg->max_body)
		rc = 413;
	if (rc != 0) {
		conn_refuse(c, rc);
		return -1;
	}
	total = m.head_len + m.clen;
	if (len < total)
		return conn_more(c, &m);
	req_fill(&c->req, &m, p);
	c->req.t0 = http_now_us();
	c->busy = http_api_serve(&c->req);
	c->ioff += total;
	if (c->ioff == c->ilen)
		c->ioff = c->ilen = 0;
	if (c->head_t0 != 0 && !c->closing_by)
		evtimer_del(c->dev);
	c->head_t0 = 0;
	c->sent_continue = 0;
	return 0;
}

/* Read only while the buffers have room: bounds a pipelining client. */
static void
conn_throttle(struct http_conn *c)
{
	int	 full;

	full = c->ilen - c->ioff >= in_limit(c) ||
	    evbuffer_get_length(c->out) >= OUT_HIGH;
	if (full && !c->paused) {
		event_del(c->rev);
		c->paused = 1;
	} else if (!full && c->paused) {
		event_add(c->rev, c->w->tmo);
		c->paused = 0;
	}
}

static void
conn_process(struct http_conn *c)
{
	while (!c->busy && !c->closing && c->ilen > c->ioff &&
	    evbuffer_get_length(c->out) < OUT_HIGH)
		if (conn_one(c) != 0)
			break;
	if (conn_flush(c) == 0)
		conn_throttle(c);
}

/*
 * The deadline passed: of a request still coming in (408, then a close
 * bounded by conn_bound_close()), or of a close (give up on the peer).
 */
static void
conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn	*c = arg;

	(void)fd;
	(void)what;
	if (c->closing_by) {
		conn_free(c);
		return;
	}
	if (c->busy)		/* not armed while a request is served */
		return;
	conn_refuse(c, 408);
	conn_process(c);
}
