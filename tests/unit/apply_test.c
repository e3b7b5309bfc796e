/*
 * apply: events through the one apply path into a fresh LMDB; the
 * stored statuses must not depend on arrival order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "consumers/publish/publish.h"
#include "store/graph/store.h"
#include "tests/unit/fixture.h"

#define ISS	"https://idp.example"
#define XCH	"urn:ietf:params:oauth:grant-type:token-exchange"

static char dir[64];
static struct store *st;

static void
setup(void)
{
	log_init(LOG_WARN, "apply_test");
	st = fixture_store("apply_test", 1 << 30, dir);
}

static void
teardown(void)
{
	fixture_store_free(&st, dir);
}

static void
reopen(void)
{
	teardown();
	setup();
}

/* Apply each line of events[] in one transaction; returns last result. */
static int
apply_all(int mode, const char *const *events, size_t n)
{
	struct apply_config ac = { mode, 8, 0, 0 };
	struct apply *a = apply_new(&ac);
	struct store_txn *txn;
	struct apply_msg m;
	size_t i;
	int rc = 0;

	cr_assert_not_null(a);
	cr_assert_eq(store_begin(st, 0, &txn), 0);
	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		m.topic = "token-events";
		m.offset = (int64_t)i;
		m.payload = events[i];
		m.len = strlen(events[i]);
		rc = apply_message(a, txn, &m, NULL);
		cr_assert(!APPLY_FAILED(rc), "store error on event %zu", i);
	}
	cr_assert_eq(store_commit(&txn), 0);
	apply_free(&a);
	return rc;
}

static int
status_of(const char *jti)
{
	struct store_txn *txn;
	struct store_token tok;
	uint64_t id;
	int s = -1;

	cr_assert_eq(store_begin(st, 1, &txn), 0);
	if (store_lookup(txn, ISS, jti, &id) == 0 &&
	    store_get(txn, id, &tok) == 0 && tok.issued)
		s = tok.status;
	store_abort(&txn);
	return s;
}

/* Count outbox entries of one kind, and find a string in them. */
static int
outbox_has(uint8_t want, const char *needle)
{
	struct store_txn *txn;
	const void *data;
	size_t len;
	uint64_t seq = 0;
	uint8_t kind;
	int n = 0;

	cr_assert_eq(store_begin(st, 1, &txn), 0);
	while (store_outbox_next(txn, seq, &seq, &kind, &data, &len) == 0)
		if (kind == want && (needle == NULL ||
		    memmem(data, len, needle, strlen(needle)) != NULL))
			n++;
	store_abort(&txn);
	return n;
}

#define TOK(id, jti, grant, body, parents)				\
	"{\"v\":1,\"type\":\"token.issued\",\"id\":\"" id "\","		\
	"\"time\":1000,\"iss\":\"" ISS "\","				\
	"\"grant_type\":\"" grant "\","					\
	"\"token\":{\"jti\":\"" jti "\"," body "},"			\
	"\"parents\":{" parents "}}"

static const char *chain[] = {
	TOK("e1", "t-user", "authorization_code",
	    "\"sub\":\"user\",\"client_id\":\"orch\",\"aud\":\"orch\","
	    "\"scope\":\"a b\",\"iat\":1000,\"exp\":9000", ""),
	TOK("e2", "t-orch-cc", "client_credentials",
	    "\"sub\":\"orch\",\"client_id\":\"orch\",\"iat\":1000,"
	    "\"exp\":9000", ""),
	TOK("e3", "t-orch", XCH,
	    "\"sub\":\"user\",\"client_id\":\"orch\",\"aud\":\"agent-a\","
	    "\"scope\":\"a\",\"iat\":1001,\"exp\":8000,"
	    "\"act\":{\"sub\":\"orch\"}",
	    "\"subject\":\"t-user\",\"actor\":\"t-orch-cc\""),
	TOK("e4", "t-a-cc", "client_credentials",
	    "\"sub\":\"agent-a\",\"client_id\":\"agent-a\",\"iat\":1000,"
	    "\"exp\":9000", ""),
	TOK("e5", "t-a", XCH,
	    "\"sub\":\"user\",\"client_id\":\"agent-a\",\"aud\":\"agent-b\","
	    "\"scope\":\"a\",\"iat\":1002,\"exp\":7000,"
	    "\"act\":{\"sub\":\"agent-a\",\"act\":{\"sub\":\"orch\"}}",
	    "\"subject\":\"t-orch\",\"actor\":\"t-a-cc\""),
	/* the splice: a subject meant for agent-a, presented by agent-b */
	TOK("e6", "t-b-cc", "client_credentials",
	    "\"sub\":\"agent-b\",\"client_id\":\"agent-b\",\"iat\":1000,"
	    "\"exp\":9000", ""),
	TOK("e7", "t-splice", XCH,
	    "\"sub\":\"user\",\"client_id\":\"agent-b\",\"aud\":\"agent-c\","
	    "\"scope\":\"a\",\"iat\":1003,\"exp\":7000,"
	    "\"act\":{\"sub\":\"agent-b\",\"act\":{\"sub\":\"orch\"}}",
	    "\"subject\":\"t-orch\",\"actor\":\"t-b-cc\""),
	TOK("e8", "t-child-of-splice", XCH,
	    "\"sub\":\"user\",\"client_id\":\"agent-c\",\"aud\":\"agent-d\","
	    "\"scope\":\"a\",\"iat\":1004,\"exp\":7000,"
	    "\"act\":{\"sub\":\"agent-c\",\"act\":{\"sub\":\"agent-b\","
	    "\"act\":{\"sub\":\"orch\"}}}",
	    "\"subject\":\"t-splice\""),
};
#define NCHAIN	(sizeof(chain) / sizeof(chain[0]))

