/*
 * store: environment, transactions, the outbox and the counts.  The
 * graph itself is in graph.c and walk.c, the input's tables (events,
 * offsets, gaps, causes) in input.c.
 */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "store/graph/store_int.h"

#define DEFAULT_MAP	((size_t)64 << 30)

static const char *const parent_names[STORE_NPARENTS] = {
#define PARENT(u, name)	[STORE_PARENT_##u] = name,
#include "store/graph/tbl_parents.h"
#undef PARENT
};

static const struct {
	int		 kind;
	const char	*name;
} target_names[] = {
#define TARGET(u, name, v)	{ STORE_TGT_##u, name },
#include "store/graph/tbl_targets.h"
#undef TARGET
};

const char *
store_parent_name(int k)
{
	return k >= 0 && k < STORE_NPARENTS ? parent_names[k] : "?";
}

const char *
store_target_name(int k)
{
	size_t i;

	for (i = 0; i < sizeof(target_names) / sizeof(target_names[0]); i++)
		if (target_names[i].kind == k)
			return target_names[i].name;
	return "?";
}

static const struct {
	const char	*name;
	unsigned int	 flags;
} dbs[DB_COUNT] = {
	[DB_META] = { "meta", 0 },
	[DB_KEY2ID] = { "key2id", 0 },
	[DB_JTI2ID] = { "jti2id", MDB_DUPSORT | MDB_DUPFIXED |
	    MDB_INTEGERDUP },
	[DB_HASH2ID] = { "hash2id", 0 },
	[DB_TOK] = { "tok", MDB_INTEGERKEY },
	[DB_ST] = { "st", MDB_INTEGERKEY },
	[DB_KIDS] = { "kids", MDB_INTEGERKEY | MDB_DUPSORT | MDB_DUPFIXED |
	    MDB_INTEGERDUP },
	[DB_IDX] = { "idx_iat", MDB_DUPSORT | MDB_DUPFIXED },
	[DB_RULES] = { "rules", 0 },
	[DB_EVENTS] = { "events", 0 },
	[DB_OFFSETS] = { "offsets", 0 },
	[DB_CAUSES] = { "causes", MDB_INTEGERKEY },
	[DB_OUTBOX] = { "outbox", MDB_INTEGERKEY },
	[DB_LVL] = { "level", MDB_INTEGERKEY },
	[DB_HASHREV] = { "hashrev", 0 },
	[DB_EXP] = { "exp", 0 },
	[DB_DUE] = { "due", MDB_DUPSORT },
};

static int
open_dbis(struct store *s, char *errbuf, size_t errlen)
{
	MDB_txn *txn;
	int i, rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | MDB_CREATE,
		    &s->dbi[i]);
		if (rc != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = store_idx_upgrade(s, txn)) != 0 ||
	    (rc = store_sweep_upgrade(s, txn)) != 0 ||
	    (rc = store_cause_upgrade(s, txn)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(errbuf, errlen, "lmdb: %s", mdb_strerror(rc));
	return -1;
}

