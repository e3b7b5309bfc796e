/*
 * pview: a stored parent as the binding profile sees it, for the apply
 * path (apply.c) and the re-check of waiting children (outputs.c).  See
 * apply_int.h.
 */
#include <string.h>

#include "consumers/apply/apply_int.h"
#include "consumers/event/event.h"
#include "store/graph/store.h"

/* What is known of one stored parent, for the profile. */
static int
parent_view(struct store_txn *txn, uint64_t pid, struct pview *pv)
{
	struct store_token tok;
	struct store_cause cause;
	int rc;

	memset(&pv->p, 0, sizeof(pv->p));
	pv->json = NULL;
	if (pid == 0)
		return 0;
	pv->p.named = 1;
	if ((rc = store_get(txn, pid, &tok)) == STORE_NOTFOUND)
		return 0;	/* swept (SPEC 6): known no more, as unseen */
	if (rc != 0)
		return -1;
	if (!tok.issued) {
		pv->p.status = tok.status;
		return 0;
	}
	if (event_claims_parse(tok.claims, tok.claims_len, &pv->tok,
	    &pv->json) == -1)
		return -1;
	pv->p.known = 1;
	pv->p.tok = &pv->tok;
	pv->p.status = tok.status;
	if (tok.status == STORE_REVOKED &&
	    store_cause_get(txn, tok.cause, &cause) == 0)
		pv->p.revoked_at = cause.time;
	return 0;
}

void
pview_free_all(struct pview pv[EV_NPARENTS])
{
	int i;

	for (i = 0; i < EV_NPARENTS; i++) {
		event_json_free(pv[i].json);
		pv[i].json = NULL;
	}
}

int
pview_load_all(struct store_txn *txn, const uint64_t *pid,
    struct pview pv[EV_NPARENTS], struct profile_parent pp[EV_NPARENTS])
{
	int i;

	for (i = 0; i < EV_NPARENTS; i++)
		pv[i].json = NULL;	/* pview_free_all of a partial load */
	for (i = 0; i < EV_NPARENTS; i++) {
		if (parent_view(txn, pid[i], &pv[i]) == -1) {
			pview_free_all(pv);
			return -1;
		}
		pp[i] = pv[i].p;
	}
	return 0;
}
