/*
 * sweep_test: store_sweep() forgets expired tokens and what outlived
 * them, and keeps what a late event still needs (store/graph/sweep.c).
 *
 * Tokens live from iat to iat + LIFE under one issuer; a sweep to a
 * horizon h forgets what was due at or before h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <lmdb.h>

#include "store/graph/store.h"
#include "tests/unit/fixture.h"

#define ISS	"https://idp.example"
#define LIFE	600

static struct store	*S;
static char		 dir[64];

static void
setup(void)
{
	S = fixture_store("sweep_test", (size_t)1 << 30, dir);
}

static void
teardown(void)
{
	fixture_store_free(&S, dir);
}

TestSuite(sweep, .init = setup, .fini = teardown, .timeout = 120);

static struct store_txn *
wr(void)
{
	struct store_txn *t;

	cr_assert_eq(store_begin(S, 0, &t), 0);
	return t;
}

/*
 * Issue jti at iat, living life seconds (sub, an actor), child of
 * subject parent (or NULL): store_put()'s result.
 */
static int
put_life(struct store_txn *t, const char *jti, int64_t iat, int64_t life,
    const char *parent, const char *sub, const char *actor, uint64_t *id)
{
	static const char claims[] = "{}";
	const char *actors[1] = { actor };
	struct store_token tok;
	struct store_put_args a;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = ISS;
	tok.jti = jti;
	if (parent != NULL)
		cr_assert_eq(store_ref(t, ISS, parent, &tok.parent[0]), 0);
	tok.sub = sub;
	tok.client_id = "client";
	tok.iat = iat;
	tok.exp = iat + life;
	tok.claims = claims;
	tok.claims_len = 2;
	tok.has_hash = 1;
	memset(tok.hash, 0, sizeof(tok.hash));
	snprintf((char *)tok.hash, sizeof(tok.hash), "h-%s", jti);
	a.tok = &tok;
	a.actors = actor != NULL ? actors : NULL;
	a.nactors = actor != NULL;
	return store_put(t, &a, id);
}

/* put_life() of LIFE seconds, which must succeed: the token's id. */
static uint64_t
mint(struct store_txn *t, const char *jti, int64_t iat, const char *parent,
    const char *sub, const char *actor)
{
	uint64_t id;

	cr_assert_eq(put_life(t, jti, iat, LIFE, parent, sub, actor, &id), 0,
	    "put %s", jti);
	return id;
}

static uint32_t
cause_at(struct store_txn *t, int64_t time)
{
	struct store_cause c = { "ev", "", ISS, "x", 0, time };
	uint32_t ref;

	cr_assert_eq(store_cause_add(t, &c, &ref), 0);
	return ref;
}

/* Sweep to horizon in slices of 8 until nothing more is due. */
static struct store_swept
sweep(int64_t horizon)
{
	struct store_swept r, sum;
	struct store_txn *t;

	memset(&sum, 0, sizeof(sum));
	do {
		t = wr();
		cr_assert_eq(store_sweep(t, horizon, 8, &r), 0);
		cr_assert_leq(r.looked, 8);
		cr_assert_eq(store_commit(&t), 0);
		sum.tokens += r.tokens;
		sum.kept += r.kept;
		sum.other += r.other;
		sum.events += r.events;
		sum.waiting += r.waiting;
		sum.blocked |= r.blocked;
	} while (r.more);
	return sum;
}

/* Status of jti: -1 when the store has forgotten it. */
static int
status(const char *jti)
{
	struct store_token tok;
	struct store_txn *t;
	uint64_t id;
	int st = -1;

	cr_assert_eq(store_begin(S, 1, &t), 0);
	if (store_lookup(t, ISS, jti, &id) == 0) {
		cr_assert_eq(store_get(t, id, &tok), 0);
		st = tok.issued ? tok.status : 10 + tok.status;
	}
	store_abort(&t);
	return st;
}

/* Take every entry out of the outbox, as the drain would. */
static void
drain(void)
{
	struct store_txn *t = wr();
	const void *data;
	uint64_t seq;
	uint8_t kind;
	size_t len;

	while (store_outbox_next(t, 0, &seq, &kind, &data, &len) == 0)
		cr_assert_eq(store_outbox_del(t, seq), 0);
	cr_assert_eq(store_commit(&t), 0);
}

static int	has_cause(uint32_t);

static int
count_hash(void *arg, const uint8_t *hash)
{
	(void)hash;
	(*(int *)arg)++;
	return 0;
}

static uint64_t
tokens(void)
{
	struct store_stats ss;
	struct store_txn *t;

	cr_assert_eq(store_begin(S, 1, &t), 0);
	cr_assert_eq(store_stats(t, &ss), 0);
	store_abort(&t);
	return ss.tokens + ss.placeholders;
}

