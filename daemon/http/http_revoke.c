/*
 * http_revoke: POST /revoke (RFC 7009, SPEC section 4).
 *
 * The form names a token by jti (token_type_hint=jti, maybe with iss)
 * or by the raw token (its SHA-256).  A known token is revoked by its
 * (iss, jti); an unknown one all the same, so that its issuance, when it
 * comes, is born revoked: target {"jti", "iss"} for a jti, {"hash"} for
 * a raw token.  The issuer of an unknown token is the iss given, else
 * the only issuer that knows that jti, else the only issuer known at
 * all; when that leaves several or none the answer is 400, never a 200
 * that does nothing.
 *
 * The event goes to the input topic with a tag of the pending table
 * (pending.h) that the producer's delivery report fills in.  The
 * request then waits, polled every WAIT_POLL_US with the worker's other
 * waiting ones: 200 once the event is applied (within revoke_wait_ms);
 * 202 once revoke_wait_ms has passed and the broker has acknowledged
 * it; 503 with Retry-After when its delivery failed or no
 * acknowledgement came within max(revoke_wait_ms, ACK_MIN_MS).  So a
 * 200 or a 202 always stands for an event the broker holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "consumers/text/b64.h"
#include "consumers/log/log.h"
#include "daemon/http/http_int.h"
#include "daemon/http/pending.h"
#include "store/graph/store.h"

#define WAIT_POLL_US	2000
#define ACK_MIN_MS	1000	/* the least wait for the broker's ack */
#define STR_MAX		256	/* SPEC 2: iss and jti, 1..256 bytes */
#define HASH_B64_LEN	43	/* base64url of 32 bytes, no padding */

/* What a /revoke form names, resolved in one read transaction. */
struct rv {
	const char	*iss;		/* the event's issuer */
	const char	*jti;		/* target jti; NULL: target hash */
	char		 hash[HASH_B64_LEN + 1];
	int		 revoked;	/* known, and revoked already */
	const char	*why;		/* the 400's description */
};

/* 1 if s[0..n) may be an iss or a jti of an event (SPEC 2), else 0. */
static int
str_ok(const char *s, size_t n)
{
	json_t	*j;

	if (n == 0 || n > STR_MAX || strlen(s) != n)
		return 0;
	if ((j = json_stringn(s, n)) == NULL)	/* not UTF-8 */
		return 0;
	json_decref(j);
	return 1;
}

/* The known token id: revoke it by its own (iss, jti).  0 or -1. */
static int
rv_known(struct store_txn *txn, uint64_t id, struct rv *v)
{
	struct store_token	 tok;

	if (store_peek(txn, id, &tok) != 0)
		return -1;
	v->iss = tok.iss;
	v->jti = tok.jti;
	v->revoked = tok.status == STORE_REVOKED;
	return 0;
}

/* The issuer of an unknown token.  0, 1 (v->why: a 400) or -1. */
static int
rv_issuer(struct store_txn *txn, const char *iss, struct rv *v)
{
	int	 rc;

	if (iss != NULL) {
		v->iss = iss;
		return 0;
	}
	if ((rc = store_sole_issuer(txn, &v->iss)) == 0)
		return 0;
	if (rc == STORE_EXISTS)
		v->why = "token unknown and several issuers known: give iss";
	else if (rc == STORE_NOTFOUND)
		v->why = "token unknown and no issuer known yet: give iss";
	return rc == -1 ? -1 : 1;
}

/* token_type_hint=jti.  0, 1 (a 400) or -1. */
static int
rv_jti(struct http_req *r, struct store_txn *txn, const struct http_field *f,
    struct rv *v)
{
	const char	*jti = f[0].val, *iss = f[2].val;
	uint8_t		 h[STORE_HASH_LEN];
	uint64_t	 id;
	int		 rc;