struct store *
store_open(const char *dir, size_t mapsize, char *errbuf, size_t errlen)
{
	struct store *s;
	int rc;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    /* one more for the old "idx", see store_idx_upgrade() */
	    (rc = mdb_env_set_maxdbs(s->env, DB_COUNT + 1)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 512)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env,
	    mapsize ? mapsize : DEFAULT_MAP)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0) {
		snprintf(errbuf, errlen, "lmdb %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	if (open_dbis(s, errbuf, errlen) == -1)
		goto fail;
	return s;
fail:
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
	return NULL;
}

int
store_lock(const char *dir, int *fdp, char *errbuf, size_t errlen)
{
	char path[4096], pid[32];
	ssize_t n;
	int fd;

	*fdp = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/revokerd.lock", dir) >=
	    sizeof(path)) {
		snprintf(errbuf, errlen, "%s: path too long", dir);
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(errbuf, errlen, "%s: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(errbuf, errlen, "%s is in use by another process%s%s",
		    dir, pid[0] ? ", pid " : "", pid);
		close(fd);
		return STORE_EXISTS;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

void
store_close(struct store **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	mdb_env_close((*sp)->env);
	free(*sp);
	*sp = NULL;
}

int
store_begin(struct store *s, int rdonly, struct store_txn **tp)
{
	struct store_txn *t;

	*tp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->s = s;
	t->rdonly = rdonly;
	if (mdb_txn_begin(s->env, NULL, rdonly ? MDB_RDONLY : 0,
	    &t->txn) != 0) {
		free(t);
		return -1;
	}
	*tp = t;
	return 0;
}

int
store_read_begin(struct store *s, struct store_txn **tp)
{
	if (*tp == NULL)
		return store_begin(s, 1, tp);
	if (mdb_txn_renew((*tp)->txn) != 0)
		return -1;
	return 0;
}

void
store_read_end(struct store_txn *t)
{
	if (t != NULL)
		mdb_txn_reset(t->txn);
}

static void
txn_free(struct store_txn *t)
{
	store_idvec_free(&t->revoked);
	store_idvec_free(&t->queue);
	free(t->cref);
	free(t);
}

int
store_commit(struct store_txn **tp)
{
	struct store_txn *t = *tp;
	int rc;

	*tp = NULL;
	assert(t->parent == NULL && !t->child);
	if ((!t->rdonly && store_cause_flush(t) == -1) ||
	    (t->revoked.n > 0 && store_outbox_add(t, STORE_OUT_CASCADE,
	    t->revoked.v, t->revoked.n * sizeof(uint64_t)) == -1)) {
		mdb_txn_abort(t->txn);
		txn_free(t);
		return -1;
	}
	if ((rc = mdb_txn_commit(t->txn)) != 0 && !t->rdonly)
		t->s->wrc = rc;
	txn_free(t);
	return rc == 0 ? 0 : -1;
}

int
store_sub_begin(struct store_txn *parent, struct store_txn **tp)
{
	struct store_txn *t;
	int rc;

	*tp = NULL;
	STORE_WRITER(parent);
	assert(parent->parent == NULL);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->s = parent->s;
	t->parent = parent;
	if ((rc = mdb_txn_begin(parent->s->env, parent->txn, 0,
	    &t->txn)) != 0) {
		parent->rc = parent->s->wrc = rc;
		free(t);
		return -1;
	}
	parent->child = 1;
	*tp = t;
	return 0;
}

int
store_sub_commit(struct store_txn **tp)
{
	struct store_txn *t = *tp, *p;
	size_t i;
	int rc;

	*tp = NULL;
	assert(t->parent != NULL && t->parent->child);
	p = t->parent;
	p->child = 0;
	/* Room first: once committed, the child's ids must not be lost. */
	if (store_idvec_reserve(&p->revoked, t->revoked.n) == -1 ||
	    store_cause_reserve(p, t) == -1) {
		mdb_txn_abort(t->txn);
		txn_free(t);
		return -1;
	}
	if ((rc = mdb_txn_commit(t->txn)) != 0) {
		p->rc = p->s->wrc = rc;
		txn_free(t);
		return -1;
	}
	for (i = 0; i < t->revoked.n; i++)
		p->revoked.v[p->revoked.n++] = t->revoked.v[i];
	rc = store_cause_merge(p, t);
	txn_free(t);
	return rc == 0 ? 0 : -1;
}

/*
 * Full: a write that more room would let through.  LMDB reports a full
 * map as MDB_MAP_FULL; a full disk surfaces as ENOSPC (or EDQUOT) when
 * the commit writes its pages.
 */
static int
failure_kind(int rc)
{
	if (rc == 0)
		return STORE_FAIL_NONE;
	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL || rc == MDB_PAGE_FULL ||
	    rc == ENOSPC || rc == EDQUOT)
		return STORE_FAIL_FULL;
	return STORE_FAIL_IO;
}

int
store_txn_failure(const struct store_txn *t)
{
	return failure_kind(t->rc);
}

int
store_failure(const struct store *s, const char **what)
{
	if (what != NULL)
		*what = mdb_strerror(s->wrc);
	return failure_kind(s->wrc);
}

void
store_failure_clear(struct store *s)
{
	s->wrc = 0;
}

void
store_abort(struct store_txn **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	assert(!(*tp)->child);	/* the child first */
	if ((*tp)->parent != NULL)
		(*tp)->parent->child = 0;
	mdb_txn_abort((*tp)->txn);
	txn_free(*tp);
	*tp = NULL;
}

uint64_t
store_txn_reads(const struct store_txn *t)
{
	return t->reads;
}

const char *
store_strerror(struct store_txn *t)
{
	return mdb_strerror(t->rc);
}

int
store_rc(struct store_txn *t, int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	t->rc = rc;
	if (!t->rdonly)		/* the writer is one thread */
		t->s->wrc = rc;
	return -1;
}

int
store_idvec_push(struct idvec *iv, uint64_t id)
{
	uint64_t *nv;
	size_t ncap;

	if (iv->n == iv->cap) {
		ncap = iv->cap ? iv->cap * 2 : 256;
		if ((nv = realloc(iv->v, ncap * sizeof(*nv))) == NULL)
			return -1;
		iv->v = nv;
		iv->cap = ncap;
	}
	iv->v[iv->n++] = id;
	return 0;
}

int
store_idvec_reserve(struct idvec *iv, size_t more)
{
	uint64_t *nv;
	size_t ncap = iv->cap ? iv->cap : 256;

	if (more <= iv->cap - iv->n)
		return 0;
	while (ncap - iv->n < more)
		ncap *= 2;
	if ((nv = realloc(iv->v, ncap * sizeof(*nv))) == NULL)
		return -1;
	iv->v = nv;
	iv->cap = ncap;
	return 0;
}

void
store_idvec_free(struct idvec *iv)
{
	free(iv->v);
	memset(iv, 0, sizeof(*iv));
}

/*
 * prefix (-1: none) as one byte, then a, NUL, b (b may be NULL).  A key
 * longer than LMDB's limit keeps its first bytes and ends with the
 * SHA-256 of the whole, so distinct long keys stay distinct.
 */
size_t
store_key_make(uint8_t *out, int prefix, const char *a, const char *b)
{
	uint8_t full[1 + 2 * 4096 + 2];
	size_t n = 0, la = strnlen(a, 4096), lb = b ? strnlen(b, 4096) : 0;

	if (prefix >= 0)
		full[n++] = (uint8_t)prefix;
	memcpy(full + n, a, la);
	n += la;
	if (b != NULL) {
		full[n++] = '\0';
		memcpy(full + n, b, lb);
		n += lb;
	}
	if (n <= STORE_KEYMAX) {
		memcpy(out, full, n);
		return n;
	}
	memcpy(out, full, STORE_KEYMAX - SHA256_DIGEST_LENGTH);
	SHA256(full, n, out + STORE_KEYMAX - SHA256_DIGEST_LENGTH);
	return STORE_KEYMAX;
}

void
store_work_add(struct store_txn *t, int what, uint64_t n)
{
	atomic_fetch_add_explicit(&t->s->work[what], n, memory_order_relaxed);
}

int
store_meta_next(struct store_txn *t, const char *name, uint64_t *val)
{
	MDB_val k = { strlen(name), (void *)(uintptr_t)name }, v;
	uint64_t cur = 1;
	int rc;

	rc = mdb_get(t->txn, t->s->dbi[DB_META], &k, &v);
	if (rc == 0 && v.mv_size != sizeof(cur))
		return -1;	/* never restart a counter: ids would repeat */
	if (rc == 0)
		memcpy(&cur, v.mv_data, sizeof(cur));
	else if (rc != MDB_NOTFOUND)
		return store_rc(t, rc);
	*val = cur;
	cur++;
	v.mv_size = sizeof(cur);
	v.mv_data = &cur;
	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_META], &k, &v, 0));
}

