/* gen: see gen.h.  Trees of tokens, stepped one event at a time. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/log/log.h"
#include "daemon/revokerctl/gen_int.h"

static const char *const reasons[] = {
	"logout", "compromised", "admin", "password_change"
};
#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

/* 1 with probability p. */
static int
chance(struct gen *g, double p)
{
	return (double)(gen_splitmix(&g->rng) >> 11) * 0x1.0p-53 < p;
}

/* Is a jti, sub, client or actor revocation known to cover n? */
static int
rule_covers(struct gen *g, struct gtree *t, const struct gnode *n)
{
	const struct gnode *m;

	if (n->grant != GR_CC && g->user_rev[t->user] >= n->iat)
		return 1;
	if (g->client_rev[n->client] >= n->iat)
		return 1;
	for (m = n; m != NULL && m->actor >= 0; m = node_at(t, m->act_next))
		if (g->actor_rev[m->actor] >= n->iat)
			return 1;
	return 0;
}

/* Known dead: revoked itself, by a rule, or through a parent. */
static int
node_dead(struct gen *g, struct gtree *t, int32_t i)
{
	struct gnode *n = &t->n[i];
	int k;

	if (n->flags & N_DEAD)
		return 1;
	if ((n->flags & N_REVOKED) || rule_covers(g, t, n))
		goto dead;
	for (k = 0; k < 3; k++)
		if (n->parent[k] >= 0 && node_dead(g, t, n->parent[k]))
			goto dead;
	return 0;
dead:
	n->flags |= N_DEAD;
	return 1;
}

/* Usable as a parent now: alive and not about to expire. */
static int
node_usable(struct gen *g, struct gtree *t, int32_t i)
{
	return t->n[i].exp > g->now + SLACK && !node_dead(g, t, i);
}

/* A new node in t, or NULL when the tree is full. */
static struct gnode *
node_new(struct gen *g, struct gtree *t, int grant, int32_t client)
{
	struct gnode *n;

	if (t->nn == TREE_MAX)
		return NULL;
	n = &t->n[t->nn++];
	memset(n, 0, sizeof(*n));
	n->jti = g->next_jti++;
	n->iat = g->now;
	n->parent[0] = n->parent[1] = n->parent[2] = -1;
	n->act_next = n->actor = n->aud = n->aud2 = -1;
	n->client = client;
	n->grant = (uint8_t)grant;
	if (gen_rnd(g, 10) == 0)
		n->flags |= N_POBJ;
	return n;
}

static int32_t
node_idx(struct gtree *t, const struct gnode *n)
{
	return (int32_t)(n - t->n);
}

static void
front_push(struct gen *g, struct gtree *t, const struct gnode *n)
{
	if (n->hop >= g->cfg.depth || (n->flags & N_LEAF) ||
	    t->nfront == TREE_MAX)
		return;
	t->front[t->nfront].node = node_idx(t, n);
	t->front[t->nfront].left = 1 +
	    (int32_t)gen_rnd(g, (uint32_t)g->cfg.fanout);
	t->nfront++;
}

static void
front_drop(struct gtree *t, uint32_t i)
{
	t->front[i] = t->front[--t->nfront];
}

/* A random agent other than not (orchestrators excluded). */
static int32_t
agent_other(struct gen *g, int32_t not)
{
	int32_t a;

	do
		a = (int32_t)(g->norch + gen_rnd(g, g->nagents));
	while (a == not);
	return a;
}

/* A non-empty random subset of scope. */
static uint16_t
scope_subset(struct gen *g, uint16_t scope)
{
	uint16_t s;
	int tries;

	for (tries = 0; tries < 8; tries++)
		if ((s = scope & (uint16_t)gen_rnd(g, 1u << NSCOPES)) != 0)
			return s;
	return scope;
}

/* A usable client_credentials token of agent a in t, or -1. */
static int32_t
cc_find(struct gen *g, struct gtree *t, int32_t a)
{
	uint32_t i;

	for (i = 0; i < t->ncc; i++)
		if (t->n[t->cc[i]].client == a && node_usable(g, t, t->cc[i]))
			return t->cc[i];
	return -1;
}

/* Agent a gets a client_credentials token. */
static int
emit_cc(struct gen *g, struct gtree *t, int32_t a)
{
	struct gnode *n;

	if ((n = node_new(g, t, GR_CC, a)) == NULL)
		return 0;
	n->exp = g->now + 3600;
	n->flags |= N_LEAF;
	t->cc[t->ncc++] = node_idx(t, n);
	gen_out_issued(g, t, n);
	return 1;
}

