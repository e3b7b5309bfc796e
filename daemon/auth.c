/*
 * auth: clients file, HTTP Basic verification with crypt(3), and the
 * per-thread cache of verified Authorization header values.
 *
 * A client set is an immutable, reference-counted table.  auth_load()
 * builds a new one and swaps it in under a mutex, then bumps an atomic
 * generation; a context compares the generation on each check (one
 * atomic load) and, when it moved, takes a reference on the new table
 * and empties its cache.  So the hot path takes no lock.
 */
#include <ctype.h>
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "consumers/log.h"
#include "daemon/auth.h"

#define AUTH_MAX_FILE	(1024 * 1024)
#define AUTH_MAX_HDR	1024	/* longest Authorization value verified */
#define AUTH_KEY_LEN	32
#define MAC_LEN		32

#define SLOT_EMPTY	(-2)
#define SLOT_REFUSED	(-1)

/* Hash of an unknown client's verification, to spend the same time. */
static const char dummy_hash[] = "$6$revokerd.dummy$";

struct auth_client {
	const char	*id;
	const char	*hash;
	int		 roles;
};

struct auth_table {
	_Atomic int	 refs;
	char		*text;		/* the file, cut in place */
	struct auth_client *c;
	size_t		 n;
};

struct auth {
	pthread_mutex_t	 lock;
	struct auth_table *cur;
	_Atomic uint64_t gen;
	uint8_t		 key[AUTH_KEY_LEN];
};

struct auth_slot {
	uint8_t		 mac[MAC_LEN];
	int32_t		 client;	/* index, SLOT_REFUSED, SLOT_EMPTY */
};

struct auth_ctx {
	struct auth	*a;
	struct auth_table *t;
	uint64_t	 gen;
	EVP_MAC_CTX	*mac;
	struct crypt_data *cd;
	struct auth_stats st;
	struct auth_slot slot[AUTH_CACHE_SLOTS];
};

static void
table_unref(struct auth_table *t)
{
	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->text);
	free(t->c);
	free(t);
}

static char *
trim(char *s)
{
	char	*e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

static int
parse_roles(char *s, int *roles)
{
	char	*r;

	*roles = 0;
	while ((r = strsep(&s, ",")) != NULL) {
		r = trim(r);
		if (strcmp(r, "introspect") == 0)
			*roles |= AUTH_ROLE_INTROSPECT;
		else if (strcmp(r, "revoke") == 0)
			*roles |= AUTH_ROLE_REVOKE;
		else if (strcmp(r, "admin") == 0)
			*roles |= AUTH_ROLE_ADMIN;
		else if (*r != '\0')
			return (-1);
	}
	return (0);
}

static int
valid_id(const char *id)
{
	size_t	 i, n = strlen(id);

	if (n == 0 || n > AUTH_MAX_CLIENT)
		return (0);
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)id[i]))
			return (0);
	return (1);
}

/* Parse one non-empty line into *c; NULL or the reason it is bad. */
static const char *
parse_line(char *line, struct auth_client *c)
{
	char	*h, *r;
	if ((h = strchr(line, ':')) == NULL ||
	    (r = strrchr(line, ':')) == h)
		return ("expected client_id:crypt_hash:roles");
	*h++ = '\0';
	*r++ = '\0';
	c->id = trim(line);
	c->hash = trim(h);
	if (!valid_id(c->id))
		return ("bad client_id");
	if (crypt_checksalt(c->hash) != CRYPT_SALT_OK)
		return ("not a supported, strong crypt(3) hash");
	if (parse_roles(r, &c->roles) == -1)
		return ("unknown role (introspect, revoke, admin)");
	return (NULL);
}

static int
dup_id(const struct auth_table *t, const char *id)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->c[i].id, id) == 0)
			return (1);
	return (0);
}

/* Cut t->text into lines and fill t->c.  0 or -1 with errbuf filled. */
static int
parse_table(struct auth_table *t, const char *path, char *errbuf,
    size_t errlen)
{
	char		*p = t->text, *line, *hash;
	const char	*why;
	size_t		 lineno = 0;

	while ((line = strsep(&p, "\n")) != NULL) {
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		line = trim(line);
		if (*line == '\0')
			continue;
		if ((why = parse_line(line, &t->c[t->n])) == NULL &&
		    dup_id(t, t->c[t->n].id))
			why = "duplicate client_id";
		if (why != NULL) {
			(void)snprintf(errbuf, errlen, "%s:%zu: %s", path,
			    lineno, why);
			return (-1);
		}
		t->n++;
	}
	return (0);
}

