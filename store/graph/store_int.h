/* store internals shared by the files of store/; not a public header. */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <assert.h>
#include <lmdb.h>

#include "store/graph/store.h"

#define DB_META		0	/* name -> value */
#define DB_KEY2ID	1	/* iss\0jti -> id */
#define DB_JTI2ID	2	/* jti -> id (dup) */
#define DB_HASH2ID	3	/* sha256 -> id */
#define DB_TOK		4	/* id -> struct rec + strings */
#define DB_ST		5	/* id -> struct st */
#define DB_KIDS		6	/* id -> child id (dup) */
#define DB_IDX		7	/* kind iss\0value -> iat, id (dup, BE) */
#define DB_RULES	8	/* kind iss\0value -> struct rule */
#define DB_EVENTS	9	/* event id -> "" */
#define DB_OFFSETS	10	/* topic\0 partition -> next offset */
#define DB_CAUSES	11	/* ref -> struct causerec + strings */
#define DB_OUTBOX	12	/* seq -> kind + bytes */
#define DB_LVL		13	/* id -> uint32 level (cycle.c); none: 0 */
#define DB_HASHREV	14	/* sha256 -> cause ref: revoked, unissued */
#define DB_EXP		15	/* exp, id (BE) -> "": issued (sweep.c) */
#define DB_DUE		16	/* due (BE), kind -> ref (dup) (sweep.c) */
#define DB_COUNT	17

#define ST_ISSUED	0x01
#define ST_KIDS		0x02
#define ST_CYCLE	0x04	/* closed a cycle when issued */
#define ST_SWEPT	0x08	/* a revoked token swept: issued once */

/*
 * The status of a token, copied in and out (no alignment).  depth and
 * root say how a revoked token was reached, for the path of its
 * revocation message (SPEC 3) without a walk up: depth hops from the
 * token its cause revoked itself (the walk's generation), root that
 * token's id (0: the token itself, depth 0).  Stored in ST_SIZE_SHORT
 * bytes when root is 0, whole otherwise; a record written before depth
 * existed has ST_SIZE_OLD bytes and reads as depth ST_DEPTH_UNKNOWN.
 */
struct st {
	uint8_t		 eff;
	uint8_t		 own;
	uint8_t		 rule;
	uint8_t		 flags;
	uint32_t	 cause;
	uint32_t	 depth;
	uint32_t	 pad;
	uint64_t	 root;
};
#define ST_SIZE_OLD	8
#define ST_SIZE_SHORT	12
#define ST_DEPTH_UNKNOWN STORE_DEPTH_UNKNOWN

/* The fixed head of a token record; strings follow, NUL-terminated. */
struct rec {
	int64_t		 iat;
	int64_t		 nbf;
	int64_t		 exp;
	uint64_t	 parent[STORE_NPARENTS];
	uint8_t		 kind;
	uint8_t		 uflags;
	uint8_t		 has_hash;
	uint8_t		 pad;		/* REC_* flags */
	uint32_t	 claims_len;
	uint16_t	 slen[4];	/* iss, jti, sub, client_id */
	uint8_t		 hash[STORE_HASH_LEN];
};

/*
 * The record lists the actors after the claims: a count byte, then each
 * sub NUL-terminated (for the sweep to find their index entries).  A
 * record written before has no list.
 */
#define REC_ACTORS	0x01

struct rule {
	int64_t		 time;
	uint32_t	 cause;
	uint32_t	 pad;
};

/* A growable array of ids. */
struct idvec {
	uint64_t	*v;
	size_t		 n;
	size_t		 cap;
};

/* Work counters, for tests of cost (store_stats()). */
#define WORK_CYCLE	0	/* arcs looked at by cycle checks */
#define WORK_RULE	1	/* index entries read by rule scans */
#define WORK_N		2

/* An open-addressing set of ids (never 0), for walks. */
struct idset {
	uint64_t	*v;
	size_t		 cap;
	size_t		 n;
};

struct store {
	MDB_env		*env;
	MDB_dbi		 dbi[DB_COUNT];
	int		 wrc;		/* LMDB error of the last bad write */
	_Atomic uint64_t work[WORK_N];
};

/* A change of a cause's reference count, applied at commit (input.c). */
struct cref {
	uint32_t	 cause;
	int64_t		 delta;
};

struct store_txn {
	struct store	*s;
	MDB_txn		*txn;
	struct store_txn *parent;	/* of a nested transaction */
	int		 child;		/* a nested transaction is open */
	int		 rdonly;
	int		 rc;		/* last LMDB error */
	struct idvec	 revoked;	/* issued tokens newly revoked */
	struct idvec	 queue;		/* scratch for walks */
	uint64_t	 reads;		/* token records read (store_peek) */
	struct cref	*cref;		/* cause references taken, dropped */
	size_t		 ncref, capcref;
};

/*
 * Invariant of every write: a write transaction, and not one whose
 * nested child is open (LMDB forbids using the parent meanwhile).  On
 * in production builds, as every assert here.
 */
#define STORE_WRITER(t)	assert(!(t)->rdonly && !(t)->child)

#define STORE_KEYMAX	511

/* Build a key of up to STORE_KEYMAX bytes from parts joined by NUL. */
size_t	store_key_make(uint8_t *out, int prefix, const char *a, const char *b);

