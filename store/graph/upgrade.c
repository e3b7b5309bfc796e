/*
 * store upgrade: the tables of the sweep (sweep.c) for a database
 * written before them.
 */
#include <string.h>
#include <time.h>

#include "store/graph/store_int.h"

static const char sweep_mark[] = "\001sweep";	/* DB_META: tables built */

/* Upgrade: an issued token's exp and lifetime, a placeholder's due. */
static int
upgrade_token(struct store_txn *t, uint64_t id, const struct st *st)
{
	struct store_token tok;

	if (!(st->flags & ST_ISSUED))	/* its due, or no child: gone */
		return store_due_placeholder(t, id, INT64_MIN);
	if (store_peek(t, id, &tok) != 0)
		return -1;
	if (tok.exp > tok.iat && store_life_note(t, tok.iss,
	    tok.exp - tok.iat) == -1)
		return -1;
	return tok.exp != 0 ? store_exp_add(t, tok.exp, id) : 0;
}

/* Upgrade: every key of db due now (events: kept from now on). */
static int
upgrade_keys(struct store_txn *t, int db, int kind)
{
	MDB_cursor *c;
	MDB_val k, v;
	int64_t now = (int64_t)time(NULL);
	uint8_t kb[STORE_KEYMAX], vb[9];
	int rc;

	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c)) != 0)
		return store_rc(t, rc);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		/* A copy: a put moves the page k points into. */
		if (k.mv_size > sizeof(kb)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(kb, k.mv_data, k.mv_size);
		k.mv_data = kb;
		if (db == DB_EVENTS && v.mv_size == 0) {
			memcpy(vb, &now, 8);
			vb[8] = EV_LIFE_ANY;
			v.mv_size = sizeof(vb);
			v.mv_data = vb;
			if ((rc = mdb_cursor_put(c, &k, &v, MDB_CURRENT)) != 0)
				break;
		}
		if (store_due_add(t, kind, k.mv_data, k.mv_size,
		    INT64_MIN) == -1) {
			rc = t->rc ? t->rc : MDB_PANIC;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * A database written before the sweep has no DB_EXP nor DB_DUE: fill
 * them (tokens by exp, the rest due at once, so the first sweep looks
 * at each and dates it; an event id with no time is kept from the
 * upgrade on) and mark it done.  Inside store_open()'s transaction;
 * O(n) once.  An MDB code.
 */
int
store_sweep_upgrade(struct store *s, MDB_txn *txn)
{
	struct store_txn t;
	MDB_val k = { sizeof(sweep_mark) - 1, (void *)(uintptr_t)sweep_mark },
	    v = { 1, (void *)(uintptr_t)"1" };
	MDB_cursor *c;
	struct st st;
	size_t id;
	int rc;

	memset(&t, 0, sizeof(t));
	t.s = s;
	t.txn = txn;
	if ((rc = mdb_get(txn, s->dbi[DB_META], &k, &v)) != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->dbi[DB_ST], &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		memcpy(&id, k.mv_data, sizeof(id));
		if (store_st_load(&st, v.mv_data, v.mv_size) == -1 ||
		    upgrade_token(&t, id, &st) == -1) {
			rc = t.rc ? t.rc : MDB_CORRUPTED;
			break;
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND ||
	    (rc = upgrade_keys(&t, DB_RULES, DUE_RULE)) != 0 ||
	    (rc = upgrade_keys(&t, DB_HASHREV, DUE_HASH)) != 0 ||
	    (rc = upgrade_keys(&t, DB_EVENTS, DUE_EVENT)) != 0)
		return rc;
	k.mv_size = sizeof(sweep_mark) - 1;
	k.mv_data = (void *)(uintptr_t)sweep_mark;
	v.mv_size = 1;
	v.mv_data = (void *)(uintptr_t)"1";
	return mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
}