/* Read the whole file (bounded) into a NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *lines, char *errbuf, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL;
	size_t	 n, i;

	if ((fp = fopen(path, "r")) == NULL) {
		(void)snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(AUTH_MAX_FILE + 1)) == NULL)
		goto fail;
	n = fread(buf, 1, AUTH_MAX_FILE + 1, fp);
	if (ferror(fp) || n > AUTH_MAX_FILE || memchr(buf, '\0', n) != NULL) {
		(void)snprintf(errbuf, errlen, "%s: unreadable, too large "
		    "or binary", path);
		goto fail;
	}
	buf[n] = '\0';
	for (*lines = 1, i = 0; i < n; i++)
		*lines += buf[i] == '\n';
	fclose(fp);
	return (buf);
fail:
	if (buf == NULL)
		(void)snprintf(errbuf, errlen, "out of memory");
	free(buf);
	fclose(fp);
	return (NULL);
}

static struct auth_table *
table_load(const char *path, char *errbuf, size_t errlen)
{
	struct auth_table	*t;
	size_t			 lines = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		goto oom;
	atomic_init(&t->refs, 1);
	if (path == NULL)
		return (t);
	if ((t->text = read_file(path, &lines, errbuf, errlen)) == NULL)
		goto fail;
	if ((t->c = calloc(lines, sizeof(*t->c))) == NULL)
		goto oom;
	if (parse_table(t, path, errbuf, errlen) == -1)
		goto fail;
	return (t);
oom:
	(void)snprintf(errbuf, errlen, "out of memory");
fail:
	table_unref(t);
	return (NULL);
}

struct auth *
auth_new(char *errbuf, size_t errlen)
{
	struct auth	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		(void)snprintf(errbuf, errlen, "out of memory");
		return (NULL);
	}
	if (RAND_bytes(a->key, sizeof(a->key)) != 1 ||
	    (a->cur = table_load(NULL, errbuf, errlen)) == NULL) {
		(void)snprintf(errbuf, errlen, "auth: no random key");
		free(a);
		return (NULL);
	}
	pthread_mutex_init(&a->lock, NULL);
	atomic_init(&a->gen, 1);
	return (a);
}

void
auth_free(struct auth **ap)
{
	struct auth	*a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	table_unref(a->cur);
	pthread_mutex_destroy(&a->lock);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a);
	*ap = NULL;
}

int
auth_load(struct auth *a, const char *path, char *errbuf, size_t errlen)
{
	struct auth_table	*t, *old;

	if ((t = table_load(path, errbuf, errlen)) == NULL)
		return (-1);
	pthread_mutex_lock(&a->lock);
	old = a->cur;
	a->cur = t;
	atomic_fetch_add(&a->gen, 1);
	pthread_mutex_unlock(&a->lock);
	table_unref(old);
	return (0);
}

size_t
auth_count(struct auth *a)
{
	size_t	 n;

	pthread_mutex_lock(&a->lock);
	n = a->cur->n;
	pthread_mutex_unlock(&a->lock);
	return (n);
}

struct auth_ctx *
auth_ctx_new(struct auth *a)
{
	struct auth_ctx	*c;
	EVP_MAC		*mac = NULL;
	OSSL_PARAM	 params[2];
	size_t		 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->a = a;
	for (i = 0; i < AUTH_CACHE_SLOTS; i++)
		c->slot[i].client = SLOT_EMPTY;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((c->cd = calloc(1, sizeof(*c->cd))) == NULL ||
	    (mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (c->mac = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(c->mac, a->key, sizeof(a->key), params) != 1)
		goto fail;
	EVP_MAC_free(mac);
	return (c);
fail:
	EVP_MAC_free(mac);
	auth_ctx_free(&c);
	return (NULL);
}

void
auth_ctx_free(struct auth_ctx **cp)
{
	struct auth_ctx	*c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	table_unref(c->t);
	EVP_MAC_CTX_free(c->mac);
	if (c->cd != NULL)
		OPENSSL_cleanse(c->cd, sizeof(*c->cd));
	free(c->cd);
	OPENSSL_cleanse(c->slot, sizeof(c->slot));
	free(c);
	*cp = NULL;
}

void
auth_ctx_stats(const struct auth_ctx *c, struct auth_stats *st)
{
	*st = c->st;
}

/* Follow the current client set if it changed: empty the cache. */
static void
ctx_sync(struct auth_ctx *c)
{
	struct auth	*a = c->a;
	size_t		 i;

	if (atomic_load_explicit(&a->gen, memory_order_acquire) == c->gen)
		return;
	table_unref(c->t);
	pthread_mutex_lock(&a->lock);
	c->t = a->cur;
	atomic_fetch_add(&c->t->refs, 1);
	c->gen = atomic_load(&a->gen);
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < AUTH_CACHE_SLOTS; i++)
		c->slot[i].client = SLOT_EMPTY;
}

