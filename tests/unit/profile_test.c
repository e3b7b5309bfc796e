/*
 * profile_test: every rule of the delegation binding profile, each with
 * a violating token and a near-identical legitimate one, in each mode.
 *
 * A CASE(name, rule) starts from one of two legitimate fixtures (the
 * SPEC's exchange example, or a refresh of the same token) and changes
 * what it needs; it becomes three tests, enforce/name, audit/name and
 * off/name.  rule is what the changed token must violate, and nothing
 * else (RULE_NONE: no violation at all).
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "consumers/apply/apply.h"
#include "consumers/event/event.h"
#include "consumers/profile/profile.h"
#include "store/graph/store.h"

#define NOW	1000

struct fx {
	struct ev_token		 tok, subj, actor, prev;
	struct profile_parent	 p[EV_NPARENTS];
	struct profile_config	 cfg;
	int			 is_exchange;
	int64_t			 now;
	int			 pending;	/* enforce: expect PENDING */
	int			 nodeny;	/* enforce: listed only */
	const char		*detail;	/* expected in the detail */
};

static void
set_aud(struct ev_token *t, size_t n, ...)
{
	va_list	 ap;
	size_t	 i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		t->aud[i] = va_arg(ap, const char *);
	va_end(ap);
	t->naud = n;
}

/* act chain of n subs, outermost first, no iss. */
static void
set_act(struct ev_token *t, size_t n, ...)
{
	va_list	 ap;
	size_t	 i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		t->act[i].sub = va_arg(ap, const char *);
		t->act[i].iss = NULL;
	}
	va_end(ap);
	t->nact = n;
}

static void
token(struct ev_token *t, const char *jti, const char *sub,
    const char *client_id, const char *scope, int64_t exp)
{
	memset(t, 0, sizeof(*t));
	t->jti = jti;
	t->sub = sub;
	t->client_id = client_id;
	t->scope = scope;
	t->has_iat = 1;
	t->iat = NOW - 100;
	t->exp = exp;
}

static void
parent(struct fx *f, int i, struct ev_token *t)
{
	f->p[i].named = 1;
	f->p[i].known = 1;
	f->p[i].tok = t;
	f->p[i].status = STORE_ACTIVE;
	f->p[i].revoked_at = 0;
}

static void
unknown(struct fx *f, int i)
{
	memset(&f->p[i], 0, sizeof(f->p[i]));
	f->p[i].named = 1;
}

static void
unnamed(struct fx *f, int i)
{
	memset(&f->p[i], 0, sizeof(f->p[i]));
}

/*
 * The SPEC's example: agent-a presents the orchestrator's token (the
 * user's authority, aud agent-a) and its own credential, and gets a
 * token for agent-b whose act extends the subject's by agent-a.
 */
static void
fx_exchange(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	token(&f->subj, "t-orchestrator", "user-123", "orchestrator",
	    "files:read files:write", 2000);
	set_aud(&f->subj, 1, "agent-a");
	set_act(&f->subj, 1, "orchestrator");
	token(&f->actor, "t-agent-a-cc", "agent-a", "agent-a", NULL, 2000);
	token(&f->tok, "t-agent-a", "user-123", "agent-a", "files:read",
	    1500);
	f->tok.iat = NOW;
	set_aud(&f->tok, 1, "agent-b");
	set_act(&f->tok, 2, "agent-a", "orchestrator");
	parent(f, EV_PARENT_SUBJECT, &f->subj);
	parent(f, EV_PARENT_ACTOR, &f->actor);
	f->is_exchange = 1;
	f->now = NOW;
	f->cfg.max_depth = 8;
}

/* A refresh of that token: the previous one expires sooner. */
static void
fx_refresh(struct fx *f)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_SUBJECT);
	unnamed(f, EV_PARENT_ACTOR);
	token(&f->prev, "t-agent-a-r1", "user-123", "agent-a",
	    "files:read files:write", 1200);
	set_aud(&f->prev, 1, "agent-b");
	set_act(&f->prev, 2, "agent-a", "orchestrator");
	parent(f, EV_PARENT_PREVIOUS, &f->prev);
	f->is_exchange = 0;
}

/* A token with no parents at all (client credentials, say). */
static void
fx_plain(struct fx *f)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_SUBJECT);
	unnamed(f, EV_PARENT_ACTOR);
	f->is_exchange = 0;
}

static void
check_listed(const struct profile_result *r, int rule, const char *detail,
    const char *name)
{
	size_t	 i;
	int	 found = 0;

	cr_expect_gt(r->nviol, 0, "%s: nothing listed", name);
	for (i = 0; i < r->nviol; i++) {
		cr_expect_eq(r->viol[i].rule, rule, "%s: listed %s (%s)", name,
		    profile_rule_name(r->viol[i].rule), r->viol[i].detail);
		if (detail != NULL && strstr(r->viol[i].detail, detail))
			found = 1;
	}
	if (detail != NULL)
		cr_expect(found, "%s: no detail with \"%s\": \"%s\"", name,
		    detail, r->nviol ? r->viol[0].detail : "");
}

