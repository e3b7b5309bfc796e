/*
 * http_api: routing, authentication and the token endpoints of SPEC
 * section 4: POST /introspect (RFC 7662), POST /revoke (RFC 7009),
 * /healthz, /readyz and /metrics.  The admin views are in http_admin.c,
 * the rest of /revoke in http_revoke.c.
 *
 * Every endpoint but the health checks authenticates the caller first,
 * before the store is read, and no error depends on whether a token
 * exists.  Each request reads the store in one read transaction that
 * ends before the callback returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "consumers/log/log.h"
#include "daemon/http/auth.h"
#include "daemon/http/http_int.h"
#include "daemon/metrics/metrics.h"
#include "store/graph/store.h"

#define JSON_TYPE	"application/json"

#define STR_IOV(s)	{ (void *)(uintptr_t)(s), sizeof(s) - 1 }

static const char inactive[] = "{\"active\":false}";
static const char active_head[] = "{\"active\":true,";

static int
path_is(const struct http_req *r, const char *p)
{
	size_t	 n = strlen(p);

	return r->path_len == n && memcmp(r->path, p, n) == 0;
}

/* 0 if the caller may go on; else the 401 or 403 was sent. */
static int
gate(struct http_req *r, int role, const char **client)
{
	switch (auth_check_peer(r->w->actx, r->authz, r->authz_len, role,
	    r->peer_len > 0 ? r->peer : NULL, r->peer_len, client)) {
	case AUTH_OK:
		return 0;
	case AUTH_FORBIDDEN:
		http_error(r, 403);
		return -1;
	case AUTH_THROTTLED:
		http_error(r, 429);
		return -1;
	default:
		http_error(r, 401);
		return -1;
	}
}

/* 0 if the method is one allowed; else the 405 was sent. */
static int
method_ok(struct http_req *r, int get)
{
	if (get ? (r->method == HM_GET || r->method == HM_HEAD) :
	    r->method == HM_POST)
		return 0;
	r->allow = get ? "GET, HEAD" : "POST";
	http_error(r, 405);
	return -1;
}

int
http_form_body(struct http_req *r, struct http_field *f, size_t nf)
{
	static const char form[] = "application/x-www-form-urlencoded";
	size_t		 n = sizeof(form) - 1;

	if (r->ctype != NULL && (r->ctype_len < n ||
	    strncasecmp(r->ctype, form, n) != 0 ||
	    (r->ctype_len > n && r->ctype[n] != ';' && r->ctype[n] != ' '))) {
		http_error(r, 400);
		return -1;
	}
	if (http_form(r->body, r->body_len, f, nf, r->w->scratch,
	    r->w->scratch_len) == -1 || f[0].val == NULL || f[0].len == 0) {
		http_error(r, 400);
		return -1;
	}
	return 0;
}

int
http_raw_hash(struct http_req *r, const char *token, uint8_t h[STORE_HASH_LEN])
{
	unsigned int	 hl;

	if (EVP_DigestInit_ex2(r->w->md, r->w->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(r->w->md, token, strlen(token)) != 1 ||
	    EVP_DigestFinal_ex(r->w->md, h, &hl) != 1 || hl != STORE_HASH_LEN)
		return -1;
	return 0;
}

/*
 * The token a form names: by jti with token_type_hint=jti (under iss if
 * given, else under the one issuer that has it), then by the SHA-256 of
 * the raw token.  0, STORE_NOTFOUND or -1.
 */
static int
api_lookup(struct http_req *r, struct store_txn *txn, const char *token,
    const char *hint, const char *iss, uint64_t *id)
{
	uint8_t		 h[STORE_HASH_LEN];
	int		 rc;

	if (hint != NULL && strcmp(hint, "jti") == 0) {
		rc = iss != NULL ? store_lookup(txn, iss, token, id) :
		    store_lookup_jti(txn, token, id);
		if (rc != STORE_NOTFOUND)
			return rc == STORE_EXISTS ? STORE_NOTFOUND : rc;
	}
	/* RFC 7662 2.1: a hint that finds nothing widens the search. */
	if (http_raw_hash(r, token, h) == -1)
		return -1;
	return store_lookup_hash(txn, h, id);
}

static int
aud_names(const struct store_token *tok, const char *client)
{
	json_t	*claims, *aud, *v;
	size_t	 i;
	int	 yes = 0;

	if ((claims = json_loadb(tok->claims, tok->claims_len, 0, NULL)) ==
	    NULL)
		return 0;
	aud = json_object_get(claims, "aud");
	if (json_is_string(aud))
		yes = strcmp(json_string_value(aud), client) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    client) == 0)
			yes = 1;
	json_decref(claims);
	return yes;
}

