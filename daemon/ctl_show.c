/*
 * ctl_show: `revokerctl show` (one token) and `revokerctl tree` (its
 * descendants, indented or as Graphviz DOT), in one read transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumers/log.h"
#include "consumers/profile.h"
#include "daemon/ctl.h"
#include "store/store.h"

static const char *const kinds[STORE_NPARENTS] = {
	"subject", "actor", "previous"
};

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
show_cause(struct store_txn *t, uint32_t ref)
{
	static const char *const tk[] = { "sub", "client_id", "actor" };
	struct store_cause c;

	if (store_cause_get(t, ref, &c) != 0) {
		printf("cause      (unknown)\n");
		return;
	}
	printf("cause      event ");
	ctl_vis(c.event_id);
	printf(", %s ", c.target_kind >= 0 && c.target_kind < 3 ?
	    tk[c.target_kind] : "jti");
	ctl_vis(c.target);
	if (c.reason[0] != '\0') {
		printf(", reason ");
		ctl_vis(c.reason);
	}
	printf(", at %lld\n", (long long)c.time);
}

static void
show_parents(struct store_txn *t, const struct store_token *tok,
    int64_t now)
{
	struct store_token p;
	int k;

	for (k = 0; k < STORE_NPARENTS; k++) {
		if (tok->parent[k] == 0)
			continue;
		if (store_get(t, tok->parent[k], &p) != 0) {
			printf("parent     %-8s (unreadable)\n", kinds[k]);
			continue;
		}
		printf("parent     %-8s ", kinds[k]);
		ctl_vis(p.jti);
		printf(" %s%s\n", ctl_status_now(p.issued, p.status, p.exp,
		    now), p.issued ? "" : " (not issued yet)");
	}
}

static void
show_token(struct store_txn *t, const struct store_token *tok)
{
	int64_t now = (int64_t)time(NULL);
	const char *rule = profile_rule_name(tok->rule);

	field("jti", tok->jti);
	field("iss", tok->iss);
	printf("status     %s%s\n", ctl_status_now(tok->issued, tok->status,
	    tok->exp, now), tok->issued ? "" : " (not issued: a placeholder)");
	if (tok->own != tok->status)
		printf("own        %s (the rest inherited from a parent)\n",
		    ctl_status_name(tok->own));
	if (rule[0] != '\0')
		printf("rule       %s\n", rule);
	if (tok->status == STORE_REVOKED)
		show_cause(t, tok->cause);
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
		if (store_get(t, id, &tok) == 0)
			show_token(t, &tok);
		else
			rc = ctl_fail("show", "cannot read the token");
	}
	store_abort(&t);
	store_close(&st);
	return rc;
}

/* A set of token ids (never 0), open addressing. */
struct idset {
	uint64_t	*v;
	size_t		 cap, n;
};

/* Add id; 1 if it was new, 0 if already there. */
static int
idset_add(struct idset *s, uint64_t id)
{
	struct idset big;
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		big.cap = s->cap ? s->cap * 2 : 1024;
		big.n = 0;
		if ((big.v = calloc(big.cap, sizeof(uint64_t))) == NULL)
			fatal("ctl: out of memory");
		for (i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				idset_add(&big, s->v[i]);
		free(s->v);
		*s = big;
	}
	for (i = (id * 0x9e3779b97f4a7c15ULL) & (s->cap - 1); s->v[i] != 0;
	    i = (i + 1) & (s->cap - 1))
		if (s->v[i] == id)
			return 0;
	s->v[i] = id;
	s->n++;
	return 1;
}

struct frame {
	uint64_t	 id, parent;
	uint32_t	 depth;
};

struct walk {
	struct store_txn *t;
	struct idset	 seen;
	struct frame	*stack;
	size_t		 n, cap;
	uint64_t	*kids;
	size_t		 nkids, capkids;
	long long	 limit, shown;
	int		 dot;
	int64_t		 now;
};

static void
walk_push(struct walk *w, uint64_t id, uint64_t parent, uint32_t depth)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->stack = reallocarray(w->stack, w->cap, sizeof(*w->stack));
		if (w->stack == NULL)
			fatal("ctl: out of memory");
	}
	w->stack[w->n].id = id;
	w->stack[w->n].parent = parent;
	w->stack[w->n++].depth = depth;
}

static int
kid_add(void *arg, uint64_t id)
{
	struct walk *w = arg;

	if (w->nkids == w->capkids) {
		w->capkids = w->capkids ? w->capkids * 2 : 64;
		w->kids = reallocarray(w->kids, w->capkids, sizeof(uint64_t));
		if (w->kids == NULL)
			fatal("ctl: out of memory");
	}
	w->kids[w->nkids++] = id;
	return 0;
}

