/*
 * apply: one input message to state, in the caller's write transaction.
 * See apply.h.  Issuance runs the binding profile (profile.c) against
 * the stored parents; the arrival of a token that children were waiting
 * for re-checks those children.  Revocation records a cause and lets the
 * store cascade.  Outputs go to the outbox in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/apply/apply.h"
#include "consumers/apply/apply_int.h"
#include "consumers/event/event.h"
#include "consumers/log/log.h"
#include "consumers/profile/profile.h"
#include "consumers/text/utf8.h"
#include "store/graph/store.h"

_Static_assert(sizeof(((struct event *)0)->target_hash) == STORE_HASH_LEN,
    "hash sizes differ");

struct apply *
apply_new(const struct apply_config *cfg)
{
	struct apply *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	apply_configure(a, cfg);
	return a;
}

void
apply_free(struct apply **ap)
{
	if (ap == NULL || *ap == NULL)
		return;
	free(*ap);
	*ap = NULL;
}

void
apply_configure(struct apply *a, const struct apply_config *cfg)
{
	a->cfg = *cfg;
	if (a->cfg.max_depth <= 0)
		a->cfg.max_depth = 8;
	if (a->cfg.max_event == 0)
		a->cfg.max_event = EV_DEFAULT_MAX;
	a->pcfg.mode = a->cfg.mode;
	a->pcfg.max_depth = a->cfg.max_depth;
	a->pcfg.allow_impersonation = a->cfg.allow_impersonation;
}

void
apply_counts(const struct apply *a, struct apply_counts *c)
{
	*c = a->counts;
}

/* Resolve the parents named by ev to ids, creating placeholders. */
static int
parent_ids(struct store_txn *txn, const struct event *ev, uint64_t *pid)
{
	const char *iss;
	int i;

	for (i = 0; i < EV_NPARENTS; i++) {
		pid[i] = 0;
		if (ev->parent[i].jti == NULL)
			continue;
		iss = ev->parent[i].iss ? ev->parent[i].iss : ev->iss;
		if (store_ref(txn, iss, ev->parent[i].jti, &pid[i]) != 0)
			return -1;
	}
	return 0;
}

static void
fill_token(const struct event *ev, const struct profile_result *res,
    const uint64_t *pid, struct store_token *st)
{
	memset(st, 0, sizeof(*st));
	st->iss = ev->iss;
	st->jti = ev->tok.jti;
	st->sub = ev->tok.sub;
	st->client_id = ev->tok.client_id;
	st->iat = ev->tok.has_iat ? ev->tok.iat : ev->time;
	st->nbf = ev->tok.has_nbf ? ev->tok.nbf : 0;
	st->exp = ev->tok.exp;
	memcpy(st->parent, pid, sizeof(st->parent));
	st->kind = (uint8_t)ev->tok.kind;
	st->uflags = ev->is_exchange ? UF_EXCHANGE : 0;
	st->has_hash = ev->tok.has_hash;
	memcpy(st->hash, ev->tok.hash, sizeof(st->hash));
	st->own = (uint8_t)res->own;
	st->rule = (uint8_t)res->rule;
}

