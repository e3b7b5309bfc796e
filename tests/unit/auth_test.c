/*
 * auth: clients file parsing, Basic verification with crypt(3) hashes,
 * the credential cache and its invalidation on reload.
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <stdatomic.h>

#include <criterion/criterion.h>

#include "daemon/http/auth.h"

/* `openssl passwd -6 -salt saltsalt s3cret` */
#define H6 "$6$saltsalt$As4wrv0kZlfch1du9WeH7qhskyLriQWySXrZzynnvi46nFnN" \
	"xjdpl6ksRegrrKexvhIa/Iny8S8uF3fVWTMuC1"
/* `mkpasswd -m yescrypt s3cret` */
#define HY "$y$j9T$PRdmJgit35Czeu2o.t2ri0$yDPpajfTpPrzXQ4QHcOLb.n3ehPm0e" \
	"gL1psSRNebDC6"
/* `mkpasswd -m bcrypt s3cret` */
#define H2B "$2b$05$j7suWUjMCdbvIBB8k.nR9OkZoHpUjVC0/FZe32oYNNYnxpa3YuWZu"

/* base64("rs:s3cret"), ("rs:wrong"), ("ad:s3cret"), ("nobody:s3cret") */
#define RS_OK	"Basic cnM6czNjcmV0"
#define RS_BAD	"Basic cnM6d3Jvbmc="
#define AD_OK	"Basic YWQ6czNjcmV0"
#define NOBODY	"Basic bm9ib2R5OnMzY3JldA=="

static char	 path[64];

static int
chk(struct auth_ctx *c, const char *hdr, int role, const char **id)
{
	return auth_check(c, hdr, hdr == NULL ? 0 : strlen(hdr), role, id);
}
static struct auth *a;
static char	 err[256];

static void
write_file(const char *text)
{
	FILE	*fp;

	cr_assert_not_null(fp = fopen(path, "w"));
	cr_assert_eq(fputs(text, fp) >= 0, 1);
	cr_assert_eq(fclose(fp), 0);
}

static void
setup(void)
{
	int	 fd;

	(void)snprintf(path, sizeof(path), "/tmp/auth_test.XXXXXX");
	cr_assert_neq(fd = mkstemp(path), -1);
	close(fd);
	cr_assert_not_null(a = auth_new(err, sizeof(err)), "%s", err);
}

static void
teardown(void)
{
	auth_free(&a);
	unlink(path);
}

TestSuite(auth, .init = setup, .fini = teardown);

Test(auth, parses_comments_blank_lines_and_roles)
{
	write_file("# clients\n\n"
	    "rs:" H6 ":introspect   # a resource server\n"
	    "  ad : " HY " : admin, revoke ,introspect\n"
	    "\t# indented comment\n"
	    "bc:" H2B ":\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(auth_count(a), 3);
}

Test(auth, rejects_bad_lines_and_keeps_old_set)
{
	static const char *const bad[] = {
		"rs:" H6 "\n",				/* two fields */
		"rs:" H6 ":introspect,fly\n",		/* unknown role */
		"rs:notahash:introspect\n",		/* not crypt */
		":" H6 ":introspect\n",			/* empty id */
		"rs:" H6 ":admin\nrs:" HY ":admin\n",	/* duplicate */
		"rs:" H6 ":x:introspect\n",		/* colon in hash */
	};
	size_t	 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		err[0] = '\0';
		cr_expect_eq(auth_load(a, path, err, sizeof(err)), -1,
		    "accepted: %s", bad[i]);
		cr_expect_neq(strstr(err, ":1: ") != NULL ||
		    strstr(err, ":2: ") != NULL, 0, "error: %s", err);
		cr_expect_eq(auth_count(a), 1);
	}
	cr_expect_eq(auth_load(a, "/nonexistent/clients", err, sizeof(err)),
	    -1);
	cr_expect_eq(auth_count(a), 1);
}

