/*
 * ctl_graph: `revokerctl digest` and `revokerctl stats`, over a copy of
 * the whole graph taken in one read transaction (so they work while the
 * daemon writes).  Memory: about 80 bytes a token plus its strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "consumers/log/log.h"
#include "consumers/view/view.h"
#include "daemon/revokerctl/ctl.h"
#include "store/graph/store.h"

#define ARENA_CHUNK	(1 << 20)

struct grec {
	uint64_t	 id;
	const char	*iss;		/* interned */
	const char	*jti;
	uint64_t	 parent[STORE_NPARENTS];
	uint64_t	 nchildren;
	int64_t		 exp;
	uint8_t		 issued;
	uint8_t		 status;
};

struct arena {
	char		*cur;
	size_t		 left;
	char		**chunks;
	size_t		 nchunks;
};

struct graph {
	struct grec	*r;
	size_t		 n, cap;
	struct arena	 a;
	const char	*last_iss;
	int		 sorted;	/* by id */
	uint8_t		(*hrev)[STORE_HASH_LEN];	/* revoked, unissued */
	size_t		 nhrev;
};

static const char *
arena_dup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > a->left) {
		a->chunks = reallocarray(a->chunks, a->nchunks + 1,
		    sizeof(char *));
		a->left = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if (a->chunks == NULL || (a->cur = malloc(a->left)) == NULL)
			fatal("ctl: out of memory");
		a->chunks[a->nchunks++] = a->cur;
	}
	p = a->cur;
	memcpy(p, s, n);
	a->cur += n;
	a->left -= n;
	return p;
}

static void
graph_free(struct graph *g)
{
	size_t i;

	for (i = 0; i < g->a.nchunks; i++)
		free(g->a.chunks[i]);
	free(g->a.chunks);
	free(g->r);
	free(g->hrev);
	memset(g, 0, sizeof(*g));
}

static int
collect_one(void *arg, const struct store_token *t)
{
	struct graph *g = arg;
	struct grec *r;

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4096;
		if ((g->r = reallocarray(g->r, g->cap, sizeof(*g->r))) == NULL)
			fatal("ctl: out of memory");
	}
	r = &g->r[g->n++];
	r->id = t->id;
	if (g->last_iss == NULL || strcmp(g->last_iss, t->iss) != 0)
		g->last_iss = arena_dup(&g->a, t->iss);
	r->iss = g->last_iss;
	r->jti = arena_dup(&g->a, t->jti);
	memcpy(r->parent, t->parent, sizeof(r->parent));
	r->nchildren = t->nchildren;
	r->exp = t->exp;
	r->issued = t->issued != 0;
	r->status = t->status;
	if (g->n > 1 && r[-1].id >= r->id)
		g->sorted = 0;
	return 0;
}