Test(sweep, forgets_expired_tokens_and_their_indexes)
{
	struct store_txn *t = wr();
	uint8_t h[STORE_HASH_LEN] = "h-old-3";
	uint64_t id, n;
	int i;
	char jti[16];

	for (i = 0; i < 20; i++) {
		snprintf(jti, sizeof(jti), "old-%d", i);
		mint(t, jti, 1000, NULL, "alice", "agent");
	}
	mint(t, "live", 5000, NULL, "alice", NULL);
	cr_assert_eq(store_event_mark(t, "e-old", 1000 + LIFE, NULL), 0);
	cr_assert_eq(store_event_mark(t, "e-new", 5000 + LIFE, NULL), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(tokens(), 21);

	sweep(1000 + LIFE - 1);		/* nothing due yet */
	cr_assert_eq(tokens(), 21);
	cr_assert_eq(sweep(1000 + LIFE).tokens, 20);
	cr_assert_eq(tokens(), 1);
	cr_assert_eq(status("old-3"), -1);
	cr_assert_eq(status("live"), STORE_ACTIVE);

	t = wr();
	cr_assert_eq(store_event_seen(t, "e-old"), 0);
	cr_assert_eq(store_event_seen(t, "e-new"), 1);
	cr_assert_eq(store_lookup_hash(t, h, &id), STORE_NOTFOUND);
	cr_assert_eq(store_lookup_jti(t, "old-3", &id), STORE_NOTFOUND);
	/* No index entry left: a rule finds nothing to revoke. */
	cr_assert_eq(store_rule_add(t, STORE_IDX_ACTOR, ISS, "agent", 9000,
	    cause_at(t, 9000), &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 9000,
	    cause_at(t, 9000), &n), 0);
	cr_assert_eq(n, 1);	/* live alone */
	cr_assert_eq(store_commit(&t), 0);
}

/* A parent outlived by a child waits: revoking it still reaches them. */
Test(sweep, parent_waits_for_its_children)
{
	struct store_txn *t = wr();
	struct store_swept r;
	uint64_t id, n;

	mint(t, "a", 1000, NULL, "bob", NULL);
	mint(t, "b", 1000, "a", "bob", "agent");
	mint(t, "c", 5000, "b", "bob", NULL);	/* outlives its parents */
	mint(t, "x", 1000, NULL, "bob", NULL);
	mint(t, "y", 5000, "x", "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	r = sweep(1000 + LIFE);
	cr_assert_eq(r.tokens, 0);
	cr_assert_eq(r.waiting, 3);
	cr_assert_eq(status("a"), STORE_ACTIVE);
	cr_assert_eq(status("x"), STORE_ACTIVE);

	t = wr();	/* an expired token's revocation, its child alive */
	cr_assert_eq(store_lookup(t, ISS, "a", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 5500), &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("c"), STORE_REVOKED);
	drain();

	/* With its last child, each goes: the revoked ones remembered. */
	r = sweep(5000 + LIFE);
	cr_assert_eq(r.kept, 3);
	cr_assert_eq(r.tokens, 2);
	cr_assert_eq(status("x"), -1);
	cr_assert_eq(status("a"), 10 + STORE_REVOKED);
	cr_assert_eq(status("c"), 10 + STORE_REVOKED);
	sweep(5000 + 2 * LIFE);
	cr_assert_eq(tokens(), 0);
}

/* A swept token issued again (a redelivery) is a duplicate, not new. */
Test(sweep, swept_token_issued_again_is_refused)
{
	struct store_txn *t = wr();
	uint32_t c;
	uint64_t id, n;

	id = mint(t, "root", 1000, NULL, "bob", NULL);
	mint(t, "kid", 1000, "root", "alice", NULL);
	c = cause_at(t, 1100);
	cr_assert_eq(store_revoke(t, id, c, &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	drain();
	sweep(1000 + LIFE);
	cr_assert_eq(status("kid"), 10 + STORE_REVOKED);
	t = wr();
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 1500,
	    cause_at(t, 1500), &n), 0);
	cr_assert_eq(put_life(t, "kid", 1000, LIFE, "root", "alice", NULL,
	    &id), STORE_EXISTS);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("kid"), 10 + STORE_REVOKED);
	sweep(1500 + LIFE);
	cr_assert_eq(tokens(), 0);
	cr_assert_not(has_cause(c));
}

/* Only a cascade waiting in the outbox holds revoked tokens back. */
Test(sweep, unrelated_outbox_entries_do_not_block)
{
	struct store_txn *t = wr();
	struct store_swept r;
	uint64_t id, n;
	char jti[16];
	int i;

	id = mint(t, "first", 900, NULL, "bob", NULL);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 950), &n), 0);
	for (i = 0; i < 20; i++) {
		snprintf(jti, sizeof(jti), "t%d", i);
		mint(t, jti, 1000, NULL, "bob", NULL);
	}
	cr_assert_eq(store_commit(&t), 0);
	r = sweep(1000 + LIFE);		/* the cascade waits: first stays */
	cr_assert(r.blocked);
	cr_assert_eq(r.tokens, 20, "the others go past it");
	cr_assert_eq(status("first"), STORE_REVOKED);
	drain();
	t = wr();	/* an unrelated entry waits: a violation, say */
	cr_assert_eq(store_outbox_add(t, 1, "{}", 2), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(sweep(1000 + LIFE).kept, 1);
}