TestSuite(apply, .init = setup, .fini = teardown);

Test(apply, legitimate_chain_active_splice_denied)
{
	apply_all(PROFILE_ENFORCE, chain, NCHAIN);
	cr_expect_eq(status_of("t-user"), STORE_ACTIVE);
	cr_expect_eq(status_of("t-orch"), STORE_ACTIVE);
	cr_expect_eq(status_of("t-a"), STORE_ACTIVE);
	cr_expect_eq(status_of("t-splice"), STORE_DENIED);
	cr_expect_eq(status_of("t-child-of-splice"), STORE_DENIED);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "subject_audience_mismatch"),
	    1);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "\"action\":\"denied\""),
	    outbox_has(OUT_VIOLATION, NULL));
}

Test(apply, audit_mode_flags_without_denying)
{
	apply_all(PROFILE_AUDIT, chain, NCHAIN);
	cr_expect_eq(status_of("t-splice"), STORE_ACTIVE);
	cr_expect_geq(outbox_has(OUT_VIOLATION, "\"action\":\"flagged\""), 1);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "\"action\":\"denied\""), 0);
}

/* Every rotation and the reverse give the same statuses. */
Test(apply, statuses_do_not_depend_on_order)
{
	static const char *jtis[] = { "t-user", "t-orch-cc", "t-orch",
	    "t-a-cc", "t-a", "t-b-cc", "t-splice", "t-child-of-splice" };
	const char *order[NCHAIN];
	int want[NCHAIN];
	size_t r, i;

	apply_all(PROFILE_ENFORCE, chain, NCHAIN);
	for (i = 0; i < NCHAIN; i++)
		want[i] = status_of(jtis[i]);
	for (r = 0; r <= NCHAIN; r++) {
		reopen();
		for (i = 0; i < NCHAIN; i++)
			order[i] = r < NCHAIN ? chain[(i + r) % NCHAIN] :
			    chain[NCHAIN - 1 - i];
		apply_all(PROFILE_ENFORCE, order, NCHAIN);
		for (i = 0; i < NCHAIN; i++)
			cr_expect_eq(status_of(jtis[i]), want[i],
			    "order %zu: %s is %d, want %d", r, jtis[i],
			    status_of(jtis[i]), want[i]);
		cr_expect_eq(outbox_has(OUT_VIOLATION,
		    "subject_audience_mismatch"), 1, "order %zu", r);
	}
}

Test(apply, child_pending_until_parent_arrives)
{
	const char *ev[] = { chain[2] };

	apply_all(PROFILE_ENFORCE, ev, 1);
	cr_expect_eq(status_of("t-orch"), STORE_PENDING);
	apply_all(PROFILE_ENFORCE, chain, 2);
	cr_expect_eq(status_of("t-orch"), STORE_ACTIVE);
}

Test(apply, revocation_cascades_and_is_published)
{
	const char *rev[] = { "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"r1\",\"time\":1100,\"iss\":\"" ISS "\","
	    "\"target\":{\"jti\":\"t-user\"},\"reason\":\"logout\"}" };

	apply_all(PROFILE_ENFORCE, chain, NCHAIN);
	apply_all(PROFILE_ENFORCE, rev, 1);
	cr_expect_eq(status_of("t-user"), STORE_REVOKED);
	cr_expect_eq(status_of("t-orch"), STORE_REVOKED);
	cr_expect_eq(status_of("t-a"), STORE_REVOKED);
	cr_expect_eq(status_of("t-splice"), STORE_REVOKED);
	cr_expect_eq(status_of("t-orch-cc"), STORE_ACTIVE);
	cr_expect_eq(status_of("t-a-cc"), STORE_ACTIVE);
	cr_expect_eq(outbox_has(STORE_OUT_CASCADE, NULL), 1);
}

