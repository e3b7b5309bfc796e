/*
 * publish_test: outbox entries to messages, over a fresh LMDB store:
 * a three-level cascade (fields, id, path, depth), a revocation by
 * attribute, a token born revoked, dead letters and violations as is.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "consumers/apply/apply.h"
#include "consumers/publish/publish.h"
#include "consumers/text/utf8.h"
#include "store/graph/store.h"

#define ISS	"https://idp.example"
#define MAXMSG	1024

struct msg {
	int	 topic;
	char	*key;		/* NULL: none */
	char	*val;
	json_t	*json;		/* val parsed, for revocations */
};

static char		 dir[] = "/tmp/publish_test.XXXXXX";
static struct store	*st;
static struct msg	 msgs[MAXMSG];
static size_t		 nmsgs;

static void
setup(void)
{
	char	err[256];

	cr_assert_not_null(mkdtemp(dir));
	st = store_open(dir, (size_t)1 << 26, err, sizeof(err));
	cr_assert_not_null(st, "store_open: %s", err);
}

static void
reset_msgs(void)
{
	size_t	i;

	for (i = 0; i < nmsgs; i++) {
		free(msgs[i].key);
		free(msgs[i].val);
		json_decref(msgs[i].json);
	}
	nmsgs = 0;
}

static void
teardown(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 p[512];

	store_close(&st);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && snprintf(p, sizeof(p),
			    "%s/%s", dir, de->d_name) < (int)sizeof(p))
				unlink(p);
		closedir(d);
	}
	rmdir(dir);
	reset_msgs();
}

TestSuite(publish, .init = setup, .fini = teardown);

static int
collect(void *arg, int topic, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	struct msg	*m;

	(void)arg;
	cr_assert_lt(nmsgs, MAXMSG);
	m = &msgs[nmsgs++];
	m->topic = topic;
	m->key = key != NULL ? strndup(key, klen) : NULL;
	m->val = strndup(val, vlen);
	cr_assert_not_null(m->val);
	cr_assert_eq(strlen(m->val), vlen, "NUL inside the message");
	m->json = json_loadb(val, vlen, JSON_REJECT_DUPLICATES, NULL);
	return 0;
}

static int
refuse(void *arg, int topic, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	(void)arg, (void)topic, (void)key, (void)klen, (void)val, (void)vlen;
	return -1;
}

static struct store_txn *
begin(int rdonly)
{
	struct store_txn	*t = NULL;

	cr_assert_eq(store_begin(st, rdonly, &t), 0);
	return t;
}

static void
commit(struct store_txn **t)
{
	cr_assert_eq(store_commit(t), 0);
}

/* Issue (ISS, jti) with its subject, actor and previous parents. */
static uint64_t
put(struct store_txn *t, const char *jti, const char *sub,
    const char *subject, const char *actor, const char *previous)
{
	const char		*par[STORE_NPARENTS] = { subject, actor,
	    previous };
	struct store_token	 tok;
	struct store_put_args	 a;
	uint64_t		 id;
	int			 i;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	tok.iss = ISS;
	tok.jti = jti;
	tok.sub = sub;
	tok.client_id = "client-a";
	tok.own = STORE_ACTIVE;
	tok.iat = 1764380000;
	tok.exp = 1764380900;
	for (i = 0; i < STORE_NPARENTS; i++)
		if (par[i] != NULL)
			cr_assert_eq(store_ref(t, ISS, par[i], &tok.parent[i]),
			    0);
	memset(&a, 0, sizeof(a));
	a.tok = &tok;
	cr_assert_eq(store_put(t, &a, &id), 0, "store_put %s", jti);
	return id;
}

static uint32_t
cause(struct store_txn *t, const char *event, const char *target, int kind,
    const char *reason)
{
	struct store_cause	c;
	uint32_t		ref;

	memset(&c, 0, sizeof(c));
	c.event_id = event;
	c.reason = reason;
	c.iss = ISS;
	c.target = target;
	c.target_kind = kind;
	c.time = 1764380100;
	cr_assert_eq(store_cause_add(t, &c, &ref), 0);
	return ref;
}

/* Publish every outbox entry; returns the total of publish_entry(). */
static long
drain(void)
{
	struct store_txn	*t = begin(1);
	const void		*data;
	uint64_t		 seq = 0;
	uint8_t			 kind;
	size_t			 len;
	long			 n, total = 0;

	while (store_outbox_next(t, seq, &seq, &kind, &data, &len) == 0) {
		n = publish_entry(t, kind, data, len, collect, NULL);
		cr_assert_geq(n, 0, "publish_entry kind %u", kind);
		total += n;
	}
	store_abort(&t);
	return total;
}