int	store_idvec_push(struct idvec *, uint64_t);
/* Room for more ids without a further allocation.  0 or -1. */
int	store_idvec_reserve(struct idvec *, size_t more);
void	store_idvec_free(struct idvec *);
/* Add id: 1 if it was new, 0 if present, -1 out of memory. */
int	store_idset_add(struct idset *, uint64_t id);
int	store_idset_has(const struct idset *, uint64_t id);
void	store_idset_free(struct idset *);

/* LMDB result to 0 / STORE_NOTFOUND / -1, remembering the error. */
int	store_rc(struct store_txn *, int mdbrc);
int	store_st_read(struct store_txn *, uint64_t id, struct st *);
int	store_st_write(struct store_txn *, uint64_t id, const struct st *);
/* A DB_ST value into *st (any of its sizes); 0, or -1 if malformed. */
int	store_st_load(struct st *, const void *data, size_t len);
/* The bytes of *st to store (ST_SIZE_SHORT or whole). */
size_t	store_st_size(const struct st *);
int	store_children_count(struct store_txn *, uint64_t id, uint64_t *n);
int	store_kids_each(struct store_txn *, uint64_t id, int (*)(void *,
    uint64_t),
	    void *);
int	store_jti_add(struct store_txn *, const char *jti, uint64_t id);
int	store_rec_read_head(struct store_txn *, uint64_t id, struct rec *);
/* The record head, and its strings at *p, *len bytes (map memory). */
int	store_rec_read(struct store_txn *, uint64_t id, struct rec *,
	    const char **p, size_t *len);
/* Write the record of id; actors (may be NULL) are listed after claims. */
int	store_rec_write(struct store_txn *, uint64_t id,
    const struct store_token *, const char *const *actors, size_t nactors);
/* walk.c: the DB_IDX duplicate of (iat, id). */
void	store_idx_entry(uint8_t out[16], int64_t iat, uint64_t id);
/*
 * sweep.c: the tables of the sweep.  exp_add: token id expires at exp.
 * due_*: look at a thing again at due.  life: the longest lifetime seen
 * for iss (NULL: any issuer), and raising it.  ph_due: when revoked
 * placeholder id is due.  upgrade: fill the tables of an older
 * database (an MDB code).  0 or -1 each, O(log n).
 */
int	store_exp_add(struct store_txn *, int64_t exp, uint64_t id);
int	store_due_placeholder(struct store_txn *, uint64_t id, int64_t due);
int	store_due_rule(struct store_txn *, const void *key, size_t len,
	    int64_t due);
int	store_due_hash(struct store_txn *, const uint8_t *hash, int64_t due);
int	store_due_add(struct store_txn *, int kind, const void *ref,
	    size_t len, int64_t due);
int	store_life_get(struct store_txn *, const char *iss, int64_t *life);
int	store_life_note(struct store_txn *, const char *iss, int64_t life);
int	store_ph_due(struct store_txn *, uint64_t id, int64_t *due);
int	store_sweep_upgrade(struct store *, MDB_txn *);
/*
 * input.c: reference counts of causes.  A cause is referenced by each
 * token or placeholder it revoked (st.cause of a revoked one), each rule
 * and each remembered hash naming it; cause_ref() notes a change, and
 * store_commit() applies them (cause_flush()): a cause no longer
 * referenced is forgotten.  A cause written before the counts existed
 * is never forgotten.  merge: a nested transaction's into its parent's.
 */
int	store_cause_ref(struct store_txn *, uint32_t cause, int64_t delta);
int	store_cause_flush(struct store_txn *);
int	store_cause_reserve(struct store_txn *parent, const struct store_txn *);
int	store_cause_merge(struct store_txn *parent, const struct store_txn *);
int	store_cause_upgrade(struct store *, MDB_txn *);

/* Kinds of DB_DUE entries (sweep.c), and what each refers to. */
#define DUE_PH		1	/* revoked or orphaned placeholder: id */
#define DUE_RULE	2	/* DB_RULES key */
#define DUE_HASH	3	/* DB_HASHREV key */
#define DUE_EVENT	4	/* DB_EVENTS key */
/* How long an applied event id is kept (the mode in its DB_EVENTS value) */
#define EV_LIFE_NONE	0	/* until its time */
#define EV_LIFE_ISS	1	/* ... plus its issuer's longest lifetime */
#define EV_LIFE_ANY	2	/* ... plus any issuer's */

/* a + b, saturated at the ends of int64_t. */
int64_t	store_time_add(int64_t a, int64_t b);
/* cycle.c: keep levels for the new edges of id; 1 if they close a cycle. */
int	cycle_link(struct store_txn *, uint64_t id, const uint64_t *parent,
	    int has_kids);
/* graph.c: a revoked hash, if any, revokes st and is forgotten. */
int	store_hash_revoked_take(struct store_txn *, const uint8_t *hash,
	    struct st *st);
/* walk.c: move a pre-iat attribute index into DB_IDX; MDB code. */
int	store_idx_upgrade(struct store *, MDB_txn *);
int	store_meta_next(struct store_txn *, const char *name, uint64_t *val);
void	store_work_add(struct store_txn *, int what, uint64_t n);

#endif
