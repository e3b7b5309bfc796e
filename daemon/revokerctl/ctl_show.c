/*
 * ctl_show: `revokerctl show` (one token) and `revokerctl tree` (its
 * descendants, indented or as Graphviz DOT), in one read transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumers/log/log.h"
#include "consumers/profile/profile.h"
#include "consumers/view/view.h"
#include "daemon/revokerctl/ctl.h"
#include "store/graph/store.h"

/* Find the token named by o (jti, and --iss if given).  0 or 1. */
static int
find_token(const char *cmd, struct store_txn *t, const struct ctl_opts *o,
    uint64_t *id)
{
	int rc;

	if (o->iss != NULL)
		rc = store_lookup(t, o->iss, o->jti, id);
	else
		rc = store_lookup_jti(t, o->jti, id);
	if (rc == 0)
		return 0;
	if (rc == STORE_NOTFOUND)
		return ctl_fail(cmd, "%.256s: no such token%s", o->jti,
		    o->iss != NULL ? " for this issuer" : "");
	if (rc == STORE_EXISTS)
		return ctl_fail(cmd, "%.256s: known under several issuers: "
		    "give --iss", o->jti);
	return ctl_fail(cmd, "cannot read the database");
}

/* Open o->db and begin a read transaction.  0 or 1. */
static int
begin_read(const char *cmd, const struct ctl_opts *o, struct store **st,
    struct store_txn **t)
{
	if ((*st = ctl_open(o->db, 0, 1)) == NULL)
		return 1;
	if (store_begin(*st, 1, t) == 0)
		return 0;
	store_close(st);
	return ctl_fail(cmd, "%s: cannot read the database", o->db);
}

static void
print_time(const char *name, int64_t v)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)v;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
	printf("%-10s %lld (%s)\n", name, (long long)v, buf);
}

/* "name       value", the value made safe for a terminal. */
static void
field(const char *name, const char *value)
{
	printf("%-10s ", name);
	ctl_vis(value);
	putchar('\n');
}

static void
show_cause(const struct view_reason *vr)
{
	const struct store_cause *c = &vr->cause;

	if (!vr->has_cause) {
		printf("cause      (unknown)\n");
		return;
	}
	printf("cause      event ");
	ctl_vis(c->event_id);
	printf(", %s ", view_target_kind(c->target_kind));
	ctl_vis(c->target);
	if (c->reason[0] != '\0') {
		printf(", reason ");
		ctl_vis(c->reason);
	}
	printf(", at %lld%s\n", (long long)c->time, vr->inherited ?
	    " (inherited from a parent)" : "");
}

static void
show_parents(struct store_txn *t, const struct store_token *tok,
    int64_t now)
{
	struct store_token p;
	int k, rc;

	for (k = 0; k < STORE_NPARENTS; k++) {
		if (tok->parent[k] == 0)
			continue;
		if ((rc = store_get(t, tok->parent[k], &p)) != 0) {
			printf("parent     %-8s %s\n", view_parent_kind(k),
			    rc == STORE_NOTFOUND ? "(swept: forgotten "
			    "--retention after it expired)" : "(unreadable)");
			continue;
		}
		printf("parent     %-8s ", view_parent_kind(k));
		ctl_vis(p.jti);
		printf(" %s%s\n", view_status(&p, now, 0), p.issued ? "" :
		    p.status == STORE_REVOKED ? " (a remembered revocation: "
		    "not issued, or swept after it expired)" :
		    " (not issued yet)");
	}
}

static int
show_token(struct store_txn *t, const struct store_token *tok)
{
	int64_t now = (int64_t)time(NULL);
	const char *rule = profile_rule_name(tok->rule);
	struct view_reason vr;

	if (view_reason(t, tok, now, 0, &vr) == -1)
		return -1;
	field("jti", tok->jti);
	field("iss", tok->iss);
	printf("status     %s%s\n", vr.status, tok->issued ? "" :
	    " (not issued: a placeholder)");
	if (tok->own != tok->status)
		printf("own        %s (the rest inherited from a parent)\n",
		    view_status_name(tok->own));
	if (rule[0] != '\0')
		printf("rule       %s\n", rule);
	if (vr.reason != NULL && strcmp(vr.reason, rule) != 0)
		printf("reason     %s\n", vr.reason);
	if (tok->status == STORE_REVOKED)
		show_cause(&vr);
	if (tok->issued) {
		field("kind", tok->kind == 1 ? "refresh" : "access");
		field("sub", tok->sub);
		field("client_id", tok->client_id);
		print_time("iat", tok->iat);
		if (tok->nbf != 0)
			print_time("nbf", tok->nbf);
		print_time("exp", tok->exp);
		printf("claims     %.*s\n", (int)tok->claims_len,
		    (const char *)tok->claims);
	}
	show_parents(t, tok, now);
	printf("children   %llu\n", (unsigned long long)tok->nchildren);
	return 0;
}