/* Issue the token of ev; its violations and children's re-checks. */
static int
apply_issued(struct apply *a, struct store_txn *txn, const struct event *ev,
    const char **reason)
{
	struct pview pv[EV_NPARENTS];
	struct profile_parent pp[EV_NPARENTS];
	struct profile_result res;
	struct store_token st;
	struct store_put_args args;
	const char *actors[EV_MAX_ACT];
	uint64_t pid[EV_NPARENTS], id;
	size_t i, clen;
	char *claims;
	int rc;

	rc = store_lookup(txn, ev->iss, ev->tok.jti, &id);
	if (rc == -1)
		return -1;
	if (rc == 0 && store_get(txn, id, &st) != 0)
		return -1;
	if (rc == 0 && st.issued) {
		*reason = event_reason_name(EV_R_DUP_JTI);
		a->clean = 1;
		return APPLY_DLQ;
	}
	if (ev->tok.has_hash && (rc = store_lookup_hash(txn, ev->tok.hash,
	    &id)) != STORE_NOTFOUND) {
		if (rc == -1)
			return -1;
		/* the first token keeps the hash */
		*reason = event_reason_name(EV_R_DUP_HASH);
		a->clean = 1;
		return APPLY_DLQ;
	}
	if (parent_ids(txn, ev, pid) == -1 ||
	    pview_load_all(txn, pid, pv, pp) == -1)
		return -1;
	profile_check(&a->pcfg, &ev->tok, ev->is_exchange, pp,
	    ev->tok.has_iat ? ev->tok.iat : ev->time, &res);
	pview_free_all(pv);
	if ((claims = event_claims(ev, &clen)) == NULL)
		return -1;
	fill_token(ev, &res, pid, &st);
	st.claims = claims;
	st.claims_len = clen;
	for (i = 0; i < ev->tok.nact; i++)
		actors[i] = ev->tok.act[i].sub;
	args.tok = &st;
	args.actors = actors;
	args.nactors = ev->tok.nact;
	args.cycle_allow = a->cfg.mode != PROFILE_ENFORCE;
	rc = store_put(txn, &args, &id);
	free(claims);
	if (rc == STORE_EXISTS || rc == STORE_DUPHASH) {
		*reason = event_reason_name(rc == STORE_EXISTS ?
		    EV_R_DUP_JTI : EV_R_DUP_HASH);
		return APPLY_DLQ;
	}
	if (rc != 0 || apply_violations_emit(a, txn, ev->id, id, &res) == -1 ||
	    apply_cycle_check(a, txn, ev->id, id) == -1)
		return -1;
	return apply_recheck_children(a, txn, ev->id, id);
}

static int
apply_revoked(struct apply *a, struct store_txn *txn, const struct event *ev)
{
	struct store_cause c;
	uint32_t ref;
	uint64_t id, n = 0;
	const char *iss = ev->target_iss ? ev->target_iss : ev->iss;

	c.event_id = ev->id;
	c.reason = ev->reason ? ev->reason : "";
	c.iss = iss;
	c.target = ev->target;
	c.target_kind = ev->target_kind;
	c.time = ev->time;
	if (store_cause_add(txn, &c, &ref) == -1)
		return -1;
	if (ev->target_kind == EV_TGT_JTI) {
		if (store_ref(txn, iss, ev->target, &id) == -1 ||
		    store_revoke(txn, id, ref, &n) == -1)
			return -1;
	} else if (ev->target_kind == EV_TGT_HASH) {
		if (store_revoke_hash(txn, ev->target_hash, ref, &n) == -1)
			return -1;
	} else if (store_rule_add(txn, ev->target_kind, iss, ev->target,
	    ev->time, ref, &n) == -1)
		return -1;
	a->counts.revoked += n;
	return APPLY_OK;
}

/* One dead letter's log line; untrusted text is cut and never raw. */
static void
log_event_dead(const struct apply_msg *m, const char *id, const char *reason,
    const char *why, int unprocessable)
{
	if (unprocessable)
		log_warnx("dead letter %s partition %d offset %lld: event "
		    "%.*s: %s: %s", m->topic ? m->topic : "-",
		    (int)m->partition, (long long)m->offset,
		    (int)utf8_prefix(id, 64), id, reason, why);
	else
		log_info("dead letter %s partition %d offset %lld: %s%s%s",
		    m->topic ? m->topic : "-", (int)m->partition,
		    (long long)m->offset, reason, why[0] ? ": " : "", why);
}

