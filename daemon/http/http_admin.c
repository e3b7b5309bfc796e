/*
 * http_admin: GET /v1/tokens/{jti}[?iss=..] (one token: status, reason,
 * claims, parents, children count) and GET /v1/tokens/{jti}/tree
 * [?format=dot] (its descendants, breadth first, as a flat JSON list of
 * nodes and edges or as Graphviz DOT).  What a token's status and
 * reason are, and the bounded walk, are consumers/view/view.c's; this file
 * only formats (truncated after TREE_MAX_NODES tokens).  Admin only; one
 * read transaction per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "consumers/view/view.h"
#include "daemon/http/http_int.h"
#include "store/graph/store.h"

#define TREE_MAX_NODES	100000

static void
add_str(struct evbuffer *b, const char *s)
{
	http_json_str(b, s, strlen(s));
}

static const char *
status_of(const struct http_req *r, const struct store_token *tok)
{
	return view_status(tok, (int64_t)time(NULL), r->w->h->cfg.leeway);
}

/* "reason" (and "cause" for a revoked token) members, with a comma. */
static int
token_reason(struct http_req *r, struct store_txn *txn,
    const struct store_token *tok, struct evbuffer *b)
{
	struct view_reason vr;
	const struct store_cause *c = &vr.cause;

	if (view_reason(txn, tok, (int64_t)time(NULL), r->w->h->cfg.leeway,
	    &vr) == -1)
		return -1;
	if (vr.reason == NULL)
		return 0;
	evbuffer_add_printf(b, ",\"reason\":");
	add_str(b, vr.reason);
	if (!vr.has_cause)
		return 0;
	evbuffer_add_printf(b, ",\"cause\":{\"event\":");
	add_str(b, c->event_id);
	evbuffer_add_printf(b, ",\"iss\":");
	add_str(b, c->iss);
	evbuffer_add_printf(b, ",\"target_kind\":\"%s\",\"target\":",
	    view_target_kind(c->target_kind));
	add_str(b, c->target);
	evbuffer_add_printf(b, ",\"time\":%lld,\"inherited\":%s}",
	    (long long)c->time, vr.inherited ? "true" : "false");
	return 0;
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
		    view_parent_kind(k));
		add_str(b, p.iss);
		evbuffer_add_printf(b, ",\"jti\":");
		add_str(b, p.jti);
		evbuffer_add_printf(b, ",\"status\":\"%s\"}",
		    status_of(r, &p));
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
	    tok->issued ? "true" : "false", status_of(r, tok));
	if (token_reason(r, txn, tok, b) == -1) {
		evbuffer_drain(b, evbuffer_get_length(b));
		http_error(r, 500);
		return;
	}
	if (tok->issued && tok->claims_len > 0) {
		evbuffer_add_printf(b, ",\"claims\":");
		evbuffer_add(b, tok->claims, tok->claims_len);
	}
	token_parents(txn, tok, r, b);
	evbuffer_add_printf(b, ",\"children\":%llu}\n",
	    (unsigned long long)tok->nchildren);
	http_reply_body(r, 200, "application/json");
}

/* The tree's output: nodes into the body, edges aside, as JSON or DOT. */
struct tree_out {
	struct http_req	*r;
	struct evbuffer	*nodes;		/* r->w->body */
	struct evbuffer	*edges;
	int		 dot;
	size_t		 nnodes, nedges;
};

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

static int
node_out(void *arg, const struct store_token *tok, uint32_t depth)
{
	static const char *const colour[] = {
		"black", "gray", "orange", "red"
	};
	struct tree_out	*o = arg;
	struct evbuffer	*b = o->nodes;
	const char	*st = status_of(o->r, tok);

	if (o->dot) {
		evbuffer_add_printf(b, "  n%llu [label=",
		    (unsigned long long)tok->id);
		dot_str(b, tok->jti);
		evbuffer_add_printf(b, ", xlabel=\"%s\", color=%s];\n", st,
		    colour[tok->status & 3]);
		return 0;
	}
	evbuffer_add_printf(b, "%s{\"id\":%llu,\"iss\":", o->nnodes++ ?
	    "," : "", (unsigned long long)tok->id);
	add_str(b, tok->iss);
	evbuffer_add_printf(b, ",\"jti\":");
	add_str(b, tok->jti);
	evbuffer_add_printf(b, ",\"status\":\"%s\",\"depth\":%u}", st,
	    depth);
	return 0;
}