static void
check_clean(const struct profile_result *r, const char *name)
{
	cr_expect_eq(r->nviol, 0, "%s: unexpected %s: %s", name,
	    profile_rule_name(r->nviol ? r->viol[0].rule : 0),
	    r->nviol ? r->viol[0].detail : "");
}

static void
run(void (*setup)(struct fx *), int rule, int mode, const char *name)
{
	static struct fx		 f;
	static struct profile_result	 r;
	int				 own = STORE_ACTIVE;

	setup(&f);
	f.cfg.mode = mode;
	memset(&r, 0xa5, sizeof(r));
	profile_check(&f.cfg, &f.tok, f.is_exchange, f.p, f.now, &r);
	if (mode == PROFILE_OFF || rule == RULE_NONE)
		check_clean(&r, name);
	else
		check_listed(&r, rule, f.detail, name);
	if (mode == PROFILE_ENFORCE && rule != RULE_NONE && !f.nodeny)
		own = STORE_DENIED;
	else if (mode == PROFILE_ENFORCE && f.pending)
		own = STORE_PENDING;
	cr_expect_eq(r.own, own, "%s: own %d, expected %d", name, r.own, own);
	if (own == STORE_DENIED)
		cr_expect_eq(r.rule, rule, "%s: rule %s", name,
		    profile_rule_name(r.rule));
	else if (own == STORE_PENDING)
		cr_expect_eq(r.rule, RULE_UNKNOWN_PARENT);
	else
		cr_expect_eq(r.rule, RULE_NONE);
}

