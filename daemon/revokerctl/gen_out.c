/* gen_out: the JSON of the generator's events (see gen.h). */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "consumers/text/b64.h"
#include "consumers/log/log.h"
#include "daemon/revokerctl/gen_int.h"
#include "store/graph/store.h"

#define EXCH_URN	"urn:ietf:params:oauth:grant-type:token-exchange"

static const char *const scope_names[NSCOPES] = {
	"openid", "profile", "files:read", "files:write", "mail:read",
	"mail:send", "calendar:read", "calendar:write", "admin:all"
};
static const char *const grant_names[] = {
	"authorization_code", "client_credentials", "refresh_token", EXCH_URN
};

/* Output: appends to g->line; overflow sets g->over (a bug: fatal). */
static void
out_mem(struct gen *g, const char *s, size_t n)
{
	if (g->len + n >= sizeof(g->line)) {
		g->over = 1;
		return;
	}
	memcpy(g->line + g->len, s, n);
	g->len += n;
}

void
gen_out(struct gen *g, const char *s)
{
	out_mem(g, s, strlen(s));
}

void
gen_out_u64(struct gen *g, uint64_t v)
{
	static const char d2[] = "00010203040506070809101112131415161718192021"
	    "222324252627282930313233343536373839404142434445464748495051525354"
	    "5556575859606162636465666768697071727374757677787980818283848586"
	    "87888990919293949596979899";
	char t[24];
	int i = sizeof(t);

	while (v >= 100) {
		i -= 2;
		memcpy(t + i, d2 + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		i -= 2;
		memcpy(t + i, d2 + v * 2, 2);
	} else
		t[--i] = (char)('0' + v);
	out_mem(g, t + i, sizeof(t) - (size_t)i);
}

static void
out_i64(struct gen *g, int64_t v)
{
	if (v < 0) {
		gen_out(g, "-");
		gen_out_u64(g, (uint64_t)0 - (uint64_t)v);
	} else
		gen_out_u64(g, (uint64_t)v);
}

void
gen_out_agent(struct gen *g, int32_t a)
{
	if ((uint32_t)a < g->norch) {
		gen_out(g, "orch-");
		gen_out_u64(g, (uint64_t)a);
	} else {
		gen_out(g, "agent-");
		gen_out_u64(g, (uint64_t)a - g->norch);
	}
}

void
gen_out_jti(struct gen *g, uint64_t jti)
{
	gen_out(g, "t-");
	gen_out_u64(g, jti);
}

/* ,"hash":"<base64url(SHA-256("tok-t-N"))>" */
static void
out_hash(struct gen *g, uint64_t jti)
{
	unsigned char md[32];
	char h[B64_LEN(32) + 1];
	size_t start = g->len;

	gen_out(g, "tok-");
	gen_out_jti(g, jti);
	if (EVP_DigestInit_ex2(g->md, g->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(g->md, g->line + start, g->len - start) != 1 ||
	    EVP_DigestFinal_ex(g->md, md, NULL) != 1)
		fatalx("gen: SHA-256 failed");
	g->len = start;
	gen_out(g, ",\"hash\":\"");
	out_mem(g, h, b64_encode(md, sizeof(md), h, 1));
	gen_out(g, "\"");
}

static void
out_scope(struct gen *g, uint16_t scope)
{
	const char *sep = "";
	int i;

	gen_out(g, ",\"scope\":\"");
	for (i = 0; i < NSCOPES; i++)
		if (scope & (1u << i)) {
			gen_out(g, sep);
			gen_out(g, scope_names[i]);
			sep = " ";
		}
	gen_out(g, "\"");
}

/* "v", "type", "id", "time", "iss", and now and then an unknown member. */
void
gen_out_head(struct gen *g, const char *type)
{
	gen_out(g, "{\"v\":1,\"type\":\"");
	gen_out(g, type);
	gen_out(g, "\",\"id\":\"e-");
	gen_out_u64(g, g->next_event++);
	gen_out(g, "\",\"time\":");
	out_i64(g, g->now);
	gen_out(g, ",\"iss\":\"");
	gen_out(g, g->cfg.iss);
	gen_out(g, "\"");
	if (gen_rnd(g, 32) == 0)
		gen_out(g, ",\"x_idp\":{\"region\":\"eu-1\",\"trace\":[1,2]}");
}

/* The token's "act": {"sub": actor, "act": <act of act_next>}. */
static void
out_act(struct gen *g, struct gtree *t, const struct gnode *n)
{
	int depth = 0;

	for (; n != NULL && n->actor >= 0; n = node_at(t, n->act_next)) {
		gen_out(g, ",\"act\":{\"sub\":\"");
		gen_out_agent(g, n->actor);
		gen_out(g, "\"");
		depth++;
	}
	while (depth-- > 0)
		gen_out(g, "}");
}

static void
out_aud(struct gen *g, const struct gnode *n)
{
	if (n->aud < 0)
		return;
	gen_out(g, (n->flags & N_AUDARR) || n->aud2 >= 0 ? ",\"aud\":[\"" :
	    ",\"aud\":\"");
	gen_out_agent(g, n->aud);
	if (n->aud2 >= 0) {
		gen_out(g, "\",\"");
		gen_out_agent(g, n->aud2);
	}
	gen_out(g, (n->flags & N_AUDARR) || n->aud2 >= 0 ? "\"]" : "\"");
}

static void
out_parents(struct gen *g, struct gtree *t, const struct gnode *n)
{
	const char *sep = ",\"parents\":{";
	int k;

	for (k = 0; k < STORE_NPARENTS; k++) {
		if (n->parent[k] < 0)
			continue;
		gen_out(g, sep);
		gen_out(g, "\"");
		gen_out(g, store_parent_name(k));
		gen_out(g, (n->flags & N_POBJ) ? "\":{\"iss\":\"" : "\":\"");
		if (n->flags & N_POBJ) {
			gen_out(g, g->cfg.iss);
			gen_out(g, "\",\"jti\":\"");
		}
		gen_out_jti(g, t->n[n->parent[k]].jti);
		gen_out(g, (n->flags & N_POBJ) ? "\"}" : "\"");
		sep = ",";
	}
	if (sep[0] == ',' && sep[1] == '\0')
		gen_out(g, "}");
}

/* The token.issued event of node n. */
void
gen_out_issued(struct gen *g, struct gtree *t, const struct gnode *n)
{
	gen_out_head(g, "token.issued");
	gen_out(g, ",\"grant_type\":\"");
	gen_out(g, grant_names[n->grant]);
	gen_out(g, "\",\"token\":{\"jti\":\"");
	gen_out_jti(g, n->jti);
	gen_out(g, "\"");
	out_hash(g, n->jti);
	gen_out(g, (n->flags & N_REFRESH) ? ",\"kind\":\"refresh\",\"sub\":\"" :
	    ",\"kind\":\"access\",\"sub\":\"");
	if (n->grant == GR_CC)
		gen_out_agent(g, n->client);
	else {
		gen_out(g, "user-");
		gen_out_u64(g, t->user);
	}
	gen_out(g, "\",\"client_id\":\"");
	gen_out_agent(g, n->client);
	gen_out(g, "\"");
	out_aud(g, n);
	if (n->scope != 0)
		out_scope(g, n->scope);
	gen_out(g, ",\"iat\":");
	out_i64(g, n->iat);
	gen_out(g, ",\"exp\":");
	out_i64(g, n->exp);
	out_act(g, t, n);
	if (n->flags & N_MAYACT) {
		gen_out(g, ",\"may_act\":{\"sub\":\"");
		gen_out_agent(g, n->aud);
		gen_out(g, "\"}");
	}
	gen_out(g, "}");
	out_parents(g, t, n);
	gen_out(g, "}");
	g->st.issued++;
}
