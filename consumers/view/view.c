/* view: see view.h. */
#include <stdlib.h>
#include <string.h>

#include "consumers/profile/profile.h"
#include "consumers/view/view.h"

static const char *const status_names[] = {
	"active", "pending", "denied", "revoked"
};

const char *
view_status_name(int status)
{
	return status >= 0 && status <= STORE_REVOKED ? status_names[status] :
	    "?";
}

const char *
view_status(const struct store_token *tok, int64_t now, int leeway)
{
	if (!tok->issued)
		return tok->status == STORE_REVOKED ? "revoked" : "pending";
	if (tok->status == STORE_ACTIVE && now >= tok->exp + leeway)
		return "expired";
	return view_status_name(tok->status);
}

const char *
view_parent_kind(int kind)
{
	return store_parent_name(kind);
}

const char *
view_target_kind(int kind)
{
	return store_target_name(kind);
}

int
view_reason(struct store_txn *t, const struct store_token *tok, int64_t now,
    int leeway, struct view_reason *vr)
{
	const char *rule = profile_rule_name(tok->rule);
	int rc;

	memset(vr, 0, sizeof(*vr));
	vr->status = view_status(tok, now, leeway);
	switch (tok->status) {
	case STORE_REVOKED:
		vr->inherited = tok->own != STORE_REVOKED;
		if ((rc = store_cause_get(t, tok->cause, &vr->cause)) == -1)
			return -1;
		vr->has_cause = rc == 0;
		vr->reason = vr->has_cause && vr->cause.reason[0] != '\0' ?
		    vr->cause.reason : "revoked";
		break;
	case STORE_DENIED:
	case STORE_PENDING:
		if (tok->own == tok->status && rule[0] != '\0')
			vr->reason = rule;
		else
			vr->reason = tok->status == STORE_DENIED ?
			    "parent_denied" : "parent_pending";
		break;
	default:
		if (strcmp(vr->status, "expired") == 0)
			vr->reason = "expired";
	}
	return 0;
}

/* The walk's state: a queue of ids with depths, and a seen set. */
struct walk {
	struct store_txn *t;
	struct view_walk *w;
	uint64_t	*queue;
	uint32_t	*depth;
	size_t		 head, len;
	uint64_t	*seen;		/* open addressing; 0 is empty */
	size_t		 mask;
	uint64_t	 parent;	/* the node whose children we visit */
	uint32_t	 pdepth;
};

static uint64_t *
seen_slot(struct walk *k, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & k->mask;

	while (k->seen[i] != 0 && k->seen[i] != id)
		i = (i + 1) & k->mask;
	return &k->seen[i];
}

static int
visit_child(void *arg, uint64_t id)
{
	struct walk *k = arg;
	struct view_walk *w = k->w;
	struct store_token tok;
	uint64_t *slot;
	int i, n = 0, rc;

	if (store_get(k->t, id, &tok) != 0)
		return -1;
	for (i = 0; i < STORE_NPARENTS; i++)
		n += tok.parent[i] == k->parent;
	slot = seen_slot(k, id);
	/* Full: stop before a token or an edge that would not fit. */
	if ((*slot != id && k->len >= w->max) || w->edges + n > 3 * w->max) {
		w->truncated = 1;
		return 1;
	}
	if (*slot != id) {	/* new: the node first, then its edges */
		*slot = id;
		k->queue[k->len] = id;
		k->depth[k->len++] = k->pdepth + 1;
		w->nodes++;
		if ((rc = w->node(w->arg, &tok, k->pdepth + 1)) != 0)
			return rc;
	}
	for (i = 0; i < STORE_NPARENTS; i++) {
		if (tok.parent[i] != k->parent)
			continue;
		w->edges++;
		if ((rc = w->edge(w->arg, k->parent, id, i)) != 0)
			return rc;
	}
	return 0;
}

int
view_walk_run(struct store_txn *t, const struct store_token *root,
    struct view_walk *w)
{
	struct walk k;
	size_t cap = 2;
	int rc = -1;

	memset(&k, 0, sizeof(k));
	k.t = t;
	k.w = w;
	w->truncated = 0;
	w->nodes = w->edges = 0;
	if (w->max == 0)
		w->max = 1;
	while (cap < 2 * w->max)
		cap <<= 1;
	k.mask = cap - 1;
	k.queue = calloc(w->max, sizeof(*k.queue));
	k.depth = calloc(w->max, sizeof(*k.depth));
	k.seen = calloc(cap, sizeof(*k.seen));
	if (k.queue == NULL || k.depth == NULL || k.seen == NULL)
		goto done;
	k.queue[k.len++] = root->id;
	*seen_slot(&k, root->id) = root->id;
	w->nodes = 1;
	if ((rc = w->node(w->arg, root, 0)) != 0)
		goto done;
	while (k.head < k.len && !w->truncated) {
		k.parent = k.queue[k.head];
		k.pdepth = k.depth[k.head++];
		rc = store_children(t, k.parent, visit_child, &k);
		if (rc == 1 && w->truncated)
			rc = 0;
		if (rc != 0)
			break;
	}
done:
	free(k.queue);
	free(k.depth);
	free(k.seen);
	return rc;
}