Test(auth, verifies_sha512_yescrypt_bcrypt)
{
	struct auth_ctx	*c;
	const char	*id = NULL;

	write_file("rs:" H6 ":introspect\nad:" HY ":admin\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(c = auth_ctx_new(a));
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, &id),
	    AUTH_OK);
	cr_expect_str_eq(id, "rs");
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_ADMIN, NULL),
	    AUTH_FORBIDDEN);
	cr_expect_eq(chk(c, AD_OK, AUTH_ROLE_ADMIN, &id), AUTH_OK);
	cr_expect_str_eq(id, "ad");
	cr_expect_eq(chk(c, AD_OK, AUTH_ROLE_REVOKE, NULL),
	    AUTH_FORBIDDEN);
	write_file("bc:" H2B ":revoke\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	/* base64("bc:s3cret") */
	cr_expect_eq(chk(c, "Basic YmM6czNjcmV0", AUTH_ROLE_REVOKE,
	    NULL), AUTH_OK);
	auth_ctx_free(&c);
	cr_expect_null(c);
}

Test(auth, refuses_wrong_or_malformed_credentials)
{
	static const char *const bad[] = {
		RS_BAD, NOBODY, "", "Basic", "Basic ", "Bearer cnM6czNjcmV0",
		"Basic cnM6czNjcmV0!", "Basic cnMgczNjcmV0",	/* no colon */
		"Basic cnMAOnMzY3JldA==",			/* NUL */
	};
	struct auth_ctx	*c;
	size_t		 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(c = auth_ctx_new(a));
	cr_expect_eq(chk(c, NULL, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(chk(c, bad[i], AUTH_ROLE_INTROSPECT, NULL),
		    AUTH_UNAUTHORIZED, "accepted: %s", bad[i]);
	/* The scheme is case-insensitive (RFC 7617). */
	cr_expect_eq(chk(c, "basic cnM6czNjcmV0", AUTH_ROLE_INTROSPECT,
	    NULL), AUTH_OK);
	auth_ctx_free(&c);
}

Test(auth, generated_hashes_verify)
{
	struct crypt_data	 cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE], line[512];
	struct auth_ctx		*c;
	const char		*prefix[] = { "$6$", "$y$" };
	size_t			 i;

	for (i = 0; i < 2; i++) {
		memset(&cd, 0, sizeof(cd));
		cr_assert_not_null(crypt_gensalt_rn(prefix[i], 0, NULL, 0,
		    salt, sizeof(salt)));
		cr_assert_not_null(crypt_rn("s3cret", salt, &cd, sizeof(cd)));
		cr_assert_lt(snprintf(line, sizeof(line), "rs:%s:revoke\n",
		    cd.output), (int)sizeof(line));
		write_file(line);
		cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s",
		    err);
		cr_assert_not_null(c = auth_ctx_new(a));
		cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_REVOKE, NULL),
		    AUTH_OK, "%s", cd.output);
		cr_expect_eq(chk(c, RS_BAD, AUTH_ROLE_REVOKE, NULL),
		    AUTH_UNAUTHORIZED);
		auth_ctx_free(&c);
	}
}

Test(auth, cache_hit_after_verify_and_reload_invalidates)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(c = auth_ctx_new(a));
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_OK);
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_OK);
	cr_expect_eq(chk(c, RS_BAD, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	cr_expect_eq(chk(c, RS_BAD, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 2);
	cr_expect_eq(st.hits, 2);

	/* The same file again: a new generation, verified afresh. */
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_OK);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 3);

	/* A new password: the cached header no longer gets in. */
	write_file("rs:" HY ":admin\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_FORBIDDEN);
	write_file("other:" HY ":admin\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_ADMIN, NULL),
	    AUTH_UNAUTHORIZED);
	/* A failed load keeps the set and the cache. */
	write_file("broken\n");
	cr_expect_eq(auth_load(a, path, err, sizeof(err)), -1);
	auth_ctx_stats(c, &st);
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_ADMIN, NULL),
	    AUTH_UNAUTHORIZED);
	auth_ctx_free(&c);
}

Test(auth, empty_set_lets_nobody_in)
{
	struct auth_ctx	*c;

	cr_assert_eq(auth_load(a, NULL, err, sizeof(err)), 0);
	cr_assert_not_null(c = auth_ctx_new(a));
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	auth_ctx_free(&c);
	auth_ctx_free(NULL);
	auth_free(NULL);
}

