/*
 * store_test: the delegation graph in LMDB, through store/graph/store.h only.
 *
 * Each test runs in its own process (Criterion) on a fresh LMDB in a
 * mkdtemp() directory removed afterwards.  Tokens are named by jti under
 * one issuer unless a test says otherwise; issue() takes parent jtis and
 * creates placeholders for the unknown ones, as the apply loop does.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <lmdb.h>

#include "store/graph/store.h"
#include "tests/unit/fixture.h"

#define ISS	"https://idp.example"
#define IAT	1000

static struct store	*S;
static char		 dir[64];

static void
setup(void)
{
	S = fixture_store("store_test", (size_t)4 << 30, dir);
}

static void
teardown(void)
{
	fixture_store_free(&S, dir);
	cr_assert_null(S);
}

/* One timeout for all: Criterion 2.4 leaks in its runner on mixed ones. */
TestSuite(store, .init = setup, .fini = teardown, .timeout = 120);

static struct store_txn *
begin(int rdonly)
{
	struct store_txn	*t;

	cr_assert_eq(store_begin(S, rdonly, &t), 0);
	cr_assert_not_null(t);
	return t;
}

static void
commit(struct store_txn **tp)
{
	cr_assert_eq(store_commit(tp), 0);
	cr_assert_null(*tp);
}

/* What a test says of a token to issue; NULL and 0 take defaults. */
struct spec {
	const char		*iss;
	const char		*jti;
	const char		*parent[STORE_NPARENTS];
	const char		*sub;
	const char		*client;
	int64_t			 iat;
	uint8_t			 own;
	const char *const	*actors;
	size_t			 nactors;
	const uint8_t		*hash;
};

static int
put_spec(struct store_txn *t, const struct spec *sp, uint64_t *id)
{
	static const char	 claims[] = "{\"scope\":\"files:read\"}";
	struct store_token	 tok;
	struct store_put_args	 a;
	int			 i;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = sp->iss ? sp->iss : ISS;
	tok.jti = sp->jti;
	for (i = 0; i < STORE_NPARENTS; i++)
		if (sp->parent[i] != NULL)
			cr_assert_eq(store_ref(t, tok.iss, sp->parent[i],
			    &tok.parent[i]), 0);
	tok.sub = sp->sub ? sp->sub : "user";
	tok.client_id = sp->client ? sp->client : "client";
	tok.iat = sp->iat ? sp->iat : IAT;
	tok.exp = tok.iat + 3600;
	tok.own = sp->own;
	if (sp->hash != NULL) {
		tok.has_hash = 1;
		memcpy(tok.hash, sp->hash, STORE_HASH_LEN);
	}
	tok.claims = claims;
	tok.claims_len = sizeof(claims) - 1;
	a.tok = &tok;
	a.actors = sp->actors;
	a.nactors = sp->nactors;
	return store_put(t, &a, id);
}

static uint64_t
put_ok(struct store_txn *t, const struct spec *sp)
{
	uint64_t	 id = 0;

	cr_assert_eq(put_spec(t, sp, &id), 0, "put %s", sp->jti);
	cr_assert_neq(id, 0);
	return id;
}

/* Issue jti with parents subject, actor, previous (jtis or NULL). */
static uint64_t
issue(struct store_txn *t, const char *jti, const char *subj,
    const char *actor, const char *prev)
{
	struct spec	 sp = { .jti = jti, .parent = { subj, actor, prev } };

	return put_ok(t, &sp);
}

static uint64_t
id_of(struct store_txn *t, const char *jti)
{
	uint64_t	 id;

	cr_assert_eq(store_lookup(t, ISS, jti, &id), 0, "lookup %s", jti);
	return id;
}

static struct store_token
get(struct store_txn *t, uint64_t id)
{
	struct store_token	 tok;

	cr_assert_eq(store_get(t, id, &tok), 0, "get %llu",
	    (unsigned long long)id);
	return tok;
}

static uint8_t
status(struct store_txn *t, const char *jti)
{
	return get(t, id_of(t, jti)).status;
}

static uint32_t
cause(struct store_txn *t, const char *event)
{
	struct store_cause	 c = { event, "test", ISS, "x", -1, IAT };
	uint32_t		 ref;

	cr_assert_eq(store_cause_add(t, &c, &ref), 0);
	return ref;
}

static uint64_t
revoke_jti(struct store_txn *t, const char *jti, uint32_t ref)
{
	uint64_t	 id, n = 99;

	cr_assert_eq(store_ref(t, ISS, jti, &id), 0);
	cr_assert_eq(store_revoke(t, id, ref, &n), 0);
	return n;
}

static int
cmp_id(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The cascade entries of the outbox: how many, and a sorted copy of the
 * ids of the last one in *ids (caller frees), its count in *n.
 */
static size_t
cascades(struct store_txn *t, uint64_t **ids, size_t *n)
{
	uint64_t	 seq = 0;
	uint8_t		 kind;
	const void	*data;
	size_t		 len, count = 0;

	*ids = NULL;
	*n = 0;
	while (store_outbox_next(t, seq, &seq, &kind, &data, &len) == 0) {
		if (kind != STORE_OUT_CASCADE)
			continue;
		cr_assert_eq(len % sizeof(uint64_t), 0);
		free(*ids);
		cr_assert_not_null(*ids = malloc(len + 1));
		memcpy(*ids, data, len);
		*n = len / sizeof(uint64_t);
		count++;
	}
	if (*ids != NULL)
		qsort(*ids, *n, sizeof(uint64_t), cmp_id);
	return count;
}

/* The last cascade entry holds exactly want[0..n) (any order). */
static void
assert_last_cascade(struct store_txn *t, size_t nentries, uint64_t *want,
    size_t n)
{
	uint64_t	*ids;
	size_t		 got, i;

	cr_assert_eq(cascades(t, &ids, &got), nentries);
	cr_assert_eq(got, n, "cascade of %zu ids, want %zu", got, n);
	qsort(want, n, sizeof(*want), cmp_id);
	for (i = 0; i < n; i++)
		cr_assert_eq(ids[i], want[i], "cascade id %zu", i);
	free(ids);
}

Test(store, cascade_all_edge_kinds)
{
	struct store_txn	*t = begin(0);
	uint64_t		 want[5];
	uint32_t		 c;

	want[0] = issue(t, "root", NULL, NULL, NULL);
	issue(t, "other", NULL, NULL, NULL);
	want[1] = issue(t, "by-subject", "root", NULL, NULL);
	want[2] = issue(t, "by-actor", "other", "root", NULL);
	want[3] = issue(t, "by-previous", NULL, NULL, "by-subject");
	want[4] = issue(t, "deep", "by-actor", NULL, "by-previous");
	issue(t, "bystander", "other", NULL, NULL);
	commit(&t);

	t = begin(0);
	c = cause(t, "e-1");
	cr_assert_eq(revoke_jti(t, "root", c), 5);
	commit(&t);

	t = begin(1);
	cr_assert_eq(status(t, "root"), STORE_REVOKED);
	cr_assert_eq(get(t, id_of(t, "root")).own, STORE_REVOKED);
	cr_assert_eq(status(t, "by-subject"), STORE_REVOKED);
	cr_assert_eq(status(t, "by-actor"), STORE_REVOKED);
	cr_assert_eq(status(t, "by-previous"), STORE_REVOKED);
	cr_assert_eq(status(t, "deep"), STORE_REVOKED);
	cr_assert_eq(get(t, id_of(t, "deep")).cause, c);
	cr_assert_eq(get(t, id_of(t, "deep")).own, STORE_ACTIVE);
	cr_assert_eq(status(t, "other"), STORE_ACTIVE);
	cr_assert_eq(status(t, "bystander"), STORE_ACTIVE);
	assert_last_cascade(t, 1, want, 5);
	store_abort(&t);
}

Test(store, cause_roundtrip)
{
	struct store_txn	*t = begin(0);
	struct store_cause	 in = { "e-9", "", ISS, "alice", STORE_IDX_SUB,
	    1234 }, out;
	uint32_t		 a, b;

	cr_assert_eq(store_cause_add(t, &in, &a), 0);
	in.event_id = "e-10";
	in.reason = NULL;
	cr_assert_eq(store_cause_add(t, &in, &b), 0);
	cr_assert_neq(a, b);
	revoke_jti(t, "x", a);	/* kept while referenced */
	revoke_jti(t, "y", b);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_cause_get(t, a, &out), 0);
	cr_assert_str_eq(out.event_id, "e-9");
	cr_assert_str_eq(out.reason, "");
	cr_assert_str_eq(out.iss, ISS);
	cr_assert_str_eq(out.target, "alice");
	cr_assert_eq(out.target_kind, STORE_IDX_SUB);
	cr_assert_eq(out.time, 1234);
	cr_assert_eq(store_cause_get(t, b, &out), 0);
	cr_assert_str_eq(out.event_id, "e-10");
	cr_assert_str_eq(out.reason, "");
	cr_assert_eq(store_cause_get(t, b + 1, &out), STORE_NOTFOUND);
	store_abort(&t);
}

/* d has two parents, both revoked: revoked once, listed once. */
Test(store, diamond)
{
	struct store_txn	*t = begin(0);
	uint64_t		 want[4], n;

	want[0] = issue(t, "a", NULL, NULL, NULL);
	want[1] = issue(t, "b", "a", NULL, NULL);
	want[2] = issue(t, "c", NULL, NULL, "a");
	want[3] = issue(t, "d", "b", "c", NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(revoke_jti(t, "a", cause(t, "e-1")), 4);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 1, want, 4);
	cr_assert_eq(status(t, "d"), STORE_REVOKED);
	store_abort(&t);

	/* Two revocations of both parents in one transaction. */
	t = begin(0);
	issue(t, "p", NULL, NULL, NULL);
	issue(t, "q", NULL, NULL, NULL);
	want[0] = id_of(t, "p");
	want[1] = id_of(t, "q");
	want[2] = issue(t, "pq", "p", "q", NULL);
	commit(&t);
	t = begin(0);
	n = revoke_jti(t, "p", cause(t, "e-2"));
	n += revoke_jti(t, "q", cause(t, "e-3"));
	cr_assert_eq(n, 3);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 2, want, 3);
	store_abort(&t);
}