static int
collect_hash(void *arg, const uint8_t *hash)
{
	struct graph *g = arg;

	g->hrev = reallocarray(g->hrev, g->nhrev + 1, sizeof(*g->hrev));
	if (g->hrev == NULL)
		fatal("ctl: out of memory");
	memcpy(g->hrev[g->nhrev++], hash, STORE_HASH_LEN);
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct grec *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Copy every token of the database in dir.  0, or 1 after a message. */
static int
graph_load(const char *cmd, const char *dir, struct graph *g,
    struct store_stats *ss)
{
	struct store_txn *t = NULL;
	struct store *st;
	int rc = 1;

	memset(g, 0, sizeof(*g));
	g->sorted = 1;
	if ((st = ctl_open(dir, 0, 1)) == NULL)
		return 1;
	if (store_begin(st, 1, &t) == -1 ||
	    (ss != NULL && store_stats(t, ss) == -1) ||
	    store_foreach(t, collect_one, g) != 0 ||
	    store_hash_revoked_each(t, collect_hash, g) != 0) {
		ctl_fail(cmd, "%s: cannot read the database", dir);
		goto fail;
	}
	if (!g->sorted)
		qsort(g->r, g->n, sizeof(*g->r), cmp_id);
	rc = 0;
fail:
	store_abort(&t);
	store_close(&st);
	return rc;
}

/* The record of id, or NULL.  O(log n). */
static const struct grec *
graph_find(const struct graph *g, uint64_t id)
{
	struct grec key;

	key.id = id;
	return bsearch(&key, g->r, g->n, sizeof(*g->r), cmp_id);
}

static int
cmp_key(const void *a, const void *b)
{
	const struct grec *x = *(const struct grec *const *)a;
	const struct grec *y = *(const struct grec *const *)b;
	int c;

	if (x->iss != y->iss && (c = strcmp(x->iss, y->iss)) != 0)
		return c;
	return strcmp(x->jti, y->jti);
}

static void
md_str(EVP_MD_CTX *md, const char *s)
{
	if (EVP_DigestUpdate(md, s, strlen(s) + 1) != 1)
		fatalx("ctl: SHA-256 failed");
}

/* One token's share of the digest: key, issued, status, parent keys. */
static void
digest_rec(EVP_MD_CTX *md, const struct graph *g, const struct grec *r)
{
	const struct grec *p;
	int k;

	md_str(md, r->iss);
	md_str(md, r->jti);
	md_str(md, r->issued ? "issued" : "placeholder");
	md_str(md, view_status_name(r->status));
	for (k = 0; k < STORE_NPARENTS; k++) {
		if (r->parent[k] == 0)
			continue;
		md_str(md, store_parent_name(k));
		if ((p = graph_find(g, r->parent[k])) == NULL)
			md_str(md, "?");
		else {
			md_str(md, p->iss);
			md_str(md, p->jti);
		}
	}
	md_str(md, "\n");
}

/* A hash revoked before any token had it: its share of the digest. */
static void
digest_hash(EVP_MD_CTX *md, const uint8_t *hash)
{
	static const char hx[] = "0123456789abcdef";
	char s[2 * STORE_HASH_LEN + 1];
	size_t i;

	for (i = 0; i < STORE_HASH_LEN; i++) {
		s[2 * i] = hx[hash[i] >> 4];
		s[2 * i + 1] = hx[hash[i] & 15];
	}
	s[2 * STORE_HASH_LEN] = '\0';
	md_str(md, "hash");
	md_str(md, s);
	md_str(md, "revoked");
	md_str(md, "\n");
}

int
ctl_digest(int argc, char **argv)
{
	const struct grec **v;
	struct ctl_opts o;
	struct graph g;
	EVP_MD_CTX *md;
	unsigned char h[32];
	size_t i;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "", 0, &o)) != 0)
		return rc;
	if (graph_load("digest", o.db, &g, NULL) != 0)
		return 1;
	if ((v = reallocarray(NULL, g.n + 1, sizeof(*v))) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL)
		fatal("ctl: out of memory");
	for (i = 0; i < g.n; i++)
		v[i] = &g.r[i];
	qsort(v, g.n, sizeof(*v), cmp_key);
	if (EVP_DigestInit_ex2(md, EVP_sha256(), NULL) != 1)
		fatalx("ctl: SHA-256 failed");
	for (i = 0; i < g.n; i++)
		digest_rec(md, &g, v[i]);
	for (i = 0; i < g.nhrev; i++)	/* in byte order, from the store */
		digest_hash(md, g.hrev[i]);
	if (EVP_DigestFinal_ex(md, h, NULL) != 1)
		fatalx("ctl: SHA-256 failed");
	for (i = 0; i < sizeof(h); i++)
		printf("%02x", h[i]);
	printf("\n");
	EVP_MD_CTX_free(md);
	free(v);
	graph_free(&g);
	return 0;
}

/* Children lists (CSR) and parent counts, by index into g->r. */
struct csr {
	uint32_t	*start;		/* n + 1 */
	uint32_t	*kids;
	uint32_t	*indeg;
};

static void
csr_build(const struct graph *g, struct csr *c)
{
	const struct grec *p;
	size_t i, k;

	c->start = calloc(g->n + 2, sizeof(uint32_t));
	c->indeg = calloc(g->n + 1, sizeof(uint32_t));
	if (c->start == NULL || c->indeg == NULL)
		fatal("ctl: out of memory");
	for (i = 0; i < g->n; i++)
		for (k = 0; k < STORE_NPARENTS; k++)
			if ((p = graph_find(g, g->r[i].parent[k])) != NULL) {
				c->start[p - g->r + 2]++;
				c->indeg[i]++;
			}
	for (i = 2; i < g->n + 2; i++)
		c->start[i] += c->start[i - 1];
	if ((c->kids = calloc(c->start[g->n + 1] + 1, sizeof(uint32_t))) ==
	    NULL)
		fatal("ctl: out of memory");
	for (i = 0; i < g->n; i++)
		for (k = 0; k < STORE_NPARENTS; k++)
			if ((p = graph_find(g, g->r[i].parent[k])) != NULL)
				c->kids[c->start[p - g->r + 1]++] =
				    (uint32_t)i;
}

/*
 * The longest chain of parent edges (any kind), by Kahn's topological
 * order: O(tokens + edges).  *cyclic gets the count of tokens on or
 * under a parent cycle (never ordered).
 */