int
ctl_show(int argc, char **argv)
{
	struct store_token tok;
	struct store_txn *t = NULL;
	struct store *st = NULL;
	struct ctl_opts o;
	uint64_t id;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "iss", 1, &o)) != 0)
		return rc;
	if (begin_read("show", &o, &st, &t) != 0)
		return 1;
	if ((rc = find_token("show", t, &o, &id)) == 0) {
		if (store_get(t, id, &tok) == 0 && show_token(t, &tok) == 0)
			;
		else
			rc = ctl_fail("show", "cannot read the token");
	}
	store_abort(&t);
	store_close(&st);
	return rc;
}

/*
 * The tree: consumers/view/view.c walks (breadth first, each token once, at
 * most --limit tokens); this file prints what it listed, indented depth
 * first (a token reached again says "see above") or as DOT.
 */
struct tnode {
	struct store_token	 t;	/* strings in the map: one txn */
	size_t			 first, n;	/* its edges, in edges[] */
};
struct tedge {
	uint64_t	 from, to;
	int		 kind;
};
struct tree {
	struct tnode	*node;
	size_t		 nnode, capnode;
	struct tedge	*edge;
	size_t		 nedge, capedge;
	struct tslot {
		uint64_t id;		/* 0: empty */
		size_t	 idx;		/* in node[] */
	}		*slot;		/* open addressing */
	size_t		 mask;
	int64_t		 now;
	int		 dot;
	long long	 limit, lines;
};

static struct tslot *
tree_slot(struct tree *tr, uint64_t id)
{
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ULL) & tr->mask;

	while (tr->slot[i].id != 0 && tr->slot[i].id != id)
		i = (i + 1) & tr->mask;
	return &tr->slot[i];
}

static int
tree_node(void *arg, const struct store_token *tok, uint32_t depth)
{
	struct tree *tr = arg;
	struct tslot *sl;

	(void)depth;
	if (tr->nnode == tr->capnode) {
		tr->capnode = tr->capnode ? tr->capnode * 2 : 256;
		tr->node = reallocarray(tr->node, tr->capnode,
		    sizeof(*tr->node));
		if (tr->node == NULL)
			fatal("ctl: out of memory");
	}
	memset(&tr->node[tr->nnode], 0, sizeof(tr->node[0]));
	tr->node[tr->nnode].t = *tok;
	sl = tree_slot(tr, tok->id);
	sl->id = tok->id;
	sl->idx = tr->nnode++;
	return 0;
}

static int
tree_edge(void *arg, uint64_t from, uint64_t to, int kind)
{
	struct tree *tr = arg;

	if (tr->nedge == tr->capedge) {
		tr->capedge = tr->capedge ? tr->capedge * 2 : 256;
		tr->edge = reallocarray(tr->edge, tr->capedge,
		    sizeof(*tr->edge));
		if (tr->edge == NULL)
			fatal("ctl: out of memory");
	}
	tr->edge[tr->nedge].from = from;
	tr->edge[tr->nedge].to = to;
	tr->edge[tr->nedge++].kind = kind;
	return 0;
}

static struct tnode *
tree_find(struct tree *tr, uint64_t id)
{
	struct tslot *sl = tree_slot(tr, id);

	return sl->id == id ? &tr->node[sl->idx] : NULL;
}

static int
edge_cmp(const void *a, const void *b)
{
	const struct tedge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->kind - y->kind;
}

/* Each node's edges to its children, as a run of the sorted edges. */
static void
tree_index(struct tree *tr)
{
	struct tnode *n;
	size_t i;

	qsort(tr->edge, tr->nedge, sizeof(*tr->edge), edge_cmp);
	for (i = 0; i < tr->nedge; i++) {
		n = tree_find(tr, tr->edge[i].from);
		if (n->n++ == 0)
			n->first = i;
	}
}

static char
status_mark(const struct store_token *tok, int64_t now)
{
	const char *st = view_status(tok, now, 0);

	if (!tok->issued)
		return '-';
	return strcmp(st, "expired") == 0 ? 'E' : (char)(st[0] - 32);
}

/* The kinds of the edges i.. from one parent to one child: "a,b". */
static size_t
edge_label(const struct tree *tr, size_t i, size_t end, char *buf,
    size_t len)
{
	size_t j, off = 0;
	int n;

	buf[0] = '\0';
	for (j = i; j < end && tr->edge[j].to == tr->edge[i].to; j++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    view_parent_kind(tr->edge[j].kind));
		if (n > 0 && (size_t)n < len - off)
			off += (size_t)n;
	}
	return j - i;
}