/* A chain of n tokens, each the previous of the next; revoke its root. */
static void
chain(size_t n)
{
	struct store_txn	*t = begin(0);
	struct store_token	 tok;
	char			 jti[32], prev[32];
	uint64_t		*ids, last = 0;
	size_t			 i;

	cr_assert_not_null(ids = calloc(n, sizeof(*ids)));
	for (i = 0; i < n; i++) {
		snprintf(jti, sizeof(jti), "c-%zu", i);
		ids[i] = issue(t, jti, NULL, NULL, i ? prev : NULL);
		memcpy(prev, jti, sizeof(prev));
	}
	commit(&t);
	t = begin(0);
	cr_assert_eq(revoke_jti(t, "c-0", cause(t, "e-1")), n);
	commit(&t);
	t = begin(1);
	last = id_of(t, prev);
	tok = get(t, last);
	cr_assert_eq(tok.status, STORE_REVOKED);
	cr_assert_eq(tok.nchildren, 0);
	cr_assert_eq(get(t, ids[n / 2]).status, STORE_REVOKED);
	cr_assert_eq(get(t, ids[n / 2]).nchildren, 1);
	assert_last_cascade(t, 1, ids, n);
	store_abort(&t);
	free(ids);
}

Test(store, chain_1000)
{
	chain(1000);
}

Test(store, chain_100000)
{
	chain(100000);
}

/* A tree of n tokens with fan-out k, node i the child of (i - 1) / k. */
static uint64_t *
tree(size_t n, size_t k)
{
	struct store_txn	*t = begin(0);
	char			 jti[32], parent[32];
	uint64_t		*ids;
	size_t			 i;

	cr_assert_not_null(ids = calloc(n, sizeof(*ids)));
	for (i = 0; i < n; i++) {
		snprintf(jti, sizeof(jti), "n-%zu", i);
		if (i > 0)
			snprintf(parent, sizeof(parent), "n-%zu", (i - 1) / k);
		ids[i] = issue(t, jti, i ? parent : NULL, NULL, NULL);
	}
	commit(&t);
	return ids;
}

Test(store, tree_100000_one_transaction)
{
	struct store_txn	*t;
	struct store_stats	 ss;
	uint64_t		*ids = tree(100000, 8);

	t = begin(0);
	cr_assert_eq(revoke_jti(t, "n-0", cause(t, "e-1")), 100000);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 1, ids, 100000);
	cr_assert_eq(store_stats(t, &ss), 0);
	cr_assert_eq(ss.tokens, 100000);
	cr_assert_eq(ss.by_status[STORE_REVOKED], 100000);
	cr_assert_eq(ss.edges, 99999);
	store_abort(&t);
	free(ids);
}

static uint64_t	 seed = 88172645463325252ULL;

static uint64_t
rnd(uint64_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed % n;
}

/* Shuffle perm[0..n) (Fisher-Yates, rnd()). */
static void
shuffle(int *perm, size_t n)
{
	size_t	i, j;
	int	x;

	for (i = n; i > 1; i--) {
		j = rnd(i);
		x = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = x;
	}
}

/* Issue pre-x with parents pre-par[p] (par[p] < 0: none); its id. */
static uint64_t
put_numbered(struct store_txn *t, const char *pre, int x,
    const int par[STORE_NPARENTS])
{
	char		 jti[32], pj[STORE_NPARENTS][32];
	struct spec	 sp = { .jti = jti };
	int		 p;

	snprintf(jti, sizeof(jti), "%s-%d", pre, x);
	for (p = 0; p < STORE_NPARENTS; p++) {
		if (par[p] < 0)
			continue;
		snprintf(pj[p], sizeof(pj[p]), "%s-%d", pre, par[p]);
		sp.parent[p] = pj[p];
	}
	return put_ok(t, &sp);
}

/*
 * The reference closure: mark in seen[] every token with a parent
 * marked, sweeping until nothing changes; queue[] grows from tail.
 */
static void
ref_sweep(size_t n, int (*par)[STORE_NPARENTS], int *seen, int *queue,
    size_t tail)
{
	size_t	head, i;
	int	p;

	for (head = 0; head < tail; head = tail) {
		for (i = 0; i < n; i++)
			for (p = 0; p < STORE_NPARENTS && !seen[i]; p++)
				if (par[i][p] >= 0 && seen[par[i][p]]) {
					seen[i] = 1;
					queue[tail++] = (int)i;
				}
	}
}

/*
 * A random DAG of n tokens, each with up to three parents among the
 * tokens before it (one if !multi: a random tree), issued in a random
 * order (so children often come before their parents, and ids are
 * scattered over the graph); then k random tokens (k 0: the first, the
 * root) revoked in one transaction.  Checked against a reference walk:
 * every descendant revoked, each listed once.
 */
static void
random_dag(size_t n, size_t k, int multi)
{
	struct store_txn	*t = begin(0);
	int			(*par)[STORE_NPARENTS], *perm, *seen, *queue;
	char			 jti[32];
	uint64_t		*id, *want, got = 0, nr;
	size_t			 i, tail = 0, nwant = 0;
	int			 p, x;

	cr_assert_not_null(par = calloc(n, sizeof(*par)));
	cr_assert_not_null(perm = calloc(n, sizeof(*perm)));
	cr_assert_not_null(seen = calloc(n, sizeof(*seen)));
	cr_assert_not_null(queue = calloc(n, sizeof(*queue)));
	cr_assert_not_null(id = calloc(n, sizeof(*id)));
	cr_assert_not_null(want = calloc(n, sizeof(*want)));
	for (i = 0; i < n; i++) {
		perm[i] = (int)i;
		for (p = 0; p < STORE_NPARENTS; p++)
			par[i][p] = i > 0 && (p == 0 || (multi &&
			    rnd(3) == 0)) ? (int)rnd(i) : -1;
	}
	shuffle(perm, n);
	for (i = 0; i < n; i++)
		id[perm[i]] = put_numbered(t, "d", perm[i], par[perm[i]]);
	commit(&t);

	/* Reference: targets first, then sweeps until nothing changes. */
	t = begin(0);
	for (i = 0; i < (k ? k : 1); i++) {
		x = k ? (int)rnd(n) : 0;
		snprintf(jti, sizeof(jti), "d-%d", x);
		got += revoke_jti(t, jti, cause(t, "e"));
		if (!seen[x])
			queue[tail++] = x;
		seen[x] = 1;
	}
	commit(&t);
	ref_sweep(n, par, seen, queue, tail);
	for (i = 0; i < n; i++)
		if (seen[i])
			want[nwant++] = id[i];
	cr_assert_eq(got, nwant, "revoked %llu, reference %zu",
	    (unsigned long long)got, nwant);
	t = begin(1);
	for (i = 0; i < n; i++)
		cr_assert_eq(get(t, id[i]).status, seen[i] ? STORE_REVOKED :
		    STORE_ACTIVE, "d-%zu", i);
	assert_last_cascade(t, 1, want, nwant);
	cr_assert_eq(store_outbox_count(t, &nr), 0);
	store_abort(&t);
	free(par);
	free(perm);
	free(seen);
	free(queue);
	free(id);
	free(want);
}

Test(store, random_dag_small)
{
	random_dag(300, 3, 1);
}

Test(store, random_dag_large)
{
	random_dag(60000, 5, 1);
}

/* A tree of 50,000 issued in a random order, revoked from its root. */
Test(store, tree_shuffled_ids)
{
	random_dag(50000, 0, 0);
}

/*
 * Random own statuses set and reset on a random DAG issued in a random
 * order: after each transaction every effective status is the most
 * severe of its own and its parents' (parents have lower indexes, so
 * the reference computes them in index order).
 */
Test(store, random_own_statuses)
{
	enum { N = 3000 };
	static int		 par[N][STORE_NPARENTS], perm[N];
	static uint8_t		 own[N], eff[N];
	static uint64_t		 id[N];
	struct store_txn	*t = begin(0);
	char			 jti[32], pj[STORE_NPARENTS][32];
	size_t			 i, j, round;
	int			 p, x;

	for (i = 0; i < N; i++) {
		perm[i] = (int)i;
		for (p = 0; p < STORE_NPARENTS; p++)
			par[i][p] = i > 0 && (p == 0 || rnd(3) == 0) ?
			    (int)rnd(i) : -1;
	}
	for (i = N; i > 1; i--) {
		j = rnd(i);
		x = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < N; i++) {
		struct spec	 sp = { .jti = jti };

		x = perm[i];
		snprintf(jti, sizeof(jti), "o-%d", x);
		for (p = 0; p < STORE_NPARENTS; p++)
			if (par[x][p] >= 0) {
				snprintf(pj[p], sizeof(pj[p]), "o-%d",
				    par[x][p]);
				sp.parent[p] = pj[p];
			}
		id[x] = put_ok(t, &sp);
	}
	commit(&t);
	for (round = 0; round < 30; round++) {
		t = begin(0);
		for (i = 0; i < 20; i++) {
			x = (int)rnd(N);
			own[x] = (uint8_t)rnd(3);	/* ACTIVE..DENIED */
			cr_assert_eq(store_set_own(t, id[x], own[x], 1), 0);
		}
		commit(&t);
		t = begin(1);
		for (i = 0; i < N; i++) {
			eff[i] = own[i];
			for (p = 0; p < STORE_NPARENTS; p++)
				if (par[i][p] >= 0 && eff[par[i][p]] > eff[i])
					eff[i] = eff[par[i][p]];
			cr_assert_eq(get(t, id[i]).status, eff[i],
			    "o-%zu round %zu", i, round);
		}
		store_abort(&t);
	}
}

/* Many children of one parent: more than one page of duplicates. */
static int
collect(void *arg, uint64_t id)
{
	uint64_t	*v = arg;

	v[++v[0]] = id;
	return 0;
}

static int
stop_at_3(void *arg, uint64_t id)
{
	uint64_t	*v = arg;

	(void)id;
	return ++v[0] == 3 ? 7 : 0;
}