Test(sweep, revoked_token_is_remembered_for_a_late_child)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	id = mint(t, "root", 1000, NULL, "alice", NULL);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1200), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	/* Wait for the outbox: its message may not be out yet. */
	cr_assert(sweep(1000 + LIFE).blocked);
	cr_assert_eq(status("root"), STORE_REVOKED);
	drain();

	cr_assert_eq(sweep(1000 + LIFE).kept, 1);
	cr_assert_eq(status("root"), 10 + STORE_REVOKED);
	/* A late child of it (the log lagged) is still born revoked. */
	t = wr();
	mint(t, "late", 1100, "root", "alice", NULL);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("late"), STORE_REVOKED);
	/* Kept while its child lives, then while a token could arrive. */
	drain();
	sweep(1100 + LIFE);
	cr_assert_eq(status("root"), 10 + STORE_REVOKED);
	cr_assert_eq(status("late"), 10 + STORE_REVOKED);
	sweep(1200 + LIFE);
	cr_assert_eq(status("root"), -1);
	cr_assert_eq(status("late"), -1);
	cr_assert_eq(tokens(), 0);
}

Test(sweep, rule_outlives_tokens_by_the_longest_lifetime)
{
	struct store_txn *t = wr();
	uint64_t n;

	mint(t, "a", 1000, NULL, "alice", NULL);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "alice", 1500,
	    cause_at(t, 1500), &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_event_mark(t, "rev", 1500, ISS), 0);
	cr_assert_eq(store_commit(&t), 0);
	drain();

	sweep(1500 + LIFE - 1);
	/* A late token minted before the rule is born revoked. */
	t = wr();
	mint(t, "late", 1400, NULL, "alice", NULL);
	cr_assert_eq(store_event_seen(t, "rev"), 1);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("late"), STORE_REVOKED);

	/* A longer lifetime seen since moves the rule's due later. */
	t = wr();
	mint(t, "long", 3000, NULL, "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	t = wr();
	cr_assert_eq(put_life(t, "longer", 3000, 10 * LIFE, NULL, "carol",
	    NULL, &(uint64_t){ 0 }), 0);
	cr_assert_eq(store_commit(&t), 0);
	sweep(1500 + LIFE);
	t = wr();
	mint(t, "later", 1450, NULL, "alice", NULL);
	cr_assert_eq(store_event_seen(t, "rev"), 1);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("later"), STORE_REVOKED);

	sweep(1500 + 10 * LIFE);
	t = wr();
	cr_assert_eq(store_event_seen(t, "rev"), 0);
	mint(t, "too-late", 1450, NULL, "alice", NULL);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("too-late"), STORE_ACTIVE);
}