static int
tree_line(struct tree *tr, const struct tnode *n, int depth,
    const char *label, int again)
{
	const struct store_token *tok = &n->t;
	int indent = depth > 60 ? 120 : depth * 2;

	if (tr->lines++ >= tr->limit) {
		printf("... more not shown (--limit)\n");
		return -1;
	}
	printf("%*s[%c] ", indent, "", status_mark(tok, tr->now));
	ctl_vis(tok->jti);
	if (label != NULL)
		printf(" (%s)", label);
	if (tok->issued) {
		printf(" sub=");
		ctl_vis(tok->sub);
		printf(" client_id=");
		ctl_vis(tok->client_id);
	}
	printf("%s\n", again ? " (see above)" : "");
	return 0;
}

/* Depth first from n, each token expanded once (seen: 1). */
static int
tree_print(struct tree *tr, struct tnode *n, int depth, const char *label,
    uint8_t *seen)
{
	struct tnode *c;
	char lbl[32];
	size_t i, end, k;
	int again = seen[n - tr->node];

	if (tree_line(tr, n, depth, label, again) == -1)
		return -1;
	if (again)
		return 0;
	seen[n - tr->node] = 1;
	end = n->first + n->n;
	for (i = n->first; i < end; i += k) {
		k = edge_label(tr, i, end, lbl, sizeof(lbl));
		c = tree_find(tr, tr->edge[i].to);
		if (tree_print(tr, c, depth + 1, lbl, seen) == -1)
			return -1;
	}
	return 0;
}

/* A DOT string's inside: quotes and backslashes escaped, no controls. */
static void
dot_str(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	}
}

static void
tree_dot(struct tree *tr, int truncated)
{
	static const char *const fill[] = {
		"palegreen", "khaki", "orange", "lightcoral"
	};
	const struct store_token *tok;
	size_t i;
	char m;

	printf("digraph tree {\n\tnode [shape=box, style=filled, "
	    "fontname=\"Helvetica\"];\n");
	for (i = 0; i < tr->nnode; i++) {
		tok = &tr->node[i].t;
		m = status_mark(tok, tr->now);
		printf("\t\"n%llu\" [label=\"", (unsigned long long)tok->id);
		dot_str(tok->jti);
		printf("\\n%s\"", tok->issued ? view_status(tok, tr->now, 0) :
		    "not issued");
		if (m == '-')
			printf(", style=\"filled,dashed\", "
			    "fillcolor=\"white\"];\n");
		else
			printf(", fillcolor=\"%s\"];\n", m == 'E' ?
			    "lightgrey" : fill[tok->status & 3]);
	}
	for (i = 0; i < tr->nedge; i++)
		printf("\t\"n%llu\" -> \"n%llu\" [label=\"%s\"];\n",
		    (unsigned long long)tr->edge[i].from,
		    (unsigned long long)tr->edge[i].to,
		    view_parent_kind(tr->edge[i].kind));
	if (truncated)
		printf("\t// more not shown (--limit)\n");
	printf("}\n");
}

/* Walk from root, then print.  0 or -1. */
static int
tree_run(struct store_txn *t, const struct store_token *root,
    struct tree *tr)
{
	struct view_walk w;
	uint8_t *seen;
	size_t cap = 2;
	int rc;

	memset(&w, 0, sizeof(w));
	w.node = tree_node;
	w.edge = tree_edge;
	w.arg = tr;
	w.max = (size_t)tr->limit;
	while (cap < 2 * w.max)
		cap <<= 1;
	tr->mask = cap - 1;
	if ((tr->slot = calloc(cap, sizeof(*tr->slot))) == NULL)
		fatal("ctl: out of memory");
	if (view_walk_run(t, root, &w) == -1)
		return -1;
	tree_index(tr);
	if (tr->dot) {
		tree_dot(tr, w.truncated);
		return 0;
	}
	if ((seen = calloc(tr->nnode, 1)) == NULL)
		fatal("ctl: out of memory");
	rc = tree_print(tr, &tr->node[0], 0, NULL, seen);
	if (rc == 0 && w.truncated)
		printf("... more not shown (--limit)\n");
	free(seen);
	return 0;
}

int
ctl_tree(int argc, char **argv)
{
	struct store_token tok;
	struct store_txn *t = NULL;
	struct store *st = NULL;
	struct ctl_opts o;
	struct tree tr;
	uint64_t id;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "iss,dot,limit", 1, &o)) != 0)
		return rc;
	if (begin_read("tree", &o, &st, &t) != 0)
		return 1;
	memset(&tr, 0, sizeof(tr));
	if ((rc = find_token("tree", t, &o, &id)) != 0)
		goto done;
	tr.limit = o.limit;
	tr.dot = o.dot;
	tr.now = (int64_t)time(NULL);
	if (store_get(t, id, &tok) != 0 || tree_run(t, &tok, &tr) == -1)
		rc = ctl_fail("tree", "cannot read the database");
done:
	free(tr.node);
	free(tr.edge);
	free(tr.slot);
	store_abort(&t);
	store_close(&st);
	return rc;
}
