/*
 * profile: the delegation binding profile of SPEC section 5.
 *
 * profile_check() runs every rule in RULE_* order, each a small
 * function that reads the new token, what is known of its parents and
 * "now", and lists what it finds.  In enforce mode the first violation
 * that denies decides the token's own status.  No clock, no allocation:
 * details are built in the result's fixed buffers.  See docs/profile.md.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "consumers/apply/apply.h"
#include "consumers/event/event.h"
#include "consumers/profile/profile.h"
#include "store/graph/store.h"

#define DEFAULT_MAX_DEPTH	8
#define VAL_MAX			64	/* bytes of one value in a detail */
#define LIST_MAX		4	/* values of a list shown in a detail */
#define DB_RESERVE		4	/* room kept for "..." and the NUL */

/* A detail being written: whole UTF-8 sequences only, "..." if cut. */
struct dbuf {
	char		*s;
	size_t		 len;
	size_t		 cap;
	int		 full;
};

struct pctx {
	const struct profile_config *cfg;
	const struct ev_token *tok;
	int		 is_exchange;
	const struct profile_parent *p;
	int64_t		 now;
	struct profile_result *res;
	int		 deny_rule;	/* first rule that denies */
	char		 scratch[PROFILE_DETAIL_LEN];
};

static const char *const rule_names[RULE_MAX] = {
	[RULE_NONE] = "",
	[RULE_PARENT_INACTIVE] = "parent_inactive",
	[RULE_PARENT_CYCLE] = "parent_cycle",
	[RULE_SUBJECT_AUDIENCE_MISMATCH] = "subject_audience_mismatch",
	[RULE_MAY_ACT_MISMATCH] = "may_act_mismatch",
	[RULE_AUDIENCE_NOT_SINGLE] = "audience_not_single",
	[RULE_ACT_CHAIN_MISMATCH] = "act_chain_mismatch",
	[RULE_LIFETIME_EXCEEDS_PARENT] = "lifetime_exceeds_parent",
	[RULE_SCOPE_ESCALATION] = "scope_escalation",
	[RULE_REFRESH_CONTEXT_CHANGED] = "refresh_context_changed",
	[RULE_DEPTH_EXCEEDED] = "depth_exceeded",
	[RULE_UNKNOWN_PARENT] = "unknown_parent",
	[RULE_REVOKED] = "revoked",
};

