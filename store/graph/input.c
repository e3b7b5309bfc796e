/*
 * store input: what the store keeps of its input beside the graph:
 * applied event ids, consumed offsets, input gaps, revocation causes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "store/graph/store_int.h"

int
store_event_seen(struct store_txn *t, const char *id)
{
	uint8_t kb[STORE_KEYMAX];
	MDB_val k, v;
	int rc;

	k.mv_size = store_key_make(kb, -1, id, NULL);
	k.mv_data = kb;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_EVENTS], &k, &v));
	if (rc == -1)
		return -1;
	return rc == 0;
}

static const char life_any[] = "\001life";	/* DB_META; + iss: one's */

static size_t
life_key(uint8_t *kb, const char *iss)
{
	size_t n = sizeof(life_any) - 1, l;

	memcpy(kb, life_any, n);
	if (iss == NULL)
		return n;
	kb[n++] = '\0';
	l = strnlen(iss, 256);
	memcpy(kb + n, iss, l);
	return n + l;
}

int
store_life_get(struct store_txn *t, const char *iss, int64_t *life)
{
	uint8_t kb[sizeof(life_any) + 257];
	MDB_val k = { life_key(kb, iss), kb }, v;
	int rc;

	*life = 0;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_META], &k, &v));
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (v.mv_size != sizeof(*life))
		return -1;
	memcpy(life, v.mv_data, sizeof(*life));
	return 0;
}

/* Raise the longest lifetime of iss, and of any issuer, to life. */
int
store_life_note(struct store_txn *t, const char *iss, int64_t life)
{
	uint8_t kb[sizeof(life_any) + 257];
	MDB_val k, v = { sizeof(life), &life };
	const char *which[2] = { iss, NULL };
	int64_t cur;
	int i;

	for (i = 0; i < 2; i++) {
		if (store_life_get(t, which[i], &cur) == -1)
			return -1;
		if (cur >= life)
			continue;
		k.mv_size = life_key(kb, which[i]);
		k.mv_data = kb;
		if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_META], &k, &v,
		    0)) != 0)
			return -1;
	}
	return 0;
}

/*
 * The applied event id, kept until until, plus the longest lifetime of
 * issuer life_iss ("" any issuer's) when life_iss is not NULL.  The
 * value: until, the mode, the issuer.  O(log n).
 */
int
store_event_mark(struct store_txn *t, const char *id, int64_t until,
    const char *life_iss)
{
	uint8_t kb[STORE_KEYMAX], vb[9 + 256];
	MDB_val k, v = { 9, vb };
	int64_t life = 0;
	size_t l;

	STORE_WRITER(t);
	k.mv_size = store_key_make(kb, -1, id, NULL);
	k.mv_data = kb;
	memcpy(vb, &until, 8);
	vb[8] = life_iss == NULL ? EV_LIFE_NONE : life_iss[0] == '\0' ?
	    EV_LIFE_ANY : EV_LIFE_ISS;
	if (vb[8] == EV_LIFE_ISS) {
		l = strnlen(life_iss, 256);
		memcpy(vb + 9, life_iss, l);
		v.mv_size += l;
	}
	if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_EVENTS], &k, &v,
	    0)) != 0)
		return -1;
	if (vb[8] != EV_LIFE_NONE && store_life_get(t, vb[8] == EV_LIFE_ISS ?
	    life_iss : NULL, &life) == -1)
		return -1;
	return store_due_add(t, DUE_EVENT, kb, k.mv_size,
	    store_time_add(until, life));
}

static size_t
offset_key(uint8_t *kb, const char *topic, int32_t partition)
{
	size_t n = strnlen(topic, 255);

	memcpy(kb, topic, n);
	kb[n++] = '\0';
	kb[n++] = (uint8_t)((uint32_t)partition >> 24);
	kb[n++] = (uint8_t)((uint32_t)partition >> 16);
	kb[n++] = (uint8_t)((uint32_t)partition >> 8);
	kb[n++] = (uint8_t)partition;
	return n;
}

int
store_offset_get(struct store_txn *t, const char *topic, int32_t partition,
    int64_t *next)
{
	uint8_t kb[300];
	MDB_val k, v;
	int rc;

	k.mv_size = offset_key(kb, topic, partition);
	k.mv_data = kb;
	rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_OFFSETS], &k, &v));
	if (rc != 0)
		return rc;
	if (v.mv_size != sizeof(*next))
		return -1;
	memcpy(next, v.mv_data, sizeof(*next));
	return 0;
}