static struct msg *
find(const char *jti)
{
	const char	*j;
	size_t		 i;

	for (i = 0; i < nmsgs; i++) {
		if (msgs[i].topic != PUB_REVOCATIONS)
			continue;
		cr_assert_not_null(msgs[i].json, "invalid JSON: %s",
		    msgs[i].val);
		j = json_string_value(json_object_get(msgs[i].json, "jti"));
		if (j != NULL && strcmp(j, jti) == 0)
			return &msgs[i];
	}
	cr_assert_fail("no revocation for %s", jti);
	return NULL;
}

static const char *
sget(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Check depth and path of the message for jti: path is NULL-ended. */
static void
check_path(const char *jti, const char *const *path)
{
	struct msg	*m = find(jti);
	json_t		*p;
	size_t		 i, n;

	for (n = 0; path[n] != NULL; n++)
		;
	p = json_object_get(m->json, "path");
	cr_assert(json_is_array(p), "%s", m->val);
	cr_assert_eq(json_array_size(p), n, "%s", m->val);
	for (i = 0; i < n; i++)
		cr_assert_str_eq(json_string_value(json_array_get(p, i)),
		    path[i], "%s", m->val);
	cr_assert_eq(json_integer_value(json_object_get(m->json, "depth")),
	    (json_int_t)n - 1, "%s", m->val);
	cr_assert_str_eq(m->key, jti);
}

/* t-user <- t-orch <- t-agent (subject edges); t-cc stays active. */
static void
chain(void)
{
	struct store_txn	*t = begin(0);
	uint64_t		 root;

	root = put(t, "t-user", "user-123", NULL, NULL, NULL);
	put(t, "t-orch", "user-123", "t-user", NULL, NULL);
	put(t, "t-cc", "agent-a", NULL, NULL, NULL);
	put(t, "t-agent", "user-123", "t-orch", "t-cc", NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_revoke(t, root, cause(t, "e-2001", "t-user", -1,
	    "logout"), NULL), 0);
	commit(&t);
}

Test(publish, revocation_id_vector)
{
	char	id[65];

	publish_revocation_id("e-2001", ISS, "t-user", id);
	cr_assert_str_eq(id, "cbb5be2bba36281d7fa021b0cf001c1b18a714e793066ad1"
	    "ffe249bf7e86d71c");
	publish_revocation_id("e-2001", ISS, "t-use", id);
	cr_assert_str_neq(id, "cbb5be2bba36281d7fa021b0cf001c1b18a714e793066a"
	    "d1ffe249bf7e86d71c");
}

Test(publish, cascade_three_levels)
{
	static const char *const p0[] = { "t-user", NULL };
	static const char *const p1[] = { "t-user", "t-orch", NULL };
	static const char *const p2[] = { "t-user", "t-orch", "t-agent", NULL };

	chain();
	cr_assert_eq(drain(), 3);
	cr_assert_eq(nmsgs, 3);
	check_path("t-user", p0);
	check_path("t-orch", p1);
	check_path("t-agent", p2);
}

Test(publish, cascade_message_exact)
{
	char	want[1024], id[65];
	int	n;

	chain();
	drain();
	publish_revocation_id("e-2001", ISS, "t-agent", id);
	n = snprintf(want, sizeof(want), "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"%s\",\"time\":1764380100,\"iss\":\"" ISS "\","
	    "\"jti\":\"t-agent\",\"sub\":\"user-123\",\"client_id\":\"client-"
	    "a\","
	    "\"cause\":{\"event\":\"e-2001\",\"jti\":\"t-user\","
	    "\"reason\":\"logout\"},\"depth\":2,"
	    "\"path\":[\"t-user\",\"t-orch\",\"t-agent\"]}", id);
	cr_assert(n > 0 && (size_t)n < sizeof(want));
	cr_assert_str_eq(find("t-agent")->val, want);
}

Test(publish, cascade_fields)
{
	struct msg	*m;
	json_t		*c;
	char		 id[65];

	chain();
	drain();
	m = find("t-orch");
	publish_revocation_id("e-2001", ISS, "t-orch", id);
	cr_assert_eq(json_integer_value(json_object_get(m->json, "v")), 1);
	cr_assert_str_eq(sget(m->json, "type"), "token.revoked");
	cr_assert_str_eq(sget(m->json, "id"), id);
	cr_assert_eq(json_integer_value(json_object_get(m->json, "time")),
	    1764380100);
	cr_assert_str_eq(sget(m->json, "iss"), ISS);
	cr_assert_str_eq(sget(m->json, "sub"), "user-123");
	cr_assert_str_eq(sget(m->json, "client_id"), "client-a");
	c = json_object_get(m->json, "cause");
	cr_assert_str_eq(sget(c, "event"), "e-2001");
	cr_assert_str_eq(sget(c, "jti"), "t-user");
	cr_assert_str_eq(sget(c, "reason"), "logout");
	cr_assert_eq(json_object_size(c), 3);
}

/* Publishing the same entry twice gives the same ids (de-duplication). */
Test(publish, deterministic)
{
	char	*first;

	chain();
	drain();
	first = strdup(find("t-agent")->val);
	reset_msgs();
	drain();
	cr_assert_str_eq(find("t-agent")->val, first);
	free(first);
}

/* A token with a live subject and a revoked actor: path via the actor. */
Test(publish, path_through_actor_edge)
{
	static const char *const want[] = { "t-cc", "t-x", NULL };
	struct store_txn	*t = begin(0);
	uint64_t		 cc;

	put(t, "t-user", "user-123", NULL, NULL, NULL);
	cc = put(t, "t-cc", "agent-a", NULL, NULL, NULL);
	put(t, "t-x", "user-123", "t-user", "t-cc", NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_revoke(t, cc, cause(t, "e-9", "t-cc", -1, ""),
	    NULL), 0);
	commit(&t);
	cr_assert_eq(drain(), 2);
	check_path("t-x", want);
	/* No reason: omitted. */
	cr_assert_null(json_object_get(json_object_get(find("t-x")->json,
	    "cause"), "reason"));
}

Test(publish, by_attribute)
{
	static const char *const want[] = { "t-a", "t-b", NULL };
	struct store_txn	*t = begin(0);
	json_t			*c;

	put(t, "t-a", "user-9", NULL, NULL, NULL);
	put(t, "t-b", "user-1", NULL, NULL, "t-a");
	put(t, "t-z", "user-1", NULL, NULL, NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "user-9",
	    1764380100, cause(t, "e-7", "user-9", STORE_IDX_SUB, "gone"),
	    NULL), 0);
	commit(&t);
	cr_assert_eq(drain(), 2);
	check_path("t-b", want);
	c = json_object_get(find("t-b")->json, "cause");
	cr_assert_str_eq(sget(c, "sub"), "user-9");
	cr_assert_null(json_object_get(c, "jti"));
	cr_assert_str_eq(sget(c, "event"), "e-7");
}