static int
edge_out(void *arg, uint64_t from, uint64_t to, int kind)
{
	struct tree_out	*o = arg;

	if (o->dot)
		evbuffer_add_printf(o->edges, "  n%llu -> n%llu "
		    "[label=\"%s\"];\n", (unsigned long long)from,
		    (unsigned long long)to, view_parent_kind(kind));
	else
		evbuffer_add_printf(o->edges, "%s{\"from\":%llu,\"to\":%llu,"
		    "\"kind\":\"%s\"}", o->nedges++ ? "," : "",
		    (unsigned long long)from, (unsigned long long)to,
		    view_parent_kind(kind));
	return 0;
}

static void
tree_finish(struct tree_out *o, const struct view_walk *w)
{
	struct evbuffer	*b = o->nodes;

	if (o->dot) {
		evbuffer_add_buffer(b, o->edges);
		if (w->truncated)
			evbuffer_add_printf(b, "  label=\"truncated: the "
			    "first %d tokens only\";\n  labelloc=t;\n",
			    TREE_MAX_NODES);
		evbuffer_add_printf(b, "}\n");
		http_reply_body(o->r, 200, "text/vnd.graphviz");
		return;
	}
	evbuffer_add_printf(b, "],\"edges\":[");
	evbuffer_add_buffer(b, o->edges);
	evbuffer_add_printf(b, "],\"count\":%zu,\"truncated\":%s}\n",
	    w->nodes, w->truncated ? "true" : "false");
	http_reply_body(o->r, 200, "application/json");
}

static void
tree(struct http_req *r, struct store_txn *txn, const struct store_token *t,
    int dot)
{
	struct tree_out	 o;
	struct view_walk w;

	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	o.r = r;
	o.dot = dot;
	o.nodes = r->w->body;
	if ((o.edges = evbuffer_new()) == NULL) {
		http_error(r, 503);
		return;
	}
	if (dot)
		evbuffer_add_printf(o.nodes, "digraph revokerd {\n"
		    "  node [shape=box];\n");
	else
		evbuffer_add_printf(o.nodes, "{\"root\":%llu,\"nodes\":[",
		    (unsigned long long)t->id);
	w.node = node_out;
	w.edge = edge_out;
	w.arg = &o;
	w.max = TREE_MAX_NODES;
	if (view_walk_run(txn, t, &w) == -1) {
		evbuffer_drain(o.nodes, evbuffer_get_length(o.nodes));
		http_error(r, 500);
	} else
		tree_finish(&o, &w);
	evbuffer_free(o.edges);
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
		return -1;
	return http_decode(rest, len, jti, jtilen, 0) <= 0 ? -1 : 0;
}

void
http_admin_token(struct http_req *r, const char *rest, size_t len)
{
	struct http_field	 q[2] = { { "iss", NULL, 0 },
	    { "format", NULL, 0 } };
	struct store_txn	*txn;
	struct store_token	 tok;
	char			 jti[1024];
	uint64_t		 id;
	int			 is_tree, rc;

	if (parse_rest(rest, len, &is_tree, jti, sizeof(jti)) == -1) {
		http_error(r, 404);
		return;
	}
	if (http_form(r->query != NULL ? r->query : "", r->query_len, q, 2,
	    r->w->scratch, r->w->scratch_len) == -1 ||
	    (q[1].val != NULL && strcmp(q[1].val, "dot") != 0 &&
	    strcmp(q[1].val, "json") != 0)) {
		http_error(r, 400);
		return;
	}
	if (store_begin(r->w->h->store, 1, &txn) == -1) {
		http_error(r, 503);
		return;
	}
	rc = q[0].val != NULL ? store_lookup(txn, q[0].val, jti, &id) :
	    store_lookup_jti(txn, jti, &id);
	if (rc == 0)
		rc = store_get(txn, id, &tok);
	if (rc == STORE_EXISTS)
		http_error(r, 409);
	else if (rc != 0)
		http_error(r, rc == STORE_NOTFOUND ? 404 : 500);
	else if (is_tree)
		tree(r, txn, &tok, q[1].val != NULL &&
		    strcmp(q[1].val, "dot") == 0);
	else
		token_view(r, txn, &tok);
	store_abort(&txn);
}
