/*
 * apply outputs: violations, re-checks of waiting children, and dead
 * letters, each written to the outbox in the caller's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "consumers/apply/apply_int.h"
#include "consumers/text/b64.h"
#include "consumers/log/log.h"
#include "consumers/publish/publish.h"
#include "consumers/text/utf8.h"
#include "store/graph/store.h"

/* Escaped, a byte may take 6: the dead letter stays under 1 MB. */
#define DLQ_PAYLOAD_MAX	(128 * 1024)

static int
outbox_json(struct store_txn *txn, uint8_t kind, json_t *o)
{
	char *s;
	int rc;

	if (o == NULL)
		return -1;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		return -1;
	rc = store_outbox_add(txn, kind, s, strlen(s));
	free(s);
	return rc;
}

/*
 * Publish one violation of token id.  The token is read here, just
 * before use: a write earlier in the transaction may have moved what a
 * previous read pointed to.
 */
static int
violation_one(struct apply *a, struct store_txn *txn, const char *event_id,
    uint64_t tid, const struct profile_violation *v)
{
	struct store_token tok;
	char id[65];
	json_t *o;

	if (store_get(txn, tid, &tok) != 0)
		return -1;
	publish_violation_id(event_id, tok.iss, tok.jti,
	    profile_rule_name(v->rule), id);
	log_info("violation %s: %s/%s: %s", profile_rule_name(v->rule),
	    tok.iss, tok.jti, v->detail);
	a->counts.violations++;
	o = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}",
	    "v", 1, "type", "delegation.violation", "id", id,
	    "time", (json_int_t)tok.iat, "iss", tok.iss, "jti", tok.jti,
	    "rule", profile_rule_name(v->rule), "detail", v->detail,
	    "action", a->cfg.mode == PROFILE_ENFORCE ? "denied" : "flagged");
	if (o == NULL) {
		(void)snprintf(a->why, sizeof(a->why), "its %s violation "
		    "cannot be encoded as JSON", profile_rule_name(v->rule));
		return -1;
	}
	return outbox_json(txn, OUT_VIOLATION, o);
}