static int
is_active(struct http_req *r, const struct store_token *tok,
    const char *client)
{
	struct http_config	*cfg = &r->w->h->cfg;
	int64_t			 now = (int64_t)time(NULL);

	if (!tok->issued || tok->status != STORE_ACTIVE)
		return 0;
	if (tok->nbf != 0 && tok->nbf > now + cfg->leeway)
		return 0;
	if (now >= tok->exp + cfg->leeway)
		return 0;
	if (tok->claims_len < 3 || ((const char *)tok->claims)[0] != '{')
		return 0;
	return !cfg->audience_restricted || aud_names(tok, client);
}

static void
introspect(struct http_req *r, const char *client)
{
	struct http_field	 f[3] = { { "token", NULL, 0 },
	    { "token_type_hint", NULL, 0 }, { "iss", NULL, 0 } };
	struct iovec		 iov[2] = { STR_IOV(active_head), { NULL, 0 } };
	struct iovec		 no = STR_IOV(inactive);
	struct store_txn	*txn;
	struct store_token	 tok;
	uint64_t		 id;
	int			 rc;

	if (http_form_body(r, f, 3) == -1)
		return;
	if (store_read_begin(r->w->h->store, &r->w->rtxn) == -1) {
		http_error(r, 503);
		return;
	}
	txn = r->w->rtxn;
	if ((rc = api_lookup(r, txn, f[0].val, f[1].val, f[2].val, &id)) == 0)
		rc = store_peek(txn, id, &tok);
	if (rc == -1)
		http_error(r, 500);
	else if (rc == 0 && is_active(r, &tok, client)) {
		iov[1].iov_base = (char *)(uintptr_t)tok.claims + 1;
		iov[1].iov_len = tok.claims_len - 1;
		http_reply(r, 200, JSON_TYPE, iov, 2);
	} else
		http_reply(r, 200, JSON_TYPE, &no, 1);
	store_read_end(txn);
}

static void
readyz(struct http_req *r)
{
	const struct http_hooks	*hk = &r->w->h->hooks;
	struct iovec		 yes = STR_IOV("{\"ready\":true}");
	const char		*why;

	why = hk->ready != NULL ? hk->ready(hk->arg) : "catching_up";
	if (why == NULL) {
		http_reply(r, 200, JSON_TYPE, &yes, 1);
		return;
	}
	/* why is one of our own reason names: nothing to escape. */
	evbuffer_add_printf(r->w->body,
	    "{\"ready\":false,\"reason\":\"%s\"}", why);
	http_reply_body(r, 503, JSON_TYPE);
}

static void
healthz(struct http_req *r)
{
	struct iovec	 ok = STR_IOV("{\"status\":\"ok\"}");

	http_reply(r, 200, JSON_TYPE, &ok, 1);
}

static void
metrics(struct http_req *r)
{
	metrics_render(r->w->h->met, r->w->body);
	http_reply_body(r, 200, "text/plain; version=0.0.4; charset=utf-8");
}

static int
serve_admin(struct http_req *r)
{
	static const char pfx[] = "/v1/tokens/";
	size_t		 n = sizeof(pfx) - 1;

	if (r->path_len < n || memcmp(r->path, pfx, n) != 0)
		return -1;
	r->ep = r->path_len > n + 5 &&
	    memcmp(r->path + r->path_len - 5, "/tree", 5) == 0 ?
	    MET_EP_TREE : MET_EP_TOKEN;
	if (method_ok(r, 1) == 0 && gate(r, AUTH_ROLE_ADMIN, NULL) == 0)
		http_admin_token(r, r->path + n, r->path_len - n);
	return 0;
}

int
http_api_serve(struct http_req *r)
{
	const char	*client = NULL;

	if (path_is(r, "/introspect")) {
		r->ep = MET_EP_INTROSPECT;
		if (method_ok(r, 0) == 0 &&
		    gate(r, AUTH_ROLE_INTROSPECT, &client) == 0)
			introspect(r, client);
	} else if (path_is(r, "/revoke")) {
		r->ep = MET_EP_REVOKE;
		if (method_ok(r, 0) == 0 &&
		    gate(r, AUTH_ROLE_REVOKE, NULL) == 0)
			return http_revoke(r);
	} else if (path_is(r, "/healthz")) {
		r->ep = MET_EP_HEALTHZ;
		if (method_ok(r, 1) == 0)
			healthz(r);
	} else if (path_is(r, "/readyz")) {
		r->ep = MET_EP_READYZ;
		if (method_ok(r, 1) == 0)
			readyz(r);
	} else if (path_is(r, "/metrics")) {
		r->ep = MET_EP_METRICS;
		if (method_ok(r, 1) == 0 && gate(r, AUTH_ROLE_ADMIN, NULL) == 0)
			metrics(r);
	} else if (serve_admin(r) == -1)
		http_error(r, 404);
	return 0;
}
