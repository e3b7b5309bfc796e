/* apply internals shared by apply.c and outputs.c; not a public header. */
#ifndef APPLY_INT_H
#define APPLY_INT_H

#include "consumers/apply/apply.h"
#include "consumers/event/event.h"
#include "consumers/profile/profile.h"

struct store_txn;

/* store_token.uflags bits (stored on disk: never renumber). */
#define UF_EXCHANGE	0x01	/* issued by token exchange */

struct apply {
	struct apply_config	 cfg;
	struct profile_config	 pcfg;
	struct apply_counts	 counts;
	char			 why[160];	/* why unprocessable */
	int			 clean;		/* the DLQ came before any
						   write (apply_direct) */
};

/* apply_direct(): roll the batch back, apply it again nested. */
#define APPLY_REDO	(-2)

/* A stored parent as the profile sees it; json owns tok's strings. */
struct pview {
	struct profile_parent	 p;
	struct ev_token		 tok;
	void			*json;
};

int	pview_load_all(struct store_txn *, const uint64_t *pid,
	    struct pview pv[EV_NPARENTS],
	    struct profile_parent pp[EV_NPARENTS]);
void	pview_free_all(struct pview pv[EV_NPARENTS]);

/* Outbox writers (outputs.c). */
int	apply_violations_emit(struct apply *, struct store_txn *,
	    const char *event_id, uint64_t id, const struct profile_result *);
int	apply_cycle_check(struct apply *, struct store_txn *,
    const char *event_id,
	    uint64_t id);
int	apply_recheck_children(struct apply *, struct store_txn *,
	    const char *event_id, uint64_t id);
/* The dead letter of m; detail ("" or NULL: none) beside the reason. */
int	apply_dlq_emit(struct store_txn *, const struct apply_msg *,
	    const char *reason, const char *detail);

#endif