int
apply_violations_emit(struct apply *a, struct store_txn *txn,
    const char *event_id,
    uint64_t id, const struct profile_result *res)
{
	size_t i;

	for (i = 0; i < res->nviol; i++) {
		if (res->viol[i].by_revocation)
			continue;	/* publish.c: with the cascade */
		if (violation_one(a, txn, event_id, id, &res->viol[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * The store denies a token that closes a cycle only in enforce mode
 * (apply_issued() sets cycle_allow otherwise, so that audit leaves every
 * status as off does); there, record it under the profile's rule code.
 * Publish the violation unless the profile is off.
 */
int
apply_cycle_check(struct apply *a, struct store_txn *txn, const char *event_id,
    uint64_t id)
{
	struct store_token tok;
	struct profile_violation v;
	int enforce = a->cfg.mode == PROFILE_ENFORCE;

	if (store_get(txn, id, &tok) != 0)
		return -1;
	if (!tok.cycle)
		return 0;
	v.rule = RULE_PARENT_CYCLE;
	if ((size_t)snprintf(v.detail, sizeof(v.detail),
	    "following the parents of %.*s leads back to it",
	    (int)utf8_prefix(tok.jti, 64), tok.jti) >= sizeof(v.detail))
		return -1;
	if (enforce && tok.rule == STORE_RULE_CYCLE && store_set_own(txn, id,
	    STORE_DENIED, RULE_PARENT_CYCLE) == -1)
		return -1;
	if (a->cfg.mode == PROFILE_OFF)
		return 0;
	return violation_one(a, txn, event_id, id, &v);
}

static int
collect(void *arg, uint64_t id)
{
	struct { uint64_t *v; size_t n, cap; } *ids = arg;
	uint64_t *nv;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 16;
		if ((nv = realloc(ids->v, ids->cap * sizeof(*nv))) == NULL)
			return -1;
		ids->v = nv;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static int
same_violation(const struct profile_violation *x,
    const struct profile_result *r)
{
	size_t i;

	for (i = 0; i < r->nviol; i++)
		if (r->viol[i].rule == x->rule &&
		    strcmp(r->viol[i].detail, x->detail) == 0)
			return 1;
	return 0;
}

/*
 * Check child again now that parent pid is known: publish what the
 * parent's arrival reveals (the verdicts with the parent minus those
 * without it), and set the child's own status.
 */
static int
recheck_one(struct apply *a, struct store_txn *txn, const char *event_id,
    uint64_t pid, uint64_t cid)
{
	struct store_token c;
	struct ev_token ct;
	struct pview pv[EV_NPARENTS];
	struct profile_parent pp[EV_NPARENTS];
	struct profile_result before, after;
	void *json = NULL;
	size_t i;
	int k, cycle, rc = -1;

	if (store_get(txn, cid, &c) != 0)
		return -1;
	if (!c.issued)
		return 0;
	if (event_claims_parse(c.claims, c.claims_len, &ct, &json) == -1)
		return -1;
	if (pview_load_all(txn, c.parent, pv, pp) == -1)
		goto fail;
	profile_check(&a->pcfg, &ct, c.uflags & UF_EXCHANGE, pp, c.iat,
	    &after);
	for (k = 0; k < EV_NPARENTS; k++)
		if (c.parent[k] == pid) {
			pp[k].known = 0;
			pp[k].tok = NULL;
		}
	profile_check(&a->pcfg, &ct, c.uflags & UF_EXCHANGE, pp, c.iat,
	    &before);
	pview_free_all(pv);
	cycle = c.rule == RULE_PARENT_CYCLE || c.rule == STORE_RULE_CYCLE;
	for (i = 0, rc = 0; i < after.nviol && rc == 0; i++)
		if (!after.viol[i].by_revocation &&
		    !same_violation(&after.viol[i], &before))
			rc = violation_one(a, txn, event_id, cid,
			    &after.viol[i]);
	if (rc == 0 && (!cycle || after.own == STORE_DENIED))
		rc = store_set_own(txn, cid, (uint8_t)after.own,
		    (uint8_t)after.rule);
fail:
	event_json_free(json);
	return rc;
}

int
apply_recheck_children(struct apply *a, struct store_txn *txn,
    const char *event_id, uint64_t id)
{
	struct { uint64_t *v; size_t n, cap; } ids = { NULL, 0, 0 };
	size_t i;
	int rc;

	if (a->cfg.mode == PROFILE_OFF)
		return APPLY_OK;
	rc = store_children(txn, id, collect, &ids);
	for (i = 0; rc == 0 && i < ids.n; i++)
		if (ids.v[i] != id)
			rc = recheck_one(a, txn, event_id, id, ids.v[i]);
	free(ids.v);
	return rc == 0 ? APPLY_OK : -1;
}

/* Printable copy of bytes that are not valid UTF-8: U+FFFD for each. */
static json_t *
lossy_string(const unsigned char *p, size_t n)
{
	char *buf, *q;
	json_t *s;
	size_t i;

	if ((buf = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (i = 0, q = buf; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			*q++ = (char)p[i];
			continue;
		}
		memcpy(q, "\xef\xbf\xbd", 3);
		q += 3;
	}
	s = json_stringn(buf, q - buf);
	free(buf);
	return s;
}

static json_t *
b64_string(const unsigned char *p, size_t n)
{
	char *buf;
	json_t *s;
	size_t len;

	if ((buf = malloc(B64_LEN(n) + 1)) == NULL)
		return NULL;
	len = b64_encode(p, n, buf, 0);
	s = json_stringn(buf, len);
	free(buf);
	return s;
}

/*
 * The dead letter of SPEC section 2.  A payload that is not valid UTF-8
 * is kept exactly in "payload_b64" beside a lossy "payload"; one over
 * DLQ_PAYLOAD_MAX is cut there and marked "truncated".
 */
int
apply_dlq_emit(struct store_txn *txn, const struct apply_msg *m,
    const char *reason,
    const char *detail)
{
	size_t n = m->len > DLQ_PAYLOAD_MAX ? DLQ_PAYLOAD_MAX : m->len;
	json_t *o, *p;

	o = json_pack("{s:i, s:s, s:o, s:i, s:I}", "v", 1, "error", reason,
	    "topic", m->topic ? json_string(m->topic) : json_null(),
	    "partition", (int)m->partition, "offset", (json_int_t)m->offset);
	if (o == NULL)
		return -1;
	if ((p = json_stringn(m->payload, n)) == NULL) {
		json_object_set_new(o, "payload", lossy_string(m->payload, n));
		json_object_set_new(o, "payload_b64", b64_string(m->payload,
		    n));
	} else
		json_object_set_new(o, "payload", p);
	if (n < m->len)
		json_object_set_new(o, "truncated", json_true());
	if (detail != NULL && detail[0] != '\0')
		json_object_set_new(o, "detail", json_stringn(detail,
		    utf8_prefix(detail, 255)));
	return outbox_json(txn, OUT_DLQ, o);
}