Test(sweep, remembered_revocations_of_unseen_tokens)
{
	struct store_txn *t = wr();
	uint8_t h[STORE_HASH_LEN] = "h-unseen-hash";
	uint64_t id, n;
	int nh = 0;

	mint(t, "x", 1000, NULL, "alice", NULL);	/* lifetime seen */
	cr_assert_eq(store_ref(t, ISS, "unseen", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1500), &n), 0);
	cr_assert_eq(store_revoke_hash(t, h, cause_at(t, 1500), &n), 0);
	cr_assert_eq(store_commit(&t), 0);

	sweep(1500 + LIFE - 1);
	cr_assert_eq(status("unseen"), 10 + STORE_REVOKED);
	t = wr();
	mint(t, "unseen-hash", 1400, NULL, "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("unseen-hash"), STORE_REVOKED);

	t = wr();
	cr_assert_eq(store_revoke_hash(t, (uint8_t[STORE_HASH_LEN]){ 1 },
	    cause_at(t, 1500), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	t = wr();
	cr_assert_eq(store_hash_revoked_each(t, count_hash, &nh), 0);
	cr_assert_eq(nh, 1);
	store_abort(&t);
	sweep(1500 + LIFE);
	cr_assert_eq(status("unseen"), -1);
	t = wr();
	nh = 0;
	cr_assert_eq(store_hash_revoked_each(t, count_hash, &nh), 0);
	cr_assert_eq(nh, 0);
	store_abort(&t);
}

Test(sweep, placeholder_parent_goes_with_its_last_child)
{
	struct store_txn *t = wr();

	mint(t, "kid1", 1000, "never-issued", "alice", NULL);
	mint(t, "kid2", 2000, "never-issued", "alice", NULL);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(tokens(), 3);
	sweep(1000 + LIFE);
	cr_assert_eq(status("never-issued"), 10 + STORE_ACTIVE);
	cr_assert_eq(status("kid1"), -1);
	sweep(2000 + LIFE);
	cr_assert_eq(tokens(), 0);
}

Test(sweep, database_size_stays_flat_over_rounds)
{
	struct store_txn *t;
	uint64_t bytes, n, first = 0;
	char jti[32];
	int round, i;

	for (round = 0; round < 12; round++) {
		t = wr();
		for (i = 0; i < 2000; i++) {
			snprintf(jti, sizeof(jti), "r%d-%d", round, i);
			mint(t, jti, 1000 + round * LIFE, i % 2 ? NULL :
			    "never", "alice", "agent");
			snprintf(jti, sizeof(jti), "ev-r%d-%d", round, i);
			cr_assert_eq(store_event_mark(t, jti,
			    1000 + (round + 1) * LIFE, NULL), 0);
		}
		cr_assert_eq(store_commit(&t), 0);
		sweep(1000 + round * LIFE);
		t = wr();
		cr_assert_eq(store_usage(t, &bytes, &n), 0);
		store_abort(&t);
		cr_assert_leq(n, 2001, "round %d: %llu records", round,
		    (unsigned long long)n);
		if (round == 3)
			first = bytes;
		if (round > 3)
			cr_assert_leq(bytes, first + first / 10,
			    "round %d: %llu bytes, %llu at round 3", round,
			    (unsigned long long)bytes,
			    (unsigned long long)first);
	}
}

Test(sweep, slices_are_bounded)
{
	struct store_txn *t = wr();
	struct store_swept r;
	char jti[16];
	int i;

	for (i = 0; i < 100; i++) {
		snprintf(jti, sizeof(jti), "t%d", i);
		mint(t, jti, 1000, NULL, "alice", NULL);
	}
	cr_assert_eq(store_commit(&t), 0);
	t = wr();
	cr_assert_eq(store_sweep(t, 1000 + LIFE, 30, &r), 0);
	cr_assert_eq(r.looked, 30);
	cr_assert_eq(r.tokens, 30);
	cr_assert(r.more);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(tokens(), 70);
	t = wr();
	{
		int64_t exp;

		cr_assert_eq(store_sweep_oldest(t, &exp), 0);
		cr_assert_eq(exp, 1000 + LIFE);
	}
	store_abort(&t);
}

/* Empty table name of the environment in dir (raw LMDB). */
static void
raw_empty(MDB_env *env, MDB_txn *txn, const char *name)
{
	MDB_dbi dbi;

	(void)env;
	cr_assert_eq(mdb_dbi_open(txn, name, 0, &dbi), 0, "%s", name);
	cr_assert_eq(mdb_drop(txn, dbi, 0), 0);
}

/* Make the store in dir look written before the sweep existed. */
static void
make_old(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, ev;
	MDB_cursor *c;
	MDB_val k = { 6, (void *)(uintptr_t)"\001sweep" }, v;
	static char keys[400][32];
	size_t keylen[400];
	int i, nk = 0;

	store_close(&S);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 32), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	raw_empty(env, txn, "exp");
	raw_empty(env, txn, "due");
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	cr_assert_eq(mdb_del(txn, meta, &k, NULL), 0);
	cr_assert_eq(mdb_dbi_open(txn, "events", 0, &ev), 0);
	cr_assert_eq(mdb_cursor_open(txn, ev, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		cr_assert_lt(nk, 400);
		cr_assert_lt(k.mv_size, 32);
		memcpy(keys[nk], k.mv_data, k.mv_size);
		keylen[nk++] = k.mv_size;
	}
	mdb_cursor_close(c);
	for (i = 0; i < nk; i++) {	/* copies: a put moves the page */
		k.mv_size = keylen[i];
		k.mv_data = keys[i];
		v.mv_size = 0;
		v.mv_data = (void *)(uintptr_t)"";
		cr_assert_eq(mdb_put(txn, ev, &k, &v, 0), 0);
	}
	k.mv_size = 7;
	k.mv_data = (void *)(uintptr_t)"\001causes";
	cr_assert_eq(mdb_del(txn, meta, &k, NULL), 0);
	cr_assert_eq(mdb_dbi_open(txn, "causes", MDB_INTEGERKEY, &ev), 0);
	cr_assert_eq(mdb_cursor_open(txn, ev, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		uint8_t buf[256];

		cr_assert_leq(v.mv_size, sizeof(buf));
		memcpy(buf, v.mv_data, v.mv_size);
		memset(buf + 12, 0, 4);		/* no count */
		v.mv_data = buf;
		cr_assert_eq(mdb_cursor_put(c, &k, &v, MDB_CURRENT), 0);
	}
	mdb_cursor_close(c);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	S = store_open(dir, (size_t)1 << 30, (char[256]){ 0 }, 256);
	cr_assert_not_null(S);
}

Test(sweep, older_database_is_upgraded)
{
	struct store_txn *t = wr();
	uint32_t c1, c2;
	uint64_t id, n;

	mint(t, "a", 1000, NULL, "alice", NULL);
	mint(t, "b", 5000, NULL, "alice", NULL);
	cr_assert_eq(store_ref(t, ISS, "unseen", &id), 0);
	cr_assert_eq(store_revoke(t, id, c1 = cause_at(t, 1000), &n), 0);
	cr_assert_eq(store_lookup(t, ISS, "b", &id), 0);
	cr_assert_eq(store_revoke(t, id, c2 = cause_at(t, 1000), &n), 0);
	cr_assert_eq(store_event_mark(t, "e", 1000, NULL), 0);
	cr_assert_eq(store_commit(&t), 0);
	make_old();
	sweep(1000 + LIFE);
	cr_assert_eq(status("a"), -1);
	cr_assert_eq(status("unseen"), -1);
	cr_assert_not(has_cause(c1), "counted at the upgrade, then gone");
	cr_assert(has_cause(c2));
	cr_assert_eq(status("b"), STORE_REVOKED);
	t = wr();
	cr_assert_eq(store_event_seen(t, "e"), 1);	/* no time: kept */
	store_abort(&t);
}

static int
has_cause(uint32_t ref)
{
	struct store_cause c;
	struct store_txn *t;
	int rc;

	cr_assert_eq(store_begin(S, 1, &t), 0);
	rc = store_cause_get(t, ref, &c);
	store_abort(&t);
	cr_assert(rc == 0 || rc == STORE_NOTFOUND);
	return rc == 0;
}

Test(sweep, causes_go_with_their_last_reference)
{
	struct store_txn *t = wr();
	uint32_t unused, cascade, rule, nested;
	struct store_txn *sub;
	uint64_t id, n;

	mint(t, "root", 1000, NULL, "alice", NULL);
	mint(t, "kid", 1000, "root", "alice", NULL);
	mint(t, "long", 1000, "root", "bob", NULL);
	unused = cause_at(t, 1100);
	cascade = cause_at(t, 1100);
	cr_assert_eq(store_lookup(t, ISS, "root", &id), 0);
	cr_assert_eq(store_revoke(t, id, cascade, &n), 0);
	cr_assert_eq(n, 3);
	rule = cause_at(t, 1100);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "carol", 1100,
	    rule, &n), 0);
	cr_assert_eq(store_sub_begin(t, &sub), 0);
	nested = cause_at(sub, 1100);
	cr_assert_eq(store_ref(sub, ISS, "unseen", &id), 0);
	cr_assert_eq(store_revoke(sub, id, nested, &n), 0);
	cr_assert_eq(store_sub_commit(&sub), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_not(has_cause(unused), "a cause nothing took is gone");
	cr_assert(has_cause(cascade));
	cr_assert(has_cause(rule));
	cr_assert(has_cause(nested));
	drain();

	sweep(1000 + LIFE);	/* all three kept as revoked placeholders */
	cr_assert(has_cause(cascade));
	sweep(1100 + LIFE);	/* and now past their time, as the rest */
	cr_assert_not(has_cause(cascade));
	cr_assert_not(has_cause(rule));
	cr_assert_not(has_cause(nested));
	cr_assert_eq(tokens(), 0);
}

Test(sweep, upgrade_keeps_every_event_id)
{
	struct store_txn *t = wr();
	char id[32];
	int i, lost = 0;

	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "event-%04d", i);
		cr_assert_eq(store_event_mark(t, id, 1000, NULL), 0);
	}
	cr_assert_eq(store_commit(&t), 0);
	make_old();
	t = wr();
	for (i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "event-%04d", i);
		if (store_event_seen(t, id) != 1)
			lost++;
	}
	store_abort(&t);
	cr_assert_eq(lost, 0, "%d of 300 event ids lost by the upgrade",
	    lost);
	sweep(1000 + LIFE);	/* times from the upgrade on: all kept */
	t = wr();
	cr_assert_eq(store_event_seen(t, "event-0299"), 1);
	store_abort(&t);
}