static uint32_t
graph_depth(const struct graph *g, size_t *cyclic)
{
	struct csr c;
	uint32_t *q, *depth, i, j, kid, best = 0;
	size_t head = 0, tail = 0;

	csr_build(g, &c);
	q = calloc(g->n + 1, sizeof(uint32_t));
	depth = calloc(g->n + 1, sizeof(uint32_t));
	if (q == NULL || depth == NULL)
		fatal("ctl: out of memory");
	for (i = 0; i < g->n; i++)
		if (c.indeg[i] == 0)
			q[tail++] = i;
	while (head < tail) {
		i = q[head++];
		if (depth[i] > best)
			best = depth[i];
		for (j = c.start[i]; j < c.start[i + 1]; j++) {
			kid = c.kids[j];
			if (depth[kid] < depth[i] + 1)
				depth[kid] = depth[i] + 1;
			if (--c.indeg[kid] == 0)
				q[tail++] = kid;
		}
	}
	*cyclic = g->n - tail;
	free(q);
	free(depth);
	free(c.start);
	free(c.kids);
	free(c.indeg);
	return best;
}

static double
mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

static void
stats_print_db(const char *dir, const struct store_stats *ss)
{
	char path[4096];
	struct stat sb;
	int n;

	printf("database      %.1f MiB used of a %.1f MiB map (%.2f%%)",
	    mib(ss->map_used), mib(ss->map_size), ss->map_size > 0 ?
	    100.0 * (double)ss->map_used / (double)ss->map_size : 0.0);
	n = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (n > 0 && (size_t)n < sizeof(path) && stat(path, &sb) == 0)
		printf(", %.1f MiB on disk", mib((uint64_t)sb.st_blocks * 512));
	if (ss->tokens + ss->placeholders > 0)	/* of the map's use, too */
		printf(", %llu bytes per token record",
		    (unsigned long long)(ss->map_used / (ss->tokens +
		    ss->placeholders)));
	printf("\n");
}

static void
stats_print(const char *dir, const struct graph *g,
    const struct store_stats *ss)
{
	const struct grec *fan = NULL;
	uint64_t expired = 0;
	int64_t now = (int64_t)time(NULL);
	size_t i, cyclic;
	uint32_t depth;

	for (i = 0; i < g->n; i++) {
		if (g->r[i].issued && g->r[i].status == STORE_ACTIVE &&
		    g->r[i].exp <= now)
			expired++;
		if (fan == NULL || g->r[i].nchildren > fan->nchildren)
			fan = &g->r[i];
	}
	depth = graph_depth(g, &cyclic);
	printf("tokens        %llu issued\n", (unsigned long long)ss->tokens);
	printf("  active      %llu (%llu of them expired now)\n",
	    (unsigned long long)ss->by_status[STORE_ACTIVE],
	    (unsigned long long)expired);
	printf("  pending     %llu\n  denied      %llu\n  revoked     %llu\n",
	    (unsigned long long)ss->by_status[STORE_PENDING],
	    (unsigned long long)ss->by_status[STORE_DENIED],
	    (unsigned long long)ss->by_status[STORE_REVOKED]);
	printf("placeholders  %llu (referenced, never issued)\n",
	    (unsigned long long)ss->placeholders);
	printf("edges         %llu\nevents        %llu applied\n"
	    "outbox        %llu entries waiting\n",
	    (unsigned long long)ss->edges, (unsigned long long)ss->events,
	    (unsigned long long)ss->outbox);
	printf("graph depth   %u (longest chain of parent edges, any kind)\n",
	    depth);
	if (cyclic > 0)
		printf("cycles        %zu tokens on or under a parent cycle\n",
		    cyclic);
	if (fan != NULL) {
		printf("max fan-out   %llu children (",
		    (unsigned long long)fan->nchildren);
		ctl_vis(fan->jti);
		printf(")\n");
	}
	stats_print_db(dir, ss);
}

int
ctl_stats(int argc, char **argv)
{
	struct store_stats ss;
	struct ctl_opts o;
	struct graph g;
	int rc;

	if ((rc = ctl_opts_parse(argc, argv, "", 0, &o)) != 0)
		return rc;
	if (graph_load("stats", o.db, &g, &ss) != 0)
		return 1;
	if (g.n > UINT32_MAX - 2) {
		graph_free(&g);
		return ctl_fail("stats", "too many tokens to count");
	}
	stats_print(o.db, &g, &ss);
	graph_free(&g);
	return 0;
}
