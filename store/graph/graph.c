/*
 * store graph: token records, edges, statuses, and the walks that keep
 * effective statuses up to date (revocation cascade, recomputation).
 *
 * Layout for fast walks: ids are dense uint64 in first-reference order;
 * DB_ST holds 12 bytes of status per id (24 for a revoked descendant);
 * DB_KIDS holds children as fixed 8-byte duplicates, read a page at a
 * time with MDB_GET_MULTIPLE; the ST_KIDS flag spares a lookup for
 * leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "store/graph/store_int.h"

/* Ids in one page of duplicates at most (a 64 KiB page of 8-byte ids). */
#define KIDS_PAGE	8192

static int
id_put(struct store_txn *t, int db, uint64_t id, const void *data, size_t len)
{
	size_t key = (size_t)id;
	MDB_val k = { sizeof(key), &key }, v = { len, (void *)(uintptr_t)data };

	return store_rc(t, mdb_put(t->txn, t->s->dbi[db], &k, &v, 0));
}

/*
 * The end of a cursor walk that called a callback: close c; the
 * callback's non-zero value r, else 0 at the end of the data (rc
 * MDB_NOTFOUND), else -1 for LMDB error rc.
 */
static int
each_end(struct store_txn *t, MDB_cursor *c, int rc, int r)
{
	mdb_cursor_close(c);
	if (r != 0)
		return r;
	rc = store_rc(t, rc);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_st_read(struct store_txn *t, uint64_t id, struct st *st)
{
	size_t key = (size_t)id;
	MDB_val k = { sizeof(key), &key }, v;
	int rc;

	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_ST], &k, &v))) != 0)
		return rc;
	return store_st_load(st, v.mv_data, v.mv_size);
}

int
store_st_load(struct st *st, const void *data, size_t len)
{
	memset(st, 0, sizeof(*st));
	if (len != ST_SIZE_OLD && len != ST_SIZE_SHORT && len != sizeof(*st))
		return -1;
	memcpy(st, data, len);
	if (len == ST_SIZE_OLD)
		st->depth = ST_DEPTH_UNKNOWN;
	return 0;
}

size_t
store_st_size(const struct st *st)
{
	return st->root != 0 ? sizeof(*st) : ST_SIZE_SHORT;
}

int
store_st_write(struct store_txn *t, uint64_t id, const struct st *st)
{
	return id_put(t, DB_ST, id, st, store_st_size(st));
}

int
store_rec_read_head(struct store_txn *t, uint64_t id, struct rec *r)
{
	return store_rec_read(t, id, r, NULL, NULL);
}

int
store_rec_read(struct store_txn *t, uint64_t id, struct rec *r,
    const char **strs, size_t *len)
{
	size_t key = (size_t)id;
	MDB_val k = { sizeof(key), &key }, v;
	int rc;

	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_TOK], &k, &v))) != 0)
		return rc;
	if (v.mv_size < sizeof(*r))
		return -1;
	memcpy(r, v.mv_data, sizeof(*r));
	if (strs != NULL)
		*strs = (const char *)v.mv_data + sizeof(*r);
	if (len != NULL)
		*len = v.mv_size - sizeof(*r);
	return 0;
}

/* The actors' list after the claims: its size. */
static size_t
actors_size(const char *const *actors, size_t nactors)
{
	size_t n = 1, i;

	for (i = 0; i < nactors; i++)
		n += (actors[i] ? strnlen(actors[i], 4096) : 0) + 1;
	return n;
}

static void
actors_write(uint8_t *p, const char *const *actors, size_t nactors)
{
	size_t i, l;

	*p++ = (uint8_t)nactors;
	for (i = 0; i < nactors; i++) {
		l = actors[i] ? strnlen(actors[i], 4096) : 0;
		if (l > 0)
			memcpy(p, actors[i], l);
		p[l] = '\0';
		p += l + 1;
	}
}

/*
 * Write the record of id from tok (placeholder: iss and jti only); a
 * non-NULL actors is listed after the claims (REC_ACTORS).
 */
