/*
 * store sweep: forget what can no longer matter (SPEC 6, --retention).
 *
 * The caller gives a horizon (now minus the retention); the store
 * forgets:
 * - an issued token whose exp is at or before the horizon: its record,
 *   edges, indexes (jti, hash, sub, client_id, actors), claims, once no
 *   kept token names it as a parent.  A revoked one keeps its key,
 *   status and children as a remembered revocation (below), so that a
 *   late child naming it is still born revoked;
 * - a remembered revocation (a revoked placeholder), a sub, client_id
 *   or actor rule, and a revoked hash no token had: once the time they
 *   were revoked plus the longest token lifetime seen for the issuer
 *   (any issuer for a hash) is at or before the horizon, as no token
 *   they could cover can arrive any more (SPEC 6).  A placeholder still
 *   named by a child waits for the child;
 * - a placeholder no token names any more and nothing revoked;
 * - an applied event id, at its token's exp (an issuance) or at its
 *   time plus the longest lifetime (a revocation).
 *
 * Two tables say when to look: DB_EXP holds (exp, id) for every issued
 * token with an exp, DB_DUE (due, kind) -> reference (duplicates) for
 * the rest.  A DB_DUE entry is a hint: at its due the thing is read
 * again, with the lifetime known then, and forgotten, moved later (the
 * lifetime grew), or dropped (it changed or is gone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/graph/store_int.h"




/* A time as 8 bytes that sort as the signed value does. */
static void
time_put(uint8_t out[8], int64_t v)
{
	uint64_t x = (uint64_t)v ^ ((uint64_t)1 << 63);
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(x >> (56 - 8 * i));
}

static int64_t
time_get(const uint8_t in[8])
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++)
		x = x << 8 | in[i];
	return (int64_t)(x ^ ((uint64_t)1 << 63));
}

int64_t
store_time_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* The DB_EXP key of (exp, id): 16 bytes that sort as the pair does. */
static void
store_exp_key(uint8_t kb[16], int64_t exp, uint64_t id)
{
	time_put(kb, exp);
	time_put(kb + 8, (int64_t)(id ^ ((uint64_t)1 << 63)));
}

int
store_exp_add(struct store_txn *t, int64_t exp, uint64_t id)
{
	uint8_t kb[16];
	MDB_val k = { sizeof(kb), kb }, v = { 0, kb };

	store_exp_key(kb, exp, id);
	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_EXP], &k, &v, 0));
}