/* The refresh token issued along with access token i. */
static int
emit_twin(struct gen *g, struct gtree *t, int32_t i)
{
	struct gnode *n, *src = &t->n[i];
	uint64_t jti;

	if (!node_usable(g, t, i) || (n = node_new(g, t, 0, 0)) == NULL)
		return 0;
	jti = n->jti;
	*n = *src;
	n->jti = jti;
	n->iat = g->now;
	n->flags = (src->flags & (N_MAYACT | N_AUDARR | N_POBJ)) | N_REFRESH |
	    N_LEAF;
	if (src->grant == GR_CODE)
		n->exp = g->now + 30 * 86400;
	t->rt[t->nrt++] = node_idx(t, n);
	gen_out_issued(g, t, n);
	return 1;
}

/*
 * Refresh grant on a random refresh token of t: a new access token with
 * the same sub, client, aud and act (attack: another act), and
 * sometimes a rotated refresh token.
 */
static int
tree_refresh(struct gen *g, struct gtree *t, int attack)
{
	struct gnode *n, *r;
	int32_t ri = t->rt[gen_rnd(g, t->nrt)];
	int rotate = !attack && gen_rnd(g, 3) == 0;

	if (!node_usable(g, t, ri) || (n = node_new(g, t, GR_REFRESH,
	    t->n[ri].client)) == NULL)
		return 0;
	r = &t->n[ri];
	n->parent[2] = ri;
	n->aud = r->aud;
	n->actor = r->actor;
	n->act_next = r->act_next;
	n->hop = r->hop;
	n->scope = rotate ? r->scope : scope_subset(g, r->scope);
	n->exp = rotate ? r->exp + 3600 : g->now + 900;
	n->flags |= r->flags & (N_AUDARR | N_MAYACT);
	if (rotate) {
		n->flags |= N_REFRESH | N_LEAF;
		t->rt[t->nrt++] = node_idx(t, n);
	}
	if (attack) {
		n->actor = agent_other(g, r->actor);
		n->flags |= N_LEAF;
		g->st.attacks++;
	}
	gen_out_issued(g, t, n);
	front_push(g, t, n);
	return 1;
}

#define A_NONE		0
#define A_SPLICE	1	/* actor's agent is not the subject's aud */
#define A_SCOPE		2	/* a scope the subject lacks */
#define A_FORGE		3	/* act not {actor, subject's act} */
#define A_AUD2		4	/* two audiences */
#define A_REFRESH	5	/* refresh that changes act */
#define A_N		6

static void
attack_apply(struct gen *g, struct gnode *n, const struct gnode *s,
    int variant)
{
	uint16_t missing = (uint16_t)(((1u << NSCOPES) - 1) & ~s->scope);

	switch (variant) {
	case A_SCOPE:
		if (missing != 0)
			while (!(n->scope & missing))
				n->scope |= (uint16_t)(1u <<
				    gen_rnd(g, NSCOPES));
		break;
	case A_FORGE:
		if (s->actor >= 0)
			n->act_next = -1;
		else
			n->actor = agent_other(g, n->actor);
		n->flags |= N_LEAF;
		break;
	case A_AUD2:
		n->aud2 = agent_other(g, n->aud);
		n->flags |= N_LEAF;
		break;
	}
	if (variant != A_NONE)
		g->st.attacks++;
}

/* Token exchange: subject s, actor token cc, to a new agent. */
static int
tree_exchange(struct gen *g, struct gtree *t, int32_t s, int32_t cc,
    int variant)
{
	struct gnode *n, *sn, *cn;

	if ((n = node_new(g, t, GR_EXCHANGE, t->n[cc].client)) == NULL)
		return 0;
	sn = &t->n[s];
	cn = &t->n[cc];
	n->parent[0] = s;
	n->parent[1] = cc;
	n->actor = cn->client;
	n->act_next = s;
	n->aud = agent_other(g, n->actor);
	n->scope = scope_subset(g, sn->scope);
	n->exp = g->now + 900;
	if (sn->exp < n->exp)
		n->exp = sn->exp;
	if (cn->exp < n->exp)
		n->exp = cn->exp;
	n->hop = (uint8_t)(sn->hop + 1);
	if (gen_rnd(g, 5) == 0)
		n->flags |= N_MAYACT;
	if (gen_rnd(g, 10) == 0)
		n->flags |= N_AUDARR;
	attack_apply(g, n, sn, variant);
	gen_out_issued(g, t, n);
	front_push(g, t, n);
	if (variant == A_NONE && gen_rnd(g, 7) == 0)
		t->pend_rt = node_idx(t, n);
	return 1;
}

