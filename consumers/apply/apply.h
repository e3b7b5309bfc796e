/*
 * apply: the one code path that turns an input message into state.
 *
 * Used by the daemon's consumer and by `revokerctl replay`, so both
 * reach the same state.  Given a write transaction, it decodes the
 * message, dead-letters it (outbox entry OUT_DLQ) if bad, ignores it if
 * its event id was applied already, else applies it: issuance with the
 * binding profile (violations to outbox OUT_VIOLATION), or revocation
 * with its cascade.  The consumed offset, if any, is recorded in the
 * same transaction.  Nothing of a rejected event is written but its
 * dead letter and the offset.
 */
#ifndef APPLY_H
#define APPLY_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;
struct apply;

#define PROFILE_OFF	0
#define PROFILE_AUDIT	1
#define PROFILE_ENFORCE	2

/* Outbox kinds written by apply (STORE_OUT_CASCADE is 0). */
#define OUT_VIOLATION	1	/* payload: the violation JSON */
#define OUT_DLQ		2	/* payload: the dead-letter JSON */

/*
 * Results of apply_message(): every caller (the daemon's consumer,
 * `revokerctl replay`) treats each kind the same way.  The first four
 * are outcomes of the event: its offset is recorded, the caller goes
 * on.  The last two are failures of the store: nothing of the event is
 * written, the caller aborts the whole transaction, keeps its offsets,
 * and tries again later (the daemon) or stops (replay).
 */
enum apply_result {
	APPLY_OK = 0,		/* applied */
	APPLY_DUPLICATE,	/* event id applied before: no effect */
	APPLY_DLQ,		/* bad input: dead-lettered, nothing applied */
	APPLY_UNPROCESSABLE,	/* valid, but its effects or outputs could
				   not be recorded (an output it cannot
				   encode, a graph limit): dead-lettered as
				   "unprocessable", none of its effects kept */
	APPLY_STORE_FULL,	/* the map or the disk is full */
	APPLY_STORE_ERROR	/* any other failure of the store */
};
#define APPLY_FAILED(rc)	((rc) >= APPLY_STORE_FULL)

struct apply_config {
	int		 mode;		/* PROFILE_* */
	int		 max_depth;	/* act levels; default 8 */
	int		 allow_impersonation;
	size_t		 max_event;	/* bytes; default 65536 */
};

/* One input message, as the Kafka source and replay hand it over. */
struct apply_msg {
	const char	*topic;		/* NULL: no offset to record */
	int32_t		 partition;
	int64_t		 offset;
	const void	*key;		/* not used by apply */
	size_t		 klen;
	const void	*payload;
	size_t		 len;
};

/* Counters since apply_new(), for metrics and summaries. */
struct apply_counts {
	uint64_t	 applied;
	uint64_t	 duplicates;
	uint64_t	 dead;
	uint64_t	 violations;
	uint64_t	 revoked;	/* tokens newly revoked */
};

struct apply	*apply_new(const struct apply_config *);
void		 apply_free(struct apply **);
/* Swap in a new profile configuration (SIGHUP); takes effect at once. */
void		 apply_configure(struct apply *, const struct apply_config *);

/*
 * Apply one message inside txn, in a nested transaction of its own, so
 * that an event whose effects cannot all be recorded leaves none.
 * Returns an enum apply_result; on APPLY_FAILED() the caller must abort
 * txn.  *reason (may be NULL) gets the dead-letter reason.  Cost: the
 * event's own work (decode, profile against at most three parents, and
 * what its issuance or revocation changes in the store).
 */
enum apply_result apply_message(struct apply *, struct store_txn *,
		    const struct apply_msg *, const char **reason);
void		 apply_counts(const struct apply *, struct apply_counts *);

/*
 * The one apply loop, of the daemon and of `revokerctl replay`: apply
 * the n messages in one write transaction of store and commit it (the
 * effects, the offsets and the outbox entries together).  Events go
 * straight into that transaction; when one fails half-way (an event
 * that must leave nothing, SPEC 6), the batch is rolled back and
 * applied again with a nested transaction per message, as
 * apply_message() does, so the outcome is the same either way.  dead
 * (may be NULL) is told the reason of each message dead-lettered, once
 * the batch is committed.  Returns APPLY_OK, or APPLY_STORE_FULL /
 * APPLY_STORE_ERROR when the store failed: then nothing of the batch is
 * kept (store_failure() says why), the counters are as before, and the
 * caller tries the same messages again later, or stops.  Cost: the
 * messages' own work and one commit; twice that, plus a nested
 * transaction per message, for a batch holding such an event.
 */
enum apply_result apply_batch(struct apply *, struct store *,
		    const struct apply_msg *, size_t n,
		    void (*dead)(void *arg, const char *reason), void *arg);

#endif
