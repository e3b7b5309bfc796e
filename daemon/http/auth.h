/*
 * auth: the HTTP clients of SPEC section 6 (a clients file of
 * `client_id:crypt_hash:roles` lines) and HTTP Basic verification.
 *
 * crypt(3) is slow by design, so each thread verifying credentials owns
 * an auth_ctx holding a bounded cache: the HMAC-SHA256 (random key per
 * process) of an Authorization header value maps to the client it
 * proved (or to "refused").  auth_load() swaps in a new client set and
 * bumps a generation, which empties every cache on its next use.
 *
 * Failed credentials cost the caller, not the server (SPEC section 4):
 * an unknown client id is checked against a dummy hash made, at load,
 * like the most costly hash of the file; and a shared budget of failed
 * verifications per client id and per peer address (fixed tables of
 * one-second windows) answers AUTH_THROTTLED without any crypt(3) once
 * spent.  A header already verified and cached never touches it.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_ROLE_INTROSPECT	0x01
#define AUTH_ROLE_REVOKE	0x02
#define AUTH_ROLE_ADMIN		0x04

/* Results of auth_check(). */
#define AUTH_OK			0
#define AUTH_UNAUTHORIZED	1	/* no or wrong credentials: 401 */
#define AUTH_FORBIDDEN		2	/* good credentials, no role: 403 */
#define AUTH_THROTTLED		3	/* failure budget spent: 429 */

#define AUTH_MAX_CLIENT		255	/* client_id bytes */
#define AUTH_CACHE_SLOTS	1024	/* per auth_ctx, in two-way sets */
#define AUTH_BUDGET_SLOTS	4096	/* per budget table (ids, peers) */
#define AUTH_FAIL_RATE		10	/* default failures a second */
#define AUTH_RETRY_AFTER	1	/* seconds: a budget's window */

struct auth;
struct auth_ctx;

struct auth_stats {
	uint64_t	 hits;		/* answered from the cache */
	uint64_t	 verifies;	/* crypt(3) runs */
	uint64_t	 dummies;	/* of them, for an unknown client id */
	uint64_t	 throttled;	/* AUTH_THROTTLED answers */
};

/* A client set, empty until auth_load().  NULL + errbuf on failure. */
struct auth	*auth_new(char *errbuf, size_t errlen);
/* Free and NULL *ap; accepts NULL.  Every auth_ctx must be freed first. */
void		 auth_free(struct auth **ap);
/*
 * Read the clients file at path (NULL: nobody) and, if every line is
 * good, swap it in (thread-safe; contexts notice on their next check).
 * On error keep the old set, fill errbuf ("FILE:LINE: why") and return
 * -1.  Cost: reads the file, and runs one crypt(3) per distinct hash
 * setting (algorithm and cost) in it, timed in CPU time, to make the
 * dummy hash of unknown ids like the most costly one.
 */
int		 auth_load(struct auth *, const char *path, char *errbuf,
		    size_t errlen);
/* Number of clients in the current set. */
size_t		 auth_count(struct auth *);
/*
 * Copy into buf the dummy hash unknown client ids are verified against
 * (made like the costliest hash of the current set) and return its
 * length, or -1 if it does not fit.  For the log and tests.  O(1).
 */
int		 auth_dummy_hash(struct auth *, char *buf, size_t len);
/*
 * Failed verifications allowed per second per client id and per peer
 * address (default AUTH_FAIL_RATE; at least 1).  Thread-safe.  O(1).
 */
void		 auth_set_fail_rate(struct auth *, unsigned int per_second);
/*
 * For tests: the clock of the budgets' windows, in seconds (NULL: the
 * monotonic clock).  Set it before any check.  O(1).
 */
void		 auth_set_clock(struct auth *, uint64_t (*now)(void));

/* A per-thread verifier with its cache (about 64 KiB).  NULL on ENOMEM. */
struct auth_ctx	*auth_ctx_new(struct auth *);
void		 auth_ctx_free(struct auth_ctx **cp);
/*
 * Check an Authorization header value of len bytes (NULL when absent;
 * need not be NUL-terminated) for role (an AUTH_ROLE_* bit), sent from
 * the peer address peer[0..peerlen) (raw address bytes; NULL: no peer
 * budget).  AUTH_OK, AUTH_UNAUTHORIZED, AUTH_FORBIDDEN or
 * AUTH_THROTTLED (the client id's or the peer's budget of failures is
 * spent this second: nothing was verified; retry after
 * AUTH_RETRY_AFTER s).  *client (may be NULL) gets the client id on
 * AUTH_OK and AUTH_FORBIDDEN, valid until the next call on this
 * context.  Cost: a HMAC on a cache hit; on a miss three HMACs, a lock
 * held for O(1) and at most one crypt(3), none when throttled.  Not
 * thread-safe: one context per thread.
 */
int		 auth_check_peer(struct auth_ctx *, const char *authorization,
		    size_t len, int role, const void *peer, size_t peerlen,
		    const char **client);
/* auth_check_peer() with no peer address: only the id's budget. */
int		 auth_check(struct auth_ctx *, const char *authorization,
		    size_t len, int role, const char **client);
void		 auth_ctx_stats(const struct auth_ctx *, struct auth_stats *);

#endif