#define CASE(name, rule)						\
	static void name##_setup(struct fx *);				\
	Test(enforce, name) { run(name##_setup, rule, PROFILE_ENFORCE,	\
	    #name); }							\
	Test(audit, name) { run(name##_setup, rule, PROFILE_AUDIT,	\
	    #name); }							\
	Test(off, name) { run(name##_setup, rule, PROFILE_OFF, #name); } \
	static void name##_setup(struct fx *f)

/* ---- the legitimate fixtures themselves ------------------------------ */

CASE(exchange_legit, RULE_NONE) { fx_exchange(f); }
CASE(refresh_legit, RULE_NONE) { fx_refresh(f); }
CASE(plain_legit, RULE_NONE) { fx_plain(f); }

/* ---- parent_inactive -------------------------------------------------- */

CASE(inactive_revoked_after_mint, RULE_NONE)
{
	fx_exchange(f);		/* the cascade revokes it; not a violation */
	f->p[EV_PARENT_SUBJECT].status = STORE_REVOKED;
	f->p[EV_PARENT_SUBJECT].revoked_at = NOW + 1;
}

CASE(inactive_revoked_before_mint, RULE_PARENT_INACTIVE)
{
	fx_exchange(f);		/* revoked at == now counts */
	f->p[EV_PARENT_SUBJECT].status = STORE_REVOKED;
	f->p[EV_PARENT_SUBJECT].revoked_at = NOW;
	f->nodeny = 1;		/* inherited as revoked by the store */
	f->detail = "subject parent t-orchestrator was revoked at 1000; "
	    "this token was minted at 1000";
}

CASE(inactive_denied, RULE_PARENT_INACTIVE)
{
	fx_exchange(f);
	f->p[EV_PARENT_ACTOR].status = STORE_DENIED;
	f->detail = "actor parent t-agent-a-cc is denied";
}

CASE(inactive_pending_parent, RULE_NONE)
{
	fx_exchange(f);		/* a pending parent is not dead */
	f->p[EV_PARENT_ACTOR].status = STORE_PENDING;
}

CASE(inactive_subject_expired, RULE_PARENT_INACTIVE)
{
	fx_exchange(f);
	f->subj.exp = NOW;	/* exp <= now: dead */
	f->tok.exp = NOW;
	f->detail = "subject parent t-orchestrator expired at 1000";
}

CASE(inactive_subject_alive, RULE_NONE)
{
	fx_exchange(f);
	f->subj.exp = NOW + 1;
	f->tok.exp = NOW + 1;
}

CASE(inactive_previous_expired, RULE_PARENT_INACTIVE)
{
	fx_refresh(f);
	f->prev.exp = NOW - 1;
	f->detail = "previous parent t-agent-a-r1 expired at 999";
}

CASE(inactive_previous_expired_and_revoked, RULE_PARENT_INACTIVE)
{
	fx_refresh(f);		/* expiry wins: denied in any order */
	f->prev.exp = NOW;
	f->p[EV_PARENT_PREVIOUS].status = STORE_REVOKED;
	f->p[EV_PARENT_PREVIOUS].revoked_at = NOW - 10;
	f->detail = "expired";
}

/* ---- subject_audience_mismatch ---------------------------------------- */

/*
 * The cross-chain splice: user-2's token meant for agent-b, presented
 * as subject by agent-a with agent-a's own actor token.
 */
CASE(splice_attack, RULE_SUBJECT_AUDIENCE_MISMATCH)
{
	fx_exchange(f);
	f->subj.jti = "t-user2-for-b";
	f->subj.sub = "user-2";
	set_aud(&f->subj, 1, "agent-b");
	f->tok.sub = "user-2";
	set_aud(&f->tok, 1, "agent-c");
	f->detail = "subject token aud [\"agent-b\"] does not name actor "
	    "agent-a";
}

CASE(splice_legit_hop, RULE_NONE)
{
	fx_exchange(f);		/* the same hop, with user-2's token for a */
	f->subj.jti = "t-user2-for-a";
	f->subj.sub = "user-2";
	set_aud(&f->subj, 1, "agent-a");
	f->tok.sub = "user-2";
	set_aud(&f->tok, 1, "agent-c");
}

CASE(audience_actor_from_client_id, RULE_SUBJECT_AUDIENCE_MISMATCH)
{
	fx_exchange(f);		/* no actor token: the actor is client_id */
	unnamed(f, EV_PARENT_ACTOR);
	f->tok.client_id = "agent-x";
	set_act(&f->tok, 2, "agent-x", "orchestrator");
	f->detail = "does not name actor agent-x";
}

CASE(audience_actor_from_client_id_legit, RULE_NONE)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_ACTOR);
}

CASE(audience_subject_without_aud, RULE_SUBJECT_AUDIENCE_MISMATCH)
{
	fx_exchange(f);
	f->subj.naud = 0;
	f->detail = "subject token aud [] does not name actor agent-a";
}

CASE(audience_subject_multi_legit, RULE_NONE)
{
	fx_exchange(f);
	set_aud(&f->subj, 3, "agent-x", "agent-a", "agent-y");
}

CASE(audience_actor_unknown_waits, RULE_NONE)
{
	fx_exchange(f);		/* would mismatch, but the actor is unknown */
	set_aud(&f->subj, 1, "agent-b");
	unknown(f, EV_PARENT_ACTOR);
	f->pending = 1;
}

CASE(audience_subject_unknown_waits, RULE_NONE)
{
	fx_exchange(f);
	unknown(f, EV_PARENT_SUBJECT);
	f->pending = 1;
}

/* ---- may_act_mismatch ------------------------------------------------- */

CASE(may_act_sub_legit, RULE_NONE)
{
	fx_exchange(f);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-a";
}

CASE(may_act_sub_mismatch, RULE_MAY_ACT_MISMATCH)
{
	fx_exchange(f);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-b";
	f->detail = "subject token may_act sub agent-b does not match "
	    "actor agent-a";
}

CASE(may_act_iss_legit, RULE_NONE)
{
	fx_exchange(f);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-a";
	f->subj.may_act.iss = "https://idp-a";
	f->tok.act[0].iss = "https://idp-a";
}

CASE(may_act_iss_mismatch, RULE_MAY_ACT_MISMATCH)
{
	fx_exchange(f);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-a";
	f->subj.may_act.iss = "https://idp-a";
	f->tok.act[0].iss = "https://idp-b";
	f->detail = "may_act iss https://idp-a does not match actor iss "
	    "https://idp-b";
}

CASE(may_act_iss_one_side, RULE_NONE)
{
	fx_exchange(f);		/* iss only where both carry it */
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-a";
	f->subj.may_act.iss = "https://idp-a";
}

CASE(may_act_without_actor_token, RULE_MAY_ACT_MISMATCH)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_ACTOR);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-b";
}

CASE(may_act_actor_unknown_waits, RULE_NONE)
{
	fx_exchange(f);
	unknown(f, EV_PARENT_ACTOR);
	f->subj.has_may_act = 1;
	f->subj.may_act.sub = "agent-b";
	f->pending = 1;
}

/* ---- audience_not_single ---------------------------------------------- */

CASE(audience_none, RULE_AUDIENCE_NOT_SINGLE)
{
	fx_exchange(f);
	f->tok.naud = 0;
	f->detail = "exchanged token has no aud; exactly one required";
}

CASE(audience_two, RULE_AUDIENCE_NOT_SINGLE)
{
	fx_exchange(f);
	set_aud(&f->tok, 2, "agent-b", "agent-c");
	f->detail = "exchanged token aud [\"agent-b\",\"agent-c\"] has 2 "
	    "values";
}

CASE(audience_two_subject_unknown, RULE_AUDIENCE_NOT_SINGLE)
{
	fx_exchange(f);		/* needs no parent: denied at once */
	set_aud(&f->tok, 2, "agent-b", "agent-c");
	unknown(f, EV_PARENT_SUBJECT);
}

CASE(audience_two_not_exchange, RULE_NONE)
{
	fx_refresh(f);		/* the rule is for exchanges only */
	set_aud(&f->prev, 2, "agent-b", "agent-c");
	set_aud(&f->tok, 2, "agent-b", "agent-c");
}

CASE(audience_two_exchange_without_subject, RULE_NONE)
{
	fx_plain(f);		/* exchange URN but no subject parent */
	f->is_exchange = 1;
	set_aud(&f->tok, 2, "agent-b", "agent-c");
}

/* ---- act_chain_mismatch ----------------------------------------------- */

CASE(act_wrong_actor, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	set_act(&f->tok, 2, "agent-x", "orchestrator");
	f->detail = "act[0].sub agent-x, expected agent-a";
}

CASE(act_subject_chain_dropped, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	set_act(&f->tok, 1, "agent-a");
	f->detail = "act depth 1, expected 2: act subs [\"agent-a\"], "
	    "expected [\"agent-a\",\"orchestrator\"] (the actor, then the "
	    "subject token's act)";
}

CASE(act_extra_level, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	set_act(&f->tok, 3, "agent-a", "orchestrator", "agent-z");
	f->detail = "act depth 3, expected 2";
}

CASE(act_missing_with_actor_token, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	f->tok.nact = 0;
	f->detail = "token has no act, but an actor token was given: "
	    "act must name the actor token's sub";
}

CASE(act_missing_actor_unknown, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);		/* wrong whatever the actor: at once */
	f->tok.nact = 0;
	unknown(f, EV_PARENT_ACTOR);
}

CASE(act_impersonation, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_ACTOR);
	f->tok.nact = 0;
	f->detail = "impersonation of user-123 by client agent-a needs "
	    "--allow-impersonation";
}

