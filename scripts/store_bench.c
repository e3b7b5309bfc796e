/*
 * store-bench: micro-benchmark of the revocation cascade.
 *
 * Builds a tree of n tokens (fan-out f) through store_put() in large
 * transactions, in issue order (ids follow the tree) and in a random
 * order (ids shuffled relative to the tree, children often before their
 * parents), then times store_revoke() of the root in one transaction
 * including store_commit() (which writes the cascade outbox entry), and
 * the derivation of the revocation messages from that entry with
 * publish_entry().  Built with -DNO_PUBLISH it links against libstore
 * alone and skips the last step.
 *
 * usage: store-bench [-kMPW] [-n nodes] [-f fanout] [-b batch] [-s seed]
 *	  [-m map MiB] [-o issue|shuffled|both] [-p pg_seconds] dir
 * -P skips the message derivation.  -W also times a naive LMDB walk on
 * the same tree (the baseline: jti strings as keys, one mdb_get and one
 * mdb_put per token, children read one duplicate at a time), in
 * dir/naive.  -p gives the seconds PostgreSQL took to revoke the same
 * tree (measured by scripts/bench.sh), for the ratio.  -M adds one
 * tab-separated line per result for scripts: "result ORDER N REVOKE_S
 * COMMIT_S PUBLISH_S MSGS MSG_BYTES DB_BYTES" and "naive N SECONDS".
 * With STORE_BENCH_STOP set in the environment it stops itself
 * (SIGSTOP) just before and after the revocation, for a profiler to attach.
 * Each variant gets a fresh database in dir/<variant>, removed at the
 * end unless -k.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "consumers/text/b64.h"
#include "store/graph/store.h"
#ifndef NO_PUBLISH
#include "consumers/publish/publish.h"
#endif

#define ISS		"https://idp.example"
#define JTI_LEN		16
#define CLAIMS_LEN	150
#define IAT		1764380000


struct opts {
	size_t		 n;
	size_t		 fanout;
	size_t		 batch;
	size_t		 map_mib;	/* 0: the store's default */
	uint64_t	 seed;
	int		 keep;
	int		 nopublish;
	int		 naive;		/* -W: time the naive walk too */
	int		 machine;	/* -M: tab-separated lines too */
	double		 pg_s;		/* -p: PostgreSQL's seconds; 0 none */
	double		 naive_s;	/* measured by -W; 0: not run */
	const char	*order;
	const char	*dir;
};

struct result {
	const char	*name;
	double		 put_s;
	double		 revoke_s;
	double		 commit_s;
	double		 publish_s;	/* < 0: skipped */
	double		 deny_s;	/* set_own(root, DENIED), commit */
	double		 undeny_s;	/* set_own(root, ACTIVE), commit */
	uint64_t	 nrevoked;
	uint64_t	 cascade_ids;
	long		 msgs;
	size_t		 msg_bytes;
	size_t		 map_used;
};

static uint64_t	 rng;