Test(publish, by_client_and_actor_keys)
{
	struct store_txn	*t = begin(0);

	put(t, "t-a", "user-9", NULL, NULL, NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_CLIENT, ISS, "client-a",
	    1764380100, cause(t, "e-8", "client-a", STORE_IDX_CLIENT, ""),
	    NULL), 0);
	commit(&t);
	cr_assert_eq(drain(), 1);
	cr_assert_str_eq(sget(json_object_get(find("t-a")->json, "cause"),
	    "client_id"), "client-a");
}

/* A revocation by raw-token hash names it as "hash" in the cause. */
Test(publish, by_hash_key)
{
	static const char h[] = "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0";
	struct store_txn	*t = begin(0);
	json_t			*c;
	uint64_t		 id;

	id = put(t, "t-a", "user-9", NULL, NULL, NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_revoke(t, id, cause(t, "e-h", h, STORE_TGT_HASH,
	    ""), NULL), 0);
	commit(&t);
	cr_assert_eq(drain(), 1);
	c = json_object_get(find("t-a")->json, "cause");
	cr_assert_str_eq(sget(c, "hash"), h);
	cr_assert_null(json_object_get(c, "jti"));
}

/* Revoked before it was issued: born revoked, and so is its child. */
Test(publish, born_revoked)
{
	static const char *const want[] = { "t-late", "t-kid", NULL };
	struct store_txn	*t = begin(0);
	uint64_t		 id;

	cr_assert_eq(store_ref(t, ISS, "t-late", &id), 0);
	cr_assert_eq(store_revoke(t, id, cause(t, "e-3", "t-late", -1, "x"),
	    NULL), 0);
	commit(&t);
	t = begin(0);
	put(t, "t-late", "user-1", NULL, NULL, NULL);
	put(t, "t-kid", "user-1", "t-late", NULL, NULL);
	commit(&t);
	cr_assert_eq(drain(), 2);
	check_path("t-kid", want);
}

