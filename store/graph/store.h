/*
 * store: the delegation graph in LMDB.
 *
 * Knows LMDB and nothing of JSON, HTTP or Kafka.  Every token known to
 * the store has a dense 64-bit id, given in the order tokens are first
 * referenced (issued, named as a parent, or targeted by a revocation).
 * A token that was referenced but not issued yet is a placeholder.
 *
 * Each token has an own status (set by the caller, or REVOKED by a
 * revocation) and an effective status: the most severe of its own and
 * its parents' effective statuses (REVOKED > DENIED > PENDING > ACTIVE).
 * The store keeps effective statuses up to date through every edge, any
 * depth, inside the write transaction that caused the change.
 *
 * Every issued token whose effective status becomes REVOKED inside a
 * write transaction is recorded, and store_commit() appends one outbox
 * entry of kind STORE_OUT_CASCADE listing their ids (8 bytes each, host
 * order); a publisher derives the revocation messages from it with
 * store_get() and store_cause_get() (revoked is terminal: the data it
 * reads never changes afterwards).
 *
 * Threads: one writer at a time (LMDB); any number of readers, each in
 * its own read transaction.  A read transaction sees all or nothing of a
 * write transaction.
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

#define STORE_DEPTH_UNKNOWN	UINT32_MAX

/* Return codes besides 0 and -1. */
#define STORE_NOTFOUND	1
#define STORE_EXISTS	2
#define STORE_DUPHASH	3	/* store_put(): another token has the hash */

/* Statuses, in order of severity. */
#define STORE_ACTIVE	0
#define STORE_PENDING	1
#define STORE_DENIED	2
#define STORE_REVOKED	3

/* Parent kinds: index into store_token.parent[] (store/graph/tbl_parents.h). */
enum store_parent {
#define PARENT(u, name)	STORE_PARENT_##u,
#include "store/graph/tbl_parents.h"
#undef PARENT
	STORE_NPARENTS
};

/*
 * Revocation target kinds (store/graph/tbl_targets.h); the attribute kinds are
 * the revocation-by-attribute indexes STORE_IDX_*.
 */
enum store_target {
#define TARGET(u, name, v)	STORE_TGT_##u = (v),
#include "store/graph/tbl_targets.h"
#undef TARGET
};
#define STORE_IDX_SUB		STORE_TGT_SUB
#define STORE_IDX_CLIENT	STORE_TGT_CLIENT
#define STORE_IDX_ACTOR		STORE_TGT_ACTOR
#define STORE_NIDX		3

/* The name of parent kind k ("subject", ...); "?" if none.  O(1). */
const char	*store_parent_name(int k);
/* The name of target kind k ("jti", "sub", ...); "?" if none.  O(1). */
const char	*store_target_name(int k);

/* Outbox kinds: STORE_OUT_CASCADE is the store's; callers use others. */
#define STORE_OUT_CASCADE	0

/* The rule code the store sets when an issued token closes a cycle. */
#define STORE_RULE_CYCLE	255

#define STORE_HASH_LEN		32
#define STORE_MAX_ACTORS	64

/*
 * One token as stored.  Strings are NUL-terminated.  In a record filled
 * by store_get() every pointer points into the database map and is valid
 * only until the transaction ends.
 */
