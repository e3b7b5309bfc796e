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

struct store_txn;
struct apply;

#define PROFILE_OFF	0
#define PROFILE_AUDIT	1
#define PROFILE_ENFORCE	2

/* Outbox kinds written by apply (STORE_OUT_CASCADE is 0). */
#define OUT_VIOLATION	1	/* payload: the violation JSON */
#define OUT_DLQ		2	/* payload: the dead-letter JSON */

/* Results of apply_message(). */
#define APPLY_OK	0
#define APPLY_DUPLICATE	1	/* event id applied before: no effect */
#define APPLY_DLQ	2	/* dead-lettered */

struct apply_config {
	int		 mode;		/* PROFILE_* */
	int		 max_depth;	/* act levels; default 8 */
	int		 allow_impersonation;
	size_t		 max_event;	/* bytes; default 65536 */
};

struct apply_msg {
	const char	*topic;		/* NULL: no offset to record */
	int32_t		 partition;
	int64_t		 offset;
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
 * Apply one message inside txn.  Returns APPLY_OK, APPLY_DUPLICATE,
 * APPLY_DLQ, or -1 on a store error (the caller aborts txn).  *reason
 * (may be NULL) gets the DLQ reason.
 */
int		 apply_message(struct apply *, struct store_txn *,
		    const struct apply_msg *, const char **reason);
void		 apply_counts(const struct apply *, struct apply_counts *);

#endif