	rc = iss != NULL ? store_lookup(txn, iss, jti, &id) :
	    store_lookup_jti(txn, jti, &id);
	if (rc == STORE_EXISTS) {
		v->why = "jti known under several issuers: give iss";
		return 1;
	}
	if (rc != STORE_NOTFOUND)
		return rc == 0 ? rv_known(txn, id, v) : -1;
	/* RFC 7009 2.1: a hint that finds nothing widens the search. */
	if (http_raw_hash(r, jti, h) == -1 ||
	    (rc = store_lookup_hash(txn, h, &id)) == -1)
		return -1;
	if (rc == 0 && rv_known(txn, id, v) == -1)
		return -1;
	if (rc == 0 && (iss == NULL || strcmp(iss, v->iss) == 0))
		return 0;
	v->revoked = 0;
	if (!str_ok(jti, f[0].len)) {
		v->why = "jti must be 1..256 bytes of UTF-8";
		return 1;
	}
	v->jti = jti;
	if ((rc = rv_issuer(txn, iss, v)) != 0)
		return rc;
	/* A placeholder (a parent named, a revocation remembered). */
	if ((rc = store_lookup(txn, v->iss, jti, &id)) == 0)
		return rv_known(txn, id, v);
	return rc == STORE_NOTFOUND ? 0 : -1;
}

/* A raw token.  0, 1 (a 400) or -1. */
static int
rv_raw(struct http_req *r, struct store_txn *txn, const struct http_field *f,
    struct rv *v)
{
	uint8_t		 h[STORE_HASH_LEN];
	uint64_t	 id;
	int		 rc;

	if (http_raw_hash(r, f[0].val, h) == -1 ||
	    (rc = store_lookup_hash(txn, h, &id)) == -1)
		return -1;
	if (rc == 0)
		return rv_known(txn, id, v);
	(void)b64_encode(h, sizeof(h), v->hash, 1);
	v->jti = NULL;
	return rv_issuer(txn, f[2].val, v);
}