Test(apply, revocation_before_issuance)
{
	const char *ev[] = { "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"r1\",\"time\":1100,\"iss\":\"" ISS "\","
	    "\"target\":{\"jti\":\"t-user\"}}", chain[0], chain[1],
	    chain[2] };

	apply_all(PROFILE_ENFORCE, ev, 4);
	cr_expect_eq(status_of("t-user"), STORE_REVOKED);
	cr_expect_eq(status_of("t-orch"), STORE_REVOKED);
	cr_expect_eq(status_of("t-orch-cc"), STORE_ACTIVE);
}

Test(apply, revocation_by_sub_covers_late_arrivals_by_time)
{
	const char *ev[] = { "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"r1\",\"time\":1001,\"iss\":\"" ISS "\","
	    "\"target\":{\"sub\":\"user\"}}", chain[0], chain[1], chain[2],
	    chain[3], chain[4] };

	apply_all(PROFILE_ENFORCE, ev, 6);
	cr_expect_eq(status_of("t-user"), STORE_REVOKED);	/* iat 1000 */
	cr_expect_eq(status_of("t-orch"), STORE_REVOKED);	/* 1001 */
	cr_expect_eq(status_of("t-a"), STORE_REVOKED);	/* child */
	cr_expect_eq(status_of("t-orch-cc"), STORE_ACTIVE);
}

Test(apply, duplicates_and_dead_letters)
{
	const char *ev[] = { chain[0], chain[0] };
	const char *dup_jti[] = { TOK("e99", "t-user", "authorization_code",
	    "\"sub\":\"x\",\"client_id\":\"y\",\"exp\":9000", "") };
	const char *bad[] = { "{\"v\":2}" };

	cr_expect_eq(apply_all(PROFILE_ENFORCE, ev, 2), APPLY_DUPLICATE);
	cr_expect_eq(apply_all(PROFILE_ENFORCE, dup_jti, 1), APPLY_DLQ);
	cr_expect_eq(outbox_has(OUT_DLQ, "duplicate_jti"), 1);
	cr_expect_eq(apply_all(PROFILE_ENFORCE, bad, 1), APPLY_DLQ);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"payload\":\"{\\\"v\\\":2}\""), 1);
	cr_expect_eq(status_of("t-user"), STORE_ACTIVE);
}

Test(apply, offset_recorded_with_the_effect)
{
	struct store_txn *txn;
	int64_t next;

	apply_all(PROFILE_ENFORCE, chain, 3);
	cr_assert_eq(store_begin(st, 1, &txn), 0);
	cr_expect_eq(store_offset_get(txn, "token-events", 0, &next), 0);
	cr_expect_eq(next, 3);
	store_abort(&txn);
}

Test(apply, non_utf8_dead_letter_keeps_the_bytes)
{
	const char *bad[] = { "{\"v\":1,\"x\":\"\xff\xfe\"}" };

	cr_expect_eq(apply_all(PROFILE_ENFORCE, bad, 1), APPLY_DLQ);
	cr_expect_eq(outbox_has(OUT_DLQ, "payload_b64"), 1);
}

struct sink {
	int	 revocations;
	int	 late;		/* parent_inactive violations */
	int	 violations;
};

static int
sink_emit(void *arg, int topic, const char *key, size_t klen,
    const char *val, size_t vlen)
{
	struct sink *s = arg;

	(void)key;
	(void)klen;
	if (topic == PUB_REVOCATIONS)
		s->revocations++;
	if (topic == PUB_VIOLATIONS) {
		s->violations++;
		if (memmem(val, vlen, "parent_inactive", 15) != NULL)
			s->late++;
	}
	return 0;
}

/* Every message of every outbox entry, as the daemon's drain sends. */
static void
drain_all(struct sink *s)
{
	struct publish_opts o = { 1, 1 };
	struct store_txn *txn;
	const void *data;
	size_t len;
	uint64_t seq = 0;
	uint8_t kind;

	memset(s, 0, sizeof(*s));
	cr_assert_eq(store_begin(st, 1, &txn), 0);
	while (store_outbox_next(txn, seq, &seq, &kind, &data, &len) == 0)
		cr_assert_geq(publish_entry_opts(txn, kind, data, len, &o,
		    sink_emit, s), 0);
	store_abort(&txn);
}