/* The next legitimate exchange of t; 0 when t has nothing left to do. */
static int
tree_expand(struct gen *g, struct gtree *t)
{
	struct gfront *f;
	uint32_t i;
	int32_t s, cc;

	while (t->nfront > 0) {
		i = gen_rnd(g, t->nfront);
		f = &t->front[i];
		s = f->node;
		if (!node_usable(g, t, s)) {
			front_drop(t, i);
			continue;
		}
		if ((cc = cc_find(g, t, t->n[s].aud)) < 0)
			return emit_cc(g, t, t->n[s].aud);
		if (--f->left == 0)
			front_drop(t, i);
		if (tree_exchange(g, t, s, cc, A_NONE))
			return 1;
		t->nfront = 0;	/* the tree is full */
	}
	return 0;
}

/* A random usable access token of t with an audience, or -1. */
static int32_t
pick_subject(struct gen *g, struct gtree *t)
{
	int32_t i;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		i = (int32_t)gen_rnd(g, t->nn);
		if (t->n[i].grant != GR_CC && !(t->n[i].flags & N_REFRESH) &&
		    t->n[i].aud >= 0 && node_usable(g, t, i))
			return i;
	}
	return -1;
}

/* A usable client_credentials token of t not of agent not, or -1. */
static int32_t
pick_other_cc(struct gen *g, struct gtree *t, int32_t not)
{
	int32_t cc;
	int tries;

	for (tries = 0; t->ncc > 0 && tries < 8; tries++) {
		cc = t->cc[gen_rnd(g, t->ncc)];
		if (t->n[cc].client != not && node_usable(g, t, cc))
			return cc;
	}
	return -1;
}

static int
tree_attack(struct gen *g, struct gtree *t)
{
	int variant = 1 + (int)gen_rnd(g, A_N - 1);
	int32_t s, cc = -1;

	if (variant == A_REFRESH)
		return t->nrt > 0 && tree_refresh(g, t, 1);
	if ((s = pick_subject(g, t)) < 0)
		return 0;
	if (variant == A_SPLICE &&
	    (cc = pick_other_cc(g, t, t->n[s].aud)) < 0)
		variant = A_SCOPE;
	if (cc < 0 && (cc = cc_find(g, t, t->n[s].aud)) < 0)
		return emit_cc(g, t, t->n[s].aud);
	return tree_exchange(g, t, s, cc, variant);
}

/* A revocation of a random token of t: by jti, or by one of its attributes. */
static int
tree_revoke(struct gen *g, struct gtree *t)
{
	struct gnode *n = &t->n[gen_rnd(g, t->nn)];
	uint32_t k = gen_rnd(g, 100);

	gen_out_head(g, "token.revoked");
	if (k >= 85 && k < 92 && n->grant != GR_CC) {
		gen_out(g, ",\"target\":{\"sub\":\"user-");
		gen_out_u64(g, t->user);
		g->user_rev[t->user] = g->now;
	} else if (k >= 92 && k < 96 && (uint32_t)n->client >= g->norch) {
		gen_out(g, ",\"target\":{\"client_id\":\"");
		gen_out_agent(g, n->client);
		g->client_rev[n->client] = g->now;
	} else if (k >= 96 && n->actor >= 0 && (uint32_t)n->actor >= g->norch) {
		gen_out(g, ",\"target\":{\"actor\":\"");
		gen_out_agent(g, n->actor);
		g->actor_rev[n->actor] = g->now;
	} else {
		gen_out(g, ",\"target\":{");
		if (gen_rnd(g, 4) == 0) {
			gen_out(g, "\"iss\":\"");
			gen_out(g, g->cfg.iss);
			gen_out(g, "\",");
		}
		gen_out(g, "\"jti\":\"");
		gen_out_jti(g, n->jti);
		n->flags |= N_REVOKED;
	}
	gen_out(g, "\"}");
	if (gen_rnd(g, 4) != 0) {
		gen_out(g, ",\"reason\":\"");
		gen_out(g, reasons[gen_rnd(g, NREASONS)]);
		gen_out(g, "\"");
	}
	gen_out(g, "}");
	g->st.revocations++;
	return 1;
}