int
store_rec_write(struct store_txn *t, uint64_t id, const struct store_token *tok,
    const char *const *actors, size_t nactors)
{
	const char *s[4] = { tok->iss, tok->jti,
	    tok->sub ? tok->sub : "", tok->client_id ? tok->client_id : "" };
	size_t key = (size_t)id, n = sizeof(struct rec), i, an = 0;
	MDB_val k = { sizeof(key), &key }, v;
	struct rec r;
	uint8_t *p;
	int rc;

	if (nactors > STORE_MAX_ACTORS)
		nactors = STORE_MAX_ACTORS;

	memset(&r, 0, sizeof(r));
	r.iat = tok->iat;
	r.nbf = tok->nbf;
	r.exp = tok->exp;
	memcpy(r.parent, tok->parent, sizeof(r.parent));
	r.kind = tok->kind;
	r.uflags = tok->uflags;
	r.has_hash = tok->has_hash ? 1 : 0;
	memcpy(r.hash, tok->hash, sizeof(r.hash));
	r.claims_len = tok->claims ? (uint32_t)tok->claims_len : 0;
	for (i = 0; i < 4; i++) {
		r.slen[i] = (uint16_t)strnlen(s[i], 4096);
		n += r.slen[i] + 1;
	}
	if (actors != NULL) {
		r.pad |= REC_ACTORS;
		an = actors_size(actors, nactors);
	}
	v.mv_size = n + r.claims_len + an;
	rc = mdb_put(t->txn, t->s->dbi[DB_TOK], &k, &v, MDB_RESERVE);
	if (rc != 0)
		return store_rc(t, rc);
	p = v.mv_data;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	for (i = 0; i < 4; i++) {
		memcpy(p, s[i], r.slen[i]);
		p[r.slen[i]] = '\0';
		p += r.slen[i] + 1;
	}
	if (r.claims_len > 0)
		memcpy(p, tok->claims, r.claims_len);
	if (an > 0)
		actors_write(p + r.claims_len, actors, nactors);
	return 0;
}

int
store_lookup(struct store_txn *t, const char *iss, const char *jti,
    uint64_t *id)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v;
	int rc;

	k.mv_size = store_key_make(kb, -1, iss, jti);
	k.mv_data = kb;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_KEY2ID], &k, &v));
	if (rc != 0)
		return rc;
	memcpy(id, v.mv_data, sizeof(*id));
	return 0;
}

int
store_lookup_jti(struct store_txn *t, const char *jti, uint64_t *id)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_cursor *c;
	MDB_val k, v;
	size_t count = 0;
	int rc;

	k.mv_size = store_key_make(kb, -1, jti, NULL);
	k.mv_data = kb;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_JTI2ID], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_count(c, &count);
	mdb_cursor_close(c);
	if ((rc = store_rc(t, rc)) != 0)
		return rc;
	if (count != 1)
		return STORE_EXISTS;
	memcpy(id, v.mv_data, sizeof(*id));
	return 0;
}

/* Index an issued token under its jti alone (placeholders are not). */
int
store_jti_add(struct store_txn *t, const char *jti, uint64_t id)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v = { sizeof(id), &id };
	int rc;

	k.mv_size = store_key_make(kb, -1, jti, NULL);
	k.mv_data = kb;
	rc = mdb_put(t->txn, t->s->dbi[DB_JTI2ID], &k, &v, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? 0 : store_rc(t, rc);
}

int
store_lookup_hash(struct store_txn *t, const uint8_t hash[STORE_HASH_LEN],
    uint64_t *id)
{
	MDB_val k = { STORE_HASH_LEN, (void *)(uintptr_t)hash }, v;
	int rc;

	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_HASH2ID], &k, &v));
	if (rc != 0)
		return rc;
	memcpy(id, v.mv_data, sizeof(*id));
	return 0;
}

/* The revoked hash of DB_HASHREV: its cause ref.  0, NOTFOUND or -1. */
static int
hash_revoked_get(struct store_txn *t, const uint8_t *hash, uint32_t *cause)
{
	MDB_val k = { STORE_HASH_LEN, (void *)(uintptr_t)hash }, v;
	int rc;

	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_HASHREV], &k, &v));
	if (rc != 0)
		return rc;
	if (v.mv_size != sizeof(*cause))
		return -1;
	memcpy(cause, v.mv_data, sizeof(*cause));
	return 0;
}