Test(publish, dlq_and_violation_passthrough)
{
	static const char dlq[] = "{\"v\":1,\"error\":\"invalid_json\","
	    "\"topic\":\"token-events\",\"partition\":0,\"offset\":7,"
	    "\"payload\":\"{\\\"v\\\":\"}";
	static const char viol[] = "{\"v\":1,\"type\":\"delegation.violation\","
	    "\"id\":\"x\",\"time\":1,\"iss\":\"i\",\"jti\":\"t-v\","
	    "\"rule\":\"parent_cycle\",\"detail\":\"d\",\"action\":\"denied\"}";
	struct store_txn	*t = begin(0);

	cr_assert_eq(store_outbox_add(t, OUT_DLQ, dlq, strlen(dlq)), 0);
	cr_assert_eq(store_outbox_add(t, OUT_VIOLATION, viol, strlen(viol)),
	    0);
	commit(&t);
	cr_assert_eq(drain(), 2);
	cr_assert_eq(nmsgs, 2);
	cr_assert_eq(msgs[0].topic, PUB_DLQ);
	cr_assert_null(msgs[0].key);
	cr_assert_str_eq(msgs[0].val, dlq);
	cr_assert_eq(msgs[1].topic, PUB_VIOLATIONS);
	cr_assert_str_eq(msgs[1].key, "t-v");
	cr_assert_str_eq(msgs[1].val, viol);
}

Test(publish, raw_without_store)
{
	cr_assert_eq(publish_entry(NULL, OUT_DLQ, "not json", 8, collect,
	    NULL), 1);
	cr_assert_eq(publish_entry(NULL, OUT_VIOLATION, "not json", 8,
	    collect, NULL), 1);
	cr_assert_null(msgs[1].key);
	cr_assert_str_eq(msgs[1].val, "not json");
	cr_assert_eq(publish_entry(NULL, 77, "x", 1, collect, NULL), 0);
	cr_assert_eq(publish_entry(NULL, OUT_DLQ, "x", 1, refuse, NULL), -1);
	cr_assert_eq(publish_entry(NULL, OUT_DLQ, "x", 1, NULL, NULL), -1);
}

Test(publish, emit_failure_stops)
{
	struct store_txn	*t;
	const void		*data;
	uint64_t		 seq;
	uint8_t			 kind;
	size_t			 len;

	chain();
	t = begin(1);
	cr_assert_eq(store_outbox_next(t, 0, &seq, &kind, &data, &len), 0);
	cr_assert_eq(kind, STORE_OUT_CASCADE);
	cr_assert_eq(len, 3 * sizeof(uint64_t));
	cr_assert_eq(publish_entry(t, kind, data, len, refuse, NULL), -1);
	cr_assert_eq(publish_entry(t, kind, data, len - 1, collect, NULL), -1);
	store_abort(&t);
}