int
store_offset_set(struct store_txn *t, const char *topic, int32_t partition,
    int64_t next)
{
	uint8_t kb[300];
	MDB_val k, v = { sizeof(next), &next };

	k.mv_size = offset_key(kb, topic, partition);
	k.mv_data = kb;
	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_OFFSETS], &k, &v, 0));
}

/* A u64 of DB_META under key k; 0 when absent.  0 or -1. */
static int
meta_u64(struct store_txn *t, MDB_val *k, uint64_t *val)
{
	MDB_val v;
	int rc;

	*val = 0;
	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_META], k, &v))) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (v.mv_size != sizeof(*val))
		return -1;
	memcpy(val, v.mv_data, sizeof(*val));
	return 0;
}

static int
meta_put_u64(struct store_txn *t, MDB_val *k, uint64_t val)
{
	MDB_val v = { sizeof(val), &val };

	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_META], k, &v, 0));
}

static char gap_pending[] = "gap_pending";
#define GAP_PENDING	gap_pending

/*
 * Per (topic, partition), the end of the last gap recorded, so that the
 * same gap found again (a restart before its offsets were committed)
 * is not counted twice.
 */
int
store_gap_add(struct store_txn *t, const char *topic, int32_t partition,
    int64_t from, int64_t to, uint64_t *added)
{
	uint8_t kb[4 + 300];
	MDB_val k = { 0, kb }, kp = { sizeof(GAP_PENDING) - 1, GAP_PENDING };
	uint64_t end, pending, n;

	if (added != NULL)
		*added = 0;
	memcpy(kb, "gap", 4);
	k.mv_size = 4 + offset_key(kb + 4, topic, partition);
	if (meta_u64(t, &k, &end) == -1 || meta_u64(t, &kp, &pending) == -1)
		return -1;
	if (from < 0)
		from = 0;
	if ((uint64_t)from < end)
		from = (int64_t)end;
	/* A gap of unknown size (the topic recreated) still counts one. */
	n = to > from ? (uint64_t)(to - from) : (to < 0 && end == 0);
	if (n == 0)
		return 0;
	if (to > 0 && meta_put_u64(t, &k, (uint64_t)to) == -1)
		return -1;
	if (added != NULL)
		*added = n;
	return meta_put_u64(t, &kp, pending + n);
}

int
store_gap_pending(struct store_txn *t, uint64_t *n)
{
	MDB_val kp = { sizeof(GAP_PENDING) - 1, GAP_PENDING };

	return meta_u64(t, &kp, n);
}

int
store_gap_ack(struct store_txn *t, uint64_t *n)
{
	MDB_val kp = { sizeof(GAP_PENDING) - 1, GAP_PENDING };

	if (meta_u64(t, &kp, n) == -1)
		return -1;
	return *n == 0 ? 0 : meta_put_u64(t, &kp, 0);
}

/*
 * Cause record: time, target kind, the reference count (CAUSE_COUNTED
 * set: counted; clear: written before counts, kept for good), then four
 * NUL-terminated strings.
 */
#define CAUSE_COUNTED	0x80000000u
#define CAUSE_REFS	12	/* offset of the count */
int
store_cause_add(struct store_txn *t, const struct store_cause *c,
    uint32_t *ref)
{
	const char *str[4] = { c->event_id, c->reason ? c->reason : "",
	    c->iss, c->target };
	uint8_t buf[16 + 4 * 4097];
	size_t n = 16, l;
	uint64_t next;
	unsigned int key;
	int32_t kind = c->target_kind;
	MDB_val k = { sizeof(key), &key }, v;
	int i;

	if (store_meta_next(t, "next_cause", &next) == -1)
		return -1;
	if (next > UINT32_MAX)
		return -1;
	key = (unsigned int)next;
	memcpy(buf, &c->time, 8);
	memcpy(buf + 8, &kind, 4);
	memcpy(buf + CAUSE_REFS, &(uint32_t){ CAUSE_COUNTED }, 4);
	for (i = 0; i < 4; i++) {
		l = strnlen(str[i], 4096);
		memcpy(buf + n, str[i], l);
		n += l;
		buf[n++] = '\0';
	}
	v.mv_size = n;
	v.mv_data = buf;
	*ref = key;
	if (store_rc(t, mdb_put(t->txn, t->s->dbi[DB_CAUSES], &k, &v, 0)) != 0)
		return -1;
	return store_cause_ref(t, key, 0);	/* gone at commit if unused */
}