CASE(act_impersonation_allowed, RULE_NONE)
{
	fx_exchange(f);
	unnamed(f, EV_PARENT_ACTOR);
	f->tok.nact = 0;
	f->cfg.allow_impersonation = 1;
}

CASE(act_impersonation_flag_needs_no_actor, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);		/* the flag does not excuse a dropped actor */
	f->tok.nact = 0;
	f->cfg.allow_impersonation = 1;
}

CASE(act_subject_without_act, RULE_NONE)
{
	fx_exchange(f);		/* first hop: the user's own token */
	f->subj.nact = 0;
	set_act(&f->tok, 1, "agent-a");
}

CASE(act_subject_without_act_invented, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	f->subj.nact = 0;
	f->detail = "act depth 2, expected 1";
}

CASE(act_nested_three_legit, RULE_NONE)
{
	fx_exchange(f);
	set_act(&f->subj, 2, "orchestrator", "planner");
	set_act(&f->tok, 3, "agent-a", "orchestrator", "planner");
}

CASE(act_nested_three_deepest_differs, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	set_act(&f->subj, 2, "orchestrator", "planner");
	set_act(&f->tok, 3, "agent-a", "orchestrator", "intruder");
	f->detail = "act[2].sub intruder, expected planner";
}

CASE(act_iss_both_differ, RULE_ACT_CHAIN_MISMATCH)
{
	fx_exchange(f);
	f->subj.act[0].iss = "https://idp";
	f->tok.act[1].iss = "https://evil";
	f->detail = "act[1].iss https://evil, expected https://idp";
}

CASE(act_iss_both_same, RULE_NONE)
{
	fx_exchange(f);
	f->subj.act[0].iss = "https://idp";
	f->tok.act[1].iss = "https://idp";
}

CASE(act_iss_only_subject, RULE_NONE)
{
	fx_exchange(f);
	f->subj.act[0].iss = "https://idp";
}

CASE(act_iss_only_token, RULE_NONE)
{
	fx_exchange(f);
	f->tok.act[0].iss = "https://idp";
	f->tok.act[1].iss = "https://idp";
}

CASE(act_actor_unknown_waits, RULE_NONE)
{
	fx_exchange(f);
	set_act(&f->tok, 2, "agent-x", "orchestrator");
	unknown(f, EV_PARENT_ACTOR);
	f->pending = 1;
}

/* ---- lifetime_exceeds_parent ------------------------------------------ */

CASE(lifetime_past_subject, RULE_LIFETIME_EXCEEDS_PARENT)
{
	fx_exchange(f);
	f->actor.exp = 3000;
	f->tok.exp = 2001;
	f->detail = "exp 2001 is later than subject parent t-orchestrator "
	    "exp 2000";
}

CASE(lifetime_equal_subject, RULE_NONE)
{
	fx_exchange(f);
	f->actor.exp = 3000;
	f->tok.exp = 2000;
}

CASE(lifetime_past_actor, RULE_LIFETIME_EXCEEDS_PARENT)
{
	fx_exchange(f);
	f->actor.exp = 1499;
	f->detail = "later than actor parent t-agent-a-cc exp 1499";
}

CASE(lifetime_within_actor, RULE_NONE)
{
	fx_exchange(f);
	f->actor.exp = 1500;
}

CASE(lifetime_refresh_slides, RULE_NONE)
{
	fx_refresh(f);		/* prev exp 1200, token exp 1500 */
	f->tok.exp = 100000;
}

CASE(lifetime_subject_unknown_waits, RULE_NONE)
{
	fx_exchange(f);
	f->actor.exp = 99999;
	f->tok.exp = 99999;
	unknown(f, EV_PARENT_SUBJECT);
	f->pending = 1;
}

/* ---- scope_escalation ------------------------------------------------- */