Test(auth, refusals_never_evict_a_verified_client)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;
	char			 hdr[64];
	uint64_t		 hits;
	int			 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_not_null(c = auth_ctx_new(a));
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL), AUTH_OK);
	for (i = 0; i < 4 * AUTH_CACHE_SLOTS; i++) {
		cr_assert_lt(snprintf(hdr, sizeof(hdr), "Bearer %d", i),
		    (int)sizeof(hdr));
		cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL),
		    AUTH_UNAUTHORIZED);
	}
	auth_ctx_stats(c, &st);
	hits = st.hits;
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL), AUTH_OK);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 1, "verified again after the flood");
	cr_expect_eq(st.hits, hits + 1);
	auth_ctx_free(&c);
}

static atomic_int stop_checking;

static void *
checker(void *arg)
{
	struct auth_ctx	*c;
	long		 n = 0;

	cr_assert_not_null(c = auth_ctx_new(arg));
	while (!atomic_load(&stop_checking)) {
		/* Either set holds rs with the same password: always OK. */
		cr_assert_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
		    AUTH_OK);
		n++;
	}
	auth_ctx_free(&c);
	return (void *)n;
}

Test(auth, reload_while_checking_in_other_threads)
{
	pthread_t	 t[2];
	void		*n;
	int		 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	atomic_store(&stop_checking, 0);
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, checker, a), 0);
	for (i = 0; i < 40; i++) {
		write_file(i % 2 ? "rs:" H6 ":introspect\n" :
		    "x:" HY ":admin\nrs:" HY ":introspect,admin\n");
		cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s",
		    err);
		usleep(5000);
	}
	atomic_store(&stop_checking, 1);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], &n);
		cr_expect_gt((long)n, 0);
	}
}

/* ---- failed credentials cost the caller (SPEC section 4) -------------- */