/* Stored strings that are not UTF-8 still give valid JSON. */
Test(publish, bad_utf8_still_valid_json)
{
	struct store_txn	*t = begin(0);
	uint64_t		 id;
	const char		*j;

	id = put(t, "t-\xff\xc0q\"\\", "u\xed\xa0\x80", NULL, NULL, NULL);
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_revoke(t, id, cause(t, "e-\xfe", "t", -1,
	    "r\x01"), NULL), 0);
	commit(&t);
	cr_assert_eq(drain(), 1);
	cr_assert_not_null(msgs[0].json, "invalid JSON: %s", msgs[0].val);
	j = sget(msgs[0].json, "jti");
	cr_assert_str_eq(j, "t-\xef\xbf\xbd\xef\xbf\xbdq\"\\");
	cr_assert_str_eq(sget(msgs[0].json, "sub"),
	    "u\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* --- bounded messages (SPEC v1.1 section 3) --- */

#define LONG_CHAIN	2000

static size_t	 long_max;	/* the largest message seen */
static long	 long_n;

/* The jti of link i of the long chain: 256 bytes, its number last. */
static void
long_jti(char out[257], int i)
{
	memset(out, 'j', 256);
	out[256] = '\0';
	snprintf(out + 248, 9, "%08d", i);
}

/* Keep the messages of links 0, 15, 16 and the leaf; measure them all. */
static int
measure(void *arg, int topic, const char *key, size_t klen, const char *val,
    size_t vlen)
{
	char	 want[257];
	int	 i, keep = 0;

	(void)arg;
	long_n++;
	if (vlen > long_max)
		long_max = vlen;
	for (i = 0; i < LONG_CHAIN; i++) {
		if (i != 0 && i != 15 && i != 16 && i != LONG_CHAIN - 1)
			continue;
		long_jti(want, i);
		keep |= klen == 256 && memcmp(key, want, 256) == 0;
	}
	return keep ? collect(arg, topic, key, klen, val, vlen) : 0;
}

/* The leaf of the long chain: its first hop and its last 15. */
static void
check_long_leaf(void)
{
	char		 jti[257], want[257];
	struct msg	*m;
	json_t		*p;
	int		 i;

	long_jti(jti, LONG_CHAIN - 1);
	m = find(jti);
	p = json_object_get(m->json, "path");
	cr_assert_eq(json_array_size(p), 16, "%zu", json_array_size(p));
	cr_expect(json_is_true(json_object_get(m->json, "path_truncated")));
	cr_expect_eq(json_integer_value(json_object_get(m->json, "depth")),
	    LONG_CHAIN - 1, "depth stays exact");
	long_jti(want, 0);
	cr_expect_str_eq(json_string_value(json_array_get(p, 0)), want);
	for (i = 1; i < 16; i++) {
		long_jti(want, LONG_CHAIN - 16 + i);
		cr_expect_str_eq(json_string_value(json_array_get(p,
		    (size_t)i)), want, "hop %d", i);
	}
}

/*
 * A refresh chain of 2,000 tokens with 256-byte jtis, revoked at its
 * root: before, the leaf's message carried all 2,000 jtis (half a
 * megabyte, over Kafka's default max.message.bytes, so it was refused).
 * Now every message is at most 16 KiB, the path keeps its first hop and
 * its last 15 with path_truncated, and depth stays exact.
 */
Test(publish, long_chain_messages_bounded, .timeout = 120)
{
	struct store_txn	*t = begin(0);
	char			 jti[257], prev[257], want[257];
	const void		*data;
	uint64_t		 seq = 0, root = 0, reads;
	uint8_t			 kind;
	size_t			 len;
	struct msg		*m;
	json_t			*p;
	int			 i;

	for (i = 0; i < LONG_CHAIN; i++) {
		long_jti(jti, i);
		if (i == 0)
			root = put(t, jti, "u", NULL, NULL, NULL);
		else
			put(t, jti, "u", NULL, NULL, prev);
		memcpy(prev, jti, sizeof(prev));
	}
	commit(&t);
	t = begin(0);
	long_jti(jti, 0);
	cr_assert_eq(store_revoke(t, root, cause(t, "e-long", jti, -1,
	    "logout"), NULL), 0);
	commit(&t);
	t = begin(1);
	reads = store_txn_reads(t);
	while (store_outbox_next(t, seq, &seq, &kind, &data, &len) == 0)
		cr_assert_geq(publish_entry(t, kind, data, len, measure,
		    NULL), 0);
	reads = store_txn_reads(t) - reads;
	store_abort(&t);
	/*
	 * Linear output: before, each message walked its whole path up
	 * (about LONG_CHAIN^2 / 2 = 2,000,000 records read); now the store
	 * keeps each revoked token's depth and root, and a message reads a
	 * bounded number of records (17 here) whatever its depth.
	 */
	cr_expect_leq(reads, 32 * LONG_CHAIN, "%llu records read for %d "
	    "messages", (unsigned long long)reads, LONG_CHAIN);
	cr_expect_eq(long_n, LONG_CHAIN, "one message per revoked token");
	cr_expect_leq(long_max, 16384, "largest message %zu bytes", long_max);
	cr_assert_eq(nmsgs, 4);

	long_jti(jti, 15);	/* depth 15: 16 hops, whole, not truncated */
	m = find(jti);
	p = json_object_get(m->json, "path");
	cr_expect_eq(json_array_size(p), 16);
	cr_expect_null(json_object_get(m->json, "path_truncated"));
	cr_expect_eq(json_integer_value(json_object_get(m->json, "depth")), 15);

	check_long_leaf();
	long_jti(jti, 16);	/* depth 16: 17 hops, the second one dropped */
	m = find(jti);
	p = json_object_get(m->json, "path");
	cr_expect_eq(json_array_size(p), 16);
	cr_expect(json_is_true(json_object_get(m->json, "path_truncated")));
	long_jti(want, 2);
	cr_expect_str_eq(json_string_value(json_array_get(p, 1)), want);
}

/*
 * Depth and root are kept by every way a token gets revoked: a rule's
 * match is its own root (depth 0), the walk counts generations from
 * it, and a token issued under a revoked parent later is born one hop
 * deeper with the same root.  The paths name the rule's match first.
 */
Test(publish, path_from_rule_root_and_born_revoked)
{
	struct store_txn	*t = begin(0);
	char			 jti[32], prev[32], hop[6][16];
	const char		*path[7];
	uint64_t		 n = 0;
	struct msg		*m;
	json_t			*p;
	int			 i;

	put(t, "t-bad", "bad", NULL, NULL, NULL);
	snprintf(prev, sizeof(prev), "t-bad");
	for (i = 1; i <= 20; i++) {
		snprintf(jti, sizeof(jti), "t-%02d", i);
		put(t, jti, "u", NULL, NULL, prev);
		memcpy(prev, jti, sizeof(prev));
	}
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "bad", 1764380100,
	    cause(t, "e-sub", "bad", STORE_IDX_SUB, "compromised"), &n), 0);
	cr_assert_eq(n, 21);
	commit(&t);
	t = begin(0);
	put(t, "t-late", "u", NULL, NULL, "t-20");	/* born revoked */
	commit(&t);
	cr_assert_eq(drain(), 22);

	path[0] = "t-bad";
	for (i = 1; i <= 5; i++) {
		snprintf(hop[i], sizeof(hop[i]), "t-%02d", i);
		path[i] = hop[i];
	}
	path[6] = NULL;
	check_path("t-05", path);
	check_path("t-bad", (const char *const []){ "t-bad", NULL });

	m = find("t-late");
	cr_expect_eq(json_integer_value(json_object_get(m->json, "depth")), 21,
	    "%s", m->val);
	cr_expect(json_is_true(json_object_get(m->json, "path_truncated")));
	p = json_object_get(m->json, "path");
	cr_assert_eq(json_array_size(p), 16, "%s", m->val);
	cr_expect_str_eq(json_string_value(json_array_get(p, 0)), "t-bad");
	cr_expect_str_eq(json_string_value(json_array_get(p, 15)), "t-late");
	cr_expect_str_eq(json_string_value(json_array_get(p, 14)), "t-20");
	cr_expect_str_eq(json_string_value(json_array_get(p, 1)), "t-07");
	m = find("t-20");
	cr_expect_eq(json_integer_value(json_object_get(m->json, "depth")), 20);
	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(
	    m->json, "path"), 0)), "t-bad", "%s", m->val);
}

