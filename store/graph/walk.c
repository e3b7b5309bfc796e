/*
 * store walks: issuing a token, the revocation cascade, recomputation
 * of effective statuses, and revocation rules by attribute.
 *
 * Everything is iterative over an explicit queue (no recursion that a
 * deep chain could overflow) and happens inside the caller's write
 * transaction, so a reader sees all of a cascade or none of it.
 */
#include <stdlib.h>
#include <string.h>

#include "store/graph/store_int.h"

#define RECOMPUTE_MAX	((size_t)1 << 26)

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

int
store_idset_add(struct idset *s, uint64_t id)
{
	struct idset ns;
	size_t i;

	if (s->n * 2 >= s->cap) {
		ns.cap = s->cap ? s->cap * 2 : 1024;
		ns.n = 0;
		if ((ns.v = calloc(ns.cap, sizeof(*ns.v))) == NULL)
			return -1;
		for (i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				(void)store_idset_add(&ns, s->v[i]);
		free(s->v);
		*s = ns;
	}
	for (i = mix(id) & (s->cap - 1); s->v[i] != 0; i = (i + 1) &
	    (s->cap - 1))
		if (s->v[i] == id)
			return 0;
	s->v[i] = id;
	s->n++;
	return 1;
}

int
store_idset_has(const struct idset *s, uint64_t id)
{
	size_t i;

	if (s->cap == 0)
		return 0;
	for (i = mix(id) & (s->cap - 1); s->v[i] != 0; i = (i + 1) &
	    (s->cap - 1))
		if (s->v[i] == id)
			return 1;
	return 0;
}

void
store_idset_free(struct idset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct cascade {
	struct store_txn *t;
	MDB_cursor	*cur;
	uint32_t	 cause;
	uint64_t	 count;
	uint32_t	 depth;		/* of the generation being revoked */
	uint64_t	 root;		/* the token the cause revoked itself */
};

/* Mark one child revoked if it is not; queue it for its own children. */
static int
cascade_kid(void *arg, uint64_t kid)
{
	struct cascade *c = arg;
	size_t key = (size_t)kid;
	MDB_val k = { sizeof(key), &key }, v;
	struct st st;
	int rc;

	if ((rc = mdb_cursor_get(c->cur, &k, &v, MDB_SET_KEY)) != 0)
		return store_rc(c->t, rc) == 0 ? 0 : -1;
	if (store_st_load(&st, v.mv_data, v.mv_size) == -1)
		return -1;
	if (st.eff == STORE_REVOKED)
		return 0;
	st.eff = STORE_REVOKED;
	st.cause = c->cause;
	st.depth = c->depth;
	st.root = c->root;
	/* MDB_SET_KEY pointed k into the map, where a resize moves it */
	k.mv_size = sizeof(key);
	k.mv_data = &key;
	v.mv_size = store_st_size(&st);
	v.mv_data = &st;
	if ((rc = mdb_cursor_put(c->cur, &k, &v, MDB_CURRENT)) != 0)
		return store_rc(c->t, rc) == 0 ? 0 : -1;
	c->count++;
	if ((st.flags & ST_ISSUED) && store_idvec_push(&c->t->revoked,
	    kid) == -1)
		return -1;
	if ((st.flags & ST_KIDS) && store_idvec_push(&c->t->queue, kid) == -1)
		return -1;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define RADIX_BITS	11
#define RADIX_MASK	((1u << RADIX_BITS) - 1)

/* Sort ids ascending: LSD radix sort over the bits in use, O(n). */
static int
ids_sort(uint64_t *v, size_t n)
{
	size_t cnt[1u << RADIX_BITS], i, sum, c;
	uint64_t *tmp, *src = v, *dst, *sw, max = 0;
	unsigned int shift;

	for (i = 1; i < n && v[i - 1] <= v[i]; i++)
		continue;
	if (i >= n)
		return 0;	/* sorted already: a tree issued in order */
	if (n < 1024) {
		qsort(v, n, sizeof(*v), cmp_id);
		return 0;
	}
	for (i = 0; i < n; i++)
		max |= v[i];
	if ((tmp = malloc(n * sizeof(*tmp))) == NULL)
		return -1;
	dst = tmp;
	for (shift = 0; shift < 64 && (max >> shift) != 0;
	    shift += RADIX_BITS) {
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(src[i] >> shift) & RADIX_MASK]++;
		for (i = 0, sum = 0; i <= RADIX_MASK; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & RADIX_MASK]++] = src[i];
		sw = src;
		src = dst;
		dst = sw;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
	return 0;
}

static int
gather_kid(void *arg, uint64_t kid)
{
	return store_idvec_push(arg, kid);
}

/*
 * Revoke every descendant of the ids queued in t->queue, a generation
 * at a time: the children of a generation are gathered, sorted and
 * visited in id order, so the status reads and writes sweep DB_ST page
 * by page.  Ids follow first reference, so a tree whose tokens arrived
 * interleaved with others has its ids scattered: visited in walk order,
 * each would cost a descent through the B-tree and cache misses.
 */
static int
cascade_run(struct store_txn *t, uint64_t root, uint32_t cause,
    uint64_t *count)
{
	struct cascade c = { t, NULL, cause, 0, 0, root };
	struct idvec gen = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	if (mdb_cursor_open(t->txn, t->s->dbi[DB_ST], &c.cur) != 0)
		return -1;
	while (rc == 0 && t->queue.n > 0) {
		gen.n = 0;
		c.depth++;
		for (i = 0; rc == 0 && i < t->queue.n; i++)
			rc = store_kids_each(t, t->queue.v[i], gather_kid,
			    &gen);
		t->queue.n = 0;
		if (rc == 0)
			rc = ids_sort(gen.v, gen.n);
		for (i = 0; rc == 0 && i < gen.n; i++)
			if (i == 0 || gen.v[i] != gen.v[i - 1])
				rc = cascade_kid(&c, gen.v[i]);
	}
	mdb_cursor_close(c.cur);
	store_idvec_free(&gen);
	t->queue.n = 0;
	if (count != NULL)
		*count += c.count;
	if (rc == 0 && c.count > 0)
		rc = store_cause_ref(t, cause, (int64_t)c.count);
	return rc == 0 ? 0 : -1;
}

int
store_revoke(struct store_txn *t, uint64_t id, uint32_t cause,
    uint64_t *nrevoked)
{
	struct st st;
	int64_t due;
	int rc;

	STORE_WRITER(t);
	if (nrevoked != NULL)
		*nrevoked = 0;
	if ((rc = store_st_read(t, id, &st)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;	/* swept */
	if (st.eff == STORE_REVOKED) {
		if (st.own == STORE_REVOKED)
			return 0;
		st.own = STORE_REVOKED;
		return store_st_write(t, id, &st);
	}
	st.eff = st.own = STORE_REVOKED;
	st.cause = cause;
	st.depth = 0;
	st.root = 0;
	if (store_st_write(t, id, &st) == -1 ||
	    store_cause_ref(t, cause, 1) == -1)
		return -1;
	if (!(st.flags & ST_ISSUED) && (store_ph_due(t, id, &due) == -1 ||
	    store_due_placeholder(t, id, due) == -1))
		return -1;
	if (nrevoked != NULL)
		*nrevoked = 1;
	if ((st.flags & ST_ISSUED) && store_idvec_push(&t->revoked, id) == -1)
		return -1;
	if (!(st.flags & ST_KIDS))
		return 0;
	t->queue.n = 0;
	if (store_idvec_push(&t->queue, id) == -1)
		return -1;
	return cascade_run(t, id, cause, nrevoked);
}

/*
 * The effective status of a token from its own (in *st) and its
 * parents': the most severe; a revoked one takes the first revoked
 * parent's cause, one hop deeper than it and the same root, unless it
 * is revoked by itself (depth 0).
 */
static int
compute_eff(struct store_txn *t, struct st *st, const uint64_t *parent)
{
	struct st ps;
	int i, rc;

	st->eff = st->own;
	if (st->own == STORE_REVOKED && st->depth != ST_DEPTH_UNKNOWN) {
		st->depth = 0;
		st->root = 0;
	}
	for (i = 0; i < STORE_NPARENTS; i++) {
		if (parent[i] == 0)
			continue;
		if ((rc = store_st_read(t, parent[i], &ps)) == STORE_NOTFOUND)
			continue;	/* swept: it had expired */
		if (rc != 0)
			return -1;
		if (ps.eff == STORE_REVOKED && st->eff != STORE_REVOKED) {
			st->cause = ps.cause;
			st->depth = ps.depth == ST_DEPTH_UNKNOWN ?
			    ST_DEPTH_UNKNOWN : ps.depth + 1;
			st->root = ps.root != 0 ? ps.root : parent[i];
		}
		if (ps.eff > st->eff)
			st->eff = ps.eff;
	}
	return 0;
}

/*
 * Recompute the effective status of id; *changed is set when it moved.
 * Revoked is terminal; a token that becomes revoked is recorded.
 */
static int
recompute(struct store_txn *t, uint64_t id, int *changed)
{
	struct st st;
	struct rec r;
	uint8_t before;

	*changed = 0;
	if (store_st_read(t, id, &st) != 0)
		return -1;
	if (st.eff == STORE_REVOKED || !(st.flags & ST_ISSUED))
		return 0;
	if (store_rec_read_head(t, id, &r) != 0)
		return -1;
	before = st.eff;
	if (compute_eff(t, &st, r.parent) == -1)
		return -1;
	if (st.eff == before)
		return 0;
	*changed = 1;
	if (st.eff == STORE_REVOKED && (store_idvec_push(&t->revoked,
	    id) == -1 || store_cause_ref(t, st.cause, 1) == -1))
		return -1;
	return store_st_write(t, id, &st);
}

static int
queue_kid(void *arg, uint64_t kid)
{
	return store_idvec_push(arg, kid);
}

/*
 * Bring the descendants of id up to date after id's status moved, a
 * generation at a time in id order (see cascade_run()).  A token is
 * recomputed again whenever one of its parents moves, so the order
 * within a generation does not change the outcome.
 */
static int
propagate(struct store_txn *t, uint64_t id)
{
	struct idvec gen = { NULL, 0, 0 }, next = { NULL, 0, 0 }, sw;
	struct st st;
	size_t i, steps = 0;
	int changed, rc = 0;

	if (store_kids_each(t, id, queue_kid, &gen) != 0)
		rc = -1;
	while (rc == 0 && gen.n > 0) {
		if ((steps += gen.n) >= RECOMPUTE_MAX) {
			rc = -1;	/* never commit half a recomputation */
			break;
		}
		if (ids_sort(gen.v, gen.n) == -1)
			rc = -1;
		next.n = 0;
		for (i = 0; rc == 0 && i < gen.n; i++) {
			if (i > 0 && gen.v[i] == gen.v[i - 1])
				continue;
			if (recompute(t, gen.v[i], &changed) != 0)
				rc = -1;
			else if (changed && store_st_read(t, gen.v[i],
			    &st) == 0 &&
			    (st.flags & ST_KIDS) &&
			    store_kids_each(t, gen.v[i], queue_kid, &next) != 0)
				rc = -1;
		}
		sw = gen;
		gen = next;
		next = sw;
	}
	store_idvec_free(&gen);
	store_idvec_free(&next);
	return rc;
}

/* A revocation rule covering (idx, iss, value) at time iat?  0/1/-1. */
static int
rule_match(struct store_txn *t, int idx, const char *iss, const char *value,
    int64_t iat, uint32_t *cause)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v;
	struct rule r;
	int rc;

	k.mv_size = store_key_make(kb, idx, iss, value);
	k.mv_data = kb;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_RULES], &k, &v));
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	memcpy(&r, v.mv_data, sizeof(r));
	if (iat > r.time)
		return 0;
	*cause = r.cause;
	return 1;
}