static void
event_id(char out[HTTP_EVID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t		 rnd[16];
	size_t		 i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("http: no random bytes");
	memcpy(out, "http-", 5);
	for (i = 0; i < sizeof(rnd); i++) {
		out[5 + 2 * i] = hex[rnd[i] >> 4];
		out[6 + 2 * i] = hex[rnd[i] & 15];
	}
	out[HTTP_EVID_LEN] = '\0';
}

/* The token.revoked event of SPEC section 2 into w->body. */
static void
revoke_event(struct http_req *r, const struct rv *v)
{
	struct evbuffer	*b = r->w->body;

	evbuffer_add_printf(b, "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"%s\",\"time\":%lld,\"iss\":", r->wait_id,
	    (long long)time(NULL));
	http_json_str(b, v->iss, strlen(v->iss));
	if (v->jti != NULL) {
		evbuffer_add_printf(b, ",\"target\":{\"jti\":");
		http_json_str(b, v->jti, strlen(v->jti));
		evbuffer_add_printf(b, ",\"iss\":");
		http_json_str(b, v->iss, strlen(v->iss));
	} else
		evbuffer_add_printf(b, ",\"target\":{\"hash\":\"%s\"",
		    v->hash);
	evbuffer_add_printf(b, "},\"reason\":\"rfc7009\"}");
}

/*
 * Publish the revocation v names, tracked in the pending table: 0, or
 * -1 when it could not be queued.  Reads v inside its transaction.
 */
static int
revoke_submit(struct http_req *r, const struct rv *v)
{
	const struct http_hooks	*hk = &r->w->h->hooks;
	struct evbuffer		*b = r->w->body;
	const char		*payload, *key;
	size_t			 len;
	int			 rc = -1;

	event_id(r->wait_id);
	if (hk->submit == NULL || hk->pending == NULL) {
		log_warnx("http: /revoke: no producer to publish with");
		return -1;
	}
	if (pending_add(hk->pending, r->wait_id, &r->wait_tag) == -1) {
		log_warnx("http: /revoke: too many events awaiting delivery");
		return -1;
	}
	revoke_event(r, v);
	len = evbuffer_get_length(b);
	key = v->jti != NULL ? v->jti : v->hash;
	if ((payload = (const char *)evbuffer_pullup(b, -1)) != NULL)
		rc = hk->submit(hk->arg, key, payload, len, r->wait_tag);
	evbuffer_drain(b, len);
	if (rc == -1) {
		pending_release(hk->pending, r->wait_tag, 0);
		log_warnx("http: /revoke: could not submit event %s",
		    r->wait_id);
	} else
		log_info("http: /revoke: submitted event %s", r->wait_id);
	return rc;
}

/* Wait for the event's delivery report and its application. */
static int
revoke_wait(struct http_req *r)
{
	struct http_worker	*w = r->w;
	struct timeval		 tv = { 0, WAIT_POLL_US };
	int			 ms = w->h->cfg.revoke_wait_ms;
	uint64_t		 now = http_now_us();

	r->wait_until = now + (uint64_t)ms * 1000;
	r->ack_until = now + (uint64_t)(ms > ACK_MIN_MS ? ms : ACK_MIN_MS) *
	    1000;
	TAILQ_INSERT_TAIL(&w->waits, r, wait_entry);
	r->waiting = 1;
	if (!evtimer_pending(w->wait_ev, NULL))
		evtimer_add(w->wait_ev, &tv);
	return 1;
}

/* 0 when answered, 1 when waiting for the event. */
int
http_revoke(struct http_req *r)
{
	struct http_field	 f[3] = { { "token", NULL, 0 },
	    { "token_type_hint", NULL, 0 }, { "iss", NULL, 0 } };
	struct store_txn	*txn;
	struct rv		 v;
	const char		*hint;
	int			 rc;

	if (http_form_body(r, f, 3) == -1)
		return 0;
	memset(&v, 0, sizeof(v));
	hint = f[1].val;
	if (f[2].val != NULL && !str_ok(f[2].val, f[2].len)) {
		http_error_desc(r, 400, "iss must be 1..256 bytes of UTF-8");
		return 0;
	}
	if (store_begin(r->w->h->store, 1, &txn) == -1) {
		http_error(r, 503);
		return 0;
	}
	rc = hint != NULL && strcmp(hint, "jti") == 0 ?
	    rv_jti(r, txn, f, &v) : rv_raw(r, txn, f, &v);
	if (rc == 0 && !v.revoked)
		rc = revoke_submit(r, &v) == 0 ? 2 : 3;
	store_abort(&txn);
	switch (rc) {
	case 0:		/* revoked already: applied */
		http_reply(r, 200, NULL, NULL, 0);
		return 0;
	case 1:
		http_error_desc(r, 400, v.why);
		return 0;
	case 2:
		return revoke_wait(r);
	case 3:
		http_error_desc(r, 503, "revocation not queued: retry");
		return 0;
	default:
		http_error(r, 500);
		return 0;
	}
}

/*
 * The status to answer r with now, or 0 to wait on.  An application
 * seen only after revoke_wait_ms counts as not applied in time (202):
 * with 0 ms the answer comes as soon as the broker has the event.
 */
static int
wait_outcome(struct http_req *r, struct store_txn *txn, uint64_t now,
    int final)
{
	int	 st = pending_state(r->w->h->hooks.pending, r->wait_tag);

	if (now < r->wait_until && txn != NULL &&
	    store_event_seen(txn, r->wait_id) == 1)
		return 200;
	if (st == PENDING_FAILED)
		return 503;
	if (st == PENDING_ACKED)
		return final || now >= r->wait_until ? 202 : 0;
	return final || now >= r->ack_until ? 503 : 0;
}

static void
wait_answer(struct http_req *r, int status)
{
	struct http_worker	*w = r->w;

	TAILQ_REMOVE(&w->waits, r, wait_entry);
	r->waiting = 0;
	pending_release(w->h->hooks.pending, r->wait_tag, 1);
	if (status == 503) {
		log_warnx("http: /revoke: event %s: no acknowledgement from "
		    "the broker (failed, or not in time): 503", r->wait_id);
		http_error_desc(r, 503, "the broker did not acknowledge the "
		    "revocation: retry");
	} else
		http_reply(r, status, NULL, NULL, 0);
	http_resume(r);
}

/* One pass over w->waits in one read transaction. */
static void
wait_pass(struct http_worker *w, int final)
{
	struct http_req		*r, *next;
	struct store_txn	*txn = NULL;
	uint64_t		 now = http_now_us();
	int			 status;

	if (store_begin(w->h->store, 1, &txn) == -1)
		txn = NULL;
	for (r = TAILQ_FIRST(&w->waits); r != NULL; r = next) {
		next = TAILQ_NEXT(r, wait_entry);
		if ((status = wait_outcome(r, txn, now, final)) != 0)
			wait_answer(r, status);
	}
	store_abort(&txn);
}

void
http_revoke_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_worker	*w = arg;
	struct timeval		 tv = { 0, WAIT_POLL_US };

	(void)fd;
	(void)what;
	wait_pass(w, 0);
	if (!TAILQ_EMPTY(&w->waits))
		evtimer_add(w->wait_ev, &tv);
}

void
http_revoke_wait_final(struct http_worker *w)
{
	wait_pass(w, 1);
}

void
http_revoke_wait_drop(struct http_req *r)
{
	r->waiting = 0;
	pending_release(r->w->h->hooks.pending, r->wait_tag, 1);
}