/* --- 16 KiB whatever the content --- */

#define CTL_CHAIN	20

static size_t	 ctl_max;
static long	 ctl_n, ctl_truncated, ctl_bad;

/* Every message valid JSON, its path's ends the root and the token. */
static int
ctl_measure(void *arg, int topic, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	json_t	*j, *p;
	size_t	 n;

	(void)arg, (void)topic;
	ctl_n++;
	if (vlen > ctl_max)
		ctl_max = vlen;
	if ((j = json_loadb(val, vlen, 0, NULL)) == NULL) {
		ctl_bad++;
		return 0;
	}
	p = json_object_get(j, "path");
	n = json_array_size(p);
	if (n == 0 || strlen(json_string_value(json_array_get(p, n - 1))) !=
	    klen || memcmp(json_string_value(json_array_get(p, n - 1)), key,
	    klen) != 0 || strncmp(json_string_value(json_array_get(p, 0)),
	    "\x01\x01", 2) != 0 || json_string_value(json_array_get(p,
	    0))[strlen(json_string_value(json_array_get(p, 0))) - 1] != '0')
		ctl_bad++;
	ctl_truncated += json_is_true(json_object_get(j, "path_truncated"));
	json_decref(j);
	return 0;
}

/* Strings of control characters, 6 bytes each once escaped. */
struct ctl_strs {
	char	 iss[257], sub[257], reason[1025], ev[129];
};

static void
ctl_strs_fill(struct ctl_strs *cs)
{
	memset(cs->iss, '\x03', 256), cs->iss[256] = '\0';
	memset(cs->sub, '\x02', 256), cs->sub[256] = '\0';
	memset(cs->reason, '\x04', 1024), cs->reason[1024] = '\0';
	memset(cs->ev, '\x05', 128), cs->ev[128] = '\0';
}

/* The jti of link i of a chain of control characters, as ctl_chain's. */
static void
ctl_jti(char out[257], int i)
{
	memset(out, '\x01', 256);
	snprintf(out + 248, 9, "%08d", i);
}