static uint64_t	 fake_now = 1000;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* "Basic " and base64 of s, into out. */
static void
basic(char *out, size_t outlen, const char *s)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		 i, n = strlen(s), o;
	uint32_t	 v;

	cr_assert_lt(6 + (n + 2) / 3 * 4, outlen);
	memcpy(out, "Basic ", 6);
	for (i = 0, o = 6; i < n; i += 3) {
		v = (uint32_t)(unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = i + 1 < n ? alpha[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Basic credentials id:pw followed by n. */
static void
basic_n(char *out, size_t outlen, const char *id, const char *pw, int n)
{
	char	 s[128];

	cr_assert_lt(snprintf(s, sizeof(s), "%s:%s%d", id, pw, n),
	    (int)sizeof(s));
	basic(out, outlen, s);
}

/* Basic credentials of the unknown id "guess<n>". */
static void
guess_n(char *out, size_t outlen, int n)
{
	char	 s[128];

	cr_assert_lt(snprintf(s, sizeof(s), "guess%d:x", n), (int)sizeof(s));
	basic(out, outlen, s);
}

/* A hash of "s3cret" made with prefix and count (crypt_gensalt). */
static void
make_hash(char *out, size_t outlen, const char *prefix, unsigned long count)
{
	struct crypt_data	 cd;
	char			 salt[CRYPT_GENSALT_OUTPUT_SIZE];

	memset(&cd, 0, sizeof(cd));
	cr_assert_not_null(crypt_gensalt_rn(prefix, count, NULL, 0, salt,
	    sizeof(salt)));
	cr_assert_not_null(crypt_rn("s3cret", salt, &cd, sizeof(cd)));
	cr_assert_lt(snprintf(out, outlen, "%s", cd.output), (int)outlen);
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* CPU time of one auth_check of hdr, which must answer want. */
static uint64_t
cpu_of_check(struct auth_ctx *c, const char *hdr, int want)
{
	uint64_t	 t0 = thread_cpu_ns();

	cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL), want, "%s",
	    hdr);
	return thread_cpu_ns() - t0;
}

/*
 * The costly client is neither the first nor the last line: an unknown
 * id is verified against a dummy made like it (its algorithm and cost),
 * and costs about as much CPU as a wrong password of that client, far
 * more than one of a cheap client.  (The ratios are loose: bcrypt cost
 * 10 against 1000 rounds of SHA-512 differ a hundredfold.)
 */
Test(auth, unknown_id_costs_as_much_as_the_costliest_hash)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;
	char			 h6[256], h2[256], h5[256], file[1024];
	char			 dummy[256], hdr[128];
	uint64_t		 cheap, dear, unknown;

	make_hash(h6, sizeof(h6), "$6$", 1000);
	make_hash(h2, sizeof(h2), "$2b$", 10);
	make_hash(h5, sizeof(h5), "$6$", 0);
	cr_assert_lt(snprintf(file, sizeof(file), "cheap:%s:introspect\n"
	    "dear:%s:introspect\ncheap2:%s:introspect\n", h6, h2, h5),
	    (int)sizeof(file));
	write_file(file);
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(auth_dummy_hash(a, dummy, sizeof(dummy)), 0);
	cr_expect_eq(strncmp(dummy, "$2b$10$", 7), 0, "dummy %s", dummy);
	cr_expect_str_neq(dummy, h2);
	cr_assert_not_null(c = auth_ctx_new(a));

	basic(hdr, sizeof(hdr), "cheap:wrong");
	cheap = cpu_of_check(c, hdr, AUTH_UNAUTHORIZED);
	basic(hdr, sizeof(hdr), "dear:wrong");
	dear = cpu_of_check(c, hdr, AUTH_UNAUTHORIZED);
	basic(hdr, sizeof(hdr), "nobody:wrong");
	unknown = cpu_of_check(c, hdr, AUTH_UNAUTHORIZED);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 3);
	cr_expect_eq(st.dummies, 1);
	cr_expect_geq(unknown * 3, dear, "unknown %llu ns, known %llu ns",
	    (unsigned long long)unknown, (unsigned long long)dear);
	cr_expect_geq(unknown, 5 * cheap, "unknown %llu ns, cheap %llu ns",
	    (unsigned long long)unknown, (unsigned long long)cheap);
	/* The dummy's password is nobody's: the known one does not pass. */
	basic(hdr, sizeof(hdr), "nobody:s3cret");
	cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	auth_ctx_free(&c);
}

Test(auth, dummy_follows_a_reload)
{
	char	 h6[256], h2[256], file[1024], dummy[256];

	make_hash(h2, sizeof(h2), "$2b$", 6);
	make_hash(h6, sizeof(h6), "$6$", 1000);
	cr_assert_lt(snprintf(file, sizeof(file), "a:%s:\nb:%s:\n", h6, h2),
	    (int)sizeof(file));
	write_file(file);
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(auth_dummy_hash(a, dummy, sizeof(dummy)), 0);
	cr_expect_eq(strncmp(dummy, "$2b$06$", 7), 0, "dummy %s", dummy);
	cr_assert_lt(snprintf(file, sizeof(file), "a:%s:\n", h6),
	    (int)sizeof(file));
	write_file(file);
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(auth_dummy_hash(a, dummy, sizeof(dummy)), 0);
	cr_expect_eq(strncmp(dummy, "$6$rounds=1000$", 15), 0, "dummy %s",
	    dummy);
}

