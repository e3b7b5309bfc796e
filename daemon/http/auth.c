/*
 * auth: clients file, HTTP Basic verification with crypt(3), and the
 * per-thread cache of verified Authorization header values.
 *
 * A client set is an immutable, reference-counted table.  auth_load()
 * builds a new one and swaps it in under a mutex, then bumps an atomic
 * generation; a context compares the generation on each check (one
 * atomic load) and, when it moved, takes a reference on the new table
 * and empties its cache.  So the hot path takes no lock.
 *
 * Unknown ids are verified against the table's dummy hash (see
 * table_dummy()).  The failure budgets are two fixed tables of buckets
 * (by a keyed HMAC of the client id, of the peer address) counting the
 * failures of a one-second window, shared by the threads under a mutex
 * taken only on a cache miss.  A verification takes one failure from
 * both buckets before crypt(3) and gives it back on success, so however
 * many threads race no bucket sees more failed crypt(3) runs a second
 * than its budget.  Keys sharing a bucket share its budget: the tables
 * err on the strict side only, and without the key nobody can aim at a
 * bucket.
 */
#include <ctype.h>
#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "consumers/log/log.h"
#include "consumers/text/b64.h"
#include "daemon/http/auth.h"

#define AUTH_MAX_FILE	(1024 * 1024)
#define AUTH_MAX_HDR	1024	/* longest Authorization value verified */
#define AUTH_KEY_LEN	32
#define MAC_LEN		32

#define SLOT_THROTTLED	(-3)	/* verify() only, never cached */
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
	char		*dummy;		/* like the costliest c[].hash */
};

struct auth_bucket {
	uint64_t	 sec;		/* its window */
	uint32_t	 fails;		/* failed verifications in it */
};

struct auth {
	pthread_mutex_t	 lock;
	struct auth_table *cur;
	_Atomic uint64_t gen;
	uint8_t		 key[AUTH_KEY_LEN];
	/* the failure budgets, under blk */
	pthread_mutex_t	 blk;
	unsigned int	 fail_rate;
	uint64_t	(*clock)(void);
	struct auth_bucket ids[AUTH_BUDGET_SLOTS];
	struct auth_bucket peers[AUTH_BUDGET_SLOTS];
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
	free(t->dummy);
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
	return s;
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
			return -1;
	}
	return 0;
}

static int
valid_id(const char *id)
{
	size_t	 i, n = strlen(id);

	if (n == 0 || n > AUTH_MAX_CLIENT)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)id[i]))
			return 0;
	return 1;
}

/* Parse one non-empty line into *c; NULL or the reason it is bad. */
static const char *
parse_line(char *line, struct auth_client *c)
{
	char	*h, *r;
	if ((h = strchr(line, ':')) == NULL ||
	    (r = strrchr(line, ':')) == h)
		return "expected client_id:crypt_hash:roles";
	*h++ = '\0';
	*r++ = '\0';
	c->id = trim(line);
	c->hash = trim(h);
	if (!valid_id(c->id))
		return "bad client_id";
	if (crypt_checksalt(c->hash) != CRYPT_SALT_OK)
		return "not a supported, strong crypt(3) hash";
	if (parse_roles(r, &c->roles) == -1)
		return "unknown role (introspect, revoke, admin)";
	return NULL;
}

/* The index of client id in t, or SLOT_REFUSED.  O(n). */
static int
find_client(const struct auth_table *t, const char *id)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->c[i].id, id) == 0)
			return (int)i;
	return SLOT_REFUSED;
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
		    find_client(t, t->c[t->n].id) >= 0)
			why = "duplicate client_id";
		if (why != NULL) {
			(void)snprintf(errbuf, errlen, "%s:%zu: %s", path,
			    lineno, why);
			return -1;
		}
		t->n++;
	}
	return 0;
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
		return NULL;
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
	return buf;
fail:
	if (buf == NULL)
		(void)snprintf(errbuf, errlen, "out of memory");
	free(buf);
	fclose(fp);
	return NULL;
}

