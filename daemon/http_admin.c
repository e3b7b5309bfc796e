/*
 * http_admin: GET /v1/tokens/{jti}[?iss=..] (one token: status, reason,
 * claims, parents, children count) and GET /v1/tokens/{jti}/tree
 * [?format=dot] (its descendants, breadth first, as a flat JSON list of
 * nodes and edges or as Graphviz DOT).  The delegation graph is a DAG,
 * so a node reached through several parents is listed once, with every
 * edge.  The walk is iterative and stops after TREE_MAX_NODES nodes
 * ("truncated": true).  Admin only; one read transaction per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "consumers/profile.h"
#include "daemon/http_int.h"
#include "store/store.h"

#define TREE_MAX_NODES	100000
#define TREE_MAX_EDGES	(3 * TREE_MAX_NODES)

static const char *const kind_names[STORE_NPARENTS] = {
	"subject", "actor", "previous"
};

struct walk {
	struct http_req	*r;
	struct store_txn *txn;
	struct evbuffer	*nodes;		/* w->body */
	struct evbuffer	*edges;
	int		 dot;
	uint64_t	*queue;		/* ids, breadth first */
	uint32_t	*depth;
	size_t		 qhead, qlen;
	uint64_t	*seen;		/* open addressing; 0 is empty */
	size_t		 seen_mask;
	size_t		 nedges;
	int		 truncated;
	uint64_t	 parent;	/* the node whose children we visit */
	uint32_t	 pdepth;
};

static const char *
status_name(const struct http_req *r, const struct store_token *tok)
{
	if (!tok->issued)
		return (tok->status == STORE_REVOKED ? "revoked" : "pending");
	switch (tok->status) {
	case STORE_REVOKED: return ("revoked");
	case STORE_DENIED: return ("denied");
	case STORE_PENDING: return ("pending");
	default:
		break;
	}
	if ((int64_t)time(NULL) >= tok->exp + r->w->h->cfg.leeway)
		return ("expired");
	return ("active");
}

static void
add_str(struct evbuffer *b, const char *s)
{
	json_str(b, s, strlen(s));
}

/* "reason" (and "cause" for a revoked token) members, with a comma. */
static void
token_reason(struct http_req *r, struct store_txn *txn,
    const struct store_token *tok, struct evbuffer *b)
{
	static const char *const tk[] = { "sub", "client_id", "actor" };
	struct store_cause	 c;

	if (tok->status == STORE_REVOKED &&
	    store_cause_get(txn, tok->cause, &c) == 0) {
		evbuffer_add_printf(b, ",\"reason\":");
		add_str(b, c.reason[0] != '\0' ? c.reason : "revoked");
		evbuffer_add_printf(b, ",\"cause\":{\"event\":");
		add_str(b, c.event_id);
		evbuffer_add_printf(b, ",\"iss\":");
		add_str(b, c.iss);
		evbuffer_add_printf(b, ",\"target_kind\":\"%s\",\"target\":",
		    c.target_kind >= 0 && c.target_kind < 3 ?
		    tk[c.target_kind] : "jti");
		add_str(b, c.target);
		evbuffer_add_printf(b, ",\"time\":%lld,\"inherited\":%s}",
		    (long long)c.time,
		    tok->own == STORE_REVOKED ? "false" : "true");
	} else if (tok->status == STORE_DENIED ||
	    tok->status == STORE_PENDING) {
		evbuffer_add_printf(b, ",\"reason\":");
		if (tok->own == tok->status && *profile_rule_name(tok->rule))
			add_str(b, profile_rule_name(tok->rule));
		else
			add_str(b, tok->status == STORE_DENIED ?
			    "parent_denied" : "parent_pending");
	} else if (strcmp(status_name(r, tok), "expired") == 0)
		evbuffer_add_printf(b, ",\"reason\":\"expired\"");
}

static void
token_parents(struct store_txn *txn, const struct store_token *tok,
    struct http_req *r, struct evbuffer *b)
{
	struct store_token	 p;
	int			 k, n = 0;

	evbuffer_add_printf(b, ",\"parents\":{");
	for (k = 0; k < STORE_NPARENTS; k++) {
		if (tok->parent[k] == 0 ||
		    store_get(txn, tok->parent[k], &p) != 0)
			continue;
		evbuffer_add_printf(b, "%s\"%s\":{\"iss\":", n++ ? "," : "",
		    kind_names[k]);
		add_str(b, p.iss);
		evbuffer_add_printf(b, ",\"jti\":");
		add_str(b, p.jti);
		evbuffer_add_printf(b, ",\"status\":\"%s\"}",
		    status_name(r, &p));
	}
	evbuffer_add_printf(b, "}");
}

