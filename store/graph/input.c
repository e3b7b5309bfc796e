/*
 * store input: what the store keeps of its input beside the graph:
 * applied event ids, consumed offsets, input gaps, revocation causes.
 */
#include <stdint.h>
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

/* Cause record: time, target kind, then four NUL-terminated strings. */
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
	memset(buf + 12, 0, 4);
	for (i = 0; i < 4; i++) {
		l = strnlen(str[i], 4096);
		memcpy(buf + n, str[i], l);
		n += l;
		buf[n++] = '\0';
	}
	v.mv_size = n;
	v.mv_data = buf;
	*ref = key;
	return store_rc(t, mdb_put(t->txn, t->s->dbi[DB_CAUSES], &k, &v, 0));
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