Test(store, wide_fanout_children_in_order)
{
	struct store_txn	*t;
	uint64_t		*ids = tree(5001, 5000), got[5002], n;
	size_t			 i;

	t = begin(1);
	got[0] = 0;
	cr_assert_eq(store_children(t, ids[0], collect, got), 0);
	cr_assert_eq(got[0], 5000);
	for (i = 1; i <= 5000; i++)
		cr_assert_eq(got[i], ids[i]);
	got[0] = 0;
	cr_assert_eq(store_children(t, ids[0], stop_at_3, got), 7);
	got[0] = 0;
	cr_assert_eq(store_children(t, ids[7], collect, got), 0);
	cr_assert_eq(got[0], 0);
	cr_assert_eq(get(t, ids[0]).nchildren, 5000);
	store_abort(&t);
	t = begin(0);
	n = revoke_jti(t, "n-0", cause(t, "e-1"));
	cr_assert_eq(n, 5001);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 1, ids, 5001);
	store_abort(&t);
	free(ids);
}

/* A revocation of an unknown jti is remembered: born revoked later. */
Test(store, tombstone_then_issue)
{
	struct store_txn	*t = begin(0);
	struct store_token	 tok;
	uint64_t		 id, kid, grand, n;
	uint32_t		 c;

	c = cause(t, "e-1");
	cr_assert_eq(revoke_jti(t, "late", c), 1);
	commit(&t);
	t = begin(1);
	cr_assert_eq(cascades(t, &(uint64_t *){ NULL }, &(size_t){ 0 }), 0);
	tok = get(t, id_of(t, "late"));
	cr_assert_eq(tok.issued, 0);
	cr_assert_eq(tok.status, STORE_REVOKED);
	store_abort(&t);

	t = begin(0);
	id = issue(t, "late", NULL, NULL, NULL);
	commit(&t);
	t = begin(1);
	tok = get(t, id);
	cr_assert_eq(tok.issued, 1);
	cr_assert_eq(tok.status, STORE_REVOKED);
	cr_assert_eq(tok.own, STORE_REVOKED);
	cr_assert_eq(tok.cause, c);
	assert_last_cascade(t, 1, &id, 1);
	store_abort(&t);

	t = begin(0);
	kid = issue(t, "late-kid", "late", NULL, NULL);
	commit(&t);
	t = begin(0);
	grand = issue(t, "late-grandkid", NULL, "late-kid", NULL);
	revoke_jti(t, "late-kid", cause(t, "e-2"));	/* already revoked */
	commit(&t);
	t = begin(1);
	cr_assert_eq(get(t, kid).status, STORE_REVOKED);
	cr_assert_eq(get(t, kid).cause, c);
	cr_assert_eq(get(t, grand).status, STORE_REVOKED);
	assert_last_cascade(t, 3, &grand, 1);
	store_abort(&t);

	t = begin(0);
	cr_assert_eq(store_revoke(t, kid, c, &n), 0);
	cr_assert_eq(n, 0);
	store_abort(&t);
}

/* A placeholder with children revoked: they are, it is not listed. */
Test(store, tombstone_with_children)
{
	struct store_txn	*t = begin(0);
	struct spec		 kid = { .jti = "kid", .parent = { "ph" },
	    .own = STORE_PENDING };
	uint64_t		 want[2], ph;

	want[0] = put_ok(t, &kid);
	want[1] = issue(t, "grand", NULL, "kid", NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(revoke_jti(t, "ph", cause(t, "e-1")), 3);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 1, want, 2);
	cr_assert_eq(status(t, "grand"), STORE_REVOKED);
	store_abort(&t);
	t = begin(0);
	ph = issue(t, "ph", NULL, NULL, NULL);
	cr_assert_eq(store_set_own(t, want[0], STORE_ACTIVE, 0), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(get(t, ph).status, STORE_REVOKED);
	cr_assert_eq(status(t, "kid"), STORE_REVOKED);
	assert_last_cascade(t, 2, &ph, 1);
	store_abort(&t);
}

Test(store, child_of_revoked_parent_born_revoked)
{
	struct store_txn	*t = begin(0);
	uint64_t		 kid;
	uint32_t		 c;

	issue(t, "p", NULL, NULL, NULL);
	c = cause(t, "e-1");
	cr_assert_eq(revoke_jti(t, "p", c), 1);
	commit(&t);
	t = begin(0);
	kid = issue(t, "kid", NULL, NULL, "p");
	cr_assert_eq(get(t, kid).status, STORE_REVOKED);
	cr_assert_eq(get(t, kid).own, STORE_ACTIVE);
	cr_assert_eq(get(t, kid).cause, c);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 2, &kid, 1);
	store_abort(&t);
}