int
store_hash_revoked_take(struct store_txn *t, const uint8_t *hash, struct st *st)
{
	MDB_val k = { STORE_HASH_LEN, (void *)(uintptr_t)hash };
	uint32_t cause;
	int rc;

	if ((rc = hash_revoked_get(t, hash, &cause)) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (st->own != STORE_REVOKED) {
		st->own = STORE_REVOKED;
		st->cause = cause;
		st->depth = 0;
		st->root = 0;
	}
	if (store_cause_ref(t, cause, -1) == -1)
		return -1;
	return store_rc(t, mdb_del(t->txn, t->s->dbi[DB_HASHREV], &k, NULL));
}

/* When a remembered hash is due: its cause's time plus any lifetime. */
static int
hash_due(struct store_txn *t, const uint8_t *hash, uint32_t cause)
{
	struct store_cause c;
	int64_t life;

	c.time = 0;
	if (store_cause_get(t, cause, &c) == -1 ||
	    store_life_get(t, NULL, &life) == -1)
		return -1;
	return store_due_hash(t, hash, store_time_add(c.time, life));
}

int
store_revoke_hash(struct store_txn *t, const uint8_t hash[STORE_HASH_LEN],
    uint32_t cause, uint64_t *nrevoked)
{
	MDB_val k = { STORE_HASH_LEN, (void *)(uintptr_t)hash },
	    v = { sizeof(cause), &cause };
	uint64_t id;
	int rc;

	STORE_WRITER(t);
	if (nrevoked != NULL)
		*nrevoked = 0;
	if ((rc = store_lookup_hash(t, hash, &id)) == 0)
		return store_revoke(t, id, cause, nrevoked);
	if (rc == -1)
		return -1;
	rc = mdb_put(t->txn, t->s->dbi[DB_HASHREV], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;
	if (store_rc(t, rc) != 0 || store_cause_ref(t, cause, 1) == -1)
		return -1;
	return hash_due(t, hash, cause);
}

int
store_hash_revoked_each(struct store_txn *t,
    int (*fn)(void *, const uint8_t *), void *arg)
{
	uint8_t hash[STORE_HASH_LEN];
	MDB_cursor *c;
	MDB_val k, v;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_HASHREV], &c)) != 0)
		return store_rc(t, rc);
	while (r == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != STORE_HASH_LEN)
			continue;
		memcpy(hash, k.mv_data, sizeof(hash));
		r = fn(arg, hash);
	}
	return each_end(t, c, rc, r);
}

int
store_ref(struct store_txn *t, const char *iss, const char *jti,
    uint64_t *id)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v;
	struct store_token ph;
	struct st st;
	int rc;

	STORE_WRITER(t);
	if ((rc = store_lookup(t, iss, jti, id)) != STORE_NOTFOUND)
		return rc == 0 ? 0 : -1;
	if (store_meta_next(t, "next_id", id) == -1)
		return -1;
	k.mv_size = store_key_make(kb, -1, iss, jti);
	k.mv_data = kb;
	v.mv_size = sizeof(*id);
	v.mv_data = id;
	if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_KEY2ID], &k, &v, 0)) != 0)
		return -1;
	memset(&ph, 0, sizeof(ph));
	ph.iss = iss;
	ph.jti = jti;
	memset(&st, 0, sizeof(st));
	if (store_rec_write(t, *id, &ph, NULL, 0) == -1 ||
	    store_st_write(t, *id, &st) == -1)
		return -1;
	return 0;
}

int
store_get(struct store_txn *t, uint64_t id, struct store_token *tok)
{
	int rc;

	if ((rc = store_peek(t, id, tok)) != 0)
		return rc;
	if (tok->has_kids)
		return store_children_count(t, id, &tok->nchildren);
	return 0;
}

int
store_peek(struct store_txn *t, uint64_t id, struct store_token *tok)
{
	struct rec r;
	struct st st;
	const char *p, **s[4];
	size_t i;
	int rc;

	memset(tok, 0, sizeof(*tok));
	t->reads++;
	if ((rc = store_st_read(t, id, &st)) != 0 ||
	    (rc = store_rec_read(t, id, &r, &p, NULL)) != 0)
		return rc;
	s[0] = &tok->iss;
	s[1] = &tok->jti;
	s[2] = &tok->sub;
	s[3] = &tok->client_id;
	for (i = 0; i < 4; i++) {
		*s[i] = p;
		p += r.slen[i] + 1;
	}
	tok->id = id;
	tok->issued = (st.flags & ST_ISSUED) != 0;
	tok->status = st.eff;
	tok->own = st.own;
	tok->rule = st.rule;
	tok->cause = st.cause;
	tok->depth = st.depth;
	tok->root = st.root != 0 ? st.root : id;
	tok->cycle = (st.flags & ST_CYCLE) != 0;
	tok->kind = r.kind;
	tok->uflags = r.uflags;
	tok->iat = r.iat;
	tok->nbf = r.nbf;
	tok->exp = r.exp;
	memcpy(tok->parent, r.parent, sizeof(r.parent));
	tok->has_hash = r.has_hash;
	memcpy(tok->hash, r.hash, sizeof(r.hash));
	tok->claims = r.claims_len ? p : NULL;
	tok->claims_len = r.claims_len;
	tok->has_kids = (st.flags & ST_KIDS) != 0;
	return 0;
}

