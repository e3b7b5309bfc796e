/*
 * publish: outbox entries to output messages.  See publish.h.
 *
 * Revocation messages are written straight into a buffer, byte for
 * byte as jansson's compact rendering of them (render_fast(); the tests
 * hold it to that); one that would not fit MSG_MAX goes through jansson
 * and fit(), which cuts it.  A stored string that is not valid UTF-8
 * (the decoder never lets one in, but the store does not check) is
 * rendered with U+FFFD in place of each bad byte, so every message is
 * valid JSON.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "consumers/publish/publish.h"
#include "consumers/text/jout.h"
#include "consumers/text/utf8.h"
#include "store/graph/store.h"

#define PATH_STEPS	(1 << 16) /* bound of the walk up to the target */
#define PATH_KEEP	15	/* hops kept next to the token (SPEC 3) */
#define MSG_MAX		16384	/* bytes of a revocation message (SPEC 3) */
/*
 * So a revocation message holds at most 16 path entries and eight more
 * strings (iss, jti, sub, client_id, the cause's event, target, reason
 * and the id), each bounded by the decoder (EV_STR_MAX): about 6 KiB
 * of printable text (7 with a 1 KiB reason).  Strings full of control
 * characters (6 bytes each once escaped) could pass MSG_MAX: fit()
 * then keeps fewer hops and cuts the reason.  A message the broker
 * refuses anyway stalls the drain (drain.h).
 */
#define JSON_FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER)

/* The cause member naming the target, by STORE_IDX_*. */
static const char *const target_keys[STORE_NIDX] = {
	"sub", "client_id", "actor"
};

static EVP_MD		*sha256;
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;