/* Tokens on a cycle (a crafted log) do not wait for one another. */
Test(sweep, expired_cycle_goes)
{
	struct store_txn *t = wr();

	mint(t, "b", 1000, "a", "bob", NULL);
	mint(t, "a", 1000, "b", "bob", NULL);	/* closes the cycle */
	mint(t, "c", 1000, "a", "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(tokens(), 3);
	sweep(1000 + LIFE);
	cr_assert_eq(tokens(), 0);
}

/* Revoked tokens held back end a slice: no spinning, the rest goes. */
Test(sweep, held_back_slices_end)
{
	struct store_txn *t = wr();
	struct store_swept r;
	uint64_t id, n;
	char jti[16];
	int i, slices = 0;

	for (i = 0; i < 10; i++) {
		snprintf(jti, sizeof(jti), "rv%d", i);
		id = mint(t, jti, 1000, NULL, "bob", NULL);
		cr_assert_eq(store_revoke(t, id, cause_at(t, 1100), &n), 0);
	}
	cr_assert_eq(store_event_mark(t, "ev", 1000, NULL), 0);
	cr_assert_eq(store_commit(&t), 0);	/* the cascades wait */
	do {
		t = wr();
		cr_assert_eq(store_sweep(t, 1000 + LIFE, 4, &r), 0);
		cr_assert_eq(store_commit(&t), 0);
	} while (r.more && ++slices < 1000);
	t = wr();
	cr_assert_lt(slices, 1000, "more with no progress: a loop");
	cr_assert_eq(store_event_seen(t, "ev"), 0, "the due ones go too");
	store_abort(&t);
}

/* Two tokens each other's parent go, as any expired ones. */
Test(sweep, cycle_goes_whole)
{
	struct store_txn *t = wr();
	int64_t exp;

	mint(t, "a", 1000, "b", "bob", NULL);
	mint(t, "b", 1000, "a", "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + 100 * LIFE);
	t = wr();
	cr_assert_eq(store_sweep_oldest(t, &exp), STORE_NOTFOUND,
	    "no DB_EXP entry left: nothing will look again");
	store_abort(&t);
	cr_assert_eq(tokens(), 0, "%llu tokens kept forever",
	    (unsigned long long)tokens());
}

/* A cycle revoked after one of it waited goes too. */
Test(sweep, cycle_revoked_after_it_waited_goes)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	mint(t, "a", 1000, "b", "bob", NULL);
	mint(t, "b", 1000, "a", "bob", NULL);
	mint(t, "c", 5000, "b", "bob", NULL);	/* so the cycle waits */
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);
	t = wr();
	cr_assert_eq(store_lookup(t, ISS, "a", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1700), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	drain();
	sweep(1000 + 100 * LIFE);
	cr_assert_eq(tokens(), 0, "a=%d b=%d", status("a"), status("b"));
}

/* A token naming itself as its parent goes. */
Test(sweep, own_parent_goes)
{
	struct store_txn *t = wr();

	mint(t, "s", 1000, "s", "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + 100 * LIFE);
	cr_assert_eq(tokens(), 0, "s=%d", status("s"));
}

/* Revoked and its own parent: its remembered revocation goes. */
Test(sweep, own_parent_revoked_goes)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	id = mint(t, "s", 1000, "s", "bob", NULL);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1100), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	drain();
	sweep(1000 + 100 * LIFE);
	cr_assert_eq(tokens(), 0, "s=%d", status("s"));
}

