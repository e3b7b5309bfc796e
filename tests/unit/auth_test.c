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

#include "daemon/auth.h"

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
	return (auth_check(c, hdr, hdr == NULL ? 0 : strlen(hdr), role, id));
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
	return ((void *)n);
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
