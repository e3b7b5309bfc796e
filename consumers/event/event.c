/*
 * event: strict decoding of the input events of SPEC section 2, and the
 * claims blob stored for each issued token.  See event.h.
 *
 * Every decoder below takes a struct dec that collects the first
 * failure: a static reason (the DLQ "error") and a detail in errbuf of
 * the form "token.exp: must be an integer".  Untrusted values are shown
 * at most EV_SHOW bytes long, with non-printable bytes replaced.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "consumers/event/event.h"
#include "consumers/text/jparse.h"

#define EV_ID_MAX	128	/* event id */
#define EV_STR_MAX	256	/* iss, jti, sub, client_id, aud, act members */
#define EV_GRANT_MAX	256
#define EV_SCOPE_MAX	4096
#define EV_REASON_MAX	1024
#define EV_TIME_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */
#define EV_SHOW		64	/* bytes of an untrusted value shown */
#define EV_PATH_MAX	64	/* "parents.previous", "token.act(x64)" */
#define EV_HASH_B64	43	/* base64url of 32 bytes, no padding */

static const char *const reason_names[EV_NREASONS] = {
#define REASON(u, name)	[EV_R_##u] = name,
#include "consumers/event/tbl_reasons.h"
#undef REASON
};
#define R_JSON		reason_names[EV_R_JSON]
#define R_VERSION	reason_names[EV_R_VERSION]
#define R_TYPE		reason_names[EV_R_TYPE]
#define R_MISSING	reason_names[EV_R_MISSING]
#define R_BAD		reason_names[EV_R_BAD]

struct dec {
	const char	*reason;
	char		*errbuf;
	size_t		 errlen;
};

static const int target_kinds[] = {
#define TARGET(u, name, v)	STORE_TGT_##u,
#include "store/graph/tbl_targets.h"
#undef TARGET
};
#define NTARGETS	(sizeof(target_kinds) / sizeof(target_kinds[0]))

