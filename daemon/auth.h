/*
 * auth: the HTTP clients of SPEC section 6 (a clients file of
 * `client_id:crypt_hash:roles` lines) and HTTP Basic verification.
 *
 * crypt(3) is slow by design, so each thread verifying credentials owns
 * an auth_ctx holding a bounded cache: the HMAC-SHA256 (random key per
 * process) of an Authorization header value maps to the client it
 * proved (or to "refused").  auth_load() swaps in a new client set and
 * bumps a generation, which empties every cache on its next use.
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
#define AUTH_FORBIDDEN		2	/* good credentials, role missing: 403 */

#define AUTH_MAX_CLIENT		255	/* client_id bytes */
#define AUTH_CACHE_SLOTS	1024	/* per auth_ctx, in two-way sets */

struct auth;
struct auth_ctx;

struct auth_stats {
	uint64_t	 hits;		/* answered from the cache */
	uint64_t	 verifies;	/* crypt(3) runs */
};

/* A client set, empty until auth_load().  NULL + errbuf on failure. */
struct auth	*auth_new(char *errbuf, size_t errlen);
/* Free and NULL *ap; accepts NULL.  Every auth_ctx must be freed first. */
void		 auth_free(struct auth **ap);
/*
 * Read the clients file at path (NULL: nobody) and, if every line is
 * good, swap it in (thread-safe; contexts notice on their next check).
 * On error keep the old set, fill errbuf ("FILE:LINE: why") and return
 * -1.  Cost: reads the file; no crypt(3).
 */
int		 auth_load(struct auth *, const char *path, char *errbuf,
		    size_t errlen);
/* Number of clients in the current set. */
size_t		 auth_count(struct auth *);

/* A per-thread verifier with its cache (about 64 KiB).  NULL on ENOMEM. */
struct auth_ctx	*auth_ctx_new(struct auth *);
void		 auth_ctx_free(struct auth_ctx **cp);
/*
 * Check an Authorization header value of len bytes (NULL when absent;
 * need not be NUL-terminated) for role (an AUTH_ROLE_* bit).  AUTH_OK, AUTH_UNAUTHORIZED or AUTH_FORBIDDEN;
 * *client (may be NULL) gets the client id on AUTH_OK and
 * AUTH_FORBIDDEN, valid until the next call on this context.  Cost: a
 * HMAC on a cache hit, one crypt(3) on a miss.  Not thread-safe: one
 * context per thread.
 */
int		 auth_check(struct auth_ctx *, const char *authorization,
		    size_t len, int role, const char **client);
void		 auth_ctx_stats(const struct auth_ctx *, struct auth_stats *);

#endif