static uint64_t
rand64(void)
{
	uint64_t	 z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "store-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* n random jtis of JTI_LEN base64url characters, one slot of 17 each. */
static char *
make_jtis(size_t n)
{
	uint64_t		 r[2];
	char			*j, enc[B64_LEN(sizeof(r)) + 1];
	size_t			 i;

	if ((j = malloc(n * (JTI_LEN + 1))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		r[0] = rand64();
		r[1] = rand64();
		(void)b64_encode(r, sizeof(r), enc, 1);
		memcpy(j + i * (JTI_LEN + 1), enc, JTI_LEN);
		j[i * (JTI_LEN + 1) + JTI_LEN] = '\0';
	}
	return j;
}

#define JTI(j, i)	((j) + (size_t)(i) * (JTI_LEN + 1))

/* The order of issue: identity, or a random permutation. */
static size_t *
make_order(size_t n, int shuffle)
{
	size_t	*p, i, k, tmp;

	if ((p = malloc(n * sizeof(*p))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n; shuffle && i > 1; i--) {
		k = rand64() % i;
		tmp = p[i - 1];
		p[i - 1] = p[k];
		p[k] = tmp;
	}
	return p;
}

/* A claims blob of about CLAIMS_LEN bytes, as the apply loop stores. */
static size_t
make_claims(char *buf, size_t len, size_t i)
{
	int	 n;

	n = snprintf(buf, len, "{\"aud\":\"agent-%zu\",\"scope\":\"files:read "
	    "files:write calendar:read\",\"act\":{\"sub\":\"agent-%zu\","
	    "\"act\":{\"sub\":\"orchestrator\"}},\"may_act\":{\"sub\":"
	    "\"agent-%zu\"},\"n\":%zu}", i % 97, i % 89, i % 83, i);
	if (n < 0 || (size_t)n >= len)
		die("claims truncated");
	return (size_t)n;
}

static void
put_one(struct store_txn *t, const char *jtis, size_t i, size_t fanout)
{
	static const char *const actors[] = { "agent", "orchestrator" };
	struct store_token	 tok;
	struct store_put_args	 a = { &tok, actors, 2, 0 };
	char			 claims[CLAIMS_LEN + 64], sub[32], cli[32];
	uint64_t		 h, id;
	size_t			 k;

	memset(&tok, 0, sizeof(tok));
	tok.iss = ISS;
	tok.jti = JTI(jtis, i);
	if (i > 0 && store_ref(t, ISS, JTI(jtis, (i - 1) / fanout),
	    &tok.parent[STORE_PARENT_SUBJECT]) != 0)
		die("store_ref: %s", store_strerror(t));
	snprintf(sub, sizeof(sub), "user-%zu", i % 1000);
	snprintf(cli, sizeof(cli), "agent-%zu", i % 89);
	tok.sub = sub;
	tok.client_id = cli;
	tok.iat = IAT;
	tok.exp = IAT + 3600;
	tok.has_hash = 1;
	for (k = 0; k < STORE_HASH_LEN; k += sizeof(h)) {
		h = rand64();
		memcpy(tok.hash + k, &h, sizeof(h));
	}
	tok.claims = claims;
	tok.claims_len = make_claims(claims, sizeof(claims), i);
	if (store_put(t, &a, &id) != 0)
		die("store_put %zu: %s", i, store_strerror(t));
}

/* Issue every token in order[], committing every o->batch. */
static double
build(struct store *s, const struct opts *o, const char *jtis,
    const size_t *order)
{
	struct store_txn	*t = NULL;
	double			 t0 = now();
	size_t			 j;

	for (j = 0; j < o->n; j++) {
		if (t == NULL && store_begin(s, 0, &t) != 0)
			die("store_begin");
		put_one(t, jtis, order[j], o->fanout);
		if ((j + 1) % o->batch == 0 && store_commit(&t) != 0)
			die("store_commit after %zu puts", j + 1);
	}
	if (t != NULL && store_commit(&t) != 0)
		die("store_commit");
	return now() - t0;
}

/* Set the root's own status and commit: the recomputation of all. */
static double
set_root(struct store *s, const char *jtis, uint8_t own, uint8_t want)
{
	struct store_txn	*t;
	struct store_token	 tok;
	uint64_t		 root, leaf;
	double			 t0 = now();

	if (store_begin(s, 0, &t) != 0 ||
	    store_lookup(t, ISS, JTI(jtis, 0), &root) != 0 ||
	    store_set_own(t, root, own, 1) != 0 || store_commit(&t) != 0)
		die("store_set_own of the root failed");
	t0 = now() - t0;
	if (store_begin(s, 1, &t) != 0 ||
	    store_lookup(t, ISS, JTI(jtis, 1), &leaf) != 0 ||
	    store_get(t, leaf, &tok) != 0 || tok.status != want)
		die("a child of the root is not %u after set_own", want);
	store_abort(&t);
	return t0;
}

/* Revoke the root in one transaction, commit included. */
static void
revoke_root(struct store *s, const char *jtis, struct result *r)
{
	struct store_cause	 c = { "e-bench", "benchmark", ISS, jtis, -1,
	    IAT + 60 };
	struct store_txn	*t;
	uint64_t		 root;
	uint32_t		 ref;
	double			 t0, t1;

	if (store_begin(s, 0, &t) != 0 ||
	    store_lookup(t, ISS, JTI(jtis, 0), &root) != 0)
		die("root not found");
	t0 = now();
	if (store_cause_add(t, &c, &ref) != 0 ||
	    store_revoke(t, root, ref, &r->nrevoked) != 0)
		die("store_revoke: %s", store_strerror(t));
	t1 = now();
	if (store_commit(&t) != 0)
		die("store_commit of the revocation");
	r->revoke_s = t1 - t0;
	r->commit_s = now() - t1;
}

#ifndef NO_PUBLISH
static int
count_msg(void *arg, int topic, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	struct result	*r = arg;

	(void)topic;
	(void)key;
	(void)klen;
	(void)val;
	r->msg_bytes += vlen;
	return 0;
}
#endif

/* Find the cascade entry; derive its messages if publish is linked. */
static void
derive(struct store *s, int nopublish, struct result *r)
{
	struct store_txn	*t;
	struct store_stats	 ss;
	const void		*data;
	size_t			 len;
	uint64_t		 seq;
	uint8_t			 kind;
	double			 t0;

	if (store_begin(s, 1, &t) != 0)
		die("store_begin");
	if (store_outbox_next(t, 0, &seq, &kind, &data, &len) != 0 ||
	    kind != STORE_OUT_CASCADE)
		die("no cascade entry in the outbox");
	r->cascade_ids = len / sizeof(uint64_t);
	r->publish_s = -1;
	t0 = now();
#ifndef NO_PUBLISH
	if (nopublish)
		goto done;
	if ((r->msgs = publish_entry(t, kind, data, len, count_msg, r)) < 0)
		die("publish_entry failed");
	r->publish_s = now() - t0;
done:
#else
	(void)t0;
	(void)nopublish;
#endif
	if (store_stats(t, &ss) == 0)
		r->map_used = ss.map_used;
	store_abort(&t);
}

static void
rm_db(const char *path)
{
	char	 f[4096];

	if (snprintf(f, sizeof(f), "%s/data.mdb", path) < (int)sizeof(f))
		unlink(f);
	if (snprintf(f, sizeof(f), "%s/lock.mdb", path) < (int)sizeof(f))
		unlink(f);
	rmdir(path);
}

static void
run(const struct opts *o, const char *name, int shuffle, struct result *r)
{
	char		 path[4096], err[256];
	struct store	*s;
	char		*jtis;
	size_t		*order;

	memset(r, 0, sizeof(*r));
	r->name = name;
	if (snprintf(path, sizeof(path), "%s/%s", o->dir, name) >=
	    (int)sizeof(path))
		die("path too long");
	rm_db(path);
	if ((s = store_open(path, o->map_mib << 20, err, sizeof(err))) == NULL)
		die("%s", err);
	jtis = make_jtis(o->n);
	order = make_order(o->n, shuffle);
	fprintf(stderr, "%s: issuing %zu tokens...\n", name, o->n);
	r->put_s = build(s, o, jtis, order);
	fprintf(stderr, "%s: denying and restoring the root...\n", name);
	r->deny_s = set_root(s, jtis, STORE_DENIED, STORE_DENIED);
	r->undeny_s = set_root(s, jtis, STORE_ACTIVE, STORE_ACTIVE);
	fprintf(stderr, "%s: revoking the root...\n", name);
	if (getenv("STORE_BENCH_STOP") != NULL)	/* attach a profiler */
		raise(SIGSTOP);
	revoke_root(s, jtis, r);
	if (getenv("STORE_BENCH_STOP") != NULL)
		raise(SIGSTOP);
	derive(s, o->nopublish, r);
	store_close(&s);
	if (!o->keep)
		rm_db(path);
	free(order);
	free(jtis);
}

/*
 * The naive walk, the baseline of the cascade: a plain LMDB layout with
 * jti strings as keys ("tok": jti -> status byte and claims; "kids": jti
 * -> child jtis, MDB_DUPSORT), and a breadth-first walk that reads and
 * rewrites each token's record and reads its children one duplicate at
 * a time.  The same tree as run() (parent of i is (i - 1) / fanout).
 */
static void
naive_put(MDB_txn *t, MDB_dbi *dbi, const char *jtis, size_t i,
    size_t fanout)
{
	char	 rec[CLAIMS_LEN + 64];
	MDB_val	 k, v;

	rec[0] = STORE_ACTIVE;
	k.mv_data = (void *)(uintptr_t)JTI(jtis, i);
	k.mv_size = JTI_LEN;
	v.mv_data = rec;
	v.mv_size = 1 + make_claims(rec + 1, sizeof(rec) - 1, i);
	if (mdb_put(t, dbi[0], &k, &v, 0) != 0)
		die("naive: mdb_put token");
	if (i == 0)
		return;
	v = k;
	k.mv_data = (void *)(uintptr_t)JTI(jtis, (i - 1) / fanout);
	if (mdb_put(t, dbi[1], &k, &v, 0) != 0)
		die("naive: mdb_put edge");
}

/* Revoke one token: read its record, write it back revoked. */
static int
naive_mark(MDB_txn *t, MDB_dbi tok, MDB_val *k)
{
	char	 rec[CLAIMS_LEN + 64];
	MDB_val	 v;

	if (mdb_get(t, tok, k, &v) != 0 || v.mv_size > sizeof(rec))
		die("naive: token missing");
	if (((const char *)v.mv_data)[0] == STORE_REVOKED)
		return 0;
	memcpy(rec, v.mv_data, v.mv_size);
	rec[0] = STORE_REVOKED;
	v.mv_data = rec;
	if (mdb_put(t, tok, k, &v, 0) != 0)
		die("naive: mdb_put status");
	return 1;
}

/* Breadth-first from the root; the queue holds copies of the jtis. */
static size_t
naive_walk(MDB_txn *t, MDB_dbi *dbi, const char *root, size_t n)
{
	char		*q;
	MDB_cursor	*c;
	MDB_val		 k, v;
	size_t		 head = 0, tail = 0, done = 0;
	int		 rc;

	if ((q = malloc(n * JTI_LEN)) == NULL ||
	    mdb_cursor_open(t, dbi[1], &c) != 0)
		die("naive: out of memory");
	memcpy(q, root, JTI_LEN);
	tail = 1;
	while (head < tail) {
		k.mv_data = q + head++ * JTI_LEN;
		k.mv_size = JTI_LEN;
		done += (size_t)naive_mark(t, dbi[0], &k);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
			if (tail >= n || v.mv_size != JTI_LEN)
				die("naive: not a tree");
			memcpy(q + tail++ * JTI_LEN, v.mv_data, JTI_LEN);
		}
	}
	mdb_cursor_close(c);
	free(q);
	return done;
}

static MDB_env *
naive_open(const char *path, size_t map_mib, MDB_dbi *dbi)
{
	MDB_env	*env;
	MDB_txn	*t;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		die("%s: %s", path, strerror(errno));
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 2) != 0 ||
	    mdb_env_set_mapsize(env, (map_mib ? map_mib : 65536) << 20) != 0 ||
	    mdb_env_open(env, path, 0, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, 0, &t) != 0 ||
	    mdb_dbi_open(t, "tok", MDB_CREATE, &dbi[0]) != 0 ||
	    mdb_dbi_open(t, "kids", MDB_CREATE | MDB_DUPSORT, &dbi[1]) != 0 ||
	    mdb_txn_commit(t) != 0)
		die("naive: cannot open %s", path);
	return env;
}