static int	dec_fail(struct dec *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	fail_at(struct dec *, const char *, const char *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

/* Record the first failure; always returns -1. */
static int
dec_fail(struct dec *d, const char *reason, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	d->reason = reason;
	if (d->errlen == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(d->errbuf, d->errlen, fmt, ap);
	va_end(ap);
	/* A truncated detail is still useful; only an error empties it. */
	if (n < 0)
		d->errbuf[0] = '\0';
	return -1;
}

/* dec_fail() with the path "pre.key: " in front; -1. */
static int
fail_at(struct dec *d, const char *reason, const char *pre, const char *key,
    const char *fmt, ...)
{
	char	what[160];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0)
		what[0] = '\0';
	return dec_fail(d, reason, "%s%s%s: %s", pre,
	    *pre != '\0' && *key != '\0' ? "." : "", key, what);
}

/* Copy at most EV_SHOW bytes of s into out[EV_SHOW + 1], printable only. */
static const char *
show(const char *s, char *out)
{
	size_t	i;

	for (i = 0; i < EV_SHOW && s[i] != '\0'; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/* The string value v of member pre.key, of min..max bytes; 0 or -1. */
static int
str_value(struct dec *d, json_t *v, const char *pre, const char *key,
    size_t min, size_t max, const char **out)
{
	size_t	n;

	if (!json_is_string(v))
		return fail_at(d, R_BAD, pre, key, "must be a string");
	n = json_string_length(v);
	if (n < min || n > max)
		return fail_at(d, R_BAD, pre, key, "must be %zu..%zu bytes",
		    min, max);
	*out = json_string_value(v);
	return 0;
}

/* String member key of obj; *out NULL when absent and optional. */
static int
get_str(struct dec *d, json_t *obj, const char *pre, const char *key,
    size_t min, size_t max, int required, const char **out)
{
	json_t	*v;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			return fail_at(d, R_MISSING, pre, key, "missing");
		return 0;
	}
	return str_value(d, v, pre, key, min, max, out);
}

/*
 * Integer member key of obj, 0..EV_TIME_MAX (no floats, booleans or
 * strings).  has (may be NULL when required) tells if it was present.
 */
static int
get_int(struct dec *d, json_t *obj, const char *pre, const char *key,
    int required, int *has, int64_t *out)
{
	json_t		*v;
	json_int_t	 i;

	if (has != NULL)
		*has = 0;
	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			return fail_at(d, R_MISSING, pre, key, "missing");
		return 0;
	}
	if (!json_is_integer(v))
		return fail_at(d, R_BAD, pre, key, "must be an integer");
	i = json_integer_value(v);
	if (i < 0 || i > EV_TIME_MAX)
		return fail_at(d, R_BAD, pre, key, "out of range 0..%lld",
		    (long long)EV_TIME_MAX);
	*out = (int64_t)i;
	if (has != NULL)
		*has = 1;
	return 0;
}

/* An object member key of obj: -1 if present and not an object. */
static int
get_obj(struct dec *d, json_t *obj, const char *pre, const char *key,
    json_t **out)
{
	*out = json_object_get(obj, key);
	if (*out != NULL && !json_is_object(*out))
		return fail_at(d, R_BAD, pre, key, "must be an object");
	return 0;
}

static int
b64url_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict base64url without padding of exactly 32 bytes; 0 or -1. */
static int
b64url_hash(const char *s, size_t n, uint8_t out[32])
{
	uint32_t	acc = 0;
	size_t		i, o = 0;
	int		bits = 0, v;

	if (n != EV_HASH_B64)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64url_val((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* 43 * 6 = 258 bits: the 2 left over must be zero (canonical). */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

static int
decode_hash(struct dec *d, json_t *obj, struct ev_token *tok)
{
	const char	*s;

	if (get_str(d, obj, "token", "hash", 0, SIZE_MAX, 0, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (b64url_hash(s, strlen(s), tok->hash) == -1)
		return fail_at(d, R_BAD, "token", "hash", "must be base64url "
		    "without padding of 32 bytes (%d characters)",
		    EV_HASH_B64);
	tok->has_hash = 1;
	return 0;
}

/* "kind" (event) or "token_type" (claims blob); default access. */
static int
decode_kind(struct dec *d, json_t *obj, const char *pre, int blob, int *kind)
{
	static const char *const names[2][2] = {
		{ "access", "refresh" },
		{ "access_token", "refresh_token" },
	};
	const char	*key = blob ? "token_type" : "kind";
	const char	*s;

	*kind = EV_KIND_ACCESS;
	if (get_str(d, obj, pre, key, 1, EV_STR_MAX, 0, &s) == -1)
		return -1;
	if (s == NULL || strcmp(s, names[blob][0]) == 0)
		return 0;
	if (strcmp(s, names[blob][1]) == 0) {
		*kind = EV_KIND_REFRESH;
		return 0;
	}
	return fail_at(d, R_BAD, pre, key, "must be \"%s\" or \"%s\"",
	    names[blob][0], names[blob][1]);
}

/* "aud": a string, or an array of 1..EV_MAX_AUD strings. */
static int
decode_aud(struct dec *d, json_t *obj, const char *pre, struct ev_token *tok)
{
	char	 key[32];
	json_t	*v, *e;
	size_t	 i;
	int	 n;

	if ((v = json_object_get(obj, "aud")) == NULL)
		return 0;
	if (json_is_string(v)) {
		tok->naud = 1;
		return str_value(d, v, pre, "aud", 1, EV_STR_MAX,
		    &tok->aud[0]);
	}
	if (!json_is_array(v))
		return fail_at(d, R_BAD, pre, "aud",
		    "must be a string or an array of strings");
	if (json_array_size(v) == 0 || json_array_size(v) > EV_MAX_AUD)
		return fail_at(d, R_BAD, pre, "aud",
		    "must hold 1..%d strings", EV_MAX_AUD);
	json_array_foreach(v, i, e) {
		n = snprintf(key, sizeof(key), "aud[%zu]", i);
		if (n < 0 || (size_t)n >= sizeof(key))
			return fail_at(d, R_BAD, pre, "aud", "bad element");
		if (str_value(d, e, pre, key, 1, EV_STR_MAX,
		    &tok->aud[i]) == -1)
			return -1;
	}
	tok->naud = json_array_size(v);
	return 0;
}

/* An act level or a may_act object at path pre: optional sub and iss. */
static int
decode_party(struct dec *d, json_t *v, const char *pre, struct ev_party *p)
{
	if (!json_is_object(v))
		return fail_at(d, R_BAD, pre, "", "must be an object");
	if (get_str(d, v, pre, "sub", 1, EV_STR_MAX, 0, &p->sub) == -1 ||
	    get_str(d, v, pre, "iss", 1, EV_STR_MAX, 0, &p->iss) == -1)
		return -1;
	return 0;
}

/* The path of act level i (0: outermost) in path[EV_PATH_MAX]. */
static int
act_path(char *path, const char *pre, size_t i)
{
	const char	*dot = *pre != '\0' ? "." : "";
	int		 n;

	if (i < 4)
		n = snprintf(path, EV_PATH_MAX, "%s%s%.*s", pre, dot,
		    (int)(4 * i + 3), "act.act.act.act");
	else
		n = snprintf(path, EV_PATH_MAX, "%s%sact(x%zu)", pre, dot,
		    i + 1);
	if (n < 0 || n >= EV_PATH_MAX)
		return -1;
	return 0;
}

/* The act chain, outermost first, at most EV_MAX_ACT levels. */
static int
decode_act(struct dec *d, json_t *obj, const char *pre, struct ev_token *tok)
{
	char	 path[EV_PATH_MAX];
	json_t	*v;

	for (v = json_object_get(obj, "act"); v != NULL;
	    v = json_object_get(v, "act")) {
		if (tok->nact == EV_MAX_ACT)
			return fail_at(d, R_BAD, pre, "act",
			    "nests deeper than %d levels", EV_MAX_ACT);
		if (act_path(path, pre, tok->nact) == -1)
			return fail_at(d, R_BAD, pre, "act", "bad path");
		if (decode_party(d, v, path, &tok->act[tok->nact]) == -1)
			return -1;
		tok->nact++;
	}
	return 0;
}

static int
decode_may_act(struct dec *d, json_t *obj, const char *pre,
    struct ev_token *tok)
{
	char	 path[EV_PATH_MAX];
	json_t	*v;
	int	 n;

	if ((v = json_object_get(obj, "may_act")) == NULL)
		return 0;
	n = snprintf(path, sizeof(path), "%s%smay_act", pre, *pre ? "." : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail_at(d, R_BAD, pre, "may_act", "path too long");
	tok->has_may_act = 1;
	return decode_party(d, v, path, &tok->may_act);
}

/*
 * The claims of a token from an event's "token" object (blob 0) or a
 * claims blob (blob 1, with "token_type" for "kind"); not the hash.
 */
static int
decode_token(struct dec *d, json_t *obj, const char *pre, int blob,
    struct ev_token *tok)
{
	if (get_str(d, obj, pre, "jti", 1, EV_STR_MAX, 1, &tok->jti) == -1 ||
	    get_str(d, obj, pre, "sub", 1, EV_STR_MAX, 1, &tok->sub) == -1 ||
	    get_str(d, obj, pre, "client_id", 1, EV_STR_MAX, 1,
	    &tok->client_id) == -1 ||
	    decode_kind(d, obj, pre, blob, &tok->kind) == -1 ||
	    decode_aud(d, obj, pre, tok) == -1 ||
	    get_str(d, obj, pre, "scope", 0, EV_SCOPE_MAX, 0,
	    &tok->scope) == -1)
		return -1;
	if (get_int(d, obj, pre, "iat", 0, &tok->has_iat, &tok->iat) == -1 ||
	    get_int(d, obj, pre, "nbf", 0, &tok->has_nbf, &tok->nbf) == -1 ||
	    get_int(d, obj, pre, "exp", 1, NULL, &tok->exp) == -1)
		return -1;
	if (decode_act(d, obj, pre, tok) == -1 ||
	    decode_may_act(d, obj, pre, tok) == -1)
		return -1;
	return 0;
}

/* parents.<name>: a jti string, or {"iss":..,"jti":..}. */
static int
decode_ref(struct dec *d, json_t *parents, const char *name,
    struct ev_ref *ref)
{
	char	 pre[32];
	json_t	*v;
	int	 n;

	if ((v = json_object_get(parents, name)) == NULL)
		return 0;
	if (json_is_string(v))
		return str_value(d, v, "parents", name, 1, EV_STR_MAX,
		    &ref->jti);
	if (!json_is_object(v))
		return fail_at(d, R_BAD, "parents", name,
		    "must be a jti string or an object with iss and jti");
	n = snprintf(pre, sizeof(pre), "parents.%s", name);
	if (n < 0 || (size_t)n >= sizeof(pre))
		return fail_at(d, R_BAD, "parents", name, "path too long");
	if (get_str(d, v, pre, "jti", 1, EV_STR_MAX, 1, &ref->jti) == -1 ||
	    get_str(d, v, pre, "iss", 1, EV_STR_MAX, 0, &ref->iss) == -1)
		return -1;
	return 0;
}

static int
decode_issued(struct dec *d, json_t *root, struct event *ev)
{
	json_t	*tok, *parents;
	size_t	 i;

	if (get_str(d, root, "", "grant_type", 1, EV_GRANT_MAX, 0,
	    &ev->grant_type) == -1)
		return -1;
	ev->is_exchange = ev->grant_type != NULL &&
	    strcmp(ev->grant_type, EV_GRANT_EXCHANGE) == 0;
	if (get_obj(d, root, "", "token", &tok) == -1)
		return -1;
	if (tok == NULL)
		return fail_at(d, R_MISSING, "", "token", "missing");
	if (decode_token(d, tok, "token", 0, &ev->tok) == -1 ||
	    decode_hash(d, tok, &ev->tok) == -1)
		return -1;
	if (get_obj(d, root, "", "parents", &parents) == -1)
		return -1;
	for (i = 0; parents != NULL && i < EV_NPARENTS; i++)
		if (decode_ref(d, parents, store_parent_name(i),
		    &ev->parent[i]) == -1)
			return -1;
	return 0;
}

/*
 * target: exactly one of jti, sub, client_id, actor, hash; iss with jti
 * only; a hash is base64url of 32 bytes, as token.hash.
 */
static int
decode_target(struct dec *d, json_t *t, struct event *ev)
{
	const char	*iss;
	size_t		 i, n = 0, which = 0;

	for (i = 0; i < NTARGETS; i++)
		if (json_object_get(t,
		    store_target_name(target_kinds[i])) != NULL) {
			which = i;
			n++;
		}
	if (n == 0)
		return fail_at(d, R_MISSING, "target", "",
		    "needs one of jti, sub, client_id, actor, hash");
	if (n > 1)
		return fail_at(d, R_BAD, "target", "",
		    "must hold exactly one of jti, sub, client_id, actor, "
		    "hash");
	ev->target_kind = target_kinds[which];
	if (get_str(d, t, "target", store_target_name(target_kinds[which]), 1,
	    EV_STR_MAX,
	    1, &ev->target) == -1 ||
	    get_str(d, t, "target", "iss", 1, EV_STR_MAX, 0, &iss) == -1)
		return -1;
	if (iss != NULL && ev->target_kind != EV_TGT_JTI)
		return fail_at(d, R_BAD, "target", "iss",
		    "allowed only with jti");
	if (ev->target_kind == EV_TGT_HASH && b64url_hash(ev->target,
	    strlen(ev->target), ev->target_hash) == -1)
		return fail_at(d, R_BAD, "target", "hash", "must be base64url "
		    "without padding of 32 bytes (%d characters)",
		    EV_HASH_B64);
	ev->target_iss = iss;
	return 0;
}

static int
decode_revoked(struct dec *d, json_t *root, struct event *ev)
{
	json_t	*t;

	if (get_obj(d, root, "", "target", &t) == -1)
		return -1;
	if (t == NULL)
		return fail_at(d, R_MISSING, "", "target", "missing");
	if (decode_target(d, t, ev) == -1 ||
	    get_str(d, root, "", "reason", 0, EV_REASON_MAX, 0,
	    &ev->reason) == -1)
		return -1;
	if (ev->reason != NULL && *ev->reason == '\0')
		ev->reason = NULL;
	return 0;
}

/* "v": the integer 1. */
static int
decode_version(struct dec *d, json_t *root)
{
	json_t	*v;

	if ((v = json_object_get(root, "v")) == NULL)
		return fail_at(d, R_MISSING, "", "v", "missing");
	if (!json_is_integer(v))
		return fail_at(d, R_VERSION, "", "v", "must be the integer 1");
	if (json_integer_value(v) != 1)
		return fail_at(d, R_VERSION, "", "v",
		    "unsupported version %lld",
		    (long long)json_integer_value(v));
	return 0;
}

static int
decode_type(struct dec *d, json_t *root, struct event *ev)
{
	const char	*s;
	char		 buf[EV_SHOW + 1];

	if (get_str(d, root, "", "type", 0, SIZE_MAX, 1, &s) == -1)
		return -1;
	if (strcmp(s, "token.issued") == 0)
		ev->type = EV_ISSUED;
	else if (strcmp(s, "token.revoked") == 0)
		ev->type = EV_REVOKED;
	else
		return fail_at(d, R_TYPE, "", "type", "unknown \"%s\"",
		    show(s, buf));
	return 0;
}

static int
decode_root(struct dec *d, json_t *root, struct event *ev)
{
	if (decode_version(d, root) == -1 ||
	    decode_type(d, root, ev) == -1)
		return -1;
	if (get_str(d, root, "", "id", 1, EV_ID_MAX, 1, &ev->id) == -1 ||
	    get_int(d, root, "", "time", 1, NULL, &ev->time) == -1 ||
	    get_str(d, root, "", "iss", 1, EV_STR_MAX, 1, &ev->iss) == -1)
		return -1;
	ev->target_kind = EV_TGT_JTI;
	if (ev->type == EV_ISSUED)
		return decode_issued(d, root, ev);
	return decode_revoked(d, root, ev);
}

/* Parse buf strictly: an object, no duplicate keys, no trailing bytes. */
static json_t *
load(struct dec *d, const void *buf, size_t len)
{
	json_error_t	 e;
	json_t		*root;
	char		 text[EV_SHOW + 1];

	if (buf == NULL) {
		dec_fail(d, R_JSON, "no message");
		return NULL;
	}
	if ((root = jparse_object(buf, len)) != NULL)
		return root;	/* the common case, jansson's tree faster */
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		dec_fail(d, R_JSON, "line %d column %d: %s", e.line, e.column,
		    show(e.text, text));
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		dec_fail(d, R_JSON, "not a JSON object");
		return NULL;
	}
	return root;
}

int
event_decode(const void *buf, size_t len, size_t maxlen, struct event *ev,
    const char **reason, char *errbuf, size_t errlen)
{
	struct dec	 d = { R_JSON, errbuf, errlen };

	memset(ev, 0, sizeof(*ev));
	if (errlen > 0)
		errbuf[0] = '\0';
	if (maxlen == 0)
		maxlen = EV_DEFAULT_MAX;
	if (len > maxlen) {
		dec_fail(&d, reason_names[EV_R_TOO_LARGE],
		    "message of %zu bytes exceeds %zu",
		    len, maxlen);
		goto fail;
	}
	if ((ev->json = load(&d, buf, len)) == NULL)
		goto fail;
	if (decode_root(&d, ev->json, ev) == -1)
		goto fail;
	return 0;
fail:
	event_clear(ev);
	if (reason != NULL)
		*reason = d.reason;
	return -1;
}

void
event_clear(struct event *ev)
{
	if (ev == NULL)
		return;
	json_decref(ev->json);
	memset(ev, 0, sizeof(*ev));
}

const char *
event_reason_name(int r)
{
	return r >= 0 && r < EV_NREASONS ? reason_names[r] : "other";
}

int
event_reason_of(const char *s)
{
	int r;

	for (r = 0; s != NULL && r < EV_NREASONS; r++)
		if (strcmp(s, reason_names[r]) == 0)
			return r;
	return EV_NREASONS;
}

void
event_json_free(void *json)
{
	json_decref(json);
}

int
event_claims_parse(const void *blob, size_t len, struct ev_token *tok,
    void **json)
{
	struct dec	 d = { R_JSON, NULL, 0 };
	json_t		*root;

	memset(tok, 0, sizeof(*tok));
	*json = NULL;
	if (blob == NULL)
		return -1;
	if ((root = jparse_object(blob, len)) == NULL)
		root = json_loadb(blob, len, JSON_REJECT_DUPLICATES, NULL);
	if (root == NULL)
		return -1;
	if (!json_is_object(root) || decode_token(&d, root, "", 1, tok) == -1) {
		json_decref(root);
		memset(tok, 0, sizeof(*tok));
		return -1;
	}
	*json = root;
	return 0;
}
