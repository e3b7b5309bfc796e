/*
 * gen: a deterministic generator of realistic SPEC section 2 event logs.
 *
 * Users log in to orchestrators (authorization_code access and refresh
 * tokens); agents hold client_credentials tokens; delegation chains are
 * token exchanges of configurable depth and fan-out (subject: the
 * previous hop's token, actor: the agent's client_credentials token, aud:
 * the next agent, act extended by the actor, scopes narrowed, may_act
 * sometimes set and always honoured), with refresh grants along the way.
 * Revocations (by jti, sub, client_id, actor) hit at random points; the
 * generator never mints from a token it knows dead, so legitimate events
 * break no rule of SPEC section 5.  A share of events are attacks (a
 * subject spliced with another agent's actor token, scope escalation,
 * a forged act chain, a refresh that changes act, two audiences) and a
 * few are exact duplicates of earlier events (same id, same bytes).
 *
 * Every token's "hash" is base64url(SHA-256("tok-" + jti)), so a test
 * can introspect the raw token "tok-<jti>".  Same configuration, same
 * seed: the same bytes, whatever the platform (splitmix64, no rand()).
 * Partition numbers come from a separate stream, so the events are the
 * same with or without partitions.  Cost: O(1) per event, about a
 * microsecond; memory O(trees in flight + users + agents).
 */
#ifndef GEN_H
#define GEN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_MAX_DEPTH	60
#define GEN_LINE_MAX	16384

struct gen;

struct gen_config {
	uint64_t	 seed;
	uint64_t	 events;	/* stop after this many; 0: see users */
	uint64_t	 users;		/* or after this many user trees */
	int		 depth;		/* exchange hops below a login (3) */
	int		 fanout;	/* most exchanges from one token (2) */
	double		 attack_share;	/* of events (0.01) */
	double		 revoke_share;	/* of events (0.02) */
	double		 dup_share;	/* of events (0.002) */
	int		 partitions;	/* 0: none, else 1..65536 */
	int		 trees;		/* user trees in flight at once (8) */
	const char	*iss;		/* "https://idp.example" */
	int64_t		 start;		/* time of the first event */
};

struct gen_stats {
	uint64_t	 events;	/* lines, duplicates included */
	uint64_t	 issued;
	uint64_t	 revocations;
	uint64_t	 attacks;
	uint64_t	 duplicates;
	uint64_t	 trees;
};

/* Fill *cfg with the defaults above (seed 1, 1000 events). */
void		 gen_defaults(struct gen_config *cfg);

/*
 * A generator for cfg (copied; cfg->iss must outlive it).  NULL with
 * errbuf on a bad configuration.  Free with gen_free(), which accepts
 * NULL and NULLs the pointer.
 */
struct gen	*gen_new(const struct gen_config *cfg, char *errbuf,
		    size_t errlen);
void		 gen_free(struct gen **gp);

/*
 * The next event: its JSON, without a newline, in *line (*len bytes,
 * NUL-terminated, valid until the next call) and its partition (0 when
 * cfg->partitions is 0).  Returns 0, or 1 when the log is complete.
 */
int		 gen_next(struct gen *, const char **line, size_t *len,
		    int *partition);
void		 gen_stats(const struct gen *, struct gen_stats *);

/*
 * Write the whole log to fp: one JSON object a line, or
 * "<partition>\t<json>" lines when cfg->partitions > 0.  *st may be
 * NULL.  Returns 0, or -1 with errbuf (bad configuration, write error).
 */
int		 gen_write(const struct gen_config *cfg, FILE *fp,
		    struct gen_stats *st, char *errbuf, size_t errlen);

#endif