/* Push the children of id, first child on top, each once. */
static int
walk_children(struct walk *w, uint64_t id, uint32_t depth)
{
	size_t i;

	w->nkids = 0;
	if (store_children(w->t, id, kid_add, w) != 0)
		return -1;
	for (i = w->nkids; i > 0; i--)
		if (i == 1 || w->kids[i - 1] != w->kids[i - 2])
			walk_push(w, w->kids[i - 1], id, depth);
	return 0;
}

/* The edge kinds by which tok names parent: "subject,actor". */
static const char *
edge_label(const struct store_token *tok, uint64_t parent, char *buf,
    size_t len)
{
	size_t off = 0;
	int k, n;

	buf[0] = '\0';
	for (k = 0; k < STORE_NPARENTS; k++) {
		if (parent == 0 || tok->parent[k] != parent)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    kinds[k]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

static char
status_mark(const struct store_token *tok, int64_t now)
{
	static const char marks[] = "APDR";

	if (!tok->issued)
		return '-';
	if (tok->status == STORE_ACTIVE && tok->exp <= now)
		return 'E';
	return tok->status <= STORE_REVOKED ? marks[tok->status] : '?';
}

static void
tree_line(const struct walk *w, const struct frame *f,
    const struct store_token *tok, int first)
{
	char lbl[32];
	int indent = f->depth > 60 ? 120 : (int)f->depth * 2;

	printf("%*s[%c] ", indent, "", status_mark(tok, w->now));
	ctl_vis(tok->jti);
	if (f->parent != 0)
		printf(" (%s)", edge_label(tok, f->parent, lbl, sizeof(lbl)));
	if (tok->issued) {
		printf(" sub=");
		ctl_vis(tok->sub);
		printf(" client_id=");
		ctl_vis(tok->client_id);
	}
	printf("%s\n", first ? "" : " (see above)");
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
dot_node(const struct walk *w, uint64_t id, const struct store_token *tok)
{
	static const char *const fill[] = {
		"palegreen", "khaki", "orange", "lightcoral"
	};
	char m = status_mark(tok, w->now);

	printf("\t\"n%llu\" [label=\"", (unsigned long long)id);
	dot_str(tok->jti);
	printf("\\n%s\"", tok->issued ? ctl_status_now(1, tok->status,
	    tok->exp, w->now) : "not issued");
	if (m == '-')
		printf(", style=\"filled,dashed\", fillcolor=\"white\"];\n");
	else
		printf(", fillcolor=\"%s\"];\n", m == 'E' ? "lightgrey" :
		    fill[tok->status & 3]);
}

/* Depth first from root, each token expanded once, at most w->limit. */
static int
walk_run(struct walk *w, uint64_t root)
{
	struct store_token tok;
	struct frame f;
	char lbl[32];
	int first;

	walk_push(w, root, 0, 0);
	while (w->n > 0) {
		f = w->stack[--w->n];
		if (w->shown++ >= w->limit) {
			printf(w->dot ? "\t// more not shown (--limit)\n" :
			    "... more not shown (--limit)\n");
			break;
		}
		if (store_get(w->t, f.id, &tok) != 0)
			return -1;
		first = idset_add(&w->seen, f.id);
		if (!w->dot)
			tree_line(w, &f, &tok, first);
		else if (first)
			dot_node(w, f.id, &tok);
		if (w->dot && f.parent != 0)
			printf("\t\"n%llu\" -> \"n%llu\" [label=\"%s\"];\n",
			    (unsigned long long)f.parent,
			    (unsigned long long)f.id,
			    edge_label(&tok, f.parent, lbl, sizeof(lbl)));
		if (first && walk_children(w, f.id, f.depth + 1) == -1)
			return -1;
	}
	return 0;
}

int
ctl_tree(int argc, char **argv)
{
	struct store_txn *t = NULL;
	struct store *st = NULL;
	struct ctl_opts o;
	struct walk w;
	uint64_t id;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "iss,dot,limit", 1, &o)) != 0)
		return rc;
	if (begin_read("tree", &o, &st, &t) != 0)
		return 1;
	memset(&w, 0, sizeof(w));
	if ((rc = find_token("tree", t, &o, &id)) != 0)
		goto done;
	w.t = t;
	w.limit = o.limit;
	w.dot = o.dot;
	w.now = (int64_t)time(NULL);
	if (w.dot)
		printf("digraph tree {\n\tnode [shape=box, style=filled, "
		    "fontname=\"Helvetica\"];\n");
	if (walk_run(&w, id) == -1)
		rc = ctl_fail("tree", "cannot read the database");
	if (w.dot)
		printf("}\n");
done:
	free(w.seen.v);
	free(w.stack);
	free(w.kids);
	store_abort(&t);
	store_close(&st);
	return rc;
}