CASE(scope_exchange_escalates, RULE_SCOPE_ESCALATION)
{
	fx_exchange(f);
	f->tok.scope = "files:read admin";
	f->detail = "scope \"admin\" not granted by subject token "
	    "t-orchestrator scope \"files:read files:write\"";
}

CASE(scope_exchange_same, RULE_NONE)
{
	fx_exchange(f);
	f->tok.scope = "files:write files:read";
}

CASE(scope_exchange_prefix, RULE_SCOPE_ESCALATION)
{
	fx_exchange(f);		/* a prefix or a longer name is another scope */
	f->tok.scope = "files files:readx";
	f->detail = "scope \"files files:readx\"";
}

CASE(scope_exchange_extra_spaces, RULE_NONE)
{
	fx_exchange(f);
	f->tok.scope = "  files:read   files:write ";
}

CASE(scope_none_never_escalates, RULE_NONE)
{
	fx_exchange(f);
	f->tok.scope = NULL;
	f->subj.scope = NULL;
}

CASE(scope_parent_without_scope, RULE_SCOPE_ESCALATION)
{
	fx_exchange(f);
	f->subj.scope = NULL;
	f->detail = "t-orchestrator, which has no scope";
}

CASE(scope_refresh_escalates, RULE_SCOPE_ESCALATION)
{
	fx_refresh(f);
	f->prev.scope = "files:read";
	f->tok.scope = "files:read files:write";
	f->detail = "scope \"files:write\" not granted by previous token";
}

CASE(scope_refresh_narrows, RULE_NONE)
{
	fx_refresh(f);
	f->prev.scope = "files:read files:write";
	f->tok.scope = "files:read";
}

/* ---- refresh_context_changed ------------------------------------------ */

CASE(refresh_sub_changed, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	f->tok.sub = "user-999";
	f->detail = "sub user-999 differs from the previous token's sub "
	    "user-123 (refresh of previous token t-agent-a-r1)";
}

CASE(refresh_client_changed, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	f->tok.client_id = "agent-z";
	f->detail = "client_id agent-z differs";
}

CASE(refresh_act_changed, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	set_act(&f->tok, 2, "agent-a", "rogue");
	f->detail = "act[1].sub rogue, expected orchestrator";
}

CASE(refresh_act_dropped, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	f->tok.nact = 0;
	f->detail = "act depth 0, expected 2";
}

CASE(refresh_act_iss_one_side, RULE_NONE)
{
	fx_refresh(f);
	f->prev.act[1].iss = "https://idp";
}

CASE(refresh_aud_widens, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	set_aud(&f->tok, 2, "agent-b", "agent-c");
	f->detail = "aud \"agent-c\" widens the previous token's aud "
	    "[\"agent-b\"]";
}

CASE(refresh_aud_narrows, RULE_NONE)
{
	fx_refresh(f);
	set_aud(&f->prev, 2, "agent-b", "agent-c");
	set_aud(&f->tok, 1, "agent-c");
}

CASE(refresh_aud_dropped, RULE_REFRESH_CONTEXT_CHANGED)
{
	fx_refresh(f);
	f->tok.naud = 0;
	f->detail = "token has no aud (any audience)";
}

CASE(refresh_previous_without_aud, RULE_NONE)
{
	fx_refresh(f);
	f->prev.naud = 0;
}

CASE(refresh_previous_unknown_waits, RULE_NONE)
{
	fx_refresh(f);
	f->tok.sub = "user-999";
	unknown(f, EV_PARENT_PREVIOUS);
	f->pending = 1;
}

/* ---- depth_exceeded --------------------------------------------------- */

static void
deep_act(struct ev_token *t, size_t n)
{
	static const char *const subs[] = { "a0", "a1", "a2", "a3", "a4",
	    "a5", "a6", "a7", "a8", "a9" };
	size_t	 i;

	for (i = 0; i < n; i++) {
		t->act[i].sub = subs[i];
		t->act[i].iss = NULL;
	}
	t->nact = n;
}

CASE(depth_nine, RULE_DEPTH_EXCEEDED)
{
	fx_plain(f);
	deep_act(&f->tok, 9);
	f->detail = "act chain depth 9 is more than the maximum 8";
}

CASE(depth_eight, RULE_NONE)
{
	fx_plain(f);
	deep_act(&f->tok, 8);
}

CASE(depth_default_when_unset, RULE_DEPTH_EXCEEDED)
{
	fx_plain(f);
	f->cfg.max_depth = 0;	/* 0: the default, 8 */
	deep_act(&f->tok, 9);
}

CASE(depth_configured_two, RULE_DEPTH_EXCEEDED)
{
	fx_exchange(f);		/* a well-formed chain, just too deep */
	f->cfg.max_depth = 2;
	set_act(&f->subj, 2, "orchestrator", "planner");
	set_act(&f->tok, 3, "agent-a", "orchestrator", "planner");
}

CASE(depth_configured_two_legit, RULE_NONE)
{
	fx_exchange(f);
	f->cfg.max_depth = 2;
}