/* A new user tree: the login's access token (its refresh token next). */
static void
tree_start(struct gen *g, struct gtree *t)
{
	struct gnode *n;
	int32_t orch = (int32_t)gen_rnd(g, g->norch);

	t->live = 1;
	t->nn = t->nfront = t->ncc = t->nrt = 0;
	t->user = g->cfg.users > 0 ? (uint32_t)g->st.trees :
	    gen_rnd(g, g->nusers);
	g->st.trees++;
	g->nlive++;
	n = node_new(g, t, GR_CODE, orch);
	n->aud = orch;
	n->scope = (uint16_t)(scope_subset(g, USER_SCOPES) | 1);
	n->exp = g->now + 3600;
	if (gen_rnd(g, 3) == 0)
		n->flags |= N_MAYACT;
	gen_out_issued(g, t, n);
	front_push(g, t, n);
	t->pend_rt = 0;
}

/* One event of tree t in g->line; 0 when t is done. */
static int
tree_step(struct gen *g, struct gtree *t)
{
	int32_t p = t->pend_rt;

	t->pend_rt = -1;
	if (p >= 0 && emit_twin(g, t, p))
		return 1;
	if (chance(g, g->cfg.revoke_share))
		return tree_revoke(g, t);
	if (chance(g, g->cfg.attack_share) && tree_attack(g, t))
		return 1;
	if (t->nrt > 0 && gen_rnd(g, 12) == 0 && tree_refresh(g, t, 0))
		return 1;
	return tree_expand(g, t);
}

static int
can_start(const struct gen *g)
{
	return g->cfg.users == 0 || g->st.trees < g->cfg.users;
}

/* The next event in g->line: 0, or 1 at the end of the log. */
static int
gen_step(struct gen *g)
{
	struct gtree *t;

	for (;;) {
		if (g->nlive == 0 && !can_start(g))
			return 1;
		t = &g->trees[gen_rnd(g, (uint32_t)g->cfg.trees)];
		if (!t->live) {
			if (!can_start(g))
				continue;
			tree_start(g, t);
			return 0;
		}
		if (tree_step(g, t))
			return 0;
		t->live = 0;
		g->nlive--;
	}
}

static int
partition_of(const struct gen *g)
{
	uint64_t s = g->cfg.seed ^ (g->st.events * 0xd1342543de82ef95ULL);

	if (g->cfg.partitions == 0)
		return 0;
	return (int)(gen_splitmix(&s) % (uint64_t)g->cfg.partitions);
}

int
gen_next(struct gen *g, const char **line, size_t *len, int *partition)
{
	if (g->cfg.events > 0 && g->st.events >= g->cfg.events)
		return 1;
	g->len = 0;
	if (g->duplen > 0 && chance(g, g->cfg.dup_share)) {
		memcpy(g->line, g->dup, g->duplen);
		g->len = g->duplen;
		g->st.duplicates++;
	} else if (gen_step(g) == 1)
		return 1;
	else if (gen_rnd(g, 32) == 0) {
		memcpy(g->dup, g->line, g->len);
		g->duplen = g->len;
	}
	if (g->over)
		fatalx("gen: an event longer than %d bytes", GEN_LINE_MAX);
	g->line[g->len] = '\0';
	*partition = partition_of(g);
	g->st.events++;
	if (gen_rnd(g, 4) == 0)
		g->now++;
	*line = g->line;
	*len = g->len;
	return 0;
}

void
gen_defaults(struct gen_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->events = 1000;
	cfg->depth = 3;
	cfg->fanout = 2;
	cfg->attack_share = 0.01;
	cfg->revoke_share = 0.02;
	cfg->dup_share = 0.002;
	cfg->trees = 8;
	cfg->iss = "https://idp.example";
	cfg->start = 1764380000;
}