/*
 * An index entry: iat (sign bit flipped) and id, both big-endian, so
 * the duplicates of a key sort by iat and a rule scans a range of it.
 */
void
store_idx_entry(uint8_t out[16], int64_t iat, uint64_t id)
{
	uint64_t x = (uint64_t)iat ^ ((uint64_t)1 << 63);
	int i;

	for (i = 0; i < 8; i++) {
		out[i] = (uint8_t)(x >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(id >> (56 - 8 * i));
	}
}

static void
idx_entry_read(const uint8_t in[16], int64_t *iat, uint64_t *id)
{
	uint64_t x = 0, y = 0;
	int i;

	for (i = 0; i < 8; i++) {
		x = x << 8 | in[i];
		y = y << 8 | in[8 + i];
	}
	*iat = (int64_t)(x ^ ((uint64_t)1 << 63));
	*id = y;
}

static int
idx_add(struct store_txn *t, int idx, const char *iss, const char *value,
    int64_t iat, uint64_t id)
{
	uint8_t kb[STORE_KEYMAX], e[16];
	MDB_val k, v = { sizeof(e), e };
	int rc;

	store_idx_entry(e, iat, id);
	k.mv_size = store_key_make(kb, idx, iss, value);
	k.mv_data = kb;
	rc = mdb_put(t->txn, t->s->dbi[DB_IDX], &k, &v, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : store_rc(t, rc);
}

/*
 * A database written before the index sorted by iat has the table
 * "idx" (8-byte ids): copy it into DB_IDX with each token's iat, and
 * drop it, so rules still find the tokens issued before the upgrade.
 * Runs inside store_open()'s transaction; cost O(entries), once.
 */
int
store_idx_upgrade(struct store *s, MDB_txn *txn)
{
	struct store_txn t;
	struct rec r;
	MDB_dbi old;
	MDB_cursor *c;
	MDB_val k, v, e;
	uint8_t ent[16];
	uint64_t id;
	int rc;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.txn = txn;
	rc = mdb_dbi_open(txn, "idx", MDB_DUPSORT | MDB_DUPFIXED |
	    MDB_INTEGERDUP, &old);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || (rc = mdb_cursor_open(txn, old, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size != sizeof(id))
			continue;
		memcpy(&id, v.mv_data, sizeof(id));
		if (store_rec_read_head(&t, id, &r) != 0)
			continue;
		store_idx_entry(ent, r.iat, id);
		e.mv_size = sizeof(ent);
		e.mv_data = ent;
		rc = mdb_put(txn, s->dbi[DB_IDX], &k, &e, MDB_NODUPDATA);
		if (rc != 0 && rc != MDB_KEYEXIST)
			break;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
		return rc;
	return mdb_drop(txn, old, 1);
}

/* Index tok under its sub, client and actors; match revocation rules. */
static int
index_token(struct store_txn *t, const struct store_put_args *a, uint64_t id,
    struct st *st)
{
	const struct store_token *tok = a->tok;
	const char *val[2 + STORE_MAX_ACTORS];
	int kind[2 + STORE_MAX_ACTORS];
	size_t n = 0, i;
	uint32_t cause;
	int m;

	val[n] = tok->sub;
	kind[n++] = STORE_IDX_SUB;
	val[n] = tok->client_id;
	kind[n++] = STORE_IDX_CLIENT;
	for (i = 0; i < a->nactors && i < STORE_MAX_ACTORS; i++) {
		val[n] = a->actors[i];
		kind[n++] = STORE_IDX_ACTOR;
	}
	for (i = 0; i < n; i++) {
		if (val[i] == NULL || val[i][0] == '\0')
			continue;
		if (idx_add(t, kind[i], tok->iss, val[i], tok->iat, id) == -1)
			return -1;
		m = rule_match(t, kind[i], tok->iss, val[i], tok->iat, &cause);
		if (m == -1)
			return -1;
		if (m == 1 && st->own != STORE_REVOKED) {
			st->own = STORE_REVOKED;
			st->cause = cause;
			st->depth = 0;
			st->root = 0;
		}
	}
	return 0;
}

/* Another token has tok's hash already?  1, 0 or -1. */
static int
hash_taken(struct store_txn *t, const struct store_token *tok)
{
	uint64_t other, self;
	int rc;

	if (!tok->has_hash)
		return 0;
	if ((rc = store_lookup_hash(t, tok->hash, &other)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if ((rc = store_lookup(t, tok->iss, tok->jti, &self)) == -1)
		return -1;
	return rc != 0 || self != other;
}

/* Index tok's hash (free: hash_taken()); a revoked hash revokes it. */
static int
hash_add(struct store_txn *t, const struct store_token *tok, uint64_t id,
    struct st *st)
{
	MDB_val k = { STORE_HASH_LEN, (void *)(uintptr_t)tok->hash },
	    v = { sizeof(id), &id };

	if (!tok->has_hash)
		return 0;
	if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_HASH2ID], &k, &v,
	    MDB_NOOVERWRITE)) != 0)
		return -1;
	return store_hash_revoked_take(t, tok->hash, st);
}

/* Link id under each parent, marking parents as having children. */
static int
link_parents(struct store_txn *t, const uint64_t *parent, uint64_t id)
{
	size_t pk;
	MDB_val k = { sizeof(pk), &pk }, v = { sizeof(id), &id };
	struct st ps;
	int i, rc;

	for (i = 0; i < STORE_NPARENTS; i++) {
		if (parent[i] == 0)
			continue;
		pk = (size_t)parent[i];
		rc = mdb_put(t->txn, t->s->dbi[DB_KIDS], &k, &v, MDB_NODUPDATA);
		if (rc != 0 && rc != MDB_KEYEXIST)
			return store_rc(t, rc);
		if (store_st_read(t, parent[i], &ps) != 0)
			return -1;
		if (!(ps.flags & ST_KIDS)) {
			ps.flags |= ST_KIDS;
			if (store_st_write(t, parent[i], &ps) == -1)
				return -1;
		}
	}
	return 0;
}

int
store_put(struct store_txn *t, const struct store_put_args *a, uint64_t *id)
{
	static const char *const noactors[1] = { NULL };
	const struct store_token *tok = a->tok;
	struct st st;
	uint8_t before;
	int cyc;

	STORE_WRITER(t);
	if ((cyc = hash_taken(t, tok)) != 0)
		return cyc == 1 ? STORE_DUPHASH : -1;
	if (store_ref(t, tok->iss, tok->jti, id) != 0 || store_st_read(t, *id,
	    &st))
		return -1;
	if (st.flags & (ST_ISSUED | ST_SWEPT))
		return STORE_EXISTS;	/* a swept one too: issued before */
	before = st.eff;
	if (tok->own > st.own) {
		st.own = tok->own;
		st.rule = tok->rule;
	}
	if (store_rec_write(t, *id, tok, a->actors ? a->actors : noactors,
	    a->nactors) == -1 || hash_add(t, tok, *id, &st) == -1 ||
	    (tok->exp != 0 && store_exp_add(t, tok->exp, *id) == -1) ||
	    (tok->exp > tok->iat && store_life_note(t, tok->iss,
	    tok->exp - tok->iat) == -1) ||
	    store_jti_add(t, tok->jti, *id) == -1 ||
	    link_parents(t, tok->parent, *id) == -1 ||
	    index_token(t, a, *id, &st) == -1)
		return -1;
	st.flags |= ST_ISSUED;
	if (tok->parent[0] == *id || tok->parent[1] == *id ||
	    tok->parent[2] == *id)
		st.flags |= ST_KIDS;	/* link_parents() marked it, not st */
	if ((cyc = cycle_link(t, *id, tok->parent,
	    (st.flags & ST_KIDS) != 0)) == -1)
		return -1;
	if (cyc)
		st.flags |= ST_CYCLE;
	if (cyc && !a->cycle_allow && st.own < STORE_DENIED) {
		st.own = STORE_DENIED;
		st.rule = STORE_RULE_CYCLE;
	}
	if (compute_eff(t, &st, tok->parent) == -1 ||
	    store_st_write(t, *id, &st) == -1)
		return -1;
	if (st.eff == STORE_REVOKED && store_idvec_push(&t->revoked, *id) == -1)
		return -1;
	if (st.eff == STORE_REVOKED && before != STORE_REVOKED &&
	    store_cause_ref(t, st.cause, 1) == -1)
		return -1;
	if ((st.flags & ST_KIDS) && st.eff != before)
		return propagate(t, *id);
	return 0;
}

int
store_set_own(struct store_txn *t, uint64_t id, uint8_t own, uint8_t rule)
{
	struct st st;
	struct rec r;
	uint8_t before;

	STORE_WRITER(t);
	if (store_st_read(t, id, &st) != 0 || store_rec_read_head(t, id,
	    &r) != 0)
		return -1;
	if (st.own == STORE_REVOKED || !(st.flags & ST_ISSUED))
		return 0;
	if (own == STORE_REVOKED)
		return -1;	/* revocation goes through store_revoke() */
	before = st.eff;
	st.own = own;
	st.rule = rule;
	if (st.eff == STORE_REVOKED)	/* terminal: keep eff and cause */
		return store_st_write(t, id, &st);
	if (compute_eff(t, &st, r.parent) == -1 || store_st_write(t, id,
	    &st) == -1)
		return -1;
	if (st.eff == before)
		return 0;
	if (st.eff == STORE_REVOKED && (store_idvec_push(&t->revoked,
	    id) == -1 || store_cause_ref(t, st.cause, 1) == -1))
		return -1;
	return (st.flags & ST_KIDS) ? propagate(t, id) : 0;
}

/*
 * The ids of the tokens indexed under key k with from <= iat <= to, in
 * iat order, into ids.  Collected first: the cascade writes while a
 * cursor would read.  0 or -1.
 */
static int
idx_range(struct store_txn *t, MDB_val *k, int64_t from, int64_t to,
    struct idvec *ids)
{
	uint8_t e[16];
	MDB_val v = { sizeof(e), e };
	MDB_cursor *c;
	uint64_t id, n = 0;
	int64_t iat;
	int rc;

	store_idx_entry(e, from, 0);
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_IDX], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, k, &v, MDB_GET_BOTH_RANGE);
	while (rc == 0 && v.mv_size == sizeof(e)) {
		n++;
		idx_entry_read(v.mv_data, &iat, &id);
		if (iat > to)
			break;
		if (store_idvec_push(ids, id) == -1) {
			rc = -1;
			break;
		}
		rc = mdb_cursor_get(c, k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	store_work_add(t, WORK_RULE, n);
	if (rc == -1)
		return -1;
	rc = store_rc(t, rc);
	return rc == STORE_NOTFOUND || rc == 0 ? 0 : -1;
}

int
store_rule_add(struct store_txn *t, int idx, const char *iss,
    const char *value, int64_t time, uint32_t cause, uint64_t *nrevoked)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v;
	struct rule r = { time, cause, 0 }, old;
	struct idvec ids = { NULL, 0, 0 };
	int64_t from = INT64_MIN, life;
	uint64_t n;
	size_t i;
	int rc;

	STORE_WRITER(t);
	if (nrevoked != NULL)
		*nrevoked = 0;
	k.mv_size = store_key_make(kb, idx, iss, value);
	k.mv_data = kb;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_RULES], &k, &v));
	if (rc == -1 || (rc == 0 && v.mv_size != sizeof(old)))
		return -1;
	if (rc == 0) {
		memcpy(&old, v.mv_data, sizeof(old));
		if (old.time >= time)
			return 0;	/* it revoked all this one would */
		from = old.time + 1;
	}
	v.mv_size = sizeof(r);
	v.mv_data = &r;
	if ((from != INT64_MIN && store_cause_ref(t, old.cause, -1) == -1) ||
	    store_cause_ref(t, cause, 1) == -1)
		return -1;
	if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_RULES], &k, &v, 0)) != 0 ||
	    store_life_get(t, iss, &life) == -1 ||
	    store_due_rule(t, kb, k.mv_size, store_time_add(time, life)) == -1)
		return -1;
	if (idx_range(t, &k, from, time, &ids) == -1) {
		store_idvec_free(&ids);
		return -1;
	}
	for (i = 0, rc = 0; i < ids.n && rc == 0; i++) {
		rc = store_revoke(t, ids.v[i], cause, &n);
		if (nrevoked != NULL)
			*nrevoked += n;
	}
	store_idvec_free(&ids);
	return rc == 0 ? 0 : -1;
}