static void
token_view(struct http_req *r, struct store_txn *txn,
    const struct store_token *tok)
{
	struct evbuffer	*b = r->w->body;

	evbuffer_add_printf(b, "{\"iss\":");
	add_str(b, tok->iss);
	evbuffer_add_printf(b, ",\"jti\":");
	add_str(b, tok->jti);
	evbuffer_add_printf(b, ",\"issued\":%s,\"status\":\"%s\"",
	    tok->issued ? "true" : "false", status_name(r, tok));
	token_reason(r, txn, tok, b);
	if (tok->issued && tok->claims_len > 0) {
		evbuffer_add_printf(b, ",\"claims\":");
		evbuffer_add(b, tok->claims, tok->claims_len);
	}
	token_parents(txn, tok, r, b);
	evbuffer_add_printf(b, ",\"children\":%llu}\n",
	    (unsigned long long)tok->nchildren);
	http_reply_body(r, 200, "application/json");
}

/* The slot of id in the seen set: where it is, or the empty one. */
static uint64_t *
seen_slot(struct walk *wk, uint64_t id)
{
	size_t	 i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & wk->seen_mask;

	while (wk->seen[i] != 0 && wk->seen[i] != id)
		i = (i + 1) & wk->seen_mask;
	return (&wk->seen[i]);
}

static int
seen_has(struct walk *wk, uint64_t id)
{
	return (*seen_slot(wk, id) == id);
}

/* Mark id seen; 1 if it was already. */
static int
seen_add(struct walk *wk, uint64_t id)
{
	uint64_t	*p = seen_slot(wk, id);

	if (*p == id)
		return (1);
	*p = id;
	return (0);
}