struct store_token {
	uint64_t	 id;
	int		 issued;	/* 0: placeholder */
	uint8_t		 status;	/* effective status */
	uint8_t		 own;		/* own status */
	uint8_t		 rule;		/* caller's code for own status */
	uint8_t		 kind;		/* caller's: access, refresh, ... */
	uint8_t		 uflags;	/* caller's flags */
	uint32_t	 cause;		/* if REVOKED: store_cause ref */
	/*
	 * If REVOKED: hops from the token the cause revoked itself, along
	 * the walk that revoked it (STORE_DEPTH_UNKNOWN in a database
	 * older than this field), and that token's id (id itself at
	 * depth 0).  A parent at depth - 1 with the same cause exists.
	 */
	uint32_t	 depth;
	uint64_t	 root;
	int64_t		 iat;
	int64_t		 nbf;		/* 0: none */
	int64_t		 exp;
	uint64_t	 parent[STORE_NPARENTS];	/* 0: none */
	uint64_t	 nchildren;	/* filled by store_get() */
	int		 cycle;		/* it closed a cycle when issued */
	int		 has_kids;	/* some token names it as a parent */
	const char	*iss;
	const char	*jti;
	const char	*sub;
	const char	*client_id;
	int		 has_hash;
	uint8_t		 hash[STORE_HASH_LEN];
	const void	*claims;	/* caller's opaque blob */
	size_t		 claims_len;
};

/*
 * What store_put() needs beyond the record: the values indexed for
 * revocation by attribute.  actors[] are the subs of the act chain.
 */
struct store_put_args {
	const struct store_token *tok;
	const char	*const *actors;
	size_t		 nactors;
	int		 cycle_allow;	/* 1: a cycle is marked, not denied */
};

/* A revocation cause: one per revocation event. */
struct store_cause {
	const char	*event_id;
	const char	*reason;	/* "" when none */
	const char	*iss;		/* of the target */
	const char	*target;	/* jti, hash, sub, client or actor */
	int		 target_kind;	/* STORE_TGT_*, or STORE_IDX_* */
	int64_t		 time;
};

/*
 * Open (creating if needed) the database in directory dir, with a map of
 * mapsize bytes (0: a default of 64 GiB, sparse).  Returns NULL and fills
 * errbuf on failure.  Cost: a few system calls.
 */
struct store	*store_open(const char *dir, size_t mapsize, char *errbuf,
		    size_t errlen);
/*
 * Take the database directory dir for this process alone: an exclusive
 * lock (flock) on dir/revokerd.lock, kept until the process exits or
 * closes *fd.  The daemon holds it while it runs; commands that would
 * undo its work (revokerctl replay) take it too, so neither runs on a
 * database the other holds.  0, STORE_EXISTS when another process
 * holds it (errbuf names its pid when known), or -1 with errbuf.
 */
int		 store_lock(const char *dir, int *fd, char *errbuf,
		    size_t errlen);
/* Close and NULL *sp; accepts NULL.  No transaction may be open. */
void		 store_close(struct store **sp);

/* Begin a transaction; rdonly 1 for a reader.  0 or -1. */
int		 store_begin(struct store *, int rdonly, struct store_txn **);
/*
 * A reader kept by one thread across requests: store_read_begin() starts
 * a read transaction in *tp, reusing the one store_read_end() left there
 * (LMDB's txn reset/renew: no allocation, no lock); a NULL *tp gets a
 * new one.  store_read_end() ends the snapshot and keeps the handle;
 * store_abort() frees it.  Use from the thread that began it.  0 or -1.
 */
int		 store_read_begin(struct store *, struct store_txn **tp);
void		 store_read_end(struct store_txn *);
/* Commit (writing the cascade outbox entry first) and free; NULLs *tp. */
int		 store_commit(struct store_txn **tp);
/* Abort and free; nothing of the transaction is visible.  Accepts NULL. */
void		 store_abort(struct store_txn **tp);
/*
 * Token records read in this transaction so far (store_peek() and
 * store_get()), for tests of cost.  O(1).
 */
uint64_t	 store_txn_reads(const struct store_txn *);
/* Last LMDB error of the transaction, as text. */
const char	*store_strerror(struct store_txn *);

/*
 * A nested write transaction inside parent (LMDB's nested txn), for one
 * unit of work that must apply whole or not at all: store_sub_commit()
 * folds its effects (and its newly revoked ids) into the parent;
 * store_abort() drops them and leaves the parent as it was.  The parent
 * must not be used while the child is open.  0 or -1.  Cost: a page
 * list merge at commit, proportional to the pages the child dirtied.
 */