int
store_outbox_add(struct store_txn *t, uint8_t kind, const void *data,
    size_t len)
{
	uint64_t seq;
	size_t key;
	MDB_val k = { sizeof(key), &key }, v = { len + 1, NULL };
	int rc;

	STORE_WRITER(t);
	if (store_meta_next(t, "next_seq", &seq) == -1)
		return -1;
	key = (size_t)seq;
	rc = mdb_put(t->txn, t->s->dbi[DB_OUTBOX], &k, &v, MDB_RESERVE);
	if (rc != 0)
		return store_rc(t, rc);
	((uint8_t *)v.mv_data)[0] = kind;
	if (len > 0)
		memcpy((uint8_t *)v.mv_data + 1, data, len);
	return 0;
}

int
store_outbox_next(struct store_txn *t, uint64_t after, uint64_t *seq,
    uint8_t *kind, const void **data, size_t *len)
{
	MDB_cursor *c;
	size_t key = (size_t)after + 1;
	MDB_val k = { sizeof(key), &key }, v;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_OUTBOX], &c)) != 0)
		return store_rc(t, rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(c);
	if ((rc = store_rc(t, rc)) != 0)
		return rc;
	if (v.mv_size < 1)
		return -1;
	memcpy(&key, k.mv_data, sizeof(key));
	*seq = key;
	*kind = ((uint8_t *)v.mv_data)[0];
	*data = (uint8_t *)v.mv_data + 1;
	*len = v.mv_size - 1;
	return 0;
}