CASE(depth_parent_unknown, RULE_DEPTH_EXCEEDED)
{
	fx_plain(f);		/* needs no parent: denied, not pending */
	deep_act(&f->tok, 9);
	unknown(f, EV_PARENT_SUBJECT);
}

/* ---- unknown_parent --------------------------------------------------- */

CASE(unknown_actor_only, RULE_NONE)
{
	fx_exchange(f);
	unknown(f, EV_PARENT_ACTOR);
	f->pending = 1;
}

CASE(unknown_all, RULE_NONE)
{
	fx_refresh(f);
	unknown(f, EV_PARENT_SUBJECT);
	unknown(f, EV_PARENT_ACTOR);
	unknown(f, EV_PARENT_PREVIOUS);
	f->is_exchange = 1;
	f->pending = 1;
}

/* ---- beyond single rules ---------------------------------------------- */

static void
check(struct fx *f, int mode, struct profile_result *r)
{
	f->cfg.mode = mode;
	profile_check(&f->cfg, &f->tok, f->is_exchange, f->p, f->now, r);
}

/* Printable, bounded, valid UTF-8 (every byte >= 0x20 but DEL). */
static void
expect_printable(const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 n = strnlen(s, PROFILE_DETAIL_LEN);

	cr_expect_lt(n, PROFILE_DETAIL_LEN, "detail not terminated");
	for (; *u != '\0'; u++)
		cr_expect(*u >= 0x20 && *u != 0x7f, "byte 0x%02x in \"%s\"",
		    *u, s);
}

Test(profile, rule_names)
{
	cr_expect_str_eq(profile_rule_name(RULE_NONE), "");
	cr_expect_str_eq(profile_rule_name(RULE_PARENT_INACTIVE),
	    "parent_inactive");
	cr_expect_str_eq(profile_rule_name(RULE_PARENT_CYCLE),
	    "parent_cycle");
	cr_expect_str_eq(profile_rule_name(STORE_RULE_CYCLE),
	    "parent_cycle");
	cr_expect_str_eq(profile_rule_name(RULE_SUBJECT_AUDIENCE_MISMATCH),
	    "subject_audience_mismatch");
	cr_expect_str_eq(profile_rule_name(RULE_MAY_ACT_MISMATCH),
	    "may_act_mismatch");
	cr_expect_str_eq(profile_rule_name(RULE_AUDIENCE_NOT_SINGLE),
	    "audience_not_single");
	cr_expect_str_eq(profile_rule_name(RULE_ACT_CHAIN_MISMATCH),
	    "act_chain_mismatch");
	cr_expect_str_eq(profile_rule_name(RULE_LIFETIME_EXCEEDS_PARENT),
	    "lifetime_exceeds_parent");
	cr_expect_str_eq(profile_rule_name(RULE_SCOPE_ESCALATION),
	    "scope_escalation");
	cr_expect_str_eq(profile_rule_name(RULE_REFRESH_CONTEXT_CHANGED),
	    "refresh_context_changed");
	cr_expect_str_eq(profile_rule_name(RULE_DEPTH_EXCEEDED),
	    "depth_exceeded");
	cr_expect_str_eq(profile_rule_name(RULE_UNKNOWN_PARENT),
	    "unknown_parent");
	cr_expect_str_eq(profile_rule_name(RULE_REVOKED), "revoked");
	cr_expect_str_eq(profile_rule_name(RULE_MAX), "");
	cr_expect_str_eq(profile_rule_name(-1), "");
}

Test(profile, enforce_takes_first_rule_audit_lists_all)
{
	static struct fx		 f;
	static struct profile_result	 r;

	fx_exchange(&f);
	set_aud(&f.subj, 1, "agent-b");			/* audience */
	set_aud(&f.tok, 2, "agent-b", "agent-c");	/* not single */
	f.tok.scope = "files:read admin";		/* escalation */
	check(&f, PROFILE_ENFORCE, &r);
	cr_assert_eq(r.own, STORE_DENIED);
	cr_expect_eq(r.rule, RULE_SUBJECT_AUDIENCE_MISMATCH);
	cr_assert_eq(r.nviol, 3);
	cr_expect_eq(r.viol[1].rule, RULE_AUDIENCE_NOT_SINGLE);
	cr_expect_eq(r.viol[2].rule, RULE_SCOPE_ESCALATION);
	check(&f, PROFILE_AUDIT, &r);
	cr_expect_eq(r.own, STORE_ACTIVE);
	cr_expect_eq(r.nviol, 3);
}

Test(profile, revoked_parent_then_denying_rule)
{
	static struct fx		 f;
	static struct profile_result	 r;

	fx_exchange(&f);	/* the revoked parent does not take the rule */
	f.p[EV_PARENT_SUBJECT].status = STORE_REVOKED;
	f.p[EV_PARENT_SUBJECT].revoked_at = NOW - 5;
	f.tok.scope = "admin";
	check(&f, PROFILE_ENFORCE, &r);
	cr_assert_eq(r.nviol, 2);
	cr_expect_eq(r.viol[0].rule, RULE_PARENT_INACTIVE);
	cr_expect_eq(r.own, STORE_DENIED);
	cr_expect_eq(r.rule, RULE_SCOPE_ESCALATION);
}

