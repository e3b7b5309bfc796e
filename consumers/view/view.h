/*
 * view: a token as a user sees it, computed once for the admin API and
 * revokerctl (which only format it): the status name, the reason behind
 * it, the names of parent and target kinds, and a bounded walk of its
 * descendants.  Reads the store; knows no HTTP, no terminal.
 */
#ifndef VIEW_H
#define VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "store/graph/store.h"

/* "active", "pending", "denied", "revoked": a stored status (digest). */
const char	*view_status_name(int status);
/*
 * The status a user sees at time now: "expired" for an issued token
 * whose stored status is active and that is past exp + leeway; a
 * placeholder (named, not issued yet) is "pending" unless revoked.
 */
const char	*view_status(const struct store_token *, int64_t now,
		    int leeway);
/* "subject", "actor", "previous" for STORE_PARENT_*; "?" else. */
const char	*view_parent_kind(int kind);
/* The cause's target member: "jti", or "sub", "client_id", "actor". */
const char	*view_target_kind(int kind);

/* Why a token has the status it has. */
struct view_reason {
	const char	*status;	/* view_status() */
	/*
	 * The profile rule that denied it or keeps it pending,
	 * "parent_denied"/"parent_pending" when inherited, the
	 * revocation's reason ("revoked" when it gave none), "expired",
	 * or NULL for an active token.
	 */
	const char	*reason;
	int		 has_cause;	/* revoked: cause below is filled */
	int		 inherited;	/* revoked by a parent's revocation */
	struct store_cause cause;	/* valid until the txn ends */
};
/* Fill *vr for tok.  0, or -1 if the store failed.  O(log n). */
int		 view_reason(struct store_txn *, const struct store_token *,
		    int64_t now, int leeway, struct view_reason *);

/*
 * A bounded walk of root's descendants, breadth first, each token once
 * (the graph is a DAG: a token reached through several parents is one
 * node with several edges).  node() is called for each token listed
 * (root first, depth 0), edge() for each edge between listed tokens
 * (from parent to child, by kind).  It stops after max tokens (or
 * 3 * max edges) and sets *truncated; no edge names a token not listed.
 * Callbacks return 0, or -1 to stop the walk.  Returns 0, or -1 (a
 * callback's, the store's or out of memory).  Cost:
 * O(tokens + edges listed), memory O(max).
 */
struct view_walk {
	int	(*node)(void *arg, const struct store_token *, uint32_t depth);
	int	(*edge)(void *arg, uint64_t from, uint64_t to, int kind);
	void	*arg;
	size_t	 max;
	int	 truncated;
	size_t	 nodes, edges;	/* listed */
};
int		 view_walk_run(struct store_txn *,
    const struct store_token *root,
		    struct view_walk *);

#endif