#define REFRESH_RT TOK("f1", "t-rt", "authorization_code",		\
	"\"kind\":\"refresh\",\"sub\":\"user\",\"client_id\":\"app\","	\
	"\"iat\":1000,\"exp\":9000", "")
#define REFRESH_NEW TOK("f2", "t-new", "refresh_token",			\
	"\"sub\":\"user\",\"client_id\":\"app\",\"iat\":1100,"		\
	"\"exp\":9000", "\"previous\":\"t-rt\"")
#define REVOKE_RT "{\"v\":1,\"type\":\"token.revoked\",\"id\":\"r1\","	\
	"\"time\":1050,\"iss\":\"" ISS "\",\"target\":{\"jti\":\"t-rt\"}}"

/* A refresh from a revoked token: one parent_inactive, in any order. */
Test(apply, refresh_bypass_violation_in_either_order)
{
	const char *first[] = { REFRESH_RT, REVOKE_RT, REFRESH_NEW };
	const char *late[] = { REFRESH_RT, REFRESH_NEW, REVOKE_RT };
	const char *early[] = { REVOKE_RT, REFRESH_NEW, REFRESH_RT };
	const char *const *orders[] = { first, late, early };
	struct sink s;
	size_t i;

	for (i = 0; i < 3; i++) {
		if (i > 0)
			reopen();
		apply_all(PROFILE_ENFORCE, orders[i], 3);
		cr_expect_eq(status_of("t-new"), STORE_REVOKED, "order %zu", i);
		drain_all(&s);
		cr_expect_eq(s.revocations, 2, "order %zu", i);
		cr_expect_eq(s.late, 1, "order %zu: %d parent_inactive", i,
		    s.late);
	}
}

/* Minted before the revocation: no violation. */
Test(apply, child_minted_before_revocation_is_no_violation)
{
	const char *ev[] = { REFRESH_RT, REFRESH_NEW,
	    "{\"v\":1,\"type\":\"token.revoked\",\"id\":\"r1\","
	    "\"time\":1200,\"iss\":\"" ISS "\","
	    "\"target\":{\"jti\":\"t-rt\"}}" };
	struct sink s;

	apply_all(PROFILE_ENFORCE, ev, 3);
	drain_all(&s);
	cr_expect_eq(s.revocations, 2);
	cr_expect_eq(s.late, 0);
}

#define REV(id, time, jti) "{\"v\":1,\"type\":\"token.revoked\","	\
	"\"id\":\"" id "\",\"time\":" #time ",\"iss\":\"" ISS "\","	\
	"\"target\":{\"jti\":\"" jti "\"}}"

/* A parent both expired and revoked before the child: one violation. */
Test(apply, expired_and_revoked_parent_one_violation)
{
	const char *ev[] = { TOK("g1", "t-old", "authorization_code",
	    "\"kind\":\"refresh\",\"sub\":\"user\",\"client_id\":\"app\","
	    "\"iat\":1000,\"exp\":1050", ""), REV("r1", 1020, "t-old"),
	    TOK("g2", "t-kid", "refresh_token", "\"sub\":\"user\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000",
	    "\"previous\":\"t-old\"") };
	struct sink s;

	apply_all(PROFILE_ENFORCE, ev, 3);
	drain_all(&s);
	cr_expect_eq(s.late, 1, "%d parent_inactive", s.late);
}

/* Subject revoked after the child was minted, actor before: one. */
Test(apply, second_revoked_parent_found)
{
	const char *ev[] = { REV("r2", 2000, "t-user"), REV("r1", 1000,
	    "t-orch-cc"), chain[0], chain[1], chain[2] };
	struct sink s;

	apply_all(PROFILE_ENFORCE, ev, 5);
	cr_expect_eq(status_of("t-orch"), STORE_REVOKED);
	drain_all(&s);
	cr_expect_eq(s.late, 1, "%d parent_inactive", s.late);
}