/* Fetched once: an implicit fetch per digest costs a lookup each time. */
static void
sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* Lowercase hex SHA-256 of the parts, each but the last NUL-ended. */
static void
hex_id(const char *const *part, size_t n, char out[65])
{
	static const char	 hx[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0, i;
	EVP_MD_CTX		*ctx;
	size_t			 k;
	int			 ok;

	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256 == NULL)
		fatalx("publish: no SHA-256");
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("publish: out of memory");
	ok = EVP_DigestInit_ex2(ctx, sha256, NULL) == 1;
	for (k = 0; ok && k < n; k++)
		ok = EVP_DigestUpdate(ctx, part[k], strlen(part[k]) +
		    (k + 1 < n)) == 1;
	if (!ok || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		fatalx("publish: SHA-256 failed");
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

void
publish_revocation_id(const char *cause_event, const char *iss,
    const char *jti, char out[65])
{
	const char *part[3] = { cause_event, iss, jti };

	hex_id(part, 3, out);
}

void
publish_violation_id(const char *event_id, const char *iss, const char *jti,
    const char *rule, char out[65])
{
	const char *part[4] = { event_id, iss, jti, rule };

	hex_id(part, 4, out);
}

/* A JSON string of s, each byte of a bad UTF-8 sequence as U+FFFD. */
static json_t *
jstr(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	json_t			*j;
	char			*fix;
	size_t			 o = 0, n;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((fix = malloc(3 * strlen(s) + 1)) == NULL)
		return NULL;
	for (; *p != '\0'; p += n) {
		if ((n = utf8_seq((const char *)p)) == 0) {
			memcpy(fix + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(fix + o, p, n);
			o += n;
		}
	}
	fix[o] = '\0';
	j = json_string(fix);
	free(fix);
	return j;
}

/* The "cause" object of a revocation message; NULL on out of memory. */
static json_t *
cause_json(const struct store_cause *c)
{
	const char	*key = NULL;
	json_t		*o;

	if (c->target_kind == STORE_TGT_JTI)
		key = "jti";
	else if (c->target_kind == STORE_TGT_HASH)
		key = "hash";
	else if (c->target_kind >= 0 && c->target_kind < STORE_NIDX)
		key = target_keys[c->target_kind];
	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "event", jstr(c->event_id)) == -1 ||
	    (key != NULL && json_object_set_new(o, key,
	    jstr(c->target)) == -1) ||
	    (c->reason[0] != '\0' && json_object_set_new(o, "reason",
	    jstr(c->reason)) == -1)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The message without depth and path; NULL on out of memory. */
static json_t *
revocation_json(const struct store_token *tok, const struct store_cause *c)
{
	char	 id[65];
	json_t	*m;

	publish_revocation_id(c->event_id, tok->iss, tok->jti, id);
	if ((m = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(m, "v", json_integer(1)) == -1 ||
	    json_object_set_new(m, "type",
	    json_string("token.revoked")) == -1 ||
	    json_object_set_new(m, "id", json_string(id)) == -1 ||
	    json_object_set_new(m, "time", json_integer(c->time)) == -1 ||
	    json_object_set_new(m, "iss", jstr(tok->iss)) == -1 ||
	    json_object_set_new(m, "jti", jstr(tok->jti)) == -1 ||
	    json_object_set_new(m, "sub", jstr(tok->sub)) == -1 ||
	    json_object_set_new(m, "client_id", jstr(tok->client_id)) == -1 ||
	    json_object_set_new(m, "cause", cause_json(c)) == -1) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/*
 * The first parent of cur (subject, actor, previous) whose effective
 * status is REVOKED by cause, at depth under root (any depth and root
 * when depth is STORE_DEPTH_UNKNOWN), into *par: under one root, as a
 * rule's cause has several (one per match).  1 found, 0 none, -1 error.
 */
static int
revoked_parent(struct store_txn *txn, const struct store_token *cur,
    uint32_t cause, uint32_t depth, uint64_t root, struct store_token *par)
{
	int	i, rc;

	for (i = 0; i < STORE_NPARENTS; i++) {
		if (cur->parent[i] == 0)
			continue;
		if ((rc = store_peek(txn, cur->parent[i], par)) == -1)
			return -1;
		if (rc == 0 && par->status == STORE_REVOKED &&
		    par->cause == cause && (depth == STORE_DEPTH_UNKNOWN ||
		    (par->depth == depth && par->root == root)))
			return 1;
	}
	return 0;
}

/*
 * For a database written before depths were stored: walk from tok up
 * to the token its cause revoked itself, as path_up() reports.  The
 * walk is bounded by PATH_STEPS, so a cycle ends too: at most
 * PATH_STEPS * STORE_NPARENTS records read.
 */
static int
path_walk(struct store_txn *txn, const struct store_token *tok,
    const char *near[PATH_KEEP], size_t *n, const char **root)
{
	struct store_token	cur = *tok, par;
	size_t			step;
	int			rc;

	*n = 1;
	near[0] = cur.jti;
	*root = cur.jti;
	for (step = 0; step < PATH_STEPS; step++) {
		if (cur.own == STORE_REVOKED && cur.cause == tok->cause)
			break;
		rc = revoked_parent(txn, &cur, tok->cause,
		    STORE_DEPTH_UNKNOWN, 0, &par);
		if (rc == -1)
			return -1;
		if (rc == 0)
			break;
		cur = par;
		if (*n < PATH_KEEP)
			near[*n] = cur.jti;
		(*n)++;
		*root = cur.jti;
	}
	return 0;
}

/*
 * The path of tok up to the token its cause revoked itself (the
 * target): *n gets the number of tokens on it (depth + 1), near[] the
 * jtis of the first PATH_KEEP of them (tok first), *root the target's.
 * The store keeps each revoked token's depth and root, so this reads
 * the parents of at most PATH_KEEP - 1 tokens and the root: at most
 * (PATH_KEEP - 1) * STORE_NPARENTS + 1 records whatever the depth, and
 * a cascade's output is linear in its size (SPEC section 3).
 */
static int
path_up(struct store_txn *txn, const struct store_token *tok,
    const char *near[PATH_KEEP], size_t *n, const char **root)
{
	struct store_token	cur = *tok, par;
	size_t			k;
	int			rc;

	if (tok->depth == STORE_DEPTH_UNKNOWN)
		return path_walk(txn, tok, near, n, root);
	*n = (size_t)tok->depth + 1;
	near[0] = cur.jti;
	for (k = 1; k < *n && k < PATH_KEEP; k++) {
		rc = revoked_parent(txn, &cur, tok->cause, cur.depth - 1,
		    tok->root, &par);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			log_warnx("publish: token %llu: no parent at depth "
			    "%u, path walked", (unsigned long long)cur.id,
			    cur.depth - 1);
			return path_walk(txn, tok, near, n, root);
		}
		cur = par;
		near[k] = cur.jti;
	}
	if (*n <= PATH_KEEP) {
		*root = near[*n - 1];
		return 0;
	}
	if ((rc = store_peek(txn, tok->root, &par)) == STORE_NOTFOUND)
		return path_walk(txn, tok, near, n, root);	/* swept */
	if (rc != 0)
		return -1;
	*root = par.jti;
	return 0;
}

/*
 * Add "depth" and "path" (root first) to message m: the whole path up to
 * PATH_KEEP + 1 hops; past that its first hop and its last PATH_KEEP,
 * and "path_truncated":true.  depth stays exact.
 */
static int
add_path(struct store_txn *txn, const struct store_token *tok, json_t *m)
{
	const char	*near[PATH_KEEP], *root;
	json_t		*path;
	size_t		 i, n, keep;

	if (path_up(txn, tok, near, &n, &root) == -1 ||
	    (path = json_array()) == NULL)
		return -1;
	keep = n < PATH_KEEP ? n : PATH_KEEP;
	if (n > keep && json_array_append_new(path, jstr(root)) == -1)
		goto fail;
	for (i = keep; i > 0; i--)
		if (json_array_append_new(path, jstr(near[i - 1])) == -1)
			goto fail;
	if (json_object_set_new(m, "depth", json_integer((json_int_t)n - 1))
	    == -1)
		goto fail;
	if (json_object_set_new(m, "path", path) == -1)
		return -1;	/* stolen, even on failure */
	if (n > PATH_KEEP + 1 &&
	    json_object_set_new(m, "path_truncated", json_true()) == -1)
		return -1;
	return 0;
fail:
	json_decref(path);
	return -1;
}

/*
 * Render revocation m within MSG_MAX bytes: as it is when it fits (any
 * printable content does); else with its path cut to the first hop and
 * the token ("path_truncated"), then with the cause's reason cut in
 * half on a character boundary until it fits.  Without the reason and
 * with two hops a message is at most 12 KiB escaped, so this ends, in
 * at most 12 renderings.  NULL on out of memory.
 */
static char *
fit(json_t *m)
{
	json_t		*path, *cause;
	const char	*r;
	char		*s, *cut;
	size_t		 n;

	if ((s = json_dumps(m, JSON_FLAGS)) == NULL || strlen(s) <= MSG_MAX)
		return s;
	path = json_object_get(m, "path");
	if (json_array_size(path) > 2 && json_object_set_new(m,
	    "path_truncated", json_true()) == -1)
		return s;
	while (json_array_size(path) > 2)
		if (json_array_remove(path, 1) == -1)
			break;
	cause = json_object_get(m, "cause");
	for (;;) {
		free(s);
		if ((s = json_dumps(m, JSON_FLAGS)) == NULL ||
		    strlen(s) <= MSG_MAX)
			return s;
		r = json_string_value(json_object_get(cause, "reason"));
		if (r == NULL || *r == '\0')
			return s;	/* cannot be: see above */
		n = utf8_prefix(r, strlen(r) / 2);
		if ((cut = strndup(r, n)) == NULL) {
			free(s);
			return NULL;
		}
		(void)json_object_set_new(cause, "reason", jstr(cut));
		free(cut);
	}
}

/* Render m and hand it to emit under key "jti" of m; 0 or -1. */
static int
emit_json(json_t *m, int topic, publish_emit emit, void *arg)
{
	const char	*key;
	char		*s;
	int		 rc;

	key = json_string_value(json_object_get(m, "jti"));
	s = topic == PUB_REVOCATIONS ? fit(m) : json_dumps(m, JSON_FLAGS);
	if (s == NULL)
		return -1;
	rc = emit(arg, topic, key, key != NULL ? strlen(key) : 0, s,
	    strlen(s));
	free(s);
	return rc == 0 ? 0 : -1;
}

/*
 * The first parent of tok (subject, actor, previous) that was revoked
 * at or before tok's iat, into *par and its cause *pc; *kind gets its
 * index.  One that had expired by then is left to the profile, which
 * reports the expiry at issuance.  1 found, 0 none, -1 error.
 */
static int
dead_parent(struct store_txn *txn, const struct store_token *tok,
    struct store_token *par, struct store_cause *pc, int *kind)
{
	int	 rc;

	for (*kind = 0; *kind < STORE_NPARENTS; (*kind)++) {
		if (tok->parent[*kind] == 0)
			continue;
		if ((rc = store_peek(txn, tok->parent[*kind], par)) == -1)
			return -1;
		if (rc != 0 || par->status != STORE_REVOKED ||
		    (par->issued && par->exp <= tok->iat))
			continue;
		if ((rc = store_cause_get(txn, par->cause, pc)) == -1)
			return -1;
		if (rc == 0 && pc->time <= tok->iat)
			return 1;
	}
	return 0;
}

/*
 * The parent_inactive violation of tok when a parent was already revoked
 * when tok was minted: 1 emitted, 0 not due, -1.  Every revoked token
 * passes here exactly once (in the cascade entry that revoked it), and
 * the id hangs on the parent's revocation, so the outcome does not
 * depend on the order the events arrived in, but for one case: a token
 * published before a second parent's earlier-dated revocation arrives.
 */
static int
publish_late(struct store_txn *txn, const struct store_token *tok,
    const struct publish_opts *o, publish_emit emit, void *arg)
{
	static const char *kinds[STORE_NPARENTS] = { "subject", "actor",
	    "previous" };
	struct store_token par;
	struct store_cause pc;
	char id[65], detail[512];
	json_t *m;
	int kind, rc;

	if (o == NULL || !o->violations)
		return 0;
	if ((rc = dead_parent(txn, tok, &par, &pc, &kind)) != 1)
		return rc;
	if ((size_t)snprintf(detail, sizeof(detail), "%s parent %.64s was "
	    "revoked at %lld (event %.64s); this token was minted at %lld",
	    kinds[kind], par.jti, (long long)pc.time, pc.event_id,
	    (long long)tok->iat) >= sizeof(detail))
		return -1;
	publish_violation_id(pc.event_id, tok->iss, tok->jti,
	    "parent_inactive", id);
	m = json_pack("{s:i, s:s, s:s, s:I, s:o, s:o, s:s, s:o, s:s}",
	    "v", 1, "type", "delegation.violation", "id", id,
	    "time", (json_int_t)tok->iat, "iss", jstr(tok->iss),
	    "jti", jstr(tok->jti), "rule", "parent_inactive",
	    "detail", jstr(detail), "action", o->enforce ? "denied" :
	    "flagged");
	if (m == NULL)
		return -1;
	rc = emit_json(m, PUB_VIOLATIONS, emit, arg) == 0 ? 1 : -1;
	json_decref(m);
	return rc;
}

/* ,"depth":..,"path":[..] as add_path() makes them. */
static void
jo_path(struct jout *j, const char *const *near, size_t n, const char *root)
{
	size_t	i, keep;

	jout_lit(j, ",\"depth\":");
	jout_int(j, (long long)n - 1);
	jout_lit(j, ",\"path\":[");
	keep = n < PATH_KEEP ? n : PATH_KEEP;
	if (n > keep) {
		jout_str(j, root);
		jout_lit(j, ",");
	}
	for (i = keep; i > 0; i--) {
		jout_str(j, near[i - 1]);
		if (i > 1)
			jout_lit(j, ",");
	}
	jout_lit(j, "]");
	if (n > PATH_KEEP + 1)
		jout_lit(j, ",\"path_truncated\":true");
}

/* s is valid UTF-8 (jstr() keeps it as it is). */
static int
utf8_valid(const char *s)
{
	size_t	n;

	for (; *s != '\0'; s += n)
		if ((n = utf8_seq(s)) == 0)
			return 0;
	return 1;
}

/*
 * The revocation message of tok by cause c into out[0..cap), as
 * revocation_json(), add_path() and json_dumps() would render it.
 * Returns its length; 0 when it does not fit (or a string is missing):
 * the caller takes the jansson path, which cuts it; -1 on error.
 * Cost: path_up() and O(message) bytes written, no allocation.
 */
static long
render_fast(struct store_txn *txn, const struct store_token *tok,
    const struct store_cause *c, char *out, size_t cap)
{
	struct jout	 j = { out, 0, cap, 0, 0 };
	const char	*near[PATH_KEEP], *root, *key = NULL;
	char		 id[65];
	size_t		 n;

	if (tok->iss == NULL || tok->jti == NULL || tok->sub == NULL ||
	    tok->client_id == NULL || c->event_id == NULL ||
	    c->reason == NULL || !utf8_valid(tok->jti))
		return 0;	/* the key must be the jti as rendered */
	if (c->target_kind == STORE_TGT_JTI)
		key = "jti";
	else if (c->target_kind == STORE_TGT_HASH)
		key = "hash";
	else if (c->target_kind >= 0 && c->target_kind < STORE_NIDX)
		key = target_keys[c->target_kind];
	if (key != NULL && c->target == NULL)
		return 0;
	if (path_up(txn, tok, near, &n, &root) == -1)
		return -1;
	publish_revocation_id(c->event_id, tok->iss, tok->jti, id);
	jout_lit(&j, "{\"v\":1,\"type\":\"token.revoked\",\"id\":\"");
	jout_raw(&j, id, 64);
	jout_lit(&j, "\",\"time\":");
	jout_int(&j, (long long)c->time);
	jout_lit(&j, ",\"iss\":");
	jout_str(&j, tok->iss);
	jout_lit(&j, ",\"jti\":");
	jout_str(&j, tok->jti);
	jout_lit(&j, ",\"sub\":");
	jout_str(&j, tok->sub);
	jout_lit(&j, ",\"client_id\":");
	jout_str(&j, tok->client_id);
	jout_lit(&j, ",\"cause\":{\"event\":");
	jout_str(&j, c->event_id);
	if (key != NULL) {
		jout_lit(&j, ",\"");
		jout_raw(&j, key, strlen(key));
		jout_lit(&j, "\":");
		jout_str(&j, c->target);
	}
	if (c->reason[0] != '\0') {
		jout_lit(&j, ",\"reason\":");
		jout_str(&j, c->reason);
	}
	jout_lit(&j, "}");
	jo_path(&j, near, n, root);
	jout_lit(&j, "}");
	return j.full ? 0 : (long)j.len;
}

/* Messages for token id: the count emitted (0: skipped), or -1. */
static int
publish_token(struct store_txn *txn, uint64_t id,
    const struct publish_opts *o, publish_emit emit, void *arg)
{
	struct store_token	 tok;
	struct store_cause	 c;
	json_t			*m;
	char			 buf[MSG_MAX];
	long			 len;
	int			 rc, late;

	if ((rc = store_peek(txn, id, &tok)) == -1)
		return -1;
	if (rc != 0 || !tok.issued || tok.status != STORE_REVOKED) {
		log_warnx("publish: token %llu not revoked, skipped",
		    (unsigned long long)id);
		return 0;
	}
	if ((rc = store_cause_get(txn, tok.cause, &c)) != 0) {
		if (rc == -1)
			return -1;
		log_warnx("publish: token %llu: cause %u not found, skipped",
		    (unsigned long long)id, tok.cause);
		return 0;
	}
	if ((len = render_fast(txn, &tok, &c, buf, sizeof(buf))) > 0)
		rc = emit(arg, PUB_REVOCATIONS, tok.jti, strlen(tok.jti), buf,
		    (size_t)len) == 0 ? 1 : -1;
	else if (len == -1 || (m = revocation_json(&tok, &c)) == NULL)
		return -1;
	else {
		rc = add_path(txn, &tok, m) == 0 &&
		    emit_json(m, PUB_REVOCATIONS, emit, arg) == 0 ? 1 : -1;
		json_decref(m);
	}
	if (rc == -1 || (late = publish_late(txn, &tok, o, emit, arg)) == -1)
		return -1;
	return rc + late;
}

static long
publish_cascade(struct store_txn *txn, const uint8_t *data, size_t len,
    const struct publish_opts *o, publish_emit emit, void *arg)
{
	uint64_t	id;
	size_t		i;
	long		n = 0;
	int		rc;

	if (len % sizeof(id) != 0) {
		log_warnx("publish: cascade entry of %zu bytes", len);
		return -1;
	}
	for (i = 0; i < len / sizeof(id); i++) {
		memcpy(&id, data + i * sizeof(id), sizeof(id));
		if ((rc = publish_token(txn, id, o, emit, arg)) == -1)
			return -1;
		n += rc;
	}
	return n;
}

/* A violation or dead letter, as is (a trailing NUL dropped). */
static long
publish_raw(int topic, const char *data, size_t len, publish_emit emit,
    void *arg)
{
	const char	*key = NULL;
	json_t		*j = NULL;
	int		 rc;

	if (len > 0 && data[len - 1] == '\0')
		len--;
	if (topic == PUB_VIOLATIONS &&
	    (j = json_loadb(data, len, 0, NULL)) != NULL)
		key = json_string_value(json_object_get(j, "jti"));
	rc = emit(arg, topic, key, key != NULL ? strlen(key) : 0, data, len);
	json_decref(j);
	return rc == 0 ? 1 : -1;
}

long
publish_entry(struct store_txn *txn, uint8_t kind, const void *data,
    size_t len, publish_emit emit, void *arg)
{
	return publish_entry_opts(txn, kind, data, len, NULL, emit, arg);
}

long
publish_entry_opts(struct store_txn *txn, uint8_t kind, const void *data,
    size_t len, const struct publish_opts *o, publish_emit emit, void *arg)
{
	if (emit == NULL || (data == NULL && len > 0))
		return -1;
	switch (kind) {
	case STORE_OUT_CASCADE:
		return publish_cascade(txn, data, len, o, emit, arg);
	case OUT_VIOLATION:
		return publish_raw(PUB_VIOLATIONS, data, len, emit, arg);
	case OUT_DLQ:
		return publish_raw(PUB_DLQ, data, len, emit, arg);
	default:
		log_warnx("publish: outbox entry of unknown kind %u skipped",
		    kind);
		return 0;
	}
}