int
store_children_count(struct store_txn *t, uint64_t id, uint64_t *n)
{
	size_t key = (size_t)id, count = 0;
	MDB_val k = { sizeof(key), &key }, v;
	MDB_cursor *c;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_KIDS], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_count(c, &count);
	mdb_cursor_close(c);
	*n = count;
	rc = store_rc(t, rc);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/*
 * Call fn(arg, child) for each child of id, a page of duplicates at a
 * time.  Returns 0, fn's non-zero value, or -1.
 */
int
store_kids_each(struct store_txn *t, uint64_t id, int (*fn)(void *, uint64_t),
    void *arg)
{
	size_t key = (size_t)id, i, n;
	MDB_val k = { sizeof(key), &key }, v;
	MDB_cursor *c;
	uint64_t kid, page[KIDS_PAGE];
	int rc, op = MDB_GET_MULTIPLE, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_KIDS], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0 && r == 0) {
		if ((rc = mdb_cursor_get(c, &k, &v, op)) != 0)
			break;
		/* Copy the page out: fn may write, and a write may move it. */
		n = v.mv_size / sizeof(kid);
		if (n > KIDS_PAGE)
			n = KIDS_PAGE;
		memcpy(page, v.mv_data, n * sizeof(kid));
		for (i = 0; i < n && r == 0; i++)
			r = fn(arg, page[i]);
		op = MDB_NEXT_MULTIPLE;
	}
	return each_end(t, c, rc, r);
}

int
store_children(struct store_txn *t, uint64_t id, int (*fn)(void *, uint64_t),
    void *arg)
{
	return store_kids_each(t, id, fn, arg);
}

int
store_foreach(struct store_txn *t,
    int (*fn)(void *, const struct store_token *), void *arg)
{
	struct store_token tok;
	MDB_cursor *c;
	MDB_val k, v;
	size_t id;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_ST], &c)) != 0)
		return store_rc(t, rc);
	while (r == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		memcpy(&id, k.mv_data, sizeof(id));
		if ((r = store_get(t, id, &tok)) != 0)
			break;
		r = fn(arg, &tok);
	}
	return each_end(t, c, rc, r);
}

/*
 * Keys of DB_KEY2ID are iss NUL jti, sorted by bytes: the first key
 * names the smallest issuer, and the first key at or after that issuer
 * followed by the byte 1 (past every "iss NUL ..." key) names the next
 * one, if any.  An issuer is at most 256 bytes, so even a key shortened
 * by store_key_make() starts with it whole.
 */
int
store_sole_issuer(struct store_txn *t, const char **iss)
{
	uint8_t kb[STORE_KEYMAX + 1];
	struct store_token tok;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t id = 0;
	const uint8_t *nul;
	size_t n;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_KEY2ID], &c)) != 0)
		return store_rc(t, rc);
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) != 0)
		goto done;
	memcpy(&id, v.mv_data, sizeof(id));
	nul = memchr(k.mv_data, '\0', k.mv_size);
	n = nul != NULL ? (size_t)(nul - (const uint8_t *)k.mv_data) :
	    k.mv_size;
	if (n > STORE_KEYMAX - 1)	/* no NUL: an issuer past the bound */
		n = STORE_KEYMAX - 1;
	memcpy(kb, k.mv_data, n);
	kb[n] = 1;
	k.mv_size = n + 1;
	k.mv_data = kb;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = STORE_EXISTS;
	else if (rc == MDB_NOTFOUND)
		rc = 0;
done:
	mdb_cursor_close(c);
	if (rc == STORE_EXISTS)
		return rc;
	if ((rc = store_rc(t, rc)) != 0)
		return rc;
	if ((rc = store_peek(t, id, &tok)) != 0)
		return rc == STORE_NOTFOUND ? -1 : rc;
	*iss = tok.iss;
	return 0;
}
