/*
 * gen internals, shared by gen.c (the trees of tokens) and gen_out.c
 * (their JSON).  Not a public header: include daemon/revokerctl/gen.h.
 */
#ifndef GEN_INT_H
#define GEN_INT_H

#include <stdint.h>

#include <openssl/evp.h>

#include "daemon/revokerctl/gen.h"
#include "store/graph/store.h"

#define TREE_MAX	4096	/* tokens of one user tree */
#define NSCOPES		9
#define USER_SCOPES	0xff	/* every scope but admin:all */
#define NO_REV		INT64_MIN
#define SLACK		120	/* a parent must live this much longer */


enum grant { GR_CODE, GR_CC, GR_REFRESH, GR_EXCHANGE };

/* Node flags. */
#define N_REFRESH	0x01	/* kind refresh */
#define N_REVOKED	0x02	/* targeted by a jti revocation */
#define N_DEAD		0x04	/* known dead: cached */
#define N_MAYACT	0x08	/* carries may_act {sub: aud} */
#define N_AUDARR	0x10	/* aud written as an array */
#define N_POBJ		0x20	/* parents written as {iss, jti} */
#define N_LEAF		0x40	/* never exchanged further */

struct gnode {
	uint64_t	 jti;
	int64_t		 iat, exp;
	int32_t		 parent[STORE_NPARENTS]; /* STORE_PARENT_*; -1: none */
	int32_t		 act_next;	/* node whose act nests inside */
	int32_t		 actor;		/* agent in act.sub, -1: no act */
	int32_t		 client;	/* agent */
	int32_t		 aud, aud2;	/* agents, -1: none */
	uint16_t	 scope;		/* bit set of scope_names */
	uint8_t		 grant;
	uint8_t		 hop;
	uint8_t		 flags;
};

struct gfront {
	int32_t		 node;
	int32_t		 left;		/* exchanges still to make from it */
};

struct gtree {
	int		 live;
	uint32_t	 user;
	struct gnode	 n[TREE_MAX];
	uint32_t	 nn;
	struct gfront	 front[TREE_MAX];
	uint32_t	 nfront;
	int32_t		 cc[TREE_MAX];	/* client_credentials tokens */
	uint32_t	 ncc;
	int32_t		 rt[TREE_MAX];	/* refresh tokens */
	uint32_t	 nrt;
	int32_t		 pend_rt;	/* issue a refresh twin of it next */
};

struct gen {
	struct gen_config cfg;
	uint64_t	 rng;
	uint64_t	 next_jti, next_event;
	int64_t		 now;
	uint32_t	 nusers, norch, nagents;
	int64_t		*user_rev, *client_rev, *actor_rev;
	struct gtree	*trees;
	int		 nlive;
	struct gen_stats st;
	char		 line[GEN_LINE_MAX];
	size_t		 len;
	int		 over;
	char		 dup[GEN_LINE_MAX];
	size_t		 duplen;
	EVP_MD		*sha256;	/* fetched once: SHA256() locks */
	EVP_MD_CTX	*md;
};
static inline struct gnode *
node_at(struct gtree *t, int32_t i)
{
	return i >= 0 ? &t->n[i] : NULL;
}

/* gen_rnd.c: the next of the splitmix64 sequence of state *s. */
uint64_t	 gen_splitmix(uint64_t *s);
uint32_t	 gen_rnd(struct gen *, uint32_t n);
void		 gen_out(struct gen *, const char *);
void		 gen_out_u64(struct gen *, uint64_t);
void		 gen_out_agent(struct gen *, int32_t);
void		 gen_out_jti(struct gen *, uint64_t);
void		 gen_out_head(struct gen *, const char *type);
void		 gen_out_issued(struct gen *, struct gtree *,
		    const struct gnode *);

#endif