/* The child arrives first, PENDING on a placeholder parent. */
Test(store, pending_child_first)
{
	struct store_txn	*t = begin(0);
	struct spec		 kid = { .jti = "kid", .parent = { "par" },
	    .own = STORE_PENDING };
	struct store_token	 tok;

	put_ok(t, &kid);
	issue(t, "grand", "kid", NULL, NULL);
	cr_assert_eq(status(t, "kid"), STORE_PENDING);
	cr_assert_eq(status(t, "grand"), STORE_PENDING);
	tok = get(t, id_of(t, "par"));
	cr_assert_eq(tok.issued, 0);
	cr_assert_eq(tok.nchildren, 1);
	commit(&t);

	t = begin(0);
	issue(t, "par", NULL, NULL, NULL);
	cr_assert_eq(status(t, "par"), STORE_ACTIVE);
	cr_assert_eq(status(t, "kid"), STORE_PENDING);
	cr_assert_eq(store_set_own(t, id_of(t, "kid"), STORE_ACTIVE, 0), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(status(t, "kid"), STORE_ACTIVE);
	cr_assert_eq(get(t, id_of(t, "kid")).own, STORE_ACTIVE);
	cr_assert_eq(status(t, "grand"), STORE_ACTIVE);
	store_abort(&t);
}

Test(store, pending_parent_first)
{
	struct store_txn	*t = begin(0);

	issue(t, "par", NULL, NULL, NULL);
	commit(&t);
	t = begin(0);
	issue(t, "kid", NULL, "par", NULL);
	issue(t, "grand", NULL, NULL, "kid");
	commit(&t);
	t = begin(1);
	cr_assert_eq(status(t, "kid"), STORE_ACTIVE);
	cr_assert_eq(status(t, "grand"), STORE_ACTIVE);
	store_abort(&t);
}

/* The parent arrives and the re-check denies the pending child. */
Test(store, pending_then_denied)
{
	struct store_txn	*t = begin(0);
	struct spec		 kid = { .jti = "kid", .parent = { "par" },
	    .own = STORE_PENDING };

	put_ok(t, &kid);
	issue(t, "grand", "kid", NULL, NULL);
	issue(t, "par", NULL, NULL, NULL);
	cr_assert_eq(store_set_own(t, id_of(t, "kid"), STORE_DENIED, 7), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(status(t, "kid"), STORE_DENIED);
	cr_assert_eq(get(t, id_of(t, "kid")).rule, 7);
	cr_assert_eq(status(t, "grand"), STORE_DENIED);
	cr_assert_eq(status(t, "par"), STORE_ACTIVE);
	store_abort(&t);
}

Test(store, denied_propagation_and_recovery)
{
	struct store_txn	*t = begin(0);
	uint64_t		 p, c, g, n;

	p = issue(t, "p", NULL, NULL, NULL);
	c = issue(t, "c", "p", NULL, NULL);
	g = issue(t, "g", NULL, "c", NULL);
	cr_assert_eq(store_set_own(t, p, STORE_DENIED, 3), 0);
	cr_assert_eq(get(t, c).status, STORE_DENIED);
	cr_assert_eq(get(t, g).status, STORE_DENIED);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_set_own(t, p, STORE_ACTIVE, 0), 0);
	cr_assert_eq(get(t, p).status, STORE_ACTIVE);
	cr_assert_eq(get(t, c).status, STORE_ACTIVE);
	cr_assert_eq(get(t, g).status, STORE_ACTIVE);
	cr_assert_eq(store_set_own(t, c, STORE_REVOKED, 0), -1);

	/* REVOKED is never lowered, own or inherited. */
	cr_assert_eq(revoke_jti(t, "c", cause(t, "e-1")), 2);
	cr_assert_eq(store_set_own(t, c, STORE_ACTIVE, 0), 0);
	cr_assert_eq(store_set_own(t, g, STORE_ACTIVE, 0), 0);
	cr_assert_eq(store_set_own(t, p, STORE_DENIED, 3), 0);
	cr_assert_eq(store_set_own(t, p, STORE_ACTIVE, 0), 0);
	cr_assert_eq(get(t, c).status, STORE_REVOKED);
	cr_assert_eq(get(t, c).own, STORE_REVOKED);
	cr_assert_eq(get(t, g).status, STORE_REVOKED);
	cr_assert_eq(get(t, p).status, STORE_ACTIVE);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_revoke(t, g, 1, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(get(t, g).own, STORE_REVOKED);
	store_abort(&t);
}

/*
 * A revoked token's cause is terminal: a later re-check of a token
 * revoked through one parent does not move it to another parent's cause.
 */
Test(store, revoked_cause_is_terminal)
{
	struct store_txn	*t = begin(0);
	uint64_t		 x;
	uint32_t		 c1, c2;

	issue(t, "p1", NULL, NULL, NULL);
	issue(t, "p2", NULL, NULL, NULL);
	x = issue(t, "x", "p1", "p2", NULL);
	commit(&t);
	t = begin(0);
	c2 = cause(t, "e-2");
	revoke_jti(t, "p2", c2);
	commit(&t);
	t = begin(0);
	c1 = cause(t, "e-1");
	revoke_jti(t, "p1", c1);
	cr_assert_eq(get(t, x).cause, c2);
	cr_assert_eq(store_set_own(t, x, STORE_DENIED, 4), 0);
	cr_assert_eq(get(t, x).status, STORE_REVOKED);
	cr_assert_eq(get(t, x).cause, c2);
	commit(&t);
	t = begin(1);
	cr_assert_eq(get(t, x).cause, c2);
	store_abort(&t);
}

Test(store, denied_wins_over_pending)
{
	struct store_txn	*t = begin(0);
	struct spec		 kid = { .jti = "kid", .parent = { "d" },
	    .own = STORE_PENDING };
	uint64_t		 d;

	d = issue(t, "d", NULL, NULL, NULL);
	cr_assert_eq(store_set_own(t, d, STORE_DENIED, 1), 0);
	put_ok(t, &kid);
	cr_assert_eq(status(t, "kid"), STORE_DENIED);
	cr_assert_eq(get(t, id_of(t, "kid")).own, STORE_PENDING);
	cr_assert_eq(store_set_own(t, d, STORE_ACTIVE, 0), 0);
	cr_assert_eq(status(t, "kid"), STORE_PENDING);
	store_abort(&t);
}

Test(store, cycle_of_two)
{
	struct store_txn	*t = begin(0);
	struct store_token	 b;

	issue(t, "a", "b", NULL, NULL);
	commit(&t);
	t = begin(0);
	issue(t, "b", NULL, NULL, "a");
	commit(&t);
	t = begin(1);
	b = get(t, id_of(t, "b"));
	cr_assert_eq(b.own, STORE_DENIED);
	cr_assert_eq(b.rule, STORE_RULE_CYCLE);
	cr_assert_eq(b.status, STORE_DENIED);
	cr_assert_eq(status(t, "a"), STORE_DENIED);
	cr_assert_eq(get(t, id_of(t, "a")).own, STORE_ACTIVE);
	store_abort(&t);

	/* The cycle stays denied; a revocation still cascades, once. */
	t = begin(0);
	cr_assert_eq(revoke_jti(t, "a", cause(t, "e-1")), 2);
	cr_assert_eq(status(t, "b"), STORE_REVOKED);
	store_abort(&t);
}

Test(store, cycle_of_three_with_tail)
{
	struct store_txn	*t = begin(0);
	struct store_token	 c;

	issue(t, "a", "c", NULL, NULL);
	issue(t, "b", NULL, "a", NULL);
	issue(t, "tail", "b", NULL, NULL);
	issue(t, "other", NULL, NULL, NULL);
	issue(t, "c", "other", NULL, "b");
	c = get(t, id_of(t, "c"));
	cr_assert_eq(c.own, STORE_DENIED);
	cr_assert_eq(c.rule, STORE_RULE_CYCLE);
	cr_assert_eq(status(t, "a"), STORE_DENIED);
	cr_assert_eq(status(t, "b"), STORE_DENIED);
	cr_assert_eq(status(t, "tail"), STORE_DENIED);
	cr_assert_eq(status(t, "other"), STORE_ACTIVE);
	commit(&t);
}

/* A token naming itself as its parent is the smallest cycle. */
Test(store, cycle_self_parent)
{
	struct store_txn	*t = begin(0);
	struct store_token	 s;
	uint64_t		 n;

	issue(t, "self", "self", NULL, NULL);
	s = get(t, id_of(t, "self"));
	cr_assert_eq(s.nchildren, 1);
	cr_assert_eq(s.own, STORE_DENIED);
	cr_assert_eq(s.rule, STORE_RULE_CYCLE);
	cr_assert_eq(s.status, STORE_DENIED);
	cr_assert_eq(store_revoke(t, s.id, 1, &n), 0);
	cr_assert_eq(n, 1);
	store_abort(&t);
}

/* No cycle: a diamond below a late parent must not be taken for one. */
Test(store, no_false_cycle)
{
	struct store_txn	*t = begin(0);

	issue(t, "x", "top", NULL, NULL);
	issue(t, "y", "top", NULL, NULL);
	issue(t, "z", "x", "y", NULL);
	issue(t, "top", NULL, NULL, NULL);
	cr_assert_eq(get(t, id_of(t, "top")).own, STORE_ACTIVE);
	cr_assert_eq(status(t, "z"), STORE_ACTIVE);
	commit(&t);
}

/* A cycle of 1,000 closed by its last token: all of it denied. */
Test(store, cycle_long)
{
	struct store_txn	*t = begin(0);
	char			 jti[32], prev[32];
	int			 i;

	issue(t, "l-0", NULL, NULL, "l-999");
	for (i = 1; i < 1000; i++) {
		snprintf(jti, sizeof(jti), "l-%d", i);
		snprintf(prev, sizeof(prev), "l-%d", i - 1);
		issue(t, jti, NULL, NULL, prev);
		cr_assert_eq(get(t, id_of(t, jti)).rule, i == 999 ?
		    STORE_RULE_CYCLE : 0, "%s", jti);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(jti, sizeof(jti), "l-%d", i);
		cr_assert_eq(status(t, jti), STORE_DENIED, "%s", jti);
	}
	commit(&t);
}

/*
 * Chains arriving children first, or in swapped pairs: each issue
 * checks for a cycle, and that check must not walk the whole chain
 * every time (quadratic: many minutes for these, over the timeout).
 */
static void
chain_order(size_t n, int swapped)
{
	struct store_txn	*t = begin(0);
	char			 jti[32], prev[32];
	size_t			 i, j;

	for (j = 0; j < n; j++) {
		i = swapped ? (j ^ 1) : n - 1 - j;
		if (i >= n)
			i = j;
		snprintf(jti, sizeof(jti), "c-%zu", i);
		snprintf(prev, sizeof(prev), "c-%zu", i - 1);
		issue(t, jti, NULL, NULL, i > 0 ? prev : NULL);
	}
	commit(&t);
	t = begin(0);
	cr_assert_eq(status(t, "c-0"), STORE_ACTIVE);
	snprintf(jti, sizeof(jti), "c-%zu", n - 1);
	cr_assert_eq(status(t, jti), STORE_ACTIVE);
	cr_assert_eq(revoke_jti(t, "c-0", cause(t, "e-1")), n);
	cr_assert_eq(status(t, jti), STORE_REVOKED);
	commit(&t);
}

Test(store, chain_children_first)
{
	chain_order(100000, 0);
}

Test(store, chain_swapped_pairs)
{
	chain_order(100001, 1);
}

/*
 * Random graphs with cycles, issued in a random order: a token is
 * marked as closing a cycle exactly when, at its issue, one of its
 * parents is among its descendants (a reference walk over the edges
 * issued so far), and the denied statuses are what follows from it.
 */
static int
ref_reaches(int (*par)[STORE_NPARENTS], const int *issued, size_t n,
    int from, int to, int *mark, int *queue)
{
	size_t	 head = 0, tail = 0, y;
	int	 x, p;

	memset(mark, 0, n * sizeof(*mark));
	queue[tail++] = from;
	mark[from] = 1;
	while (head < tail) {
		x = queue[head++];
		if (x == to)
			return 1;
		for (y = 0; y < n; y++)
			for (p = 0; issued[y] && !mark[y] &&
			    p < STORE_NPARENTS; p++)
				if (par[y][p] == x) {
					mark[y] = 1;
					queue[tail++] = (int)y;
				}
	}
	return 0;
}

Test(store, random_cycles)
{
	struct store_txn	*t = begin(0);
	enum { N = 400 };
	int			 par[N][STORE_NPARENTS], issued[N], cyc[N];
	int			 perm[N], mark[N], queue[N], den[N];
	char			 jti[32], pj[STORE_NPARENTS][32];
	size_t			 i, j, x;
	int			 p, want, more;

	for (i = 0; i < N; i++) {
		perm[i] = (int)i;
		issued[i] = den[i] = 0;
		for (p = 0; p < STORE_NPARENTS; p++)
			par[i][p] = p == 0 || rnd(4) == 0 ? (int)rnd(N) : -1;
	}
	for (i = N; i > 1; i--) {
		j = rnd(i);
		p = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = p;
	}
	for (i = 0; i < N; i++) {
		struct spec	 sp = { .jti = jti };

		x = (size_t)perm[i];
		snprintf(jti, sizeof(jti), "r-%zu", x);
		for (p = 0; p < STORE_NPARENTS; p++) {
			if (par[x][p] < 0)
				continue;
			snprintf(pj[p], sizeof(pj[p]), "r-%d", par[x][p]);
			sp.parent[p] = pj[p];
		}
		issued[x] = 1;
		for (p = 0, want = 0; p < STORE_NPARENTS && !want; p++)
			want = par[x][p] >= 0 && ref_reaches(par, issued, N,
			    (int)x, par[x][p], mark, queue);
		cyc[x] = want;
		cr_assert_eq(get(t, put_ok(t, &sp)).rule, want ?
		    STORE_RULE_CYCLE : 0, "r-%zu at step %zu", x, i);
	}
	/* Denied: the tokens that closed a cycle and their descendants. */
	for (i = 0; i < N; i++)
		den[i] = cyc[i];
	for (more = 1; more;)
		for (i = 0, more = 0; i < N; i++)
			for (p = 0; !den[i] && p < STORE_NPARENTS; p++)
				if (par[i][p] >= 0 && den[par[i][p]])
					den[i] = more = 1;
	for (i = 0; i < N; i++) {
		snprintf(jti, sizeof(jti), "r-%zu", i);
		cr_assert_eq(status(t, jti), den[i] ? STORE_DENIED :
		    STORE_ACTIVE, "%s", jti);
	}
	commit(&t);
}

/* Children lists of the reference graph, for a linear reference walk. */
struct refg {
	int	*kid;		/* kid[x * KMAX + i] */
	int	*nkid;
	int	*mark;
	int	*queue;
	int	 stamp;
};
#define KMAX	64

static int
refg_reaches(struct refg *g, int from, int to)
{
	size_t	 head = 0, tail = 0;
	int	 x, i, y;

	g->stamp++;
	g->queue[tail++] = from;
	g->mark[from] = g->stamp;
	while (head < tail) {
		if ((x = g->queue[head++]) == to)
			return 1;
		for (i = 0; i < g->nkid[x]; i++)
			if (g->mark[y = g->kid[x * KMAX + i]] != g->stamp) {
				g->mark[y] = g->stamp;
				g->queue[tail++] = y;
			}
	}
	return 0;
}

/*
 * One random graph of n tokens whose parents are mostly near them (long
 * paths, on which the level searches run out of budget and raise), some
 * anywhere (cycles), issued in a random order or backwards; each token's
 * cycle mark is checked against the reference at its issue.
 */
static void
random_cycles_long(int n, int reach, int backwards)
{
	struct store_txn	*t = begin(0);
	struct refg		 g;
	int			(*par)[STORE_NPARENTS], *perm, x, i, p, y;
	int			 want, ncyc = 0;

	par = calloc((size_t)n, sizeof(*par));
	perm = calloc((size_t)n, sizeof(*perm));
	g.kid = calloc((size_t)n * KMAX, sizeof(int));
	g.nkid = calloc((size_t)n, sizeof(int));
	g.mark = calloc((size_t)n, sizeof(int));
	g.queue = calloc((size_t)n, sizeof(int));
	g.stamp = 0;
	cr_assert(par && perm && g.kid && g.nkid && g.mark && g.queue);
	for (x = 0; x < n; x++) {
		perm[x] = backwards ? n - 1 - x : x;
		for (p = 0; p < STORE_NPARENTS; p++) {
			par[x][p] = -1;
			if (p > 0 && rnd(3) != 0)
				continue;
			y = rnd(50) == 0 ? (int)rnd((uint64_t)n) :
			    x - 1 - (int)rnd((uint64_t)reach);
			if (y >= 0 && g.nkid[y] < KMAX)
				par[x][p] = y;
			if (y >= 0 && g.nkid[y] < KMAX)
				g.nkid[y]++;
		}
	}
	memset(g.nkid, 0, (size_t)n * sizeof(int));
	if (!backwards)
		shuffle(perm, (size_t)n);
	for (i = 0; i < n; i++) {
		x = perm[i];
		for (p = 0, want = 0; p < STORE_NPARENTS && !want; p++)
			want = par[x][p] >= 0 && refg_reaches(&g, x,
			    par[x][p]);
		for (p = 0; p < STORE_NPARENTS; p++)
			if ((y = par[x][p]) >= 0)
				g.kid[y * KMAX + g.nkid[y]++] = x;
		ncyc += want;
		cr_assert_eq(get(t, put_numbered(t, "l", x, par[x])).cycle,
		    want,
		    "l-%d at step %d", x, i);
	}
	cr_assert_gt(ncyc, 0);
	store_abort(&t);
	free(par);
	free(perm);
	free(g.kid);
	free(g.nkid);
	free(g.mark);
	free(g.queue);
}

Test(store, random_cycles_long_paths)
{
	int	 round;

	for (round = 0; round < 6; round++) {
		random_cycles_long(3000, 1 + round * 3, 0);
		random_cycles_long(3000, 1 + round, 1);
	}
}

static uint64_t
put_attr(struct store_txn *t, const char *jti, const char *sub,
    const char *client, int64_t iat)
{
	struct spec	 sp = { .jti = jti, .sub = sub, .client = client,
	    .iat = iat };

	return put_ok(t, &sp);
}

/* The work counters of the store, read in a transaction of their own. */
static struct store_stats
stats_now(void)
{
	struct store_txn	*t = begin(1);
	struct store_stats	 ss;

	cr_assert_eq(store_stats(t, &ss), 0);
	store_abort(&t);
	return ss;
}

/*
 * The hostile family of issue 9: a chain of l tokens each naming two
 * unseen placeholders, a second chain of l, then every placeholder
 * issued with the last of the second chain as its previous.  Returns
 * the arcs the cycle checks looked at, on a fresh database.
 */
static uint64_t
hostile_family(size_t l)
{
	struct store_txn	*t;
	char			 j[32], s[32], a[32], p[32];
	uint64_t		 before;
	size_t			 i;
	int			 k;

	teardown();
	setup();
	before = stats_now().cycle_steps;
	t = begin(0);
	for (i = 0; i < l; i++) {
		snprintf(j, sizeof(j), "a-%zu", i);
		snprintf(s, sizeof(s), "ps-%zu", i);
		snprintf(a, sizeof(a), "pa-%zu", i);
		snprintf(p, sizeof(p), "a-%zu", i - 1);
		issue(t, j, s, a, i > 0 ? p : NULL);
	}
	for (i = 0; i < l; i++) {
		snprintf(j, sizeof(j), "c-%zu", i);
		snprintf(p, sizeof(p), "c-%zu", i - 1);
		issue(t, j, NULL, NULL, i > 0 ? p : NULL);
	}
	snprintf(p, sizeof(p), "c-%zu", l - 1);
	for (i = 0; i < l; i++)
		for (k = 0; k < 2; k++) {
			snprintf(j, sizeof(j), "%s-%zu", k ? "pa" : "ps", i);
			issue(t, j, NULL, NULL, p);
			cr_assert_eq(get(t, id_of(t, j)).cycle, 0, "%s", j);
		}
	snprintf(j, sizeof(j), "a-%zu", l - 1);
	cr_assert_eq(status(t, j), STORE_ACTIVE);
	commit(&t);
	return stats_now().cycle_steps - before;
}

/*
 * The cycle checks of the hostile family grow linearly with it, not
 * quadratically (the old lockstep walk: a ratio of about 4).
 */
Test(store, cycle_check_cost_is_linear)
{
	uint64_t	 w1 = hostile_family(1000), w2 = hostile_family(2000);

	cr_log_info("cycle check work: %llu for 1000, %llu for 2000",
	    (unsigned long long)w1, (unsigned long long)w2);
	cr_assert_gt(w1, 0);
	cr_assert_lt((double)w2 / (double)w1, 3.0, "%llu then %llu",
	    (unsigned long long)w1, (unsigned long long)w2);
}

/*
 * A rule already covered by one as late or later scans nothing; a
 * later one scans only what it newly covers.
 */
Test(store, rule_scan_cost_is_what_it_covers)
{
	enum { N = 2000, REPEAT = 200 };
	struct store_txn	*t = begin(0);
	char			 jti[32];
	uint64_t		 before, n, total = 0;
	size_t			 i;

	for (i = 0; i < N; i++) {
		snprintf(jti, sizeof(jti), "r-%zu", i);
		put_attr(t, jti, "u", "agent-x", (int64_t)i + 1);
	}
	commit(&t);
	before = stats_now().rule_scanned;
	t = begin(0);
	for (i = 0; i < REPEAT; i++) {
		cr_assert_eq(store_rule_add(t, STORE_IDX_CLIENT, ISS,
		    "agent-x", N, cause(t, "e-same"), &n), 0);
		cr_assert_eq(n, i == 0 ? N : 0);
	}
	commit(&t);
	cr_assert_leq(stats_now().rule_scanned - before, 2 * N,
	    "%llu entries scanned",
	    (unsigned long long)(stats_now().rule_scanned - before));

	/* Rising times: each scans its own slice of iat. */
	t = begin(0);
	for (i = 0; i < N; i++) {
		snprintf(jti, sizeof(jti), "q-%zu", i);
		put_attr(t, jti, "u", "agent-q", (int64_t)i + 1);
	}
	commit(&t);
	before = stats_now().rule_scanned;
	t = begin(0);
	for (i = 1; i <= REPEAT; i++) {
		cr_assert_eq(store_rule_add(t, STORE_IDX_CLIENT, ISS,
		    "agent-q", (int64_t)(i * N / REPEAT), cause(t, "e-q"),
		    &n), 0);
		total += n;
		cr_assert_eq(n, N / REPEAT, "step %zu", i);
	}
	commit(&t);
	cr_assert_eq(total, N);
	cr_assert_leq(stats_now().rule_scanned - before, 2 * N,
	    "%llu entries scanned",
	    (unsigned long long)(stats_now().rule_scanned - before));
	t = begin(1);
	cr_assert_eq(status(t, "q-0"), STORE_REVOKED);
	snprintf(jti, sizeof(jti), "q-%d", N - 1);
	cr_assert_eq(status(t, jti), STORE_REVOKED);
	store_abort(&t);
}

/*
 * A database from before the index sorted by iat ("idx" of 8-byte ids,
 * made here by hand) is upgraded at open: rules still reach its tokens.
 */
Test(store, old_attribute_index_upgraded)
{
	MDB_env		*env;
	MDB_txn		*txn;
	MDB_dbi		 neu, old;
	MDB_cursor	*c;
	MDB_val		 k, v, e;
	struct store_txn *t = begin(0);
	uint64_t	 id, n;
	uint8_t		 ent[16];
	int		 i;

	put_attr(t, "s1", "alice", NULL, 100);
	put_attr(t, "s2", "alice", NULL, 300);
	commit(&t);
	store_close(&S);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
	cr_assert_eq(mdb_env_open(env, dir, MDB_NOTLS, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "idx_iat", MDB_DUPSORT | MDB_DUPFIXED,
	    &neu), 0);
	cr_assert_eq(mdb_dbi_open(txn, "idx", MDB_CREATE | MDB_DUPSORT |
	    MDB_DUPFIXED | MDB_INTEGERDUP, &old), 0);
	cr_assert_eq(mdb_cursor_open(txn, neu, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		memcpy(ent, v.mv_data, sizeof(ent));
		for (i = 0, id = 0; i < 8; i++)
			id = id << 8 | ent[8 + i];
		e.mv_size = sizeof(id);
		e.mv_data = &id;
		cr_assert_eq(mdb_put(txn, old, &k, &e, 0), 0);
	}
	mdb_cursor_close(c);
	cr_assert_eq(mdb_drop(txn, neu, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	{
		char	 err[256];

		S = store_open(dir, (size_t)4 << 30, err, sizeof(err));
		cr_assert_not_null(S, "store_open: %s", err);
	}
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 200,
	    cause(t, "e-1"), &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(status(t, "s1"), STORE_REVOKED);
	cr_assert_eq(status(t, "s2"), STORE_ACTIVE);
	commit(&t);
}

Test(store, rule_by_sub_with_time)
{
	struct store_txn	*t = begin(0);
	struct spec		 other = { .iss = "https://other", .jti = "o",
	    .sub = "alice", .iat = 100 };
	uint64_t		 n, want[3];
	uint32_t		 c;

	want[0] = put_attr(t, "s100", "alice", NULL, 100);
	want[1] = put_attr(t, "s200", "alice", NULL, 200);
	put_attr(t, "s300", "alice", NULL, 300);
	put_attr(t, "bob", "bob", NULL, 100);
	want[2] = issue(t, "s100-kid", NULL, NULL, "s100");
	put_ok(t, &other);
	commit(&t);

	t = begin(0);
	c = cause(t, "e-1");
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 200, c,
	    &n), 0);
	cr_assert_eq(n, 3);
	commit(&t);
	t = begin(1);
	cr_assert_eq(status(t, "s100"), STORE_REVOKED);
	cr_assert_eq(get(t, want[0]).cause, c);
	cr_assert_eq(status(t, "s200"), STORE_REVOKED);
	cr_assert_eq(status(t, "s100-kid"), STORE_REVOKED);
	cr_assert_eq(status(t, "s300"), STORE_ACTIVE);
	cr_assert_eq(status(t, "bob"), STORE_ACTIVE);
	cr_assert_eq(store_lookup(t, "https://other", "o", &n), 0);
	cr_assert_eq(get(t, n).status, STORE_ACTIVE);
	assert_last_cascade(t, 1, want, 3);
	store_abort(&t);

	/* Late arrivals: covered if iat <= time, not after. */
	t = begin(0);
	want[0] = put_attr(t, "s150", "alice", NULL, 150);
	cr_assert_eq(get(t, want[0]).status, STORE_REVOKED);
	cr_assert_eq(get(t, want[0]).own, STORE_REVOKED);
	cr_assert_eq(get(t, want[0]).cause, c);
	cr_assert_eq(get(t, put_attr(t, "s250", "alice", NULL, 250)).status,
	    STORE_ACTIVE);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 2, want, 1);
	store_abort(&t);

	/* An older rule does not shrink a newer one. */
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 50,
	    cause(t, "e-2"), &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(get(t, put_attr(t, "s180", "alice", NULL, 180)).status,
	    STORE_REVOKED);
	store_abort(&t);
}

Test(store, rule_by_actor)
{
	static const char *const chain1[] = { "agent-a", "orchestrator" };
	static const char *const chain2[] = { "agent-b" };
	struct store_txn	*t = begin(0);
	struct spec		 a = { .jti = "a", .actors = chain1,
	    .nactors = 2 }, b = { .jti = "b", .actors = chain2,
	    .nactors = 1 };
	uint64_t		 n;

	put_ok(t, &a);
	put_ok(t, &b);
	put_attr(t, "orch-own", "orchestrator", "orchestrator", IAT);
	cr_assert_eq(store_rule_add(t, STORE_IDX_ACTOR, ISS, "orchestrator",
	    IAT, cause(t, "e-1"), &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(status(t, "a"), STORE_REVOKED);
	cr_assert_eq(status(t, "b"), STORE_ACTIVE);
	cr_assert_eq(status(t, "orch-own"), STORE_ACTIVE);
	a.jti = "a2";
	put_ok(t, &a);
	cr_assert_eq(status(t, "a2"), STORE_REVOKED);
	a.jti = "a3";
	a.iat = IAT + 1;
	put_ok(t, &a);
	cr_assert_eq(status(t, "a3"), STORE_ACTIVE);
	commit(&t);
}

Test(store, rule_by_client)
{
	struct store_txn	*t = begin(0);
	uint64_t		 n;

	put_attr(t, "c1", "u1", "agent-x", IAT);
	put_attr(t, "c2", "u2", "agent-x", IAT);
	put_attr(t, "c3", "agent-x", "agent-y", IAT);
	issue(t, "c1-kid", "c1", NULL, NULL);
	cr_assert_eq(store_rule_add(t, STORE_IDX_CLIENT, ISS, "agent-x",
	    IAT, cause(t, "e-1"), &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(status(t, "c1"), STORE_REVOKED);
	cr_assert_eq(status(t, "c2"), STORE_REVOKED);
	cr_assert_eq(status(t, "c1-kid"), STORE_REVOKED);
	cr_assert_eq(status(t, "c3"), STORE_ACTIVE);
	commit(&t);
}

Test(store, event_ids)
{
	struct store_txn	*t = begin(0);

	cr_assert_eq(store_event_seen(t, "e-1"), 0);
	cr_assert_eq(store_event_mark(t, "e-1", 0, NULL), 0);
	cr_assert_eq(store_event_seen(t, "e-1"), 1);
	cr_assert_eq(store_event_mark(t, "e-1", 0, NULL), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_event_seen(t, "e-1"), 1);
	cr_assert_eq(store_event_seen(t, "e-2"), 0);
	cr_assert_eq(store_event_seen(t, "e-"), 0);
	store_abort(&t);
}

Test(store, offsets)
{
	struct store_txn	*t = begin(0);
	int64_t			 next;

	cr_assert_eq(store_offset_get(t, "token-events", 0, &next),
	    STORE_NOTFOUND);
	cr_assert_eq(store_offset_set(t, "token-events", 0, 42), 0);
	cr_assert_eq(store_offset_set(t, "token-events", 1, 7), 0);
	cr_assert_eq(store_offset_set(t, "token-events", 0, 43), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_offset_get(t, "token-events", 0, &next), 0);
	cr_assert_eq(next, 43);
	cr_assert_eq(store_offset_get(t, "token-events", 1, &next), 0);
	cr_assert_eq(next, 7);
	cr_assert_eq(store_offset_get(t, "token-events", 2, &next),
	    STORE_NOTFOUND);
	cr_assert_eq(store_offset_get(t, "token-event", 0, &next),
	    STORE_NOTFOUND);
	store_abort(&t);
}

/* One event's whole effect: token, revocation, offset, outbox, id. */
static void
apply_one(struct store_txn *t)
{
	issue(t, "t", NULL, NULL, NULL);
	revoke_jti(t, "t", cause(t, "e-1"));
	cr_assert_eq(store_offset_set(t, "token-events", 3, 100), 0);
	cr_assert_eq(store_event_mark(t, "e-1", 0, NULL), 0);
	cr_assert_eq(store_outbox_add(t, 9, "dlq", 3), 0);
}

Test(store, abort_is_atomic)
{
	struct store_txn	*t = begin(0);
	struct store_stats	 ss;
	uint64_t		 id, n;
	int64_t			 next;

	apply_one(t);
	store_abort(&t);
	cr_assert_null(t);
	store_abort(&t);
	store_abort(NULL);
	t = begin(1);
	cr_assert_eq(store_lookup(t, ISS, "t", &id), STORE_NOTFOUND);
	cr_assert_eq(store_offset_get(t, "token-events", 3, &next),
	    STORE_NOTFOUND);
	cr_assert_eq(store_event_seen(t, "e-1"), 0);
	cr_assert_eq(store_outbox_count(t, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_stats(t, &ss), 0);
	cr_assert_eq(ss.tokens + ss.placeholders + ss.events + ss.outbox, 0);
	store_abort(&t);

	t = begin(0);
	apply_one(t);
	commit(&t);
	t = begin(1);
	id = id_of(t, "t");
	cr_assert_eq(id, 1, "ids of an aborted transaction are reused");
	cr_assert_eq(get(t, id).status, STORE_REVOKED);
	cr_assert_eq(store_offset_get(t, "token-events", 3, &next), 0);
	cr_assert_eq(next, 100);
	cr_assert_eq(store_event_seen(t, "e-1"), 1);
	cr_assert_eq(store_outbox_count(t, &n), 0);
	cr_assert_eq(n, 2);
	assert_last_cascade(t, 1, &id, 1);
	store_abort(&t);
}

Test(store, lookup_jti)
{
	struct store_txn	*t = begin(0);
	struct spec		 sp = { .iss = "https://a", .jti = "shared" };
	uint64_t		 a, id;

	a = put_ok(t, &sp);
	sp.jti = "only-a";
	put_ok(t, &sp);
	cr_assert_eq(store_lookup_jti(t, "shared", &id), 0);
	cr_assert_eq(id, a);
	sp.iss = "https://b";
	sp.jti = "shared";
	put_ok(t, &sp);
	commit(&t);
	t = begin(1);
	id = 12345;
	cr_assert_eq(store_lookup_jti(t, "shared", &id), STORE_EXISTS);
	cr_assert_eq(id, 12345);
	cr_assert_eq(store_lookup_jti(t, "nobody", &id), STORE_NOTFOUND);
	cr_assert_eq(store_lookup_jti(t, "only-a", &id), 0);
	cr_assert_eq(store_lookup(t, "https://a", "only-a", &a), 0);
	cr_assert_eq(id, a);
	cr_assert_eq(store_lookup_jti(t, "only", &id), STORE_NOTFOUND);
	store_abort(&t);
}

/* A placeholder under another issuer does not hide an issued token. */
Test(store, lookup_jti_ignores_placeholders)
{
	struct store_txn	*t = begin(0);
	struct spec		 sp = { .iss = "https://a", .jti = "live" };
	uint64_t		 a, ph, id;

	a = put_ok(t, &sp);
	cr_assert_eq(store_ref(t, "https://b", "live", &ph), 0);
	cr_assert_eq(store_ref(t, "https://b", "ghost", &ph), 0);
	cr_assert_eq(store_lookup_jti(t, "live", &id), 0);
	cr_assert_eq(id, a);
	cr_assert_eq(store_lookup_jti(t, "ghost", &id), STORE_NOTFOUND);
	store_abort(&t);
}

/*
 * The only issuer known, of issued tokens and placeholders alike; none
 * in an empty store; several, whichever sorts first, and an issuer that
 * is a prefix of another or holds the byte 1 counts as another one.
 */
Test(store, sole_issuer)
{
	struct store_txn	*t = begin(0);
	struct spec		 sp = { .iss = "https://b", .jti = "t1" };
	const char		*iss = NULL;
	uint64_t		 ph;

	cr_assert_eq(store_sole_issuer(t, &iss), STORE_NOTFOUND);
	cr_assert_eq(store_ref(t, "https://b", "parent", &ph), 0);
	cr_assert_eq(store_sole_issuer(t, &iss), 0);
	cr_assert_str_eq(iss, "https://b");
	put_ok(t, &sp);
	sp.jti = "t2";
	put_ok(t, &sp);
	commit(&t);
	t = begin(1);
	iss = NULL;
	cr_assert_eq(store_sole_issuer(t, &iss), 0);
	cr_assert_str_eq(iss, "https://b");
	store_abort(&t);
	t = begin(0);
	cr_assert_eq(store_ref(t, "https://b\001x", "t1", &ph), 0);
	cr_assert_eq(store_sole_issuer(t, &iss), STORE_EXISTS);
	store_abort(&t);
	t = begin(0);
	cr_assert_eq(store_ref(t, "https://bb", "t1", &ph), 0);
	cr_assert_eq(store_sole_issuer(t, &iss), STORE_EXISTS);
	store_abort(&t);
	t = begin(0);
	cr_assert_eq(store_ref(t, "https://a", "zzz", &ph), 0);
	cr_assert_eq(store_sole_issuer(t, &iss), STORE_EXISTS);
	store_abort(&t);
}

Test(store, lookup_hash)
{
	struct store_txn	*t = begin(0);
	uint8_t			 h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	struct spec		 sp = { .jti = "hashed", .hash = h1 };
	struct store_token	 tok;
	uint64_t		 id, got;

	memset(h1, 0xab, sizeof(h1));
	memset(h2, 0xab, sizeof(h2));
	h2[31] = 0xac;
	id = put_ok(t, &sp);
	issue(t, "plain", NULL, NULL, NULL);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_lookup_hash(t, h1, &got), 0);
	cr_assert_eq(got, id);
	cr_assert_eq(store_lookup_hash(t, h2, &got), STORE_NOTFOUND);
	tok = get(t, id);
	cr_assert_eq(tok.has_hash, 1);
	cr_assert_eq(memcmp(tok.hash, h1, sizeof(h1)), 0);
	cr_assert_eq(get(t, id_of(t, "plain")).has_hash, 0);
	store_abort(&t);
}

static int
count_hash(void *arg, const uint8_t *hash)
{
	(void)hash;
	(*(int *)arg)++;
	return 0;
}

static int
hashes_revoked(struct store_txn *t)
{
	int	 n = 0;

	cr_assert_eq(store_hash_revoked_each(t, count_hash, &n), 0);
	return n;
}

/*
 * A revoked hash revokes its token and descendants, whether the token
 * came before or after; remembered, it is forgotten once a token has it.
 */
Test(store, revoke_by_hash)
{
	uint8_t			 h1[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	struct store_txn	*t = begin(0);
	struct spec		 a = { .jti = "a", .hash = h1 },
	    b = { .jti = "b", .hash = h2 };
	uint64_t		 n, want[2];
	uint32_t		 c;

	memset(h1, 1, sizeof(h1));
	memset(h2, 2, sizeof(h2));
	put_ok(t, &a);
	issue(t, "a-kid", "a", NULL, NULL);
	cr_assert_eq(store_revoke_hash(t, h1, cause(t, "e-1"), &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(status(t, "a-kid"), STORE_REVOKED);
	cr_assert_eq(hashes_revoked(t), 0);
	commit(&t);

	t = begin(0);
	c = cause(t, "e-2");
	cr_assert_eq(store_revoke_hash(t, h2, c, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_revoke_hash(t, h2, cause(t, "e-3"), &n), 0);
	cr_assert_eq(hashes_revoked(t), 1);
	commit(&t);
	t = begin(0);
	want[1] = issue(t, "b-kid", "b", NULL, NULL);
	want[0] = put_ok(t, &b);
	cr_assert_eq(get(t, want[0]).status, STORE_REVOKED);
	cr_assert_eq(get(t, want[0]).own, STORE_REVOKED);
	cr_assert_eq(get(t, want[0]).cause, c, "the first cause stays");
	cr_assert_eq(status(t, "b-kid"), STORE_REVOKED);
	cr_assert_eq(hashes_revoked(t), 0);
	commit(&t);
	t = begin(1);
	assert_last_cascade(t, 2, want, 2);
	store_abort(&t);
}

/* The first token keeps a hash; another, of any issuer, is refused. */
Test(store, duplicate_hash_refused)
{
	uint8_t			 h[STORE_HASH_LEN];
	struct store_txn	*t = begin(0);
	struct spec		 a = { .jti = "a", .hash = h },
	    b = { .jti = "b", .hash = h, .parent = { "p" } },
	    c = { .iss = "https://other", .jti = "a", .hash = h };
	uint64_t		 id, got;

	memset(h, 7, sizeof(h));
	id = put_ok(t, &a);
	cr_assert_eq(put_spec(t, &b, &got), STORE_DUPHASH);
	cr_assert_eq(store_lookup(t, ISS, "b", &got), STORE_NOTFOUND);
	cr_assert_eq(put_spec(t, &c, &got), STORE_DUPHASH);
	cr_assert_eq(store_lookup(t, "https://other", "a", &got),
	    STORE_NOTFOUND);
	cr_assert_eq(put_spec(t, &a, &got), STORE_EXISTS);
	cr_assert_eq(store_lookup_hash(t, h, &got), 0);
	cr_assert_eq(got, id);
	commit(&t);
}

/* cycle_allow: the cycle is marked, and no status moves for it. */
Test(store, cycle_allowed_is_marked_not_denied)
{
	struct store_txn	*t = begin(0);
	struct store_token	 tok;
	struct store_put_args	 a;
	uint64_t		 b, id;

	issue(t, "a", "b", NULL, NULL);
	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = ISS;
	tok.jti = "b";
	tok.sub = tok.client_id = "x";
	cr_assert_eq(store_ref(t, ISS, "a", &tok.parent[2]), 0);
	a.tok = &tok;
	a.cycle_allow = 1;
	cr_assert_eq(store_put(t, &a, &b), 0);
	tok = get(t, b);
	cr_assert_eq(tok.cycle, 1);
	cr_assert_eq(tok.own, STORE_ACTIVE);
	cr_assert_eq(tok.status, STORE_ACTIVE);
	cr_assert_eq(status(t, "a"), STORE_ACTIVE);
	cr_assert_eq(store_revoke(t, b, cause(t, "e-1"), &id), 0);
	cr_assert_eq(id, 2);
	commit(&t);
}

Test(store, get_placeholder_and_record)
{
	struct store_txn	*t = begin(0);
	struct store_token	 tok;
	uint64_t		 ph, kid;

	kid = issue(t, "kid", "ph", NULL, "ph");
	commit(&t);
	t = begin(1);
	ph = id_of(t, "ph");
	tok = get(t, ph);
	cr_assert_eq(tok.id, ph);
	cr_assert_eq(tok.issued, 0);
	cr_assert_str_eq(tok.iss, ISS);
	cr_assert_str_eq(tok.jti, "ph");
	cr_assert_str_eq(tok.sub, "");
	cr_assert_str_eq(tok.client_id, "");
	cr_assert_eq(tok.status, STORE_ACTIVE);
	cr_assert_eq(tok.claims, NULL);
	cr_assert_eq(tok.claims_len, 0);
	cr_assert_eq(tok.nchildren, 1, "one edge for a parent named twice");
	tok = get(t, kid);
	cr_assert_eq(tok.issued, 1);
	cr_assert_str_eq(tok.sub, "user");
	cr_assert_str_eq(tok.client_id, "client");
	cr_assert_eq(tok.parent[STORE_PARENT_SUBJECT], ph);
	cr_assert_eq(tok.parent[STORE_PARENT_ACTOR], 0);
	cr_assert_eq(tok.parent[STORE_PARENT_PREVIOUS], ph);
	cr_assert_eq(tok.iat, IAT);
	cr_assert_eq(tok.exp, IAT + 3600);
	cr_assert_eq(tok.claims_len, strlen("{\"scope\":\"files:read\"}"));
	cr_assert_eq(memcmp(tok.claims, "{\"scope\":\"files:read\"}",
	    tok.claims_len), 0);
	cr_assert_eq(store_get(t, kid + 100, &tok), STORE_NOTFOUND);
	store_abort(&t);
}

Test(store, issue_twice_exists)
{
	struct store_txn	*t = begin(0);
	struct spec		 sp = { .jti = "dup", .sub = "first" };
	uint64_t		 a, b = 0;

	a = put_ok(t, &sp);
	commit(&t);
	t = begin(0);
	sp.sub = "second";
	sp.parent[0] = "newparent";
	cr_assert_eq(put_spec(t, &sp, &b), STORE_EXISTS);
	cr_assert_eq(b, a);
	cr_assert_str_eq(get(t, a).sub, "first");
	cr_assert_eq(get(t, a).parent[0], 0);
	cr_assert_eq(put_spec(t, &sp, &b), STORE_EXISTS);
	commit(&t);
}

Test(store, long_keys)
{
	struct store_txn	*t = begin(0);
	char			 iss[257], jti[4][257];
	struct spec		 sp = { .iss = iss, .sub = jti[0],
	    .client = jti[1] };
	struct store_token	 tok;
	uint64_t		 id[4], got, n;
	int			 i, j;

	memset(iss, 'i', 256);
	iss[256] = '\0';
	for (i = 0; i < 4; i++) {
		memset(jti[i], 'j', 256);
		jti[i][256] = '\0';
	}
	jti[1][255] = 'k';	/* differ in the last byte only */
	jti[2][0] = 'k';	/* in the first */
	jti[3][128] = 'k';	/* in the middle */
	for (i = 0; i < 4; i++) {
		sp.jti = jti[i];
		id[i] = put_ok(t, &sp);
		for (j = 0; j < i; j++)
			cr_assert_neq(id[i], id[j]);
	}
	commit(&t);
	t = begin(1);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(store_lookup(t, iss, jti[i], &got), 0);
		cr_assert_eq(got, id[i]);
		cr_assert_eq(store_lookup_jti(t, jti[i], &got), 0);
		cr_assert_eq(got, id[i]);
		tok = get(t, id[i]);
		cr_assert_str_eq(tok.iss, iss);
		cr_assert_str_eq(tok.jti, jti[i]);
	}
	store_abort(&t);

	/* Long attribute values in the rule index stay distinct too. */
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_CLIENT, iss, jti[0], IAT,
	    cause(t, "e-1"), &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, iss, jti[0], IAT,
	    cause(t, "e-2"), &n), 0);
	cr_assert_eq(n, 4);
	sp.jti = "late";
	sp.sub = jti[1];
	cr_assert_eq(get(t, put_ok(t, &sp)).status, STORE_ACTIVE);
	commit(&t);
}

static int
visit(void *arg, const struct store_token *tok)
{
	uint64_t	*v = arg;

	cr_assert_gt(tok->id, v[1], "id order");
	v[1] = tok->id;
	v[0]++;
	v[2] += tok->issued ? 1 : 0;
	return 0;
}

static int
visit_stop(void *arg, const struct store_token *tok)
{
	(void)tok;
	return ++*(uint64_t *)arg == 2 ? 5 : 0;
}

Test(store, foreach_visits_all)
{
	struct store_txn	*t = begin(0);
	uint64_t		 v[3] = { 0, 0, 0 };

	issue(t, "a", "ph1", "ph2", NULL);
	issue(t, "b", "a", NULL, NULL);
	issue(t, "c", NULL, NULL, NULL);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_foreach(t, visit, v), 0);
	cr_assert_eq(v[0], 5);
	cr_assert_eq(v[2], 3);
	v[0] = 0;
	cr_assert_eq(store_foreach(t, visit_stop, v), 5);
	cr_assert_eq(v[0], 2);
	store_abort(&t);
}

Test(store, stats_counts)
{
	struct store_txn	*t = begin(0);
	struct store_stats	 ss;
	struct spec		 pend = { .jti = "pend", .parent = { "ph" },
	    .own = STORE_PENDING };

	put_ok(t, &pend);
	issue(t, "r", NULL, NULL, NULL);
	issue(t, "r-kid", "r", "pend", NULL);
	issue(t, "d", NULL, NULL, NULL);
	issue(t, "act", NULL, NULL, NULL);
	cr_assert_eq(store_set_own(t, id_of(t, "d"), STORE_DENIED, 1), 0);
	revoke_jti(t, "r", cause(t, "e-1"));
	revoke_jti(t, "tomb", cause(t, "e-2"));
	cr_assert_eq(store_event_mark(t, "e-1", 0, NULL), 0);
	cr_assert_eq(store_event_mark(t, "e-2", 0, NULL), 0);
	commit(&t);
	t = begin(1);
	cr_assert_eq(store_stats(t, &ss), 0);
	cr_assert_eq(ss.tokens, 5);
	cr_assert_eq(ss.placeholders, 2);
	cr_assert_eq(ss.by_status[STORE_ACTIVE], 1);
	cr_assert_eq(ss.by_status[STORE_PENDING], 1);
	cr_assert_eq(ss.by_status[STORE_DENIED], 1);
	cr_assert_eq(ss.by_status[STORE_REVOKED], 2);
	cr_assert_eq(ss.edges, 3);
	cr_assert_eq(ss.events, 2);
	cr_assert_eq(ss.outbox, 1);
	cr_assert_gt(ss.map_size, 0);
	cr_assert_gt(ss.map_used, 0);
	cr_assert_leq(ss.map_used, ss.map_size);
	store_abort(&t);
}

Test(store, outbox_order)
{
	struct store_txn	*t = begin(0);
	uint64_t		 seq[3], s, n;
	const void		*data;
	size_t			 len;
	uint8_t			 kind;

	cr_assert_eq(store_outbox_add(t, 1, "one", 3), 0);
	cr_assert_eq(store_outbox_add(t, 2, "two!", 4), 0);
	cr_assert_eq(store_outbox_add(t, 3, NULL, 0), 0);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_outbox_next(t, 0, &seq[0], &kind, &data, &len), 0);
	cr_assert_eq(kind, 1);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(data, "one", 3), 0);
	cr_assert_eq(store_outbox_next(t, seq[0], &seq[1], &kind, &data,
	    &len), 0);
	cr_assert_eq(kind, 2);
	cr_assert_eq(len, 4);
	cr_assert_eq(store_outbox_next(t, seq[1], &seq[2], &kind, &data,
	    &len), 0);
	cr_assert_eq(kind, 3);
	cr_assert_eq(len, 0);
	cr_assert(seq[0] < seq[1] && seq[1] < seq[2]);
	cr_assert_eq(store_outbox_next(t, seq[2], &s, &kind, &data, &len),
	    STORE_NOTFOUND);
	cr_assert_eq(store_outbox_del(t, seq[1]), 0);
	cr_assert_eq(store_outbox_del(t, seq[1]), 0);
	cr_assert_eq(store_outbox_next(t, seq[0], &s, &kind, &data, &len), 0);
	cr_assert_eq(s, seq[2]);
	cr_assert_eq(store_outbox_count(t, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(store_outbox_del(t, seq[0]), 0);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_outbox_next(t, 0, &s, &kind, &data, &len), 0);
	cr_assert_eq(s, seq[2]);
	cr_assert_eq(store_outbox_del(t, seq[2]), 0);
	/* Sequence numbers are never reused after deletion. */
	cr_assert_eq(store_outbox_add(t, 4, "four", 4), 0);
	cr_assert_eq(store_outbox_next(t, 0, &s, &kind, &data, &len), 0);
	cr_assert_gt(s, seq[2]);
	commit(&t);
}

/* A reader sees all of a big cascade or none of it. */
Test(store, reader_isolation)
{
	struct store_txn	*t, *r1, *r2;
	struct store_stats	 ss;
	uint64_t		*ids = tree(100000, 8), n;

	r1 = begin(1);
	t = begin(0);
	cr_assert_eq(revoke_jti(t, "n-0", cause(t, "e-1")), 100000);
	cr_assert_eq(store_event_mark(t, "e-1", 0, NULL), 0);
	commit(&t);
	r2 = begin(1);

	cr_assert_eq(get(r1, ids[0]).status, STORE_ACTIVE);
	cr_assert_eq(get(r1, ids[99999]).status, STORE_ACTIVE);
	cr_assert_eq(store_event_seen(r1, "e-1"), 0);
	cr_assert_eq(store_outbox_count(r1, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_stats(r1, &ss), 0);
	cr_assert_eq(ss.by_status[STORE_ACTIVE], 100000);

	cr_assert_eq(get(r2, ids[0]).status, STORE_REVOKED);
	cr_assert_eq(get(r2, ids[99999]).status, STORE_REVOKED);
	cr_assert_eq(store_event_seen(r2, "e-1"), 1);
	cr_assert_eq(store_stats(r2, &ss), 0);
	cr_assert_eq(ss.by_status[STORE_REVOKED], 100000);
	assert_last_cascade(r2, 1, ids, 100000);
	store_abort(&r1);
	store_abort(&r2);
	free(ids);
}

/* Reopening the directory finds everything committed. */
Test(store, reopen)
{
	struct store_txn	*t = begin(0);
	char			 err[256];

	issue(t, "kept", NULL, NULL, NULL);
	revoke_jti(t, "kept", cause(t, "e-1"));
	commit(&t);
	store_close(&S);
	S = store_open(dir, 0, err, sizeof(err));
	cr_assert_not_null(S, "%s", err);
	t = begin(1);
	cr_assert_eq(status(t, "kept"), STORE_REVOKED);
	store_abort(&t);
	t = begin(0);
	cr_assert_gt(issue(t, "next", NULL, NULL, NULL), id_of(t, "kept"));
	commit(&t);
}

/* An input gap is counted once however often it is found, until acked. */
Test(store, input_gap_counted_once_until_acknowledged)
{
	struct store_txn	*t = begin(0);
	uint64_t		 added, n;

	cr_assert_eq(store_gap_add(t, "in", 0, 3, 6, &added), 0);
	cr_expect_eq(added, 3);
	cr_assert_eq(store_gap_add(t, "in", 0, 3, 6, &added), 0);
	cr_expect_eq(added, 0, "the same gap found again");
	cr_assert_eq(store_gap_add(t, "in", 0, 4, 8, &added), 0);
	cr_expect_eq(added, 2, "only what is new");
	cr_assert_eq(store_gap_add(t, "in", 1, 0, 1, &added), 0);
	cr_expect_eq(added, 1, "partitions apart");
	cr_assert_eq(store_gap_add(t, "in", 2, 500, -1, &added), 0);
	cr_expect_eq(added, 1, "a gap of unknown size counts one");
	cr_assert_eq(store_gap_pending(t, &n), 0);
	cr_expect_eq(n, 7);
	cr_assert_eq(store_commit(&t), 0);
	t = begin(0);
	cr_assert_eq(store_gap_ack(t, &n), 0);
	cr_expect_eq(n, 7);
	cr_assert_eq(store_gap_pending(t, &n), 0);
	cr_expect_eq(n, 0);
	cr_assert_eq(store_gap_add(t, "in", 0, 3, 8, &added), 0);
	cr_expect_eq(added, 0, "an acknowledged gap does not come back");
	cr_assert_eq(store_commit(&t), 0);
}

/* One process at a time holds a database directory. */
Test(store, lock_is_exclusive)
{
	char	 err[256];
	int	 fd, fd2;

	cr_assert_eq(store_lock(dir, &fd, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(store_lock(dir, &fd2, err, sizeof(err)), STORE_EXISTS);
	cr_expect(strstr(err, "pid") != NULL, "%s", err);
	close(fd);
	cr_expect_eq(store_lock(dir, &fd2, err, sizeof(err)), 0, "%s", err);
	close(fd2);
}

/*
 * A nested transaction: its effects and revoked ids join the parent on
 * commit, vanish on abort; a failed LMDB call is the store's failure.
 */
Test(store, nested_transaction_whole_or_nothing)
{
	struct store_txn	*t = begin(0), *sub;
	uint64_t		 id, n;

	cr_assert_eq(store_sub_begin(t, &sub), 0);
	cr_assert_eq(store_ref(sub, ISS, "t-kept", &id), 0);
	cr_assert_eq(store_revoke(sub, id, 1, &n), 0);
	cr_assert_eq(store_sub_commit(&sub), 0);
	cr_assert_eq(store_sub_begin(t, &sub), 0);
	cr_assert_eq(store_ref(sub, ISS, "t-dropped", &id), 0);
	store_abort(&sub);
	cr_expect_eq(store_txn_failure(t), STORE_FAIL_NONE);
	cr_assert_eq(store_commit(&t), 0);
	t = begin(1);
	cr_expect_eq(store_lookup(t, ISS, "t-kept", &id), 0);
	cr_expect_eq(store_lookup(t, ISS, "t-dropped", &id), STORE_NOTFOUND);
	store_abort(&t);
}

/* Invariants stated in code: a write in a reader is a broken one. */
Test(store, write_in_a_reader_aborts, .signal = SIGABRT)
{
	struct store_txn	*t = begin(1);
	uint64_t		 id;

	(void)store_ref(t, ISS, "t-new", &id);
}

/* ... and so is using a parent while its nested child is open. */
Test(store, parent_used_under_open_child_aborts, .signal = SIGABRT)
{
	struct store_txn	*t = begin(0), *c = NULL;
	uint64_t		 id;

	cr_assert_eq(store_sub_begin(t, &c), 0);
	(void)store_ref(t, ISS, "t-new", &id);
}