int
store_outbox_del(struct store_txn *t, uint64_t seq)
{
	size_t key = (size_t)seq;
	MDB_val k = { sizeof(key), &key };
	int rc;

	STORE_WRITER(t);
	rc = store_rc(t, mdb_del(t->txn, t->s->dbi[DB_OUTBOX], &k, NULL));
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_outbox_count(struct store_txn *t, uint64_t *n)
{
	MDB_stat ms;
	int rc;

	if ((rc = mdb_stat(t->txn, t->s->dbi[DB_OUTBOX], &ms)) != 0)
		return store_rc(t, rc);
	*n = ms.ms_entries;
	return 0;
}

static int
count_status(struct store_txn *t, struct store_stats *ss)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct st st;
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[DB_ST], &c)) != 0)
		return store_rc(t, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (store_st_load(&st, v.mv_data, v.mv_size) == -1) {
			mdb_cursor_close(c);
			return -1;
		}
		if (!(st.flags & ST_ISSUED)) {
			ss->placeholders++;
			continue;
		}
		ss->tokens++;
		ss->by_status[st.eff & 3]++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : store_rc(t, rc);
}

int
store_usage(struct store_txn *t, uint64_t *bytes, uint64_t *tokens)
{
	MDB_envinfo ei;
	MDB_stat ms;
	int rc;

	if ((rc = mdb_env_info(t->s->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(t->s->env, &ms)) != 0)
		return store_rc(t, rc);
	*bytes = (uint64_t)(ei.me_last_pgno + 1) * ms.ms_psize;
	if ((rc = mdb_stat(t->txn, t->s->dbi[DB_ST], &ms)) != 0)
		return store_rc(t, rc);
	*tokens = ms.ms_entries;
	return 0;
}

int
store_stats(struct store_txn *t, struct store_stats *ss)
{
	MDB_stat ms;
	MDB_envinfo ei;

	memset(ss, 0, sizeof(*ss));
	if (count_status(t, ss) == -1)
		return -1;
	if (mdb_stat(t->txn, t->s->dbi[DB_KIDS], &ms) != 0)
		return -1;
	ss->edges = ms.ms_entries;
	if (mdb_stat(t->txn, t->s->dbi[DB_EVENTS], &ms) != 0)
		return -1;
	ss->events = ms.ms_entries;
	if (mdb_stat(t->txn, t->s->dbi[DB_OUTBOX], &ms) != 0)
		return -1;
	ss->outbox = ms.ms_entries;
	if (mdb_env_info(t->s->env, &ei) != 0 ||
	    mdb_env_stat(t->s->env, &ms) != 0)
		return -1;
	ss->cycle_steps = atomic_load_explicit(&t->s->work[WORK_CYCLE],
	    memory_order_relaxed);
	ss->rule_scanned = atomic_load_explicit(&t->s->work[WORK_RULE],
	    memory_order_relaxed);
	ss->map_size = ei.me_mapsize;
	ss->map_used = (ei.me_last_pgno + 1) * (size_t)ms.ms_psize;
	return 0;
}