static int
apply_event(struct apply *a, struct store_txn *txn, const struct event *ev,
    const char **reason)
{
	int rc;

	if ((rc = store_event_seen(txn, ev->id)) != 0)
		return rc == 1 ? APPLY_DUPLICATE : -1;
	if (ev->type == EV_ISSUED)
		rc = apply_issued(a, txn, ev, reason);
	else
		rc = apply_revoked(a, txn, ev);
	if (rc != APPLY_OK)
		return rc;
	/* Kept while a duplicate could still change something (SPEC 6). */
	if (ev->type == EV_ISSUED)
		rc = store_event_mark(txn, ev->id, ev->tok.exp, NULL);
	else
		rc = store_event_mark(txn, ev->id, ev->time,
		    ev->target_kind == EV_TGT_HASH ? "" : ev->target_iss ?
		    ev->target_iss : ev->iss);
	return rc == 0 ? APPLY_OK : -1;
}

/* The result for a failed store call in txn: full, or another error. */
static enum apply_result
store_result(const struct store_txn *txn)
{
	return store_txn_failure(txn) == STORE_FAIL_FULL ? APPLY_STORE_FULL :
	    APPLY_STORE_ERROR;
}

/*
 * Apply a decoded event in a nested transaction: kept whole on success,
 * dropped whole otherwise.  A failure with no LMDB error behind it came
 * from the event itself: APPLY_UNPROCESSABLE, with a->why saying what.
 */
static enum apply_result
apply_nested(struct apply *a, struct store_txn *txn, const struct event *ev,
    const char **reason)
{
	struct apply_counts before = a->counts;
	struct store_txn *sub;
	int rc;

	if (store_sub_begin(txn, &sub) == -1)
		return store_result(txn);
	rc = apply_event(a, sub, ev, reason);
	if (rc == APPLY_OK || rc == APPLY_DUPLICATE) {
		if (store_sub_commit(&sub) == -1) {
			a->counts = before;
			return store_result(txn);
		}
		return rc;
	}
	if (rc == -1) {
		rc = store_txn_failure(sub) == STORE_FAIL_NONE ?
		    APPLY_UNPROCESSABLE : store_result(sub);
		if (rc == APPLY_UNPROCESSABLE) {
			*reason = event_reason_name(EV_R_UNPROCESSABLE);
			if (a->why[0] == '\0')
				(void)snprintf(a->why, sizeof(a->why), "%s",
				    "its effects could not be recorded");
		}
	}
	store_abort(&sub);
	a->counts = before;
	return rc;
}

/*
 * Apply a decoded event straight in the batch's transaction, with no
 * nested one: the fast path.  An outcome that leaves nothing half
 * written (applied, duplicate, a dead letter decided before the first
 * write) is final; any other one may have written part of the event,
 * and is APPLY_REDO: the caller aborts the batch and applies it again
 * with apply_nested().
 */
static int
apply_direct(struct apply *a, struct store_txn *txn, const struct event *ev,
    const char **reason)
{
	struct apply_counts before = a->counts;
	int rc;

	a->clean = 0;
	rc = apply_event(a, txn, ev, reason);
	if (rc == APPLY_OK || rc == APPLY_DUPLICATE ||
	    (rc == APPLY_DLQ && a->clean))
		return rc;
	a->counts = before;
	if (rc == -1 && store_txn_failure(txn) != STORE_FAIL_NONE)
		return store_result(txn);
	*reason = NULL;
	return APPLY_REDO;
}

/*
 * One message: decode, apply (nested or direct), dead-letter, offset.
 * quiet: no log line for a dead letter (logged by an earlier attempt).
 */