/* A parent jti cut inside a UTF-8 character still gives valid JSON. */
Test(apply, violation_detail_stays_utf8)
{
	const char *ev[] = { REV("r1", 1000, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9"),
	    TOK("g2", "t-kid", "refresh_token", "\"sub\":\"user\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000",
	    "\"previous\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaa\xc3\xa9\"") };
	struct sink s;

	apply_all(PROFILE_ENFORCE, ev, 2);
	drain_all(&s);
	cr_expect_eq(s.revocations, 1);
	cr_expect_eq(s.late, 1);
}

/* 63 a's and an e-acute: 65 bytes, so a 64-byte cut falls inside the é. */
#define JTI_E	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\xc3\xa9"

/*
 * The poison pill of issue 9: a cycle whose violation detail cut the
 * jti inside a character made json_pack fail and stopped consumption.
 * Every event after it must still be applied.
 */
Test(apply, cycle_detail_cut_on_a_character_boundary)
{
	const char *ev[] = {
	    TOK("p1", "t-a", "refresh_token", "\"sub\":\"u\","
	    "\"client_id\":\"app\",\"iat\":1000,\"exp\":9000",
	    "\"previous\":\"" JTI_E "\""),
	    TOK("p2", JTI_E, "refresh_token", "\"sub\":\"u\","
	    "\"client_id\":\"app\",\"iat\":1000,\"exp\":9000",
	    "\"previous\":\"t-a\""),
	    REV("p3", 1000, "t-a") };

	cr_expect_eq(apply_all(PROFILE_ENFORCE, ev, 3), APPLY_OK);
	cr_expect_eq(status_of("t-a"), STORE_REVOKED);
	cr_expect_eq(status_of(JTI_E), STORE_REVOKED);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "parent_cycle"), 1);
	cr_expect_eq(outbox_has(OUT_DLQ, NULL), 0);
}

/* A token whose stored claims are not JSON: its children cannot be checked. */
static void
put_broken_parent(const char *jti)
{
	struct store_txn *txn;
	struct store_token tok;
	struct store_put_args args = { &tok, NULL, 0, 0 };
	uint64_t id;

	memset(&tok, 0, sizeof(tok));
	tok.iss = ISS;
	tok.jti = jti;
	tok.sub = "u";
	tok.client_id = "app";
	tok.iat = 1000;
	tok.exp = 9000;
	tok.claims = "{not json";
	tok.claims_len = 9;
	cr_assert_eq(store_begin(st, 0, &txn), 0);
	cr_assert_eq(store_put(txn, &args, &id), 0);
	cr_assert_eq(store_commit(&txn), 0);
}

static int
known(const char *jti)
{
	struct store_txn *txn;
	uint64_t id;
	int rc;

	cr_assert_eq(store_begin(st, 1, &txn), 0);
	rc = store_lookup(txn, ISS, jti, &id);
	store_abort(&txn);
	return rc == 0;
}

/*
 * The class behind the poison pill: an event that fails for a reason of
 * its own is dead-lettered as unprocessable with none of its effects
 * (here: the placeholder of its second parent), and the events after it
 * in the same transaction are applied.
 */
Test(apply, unprocessable_event_dead_lettered_whole)
{
	const char *ev[] = {
	    TOK("u1", "t-kid", XCH, "\"sub\":\"u\",\"client_id\":\"app\","
	    "\"aud\":\"x\",\"iat\":1100,\"exp\":2000",
	    "\"subject\":\"t-broken\",\"actor\":\"t-never-seen\""),
	    TOK("u2", "t-next", "client_credentials", "\"sub\":\"app\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000", "") };
	struct apply_config ac = { PROFILE_ENFORCE, 8, 0, 0 };
	struct apply *a = apply_new(&ac);
	struct store_txn *txn;
	struct apply_msg m;
	const char *reason = NULL;
	struct apply_counts c;
	int64_t next;

	put_broken_parent("t-broken");
	cr_assert_eq(store_begin(st, 0, &txn), 0);
	memset(&m, 0, sizeof(m));
	m.topic = "token-events";
	m.payload = ev[0];
	m.len = strlen(ev[0]);
	cr_expect_eq(apply_message(a, txn, &m, &reason), APPLY_UNPROCESSABLE);
	cr_expect_str_eq(reason, "unprocessable");
	m.offset = 1;
	m.payload = ev[1];
	m.len = strlen(ev[1]);
	cr_expect_eq(apply_message(a, txn, &m, &reason), APPLY_OK);
	cr_assert_eq(store_commit(&txn), 0);
	cr_expect_eq(status_of("t-kid"), -1, "nothing of the event kept");
	cr_expect(!known("t-never-seen"), "its placeholder was kept");
	cr_expect_eq(status_of("t-next"), STORE_ACTIVE);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"error\":\"unprocessable\""), 1);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"detail\":"), 1);
	cr_assert_eq(store_begin(st, 1, &txn), 0);
	cr_expect_eq(store_offset_get(txn, "token-events", 0, &next), 0);
	cr_expect_eq(next, 2, "both offsets recorded");
	store_abort(&txn);
	apply_counts(a, &c);
	cr_expect_eq(c.dead, 1);
	cr_expect_eq(c.applied, 1);
	apply_free(&a);
}

/* apply_batch()'s dead-letter callback: the reasons it was told. */
struct deads {
	int		 n;
	const char	*reason[8];
};