Test(profile, deterministic)
{
	static struct fx		 f;
	static struct profile_result	 a, b;

	fx_exchange(&f);
	set_aud(&f.subj, 1, "agent-b");
	f.tok.nact = 0;
	f.tok.scope = "x y z";
	memset(&a, 0x11, sizeof(a));
	memset(&b, 0x77, sizeof(b));
	check(&f, PROFILE_AUDIT, &a);
	check(&f, PROFILE_AUDIT, &b);
	/* whatever was in the results before; viol[] past nviol is not */
	cr_expect_eq(a.own, b.own);
	cr_expect_eq(a.rule, b.rule);
	cr_assert_eq(a.nviol, b.nviol);
	cr_expect_gt(a.nviol, 0);
	for (size_t i = 0; i < a.nviol; i++) {
		cr_expect_eq(a.viol[i].rule, b.viol[i].rule);
		cr_expect_eq(a.viol[i].by_revocation, b.viol[i].by_revocation);
		cr_expect_str_eq(a.viol[i].detail, b.viol[i].detail);
	}
}

Test(profile, detail_escapes_controls_and_truncates)
{
	static struct fx		 f;
	static struct profile_result	 r;
	static char			 longv[300];

	memset(longv, 'v', sizeof(longv) - 1);
	fx_exchange(&f);
	set_aud(&f.subj, 2, "agent-b\n\x1b[31mred\x7f", longv);
	f.actor.sub = "agent-a\r\xc2\x85";	/* CR and C1 NEL */
	set_act(&f.tok, 2, f.actor.sub, "orchestrator");
	check(&f, PROFILE_ENFORCE, &r);
	cr_assert_eq(r.nviol, 1, "%s", r.viol[0].detail);
	expect_printable(r.viol[0].detail);
	cr_expect(strstr(r.viol[0].detail, "\"agent-b??[31mred?\"") != NULL,
	    "%s", r.viol[0].detail);
	cr_expect(strstr(r.viol[0].detail, "actor agent-a??") != NULL,
	    "%s", r.viol[0].detail);
	/* 64 bytes of the value, then "..." */
	cr_expect(strstr(r.viol[0].detail, "vvv...\"") != NULL);
	cr_expect(strstr(r.viol[0].detail, longv + sizeof(longv) - 66)
	    == NULL);
}

Test(profile, detail_keeps_utf8_whole)
{
	static struct fx		 f;
	static struct profile_result	 r;
	static char			 v[200];
	size_t				 i;

	/* 63 ASCII bytes then "é": the sequence must not be split. */
	memset(v, 'x', 63);
	for (i = 63; i + 2 < sizeof(v); i += 2)
		memcpy(v + i, "\xc3\xa9", 2);
	fx_exchange(&f);
	set_aud(&f.subj, 3, v, "bad\xff\xfe", "ok-\xe2\x82\xac");
	check(&f, PROFILE_ENFORCE, &r);
	cr_assert_eq(r.nviol, 1);
	expect_printable(r.viol[0].detail);
	cr_expect(strstr(r.viol[0].detail, "xxx...\"") != NULL, "%s",
	    r.viol[0].detail);
	cr_expect(strstr(r.viol[0].detail, "\"bad??\"") != NULL);
	cr_expect(strstr(r.viol[0].detail, "\"ok-\xe2\x82\xac\"") != NULL);
}

Test(profile, detail_bounded_with_many_values)
{
	static struct fx		 f;
	static struct profile_result	 r;
	static char			 v[EV_MAX_AUD][80];
	static char			 scope[EV_MAX_AUD * 80];
	size_t				 i, len = 0;

	fx_exchange(&f);
	for (i = 0; i < EV_MAX_AUD; i++) {
		memset(v[i], 'a' + i % 26, sizeof(v[i]) - 1);
		f.tok.aud[i] = v[i];
		memcpy(scope + len, v[i], sizeof(v[i]) - 1);
		len += sizeof(v[i]) - 1;
		scope[len++] = ' ';
	}
	scope[len - 1] = '\0';
	f.tok.naud = EV_MAX_AUD;
	f.tok.scope = scope;
	check(&f, PROFILE_ENFORCE, &r);
	cr_assert_eq(r.nviol, 2);
	for (i = 0; i < r.nviol; i++) {
		expect_printable(r.viol[i].detail);
		cr_expect_lt(strlen(r.viol[i].detail), PROFILE_DETAIL_LEN);
	}
	cr_expect(strstr(r.viol[0].detail, ",...60 more]") != NULL, "%s",
	    r.viol[0].detail);
	cr_expect(strstr(r.viol[1].detail, "...") != NULL);
}