static int
apply_one(struct apply *a, struct store_txn *txn, const struct apply_msg *m,
    const char **reasonp, int nested, int quiet)
{
	struct event ev;
	const char *reason = NULL, *why;
	char detail[256];
	int rc;

	memset(&ev, 0, sizeof(ev));
	detail[0] = a->why[0] = '\0';
	if (event_decode(m->payload, m->len, a->cfg.max_event, &ev, &reason,
	    detail, sizeof(detail)) == -1)
		rc = APPLY_DLQ;
	else if (nested)
		rc = apply_nested(a, txn, &ev, &reason);
	else
		rc = apply_direct(a, txn, &ev, &reason);
	if (rc == APPLY_DLQ || rc == APPLY_UNPROCESSABLE) {
		if (reason == NULL)
			reason = "invalid";
		why = rc == APPLY_UNPROCESSABLE ? a->why : detail;
		if (!quiet)
			log_event_dead(m, ev.id, reason, why,
			    rc == APPLY_UNPROCESSABLE);
		if (apply_dlq_emit(txn, m, reason, why) == -1)
			rc = store_result(txn);
	}
	event_clear(&ev);
	if (rc == APPLY_REDO || APPLY_FAILED(rc))
		return rc;
	if (m->topic != NULL && store_offset_set(txn, m->topic, m->partition,
	    m->offset + 1) == -1)
		return store_result(txn);
	if (reasonp != NULL)
		*reasonp = reason;
	a->counts.applied += rc == APPLY_OK;
	a->counts.duplicates += rc == APPLY_DUPLICATE;
	a->counts.dead += rc == APPLY_DLQ || rc == APPLY_UNPROCESSABLE;
	return rc;
}

enum apply_result
apply_message(struct apply *a, struct store_txn *txn,
    const struct apply_msg *m, const char **reasonp)
{
	return apply_one(a, txn, m, reasonp, 1, 0);
}

/*
 * One attempt at the batch in one transaction: direct (*redo_at < 0 on
 * entry) or nested.  Dead-letter reasons go to dr[] (when not NULL),
 * told to dead() only once committed.  A direct attempt that meets an
 * event needing a rollback of its own returns APPLY_REDO, *redo_at the
 * index of that message: the messages before it were logged already.
 */
static int
batch_try(struct apply *a, struct store *st, const struct apply_msg *m,
    size_t n, const char **dr, size_t *ndr, long *redo_at)
{
	struct store_txn *txn;
	const char *reason;
	long quiet_below = *redo_at;
	int nested = *redo_at >= 0, rc;
	size_t i;

	*ndr = 0;
	if (store_begin(st, 0, &txn) == -1)
		return APPLY_STORE_ERROR;
	for (i = 0; i < n; i++) {
		rc = apply_one(a, txn, &m[i], &reason, nested,
		    (long)i < quiet_below);
		if (rc == APPLY_REDO)
			*redo_at = (long)i;
		if (rc == APPLY_REDO || APPLY_FAILED(rc)) {
			store_abort(&txn);
			return rc;
		}
		if ((rc == APPLY_DLQ || rc == APPLY_UNPROCESSABLE) &&
		    dr != NULL)
			dr[(*ndr)++] = reason;
	}
	if (store_commit(&txn) == -1)
		return store_failure(st, NULL) == STORE_FAIL_FULL ?
		    APPLY_STORE_FULL : APPLY_STORE_ERROR;
	return APPLY_OK;
}

enum apply_result
apply_batch(struct apply *a, struct store *st, const struct apply_msg *m,
    size_t n, void (*dead)(void *, const char *), void *arg)
{
	struct apply_counts before = a->counts;
	const char **dr = NULL;
	size_t i, ndr;
	long redo_at = -1;
	int rc;

	if (dead != NULL && n > 0 && (dr = calloc(n, sizeof(*dr))) == NULL)
		return APPLY_STORE_ERROR;
	rc = batch_try(a, st, m, n, dr, &ndr, &redo_at);
	if (rc == APPLY_REDO) {
		a->counts = before;
		rc = batch_try(a, st, m, n, dr, &ndr, &redo_at);
	}
	if (rc != APPLY_OK) {
		a->counts = before;
		free(dr);
		return rc;
	}
	for (i = 0; i < ndr; i++)
		dead(arg, dr[i]);
	free(dr);
	return APPLY_OK;
}