/* Graphviz: a quoted label with quotes, backslashes and controls made safe. */
static void
dot_str(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add_printf(b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			evbuffer_add(b, " ", 1);
		else
			evbuffer_add(b, s, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
node_out(struct walk *wk, const struct store_token *tok, uint32_t depth)
{
	static const char *const colour[] = {
		"black", "gray", "orange", "red"
	};
	struct evbuffer	*b = wk->nodes;
	const char	*st = status_name(wk->r, tok);

	if (wk->dot) {
		evbuffer_add_printf(b, "  n%llu [label=",
		    (unsigned long long)tok->id);
		dot_str(b, tok->jti);
		evbuffer_add_printf(b, ", xlabel=\"%s\", color=%s];\n", st,
		    colour[tok->status & 3]);
		return;
	}
	evbuffer_add_printf(b, "%s{\"id\":%llu,\"iss\":", wk->qlen > 1 ?
	    "," : "", (unsigned long long)tok->id);
	add_str(b, tok->iss);
	evbuffer_add_printf(b, ",\"jti\":");
	add_str(b, tok->jti);
	evbuffer_add_printf(b, ",\"status\":\"%s\",\"depth\":%u}", st,
	    depth);
}

static void
edge_out(struct walk *wk, uint64_t from, uint64_t to, int kind)
{
	if (wk->nedges++ >= TREE_MAX_EDGES) {
		wk->truncated = 1;
		return;
	}
	if (wk->dot)
		evbuffer_add_printf(wk->edges, "  n%llu -> n%llu "
		    "[label=\"%s\"];\n", (unsigned long long)from,
		    (unsigned long long)to, kind_names[kind]);
	else
		evbuffer_add_printf(wk->edges, "%s{\"from\":%llu,\"to\":%llu,"
		    "\"kind\":\"%s\"}", wk->nedges > 1 ? "," : "",
		    (unsigned long long)from, (unsigned long long)to,
		    kind_names[kind]);
}

static int
visit_child(void *arg, uint64_t id)
{
	struct walk		*wk = arg;
	struct store_token	 tok;
	int			 k;

	if (store_get(wk->txn, id, &tok) != 0)
		return (-1);
	/* Full: stop before an edge to a node that will not be listed. */
	if (wk->qlen >= TREE_MAX_NODES && !seen_has(wk, id)) {
		wk->truncated = 1;
		return (1);
	}
	for (k = 0; k < STORE_NPARENTS; k++)
		if (tok.parent[k] == wk->parent)
			edge_out(wk, wk->parent, id, k);
	if (seen_add(wk, id))
		return (0);
	wk->queue[wk->qlen] = id;
	wk->depth[wk->qlen++] = wk->pdepth + 1;
	node_out(wk, &tok, wk->pdepth + 1);
	return (0);
}

/* Breadth first from the root (already in the queue).  0 or -1. */
static int
walk_run(struct walk *wk)
{
	int	 rc;

	while (wk->qhead < wk->qlen && !wk->truncated) {
		wk->parent = wk->queue[wk->qhead];
		wk->pdepth = wk->depth[wk->qhead++];
		rc = store_children(wk->txn, wk->parent, visit_child, wk);
		if (rc == -1)
			return (-1);
	}
	return (0);
}

static void
tree_finish(struct walk *wk)
{
	struct evbuffer	*b = wk->nodes;

	if (wk->dot) {
		evbuffer_add_buffer(b, wk->edges);
		if (wk->truncated)
			evbuffer_add_printf(b, "  label=\"truncated: the first "
			    "%d tokens only\";\n  labelloc=t;\n", TREE_MAX_NODES);
		evbuffer_add_printf(b, "}\n");
		http_reply_body(wk->r, 200, "text/vnd.graphviz");
		return;
	}
	evbuffer_add_printf(b, "],\"edges\":[");
	evbuffer_add_buffer(b, wk->edges);
	evbuffer_add_printf(b, "],\"count\":%zu,\"truncated\":%s}\n",
	    wk->qlen, wk->truncated ? "true" : "false");
	http_reply_body(wk->r, 200, "application/json");
}

static int
walk_init(struct walk *wk)
{
	size_t	 cap = 1;

	while (cap < 2 * TREE_MAX_NODES)
		cap <<= 1;
	wk->seen_mask = cap - 1;
	wk->queue = calloc(TREE_MAX_NODES, sizeof(*wk->queue));
	wk->depth = calloc(TREE_MAX_NODES, sizeof(*wk->depth));
	wk->seen = calloc(cap, sizeof(*wk->seen));
	wk->edges = evbuffer_new();
	return (wk->queue && wk->depth && wk->seen && wk->edges ? 0 : -1);
}

static void
walk_free(struct walk *wk)
{
	free(wk->queue);
	free(wk->depth);
	free(wk->seen);
	if (wk->edges != NULL)
		evbuffer_free(wk->edges);
}

static void
tree(struct http_req *r, struct store_txn *txn, const struct store_token *t,
    int dot)
{
	struct walk	 wk;

	memset(&wk, 0, sizeof(wk));
	wk.r = r;
	wk.txn = txn;
	wk.dot = dot;
	wk.nodes = r->w->body;
	if (walk_init(&wk) == -1) {
		walk_free(&wk);
		api_error(r, 503);
		return;
	}
	wk.queue[wk.qlen++] = t->id;
	(void)seen_add(&wk, t->id);
	if (dot)
		evbuffer_add_printf(wk.nodes, "digraph revokerd {\n"
		    "  node [shape=box];\n");
	else
		evbuffer_add_printf(wk.nodes, "{\"root\":%llu,\"nodes\":[",
		    (unsigned long long)t->id);
	node_out(&wk, t, 0);
	if (walk_run(&wk) == -1) {
		evbuffer_drain(wk.nodes, evbuffer_get_length(wk.nodes));
		api_error(r, 500);
	} else
		tree_finish(&wk);
	walk_free(&wk);
}

/* Split "{jti}[/tree]" and decode; 0, or -1 if it is no such path. */
static int
parse_rest(const char *rest, size_t len, int *is_tree, char *jti,
    size_t jtilen)
{
	*is_tree = len > 5 && memcmp(rest + len - 5, "/tree", 5) == 0;
	if (*is_tree)
		len -= 5;
	if (len == 0 || memchr(rest, '/', len) != NULL)
		return (-1);
	return (http_decode(rest, len, jti, jtilen, 0) <= 0 ? -1 : 0);
}

void
admin_token(struct http_req *r, const char *rest, size_t len)
{
	struct http_field	 q[2] = { { "iss", NULL, 0 },
	    { "format", NULL, 0 } };
	struct store_txn	*txn;
	struct store_token	 tok;
	char			 jti[1024];
	uint64_t		 id;
	int			 is_tree, rc;

	if (parse_rest(rest, len, &is_tree, jti, sizeof(jti)) == -1) {
		api_error(r, 404);
		return;
	}
	if (http_form(r->query != NULL ? r->query : "", r->query_len, q, 2,
	    r->w->scratch, r->w->scratch_len) == -1 ||
	    (q[1].val != NULL && strcmp(q[1].val, "dot") != 0 &&
	    strcmp(q[1].val, "json") != 0)) {
		api_error(r, 400);
		return;
	}
	if (store_begin(r->w->h->store, 1, &txn) == -1) {
		api_error(r, 503);
		return;
	}
	rc = q[0].val != NULL ? store_lookup(txn, q[0].val, jti, &id) :
	    store_lookup_jti(txn, jti, &id);
	if (rc == 0)
		rc = store_get(txn, id, &tok);
	if (rc == STORE_EXISTS)
		api_error(r, 409);
	else if (rc != 0)
		api_error(r, rc == STORE_NOTFOUND ? 404 : 500);
	else if (is_tree)
		tree(r, txn, &tok, q[1].val != NULL &&
		    strcmp(q[1].val, "dot") == 0);
	else
		token_view(r, txn, &tok);
	store_abort(&txn);
}
