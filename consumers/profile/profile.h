/*
 * profile: the delegation binding profile of SPEC section 5.
 *
 * Pure functions: they read the new token's claims and what is known of
 * its parents, with the token's iat (else the event's time) as "now",
 * and never the clock, so a replay reaches the same verdicts.
 */
#ifndef PROFILE_H
#define PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "consumers/event/event.h"

/* Rule codes (stored as the token's rule byte; 0 is "no rule"). */
#define RULE_NONE			0
#define RULE_PARENT_INACTIVE		1
#define RULE_PARENT_CYCLE		2
#define RULE_SUBJECT_AUDIENCE_MISMATCH	3
#define RULE_MAY_ACT_MISMATCH		4
#define RULE_AUDIENCE_NOT_SINGLE	5
#define RULE_ACT_CHAIN_MISMATCH		6
#define RULE_LIFETIME_EXCEEDS_PARENT	7
#define RULE_SCOPE_ESCALATION		8
#define RULE_REFRESH_CONTEXT_CHANGED	9
#define RULE_DEPTH_EXCEEDED		10
#define RULE_UNKNOWN_PARENT		11
#define RULE_REVOKED			12	/* own status: revoked */
#define RULE_MAX			13

#define PROFILE_MAX_VIOLATIONS	16
#define PROFILE_DETAIL_LEN	512

/* What the checker knows of one parent. */
struct profile_parent {
	int		 named;		/* the event names this parent */
	int		 known;		/* it has been issued (else pending) */
	const struct ev_token *tok;	/* its claims, when known */
	int		 status;	/* STORE_* effective status */
	int64_t		 revoked_at;	/* when revoked: the cause's time */
};

struct profile_violation {
	int		 rule;		/* RULE_* */
	/*
	 * 1 for parent_inactive with a revoked parent: the cascade revokes
	 * the token anyway, and the violation is published with the
	 * revocation (publish.c), whatever the order the events came in.
	 */
	int		 by_revocation;
	char		 detail[PROFILE_DETAIL_LEN];
};

struct profile_result {
	int		 own;		/* STORE_ACTIVE, _PENDING or _DENIED */
	int		 rule;		/* the rule behind own, or RULE_NONE */
	size_t		 nviol;
	struct profile_violation viol[PROFILE_MAX_VIOLATIONS]; /* [nviol..)
					   unspecified */
};

struct profile_config {
	int		 mode;		/* PROFILE_OFF, _AUDIT, _ENFORCE */
	int		 max_depth;
	int		 allow_impersonation;
};

/*
 * Check token tok (minted by an exchange when is_exchange) against its
 * parents p[EV_NPARENTS] (indexed EV_PARENT_*), at time now.  Fills
 * *res: in enforce mode own is DENIED on any violation (but a revoked
 * parent alone, which the store's cascade revokes anyway), else PENDING
 * when a named parent is not known, else ACTIVE; in audit mode own is
 * ACTIVE and violations are listed; off: ACTIVE, none.  Rules that need
 * a parent not known yet are skipped (checked again when it arrives).
 */
void		 profile_check(const struct profile_config *,
		    const struct ev_token *tok, int is_exchange,
		    const struct profile_parent p[EV_NPARENTS], int64_t now,
		    struct profile_result *res);

/* "subject_audience_mismatch" etc. for RULE_*; "" for RULE_NONE. */
const char	*profile_rule_name(int rule);

#endif