static void
count_dead(void *arg, const char *reason)
{
	struct deads *d = arg;

	if (d->n < 8)
		d->reason[d->n] = reason;
	d->n++;
}

static void
batch_msgs(const char *const *ev, size_t n, struct apply_msg *m)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].topic = "token-events";
		m[i].offset = (int64_t)i;
		m[i].payload = ev[i];
		m[i].len = strlen(ev[i]);
	}
}

/*
 * apply_batch() applies events straight in its transaction and, when one
 * fails half-way, rolls back and applies the batch again nested: the
 * outcome is that of apply_message() one by one, and each dead letter is
 * told once.
 */
Test(apply, batch_with_a_half_failed_event_is_applied_whole)
{
	const char *ev[] = {
	    TOK("b1", "t-first", "client_credentials", "\"sub\":\"app\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000", ""),
	    TOK("b2", "t-first", "client_credentials", "\"sub\":\"app\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000", ""),
	    TOK("b3", "t-kid", XCH, "\"sub\":\"u\",\"client_id\":\"app\","
	    "\"aud\":\"x\",\"iat\":1100,\"exp\":2000",
	    "\"subject\":\"t-broken\",\"actor\":\"t-never-seen\""),
	    "{not an event",
	    TOK("b5", "t-last", "client_credentials", "\"sub\":\"app\","
	    "\"client_id\":\"app\",\"iat\":1100,\"exp\":9000", "") };
	struct apply_config ac = { PROFILE_ENFORCE, 8, 0, 0 };
	struct apply *a = apply_new(&ac);
	struct apply_msg m[5];
	struct store_txn *txn;
	struct apply_counts c;
	struct deads d = { 0, { NULL } };
	int64_t next;

	put_broken_parent("t-broken");
	batch_msgs(ev, 5, m);
	cr_assert_eq(apply_batch(a, st, m, 5, count_dead, &d), APPLY_OK);
	cr_expect_eq(status_of("t-first"), STORE_ACTIVE);
	cr_expect_eq(status_of("t-kid"), -1, "nothing of the event kept");
	cr_expect(!known("t-never-seen"), "its placeholder was kept");
	cr_expect_eq(status_of("t-last"), STORE_ACTIVE);
	cr_expect_eq(outbox_has(OUT_DLQ, NULL), 3);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"error\":\"unprocessable\""), 1);
	cr_assert_eq(d.n, 3, "dead letters told %d times", d.n);
	cr_expect_str_eq(d.reason[0], "duplicate_jti");
	cr_expect_str_eq(d.reason[1], "unprocessable");
	apply_counts(a, &c);
	cr_expect_eq(c.applied, 2);
	cr_expect_eq(c.dead, 3);
	cr_assert_eq(store_begin(st, 1, &txn), 0);
	cr_expect_eq(store_offset_get(txn, "token-events", 0, &next), 0);
	cr_expect_eq(next, 5, "every offset recorded");
	store_abort(&txn);
	apply_free(&a);
}

/*
 * A batch the store cannot hold leaves nothing: not its effects, not its
 * counts, and no dead letter is told of, as none was committed.
 */
Test(apply, failed_batch_counts_and_tells_nothing)
{
	static char evs[3000][300];
	const char *ev[3000];
	struct apply_msg m[3000];
	struct apply_config ac = { PROFILE_ENFORCE, 8, 0, 0 };
	struct apply *a = apply_new(&ac);
	struct apply_counts c;
	struct deads d = { 0, { NULL } };
	int i;

	fixture_store_free(&st, dir);
	st = fixture_store("apply_test", 256 << 10, dir);
	for (i = 0; i < 3000; i++) {
		if (i == 1)
			snprintf(evs[i], sizeof(evs[i]), "{bad %d", i);
		else
			snprintf(evs[i], sizeof(evs[i]), TOK("f%d", "t-%d",
			    "client_credentials", "\"sub\":\"app\","
			    "\"client_id\":\"app\",\"iat\":1100,"
			    "\"exp\":9000", ""), i, i);
		ev[i] = evs[i];
	}
	batch_msgs(ev, 3000, m);
	cr_assert_eq(apply_batch(a, st, m, 3000, count_dead, &d),
	    APPLY_STORE_FULL);
	cr_expect_eq(d.n, 0, "told of %d dead letters never committed", d.n);
	apply_counts(a, &c);
	cr_expect_eq(c.applied, 0, "%llu counted",
	    (unsigned long long)c.applied);
	cr_expect_eq(c.dead, 0);
	cr_expect_eq(status_of("t-0"), -1);
	apply_free(&a);
}

/*
 * A full map is the store's failure, not the event's: the result says
 * so (the caller pauses and retries), and no dead letter is written.
 */