/* A chain of n tokens of control characters; the root's id. */
static uint64_t
ctl_chain(struct store_txn *t, const struct ctl_strs *cs, int n)
{
	struct store_token	 tok;
	struct store_put_args	 a;
	char			 jti[257], prev[257];
	uint64_t		 id, root = 0;
	int			 i;

	for (i = 0; i < n; i++) {
		ctl_jti(jti, i);
		memset(&tok, 0, sizeof(tok));
		memset(&a, 0, sizeof(a));
		tok.iss = cs->iss;
		tok.jti = jti;
		tok.sub = cs->sub;
		tok.client_id = cs->sub;
		tok.iat = 1764380000;
		tok.exp = 1764380900;
		if (i > 0)
			cr_assert_eq(store_ref(t, cs->iss, prev,
			    &tok.parent[STORE_PARENT_PREVIOUS]), 0);
		a.tok = &tok;
		cr_assert_eq(store_put(t, &a, &id), 0);
		if (i == 0)
			root = id;
		memcpy(prev, jti, sizeof(prev));
	}
	return root;
}

/* Revoke the chain's root (id) by jti, the cause of control strings. */
static void
ctl_revoke(const struct ctl_strs *cs, uint64_t id)
{
	struct store_txn	*t = begin(0);
	struct store_cause	 c;
	char			 jti[257];
	uint32_t		 ref;

	memset(&c, 0, sizeof(c));
	ctl_jti(jti, 0);
	c.event_id = cs->ev;
	c.reason = cs->reason;
	c.iss = cs->iss;
	c.target = jti;
	c.target_kind = STORE_TGT_JTI;
	c.time = 1764380100;
	cr_assert_eq(store_cause_add(t, &c, &ref), 0);
	cr_assert_eq(store_revoke(t, id, ref, NULL), 0);
	commit(&t);
}

/*
 * Strings made of control characters are 6 bytes each once escaped:
 * with a 256-byte iss, jti, sub and client_id, a 1 KiB reason and a
 * path of 16 such jtis, a message would be about 40 KiB.  It stays
 * within 16 KiB (SPEC 3): fewer hops, then a shorter reason.
 */
Test(publish, control_characters_still_16k)
{
	struct store_txn	*t = begin(0);
	struct ctl_strs		 cs;
	const void		*data;
	uint64_t		 root, seq = 0;
	uint8_t			 kind;
	size_t			 len;

	ctl_strs_fill(&cs);
	root = ctl_chain(t, &cs, CTL_CHAIN);
	commit(&t);
	ctl_revoke(&cs, root);
	t = begin(1);
	while (store_outbox_next(t, seq, &seq, &kind, &data, &len) == 0)
		cr_assert_geq(publish_entry(t, kind, data, len, ctl_measure,
		    NULL), 0);
	store_abort(&t);
	cr_expect_eq(ctl_n, CTL_CHAIN);
	cr_expect_eq(ctl_bad, 0, "valid JSON, path from the root to the "
	    "token");
	cr_expect_leq(ctl_max, 16384, "largest message %zu bytes", ctl_max);
	cr_expect_geq(ctl_truncated, CTL_CHAIN - 2, "cut to fit");
}

/*
 * A rule's cause has a root per match: the path of a token under two
 * matches' trees (its subject in one, its actor in the other) climbs
 * within the tree of the root it names first.  Before, the hops could
 * come from one tree and the first hop from the other.
 */
Test(publish, path_stays_under_its_root)
{
	struct store_txn	*t = begin(0);
	char			 jti[32], prev[32];
	uint64_t		 n = 0;
	const char		*h0, *h1;
	struct msg		*m;
	json_t			*p;
	int			 i;
	char			 c;

	put(t, "r1", "bad", NULL, NULL, NULL);
	put(t, "r2", "bad", NULL, NULL, NULL);
	for (c = 'a'; c <= 'b'; c++) {
		snprintf(prev, sizeof(prev), "r%d", c - 'a' + 1);
		for (i = 1; i <= 20; i++) {
			snprintf(jti, sizeof(jti), "%c%02d", c, i);
			put(t, jti, "u", NULL, NULL, prev);
			memcpy(prev, jti, sizeof(prev));
		}
	}
	put(t, "x", "u", "b20", "a20", NULL);	/* r2's tree, r1's tree */
	commit(&t);
	t = begin(0);
	cr_assert_eq(store_rule_add(t, STORE_IDX_SUB, ISS, "bad", 1764380100,
	    cause(t, "e-sub", "bad", STORE_IDX_SUB, "compromised"), &n), 0);
	commit(&t);
	cr_assert_eq(drain(), 43);
	m = find("x");
	p = json_object_get(m->json, "path");
	cr_assert_eq(json_array_size(p), 16, "%s", m->val);
	h0 = json_string_value(json_array_get(p, 0));
	h1 = json_string_value(json_array_get(p, 1));
	cr_expect(h0[1] == h1[0] - 'a' + '1', "path [%s, %s, ...] mixes two "
	    "trees: %s", h0, h1, m->val);
}