/* The token closing a cycle waits for a child living on. */
Test(sweep, cycle_waits_for_a_live_child)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	mint(t, "b", 1000, "a", "bob", NULL);
	mint(t, "a", 1000, "b", "bob", NULL);	/* closes the cycle */
	mint(t, "c", 5000, "a", "bob", NULL);	/* lives on */
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);
	t = wr();
	cr_assert_eq(store_ref(t, ISS, "b", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1700), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("c"), STORE_REVOKED, "a=%d b=%d c=%d", status("a"),
	    status("b"), status("c"));
}

/* A cycle's member has a child living on: revoking the closer reaches it */
Test(sweep, cycle_mate_child_reached_by_closer_revocation)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	mint(t, "b", 1000, "a", "bob", NULL);
	mint(t, "a", 1000, "b", "bob", NULL);	/* closes the cycle */
	mint(t, "c", 5000, "b", "bob", NULL);	/* child of b, lives on */
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);
	t = wr();
	cr_assert_eq(store_ref(t, ISS, "a", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1700), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("c"), STORE_REVOKED, "a=%d b=%d c=%d",
	    status("a"), status("b"), status("c"));
}

/* The closer's expired child waits for a grandchild living on. */
Test(sweep, cycle_waits_for_a_live_grandchild)
{
	struct store_txn *t = wr();
	uint64_t id, n;

	mint(t, "b", 1000, "a", "bob", NULL);
	mint(t, "a", 1000, "b", "bob", NULL);	/* closes the cycle */
	mint(t, "d", 1000, "a", "bob", NULL);	/* expired, waits for e */
	mint(t, "e", 5000, "d", "bob", NULL);	/* lives on */
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);
	cr_assert_neq(status("d"), -1);
	t = wr();
	cr_assert_eq(store_ref(t, ISS, "a", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, 1700), &n), 0);
	cr_assert_eq(store_commit(&t), 0);
	cr_assert_eq(status("e"), STORE_REVOKED, "a=%d d=%d e=%d",
	    status("a"), status("d"), status("e"));
}