int		 store_sub_begin(struct store_txn *parent,
		    struct store_txn **child);
int		 store_sub_commit(struct store_txn **child);

/*
 * Kinds of failure.  A -1 from a write is the store's own failure when
 * LMDB reported an error (the map or disk full, an I/O or other LMDB
 * error), else it came from the caller's data (an output it could not
 * encode, a limit of the graph): the caller tells one from the other
 * with these.
 */
#define STORE_FAIL_NONE	0	/* no LMDB error: not the store's failure */
#define STORE_FAIL_FULL	1	/* map or disk full: more room lets it pass */
#define STORE_FAIL_IO	2	/* any other LMDB or system error */
/* The kind of the last LMDB error of this transaction. */
int		 store_txn_failure(const struct store_txn *);
/*
 * The kind of the last failed write (any write transaction of this
 * process, commits included), its text in *what (may be NULL); cleared
 * by store_failure_clear().
 */
int		 store_failure(const struct store *, const char **what);
void		 store_failure_clear(struct store *);

/*
 * Applied event ids.  seen: 1 seen, 0 not, -1 error.  mark: 0 or -1;
 * the id is kept until until, plus the longest token lifetime seen for
 * issuer life_iss ("": for any issuer) when life_iss is not NULL (see
 * store_sweep()).  O(log n) each.
 */
int		 store_event_seen(struct store_txn *, const char *id);
int		 store_event_mark(struct store_txn *, const char *id,
		    int64_t until, const char *life_iss);

/*
 * Consumed offsets: the next offset to read for (topic, partition).
 * get: 0, STORE_NOTFOUND or -1.
 */
int		 store_offset_get(struct store_txn *, const char *topic,
		    int32_t partition, int64_t *next);
int		 store_offset_set(struct store_txn *, const char *topic,
		    int32_t partition, int64_t next);

/*
 * Input gaps: messages deleted from an input partition before they were
 * read (retention moved the log start past the stored offset, or the
 * topic was recreated).  add: record the range [from, to) of (topic,
 * partition); to < 0 means "of unknown size" (counts one).  Messages not
 * recorded before are added to the pending count, and *added (may be
 * NULL) gets how many.  pending: messages recorded and not acknowledged.
 * ack: acknowledge them all; *n gets how many there were.  0 or -1.
 * O(log n) each.
 */
int		 store_gap_add(struct store_txn *, const char *topic,
		    int32_t partition, int64_t from, int64_t to,
		    uint64_t *added);
int		 store_gap_pending(struct store_txn *, uint64_t *n);
int		 store_gap_ack(struct store_txn *, uint64_t *n);

/* Look a token up.  0, STORE_NOTFOUND or -1.  O(log n). */
int		 store_lookup(struct store_txn *, const char *iss,
		    const char *jti, uint64_t *id);
/*
 * The issued token with this jti under any issuer (placeholders do not
 * count): 0 if exactly one issuer has it, STORE_NOTFOUND if none,
 * STORE_EXISTS if several (*id untouched).
 */
int		 store_lookup_jti(struct store_txn *, const char *jti,
		    uint64_t *id);
/*
 * The only issuer the store knows (of issued tokens and placeholders
 * alike): 0 and *iss (valid until the transaction ends), STORE_NOTFOUND
 * when it knows none, STORE_EXISTS when several; or -1.  Two B-tree
 * seeks and one record read: O(log n).
 */
int		 store_sole_issuer(struct store_txn *, const char **iss);
int		 store_lookup_hash(struct store_txn *,
		    const uint8_t hash[STORE_HASH_LEN], uint64_t *id);
/*
 * Fill *tok for id; 0, STORE_NOTFOUND or -1.  Placeholders have
 * issued 0 and only iss and jti set (others "" or 0).
 */
int		 store_get(struct store_txn *, uint64_t id,
		    struct store_token *tok);
/* store_get() without nchildren (0): one lookup less, for hot paths. */
int		 store_peek(struct store_txn *, uint64_t id,
		    struct store_token *tok);