/*
 * The length of the part of hash h that sets its cost: "$2b$12$" for
 * bcrypt; for the "$id$[params$]salt$checksum" formats, all before the
 * salt; for any other format the whole hash (so it is timed alone).
 */
static size_t
cost_key(const char *h)
{
	static const char *const known[] = { "$5$", "$6$", "$y$", "$gy$",
	    "$sha1$" };
	const char	*last, *p;
	size_t		 i, n = strlen(h);

	if (n > 7 && h[0] == '$' && h[1] == '2' && h[3] == '$' &&
	    h[6] == '$')
		return 7;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strncmp(h, known[i], strlen(known[i])) == 0)
			break;
	if (i == sizeof(known) / sizeof(known[0]) ||
	    (last = strrchr(h, '$')) == h)
		return n;
	for (p = last - 1; p > h && *p != '$'; p--)
		;
	return p > h ? (size_t)(p - h) + 1 : n;
}

static int
seen_setting(const struct auth_table *t, size_t i)
{
	size_t	 j, k = cost_key(t->c[i].hash);

	for (j = 0; j < i; j++)
		if (cost_key(t->c[j].hash) == k &&
		    strncmp(t->c[j].hash, t->c[i].hash, k) == 0)
			return 1;
	return 0;
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec	 ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_sec(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000000;
}

/*
 * Set t->dummy, the hash unknown ids are verified against, so that they
 * take as long to refuse as the costliest client: one crypt(3) per
 * distinct setting, timed in thread CPU time (no other thread's load
 * counts), and the output of the slowest is kept.  (Its password does
 * not matter: an unknown id is refused whatever it sends.)  0, or -1
 * out of memory or crypt(3) failing.
 */
static int
table_dummy(struct auth_table *t)
{
	struct crypt_data	*cd;
	const char		*out;
	uint64_t		 t0, spent, most = 0;
	size_t			 i;
	int			 rc = -1;

	if (t->n == 0)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	for (i = 0; i < t->n; i++) {
		if (seen_setting(t, i))
			continue;
		t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		out = crypt_rn("unknown", t->c[i].hash, cd, sizeof(*cd));
		spent = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
		if (out == NULL || out[0] == '*')
			goto fail;
		if (t->dummy != NULL && spent <= most)
			continue;
		free(t->dummy);
		if ((t->dummy = strdup(out)) == NULL)
			goto fail;
		most = spent;
	}
	rc = 0;
fail:
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return rc;
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
		return t;
	if ((t->text = read_file(path, &lines, errbuf, errlen)) == NULL)
		goto fail;
	if ((t->c = calloc(lines, sizeof(*t->c))) == NULL)
		goto oom;
	if (parse_table(t, path, errbuf, errlen) == -1)
		goto fail;
	if (table_dummy(t) == -1) {
		(void)snprintf(errbuf, errlen, "%s: cannot make the dummy "
		    "hash of unknown clients", path);
		goto fail;
	}
	return t;
oom:
	(void)snprintf(errbuf, errlen, "out of memory");
fail:
	table_unref(t);
	return NULL;
}

struct auth *
auth_new(char *errbuf, size_t errlen)
{
	struct auth	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		(void)snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if (RAND_bytes(a->key, sizeof(a->key)) != 1 ||
	    (a->cur = table_load(NULL, errbuf, errlen)) == NULL) {
		(void)snprintf(errbuf, errlen, "auth: no random key");
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->blk, NULL);
	atomic_init(&a->gen, 1);
	a->fail_rate = AUTH_FAIL_RATE;
	return a;
}

void
auth_free(struct auth **ap)
{
	struct auth	*a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	table_unref(a->cur);
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->blk);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a);
	*ap = NULL;
}

