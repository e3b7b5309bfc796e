/*
 * event: strict decoding of the input events of SPEC section 2.
 *
 * One decoder for the whole message that dispatches on "type", with one
 * strict function per event type.  Unknown members are ignored; known
 * members are checked for type, size and range; duplicate keys anywhere
 * are rejected (JSON_REJECT_DUPLICATES); invalid UTF-8 is rejected.
 * Every failure gives a short machine-readable reason (the DLQ "error")
 * plus a human detail in errbuf.
 */
#ifndef EVENT_H
#define EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/graph/store.h"

#define EV_ISSUED	1
#define EV_REVOKED	2

#define EV_KIND_ACCESS	0
#define EV_KIND_REFRESH	1

/* Target and parent kinds: the store's (store/tbl_*.h), one list. */
#define EV_TGT_JTI	STORE_TGT_JTI
#define EV_TGT_HASH	STORE_TGT_HASH	/* target_hash holds it */
#define EV_TGT_SUB	STORE_TGT_SUB
#define EV_TGT_CLIENT	STORE_TGT_CLIENT
#define EV_TGT_ACTOR	STORE_TGT_ACTOR

#define EV_PARENT_SUBJECT	STORE_PARENT_SUBJECT
#define EV_PARENT_ACTOR		STORE_PARENT_ACTOR
#define EV_PARENT_PREVIOUS	STORE_PARENT_PREVIOUS
#define EV_NPARENTS		STORE_NPARENTS

/* Dead-letter reasons (consumers/event/tbl_reasons.h). */
enum ev_reason {
#define REASON(u, name)	EV_R_##u,
#include "consumers/event/tbl_reasons.h"
#undef REASON
	EV_NREASONS
};
/* The name of reason r ("invalid_json", ...); "other" if none.  O(1). */
const char	*event_reason_name(int r);
/* The reason named s, or EV_NREASONS if none.  O(EV_NREASONS). */
int		 event_reason_of(const char *s);

#define EV_MAX_ACT	64	/* act nesting accepted by the decoder */
#define EV_MAX_AUD	64
#define EV_DEFAULT_MAX	65536	/* message size limit, bytes */

#define EV_GRANT_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"

/* One level of an act chain, or a may_act object. */
struct ev_party {
	const char	*sub;		/* NULL when absent */
	const char	*iss;		/* NULL when absent */
};

struct ev_ref {
	const char	*iss;		/* NULL: the event's iss */
	const char	*jti;		/* NULL: no such parent */
};

/*
 * The claims of a token, from an event's "token" object or from a
 * stored claims blob (see event_claims()).  Strings point into the
 * decoder's JSON and live as long as it does.
 */
struct ev_token {
	const char	*jti;
	int		 has_hash;
	uint8_t		 hash[32];
	int		 kind;		/* EV_KIND_* */
	const char	*sub;
	const char	*client_id;
	const char	*aud[EV_MAX_AUD];
	size_t		 naud;		/* 0: no aud */
	const char	*scope;		/* NULL: none */
	int		 has_iat, has_nbf;
	int64_t		 iat, nbf, exp;
	struct ev_party	 act[EV_MAX_ACT]; /* act[0] is the outermost */
	size_t		 nact;
	int		 has_may_act;
	struct ev_party	 may_act;
};

struct event {
	int		 type;		/* EV_ISSUED, EV_REVOKED */
	const char	*id;
	int64_t		 time;
	const char	*iss;
	/* EV_ISSUED */
	const char	*grant_type;
	int		 is_exchange;	/* grant_type is EV_GRANT_EXCHANGE */
	struct ev_token	 tok;
	struct ev_ref	 parent[EV_NPARENTS];
	/* EV_REVOKED */
	int		 target_kind;	/* EV_TGT_* */
	const char	*target;	/* jti, sub, client_id, actor, hash */
	uint8_t		 target_hash[32];	/* EV_TGT_HASH: decoded */
	const char	*target_iss;	/* NULL: the event's iss */
	const char	*reason;	/* NULL: none */
	/* private */
	void		*json;
};

/*
 * Decode buf[0..len) (not NUL-terminated) into *ev, which owns what it
 * points to until event_clear().  maxlen: size limit (0: default).
 * Returns 0, or -1 with *reason set to a static string such as
 * "invalid_json", "too_large", "bad_version", "missing_field",
 * "bad_field", "unknown_type", and errbuf filled with the detail
 * ("token.exp: missing").  Cost: O(len).
 */
int	event_decode(const void *buf, size_t len, size_t maxlen,
	    struct event *ev, const char **reason, char *errbuf,
	    size_t errlen);
/* Free what ev owns; accepts an event never decoded (zeroed). */
void	event_clear(struct event *ev);

/*
 * The claims blob stored for an issued token: a compact JSON object
 * with the members introspection returns, in a fixed order: "iss",
 * "jti", "sub", "client_id", "scope", "aud", "exp", "iat", "nbf",
 * "token_type" ("access_token" or "refresh_token"), "act", "may_act"
 * (absent ones omitted; "iat" present only if the event had it; "aud"
 * as the event gave it, string or array).  Returns a malloc'd string
 * and its length in *len, or NULL on out of memory.
 */
char	*event_claims(const struct event *ev, size_t *len);

/*
 * Parse a claims blob made by event_claims() back into *tok (strings
 * point into *json, which the caller frees with event_json_free()).
 * 0 or -1.
 */
int	event_claims_parse(const void *blob, size_t len, struct ev_token *tok,
	    void **json);
void	event_json_free(void *json);

#endif