/* Id of (iss, jti), creating a placeholder if unknown.  0 or -1. */
int		 store_ref(struct store_txn *, const char *iss, const char *jti,
		    uint64_t *id);

/*
 * Issue a token: write its record (iss, jti and the fields of
 * args->tok; tok->own and tok->rule give its own status, tok->parent[]
 * ids from store_ref()), its edges, hash and attribute indexes.  If the
 * token was a placeholder already revoked, its hash was revoked
 * (store_revoke_hash()), or a revocation rule of store_rule_add()
 * covers it (iat <= rule time), it is born revoked.
 * If a parent is among its descendants (a cycle), it is marked (cycle in
 * store_get()) and, unless args->cycle_allow or already DENIED or worse,
 * its own status is set to DENIED with rule STORE_RULE_CYCLE.  Then its
 * effective status and its descendants' are brought up to date.
 * Returns 0, STORE_EXISTS (already issued), STORE_DUPHASH (another
 * token has its hash: the first keeps it) or -1; nothing is written on
 * STORE_EXISTS or STORE_DUPHASH.  *id gets the token's id.
 * Cost: O(1) lookups per parent and index value when the token has no
 * children yet (the usual order); else the cycle check of cycle.c,
 * O(sqrt(edges)) searches plus level raises that total O(edges^(3/2))
 * over the life of the store; plus the update of descendants whose
 * status moves.
 */
int		 store_put(struct store_txn *, const struct store_put_args *,
		    uint64_t *id);

/*
 * Set the own status of an issued token (after re-checking it when a
 * parent arrived) and bring it and its descendants up to date.  A
 * REVOKED own status is never lowered.  0 or -1.
 */
int		 store_set_own(struct store_txn *, uint64_t id, uint8_t own,
		    uint8_t rule);

/* Record a revocation cause; *ref gets its reference.  0 or -1. */
int		 store_cause_add(struct store_txn *, const struct store_cause *,
		    uint32_t *ref);
int		 store_cause_get(struct store_txn *, uint32_t ref,
		    struct store_cause *);

/*
 * Revoke token id (placeholder or issued) and every descendant, any
 * depth, each once, iteratively.  Tokens already revoked are skipped.
 * *nrevoked (may be NULL) gets the count of tokens newly revoked.
 * O(size of the newly revoked sub-graph).  0 or -1.
 */
int		 store_revoke(struct store_txn *, uint64_t id, uint32_t cause,
		    uint64_t *nrevoked);

/*
 * Revoke by attribute: every token of issuer iss whose index idx holds
 * value (sub, client_id, or a sub anywhere in its act chain) with
 * iat <= time, and their descendants; and remember the rule so that
 * tokens issued later with iat <= time are born revoked.  0 or -1.
 * Cost: nothing if a rule for (idx, iss, value) with a time >= time
 * exists; else O(log n) plus the index entries with iat in (the old
 * rule's time, time], plus the cascades.
 */
int		 store_rule_add(struct store_txn *, int idx, const char *iss,
		    const char *value, int64_t time, uint32_t cause,
		    uint64_t *nrevoked);

/*
 * Revoke the issued token whose hash is hash (any issuer) and its
 * descendants, as store_revoke(); if no token has it yet, remember it
 * (the first cause stays) so that the token issued with it is born
 * revoked, which forgets it.  O(log n) plus the cascade.  0 or -1.
 */
int		 store_revoke_hash(struct store_txn *,
		    const uint8_t hash[STORE_HASH_LEN], uint32_t cause,
		    uint64_t *nrevoked);
/*
 * Call fn for each hash revoked that no token has yet, in byte order,
 * while fn returns 0 (for digests).  Returns 0, fn's value, or -1.
 */
int		 store_hash_revoked_each(struct store_txn *,
		    int (*fn)(void *, const uint8_t *hash), void *arg);