/* Build the tree in issue order, then time the walk, commit included. */
static double
naive_run(const struct opts *o)
{
	char		 path[4096];
	MDB_env		*env;
	MDB_txn		*t = NULL;
	MDB_dbi		 dbi[2];
	char		*jtis = make_jtis(o->n);
	size_t		 i, got;
	double		 t0;

	if (snprintf(path, sizeof(path), "%s/naive", o->dir) >=
	    (int)sizeof(path))
		die("path too long");
	rm_db(path);
	env = naive_open(path, o->map_mib, dbi);
	fprintf(stderr, "naive: issuing %zu tokens...\n", o->n);
	for (i = 0; i < o->n; i++) {
		if (t == NULL && mdb_txn_begin(env, NULL, 0, &t) != 0)
			die("naive: mdb_txn_begin");
		naive_put(t, dbi, jtis, i, o->fanout);
		if ((i + 1) % o->batch == 0 && mdb_txn_commit(t) != 0)
			die("naive: mdb_txn_commit");
		if ((i + 1) % o->batch == 0)
			t = NULL;
	}
	if (t != NULL && mdb_txn_commit(t) != 0)
		die("naive: mdb_txn_commit");
	fprintf(stderr, "naive: revoking the root...\n");
	t0 = now();
	if (mdb_txn_begin(env, NULL, 0, &t) != 0)
		die("naive: mdb_txn_begin");
	got = naive_walk(t, dbi, JTI(jtis, 0), o->n);
	if (mdb_txn_commit(t) != 0)
		die("naive: commit of the walk");
	t0 = now() - t0;
	if (got != o->n)
		die("naive: %zu revoked of %zu", got, o->n);
	mdb_env_close(env);
	if (!o->keep)
		rm_db(path);
	free(jtis);
	return t0;
}