Test(apply, full_map_is_a_store_failure)
{
	char ev[4096], jti[64];
	struct apply_config ac = { PROFILE_ENFORCE, 8, 0, 0 };
	struct apply *a = apply_new(&ac);
	struct store_txn *txn;
	struct apply_msg m;
	int rc = APPLY_OK, i;

	fixture_store_free(&st, dir);
	st = fixture_store("apply_test", 256 << 10, dir);
	cr_assert_eq(store_begin(st, 0, &txn), 0);
	for (i = 0; i < 100000 && rc == APPLY_OK; i++) {
		snprintf(jti, sizeof(jti), "t-%d", i);
		snprintf(ev, sizeof(ev), TOK("f%d", "%s", "client_credentials",
		    "\"sub\":\"app\",\"client_id\":\"app\",\"iat\":1100,"
		    "\"exp\":9000", ""), i, jti);
		memset(&m, 0, sizeof(m));
		m.payload = ev;
		m.len = strlen(ev);
		rc = apply_message(a, txn, &m, NULL);
	}
	cr_expect_eq(rc, APPLY_STORE_FULL, "result %d after %d events", rc, i);
	cr_expect_eq(store_failure(st, NULL), STORE_FAIL_FULL);
	store_abort(&txn);
	apply_free(&a);
}

/* --- revocation by raw-token hash (SPEC v1.1 section 2) --- */

#define H1	"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
#define H2	"5y4lgc_9j--TWzAPOYpaGLy3MNWevS_CZ8Xf19X-FJ4"
#define PLAIN	"\"sub\":\"u\",\"client_id\":\"c\",\"iat\":1000,\"exp\":9000"
#define HREV(id, target)						\
	"{\"v\":1,\"type\":\"token.revoked\",\"id\":\"" id "\","	\
	"\"time\":1100,\"iss\":\"" ISS "\",\"target\":" target "}"

static const char *hashed[] = {
	TOK("h1", "t-root", "authorization_code", "\"hash\":\"" H1 "\","
	    PLAIN, ""),
	TOK("h2", "t-kid", "refresh_token", PLAIN, "\"previous\":\"t-root\""),
	TOK("h3", "t-grandkid", "refresh_token", PLAIN,
	    "\"previous\":\"t-kid\""),
	TOK("h4", "t-other", "authorization_code", "\"hash\":\"" H2 "\","
	    PLAIN, ""),
};
#define NHASHED	(sizeof(hashed) / sizeof(hashed[0]))

static void
expect_hash_revoked(const char *when)
{
	cr_expect_eq(status_of("t-root"), STORE_REVOKED, "%s", when);
	cr_expect_eq(status_of("t-kid"), STORE_REVOKED, "%s", when);
	cr_expect_eq(status_of("t-grandkid"), STORE_REVOKED, "%s", when);
	cr_expect_eq(status_of("t-other"), STORE_ACTIVE, "%s", when);
}

/* Before or after the issuance, in any position: the same statuses. */
Test(apply, revocation_by_hash_in_any_order)
{
	const char *rev = HREV("r-h", "{\"hash\":\"" H1 "\"}");
	const char *order[NHASHED + 1];
	size_t pos, i, j;

	for (pos = 0; pos <= NHASHED; pos++) {
		reopen();
		for (i = 0, j = 0; i <= NHASHED; i++)
			order[i] = i == pos ? rev : hashed[j++];
		apply_all(PROFILE_ENFORCE, order, NHASHED + 1);
		expect_hash_revoked(pos == 0 ? "revoked first" : "later");
		cr_expect_eq(outbox_has(OUT_DLQ, NULL), 0);
		cr_expect_eq(outbox_has(STORE_OUT_CASCADE, NULL), 1,
		    "position %zu", pos);
	}
	/* Reversed issuance (children first), revocation first. */
	reopen();
	order[0] = rev;
	for (i = 0; i < NHASHED; i++)
		order[i + 1] = hashed[NHASHED - 1 - i];
	apply_all(PROFILE_ENFORCE, order, NHASHED + 1);
	expect_hash_revoked("children first");
}

/* An unknown hash stays remembered across transactions. */
Test(apply, unknown_hash_then_issuance_is_born_revoked)
{
	const char *rev[] = { HREV("r-h", "{\"hash\":\"" H1 "\"}") };

	apply_all(PROFILE_ENFORCE, rev, 1);
	apply_all(PROFILE_ENFORCE, hashed, NHASHED);
	expect_hash_revoked("remembered");
}