/* Its own parent, with another child living on: waits, then goes. */
Test(sweep, own_parent_with_live_child_goes)
{
	struct store_txn *t = wr();

	mint(t, "s", 1000, "s", "bob", NULL);
	mint(t, "k", 5000, "s", "bob", NULL);
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);
	cr_assert_neq(status("s"), -1);
	sweep(1000 + 100 * LIFE);
	cr_assert_eq(tokens(), 0, "s=%d k=%d", status("s"), status("k"));
}

/* The closer expires first and waits for its mate, which waits for it. */
Test(sweep, cycle_closer_expiring_first_goes)
{
	struct store_txn *t = wr();

	mint(t, "b", 2000, "a", "bob", NULL);	/* lives 1000 longer */
	mint(t, "a", 1000, "b", "bob", NULL);	/* closes the cycle */
	cr_assert_eq(store_commit(&t), 0);
	sweep(1000 + LIFE);	/* a waits: b lives on */
	sweep(2000 + LIFE);	/* b waits: a is its child */
	sweep(1000 + 100 * LIFE);
	cr_assert_eq(tokens(), 0, "a=%d b=%d", status("a"), status("b"));
}

/*
 * A property test over random graphs (from a review): FZ_N tokens with
 * random parents (cycles too) and lifetimes, then, at each step of a
 * clock, maybe a revocation, a late child, a new own status, a drain,
 * and a sweep.  After each sweep, revoking any ancestor of a live token
 * not revoked reaches it; every cascade entry drained names a token
 * still publishable; at the end nothing is left.
 */
#define FZ_N	24
#define FZ_L	16	/* late children */
#define FZ_SEEDS 300

struct fz {
	unsigned	 first;		/* the seed, for messages */
	unsigned	 seed;
	int		 par[FZ_N + FZ_L][3];
	char		 jti[FZ_N + FZ_L][16];
	int		 n;
};

static unsigned
fz_rand(struct fz *f)
{
	f->seed = f->seed * 1103515245u + 12345u;
	return (f->seed >> 16) & 0x7fff;
}

/* Issue token i at iat with its parents of f->par[i]. */
static void
fz_put(struct store_txn *t, struct fz *f, int i, int64_t iat, int64_t life)
{
	struct store_token tok;
	struct store_put_args a;
	uint64_t id;
	int k;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = ISS;
	tok.jti = f->jti[i];
	for (k = 0; k < 3; k++)
		if (f->par[i][k] >= 0)
			cr_assert_eq(store_ref(t, ISS, f->jti[f->par[i][k]],
			    &tok.parent[k]), 0);
	tok.sub = "s";
	tok.iat = iat;
	tok.exp = iat + life;
	a.tok = &tok;
	a.cycle_allow = fz_rand(f) % 2;
	cr_assert_eq(store_put(t, &a, &id), 0, "seed %u put %d", f->first, i);
}

/* Is a an ancestor of x in the graph made? */
static int
fz_ancestor(const struct fz *f, int x, int a)
{
	int q[FZ_N + FZ_L], seen[FZ_N + FZ_L] = { 0 }, h = 0, n = 0, k, p;

	q[n++] = x;
	seen[x] = 1;
	while (h < n)
		for (k = 0, x = q[h++]; k < 3; k++) {
			if ((p = f->par[x][k]) < 0 || seen[p])
				continue;
			if (p == a)
				return 1;
			seen[p] = 1;
			q[n++] = p;
		}
	return 0;
}

/* Revoking a (then undone) revokes x?  1 or 0. */
static int
fz_reaches(struct fz *f, int a, int x, int64_t h)
{
	struct store_token tk;
	struct store_txn *t = wr();
	uint64_t id, n;

	cr_assert_eq(store_ref(t, ISS, f->jti[a], &id), 0);
	cr_assert_eq(store_revoke(t, id, cause_at(t, h), &n), 0);
	cr_assert_eq(store_lookup(t, ISS, f->jti[x], &id), 0);
	cr_assert_eq(store_get(t, id, &tk), 0);
	store_abort(&t);
	return tk.status == STORE_REVOKED;
}