static void
report_table(const struct opts *o, const struct result *r, size_t nr)
{
	double	 rc;
	size_t	 i;

	printf("\nstore-bench: %zu tokens, fan-out %zu, %zu puts a "
	    "transaction, LMDB in %s\n\n", o->n, o->fanout, o->batch, o->dir);
	printf("%-9s %10s %9s %9s %9s %12s %10s %9s %8s\n", "order",
	    "put/s", "revoke s", "commit s", "rev+com s", "nodes/s",
	    "publish s", "msgs/s", "db MiB");
	for (i = 0; i < nr; i++) {
		rc = r[i].revoke_s + r[i].commit_s;
		printf("%-9s %10.0f %9.3f %9.3f %9.3f %12.0f ", r[i].name,
		    (double)o->n / r[i].put_s, r[i].revoke_s, r[i].commit_s,
		    rc, (double)r[i].nrevoked / rc);
		if (r[i].publish_s >= 0)
			printf("%10.3f %9.0f", r[i].publish_s,
			    (double)r[i].msgs / r[i].publish_s);
		else
			printf("%10s %9s", "skipped", "-");
		printf(" %8.0f\n", (double)r[i].map_used / (1 << 20));
	}
	printf("\n");
}

/* The baselines measured in this run (-W, -p): ratios against them. */
static void
report_ratios(const struct opts *o, const struct result *r, double rc)
{
	if (o->naive_s > 0)
		printf("%-9s revoke+commit %.3f s: %.1fx the naive LMDB walk "
		    "(%.3f s)\n", r->name, rc, o->naive_s / rc, o->naive_s);
	if (o->pg_s > 0) {
		printf("%-9s revoke+commit %.3f s: %.1fx PostgreSQL (%.3f s)",
		    r->name, rc, o->pg_s / rc, o->pg_s);
		if (r->publish_s >= 0)
			printf("; with publish %.3f s: %.1fx PostgreSQL",
			    rc + r->publish_s, o->pg_s / (rc + r->publish_s));
		printf("\n");
	}
}