/* Note delta references to cause, for store_cause_flush().  0 or -1. */
int
store_cause_ref(struct store_txn *t, uint32_t cause, int64_t delta)
{
	struct cref *v;
	size_t i;

	for (i = t->ncref; i > 0; i--)
		if (t->cref[i - 1].cause == cause) {
			t->cref[i - 1].delta += delta;
			return 0;
		}
	if (t->ncref == t->capcref) {
		if ((v = reallocarray(t->cref, t->capcref ? t->capcref * 2 :
		    16, sizeof(*v))) == NULL)
			return -1;
		t->cref = v;
		t->capcref = t->capcref ? t->capcref * 2 : 16;
	}
	t->cref[t->ncref].cause = cause;
	t->cref[t->ncref++].delta = delta;
	return 0;
}

/* Room in p for t's changes, so that the merge after commit can't fail. */
int
store_cause_reserve(struct store_txn *p, const struct store_txn *t)
{
	struct cref *v;
	size_t want = p->ncref + t->ncref;

	if (want <= p->capcref)
		return 0;
	if ((v = reallocarray(p->cref, want, sizeof(*v))) == NULL)
		return -1;
	p->cref = v;
	p->capcref = want;
	return 0;
}

int
store_cause_merge(struct store_txn *p, const struct store_txn *t)
{
	size_t i;

	for (i = 0; i < t->ncref; i++)
		if (store_cause_ref(p, t->cref[i].cause, t->cref[i].delta) ==
		    -1)
			return -1;
	return 0;
}

/* Apply one count change to cause's record: rewrite or forget it. */
static int
cause_count(struct store_txn *t, uint32_t cause, int64_t delta)
{
	unsigned int key = cause;
	MDB_val k = { sizeof(key), &key }, v;
	uint8_t buf[16 + 4 * 4097];
	uint32_t refs;
	int64_t n;
	int rc;

	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_CAUSES], &k,
	    &v))) != 0)
		return rc == STORE_NOTFOUND ? 0 : -1;
	if (v.mv_size < 16 || v.mv_size > sizeof(buf))
		return -1;
	memcpy(&refs, (uint8_t *)v.mv_data + CAUSE_REFS, 4);
	if (!(refs & CAUSE_COUNTED))
		return 0;
	n = (int64_t)(refs & ~CAUSE_COUNTED) + delta;
	if (n <= 0)
		return store_rc(t, mdb_del(t->txn, t->s->dbi[DB_CAUSES], &k,
		    NULL));
	if (delta == 0)
		return 0;
	refs = CAUSE_COUNTED | (uint32_t)(n < (int64_t)~CAUSE_COUNTED ? n :
	    (int64_t)~CAUSE_COUNTED);
	memcpy(buf, v.mv_data, v.mv_size);
	memcpy(buf + CAUSE_REFS, &refs, 4);
	v.mv_data = buf;
	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_CAUSES], &k, &v, 0));
}

int
store_cause_flush(struct store_txn *t)
{
	size_t i;

	for (i = 0; i < t->ncref; i++)
		if (cause_count(t, t->cref[i].cause, t->cref[i].delta) == -1)
			return -1;
	t->ncref = 0;
	return 0;
}

int
store_cause_get(struct store_txn *t, uint32_t ref, struct store_cause *c)
{
	unsigned int key = ref;
	MDB_val k = { sizeof(key), &key }, v;
	const char *p, *end, **str[4] = { &c->event_id, &c->reason, &c->iss,
	    &c->target };
	int32_t kind;
	int i, rc;

	if ((rc = store_rc(t, mdb_get(t->txn, t->s->dbi[DB_CAUSES], &k,
	    &v))) != 0)
		return rc;
	if (v.mv_size < 16 + 4)
		return -1;
	memcpy(&c->time, v.mv_data, 8);
	memcpy(&kind, (uint8_t *)v.mv_data + 8, 4);
	c->target_kind = kind;
	p = (const char *)v.mv_data + 16;
	end = (const char *)v.mv_data + v.mv_size;
	for (i = 0; i < 4; i++) {
		if (p >= end)
			return -1;
		*str[i] = p;
		p += strnlen(p, end - p) + 1;
	}
	return 0;
}