static void
fz_check_reach(struct fz *f, int64_t h)
{
	struct store_token tk;
	struct store_txn *t;
	uint64_t id;
	int x, a, live;

	for (x = 0; x < FZ_N; x++) {
		cr_assert_eq(store_begin(S, 1, &t), 0);
		live = store_lookup(t, ISS, f->jti[x], &id) == 0 &&
		    store_get(t, id, &tk) == 0 && tk.issued &&
		    tk.status != STORE_REVOKED && tk.exp > h;
		store_abort(&t);
		for (a = 0; live && a < FZ_N + f->n; a++)
			if (a != x && fz_ancestor(f, x, a))
				cr_assert(fz_reaches(f, a, x, h), "seed %u at "
				    "%lld: revoking %s misses %s", f->first,
				    (long long)h, f->jti[a], f->jti[x]);
	}
}

/* Drain, checking each cascade's tokens can still be published. */
static void
fz_drain(struct fz *f)
{
	struct store_txn *t = wr();
	struct store_token tk;
	struct store_cause c;
	const void *data;
	uint64_t seq, id;
	uint8_t kind;
	size_t len, i;

	while (store_outbox_next(t, 0, &seq, &kind, &data, &len) == 0) {
		for (i = 0; kind == STORE_OUT_CASCADE && i + 8 <= len; i += 8) {
			memcpy(&id, (const uint8_t *)data + i, 8);
			cr_assert(store_peek(t, id, &tk) == 0 && tk.issued &&
			    tk.status == STORE_REVOKED &&
			    store_cause_get(t, tk.cause, &c) == 0,
			    "seed %u: cascade id %llu not publishable",
			    f->first, (unsigned long long)id);
		}
		cr_assert_eq(store_outbox_del(t, seq), 0);
	}
	cr_assert_eq(store_commit(&t), 0);
}

/* One step of the clock at h: the random events, then a sweep. */
static void
fz_step(struct fz *f, int64_t h)
{
	struct store_token tk;
	struct store_txn *t = wr();
	uint64_t id, n;
	int x, k;

	if (fz_rand(f) % 3 == 0) {
		x = fz_rand(f) % (FZ_N + f->n);
		cr_assert_eq(store_ref(t, ISS, f->jti[x], &id), 0);
		cr_assert_eq(store_revoke(t, id, cause_at(t, h), &n), 0);
	}
	if (fz_rand(f) % 3 == 0 && f->n < FZ_L) {
		x = FZ_N + f->n++;
		for (k = 0; k < 3; k++)
			f->par[x][k] = fz_rand(f) % 2 ? -1 :
			    (int)(fz_rand(f) % x);
		fz_put(t, f, x, h - 500 + fz_rand(f) % 600,
		    100 + fz_rand(f) % 1500);
	}
	x = fz_rand(f) % (FZ_N + f->n);
	if (fz_rand(f) % 3 == 0 && store_lookup(t, ISS, f->jti[x], &id) == 0 &&
	    store_get(t, id, &tk) == 0 && tk.issued)
		cr_assert_eq(store_set_own(t, id, fz_rand(f) % 3, 7), 0);
	cr_assert_eq(store_commit(&t), 0);
	if (fz_rand(f) % 2)
		fz_drain(f);
	sweep(h);
}

static void
fz_run(unsigned seed)
{
	struct fz f;
	struct store_txn *t;
	int64_t h, exp;
	int i, k;

	memset(&f, 0, sizeof(f));
	f.first = f.seed = seed;
	for (i = 0; i < FZ_N + FZ_L; i++)
		snprintf(f.jti[i], sizeof(f.jti[i]), "%c%d", i < FZ_N ? 'j' :
		    'L', i);
	t = wr();
	for (i = 0; i < FZ_N; i++) {
		for (k = 0; k < 3; k++)
			f.par[i][k] = fz_rand(&f) % 3 ? -1 :
			    (int)(fz_rand(&f) % FZ_N);
		fz_put(t, &f, i, 1000 + fz_rand(&f) % 3000,
		    100 + fz_rand(&f) % 2000);
	}
	cr_assert_eq(store_commit(&t), 0);
	for (h = 1000; h < 8000; h += 250) {
		fz_step(&f, h);
		fz_check_reach(&f, h);
	}
	fz_drain(&f);
	sweep(1000000);
	t = wr();
	cr_assert_eq(store_sweep_oldest(t, &exp), STORE_NOTFOUND, "seed %u",
	    seed);
	store_abort(&t);
	cr_assert_eq(tokens(), 0, "seed %u: %llu left", seed,
	    (unsigned long long)tokens());
}

Test(sweep, random_graphs_keep_reach_and_end_empty)
{
	unsigned s;

	for (s = 1; s <= FZ_SEEDS; s++) {
		fixture_store_free(&S, dir);
		S = fixture_store("sweep_test", (size_t)1 << 30, dir);
		fz_run(s);
	}
}