static void
report(const struct opts *o, const struct result *r, size_t nr)
{
	double	 rc;
	size_t	 i;

	report_table(o, r, nr);
	for (i = 0; i < nr; i++) {
		rc = r[i].revoke_s + r[i].commit_s;
		printf("%-9s newly revoked %llu, cascade entry %llu ids",
		    r[i].name, (unsigned long long)r[i].nrevoked,
		    (unsigned long long)r[i].cascade_ids);
		if (r[i].publish_s >= 0)
			printf(", %ld messages (%.0f bytes avg)", r[i].msgs,
			    r[i].msgs ? (double)r[i].msg_bytes / r[i].msgs :
			    0.0);
		printf("\n");
		report_ratios(o, &r[i], rc);
		printf("%-9s recomputation: root denied %.3f s, restored "
		    "%.3f s (set_own and commit)\n", r[i].name, r[i].deny_s,
		    r[i].undeny_s);
		if (o->machine)
			printf("result\t%s\t%zu\t%.6f\t%.6f\t%.6f\t%ld\t%zu\t"
			    "%zu\n", r[i].name, o->n, r[i].revoke_s,
			    r[i].commit_s, r[i].publish_s, r[i].msgs,
			    r[i].msg_bytes, r[i].map_used);
	}
	if (o->machine && o->naive_s > 0)
		printf("naive\t%zu\t%.6f\n", o->n, o->naive_s);
	printf("goal: >= 50x PostgreSQL on the same tree (scripts/bench.sh "
	    "measures it and passes -p)\n");
#ifdef NO_PUBLISH
	printf("note: built without consumers/publish: message derivation "
	    "skipped\n");
#endif
}

static size_t
num(const char *s, size_t min)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min)
		die("bad number: %s", s);
	return (size_t)v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: store-bench [-kMPW] [-n nodes] [-f fanout] "
	    "[-b batch] [-s seed] [-m map_MiB]\n"
	    "\t[-o issue|shuffled|both] [-p pg_seconds] dir\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct opts	 o = { 1000000, 8, 100000, 0, 1, 0, 0, 0, 0, 0, 0,
	    "both", NULL };
	struct result	 r[2];
	size_t		 nr = 0;
	int		 ch;

	while ((ch = getopt(argc, argv, "b:f:kMm:n:o:p:PWs:")) != -1) {
		switch (ch) {
		case 'b': o.batch = num(optarg, 1); break;
		case 'f': o.fanout = num(optarg, 1); break;
		case 'k': o.keep = 1; break;
		case 'M': o.machine = 1; break;
		case 'm': o.map_mib = num(optarg, 1); break;
		case 'n': o.n = num(optarg, 1); break;
		case 'o': o.order = optarg; break;
		case 'p': o.pg_s = strtod(optarg, NULL); break;
		case 'P': o.nopublish = 1; break;
		case 'W': o.naive = 1; break;
		case 's': o.seed = num(optarg, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	o.dir = argv[optind];
	if (mkdir(o.dir, 0700) == -1 && errno != EEXIST)
		die("%s: %s", o.dir, strerror(errno));
	rng = o.seed;
	if (strcmp(o.order, "issue") == 0 || strcmp(o.order, "both") == 0)
		run(&o, "issue", 0, &r[nr++]);
	if (strcmp(o.order, "shuffled") == 0 || strcmp(o.order, "both") == 0)
		run(&o, "shuffled", 1, &r[nr++]);
	if (nr == 0)
		usage();
	if (o.naive)
		o.naive_s = naive_run(&o);
	report(&o, r, nr);
	return 0;
}