/* fit() cuts a path but never calls a whole one truncated. */
Test(publish, fit_keeps_a_whole_path_whole)
{
	struct store_txn	*t = begin(0);
	struct ctl_strs		 cs;
	uint64_t		 root;
	size_t			 i;

	ctl_strs_fill(&cs);
	root = ctl_chain(t, &cs, 2);	/* depth 1: a path of two hops */
	commit(&t);
	ctl_revoke(&cs, root);
	cr_assert_eq(drain(), 2);
	for (i = 0; i < 2; i++) {
		cr_expect_leq(strlen(msgs[i].val), 16384);
		cr_expect_null(json_object_get(msgs[i].json, "path_truncated"),
		    "a whole path of %zu hops called truncated",
		    json_array_size(json_object_get(msgs[i].json, "path")));
	}
}

/* A random string of pieces: ASCII, escapes, UTF-8 good and bad. */
static void
rnd_str(unsigned *seed, const char *prefix, char *out, size_t cap)
{
	static const char *const piece[] = { "a", "Z", "0", "/", "\"", "\\",
	    "\x01", "\x08", "\x0c", "\n", "\r", "\t", "\x1f", "\x7f",
	    "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3",
	    "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82" };
	size_t n, k, npiece = sizeof(piece) / sizeof(piece[0]);

	snprintf(out, cap, "%s", prefix);
	n = (size_t)rand_r(seed) % 12;
	for (k = 0; k < n; k++)
		strncat(out, piece[(size_t)rand_r(seed) % npiece],
		    cap - strlen(out) - 1);
}

/* s with each byte of a bad UTF-8 sequence as U+FFFD. */
static void
fffd(const char *s, char *out)
{
	size_t n;

	for (; *s != '\0'; s += n) {
		if ((n = utf8_seq(s)) == 0) {
			memcpy(out, "\xef\xbf\xbd", 3);
			out += 3;
			n = 1;
		} else {
			memcpy(out, s, n);
			out += n;
		}
	}
	*out = '\0';
}

static void
rnd_sub(int round, int k, char *out, size_t cap)
{
	unsigned seed = (unsigned)(round * 100 + k);

	rnd_str(&seed, "", out, cap);
}

/*
 * Revocation messages are written by hand, not by jansson: each must be
 * byte for byte what jansson renders of the same content (parse it,
 * dump it compactly in order: the same bytes), valid UTF-8 whatever the
 * store holds, and keyed by its "jti" as rendered.  Chains of 1 to 20
 * tokens, so paths are whole and truncated.
 */
Test(publish, hand_rendering_is_janssons)
{
	char jti[24][64], sub[64], fixed[200], ev[64], reason[64], pre[32];
	struct store_txn *t;
	uint64_t id, prev;
	unsigned seed = 7;
	size_t i, want = 0;
	char *again;
	int round, k, d;

	for (round = 0; round < 40; round++) {
		d = 1 + rand_r(&seed) % 20;
		t = begin(0);
		prev = 0;
		for (k = 0; k < d; k++) {
			snprintf(pre, sizeof(pre), "j%d-%d-", round, k);
			rnd_str(&seed, pre, jti[k], sizeof(jti[k]));
			rnd_sub(round, k, sub, sizeof(sub));
			id = put(t, jti[k], sub, k > 0 ? jti[k - 1] : NULL,
			    NULL, NULL);
			if (k == 0)
				prev = id;
		}
		commit(&t);
		snprintf(pre, sizeof(pre), "e%d-", round);
		rnd_str(&seed, pre, ev, sizeof(ev));
		rnd_str(&seed, "", reason, sizeof(reason));
		t = begin(0);
		cr_assert_eq(store_revoke(t, prev, cause(t, ev, jti[0],
		    round % 2 ? -1 : STORE_TGT_JTI, reason), NULL), 0);
		commit(&t);
		want += (size_t)d;
	}
	cr_assert_eq(drain(), (long)want);
	for (i = 0; i < nmsgs; i++) {
		cr_assert_not_null(msgs[i].json, "invalid JSON: %s",
		    msgs[i].val);
		again = json_dumps(msgs[i].json, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		cr_assert_not_null(again);
		cr_expect_str_eq(msgs[i].val, again);
		cr_expect_str_eq(msgs[i].key, sget(msgs[i].json, "jti"));
		free(again);
		cr_assert_eq(sscanf(sget(msgs[i].json, "jti"), "j%d-%d-",
		    &round, &k), 2);
		rnd_sub(round, k, sub, sizeof(sub));
		fffd(sub, fixed);
		cr_expect_str_eq(sget(msgs[i].json, "sub"), fixed);
	}
}
