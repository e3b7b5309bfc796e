/*
 * store cycle: does a token being issued close a cycle?  Answered with
 * levels, after Bender, Fineman, Gilbert and Tarjan ("A new approach to
 * incremental cycle detection and related problems", 2015, section 2).
 *
 * Every token has a level k (DB_LVL; none stored: 0) and every edge
 * p -> c (p a parent of c) has k(p) <= k(c), so levels never fall along
 * a path and a path from w to v only meets levels in [k(w), k(v)].  The
 * edges into a token all appear at once, when it is issued; a cycle can
 * close only then, and only if the token already has children.
 *
 * Adding edge v -> w (v a parent, w the token being issued):
 * - k(v) < k(w): no path from w to v; nothing to do.  A token without
 *   children just takes the highest level of its parents: O(1).
 * - else, with K = k(v), two searches in lockstep, by arcs looked at:
 *   backward from v over parents at level K (B), forward from w over
 *   children at level <= K (F).  Meeting is a cycle; F completing
 *   proves there is none; B completing proves none if k(w) == K.  B
 *   stops after delta arcs (about the square root of the edge count).
 * - then, if k(w) < K or B stopped, w is raised to K (to K + 1 if B
 *   stopped) and its descendants are raised until the order holds
 *   again; a raise that reaches a node of B is a cycle.
 * The edge is kept in every case (a cycle is marked, not refused), and
 * levels on a cycle end up equal.
 *
 * Cost: the searches look at O(delta) arcs per edge (F at most one page
 * of children more than B), and a raise looks at the children of each
 * raised token; levels stay below m / delta + 1, so over the life of a
 * store with m edges the total is O(m^(3/2)), and a token issued after
 * its parents (the usual order) costs O(1).
 */
#include <stdlib.h>
#include <string.h>

#include "store/graph/store_int.h"

#define DELTA_MIN	64
#define KIDS_STEP	64	/* children read at a time going forward */
#define RAISE_MAX	((size_t)1 << 26)

static int
lvl_get(struct store_txn *t, uint64_t id, uint32_t *k)
{
	size_t key = (size_t)id;
	MDB_val kv = { sizeof(key), &key }, v;
	int rc;

	*k = 0;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_LVL], &kv, &v));
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (v.mv_size != sizeof(*k))
		return -1;
	memcpy(k, v.mv_data, sizeof(*k));
	return 0;
}

static int
lvl_set(struct store_txn *t, uint64_t id, uint32_t k)
{
	size_t key = (size_t)id;
	MDB_val kv = { sizeof(key), &key }, v = { sizeof(k), &k };

	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_LVL], &kv, &v, 0));
}

/*
 * Up to max children of id greater than after, in id order, into out;
 * *n gets their count (0: no more).  0 or -1.
 */