Test(apply, bad_hash_target_is_dead_lettered)
{
	const char *ev[] = {
		HREV("r-1", "{\"hash\":\"" H1 "A\"}"),
		/* 42 characters; a '+'; two low bits set (not canonical) */
		HREV("r-2", "{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOW"
		    "F3qctBD_YfIAFa\"}"),
		HREV("r-3", "{\"hash\":\"ungWv48Bz+pBQUDeXa4iI7ADYaOW"
		    "F3qctBD_YfIAFa0\"}"),
		HREV("r-4", "{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOW"
		    "F3qctBD_YfIAFa1\"}"),
		HREV("r-5", "{\"hash\":\"" H1 "\",\"jti\":\"t-root\"}"),
		HREV("r-6", "{\"hash\":\"" H1 "\",\"iss\":\"" ISS "\"}"),
		HREV("r-7", "{\"hash\":7}"),
	};
	size_t n = sizeof(ev) / sizeof(ev[0]);

	apply_all(PROFILE_ENFORCE, hashed, NHASHED);
	cr_expect_eq(apply_all(PROFILE_ENFORCE, ev, n), APPLY_DLQ);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"error\":\"bad_field\""), (int)n);
	cr_expect_eq(status_of("t-root"), STORE_ACTIVE);
	cr_expect_eq(outbox_has(STORE_OUT_CASCADE, NULL), 0);
}

/* A second token with a hash already taken is a conflict, any issuer. */
Test(apply, duplicate_hash_is_dead_lettered)
{
	const char *ev[] = {
		hashed[0],
		TOK("d1", "t-same-hash", "authorization_code",
		    "\"hash\":\"" H1 "\"," PLAIN, "\"subject\":\"t-new\""),
		"{\"v\":1,\"type\":\"token.issued\",\"id\":\"d2\","
		"\"time\":1000,"
		"\"iss\":\"https://other\",\"grant_type\":\"x\",\"token\":{"
		"\"jti\":\"t-root\",\"hash\":\"" H1 "\"," PLAIN "}}",
		HREV("r-h", "{\"hash\":\"" H1 "\"}"),
	};
	struct store_txn *txn;
	uint64_t id;

	apply_all(PROFILE_ENFORCE, ev, 4);
	cr_expect_eq(outbox_has(OUT_DLQ, "\"error\":\"duplicate_hash\""), 2);
	cr_expect_eq(status_of("t-root"), STORE_REVOKED);
	cr_assert_eq(store_begin(st, 1, &txn), 0);
	cr_expect_eq(store_lookup(txn, ISS, "t-same-hash", &id),
	    STORE_NOTFOUND);
	cr_expect_eq(store_lookup(txn, ISS, "t-new", &id), STORE_NOTFOUND,
	    "a dead-lettered event leaves no placeholder");
	cr_expect_eq(store_lookup(txn, "https://other", "t-root", &id),
	    STORE_NOTFOUND);
	store_abort(&txn);
}

/* --- a cycle in each mode --- */

static const char *cycle3[] = {
	TOK("c1", "t-x", "refresh_token", PLAIN, "\"previous\":\"t-z\""),
	TOK("c2", "t-y", "refresh_token", PLAIN, "\"previous\":\"t-x\""),
	TOK("c3", "t-z", "refresh_token", PLAIN, "\"previous\":\"t-y\""),
	TOK("c4", "t-below", "refresh_token", PLAIN, "\"previous\":\"t-y\""),
};

/* Audit leaves every status as off does; enforce denies the cycle. */
Test(apply, cycle_statuses_by_mode)
{
	static const char *jtis[] = { "t-x", "t-y", "t-z", "t-below" };
	int off[4], i;

	apply_all(PROFILE_OFF, cycle3, 4);
	for (i = 0; i < 4; i++)
		off[i] = status_of(jtis[i]);
	cr_expect_eq(outbox_has(OUT_VIOLATION, NULL), 0);
	reopen();
	apply_all(PROFILE_AUDIT, cycle3, 4);
	for (i = 0; i < 4; i++)
		cr_expect_eq(status_of(jtis[i]), off[i], "audit: %s is %d, "
		    "off gives %d", jtis[i], status_of(jtis[i]), off[i]);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "parent_cycle"), 1);
	reopen();
	apply_all(PROFILE_ENFORCE, cycle3, 4);
	for (i = 0; i < 4; i++)
		cr_expect_eq(status_of(jtis[i]), STORE_DENIED, "enforce: %s",
		    jtis[i]);
	cr_expect_eq(outbox_has(OUT_VIOLATION, "parent_cycle"), 1);
	for (i = 0; i < 4; i++)
		cr_expect_eq(off[i], STORE_ACTIVE, "off: %s", jtis[i]);
}