Test(profile, off_checks_nothing)
{
	static struct fx		 f;
	static struct profile_result	 r;

	fx_exchange(&f);	/* everything wrong at once */
	set_aud(&f.subj, 1, "agent-b");
	f.tok.naud = 0;
	f.tok.nact = 0;
	f.tok.scope = "admin";
	f.tok.exp = 99999;
	f.p[EV_PARENT_SUBJECT].status = STORE_DENIED;
	unknown(&f, EV_PARENT_PREVIOUS);
	check(&f, PROFILE_OFF, &r);
	cr_expect_eq(r.own, STORE_ACTIVE);
	cr_expect_eq(r.rule, RULE_NONE);
	cr_expect_eq(r.nviol, 0);
	check(&f, PROFILE_AUDIT, &r);
	cr_expect_eq(r.own, STORE_ACTIVE);
	cr_expect_eq(r.nviol, 7);
}

/* Every case above, for the properties below. */
struct setup {
	const char	*name;
	void		(*fn)(struct fx *);
};
#define S(n)	{ #n, n##_setup }
static const struct setup all_setups[] = {
	S(exchange_legit), S(refresh_legit), S(plain_legit),
	S(inactive_revoked_after_mint), S(inactive_revoked_before_mint),
	S(inactive_denied), S(inactive_pending_parent),
	S(inactive_subject_expired), S(inactive_subject_alive),
	S(inactive_previous_expired),
	S(inactive_previous_expired_and_revoked), S(splice_attack),
	S(splice_legit_hop), S(audience_actor_from_client_id),
	S(audience_actor_from_client_id_legit),
	S(audience_subject_without_aud), S(audience_subject_multi_legit),
	S(audience_actor_unknown_waits), S(audience_subject_unknown_waits),
	S(may_act_sub_legit), S(may_act_sub_mismatch), S(may_act_iss_legit),
	S(may_act_iss_mismatch), S(may_act_iss_one_side),
	S(may_act_without_actor_token), S(may_act_actor_unknown_waits),
	S(audience_none), S(audience_two), S(audience_two_subject_unknown),
	S(audience_two_not_exchange),
	S(audience_two_exchange_without_subject), S(act_wrong_actor),
	S(act_subject_chain_dropped), S(act_extra_level),
	S(act_missing_with_actor_token), S(act_missing_actor_unknown),
	S(act_impersonation), S(act_impersonation_allowed),
	S(act_impersonation_flag_needs_no_actor), S(act_subject_without_act),
	S(act_subject_without_act_invented), S(act_nested_three_legit),
	S(act_nested_three_deepest_differs), S(act_iss_both_differ),
	S(act_iss_both_same), S(act_iss_only_subject), S(act_iss_only_token),
	S(act_actor_unknown_waits), S(lifetime_past_subject),
	S(lifetime_equal_subject), S(lifetime_past_actor),
	S(lifetime_within_actor), S(lifetime_refresh_slides),
	S(lifetime_subject_unknown_waits), S(scope_exchange_escalates),
	S(scope_exchange_same), S(scope_exchange_prefix),
	S(scope_exchange_extra_spaces), S(scope_none_never_escalates),
	S(scope_parent_without_scope), S(scope_refresh_escalates),
	S(scope_refresh_narrows), S(refresh_sub_changed),
	S(refresh_client_changed), S(refresh_act_changed),
	S(refresh_act_dropped), S(refresh_act_iss_one_side),
	S(refresh_aud_widens), S(refresh_aud_narrows), S(refresh_aud_dropped),
	S(refresh_previous_without_aud), S(refresh_previous_unknown_waits),
	S(depth_nine), S(depth_eight), S(depth_default_when_unset),
	S(depth_configured_two), S(depth_configured_two_legit),
	S(depth_parent_unknown), S(unknown_actor_only), S(unknown_all),
};
#undef S

static int
listed(const struct profile_violation *v, const struct profile_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nviol; i++)
		if (r->viol[i].rule == v->rule &&
		    strcmp(r->viol[i].detail, v->detail) == 0)
			return 1;
	return 0;
}

/*
 * When a parent arrives, apply publishes the verdicts with it minus
 * those without it.  So every violation found without a parent must be
 * found, word for word, with it; and a token denied without it stays
 * denied.
 */
static void
expect_monotone(const struct setup *setup, int k)
{
	static struct fx		 f;
	static struct profile_result	 with, without;
	size_t				 i;

	setup->fn(&f);
	if (!f.p[k].named || !f.p[k].known)
		return;
	check(&f, PROFILE_ENFORCE, &with);
	f.p[k].known = 0;
	f.p[k].tok = NULL;
	check(&f, PROFILE_ENFORCE, &without);
	for (i = 0; i < without.nviol; i++)
		cr_expect(listed(&without.viol[i], &with),
		    "%s, parent %d: \"%s\" not found once known",
		    setup->name, k, without.viol[i].detail);
	if (without.own == STORE_DENIED)
		cr_expect_eq(with.own, STORE_DENIED);
	else
		cr_expect_eq(without.own, STORE_PENDING);
}

Test(profile, verdicts_monotone_as_parents_arrive)
{
	size_t	 i;
	int	 k;

	for (i = 0; i < sizeof(all_setups) / sizeof(all_setups[0]); i++)
		for (k = 0; k < EV_NPARENTS; k++)
			expect_monotone(&all_setups[i], k);
}