/*
 * Call fn for each child id of id (the tokens naming it as a parent),
 * in id order, while fn returns 0.  Returns 0, fn's non-zero value, or
 * -1.  The callback may read, not write.
 */
int		 store_children(struct store_txn *, uint64_t id,
		    int (*fn)(void *, uint64_t), void *arg);

/*
 * Outbox.  add: append an entry (kind, bytes), 0 or -1.  next: the first
 * entry with seq > after; 0, STORE_NOTFOUND or -1; data valid until the
 * transaction ends.  del: 0 or -1.  count: entries waiting.
 */
int		 store_outbox_add(struct store_txn *, uint8_t kind,
		    const void *data, size_t len);
int		 store_outbox_next(struct store_txn *, uint64_t after,
		    uint64_t *seq, uint8_t *kind, const void **data,
		    size_t *len);
int		 store_outbox_del(struct store_txn *, uint64_t seq);
int		 store_outbox_count(struct store_txn *, uint64_t *n);

/* Counts for stats: tokens by effective status (issued only). */
struct store_stats {
	uint64_t	 tokens;	/* issued */
	uint64_t	 placeholders;
	uint64_t	 by_status[4];
	uint64_t	 edges;
	uint64_t	 events;
	uint64_t	 outbox;
	size_t		 map_size;
	size_t		 map_used;
	/* Work done since store_open(), for tests of cost (not on disk). */
	uint64_t	 cycle_steps;	/* arcs looked at by cycle checks */
	uint64_t	 rule_scanned;	/* index entries read by rule scans */
};
int		 store_stats(struct store_txn *, struct store_stats *);
/*
 * What the database holds, cheaply: *bytes of the map in use (pages up
 * to the last one written), *tokens the token records (issued and
 * placeholders).  For gauges; O(1).  0 or -1.
 */
int		 store_usage(struct store_txn *, uint64_t *bytes,
		    uint64_t *tokens);

/*
 * Forget what can no longer matter at horizon (the caller's now minus
 * its retention), in one slice of at most max entries looked at:
 * - an issued token with exp <= horizon: its record, edges, indexes
 *   and claims; a revoked one stays as a revoked placeholder (key and
 *   status: a remembered revocation) so a late child is born revoked,
 *   and waits while the outbox holds a cascade entry (*blocked); one
 *   not revoked waits while a token names it as a parent, so that a
 *   revocation of it still reaches its children;
 * - a revoked placeholder, a rule, a revoked hash no token had: once
 *   the time of the revocation plus the longest lifetime seen for its
 *   issuer (any issuer for a hash) is <= horizon, and, for a
 *   placeholder, no token names it; an unrevoked placeholder once no
 *   token names it;
 * - an applied event id at its store_event_mark() due.
 * The longest lifetime of an issuer is exp - iat of its tokens, raised
 * by store_put().  Cost: O(log n) per index entry, edge and parent of
 * each entry, plus the pages of a forgotten token's children.
 */
struct store_swept {
	uint64_t	 tokens;	/* issued tokens forgotten */
	uint64_t	 kept;		/* revoked ones kept as placeholders */
	uint64_t	 other;		/* placeholders, rules, hashes */
	uint64_t	 events;	/* applied event ids */
	uint64_t	 waiting;	/* tokens kept for their children */
	uint64_t	 looked;	/* entries looked at */
	int		 more;		/* max reached: more may be due */
	int		 blocked;	/* revoked tokens wait for the outbox */
};
int		 store_sweep(struct store_txn *, int64_t horizon, size_t max,
		    struct store_swept *);
/* The exp of the issued token that expires first: 0, NOTFOUND or -1. */
int		 store_sweep_oldest(struct store_txn *, int64_t *exp);

/*
 * Visit every token in id order (placeholders too), while fn returns 0.
 * For digests and dumps.  Returns 0, fn's value, or -1.
 */
int		 store_foreach(struct store_txn *,
		    int (*fn)(void *, const struct store_token *), void *arg);

#endif