static int
hdr_mac(struct auth_ctx *c, const char *v, size_t len, uint8_t mac[MAC_LEN])
{
	size_t	 outl;

	if (EVP_MAC_init(c->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(c->mac, (const unsigned char *)v, len) != 1 ||
	    EVP_MAC_final(c->mac, mac, &outl, MAC_LEN) != 1 || outl != MAC_LEN)
		return (-1);
	return (0);
}

/* Base64 (standard alphabet, padded) into out; its length or -1. */
static int
b64_decode(const char *s, size_t n, char *out, size_t outlen)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*p;
	uint32_t	 acc = 0;
	size_t		 i, o = 0, bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || (p = strchr(alpha, s[i])) == NULL)
			return (-1);
		acc = (acc << 6) | (uint32_t)(p - alpha);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o >= outlen)
				return (-1);
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return ((int)o);
}

static int
find_client(const struct auth_table *t, const char *id)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->c[i].id, id) == 0)
			return ((int)i);
	return (SLOT_REFUSED);
}

static int
hash_equal(const char *out, const char *hash)
{
	size_t	 n = strlen(hash);

	return (out != NULL && out[0] != '*' && strlen(out) == n &&
	    CRYPTO_memcmp(out, hash, n) == 0);
}

/* Verify "Basic <base64 id:password>"; the client index or refused. */
static int
verify(struct auth_ctx *c, const char *v, size_t len)
{
	char		 buf[AUTH_MAX_HDR];
	const char	*hash;
	char		*pw;
	int		 n, i, good;

	if (len < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return (SLOT_REFUSED);
	for (v += 6, len -= 6; len > 0 && *v == ' '; v++, len--)
		;
	if ((n = b64_decode(v, len, buf, sizeof(buf) - 1)) < 0)
		return (SLOT_REFUSED);
	buf[n] = '\0';
	if ((size_t)n != strlen(buf) || (pw = strchr(buf, ':')) == NULL) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return (SLOT_REFUSED);
	}
	*pw++ = '\0';
	i = find_client(c->t, buf);
	if (i >= 0)
		hash = c->t->c[i].hash;
	else
		hash = c->t->n > 0 ? c->t->c[0].hash : dummy_hash;
	c->st.verifies++;
	good = hash_equal(crypt_rn(pw, hash, c->cd, sizeof(*c->cd)), hash);
	OPENSSL_cleanse(buf, sizeof(buf));
	return (good && i >= 0 ? i : SLOT_REFUSED);
}

/* The cached result for mac in its two-way set, or NULL. */
static struct auth_slot *
cache_find(struct auth_ctx *c, struct auth_slot *set,
    const uint8_t mac[MAC_LEN])
{
	int	 k;

	for (k = 0; k < 2; k++)
		if (set[k].client != SLOT_EMPTY &&
		    CRYPTO_memcmp(set[k].mac, mac, MAC_LEN) == 0) {
			c->st.hits++;
			return (&set[k]);
		}
	return (NULL);
}

/*
 * Remember a result.  A refusal takes an empty or refused way only, so
 * that no flood of bad headers makes the good ones pay crypt(3) again;
 * a verified client takes an empty or refused way, else one by a bit
 * of its MAC.
 */
static void
cache_put(struct auth_slot *set, const uint8_t mac[MAC_LEN], int client)
{
	struct auth_slot	*s = NULL;
	int			 k;

	for (k = 0; k < 2 && s == NULL; k++)
		if (set[k].client < 0)
			s = &set[k];
	if (s == NULL && client >= 0)
		s = &set[mac[2] & 1];
	if (s == NULL)
		return;
	memcpy(s->mac, mac, MAC_LEN);
	s->client = client;
}

int
auth_check(struct auth_ctx *c, const char *authz, size_t len, int role,
    const char **client)
{
	struct auth_slot	*set, *s;
	uint8_t			 mac[MAC_LEN];
	int			 i;

	ctx_sync(c);
	if (authz == NULL || len > AUTH_MAX_HDR ||
	    hdr_mac(c, authz, len, mac) == -1)
		return (AUTH_UNAUTHORIZED);
	set = &c->slot[2 * ((mac[0] | (mac[1] << 8)) % (AUTH_CACHE_SLOTS / 2))];
	if ((s = cache_find(c, set, mac)) != NULL)
		i = s->client;
	else {
		i = verify(c, authz, len);
		cache_put(set, mac, i);
	}
	if (i < 0)
		return (AUTH_UNAUTHORIZED);
	if (client != NULL)
		*client = c->t->c[i].id;
	return ((c->t->c[i].roles & role) ? AUTH_OK : AUTH_FORBIDDEN);
}