int
auth_load(struct auth *a, const char *path, char *errbuf, size_t errlen)
{
	struct auth_table	*t, *old;

	if ((t = table_load(path, errbuf, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&a->lock);
	old = a->cur;
	a->cur = t;
	atomic_fetch_add(&a->gen, 1);
	pthread_mutex_unlock(&a->lock);
	table_unref(old);
	return 0;
}

size_t
auth_count(struct auth *a)
{
	size_t	 n;

	pthread_mutex_lock(&a->lock);
	n = a->cur->n;
	pthread_mutex_unlock(&a->lock);
	return n;
}

int
auth_dummy_hash(struct auth *a, char *buf, size_t len)
{
	const char	*d;
	int		 n;

	pthread_mutex_lock(&a->lock);
	d = a->cur->dummy != NULL ? a->cur->dummy : dummy_hash;
	n = snprintf(buf, len, "%s", d);
	pthread_mutex_unlock(&a->lock);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

void
auth_set_fail_rate(struct auth *a, unsigned int per_second)
{
	pthread_mutex_lock(&a->blk);
	a->fail_rate = per_second > 0 ? per_second : 1;
	pthread_mutex_unlock(&a->blk);
}

void
auth_set_clock(struct auth *a, uint64_t (*now)(void))
{
	pthread_mutex_lock(&a->blk);
	a->clock = now;
	pthread_mutex_unlock(&a->blk);
}

struct auth_ctx *
auth_ctx_new(struct auth *a)
{
	struct auth_ctx	*c;
	EVP_MAC		*mac = NULL;
	OSSL_PARAM	 params[2];
	size_t		 i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
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
	return c;
fail:
	EVP_MAC_free(mac);
	auth_ctx_free(&c);
	return NULL;
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

/* The HMAC of tag (one byte: what v is) and v[0..len). */
static int
tag_mac(struct auth_ctx *c, unsigned char tag, const void *v, size_t len,
    uint8_t mac[MAC_LEN])
{
	size_t	 outl;

	if (EVP_MAC_init(c->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(c->mac, &tag, 1) != 1 ||
	    EVP_MAC_update(c->mac, v, len) != 1 ||
	    EVP_MAC_final(c->mac, mac, &outl, MAC_LEN) != 1 || outl != MAC_LEN)
		return -1;
	return 0;
}

static int
hash_equal(const char *out, const char *hash)
{
	size_t	 n = strlen(hash);

	return out != NULL && out[0] != '*' && strlen(out) == n &&
	    CRYPTO_memcmp(out, hash, n) == 0;
}

/*
 * Decode "Basic <base64 id:password>" into buf (NUL-terminated id, then
 * the password); the password, or NULL if the value is malformed.
 */
static char *
basic_decode(const char *v, size_t len, char *buf, size_t buflen)
{
	char	*pw;
	int	 n;

	if (len < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return NULL;
	for (v += 6, len -= 6; len > 0 && *v == ' '; v++, len--)
		;
	if ((n = b64_decode(v, len, buf, buflen - 1, 0)) < 0)
		return NULL;
	buf[n] = '\0';
	if ((size_t)n != strlen(buf) || (pw = strchr(buf, ':')) == NULL)
		return NULL;
	*pw++ = '\0';
	return pw;
}

/* The bucket of v[0..len) (tag: what it is) in table tab, or NULL. */
static struct auth_bucket *
bucket_of(struct auth_ctx *c, struct auth_bucket *tab, unsigned char tag,
    const void *v, size_t len)
{
	uint8_t		 mac[MAC_LEN];
	uint32_t	 h;

	if (v == NULL || tag_mac(c, tag, v, len, mac) == -1)
		return NULL;
	h = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 |
	    (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
	return &tab[h % AUTH_BUDGET_SLOTS];
}

/* The failures of b in the window now (a new window starts at 0). */
static uint32_t *
bucket_fails(struct auth_bucket *b, uint64_t now)
{
	if (b->sec != now) {
		b->sec = now;
		b->fails = 0;
	}
	return &b->fails;
}

/*
 * Take one failure from the budgets of id and of the peer (NULL: none)
 * before a verification: 0, or -1 when either is spent (nothing taken).
 * *now gets the window, for budget_give().  O(1) under a->blk.
 */
static int
budget_take(struct auth_ctx *c, struct auth_bucket *bi,
    struct auth_bucket *bp, uint64_t *now)
{
	struct auth	*a = c->a;
	uint32_t	*fi, *fp = NULL;
	int		 rc = -1;

	pthread_mutex_lock(&a->blk);
	*now = a->clock != NULL ? a->clock() : mono_sec();
	fi = bucket_fails(bi, *now);
	if (bp != NULL)
		fp = bucket_fails(bp, *now);
	if (*fi < a->fail_rate && (fp == NULL || *fp < a->fail_rate)) {
		(*fi)++;
		if (fp != NULL)
			(*fp)++;
		rc = 0;
	}
	pthread_mutex_unlock(&a->blk);
	return rc;
}

/* Give back what budget_take() took for a verification that passed. */
static void
budget_give(struct auth_ctx *c, struct auth_bucket *bi,
    struct auth_bucket *bp, uint64_t now)
{
	pthread_mutex_lock(&c->a->blk);
	bi->fails -= bi->sec == now && bi->fails > 0;
	if (bp != NULL)
		bp->fails -= bp->sec == now && bp->fails > 0;
	pthread_mutex_unlock(&c->a->blk);
}

/*
 * Verify "Basic <base64 id:password>" from peer (NULL: unknown): the
 * client index, SLOT_REFUSED, or SLOT_THROTTLED when a budget is spent
 * (no crypt(3) then).
 */
static int
verify(struct auth_ctx *c, const char *v, size_t len, const void *peer,
    size_t peerlen)
{
	char			 buf[AUTH_MAX_HDR];
	struct auth_bucket	*bi, *bp;
	const char		*hash;
	char			*pw;
	uint64_t		 now;
	int			 i, good;

	if ((pw = basic_decode(v, len, buf, sizeof(buf))) == NULL) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return SLOT_REFUSED;
	}
	bp = bucket_of(c, c->a->peers, 'p', peer, peerlen);
	if ((bi = bucket_of(c, c->a->ids, 'i', buf, strlen(buf))) == NULL ||
	    budget_take(c, bi, bp, &now) == -1) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return SLOT_THROTTLED;
	}
	if ((i = find_client(c->t, buf)) >= 0)
		hash = c->t->c[i].hash;
	else {
		hash = c->t->dummy != NULL ? c->t->dummy : dummy_hash;
		c->st.dummies++;
	}
	c->st.verifies++;
	good = hash_equal(crypt_rn(pw, hash, c->cd, sizeof(*c->cd)), hash);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (good && i >= 0) {
		budget_give(c, bi, bp, now);
		return i;
	}
	return SLOT_REFUSED;
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
			return &set[k];
		}
	return NULL;
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
	return auth_check_peer(c, authz, len, role, NULL, 0, client);
}

int
auth_check_peer(struct auth_ctx *c, const char *authz, size_t len,
    int role, const void *peer, size_t peerlen, const char **client)
{
	struct auth_slot	*set, *s;
	uint8_t			 mac[MAC_LEN];
	int			 i;

	ctx_sync(c);
	if (authz == NULL || len > AUTH_MAX_HDR ||
	    tag_mac(c, 'h', authz, len, mac) == -1)
		return AUTH_UNAUTHORIZED;
	set = &c->slot[2 * ((mac[0] | (mac[1] << 8)) % (AUTH_CACHE_SLOTS / 2))];
	if ((s = cache_find(c, set, mac)) != NULL)
		i = s->client;
	else {
		i = verify(c, authz, len, peer, peerlen);
		if (i == SLOT_THROTTLED) {
			c->st.throttled++;
			return AUTH_THROTTLED;
		}
		cache_put(set, mac, i);
	}
	if (i < 0)
		return AUTH_UNAUTHORIZED;
	if (client != NULL)
		*client = c->t->c[i].id;
	return (c->t->c[i].roles & role) ? AUTH_OK : AUTH_FORBIDDEN;
}