static const char causes_mark[] = "\001causes";	/* DB_META: counted */

/* Upgrade: count the reference of cause by index into cnt (n slots). */
static void
upgrade_count(uint32_t *cnt, uint64_t n, uint32_t cause)
{
	if (cause < n && cnt[cause] < ~CAUSE_COUNTED)
		cnt[cause]++;
}

/* Upgrade: the references of every status, rule and remembered hash. */
static int
upgrade_refs(MDB_txn *txn, struct store *s, uint32_t *cnt, uint64_t n)
{
	static const int dbs[3] = { DB_ST, DB_RULES, DB_HASHREV };
	MDB_cursor *c;
	MDB_val k, v;
	struct st st;
	struct rule rl;
	uint32_t cause;
	int i, rc;

	for (i = 0; i < 3; i++) {
		if ((rc = mdb_cursor_open(txn, s->dbi[dbs[i]], &c)) != 0)
			return rc;
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
			if (i == 0 && store_st_load(&st, v.mv_data,
			    v.mv_size) == 0 && st.eff == STORE_REVOKED)
				upgrade_count(cnt, n, st.cause);
			if (i == 1 && v.mv_size == sizeof(rl)) {
				memcpy(&rl, v.mv_data, sizeof(rl));
				upgrade_count(cnt, n, rl.cause);
			}
			if (i == 2 && v.mv_size == sizeof(cause)) {
				memcpy(&cause, v.mv_data, sizeof(cause));
				upgrade_count(cnt, n, cause);
			}
		}
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

/* Upgrade: each uncounted cause gets its count, or goes if it has none. */
static int
upgrade_causes(MDB_txn *txn, struct store *s, const uint32_t *cnt,
    uint64_t n)
{
	uint8_t buf[16 + 4 * 4097];
	MDB_cursor *c;
	MDB_val k, v;
	unsigned int key;
	uint32_t refs;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->dbi[DB_CAUSES], &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size < 16 || k.mv_size != sizeof(key))
			continue;
		memcpy(&key, k.mv_data, sizeof(key));
		memcpy(&refs, (uint8_t *)v.mv_data + CAUSE_REFS, 4);
		if ((refs & CAUSE_COUNTED) || key >= n)
			continue;
		if (cnt[key] == 0) {
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				break;
			continue;
		}
		if (v.mv_size > sizeof(buf))
			continue;
		refs = CAUSE_COUNTED | cnt[key];
		memcpy(buf, v.mv_data, v.mv_size);
		memcpy(buf + CAUSE_REFS, &refs, 4);
		v.mv_data = buf;
		if ((rc = mdb_cursor_put(c, &k, &v, MDB_CURRENT)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A database written before causes were counted: count the references
 * of each, and forget those with none.  Inside store_open()'s
 * transaction; O(n) once, 4 bytes a cause of memory.  An MDB code.
 */
int
store_cause_upgrade(struct store *s, MDB_txn *txn)
{
	MDB_val k = { sizeof(causes_mark) - 1, (void *)(uintptr_t)causes_mark },
	    v, kn = { 10, (void *)(uintptr_t)"next_cause" };
	uint64_t n = 0;
	uint32_t *cnt;
	int rc;

	if ((rc = mdb_get(txn, s->dbi[DB_META], &k, &v)) != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_get(txn, s->dbi[DB_META], &kn, &v)) == 0 &&
	    v.mv_size == sizeof(n))
		memcpy(&n, v.mv_data, sizeof(n));
	else if (rc != MDB_NOTFOUND)
		return rc;
	if (n > UINT32_MAX || (cnt = calloc(n + 1, sizeof(*cnt))) == NULL)
		return ENOMEM;
	if ((rc = upgrade_refs(txn, s, cnt, n + 1)) == 0)
		rc = upgrade_causes(txn, s, cnt, n + 1);
	free(cnt);
	if (rc != 0)
		return rc;
	v.mv_size = 1;
	v.mv_data = (void *)(uintptr_t)"1";
	return mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
}