static int
kids_after(struct store_txn *t, uint64_t id, uint64_t after, uint64_t *out,
    size_t max, size_t *n)
{
	size_t key = (size_t)id, from = (size_t)after + 1;
	MDB_val k = { sizeof(key), &key }, v = { sizeof(from), &from };
	MDB_cursor *c;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_KIDS], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
	while (rc == 0 && *n < max) {
		memcpy(&out[(*n)++], v.mv_data, sizeof(*out));
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	rc = store_rc(t, rc);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* The two searches of one edge v -> w. */
struct search {
	struct store_txn *t;
	uint64_t	 v, w;
	uint32_t	 K;
	struct idvec	 bq, fq;	/* queues */
	struct idset	 bs, fs;	/* seen */
	size_t		 bhead, fhead;
	uint64_t	 fafter;	/* last child read of fq.v[fhead] */
	size_t		 nb, nf;	/* arcs looked at */
	int		 met;
};

static int
see(struct idset *s, struct idvec *q, uint64_t id)
{
	int rc;

	if ((rc = store_idset_add(s, id)) != 1)
		return rc;
	return store_idvec_push(q, id);
}

/* Expand the next node of B: its parents at level K.  0 or -1. */
static int
step_back(struct search *s)
{
	uint64_t u = s->bq.v[s->bhead++];
	struct rec r;
	uint32_t k;
	int i, rc;

	if ((rc = store_rec_read_head(s->t, u, &r)) == STORE_NOTFOUND)
		return 0;	/* swept: no parents any more */
	if (rc != 0)
		return -1;
	for (i = 0; i < STORE_NPARENTS && !s->met; i++) {
		if (r.parent[i] == 0)
			continue;
		s->nb++;
		if (lvl_get(s->t, r.parent[i], &k) == -1)
			return -1;
		if (k != s->K)
			continue;
		if (store_idset_has(&s->fs, r.parent[i]))
			s->met = 1;
		else if (see(&s->bs, &s->bq, r.parent[i]) == -1)
			return -1;
	}
	return 0;
}

/* Read the next children of the node at the head of F.  0 or -1. */
static int
step_fwd(struct search *s)
{
	uint64_t kid[KIDS_STEP], x = s->fq.v[s->fhead];
	uint32_t k;
	size_t i, n;

	if (kids_after(s->t, x, s->fafter, kid, KIDS_STEP, &n) == -1)
		return -1;
	if (n < KIDS_STEP) {
		s->fhead++;
		s->fafter = 0;
	} else
		s->fafter = kid[n - 1];
	for (i = 0; i < n && !s->met; i++) {
		s->nf++;
		if (lvl_get(s->t, kid[i], &k) == -1)
			return -1;
		if (k > s->K)
			continue;
		if (store_idset_has(&s->bs, kid[i]))
			s->met = 1;
		else if (see(&s->fs, &s->fq, kid[i]) == -1)
			return -1;
	}
	return 0;
}

#define ENDED_MET	1
#define ENDED_F		2
#define ENDED_B		3
#define ENDED_DELTA	4

/* Run both searches until one decides; ENDED_* or -1. */
static int
search_run(struct search *s, size_t delta)
{
	int rc = 0;

	if (see(&s->bs, &s->bq, s->v) == -1 ||
	    see(&s->fs, &s->fq, s->w) == -1)
		return -1;
	while (rc == 0) {
		if (s->met)
			return ENDED_MET;
		if (s->fhead == s->fq.n)
			return ENDED_F;
		if (s->bhead == s->bq.n)
			return ENDED_B;
		if (s->nb >= delta)
			return ENDED_DELTA;
		rc = s->nb <= s->nf ? step_back(s) : step_fwd(s);
	}
	return -1;
}

struct raise {
	struct store_txn *t;
	const struct idset *b;		/* NULL: no detection */
	struct idvec	 stack;
	uint32_t	 k;		/* level of the node expanded */
	size_t		 arcs;
	int		 met;
};

static int
raise_kid(void *arg, uint64_t kid)
{
	struct raise *r = arg;
	uint32_t k;

	r->arcs++;
	if (r->b != NULL && store_idset_has(r->b, kid))
		r->met = 1;
	if (lvl_get(r->t, kid, &k) == -1)
		return -1;
	if (k >= r->k)
		return 0;
	if (lvl_set(r->t, kid, r->k) == -1 || store_idvec_push(&r->stack,
	    kid) == -1)
		return -1;
	return 0;
}

/*
 * Set w to level k and raise its descendants until every edge goes
 * up or level again.  *met: a raised token has a child in b.  0 or -1.
 */
static int
raise_from(struct store_txn *t, uint64_t w, uint32_t k,
    const struct idset *b, int *met, size_t *arcs)
{
	struct raise r = { t, b, { NULL, 0, 0 }, 0, 0, 0 };
	uint64_t x;
	int rc = 0;

	if (lvl_set(t, w, k) == -1 || store_idvec_push(&r.stack, w) == -1)
		rc = -1;
	while (rc == 0 && r.stack.n > 0) {
		if (r.arcs >= RAISE_MAX) {
			rc = -1;	/* never commit half a raise */
			break;
		}
		x = r.stack.v[--r.stack.n];
		if ((rc = lvl_get(t, x, &r.k)) == 0)
			rc = store_kids_each(t, x, raise_kid, &r) == 0 ? 0 : -1;
	}
	store_idvec_free(&r.stack);
	*met = r.met;
	*arcs += r.arcs;
	return rc;
}

static size_t
delta_now(struct store_txn *t)
{
	MDB_stat ms;
	size_t d = DELTA_MIN;

	if (mdb_stat(t->txn, t->s->dbi[DB_KIDS], &ms) != 0)
		return d;
	while (d * d < ms.ms_entries)
		d *= 2;
	return d;
}

/* Add edge v -> w where k(v) >= k(w); 1 if it closes a cycle, 0, -1. */
static int
edge_up(struct store_txn *t, uint64_t v, uint64_t w, uint32_t kv,
    uint32_t kw)
{
	struct search s;
	size_t arcs = 0;
	int ended, met = 0, rc = 0;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.v = v;
	s.w = w;
	s.K = kv;
	if ((ended = search_run(&s, delta_now(t))) == -1)
		rc = -1;
	else if (ended == ENDED_DELTA && kv == UINT32_MAX)
		rc = -1;
	else if (ended == ENDED_DELTA)
		rc = raise_from(t, w, kv + 1, &s.bs, &met, &arcs);
	else if (kw < kv)
		rc = raise_from(t, w, kv, ended == ENDED_B ? &s.bs : NULL,
		    &met, &arcs);
	store_work_add(t, WORK_CYCLE, s.nb + s.nf + arcs);
	store_idvec_free(&s.bq);
	store_idvec_free(&s.fq);
	store_idset_free(&s.bs);
	store_idset_free(&s.fs);
	if (rc == -1)
		return -1;
	return ended == ENDED_MET || met;
}

int
cycle_link(struct store_txn *t, uint64_t id, const uint64_t *parent,
    int has_kids)
{
	uint32_t kp, kw, top;
	int i, rc, cyc = 0;

	if (lvl_get(t, id, &kw) == -1)
		return -1;
	for (i = 0, top = kw; i < STORE_NPARENTS; i++) {
		if (parent[i] == 0)
			continue;
		if (parent[i] == id) {
			cyc = 1;
			continue;
		}
		if (lvl_get(t, parent[i], &kp) == -1)
			return -1;
		if (!has_kids) {
			top = kp > top ? kp : top;
			continue;
		}
		if (kp < kw)
			continue;
		if ((rc = edge_up(t, parent[i], id, kp, kw)) == -1)
			return -1;
		cyc |= rc;
		if (lvl_get(t, id, &kw) == -1)
			return -1;
	}
	if (!has_kids && top > kw && lvl_set(t, id, top) == -1)
		return -1;
	return cyc;
}