static void	db_fmt(struct dbuf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

const char *
profile_rule_name(int rule)
{
	if (rule == STORE_RULE_CYCLE)
		return rule_names[RULE_PARENT_CYCLE];
	if (rule < 0 || rule >= RULE_MAX)
		return "";
	return rule_names[rule];
}

static void
db_put(struct dbuf *b, const char *p, size_t n)
{
	if (b->full)
		return;
	if (b->len + n + DB_RESERVE > b->cap) {
		b->full = 1;
		return;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
db_str(struct dbuf *b, const char *s)
{
	db_put(b, s, strlen(s));
}

/* Trusted format (integers and literals only): never untrusted text. */
static void
db_fmt(struct dbuf *b, const char *fmt, ...)
{
	char	 tmp[PROFILE_DETAIL_LEN];
	va_list	 ap;
	int	 r;

	va_start(ap, fmt);
	r = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(tmp)) {
		b->full = 1;
		return;
	}
	db_put(b, tmp, (size_t)r);
}

static void
db_init(struct dbuf *b, char *s, size_t cap)
{
	b->s = s;
	b->cap = cap;
	b->len = 0;
	b->full = 0;
	s[0] = '\0';
}

/* Append "..." if something was cut. */
static void
db_finish(struct dbuf *b)
{
	if (!b->full)
		return;
	b->full = 0;
	b->cap += DB_RESERVE;
	db_put(b, "...", 3);
	b->full = 1;
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates), or 0 if there is none.  Reads no byte past
 * the first that is not a continuation, so never past the NUL.
 */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A control character (C0, DEL, or C1 encoded as C2 80..9F)? */
static int
is_control(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return n == 2 && s[0] == 0xc2 && s[1] < 0xa0;
}

/*
 * Append an untrusted value: at most VAL_MAX bytes of it, whole UTF-8
 * sequences only, control characters and invalid bytes as '?', and
 * "..." when cut.  NULL shows as "(none)".
 */
static void
db_val(struct dbuf *b, const char *v)
{
	const unsigned char	*s = (const unsigned char *)v;
	size_t			 n, used = 0;

	if (v == NULL) {
		db_str(b, "(none)");
		return;
	}
	for (; *s != '\0'; s += n) {
		n = utf8_len(s);
		if (used + (n ? n : 1) > VAL_MAX) {
			db_str(b, "...");
			return;
		}
		if (n == 0 || is_control(s, n)) {
			db_put(b, "?", 1);
			n = n ? n : 1;
		} else
			db_put(b, (const char *)s, n);
		used += n;
	}
}

static void
db_qval(struct dbuf *b, const char *v)
{
	db_put(b, "\"", 1);
	db_val(b, v);
	db_put(b, "\"", 1);
}

/* ["a","b"]: the first of total values, at most LIST_MAX shown. */
static void
db_list(struct dbuf *b, const char *const *v, size_t total)
{
	size_t	 i;

	db_put(b, "[", 1);
	for (i = 0; i < total && i < LIST_MAX; i++) {
		if (i > 0)
			db_put(b, ",", 1);
		db_qval(b, v[i]);
	}
	if (total > LIST_MAX)
		db_fmt(b, ",...%zu more", total - LIST_MAX);
	db_put(b, "]", 1);
}

/* The subs of an act chain, after first (if not NULL), as a list. */
static void
db_chain(struct dbuf *b, const char *first, const struct ev_party *p,
    size_t n)
{
	const char	*v[LIST_MAX];
	size_t		 i, k = 0;

	if (first != NULL)
		v[k++] = first;
	for (i = 0; i < n && k < LIST_MAX; i++)
		v[k++] = p[i].sub;
	db_list(b, v, n + (first != NULL));
}

/*
 * Start violation rule; deny: whether it makes the token's own status
 * DENIED in enforce mode.  *b gets the detail buffer (a scratch one if
 * the list is full, so that the rule still counts for the status).
 */
static void
viol_add(struct pctx *c, int rule, int deny, struct dbuf *b)
{
	struct profile_result	*res = c->res;

	if (deny && c->deny_rule == RULE_NONE)
		c->deny_rule = rule;
	if (res->nviol == PROFILE_MAX_VIOLATIONS) {
		db_init(b, c->scratch, sizeof(c->scratch));
		return;
	}
	res->viol[res->nviol].rule = rule;
	res->viol[res->nviol].by_revocation = rule == RULE_PARENT_INACTIVE &&
	    !deny;
	db_init(b, res->viol[res->nviol].detail, PROFILE_DETAIL_LEN);
	res->nviol++;
}

/* The claims of parent i, when named and known; else NULL. */
static const struct ev_token *
parent_tok(const struct pctx *c, int i)
{
	const struct profile_parent	*p = &c->p[i];

	if (!p->named || !p->known)
		return NULL;
	return p->tok;
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
aud_has(const struct ev_token *t, const char *v)
{
	size_t	 i;

	for (i = 0; i < t->naud; i++)
		if (str_eq(t->aud[i], v))
			return 1;
	return 0;
}

/*
 * The actor of an exchange: the actor parent's sub when one is named,
 * else the new token's client_id.  -1 when the actor parent is not
 * known yet (rules needing the actor wait for it).
 */
static int
actor_of(const struct pctx *c, const char **actor)
{
	const struct ev_token	*a;

	*actor = c->tok->client_id;
	if (!c->p[EV_PARENT_ACTOR].named)
		return *actor == NULL ? -1 : 0;
	if ((a = parent_tok(c, EV_PARENT_ACTOR)) == NULL || a->sub == NULL)
		return -1;
	*actor = a->sub;
	return 0;
}

static void
parent_dead(struct pctx *c, int i, int deny, const char *what, int64_t when)
{
	const struct ev_token	*pt = c->p[i].tok;
	struct dbuf		 b;

	viol_add(c, RULE_PARENT_INACTIVE, deny, &b);
	db_fmt(&b, "%s parent ", store_parent_name(i));
	db_val(&b, pt != NULL ? pt->jti : NULL);
	db_fmt(&b, " %s", what);
	if (when != INT64_MIN)
		db_fmt(&b, " at %" PRId64, when);
	db_fmt(&b, "; this token was minted at %" PRId64, c->now);
	db_finish(&b);
}

/*
 * A known parent expired (exp <= now), revoked at or before now, or
 * denied; one violation per parent, expiry first (a claim, so the same
 * whatever the order of arrival).  A revoked parent does not deny the
 * token by itself: the store revokes it by inheritance anyway.
 */
static void
check_parent_inactive(struct pctx *c)
{
	const struct profile_parent	*p;
	int				 i;

	for (i = 0; i < EV_NPARENTS; i++) {
		p = &c->p[i];
		if (!p->named || !p->known)
			continue;
		if (p->tok != NULL && p->tok->exp <= c->now)
			parent_dead(c, i, 1, "expired", p->tok->exp);
		else if (p->status == STORE_REVOKED && p->revoked_at <= c->now)
			parent_dead(c, i, 0, "was revoked", p->revoked_at);
		else if (p->status == STORE_DENIED)
			parent_dead(c, i, 1, "is denied", INT64_MIN);
	}
}

static void
check_subject_audience(struct pctx *c)
{
	const struct ev_token	*s = parent_tok(c, EV_PARENT_SUBJECT);
	const char		*actor;
	struct dbuf		 b;

	if (s == NULL || actor_of(c, &actor) == -1 || aud_has(s, actor))
		return;
	viol_add(c, RULE_SUBJECT_AUDIENCE_MISMATCH, 1, &b);
	db_str(&b, "subject token aud ");
	db_list(&b, s->aud, s->naud);
	db_str(&b, " does not name actor ");
	db_val(&b, actor);
	db_finish(&b);
}

/*
 * may_act.sub against the actor; may_act.iss against the issuer the
 * new token records for its actor (act[0].iss), when both are given:
 * revokerd does not keep an issuer per claim set, so that is the only
 * actor issuer it has.
 */
static void
check_may_act(struct pctx *c)
{
	const struct ev_token	*s = parent_tok(c, EV_PARENT_SUBJECT);
	const struct ev_party	*m;
	const char		*actor, *aiss = NULL;
	struct dbuf		 b;

	if (s == NULL || !s->has_may_act || actor_of(c, &actor) == -1)
		return;
	m = &s->may_act;
	if (c->tok->nact > 0)
		aiss = c->tok->act[0].iss;
	if (m->sub != NULL && !str_eq(m->sub, actor)) {
		viol_add(c, RULE_MAY_ACT_MISMATCH, 1, &b);
		db_str(&b, "subject token may_act sub ");
		db_val(&b, m->sub);
		db_str(&b, " does not match actor ");
		db_val(&b, actor);
	} else if (m->iss != NULL && aiss != NULL && !str_eq(m->iss, aiss)) {
		viol_add(c, RULE_MAY_ACT_MISMATCH, 1, &b);
		db_str(&b, "subject token may_act iss ");
		db_val(&b, m->iss);
		db_str(&b, " does not match actor iss ");
		db_val(&b, aiss);
		db_str(&b, " in act");
	} else
		return;
	db_finish(&b);
}

/* Needs no parent: evaluated at once. */
static void
check_audience_single(struct pctx *c)
{
	const struct ev_token	*t = c->tok;
	struct dbuf		 b;

	if (t->naud == 1)
		return;
	viol_add(c, RULE_AUDIENCE_NOT_SINGLE, 1, &b);
	if (t->naud == 0)
		db_str(&b, "exchanged token has no aud");
	else {
		db_str(&b, "exchanged token aud ");
		db_list(&b, t->aud, t->naud);
		db_fmt(&b, " has %zu values", t->naud);
	}
	db_str(&b, "; exactly one required");
	db_finish(&b);
}

/*
 * Compare one act level got against the expected sub and iss (iss only
 * where both carry it).  0 when equal, else -1 with the detail written.
 */
static int
level_cmp(struct dbuf *b, size_t lvl,
    const struct ev_party *got, const char *sub, const char *iss)
{
	if (!str_eq(got->sub, sub)) {
		db_fmt(b, "act[%zu].sub ", lvl);
		db_val(b, got->sub);
		db_str(b, ", expected ");
		db_val(b, sub);
		return -1;
	}
	if (got->iss != NULL && iss != NULL && !str_eq(got->iss, iss)) {
		db_fmt(b, "act[%zu].iss ", lvl);
		db_val(b, got->iss);
		db_str(b, ", expected ");
		db_val(b, iss);
		return -1;
	}
	return 0;
}

/*
 * Compare chain got[ngot] against want[nwant] level by level.  0 when
 * they match; -1 with the detail written into *b.
 */
static int
chain_cmp(struct dbuf *b, const struct ev_party *got, size_t ngot,
    const struct ev_party *want, size_t nwant, size_t off)
{
	size_t	 i;

	if (ngot != nwant) {
		db_fmt(b, "act depth %zu, expected %zu", ngot + off,
		    nwant + off);
		return -1;
	}
	for (i = 0; i < ngot; i++)
		if (level_cmp(b, i + off, &got[i], want[i].sub,
		    want[i].iss) == -1)
			return -1;
	return 0;
}

/*
 * The exchanged token has no act at all: evaluated at once, so the
 * detail reads nothing of the parents (it must not change when they
 * arrive, or the violation would be published again).
 */
static void
check_act_missing(struct pctx *c)
{
	struct dbuf	 b;

	if (!c->p[EV_PARENT_ACTOR].named && c->cfg->allow_impersonation)
		return;
	viol_add(c, RULE_ACT_CHAIN_MISMATCH, 1, &b);
	if (c->p[EV_PARENT_ACTOR].named)
		db_str(&b, "token has no act, but an actor token was given: "
		    "act must name the actor token's sub");
	else {
		db_str(&b, "token has no act: impersonation of ");
		db_val(&b, c->tok->sub);
		db_str(&b, " by client ");
		db_val(&b, c->tok->client_id);
		db_str(&b, " needs --allow-impersonation");
	}
	db_finish(&b);
}

/* act must be {"sub": actor, "act": <subject token's act>}. */
static void
check_act_chain(struct pctx *c)
{
	const struct ev_token	*t = c->tok, *s;
	const char		*actor;
	struct dbuf		 b;
	char			 tmp[PROFILE_DETAIL_LEN];

	if (t->nact == 0) {
		check_act_missing(c);
		return;
	}
	if ((s = parent_tok(c, EV_PARENT_SUBJECT)) == NULL ||
	    actor_of(c, &actor) == -1)
		return;
	db_init(&b, tmp, sizeof(tmp));
	if (level_cmp(&b, 0, &t->act[0], actor, NULL) == 0 &&
	    chain_cmp(&b, t->act + 1, t->nact - 1, s->act, s->nact, 1) == 0)
		return;
	viol_add(c, RULE_ACT_CHAIN_MISMATCH, 1, &b);
	db_str(&b, tmp);
	db_str(&b, ": act subs ");
	db_chain(&b, NULL, t->act, t->nact);
	db_str(&b, ", expected ");
	db_chain(&b, actor, s->act, s->nact);
	db_str(&b, " (the actor, then the subject token's act)");
	db_finish(&b);
}

static void
check_lifetime(struct pctx *c)
{
	static const int	 kinds[] = { EV_PARENT_SUBJECT,
				    EV_PARENT_ACTOR };
	const struct ev_token	*pt;
	struct dbuf		 b;
	size_t			 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		pt = parent_tok(c, kinds[i]);
		if (pt == NULL || c->tok->exp <= pt->exp)
			continue;
		viol_add(c, RULE_LIFETIME_EXCEEDS_PARENT, 1, &b);
		db_fmt(&b, "exp %" PRId64 " is later than %s parent ",
		    c->tok->exp, store_parent_name(kinds[i]));
		db_val(&b, pt->jti);
		db_fmt(&b, " exp %" PRId64, pt->exp);
		db_finish(&b);
	}
}

/* Is the scope token w[0..n) in the space-delimited scope s? */
static int
scope_has(const char *s, const char *w, size_t n)
{
	size_t	 len;

	while (s != NULL && *s != '\0') {
		len = strcspn(s, " ");
		if (len == n && memcmp(s, w, n) == 0)
			return 1;
		s += len;
		s += strspn(s, " ");
	}
	return 0;
}

/*
 * Append to *b each scope token of have that grant lacks; returns how
 * many.  Values are bounded like any other (VAL_MAX).
 */
static size_t
scope_extra(struct dbuf *b, const char *have, const char *grant)
{
	char	 w[VAL_MAX + 1];
	size_t	 len, n = 0;

	for (have += strspn(have, " "); *have != '\0';
	    have += strspn(have, " ")) {
		len = strcspn(have, " ");
		if (!scope_has(grant, have, len)) {
			if (n++ > 0)
				db_put(b, " ", 1);
			memcpy(w, have, len < VAL_MAX ? len : VAL_MAX);
			w[len < VAL_MAX ? len : VAL_MAX] = '\0';
			db_val(b, w);
			if (len > VAL_MAX)
				db_str(b, "...");
		}
		have += len;
	}
	return n;
}

/*
 * scope against the subject's (exchange) or the previous token's
 * (refresh).  A subject parent bounds the scope whatever the grant_type.
 */
static void
scope_against(struct pctx *c, int i)
{
	const struct ev_token	*pt = parent_tok(c, i);
	struct dbuf		 b;
	char			 tmp[PROFILE_DETAIL_LEN];

	if (pt == NULL || c->tok->scope == NULL)
		return;
	db_init(&b, tmp, sizeof(tmp) - 160);	/* room for the rest */
	if (scope_extra(&b, c->tok->scope, pt->scope) == 0)
		return;
	db_finish(&b);
	viol_add(c, RULE_SCOPE_ESCALATION, 1, &b);
	db_str(&b, "scope \"");
	db_str(&b, tmp);
	db_fmt(&b, "\" not granted by %s token ", store_parent_name(i));
	db_val(&b, pt->jti);
	if (pt->scope == NULL)
		db_str(&b, ", which has no scope");
	else {
		db_str(&b, " scope ");
		db_qval(&b, pt->scope);
	}
	db_finish(&b);
}

static int
refresh_field(struct dbuf *b, const char *name, const char *got,
    const char *was)
{
	if (str_eq(got, was))
		return 0;
	db_fmt(b, "%s ", name);
	db_val(b, got);
	db_fmt(b, " differs from the previous token's %s ", name);
	db_val(b, was);
	return -1;
}

/*
 * The new aud must be a subset of the previous one.  No aud means any
 * audience: dropping it widens; a previous token without aud allows
 * any new aud (it can only narrow).
 */
static int
refresh_aud(struct dbuf *b, const struct ev_token *t,
    const struct ev_token *pv)
{
	size_t	 i;

	if (pv->naud == 0)
		return 0;
	if (t->naud == 0) {
		db_str(b, "token has no aud (any audience), widening the "
		    "previous token's aud ");
		db_list(b, pv->aud, pv->naud);
		return -1;
	}
	for (i = 0; i < t->naud; i++) {
		if (aud_has(pv, t->aud[i]))
			continue;
		db_str(b, "aud ");
		db_qval(b, t->aud[i]);
		db_str(b, " widens the previous token's aud ");
		db_list(b, pv->aud, pv->naud);
		return -1;
	}
	return 0;
}

/* sub, client_id and act as the previous token's; aud no wider. */
static void
check_refresh(struct pctx *c)
{
	const struct ev_token	*t = c->tok, *pv;
	struct dbuf		 b;
	char			 tmp[PROFILE_DETAIL_LEN];

	if ((pv = parent_tok(c, EV_PARENT_PREVIOUS)) == NULL)
		return;
	db_init(&b, tmp, sizeof(tmp) - 100);	/* room for the jti */
	if (refresh_field(&b, "sub", t->sub, pv->sub) == 0 &&
	    refresh_field(&b, "client_id", t->client_id,
	    pv->client_id) == 0 &&
	    chain_cmp(&b, t->act, t->nact, pv->act, pv->nact, 0) == 0 &&
	    refresh_aud(&b, t, pv) == 0)
		return;
	db_finish(&b);
	viol_add(c, RULE_REFRESH_CONTEXT_CHANGED, 1, &b);
	db_str(&b, tmp);
	db_str(&b, " (refresh of previous token ");
	db_val(&b, pv->jti);
	db_str(&b, ")");
	db_finish(&b);
}

/* Needs no parent: evaluated at once. */
static void
check_depth(struct pctx *c)
{
	int		 max = c->cfg->max_depth;
	struct dbuf	 b;

	if (max <= 0)
		max = DEFAULT_MAX_DEPTH;
	if (c->tok->nact <= (size_t)max)
		return;
	viol_add(c, RULE_DEPTH_EXCEEDED, 1, &b);
	db_fmt(&b, "act chain depth %zu is more than the maximum %d",
	    c->tok->nact, max);
	db_finish(&b);
}

static int
any_unknown(const struct profile_parent *p)
{
	int	 i;

	for (i = 0; i < EV_NPARENTS; i++)
		if (p[i].named && !p[i].known)
			return 1;
	return 0;
}

/*
 * The four exchange rules, for an exchange naming a subject parent.
 * audience_not_single and a missing act need no parent and are
 * evaluated at once; the rest wait for the parents they read.
 */
static void
check_exchange(struct pctx *c)
{
	if (!c->is_exchange || !c->p[EV_PARENT_SUBJECT].named)
		return;
	check_subject_audience(c);
	check_may_act(c);
	check_audience_single(c);
	check_act_chain(c);
}

void
profile_check(const struct profile_config *cfg, const struct ev_token *tok,
    int is_exchange, const struct profile_parent p[EV_NPARENTS], int64_t now,
    struct profile_result *res)
{
	struct pctx	 c;

	/* viol[] past nviol is never read: 8 KiB not cleared per check */
	res->nviol = 0;
	res->own = STORE_ACTIVE;
	res->rule = RULE_NONE;
	if (cfg->mode == PROFILE_OFF)
		return;
	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.tok = tok;
	c.is_exchange = is_exchange;
	c.p = p;
	c.now = now;
	c.res = res;
	c.deny_rule = RULE_NONE;
	check_parent_inactive(&c);
	check_exchange(&c);
	check_lifetime(&c);
	scope_against(&c, EV_PARENT_SUBJECT);
	scope_against(&c, EV_PARENT_PREVIOUS);
	check_refresh(&c);
	check_depth(&c);
	if (cfg->mode == PROFILE_AUDIT)
		return;
	if (c.deny_rule != RULE_NONE) {
		res->own = STORE_DENIED;
		res->rule = c.deny_rule;
	} else if (any_unknown(p)) {
		res->own = STORE_PENDING;
		res->rule = RULE_UNKNOWN_PARENT;
	}
}