static int
gen_check(const struct gen_config *c, char *errbuf, size_t errlen)
{
	const char *why = NULL;
	size_t i, n = c->iss != NULL ? strlen(c->iss) : 0;

	for (i = 0; i < n; i++)
		if ((unsigned char)c->iss[i] < 0x20 || c->iss[i] == '"' ||
		    c->iss[i] == '\\')
			why = "iss: no quotes, backslashes or controls";
	if (n == 0 || n > 256)
		why = "iss: 1..256 bytes";
	if (c->depth < 1 || c->depth > GEN_MAX_DEPTH)
		why = "depth: 1..60";
	if (c->fanout < 1 || c->fanout > 64)
		why = "fanout: 1..64";
	if (!(c->attack_share >= 0 && c->revoke_share >= 0 &&
	    c->dup_share >= 0 && c->attack_share + c->revoke_share +
	    c->dup_share <= 0.5))
		why = "shares: 0..1, attack + revoke + duplicate at most 0.5";
	if (c->partitions < 0 || c->partitions > 65536)
		why = "partitions: 0..65536";
	if (c->trees < 1 || c->trees > 1024)
		why = "trees: 1..1024";
	if (c->events == 0 && (c->users == 0 || c->users > UINT32_MAX))
		why = "events or users: one of them > 0";
	if (why == NULL)
		return 0;
	if (snprintf(errbuf, errlen, "gen: %s", why) >= (int)errlen)
		errbuf[0] = '\0';
	return -1;
}

static int64_t *
rev_array(uint32_t n)
{
	int64_t *a;
	uint32_t i;

	if ((a = calloc(n, sizeof(*a))) == NULL)
		fatal("gen: calloc");
	for (i = 0; i < n; i++)
		a[i] = NO_REV;
	return a;
}

struct gen *
gen_new(const struct gen_config *cfg, char *errbuf, size_t errlen)
{
	struct gen *g;
	uint64_t trees;
	int i;

	if (gen_check(cfg, errbuf, errlen) == -1)
		return NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->trees = calloc((size_t)cfg->trees, sizeof(*g->trees))) ==
	    NULL)
		fatal("gen: calloc");
	if ((g->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (g->md = EVP_MD_CTX_new()) == NULL)
		fatalx("gen: no SHA-256 in libcrypto");
	g->cfg = *cfg;
	g->rng = cfg->seed;
	g->now = cfg->start;
	trees = cfg->users > 0 ? cfg->users : cfg->events / 16 + 1;
	g->nusers = cfg->users > 0 ? (uint32_t)cfg->users :
	    (uint32_t)(trees / 2 > 16 ? (trees / 2 > (1u << 26) ? 1u << 26 :
	    trees / 2) : 16);
	g->norch = 8;
	g->nagents = trees / 4 > 32 ? (trees / 4 > (1u << 24) ? 1u << 24 :
	    (uint32_t)(trees / 4)) : 32;
	g->user_rev = rev_array(g->nusers);
	g->client_rev = rev_array(g->norch + g->nagents);
	g->actor_rev = rev_array(g->norch + g->nagents);
	for (i = 0; i < cfg->trees; i++)
		g->trees[i].pend_rt = -1;
	return g;
}

void
gen_free(struct gen **gp)
{
	struct gen *g;

	if (gp == NULL || (g = *gp) == NULL)
		return;
	free(g->user_rev);
	free(g->client_rev);
	free(g->actor_rev);
	free(g->trees);
	EVP_MD_CTX_free(g->md);
	EVP_MD_free(g->sha256);
	free(g);
	*gp = NULL;
}

void
gen_stats(const struct gen *g, struct gen_stats *st)
{
	*st = g->st;
}

int
gen_write(const struct gen_config *cfg, FILE *fp, struct gen_stats *st,
    char *errbuf, size_t errlen)
{
	struct gen *g;
	const char *line;
	char pfx[16];
	size_t len;
	int part, n, rc = 0;

	if ((g = gen_new(cfg, errbuf, errlen)) == NULL)
		return -1;
	while (rc == 0 && gen_next(g, &line, &len, &part) == 0) {
		if (cfg->partitions > 0) {
			n = snprintf(pfx, sizeof(pfx), "%d\t", part);
			if (n < 0 || (size_t)n >= sizeof(pfx) ||
			    fwrite(pfx, 1, (size_t)n, fp) != (size_t)n)
				rc = -1;
		}
		if (fwrite(line, 1, len, fp) != len || putc('\n', fp) == EOF)
			rc = -1;
	}
	if (fflush(fp) == EOF || ferror(fp))
		rc = -1;
	if (rc == -1 && snprintf(errbuf, errlen, "gen: write error") < 0)
		errbuf[0] = '\0';
	if (st != NULL)
		gen_stats(g, st);
	gen_free(&g);
	return rc;
}
