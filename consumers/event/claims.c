/*
 * claims: the claims blob of an issued token (event_claims(), see
 * event.h), written straight into a buffer by jout as jansson would
 * dump it, with no tree built; event.c parses it back.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "consumers/event/event.h"
#include "consumers/text/jout.h"

/* A member of the event's token object as given: jansson dumps it. */
static void
jo_copy(struct jout *j, json_t *v)
{
	char	*s;

	if ((s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY)) == NULL) {
		j->full = 1;
		return;
	}
	jout_raw(j, s, strlen(s));
	free(s);
}

/* One act level or may_act: sub, iss, then the level nested in it. */
static void
jo_party(struct jout *j, const struct ev_party *p, size_t nest)
{
	const char	*sep = "";

	jout_lit(j, "{");
	if (p->sub != NULL) {
		jout_lit(j, "\"sub\":");
		jout_str(j, p->sub);
		sep = ",";
	}
	if (p->iss != NULL) {
		jout_raw(j, sep, strlen(sep));
		jout_lit(j, "\"iss\":");
		jout_str(j, p->iss);
		sep = ",";
	}
	if (nest > 0) {
		jout_raw(j, sep, strlen(sep));
		jout_lit(j, "\"act\":");
		jo_party(j, p + 1, nest - 1);
	}
	jout_lit(j, "}");
}

static void
jo_aud(struct jout *j, const struct ev_token *t, json_t *src)
{
	size_t	i;

	if (src != NULL ? json_is_string(src) : t->naud == 1) {
		jout_str(j, t->aud[0]);
		return;
	}
	jout_lit(j, "[");
	for (i = 0; i < t->naud && i < EV_MAX_AUD; i++) {
		if (i > 0)
			jout_lit(j, ",");
		jout_str(j, t->aud[i]);
	}
	jout_lit(j, "]");
}

/* "act" and "may_act", when the token has them. */
static void
jo_parties(struct jout *j, const struct ev_token *t, json_t *src)
{
	if (t->nact > 0) {
		jout_lit(j, ",\"act\":");
		if (src != NULL)
			jo_copy(j, json_object_get(src, "act"));
		else
			jo_party(j, &t->act[0], t->nact - 1);
	}
	if (t->has_may_act) {
		jout_lit(j, ",\"may_act\":");
		if (src != NULL)
			jo_copy(j, json_object_get(src, "may_act"));
		else
			jo_party(j, &t->may_act, 0);
	}
}

/*
 * The claims blob, written as jansson would dump it and json_dumps() would
 * make it (the tests hold the two to the same bytes), without building
 * a tree: "aud" from the decoded strings, "act" and "may_act" copied
 * from the event (they may hold members of their own).  O(claims).
 */
char *
event_claims(const struct event *ev, size_t *len)
{
	const struct ev_token	*t = &ev->tok;
	struct jout		 j = { NULL, 0, 0, 1, 0 };
	json_t			*src = NULL;

	if (ev->iss == NULL || t->jti == NULL || t->sub == NULL ||
	    t->client_id == NULL)
		return NULL;
	if (ev->json != NULL)
		src = json_object_get(ev->json, "token");
	jout_lit(&j, "{\"iss\":");
	jout_str(&j, ev->iss);
	jout_lit(&j, ",\"jti\":");
	jout_str(&j, t->jti);
	jout_lit(&j, ",\"sub\":");
	jout_str(&j, t->sub);
	jout_lit(&j, ",\"client_id\":");
	jout_str(&j, t->client_id);
	if (t->scope != NULL) {
		jout_lit(&j, ",\"scope\":");
		jout_str(&j, t->scope);
	}
	if (t->naud > 0) {
		jout_lit(&j, ",\"aud\":");
		jo_aud(&j, t, src != NULL ? json_object_get(src, "aud") :
		    NULL);
	}
	jout_lit(&j, ",\"exp\":");
	jout_int(&j, (long long)t->exp);
	if (t->has_iat) {
		jout_lit(&j, ",\"iat\":");
		jout_int(&j, (long long)t->iat);
	}
	if (t->has_nbf) {
		jout_lit(&j, ",\"nbf\":");
		jout_int(&j, (long long)t->nbf);
	}
	if (t->kind == EV_KIND_REFRESH)
		jout_lit(&j, ",\"token_type\":\"refresh_token\"");
	else
		jout_lit(&j, ",\"token_type\":\"access_token\"");
	jo_parties(&j, t, src);
	jout_lit(&j, "}");
	jout_raw(&j, "", 1);	/* the NUL */
	if (j.full) {
		free(j.p);
		return NULL;
	}
	if (len != NULL)
		*len = j.len - 1;
	return j.p;
}