/* Past the budget of a client id: 429 without crypt(3), for a second. */
Test(auth, id_budget_spent_throttles_without_crypt)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;
	char			 hdr[128];
	int			 i;

	write_file("rs:" H6 ":introspect\nad:" H6 ":admin\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	auth_set_clock(a, fake_clock);
	auth_set_fail_rate(a, 3);
	cr_assert_not_null(c = auth_ctx_new(a));
	for (i = 0; i < 3; i++) {
		basic_n(hdr, sizeof(hdr), "rs", "wrong", i);
		cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL),
		    AUTH_UNAUTHORIZED);
	}
	basic_n(hdr, sizeof(hdr), "rs", "wrong", 3);
	cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_THROTTLED);
	/* Even the right password: its id's budget is spent. */
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_THROTTLED);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 3, "crypt(3) ran past the budget");
	cr_expect_eq(st.throttled, 2);
	/* Another id is not concerned (no peer given). */
	cr_expect_eq(chk(c, AD_OK, AUTH_ROLE_ADMIN, NULL), AUTH_OK);
	/* The next second, a new budget. */
	fake_now++;
	cr_expect_eq(chk(c, RS_OK, AUTH_ROLE_INTROSPECT, NULL), AUTH_OK);
	basic_n(hdr, sizeof(hdr), "rs", "wrong", 4);
	cr_expect_eq(chk(c, hdr, AUTH_ROLE_INTROSPECT, NULL),
	    AUTH_UNAUTHORIZED);
	auth_ctx_free(&c);
}

static int
chk_from(struct auth_ctx *c, const char *hdr, const char *peer)
{
	return auth_check_peer(c, hdr, strlen(hdr), AUTH_ROLE_INTROSPECT,
	    peer, 4, NULL);
}

/* Past the budget of a peer address: 429 whatever the id, for it only. */
Test(auth, peer_budget_spent_throttles_that_peer_only)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;
	char			 hdr[128];
	int			 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	auth_set_clock(a, fake_clock);
	auth_set_fail_rate(a, 4);
	cr_assert_not_null(c = auth_ctx_new(a));
	for (i = 0; i < 4; i++) {
		guess_n(hdr, sizeof(hdr), i);
		cr_expect_eq(chk_from(c, hdr, "\x0a\x00\x00\x01"),
		    AUTH_UNAUTHORIZED);
	}
	guess_n(hdr, sizeof(hdr), 99);
	cr_expect_eq(chk_from(c, hdr, "\x0a\x00\x00\x01"), AUTH_THROTTLED);
	cr_expect_eq(chk_from(c, RS_OK, "\x0a\x00\x00\x01"), AUTH_THROTTLED);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 4);
	/* Another peer is still verified. */
	cr_expect_eq(chk_from(c, hdr, "\x0a\x00\x00\x02"), AUTH_UNAUTHORIZED);
	cr_expect_eq(chk_from(c, RS_OK, "\x0a\x00\x00\x02"), AUTH_OK);
	auth_ctx_free(&c);
}

/*
 * A credential verified (cached) before the flood is accepted during
 * it, from the flooding peer itself, without a crypt(3) and without
 * touching the budget; and successful verifications spend no budget.
 */
Test(auth, cached_credentials_pass_a_spent_budget)
{
	struct auth_ctx		*c;
	struct auth_stats	 st;
	const char		*peer = "\x7f\x00\x00\x01";
	char			 hdr[128];
	uint64_t		 hits, verifies;
	int			 i;

	write_file("rs:" H6 ":introspect\n");
	cr_assert_eq(auth_load(a, path, err, sizeof(err)), 0, "%s", err);
	auth_set_clock(a, fake_clock);
	auth_set_fail_rate(a, 2);
	cr_assert_not_null(c = auth_ctx_new(a));
	/* Four good verifications (spaces make each header new). */
	for (i = 0; i < 4; i++) {
		cr_assert_lt(snprintf(hdr, sizeof(hdr), "Basic %*s%s", i, "",
		    RS_OK + 6), (int)sizeof(hdr));
		cr_expect_eq(chk_from(c, hdr, peer), AUTH_OK, "%s", hdr);
	}
	for (i = 0; i < 50; i++) {
		basic_n(hdr, sizeof(hdr), "rs", "wrong", i);
		cr_expect_eq(chk_from(c, hdr, peer), i < 2 ?
		    AUTH_UNAUTHORIZED : AUTH_THROTTLED, "guess %d", i);
	}
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, 6);
	hits = st.hits;
	verifies = st.verifies;
	cr_expect_eq(chk_from(c, RS_OK, peer), AUTH_OK);
	auth_ctx_stats(c, &st);
	cr_expect_eq(st.verifies, verifies);
	cr_expect_eq(st.hits, hits + 1);
	auth_ctx_free(&c);
}