/* Look at (kind, ref) again at due.  0 or -1. */
int
store_due_add(struct store_txn *t, int kind, const void *ref, size_t len,
    int64_t due)
{
	uint8_t kb[9];
	MDB_val k = { sizeof(kb), kb }, v = { len, (void *)(uintptr_t)ref };
	int rc;

	time_put(kb, due);
	kb[8] = (uint8_t)kind;
	rc = mdb_put(t->txn, t->s->dbi[DB_DUE], &k, &v, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : store_rc(t, rc);
}

int
store_due_placeholder(struct store_txn *t, uint64_t id, int64_t due)
{
	return store_due_add(t, DUE_PH, &id, sizeof(id), due);
}

int
store_due_rule(struct store_txn *t, const void *key, size_t len,
    int64_t due)
{
	return store_due_add(t, DUE_RULE, key, len, due);
}

int
store_due_hash(struct store_txn *t, const uint8_t *hash, int64_t due)
{
	return store_due_add(t, DUE_HASH, hash, STORE_HASH_LEN, due);
}


/* The due of an applied event's id from its value; NOTFOUND: never. */
static int
event_due(struct store_txn *t, const MDB_val *v, int64_t *due)
{
	char iss[257];
	const uint8_t *p = v->mv_data;
	int64_t until, life = 0;
	size_t l;

	if (v->mv_size < 9)
		return STORE_NOTFOUND;	/* written before events had times */
	memcpy(&until, p, 8);
	l = v->mv_size - 9 < 256 ? v->mv_size - 9 : 256;
	memcpy(iss, p + 9, l);
	iss[l] = '\0';
	if (p[8] != EV_LIFE_NONE && store_life_get(t, p[8] == EV_LIFE_ISS ?
	    iss : NULL, &life) == -1)
		return -1;
	*due = store_time_add(until, life);
	return 0;
}

/*
 * When the revoked placeholder id may be forgotten: its cause's time
 * plus the longest lifetime of its issuer.  0 or -1.
 */
int
store_ph_due(struct store_txn *t, uint64_t id, int64_t *due)
{
	struct store_token ph;
	struct store_cause c;
	char iss[257];
	int64_t life;
	int rc;

	if (store_peek(t, id, &ph) != 0)
		return -1;
	snprintf(iss, sizeof(iss), "%s", ph.iss);
	c.time = 0;
	if ((rc = store_cause_get(t, ph.cause, &c)) == -1)
		return -1;
	if (store_life_get(t, iss, &life) == -1)
		return -1;
	*due = store_time_add(c.time, life);
	return 0;
}

/* Delete key k of db (every duplicate, or only v); absent is fine. */
static int
del_kv(struct store_txn *t, int db, MDB_val *k, MDB_val *v)
{
	int rc = mdb_del(t->txn, t->s->dbi[db], k, v);

	return rc == MDB_NOTFOUND ? 0 : store_rc(t, rc);
}

static int
del_id(struct store_txn *t, int db, uint64_t id, uint64_t *dup)
{
	size_t key = (size_t)id;
	MDB_val k = { sizeof(key), &key }, v = { sizeof(*dup), dup };

	return del_kv(t, db, &k, dup != NULL ? &v : NULL);
}

/* Forget placeholder id: its key, record, status, level, edges. */
static int
forget_placeholder(struct store_txn *t, uint64_t id)
{
	uint8_t kb[STORE_KEYMAX];
	struct store_token ph;
	MDB_val k = { 0, kb };

	if (store_peek(t, id, &ph) != 0)
		return -1;
	if (ph.status == STORE_REVOKED && store_cause_ref(t, ph.cause,
	    -1) == -1)
		return -1;
	k.mv_size = store_key_make(kb, -1, ph.iss, ph.jti);
	if (del_kv(t, DB_KEY2ID, &k, NULL) == -1 ||
	    del_id(t, DB_TOK, id, NULL) == -1 ||
	    del_id(t, DB_ST, id, NULL) == -1 ||
	    del_id(t, DB_LVL, id, NULL) == -1 ||
	    del_id(t, DB_KIDS, id, NULL) == -1)
		return -1;
	return 0;
}

/*
 * A placeholder's entry in DB_DUE, due at or before horizon: one no
 * token names goes, unless revoked and not due yet at horizon (then its
 * entry moves to its due); one still named waits for release_parent().
 */
static int
due_placeholder(struct store_txn *t, uint64_t id, int64_t horizon,
    struct store_swept *r)
{
	struct st st;
	uint64_t n;
	int64_t due;
	int rc;

	if ((rc = store_st_read(t, id, &st)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if ((st.flags & ST_ISSUED) || store_children_count(t, id, &n) != 0)
		return (st.flags & ST_ISSUED) ? 0 : -1;
	if (n > 0)
		return 0;	/* release_parent() when the last child goes */
	if (st.eff == STORE_REVOKED) {
		if (store_ph_due(t, id, &due) == -1)
			return -1;
		if (due > horizon)
			return store_due_placeholder(t, id, due);
	}
	r->other++;
	return forget_placeholder(t, id);
}

/*
 * Parent p lost its child: an issued one kept for its children is due
 * again at its exp (already passed: this sweep or the next takes it); a
 * placeholder no token names any more is forgotten, or, if revoked,
 * looked at again when it is due.
 */
static int
release_parent(struct store_txn *t, uint64_t p, struct store_swept *r)
{
	struct rec rec;
	struct st st;
	uint64_t n;
	int rc;

	if ((rc = store_st_read(t, p, &st)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (store_children_count(t, p, &n) != 0)
		return -1;
	/*
	 * An issued one kept for its children is looked at again: when
	 * the last goes, and, as they may not wait any more, on a cycle
	 * or once revoked.
	 */
	if ((st.flags & ST_ISSUED) && (n == 0 || (st.flags & ST_CYCLE) ||
	    st.eff == STORE_REVOKED)) {
		if (store_rec_read_head(t, p, &rec) != 0)
			return -1;
		r->more = 1;	/* maybe behind this slice's position */
		return rec.exp != 0 ? store_exp_add(t, rec.exp, p) : 0;
	}
	if (n > 0 || (st.flags & ST_ISSUED))
		return 0;
	return due_placeholder(t, p, INT64_MIN, r);	/* (re)scheduled */
}

/* What forget_token() deletes, copied out before the first write. */
struct gone {
	uint8_t		 key[STORE_KEYMAX];	/* iss NUL jti */
	size_t		 keylen;
	uint8_t		 jti[STORE_KEYMAX];
	size_t		 jtilen;
	uint8_t		 idx[2 + STORE_MAX_ACTORS][STORE_KEYMAX];
	size_t		 idxlen[2 + STORE_MAX_ACTORS];
	size_t		 nidx;
	char		 iss[257];
	char		 jtis[4097];
	struct rec	 r;
};

/* Collect the keys of token id (record in r, strings at p). */
static void
gone_keys(struct gone *g, const char *p, size_t len)
{
	const char *s[4], *end = p + len, *a;
	size_t i, n;

	for (i = 0; i < 4; i++) {
		s[i] = p;
		p += g->r.slen[i] + 1;
	}
	snprintf(g->iss, sizeof(g->iss), "%s", s[0]);
	snprintf(g->jtis, sizeof(g->jtis), "%s", s[1]);
	g->keylen = store_key_make(g->key, -1, s[0], s[1]);
	g->jtilen = store_key_make(g->jti, -1, s[1], NULL);
	g->nidx = 0;
	for (i = 2; i < 4; i++) {
		if (s[i][0] == '\0')
			continue;
		g->idxlen[g->nidx] = store_key_make(g->idx[g->nidx],
		    i == 2 ? STORE_IDX_SUB : STORE_IDX_CLIENT, s[0], s[i]);
		g->nidx++;
	}
	if (!(g->r.pad & REC_ACTORS))
		return;
	a = p + g->r.claims_len;
	if (a >= end)
		return;
	n = (uint8_t)*a++;
	for (i = 0; i < n && a < end && g->nidx < 2 + STORE_MAX_ACTORS; i++) {
		g->idxlen[g->nidx] = store_key_make(g->idx[g->nidx],
		    STORE_IDX_ACTOR, s[0], a);
		g->nidx++;
		a += strnlen(a, end - a) + 1;
	}
}

#define FORGET_BLOCKED	2
#define PASS_MAX	1024	/* revoked tokens passed over in a slice */

#define LIVE_WALK	4096	/* descendants a cycle's closer looks at */

struct live {
	struct store_txn *t;
	int64_t		 horizon;
	int64_t		 first;		/* earliest exp past the horizon */
	int		 forever;	/* one without exp: always live */
	struct idset	 seen;
	struct idvec	 queue;
};

/* Queue a descendant not seen yet, noting when it expires. */
static int
live_one(void *arg, uint64_t kid)
{
	struct live *l = arg;
	struct rec r;
	int rc;

	if ((rc = store_idset_add(&l->seen, kid)) != 1)
		return rc;		/* seen (0), or out of memory */
	if (l->seen.n > LIVE_WALK) {
		l->forever = 1;		/* too many to tell: wait */
		return 1;
	}
	if (store_rec_read_head(l->t, kid, &r) != 0 || r.exp == 0) {
		l->forever = 1;
		return 1;
	}
	if (r.exp > l->horizon && (l->first == 0 || r.exp < l->first))
		l->first = r.exp;
	return store_idvec_push(&l->queue, kid);
}

/*
 * Must the token id that closed a cycle wait: does a descendant live
 * past the horizon?  Its cycle's members wait for one another, so it
 * cannot wait for its children to go as other parents do: it looks at
 * its descendants (at most LIVE_WALK) and, when one lives on, comes due
 * again at the earliest such exp (or, for one without exp or past the
 * bound, when a child goes).  1 wait, 0 go, -1.  Cost: O(LIVE_WALK).
 */
static int
cycle_waits(struct store_txn *t, uint64_t id, int64_t horizon)
{
	struct live l;
	size_t i;
	int rc = 0;

	memset(&l, 0, sizeof(l));
	l.t = t;
	l.horizon = horizon;
	if (store_idset_add(&l.seen, id) == -1)
		return -1;
	rc = store_kids_each(t, id, live_one, &l);
	for (i = 0; rc == 0 && i < l.queue.n && !l.forever; i++)
		rc = store_kids_each(t, l.queue.v[i], live_one, &l);
	store_idset_free(&l.seen);
	store_idvec_free(&l.queue);
	if (rc == -1)
		return -1;
	if (l.forever)
		return 1;
	if (l.first == 0)
		return 0;
	return store_exp_add(t, l.first, id) == 0 ? 1 : -1;
}

/* Delete the index entries of token id (keys in g): O(log n) each. */
static int
unindex(struct store_txn *t, uint64_t id, struct gone *g)
{
	MDB_val k, v;
	uint8_t e[16];
	uint64_t other;
	size_t i;

	store_idx_entry(e, g->r.iat, id);
	v.mv_size = sizeof(e);
	v.mv_data = e;
	for (i = 0; i < g->nidx; i++) {
		k.mv_size = g->idxlen[i];
		k.mv_data = g->idx[i];
		if (del_kv(t, DB_IDX, &k, &v) == -1)
			return -1;
	}
	k.mv_size = g->jtilen;
	k.mv_data = g->jti;
	v.mv_size = sizeof(id);
	v.mv_data = &id;
	if (del_kv(t, DB_JTI2ID, &k, &v) == -1)
		return -1;
	if (!g->r.has_hash || store_lookup_hash(t, g->r.hash, &other) != 0 ||
	    other != id)
		return 0;
	k.mv_size = STORE_HASH_LEN;
	k.mv_data = g->r.hash;
	return del_kv(t, DB_HASH2ID, &k, NULL);
}

/*
 * Take id out of its parents' children; and its own children away,
 * unless keep_kids (a remembered revocation waits for them).
 */
static int
unlink_token(struct store_txn *t, uint64_t id, struct gone *g,
    int keep_kids, struct store_swept *r)
{
	const uint64_t *p = g->r.parent;
	size_t i;

	for (i = 0; i < STORE_NPARENTS; i++) {
		if (p[i] == 0 || p[i] == id || (i > 0 && p[i] == p[i - 1]) ||
		    (i > 1 && p[i] == p[0]))
			continue;
		if (del_id(t, DB_KIDS, p[i], &id) == -1 ||
		    release_parent(t, p[i], r) == -1)
			return -1;
	}
	/* kept, a child of itself goes still: it would wait for itself */
	if (del_id(t, DB_KIDS, id, keep_kids ? &id : NULL) == -1)
		return -1;
	return del_id(t, DB_LVL, id, NULL);
}

/*
 * Forget issued token id, expired before the horizon (see the top).
 * FORGET_BLOCKED, and nothing written, for a revoked one while the
 * outbox holds cascade entries (its message may wait there).  One not
 * revoked with children waits for them (release_parent()).  Cost: O(log n)
 * per index entry and parent, plus its children's pages.
 */
static int
forget_token(struct store_txn *t, uint64_t id, int64_t horizon, int busy,
    struct gone *g, struct store_swept *r)
{
	struct store_token ph;
	const char *p;
	struct st st;
	MDB_val k;
	uint64_t kids;
	size_t len;
	int rc;

	if ((rc = store_st_read(t, id, &st)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (!(st.flags & ST_ISSUED))
		return 0;
	if (st.eff == STORE_REVOKED && busy)
		return FORGET_BLOCKED;
	/*
	 * A parent stays while a child does, so that a revocation of it
	 * reaches them; the token that closed a cycle, while a descendant
	 * lives on (cycle_waits()).
	 */
	if (st.eff != STORE_REVOKED) {
		if (store_children_count(t, id, &kids) != 0)
			return -1;
		if (kids > 0 && (st.flags & ST_CYCLE) &&
		    (rc = cycle_waits(t, id, horizon)) != 1) {
			if (rc == -1)
				return -1;
			kids = 0;	/* only the cycle's, expired too */
		}
		if (kids > 0) {
			r->waiting++;
			return 0;	/* release_parent() brings it back */
		}
	}
	if (store_rec_read(t, id, &g->r, &p, &len) != 0)
		return -1;
	gone_keys(g, p, len);
	if (unindex(t, id, g) == -1 || unlink_token(t, id, g,
	    st.eff == STORE_REVOKED, r) == -1)
		return -1;
	if (st.eff != STORE_REVOKED) {
		r->tokens++;
		k.mv_size = g->keylen;
		k.mv_data = g->key;
		if (del_kv(t, DB_KEY2ID, &k, NULL) == -1 ||
		    del_id(t, DB_TOK, id, NULL) == -1)
			return -1;
		return del_id(t, DB_ST, id, NULL);
	}
	/* A remembered revocation: key and status, until it is due. */
	r->kept++;
	memset(&ph, 0, sizeof(ph));
	ph.iss = g->iss;
	ph.jti = g->jtis;
	st.flags &= ~(ST_ISSUED | ST_CYCLE);	/* ST_KIDS: its children stay */
	st.flags |= ST_SWEPT;	/* store_put(): issued already */
	if (store_rec_write(t, id, &ph, NULL, 0) == -1 ||
	    store_st_write(t, id, &st) == -1)
		return -1;
	return release_parent(t, id, r);
}

/* The issuer of a DB_RULES key (kind, iss, NUL, value) into iss. */
static void
rule_iss(const uint8_t *key, size_t len, char iss[257])
{
	size_t l = len > 1 ? strnlen((const char *)key + 1, len - 1) : 0;

	if (l > 256)
		l = 256;
	memcpy(iss, key + 1, l);
	iss[l] = '\0';
}

/*
 * When thing (kind, ref) of DB_DUE is due now: 0 and *due, or
 * STORE_NOTFOUND when it is gone or never due (stale entry), or -1.
 * *db and the key to delete are set for the kinds deleted by key.
 */
static int
thing_due(struct store_txn *t, int kind, int db, MDB_val *ref, int64_t *due,
    uint32_t *cause)
{
	struct store_cause c;
	struct rule rl;
	char iss[257];
	int64_t life;
	MDB_val v;
	int rc;

	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[db], ref, &v))) != 0)
		return rc;
	if (kind == DUE_EVENT)
		return event_due(t, &v, due);
	if (kind == DUE_RULE) {
		if (v.mv_size != sizeof(rl))
			return -1;
		memcpy(&rl, v.mv_data, sizeof(rl));
		*cause = rl.cause;
		rule_iss(ref->mv_data, ref->mv_size, iss);
		if (store_life_get(t, iss, &life) == -1)
			return -1;
		*due = store_time_add(rl.time, life);
		return 0;
	}
	if (v.mv_size != sizeof(*cause))
		return -1;
	memcpy(cause, v.mv_data, sizeof(*cause));
	c.time = 0;
	if (store_cause_get(t, *cause, &c) == -1 ||
	    store_life_get(t, NULL, &life) == -1)
		return -1;
	*due = store_time_add(c.time, life);
	return 0;
}

/* Look at one entry of DB_DUE: forget its thing, or move the entry. */
static int
due_one(struct store_txn *t, int kind, MDB_val *ref, int64_t horizon,
    struct store_swept *r)
{
	uint64_t id;
	uint32_t cause = 0;
	int64_t due;
	int rc, db = kind == DUE_RULE ? DB_RULES : kind == DUE_HASH ?
	    DB_HASHREV : DB_EVENTS;

	if (kind == DUE_PH) {
		if (ref->mv_size != sizeof(id))
			return 0;
		memcpy(&id, ref->mv_data, sizeof(id));
		return due_placeholder(t, id, horizon, r);
	}
	if (kind != DUE_RULE && kind != DUE_HASH && kind != DUE_EVENT)
		return 0;
	if ((rc = thing_due(t, kind, db, ref, &due, &cause)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (due > horizon)
		return store_due_add(t, kind, ref->mv_data, ref->mv_size, due);
	if (kind == DUE_EVENT)
		r->events++;
	else if (store_cause_ref(t, cause, -1) == -1)	/* rule, hash */
		return -1;
	else
		r->other++;
	return del_kv(t, db, ref, NULL);
}

/*
 * The first entry of db (at or after key kb of *kl bytes when *kl > 0):
 * key into kb (size *kl), value into vb.  0, NOTFOUND or -1.
 */
static int
first_entry(struct store_txn *t, int db, uint8_t *kb, size_t *kl,
    uint8_t *vb, size_t *vl)
{
	MDB_cursor *c;
	MDB_val k = { *kl, kb }, v;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, *kl > 0 ? MDB_SET_RANGE : MDB_FIRST);
	if (rc == 0 && (k.mv_size > STORE_KEYMAX || v.mv_size > STORE_KEYMAX))
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		memcpy(kb, k.mv_data, k.mv_size);
		*kl = k.mv_size;
		memcpy(vb, v.mv_data, v.mv_size);
		*vl = v.mv_size;
	}
	mdb_cursor_close(c);
	return store_rc(t, rc);
}

static int
sweep_tokens(struct store_txn *t, int64_t horizon, size_t max, int busy,
    struct gone *g, struct store_swept *r)
{
	uint8_t kb[STORE_KEYMAX], vb[STORE_KEYMAX];
	size_t kl, vl, passed = 0;
	MDB_val k = { 0, kb };
	uint64_t id;
	int rc;

	kl = 0;
	while (r->looked < max) {
		if ((rc = first_entry(t, DB_EXP, kb, &kl, vb, &vl)) != 0)
			return rc == STORE_NOTFOUND ? 0 : -1;
		if (kl != 16 || time_get(kb) > horizon)
			return 0;
		id = (uint64_t)time_get(kb + 8) ^ ((uint64_t)1 << 63);
		rc = forget_token(t, id, horizon, busy, g, r);
		if (rc == FORGET_BLOCKED) {
			/* passed over, the next id on; no progress: no more */
			r->blocked = 1;
			if (++passed >= PASS_MAX)
				return 0;
			store_exp_key(kb, time_get(kb), id + 1);
			continue;
		}
		r->looked++;
		k.mv_size = kl;
		if (rc != 0 || del_kv(t, DB_EXP, &k, NULL) == -1)
			return -1;
	}
	r->more = 1;
	return 0;
}

static int
sweep_due(struct store_txn *t, int64_t horizon, size_t max,
    struct store_swept *r)
{
	uint8_t kb[STORE_KEYMAX], vb[STORE_KEYMAX];
	size_t kl, vl;
	MDB_val k = { 0, kb }, v = { 0, vb };
	size_t start = r->looked;
	int rc;

	while (r->looked < max) {
		kl = 0;
		if ((rc = first_entry(t, DB_DUE, kb, &kl, vb, &vl)) != 0)
			return rc == STORE_NOTFOUND ? 0 : -1;
		if (kl != 9 || time_get(kb) > horizon)
			return 0;
		v.mv_size = vl;
		if (due_one(t, kb[8], &v, horizon, r) == -1)
			return -1;
		k.mv_size = kl;
		v.mv_size = vl;
		v.mv_data = vb;
		if (del_kv(t, DB_DUE, &k, &v) == -1)
			return -1;
		r->looked++;
	}
	if (r->looked > start)
		r->more = 1;
	return 0;
}

#define OUTBOX_LOOK	256

/*
 * Does a cascade entry wait in the outbox (its tokens' messages not out
 * yet)?  1, 0 or -1; past OUTBOX_LOOK entries, say yes.
 */
static int
cascade_waits(struct store_txn *t)
{
	const void *data;
	uint64_t seq = 0;
	uint8_t kind;
	size_t len, n;
	int rc;

	for (n = 0; n < OUTBOX_LOOK; n++) {
		rc = store_outbox_next(t, seq, &seq, &kind, &data, &len);
		if (rc != 0)
			return rc == STORE_NOTFOUND ? 0 : -1;
		if (kind == STORE_OUT_CASCADE)
			return 1;
	}
	return 1;
}

int
store_sweep(struct store_txn *t, int64_t horizon, size_t max,
    struct store_swept *r)
{
	struct gone *g;
	int busy, rc;

	STORE_WRITER(t);
	memset(r, 0, sizeof(*r));
	if ((busy = cascade_waits(t)) == -1)
		return -1;
	if ((g = malloc(sizeof(*g))) == NULL)
		return -1;
	rc = sweep_tokens(t, horizon, max, busy, g, r);
	free(g);
	if (rc == 0)
		rc = sweep_due(t, horizon, max, r);
	return rc;
}

int
store_sweep_oldest(struct store_txn *t, int64_t *exp)
{
	uint8_t kb[STORE_KEYMAX], vb[STORE_KEYMAX];
	size_t kl, vl;
	int rc;

	kl = 0;
	if ((rc = first_entry(t, DB_EXP, kb, &kl, vb, &vl)) != 0)
		return rc;
	if (kl != 16)
		return -1;
	*exp = time_get(kb);
	return 0;
}
