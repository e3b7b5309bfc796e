/*
 * event_test: every rule of SPEC section 2, a valid and an invalid case
 * each, plus the JSON-level defences (duplicates, size, UTF-8, NUL,
 * trailing bytes) and the claims blob round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "consumers/event/event.h"

#define BUFSZ	(1 << 17)

static struct event	 ev;
static const char	*reason;
static char		 err[256];
static char		 buf[BUFSZ];

static void
teardown(void)
{
	event_clear(&ev);
}

TestSuite(event, .fini = teardown);

static int
decode_len(const char *js, size_t len, size_t maxlen)
{
	event_clear(&ev);
	reason = NULL;
	return event_decode(js, len, maxlen, &ev, &reason, err, sizeof(err));
}

static void
ok(const char *js)
{
	int	rc;

	rc = decode_len(js, strlen(js), 0);
	cr_assert_eq(rc, 0, "rejected (%s: %s): %.200s", reason, err, js);
}

static void
bad(const char *js, const char *want, const char *detail)
{
	int	rc;

	rc = decode_len(js, strlen(js), 0);
	cr_assert_eq(rc, -1, "accepted: %.200s", js);
	cr_assert_str_eq(reason, want, "reason %s (%s) for %.200s", reason,
	    err, js);
	if (detail != NULL)
		cr_assert(strstr(err, detail) != NULL,
		    "detail \"%s\" lacks \"%s\"", err, detail);
}

static const char *
checked(int n)
{
	cr_assert(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

/* printf into the static buf, checked. */
#define fmt(...)	checked(snprintf(buf, sizeof(buf), __VA_ARGS__))

/* An issuance with extra top-level members top and token members tok. */
static const char *
issued(const char *top, const char *tok)
{
	return fmt("{\"v\":1,\"type\":\"token.issued\",\"id\":\"e-1\","
	    "\"time\":1764380000,\"iss\":\"https://idp.example\"%s,"
	    "\"token\":{\"jti\":\"t-1\",\"sub\":\"user-1\","
	    "\"client_id\":\"agent-a\",\"exp\":1764380900%s}}", top, tok);
}

/* An issuance whose token object holds exactly body. */
static const char *
issued_tok(const char *body)
{
	return fmt("{\"v\":1,\"type\":\"token.issued\",\"id\":\"e-1\","
	    "\"time\":1,\"iss\":\"i\",\"token\":{%s}}", body);
}

/* An issuance with the common members given as head. */
static const char *
head(const char *h)
{
	return fmt("{%s,\"token\":{\"jti\":\"t\",\"sub\":\"s\","
	    "\"client_id\":\"c\",\"exp\":2}}", h);
}

/* A revocation of target, with extra top-level members. */
static const char *
revoked(const char *target, const char *extra)
{
	return fmt("{\"v\":1,\"type\":\"token.revoked\",\"id\":\"e-2\","
	    "\"time\":1764380100,\"iss\":\"https://idp.example\","
	    "\"target\":%s%s}", target, extra);
}

/* A string of n copies of c, in a static buffer (one at a time). */
static const char *
rep(char c, size_t n)
{
	static char	s[BUFSZ / 2];

	cr_assert(n < sizeof(s));
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ",\"key\":\"<n x's>\"" */
static const char *
member_len(const char *key, size_t n)
{
	static char	s[BUFSZ / 2];
	int		len;

	len = snprintf(s, sizeof(s), ",\"%s\":\"%s\"", key, rep('x', n));
	cr_assert(len > 0 && (size_t)len < sizeof(s));
	return s;
}

static const char spec_issued[] =
    "{\"v\":1,\"type\":\"token.issued\",\"id\":\"e-1001\","
    "\"time\":1764380000,\"iss\":\"https://idp.example\","
    "\"grant_type\":\"urn:ietf:params:oauth:grant-type:token-exchange\","
    "\"token\":{\"jti\":\"t-agent-a\","
    "\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\","
    "\"kind\":\"access\",\"sub\":\"user-123\",\"client_id\":\"agent-a\","
    "\"aud\":\"agent-b\",\"scope\":\"files:read\",\"iat\":1764380000,"
    "\"exp\":1764380900,"
    "\"act\":{\"sub\":\"agent-a\",\"act\":{\"sub\":\"orchestrator\"}},"
    "\"may_act\":{\"sub\":\"agent-b\"}},"
    "\"parents\":{\"subject\":\"t-orchestrator\","
    "\"actor\":\"t-agent-a-cc\"}}";

static const char spec_revoked[] =
    "{\"v\":1,\"type\":\"token.revoked\",\"id\":\"e-2001\","
    "\"time\":1764380100,\"iss\":\"https://idp.example\","
    "\"target\":{\"jti\":\"t-user\"},\"reason\":\"logout\"}";

static const uint8_t abc_sha256[32] = {
	0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
	0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
	0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

/* --- the SPEC examples --- */

Test(event, spec_issued)
{
	const struct ev_token *t = &ev.tok;

	ok(spec_issued);
	cr_assert_eq(ev.type, EV_ISSUED);
	cr_assert_str_eq(ev.id, "e-1001");
	cr_assert_eq(ev.time, 1764380000);
	cr_assert_str_eq(ev.iss, "https://idp.example");
	cr_assert(ev.is_exchange);
	cr_assert_str_eq(t->jti, "t-agent-a");
	cr_assert(t->has_hash);
	cr_assert_arr_eq(t->hash, abc_sha256, 32);
	cr_assert_eq(t->kind, EV_KIND_ACCESS);
	cr_assert_str_eq(t->sub, "user-123");
	cr_assert_str_eq(t->client_id, "agent-a");
	cr_assert_eq(t->naud, 1);
	cr_assert_str_eq(t->aud[0], "agent-b");
	cr_assert_str_eq(t->scope, "files:read");
	cr_assert(t->has_iat && !t->has_nbf);
	cr_assert_eq(t->iat, 1764380000);
	cr_assert_eq(t->exp, 1764380900);
	cr_assert_eq(t->nact, 2);
	cr_assert_str_eq(t->act[0].sub, "agent-a");
	cr_assert_str_eq(t->act[1].sub, "orchestrator");
	cr_assert_null(t->act[0].iss);
	cr_assert(t->has_may_act);
	cr_assert_str_eq(t->may_act.sub, "agent-b");
	cr_assert_str_eq(ev.parent[EV_PARENT_SUBJECT].jti, "t-orchestrator");
	cr_assert_null(ev.parent[EV_PARENT_SUBJECT].iss);
	cr_assert_str_eq(ev.parent[EV_PARENT_ACTOR].jti, "t-agent-a-cc");
	cr_assert_null(ev.parent[EV_PARENT_PREVIOUS].jti);
}

Test(event, spec_revoked)
{
	ok(spec_revoked);
	cr_assert_eq(ev.type, EV_REVOKED);
	cr_assert_str_eq(ev.id, "e-2001");
	cr_assert_eq(ev.time, 1764380100);
	cr_assert_eq(ev.target_kind, EV_TGT_JTI);
	cr_assert_str_eq(ev.target, "t-user");
	cr_assert_null(ev.target_iss);
	cr_assert_str_eq(ev.reason, "logout");
}

Test(event, minimal_issued_defaults)
{
	ok(issued("", ""));
	cr_assert_null(ev.grant_type);
	cr_assert(!ev.is_exchange);
	cr_assert(!ev.tok.has_hash && !ev.tok.has_iat && !ev.tok.has_nbf);
	cr_assert_eq(ev.tok.kind, EV_KIND_ACCESS);
	cr_assert_eq(ev.tok.naud, 0);
	cr_assert_null(ev.tok.scope);
	cr_assert_eq(ev.tok.nact, 0);
	cr_assert(!ev.tok.has_may_act);
	cr_assert_null(ev.parent[0].jti);
}

/* --- v --- */

Test(event, version)
{
	ok(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\""));
	bad(head("\"v\":2,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\""), "bad_version", "v: unsupported version 2");
	bad(head("\"v\":0,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\""), "bad_version", NULL);
	bad(head("\"v\":\"1\",\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\""), "bad_version", "v: must be");
	bad(head("\"v\":1.0,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\""), "bad_version", NULL);
	bad(head("\"v\":true,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\""), "bad_version", NULL);
	bad(head("\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\""), "missing_field", "v: missing");
}

/* --- type --- */

Test(event, type)
{
	bad(head("\"v\":1,\"type\":\"token.refreshed\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\""), "unknown_type",
	    "type: unknown \"token.refreshed\"");
	bad(head("\"v\":1,\"type\":\"\",\"id\":\"e\",\"time\":1,\"iss\":\"i\""),
	    "unknown_type", NULL);
	bad(head("\"v\":1,\"type\":7,\"id\":\"e\",\"time\":1,\"iss\":\"i\""),
	    "bad_field", "type: must be a string");
	bad(head("\"v\":1,\"id\":\"e\",\"time\":1,\"iss\":\"i\""),
	    "missing_field", "type: missing");
}

Test(event, type_long_value_truncated)
{
	char	js[4096];
	int	n;

	n = snprintf(js, sizeof(js), "{\"v\":1,\"type\":\"%s\\n\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\"}", rep('T', 1000));
	cr_assert(n > 0 && (size_t)n < sizeof(js));
	bad(js, "unknown_type", "TTTT");
	cr_assert_lt(strlen(err), 120, "detail not truncated: %s", err);
	cr_assert_null(strchr(err, '\n'));
}

/* --- id, time, iss --- */

Test(event, id)
{
	char	h[512];
	int	n;

	n = snprintf(h, sizeof(h), "\"v\":1,\"type\":\"token.issued\","
	    "\"id\":\"%s\",\"time\":1,\"iss\":\"i\"", rep('e', 128));
	cr_assert(n > 0 && (size_t)n < sizeof(h));
	ok(head(h));
	n = snprintf(h, sizeof(h), "\"v\":1,\"type\":\"token.issued\","
	    "\"id\":\"%s\",\"time\":1,\"iss\":\"i\"", rep('e', 129));
	cr_assert(n > 0 && (size_t)n < sizeof(h));
	bad(head(h), "bad_field", "id: must be 1..128 bytes");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"\",\"time\":1,"
	    "\"iss\":\"i\""), "bad_field", "id:");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":12,\"time\":1,"
	    "\"iss\":\"i\""), "bad_field", "id: must be a string");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"time\":1,"
	    "\"iss\":\"i\""), "missing_field", "id: missing");
}

Test(event, time)
{
	ok(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":0,"
	    "\"iss\":\"i\""));
	cr_assert_eq(ev.time, 0);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":1.5,\"iss\":\"i\""), "bad_field",
	    "time: must be an integer");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":\"1\",\"iss\":\"i\""), "bad_field", NULL);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":false,\"iss\":\"i\""), "bad_field", NULL);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":-1,\"iss\":\"i\""), "bad_field", "time: out of range");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"time\":null,\"iss\":\"i\""), "bad_field", NULL);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\","
	    "\"iss\":\"i\""), "missing_field", "time: missing");
}

Test(event, iss)
{
	char	h[1024];
	int	n;

	n = snprintf(h, sizeof(h), "\"v\":1,\"type\":\"token.issued\","
	    "\"id\":\"e\",\"time\":1,\"iss\":\"%s\"", rep('i', 256));
	cr_assert(n > 0 && (size_t)n < sizeof(h));
	ok(head(h));
	n = snprintf(h, sizeof(h), "\"v\":1,\"type\":\"token.issued\","
	    "\"id\":\"e\",\"time\":1,\"iss\":\"%s\"", rep('i', 257));
	cr_assert(n > 0 && (size_t)n < sizeof(h));
	bad(head(h), "bad_field", "iss: must be 1..256 bytes");
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"\""), "bad_field", NULL);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":[\"i\"]"), "bad_field", NULL);
	bad(head("\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1"),
	    "missing_field", "iss: missing");
}

/* --- grant_type --- */

Test(event, grant_type)
{
	ok(issued(",\"grant_type\":\"refresh_token\"", ""));
	cr_assert_str_eq(ev.grant_type, "refresh_token");
	cr_assert(!ev.is_exchange);
	ok(issued(",\"grant_type\":\"" EV_GRANT_EXCHANGE "\"", ""));
	cr_assert(ev.is_exchange);
	bad(issued(",\"grant_type\":1", ""), "bad_field", "grant_type:");
	bad(issued(",\"grant_type\":\"\"", ""), "bad_field", "grant_type:");
}

/* --- token --- */

Test(event, token_object)
{
	bad("{\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\"}", "missing_field", "token: missing");
	bad("{\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\",\"token\":[]}", "bad_field",
	    "token: must be an object");
	bad("{\"v\":1,\"type\":\"token.issued\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\",\"token\":\"t\"}", "bad_field", NULL);
}

Test(event, token_jti)
{
	char	body[1024];
	int	n;

	n = snprintf(body, sizeof(body), "\"jti\":\"%s\",\"sub\":\"s\","
	    "\"client_id\":\"c\",\"exp\":1", rep('j', 256));
	cr_assert(n > 0 && (size_t)n < sizeof(body));
	ok(issued_tok(body));
	cr_assert_eq(strlen(ev.tok.jti), 256);
	n = snprintf(body, sizeof(body), "\"jti\":\"%s\",\"sub\":\"s\","
	    "\"client_id\":\"c\",\"exp\":1", rep('j', 257));
	cr_assert(n > 0 && (size_t)n < sizeof(body));
	bad(issued_tok(body), "bad_field", "token.jti: must be 1..256 bytes");
	bad(issued_tok("\"jti\":\"\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":1"), "bad_field", "token.jti");
	bad(issued_tok("\"sub\":\"s\",\"client_id\":\"c\",\"exp\":1"),
	    "missing_field", "token.jti: missing");
	bad(issued_tok("\"jti\":5,\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":1"), "bad_field", "token.jti: must be a string");
}

Test(event, token_hash_valid)
{
	char	tok[128];
	int	n;

	ok(issued("", ",\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa"
	    "0\""));
	cr_assert(ev.tok.has_hash);
	cr_assert_arr_eq(ev.tok.hash, abc_sha256, 32);
	ok(issued("", ",\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "A\""));
	cr_assert(ev.tok.has_hash);
	cr_assert_eq(ev.tok.hash[0], 0);
	cr_assert_eq(ev.tok.hash[31], 0);
	n = snprintf(tok, sizeof(tok), ",\"hash\":\"%sw\"", rep('_', 42));
	cr_assert(n > 0 && (size_t)n < sizeof(tok));
	ok(issued("", tok));
	cr_assert_eq(ev.tok.hash[0], 0xff);
	cr_assert_eq(ev.tok.hash[31], 0xfc);
}

Test(event, token_hash_invalid)
{
	static const char *const bad_hashes[] = {
		/* padding */
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=",
		/* standard alphabet */
		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
		/* too short, too long */
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa",
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0A",
		/* non-zero trailing bits */
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa1",
		/* whitespace, empty, the SPEC's placeholder */
		"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAF a",
		"",
		"kP3...base64url...",
	};
	char	tok[256];
	size_t	i;
	int	n;

	for (i = 0; i < sizeof(bad_hashes) / sizeof(bad_hashes[0]); i++) {
		n = snprintf(tok, sizeof(tok), ",\"hash\":\"%s\"",
		    bad_hashes[i]);
		cr_assert(n > 0 && (size_t)n < sizeof(tok));
		bad(issued("", tok), "bad_field", "token.hash: must be base64ur"
		    "l");
	}
	bad(issued("", ",\"hash\":32"), "bad_field", "token.hash: must be a str"
	    "ing");
}

Test(event, token_kind)
{
	ok(issued("", ",\"kind\":\"access\""));
	cr_assert_eq(ev.tok.kind, EV_KIND_ACCESS);
	ok(issued("", ",\"kind\":\"refresh\""));
	cr_assert_eq(ev.tok.kind, EV_KIND_REFRESH);
	bad(issued("", ",\"kind\":\"bearer\""), "bad_field",
	    "token.kind: must be \"access\" or \"refresh\"");
	bad(issued("", ",\"kind\":\"refresh_token\""), "bad_field", NULL);
	bad(issued("", ",\"kind\":1"), "bad_field", NULL);
}

Test(event, token_sub_client_id)
{
	char	body[1024];
	int	n;

	bad(issued_tok("\"jti\":\"t\",\"client_id\":\"c\",\"exp\":1"),
	    "missing_field", "token.sub: missing");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"exp\":1"),
	    "missing_field", "token.client_id: missing");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"\",\"client_id\":\"c\","
	    "\"exp\":1"), "bad_field", "token.sub");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":7,"
	    "\"exp\":1"), "bad_field", "token.client_id: must be a string");
	n = snprintf(body, sizeof(body), "\"jti\":\"t\",\"sub\":\"%s\","
	    "\"client_id\":\"c\",\"exp\":1", rep('s', 257));
	cr_assert(n > 0 && (size_t)n < sizeof(body));
	bad(issued_tok(body), "bad_field", "token.sub: must be 1..256 bytes");
	n = snprintf(body, sizeof(body), "\"jti\":\"t\",\"sub\":\"s\","
	    "\"client_id\":\"%s\",\"exp\":1", rep('c', 256));
	cr_assert(n > 0 && (size_t)n < sizeof(body));
	ok(issued_tok(body));
}

Test(event, token_aud)
{
	ok(issued("", ",\"aud\":\"agent-b\""));
	cr_assert_eq(ev.tok.naud, 1);
	cr_assert_str_eq(ev.tok.aud[0], "agent-b");
	ok(issued("", ",\"aud\":[\"a\",\"b\"]"));
	cr_assert_eq(ev.tok.naud, 2);
	cr_assert_str_eq(ev.tok.aud[1], "b");
	bad(issued("", ",\"aud\":[]"), "bad_field", "token.aud: must hold");
	bad(issued("", ",\"aud\":[\"a\",1]"), "bad_field",
	    "token.aud[1]: must be a string");
	bad(issued("", ",\"aud\":[\"a\",\"\"]"), "bad_field", "token.aud[1]");
	bad(issued("", ",\"aud\":\"\""), "bad_field", "token.aud");
	bad(issued("", ",\"aud\":{\"a\":1}"), "bad_field",
	    "token.aud: must be a string or an array of strings");
	bad(issued("", ",\"aud\":null"), "bad_field", NULL);
}

Test(event, token_aud_count)
{
	char	tok[4096];
	size_t	i, off;
	int	n;

	off = 0;
	n = snprintf(tok, sizeof(tok), ",\"aud\":[\"a0\"");
	cr_assert(n > 0);
	off = (size_t)n;
	for (i = 1; i < EV_MAX_AUD; i++) {
		n = snprintf(tok + off, sizeof(tok) - off, ",\"a%zu\"", i);
		cr_assert(n > 0 && (size_t)n < sizeof(tok) - off);
		off += (size_t)n;
	}
	cr_assert(off + 2 < sizeof(tok));
	memcpy(tok + off, "]", 2);
	ok(issued("", tok));
	cr_assert_eq(ev.tok.naud, EV_MAX_AUD);
	cr_assert_str_eq(ev.tok.aud[EV_MAX_AUD - 1], "a63");
	memcpy(tok + off, ",\"x\"]", 6);
	bad(issued("", tok), "bad_field", "token.aud: must hold 1..64");
}

Test(event, token_scope)
{
	ok(issued("", ",\"scope\":\"files:read files:write\""));
	cr_assert_str_eq(ev.tok.scope, "files:read files:write");
	ok(issued("", member_len("scope", 4096)));
	cr_assert_eq(strlen(ev.tok.scope), 4096);
	bad(issued("", member_len("scope", 4097)), "bad_field",
	    "token.scope: must be 0..4096 bytes");
	bad(issued("", ",\"scope\":[\"a\"]"), "bad_field", "token.scope");
}

Test(event, token_exp)
{
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\""),
	    "missing_field", "token.exp: missing");
	bad(issued("", ",\"exp\":2"), "invalid_json", "duplicate");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":1.0"), "bad_field", "token.exp: must be an integer");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":1e9"), "bad_field", "token.exp: must be an integer");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":\"1764380900\""), "bad_field", "token.exp: must be an");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":true"), "bad_field", "token.exp: must be an integer");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":-5"), "bad_field", "token.exp: out of range");
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":9223372036854775807"), "bad_field", "out of range");
	/* Beyond int64: jansson refuses it as JSON. */
	bad(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":99999999999999999999"), "invalid_json", NULL);
	ok(issued_tok("\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":253402300799"));
	cr_assert_eq(ev.tok.exp, 253402300799LL);
}

Test(event, token_iat_nbf)
{
	ok(issued("", ",\"iat\":100,\"nbf\":101"));
	cr_assert(ev.tok.has_iat && ev.tok.has_nbf);
	cr_assert_eq(ev.tok.iat, 100);
	cr_assert_eq(ev.tok.nbf, 101);
	ok(issued("", ",\"iat\":0"));
	cr_assert(ev.tok.has_iat && !ev.tok.has_nbf);
	bad(issued("", ",\"iat\":1.5"), "bad_field", "token.iat: must be an");
	bad(issued("", ",\"iat\":-1"), "bad_field", "token.iat: out of range");
	bad(issued("", ",\"nbf\":\"1\""), "bad_field", "token.nbf: must be an");
	bad(issued("", ",\"nbf\":false"), "bad_field", "token.nbf");
	bad(issued("", ",\"nbf\":null"), "bad_field", "token.nbf");
}

Test(event, token_act)
{
	ok(issued("", ",\"act\":{\"sub\":\"a\",\"iss\":\"x\",\"extra\":[1],"
	    "\"act\":{\"sub\":\"b\",\"act\":{}}}"));
	cr_assert_eq(ev.tok.nact, 3);
	cr_assert_str_eq(ev.tok.act[0].sub, "a");
	cr_assert_str_eq(ev.tok.act[0].iss, "x");
	cr_assert_str_eq(ev.tok.act[1].sub, "b");
	cr_assert_null(ev.tok.act[1].iss);
	cr_assert_null(ev.tok.act[2].sub);
	bad(issued("", ",\"act\":\"a\""), "bad_field",
	    "token.act: must be an object");
	bad(issued("", ",\"act\":{\"sub\":1}"), "bad_field",
	    "token.act.sub: must be a string");
	bad(issued("", ",\"act\":{\"sub\":\"a\",\"act\":{\"iss\":\"\"}}"),
	    "bad_field", "token.act.act.iss: must be 1..256 bytes");
	bad(issued("", ",\"act\":{\"sub\":\"a\",\"act\":[]}"), "bad_field",
	    "token.act.act: must be an object");
	bad(issued("", ",\"act\":null"), "bad_field", "token.act");
	bad(issued("", ",\"act\":{\"act\":{\"act\":{\"act\":{\"act\":"
	    "{\"sub\":2}}}}}"), "bad_field", "token.act(x5).sub: must be");
	bad(issued("", ",\"act\":{\"act\":{\"act\":{\"act\":{\"sub\":2}}}}"),
	    "bad_field", "token.act.act.act.act.sub: must be");
}

/* act nested n levels deep: {"sub":"a0","act":{"sub":"a1",...}} */
static const char *
act_chain(size_t n)
{
	static char	s[32768];
	size_t		i, off = 0;
	int		len;

	len = snprintf(s, sizeof(s), ",\"act\":");
	off = (size_t)len;
	for (i = 0; i < n; i++) {
		len = snprintf(s + off, sizeof(s) - off, "{\"sub\":\"a%zu\"%s",
		    i, i + 1 < n ? ",\"act\":" : "");
		cr_assert(len > 0 && (size_t)len < sizeof(s) - off);
		off += (size_t)len;
	}
	cr_assert(off + n + 1 < sizeof(s));
	memset(s + off, '}', n);
	s[off + n] = '\0';
	return s;
}

Test(event, token_act_depth)
{
	ok(issued("", act_chain(EV_MAX_ACT)));
	cr_assert_eq(ev.tok.nact, EV_MAX_ACT);
	cr_assert_str_eq(ev.tok.act[EV_MAX_ACT - 1].sub, "a63");
	bad(issued("", act_chain(EV_MAX_ACT + 1)), "bad_field",
	    "token.act: nests deeper than 64 levels");
	bad(issued("", act_chain(1000)), "bad_field", "nests deeper");
}

Test(event, token_may_act)
{
	ok(issued("", ",\"may_act\":{\"sub\":\"b\",\"iss\":\"x\",\"o\":1}"));
	cr_assert(ev.tok.has_may_act);
	cr_assert_str_eq(ev.tok.may_act.sub, "b");
	cr_assert_str_eq(ev.tok.may_act.iss, "x");
	ok(issued("", ",\"may_act\":{}"));
	cr_assert(ev.tok.has_may_act);
	cr_assert_null(ev.tok.may_act.sub);
	bad(issued("", ",\"may_act\":\"b\""), "bad_field",
	    "token.may_act: must be an object");
	bad(issued("", ",\"may_act\":{\"sub\":[]}"), "bad_field",
	    "token.may_act.sub: must be a string");
}

/* --- parents --- */

Test(event, parents_both_forms)
{
	ok(issued(",\"parents\":{\"subject\":\"p-s\","
	    "\"actor\":{\"iss\":\"https://other\",\"jti\":\"p-a\"},"
	    "\"previous\":{\"jti\":\"p-p\"},\"sibling\":\"ignored\"}", ""));
	cr_assert_str_eq(ev.parent[EV_PARENT_SUBJECT].jti, "p-s");
	cr_assert_null(ev.parent[EV_PARENT_SUBJECT].iss);
	cr_assert_str_eq(ev.parent[EV_PARENT_ACTOR].jti, "p-a");
	cr_assert_str_eq(ev.parent[EV_PARENT_ACTOR].iss, "https://other");
	cr_assert_str_eq(ev.parent[EV_PARENT_PREVIOUS].jti, "p-p");
	cr_assert_null(ev.parent[EV_PARENT_PREVIOUS].iss);
	ok(issued(",\"parents\":{}", ""));
	cr_assert_null(ev.parent[0].jti);
}

Test(event, parents_invalid)
{
	bad(issued(",\"parents\":[\"p\"]", ""), "bad_field",
	    "parents: must be an object");
	bad(issued(",\"parents\":{\"subject\":\"\"}", ""), "bad_field",
	    "parents.subject: must be 1..256 bytes");
	bad(issued(",\"parents\":{\"actor\":5}", ""), "bad_field",
	    "parents.actor: must be a jti string or an object");
	bad(issued(",\"parents\":{\"previous\":{\"iss\":\"x\"}}", ""),
	    "missing_field", "parents.previous.jti: missing");
	bad(issued(",\"parents\":{\"previous\":{\"jti\":\"p\",\"iss\":\"\"}}",
	    ""), "bad_field", "parents.previous.iss");
	bad(issued(",\"parents\":{\"subject\":{\"jti\":1}}", ""), "bad_field",
	    "parents.subject.jti: must be a string");
	bad(issued(",\"parents\":{\"subject\":\"a\",\"subject\":\"b\"}", ""),
	    "invalid_json", "duplicate");
}

/* --- token.revoked --- */

Test(event, target_kinds)
{
	ok(revoked("{\"jti\":\"t-user\",\"iss\":\"https://other\"}", ""));
	cr_assert_eq(ev.target_kind, EV_TGT_JTI);
	cr_assert_str_eq(ev.target, "t-user");
	cr_assert_str_eq(ev.target_iss, "https://other");
	cr_assert_null(ev.reason);
	ok(revoked("{\"sub\":\"user-123\"}", ""));
	cr_assert_eq(ev.target_kind, EV_TGT_SUB);
	cr_assert_str_eq(ev.target, "user-123");
	cr_assert_null(ev.target_iss);
	ok(revoked("{\"client_id\":\"agent-a\"}", ""));
	cr_assert_eq(ev.target_kind, EV_TGT_CLIENT);
	cr_assert_str_eq(ev.target, "agent-a");
	ok(revoked("{\"actor\":\"agent-x\",\"note\":1}", ""));
	cr_assert_eq(ev.target_kind, EV_TGT_ACTOR);
	cr_assert_str_eq(ev.target, "agent-x");
	ok(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\"}",
	    ""));
	cr_assert_eq(ev.target_kind, EV_TGT_HASH);
	cr_assert_str_eq(ev.target,
	    "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
	cr_assert_eq(memcmp(ev.target_hash, abc_sha256, 32), 0);
}

/* A hash target: exactly one member, 43 canonical base64url chars. */
Test(event, target_hash_invalid)
{
	bad(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa\"}",
	    ""), "bad_field", "target.hash: must be base64url");
	bad(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0="
	    "\"}", ""), "bad_field", "target.hash");
	bad(revoked("{\"hash\":\"ungWv48Bz/pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\""
	    "}",
	    ""), "bad_field", "target.hash");
	bad(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa1\""
	    "}",
	    ""), "bad_field", "target.hash");
	bad(revoked("{\"hash\":\"\"}", ""), "bad_field", "target.hash");
	bad(revoked("{\"hash\":[]}", ""), "bad_field", "target.hash");
	bad(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\","
	    "\"sub\":\"u\"}", ""), "bad_field",
	    "target: must hold exactly one of");
	bad(revoked("{\"hash\":\"ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0\","
	    "\"iss\":\"x\"}", ""), "bad_field", "target.iss");
}

Test(event, target_invalid)
{
	bad("{\"v\":1,\"type\":\"token.revoked\",\"id\":\"e\",\"time\":1,"
	    "\"iss\":\"i\"}", "missing_field", "target: missing");
	bad(revoked("\"t-user\"", ""), "bad_field",
	    "target: must be an object");
	bad(revoked("{}", ""), "missing_field", "target: needs one of");
	bad(revoked("{\"iss\":\"x\"}", ""), "missing_field", "target:");
	bad(revoked("{\"jti\":\"a\",\"sub\":\"b\"}", ""), "bad_field",
	    "target: must hold exactly one of");
	bad(revoked("{\"client_id\":\"a\",\"actor\":\"b\"}", ""), "bad_field",
	    NULL);
	bad(revoked("{\"sub\":\"a\",\"iss\":\"x\"}", ""), "bad_field",
	    "target.iss: allowed only with jti");
	bad(revoked("{\"jti\":\"\"}", ""), "bad_field", "target.jti");
	bad(revoked("{\"actor\":3}", ""), "bad_field",
	    "target.actor: must be a string");
	bad(revoked("{\"jti\":\"a\",\"iss\":\"\"}", ""), "bad_field",
	    "target.iss");
}

Test(event, reason)
{
	ok(revoked("{\"jti\":\"t\"}", ",\"reason\":\"compromised\""));
	cr_assert_str_eq(ev.reason, "compromised");
	ok(revoked("{\"jti\":\"t\"}", ",\"reason\":\"\""));
	cr_assert_null(ev.reason);
	bad(revoked("{\"jti\":\"t\"}", ",\"reason\":1"), "bad_field",
	    "reason: must be a string");
	bad(revoked("{\"jti\":\"t\"}", member_len("reason", 1025)),
	    "bad_field", "reason:");
}

/* --- unknown members, duplicates --- */

Test(event, unknown_members_ignored)
{
	ok("{\"v\":1,\"x-idp\":{\"v\":2,\"a\":[1,2,{}]},\"type\":\"token.issue"
	    "d\","
	    "\"id\":\"e\",\"time\":1,\"iss\":\"i\",\"extra\":null,"
	    "\"token\":{\"jti\":\"t\",\"sub\":\"s\",\"client_id\":\"c\","
	    "\"exp\":1,\"cnf\":{\"jkt\":\"x\"},\"kind2\":5,"
	    "\"act\":{\"sub\":\"a\",\"client_id\":1}},"
	    "\"parents\":{\"grandparent\":7}}");
	ok(revoked("{\"jti\":\"t\",\"why\":[]}", ",\"operator\":{\"x\":1}"));
}

Test(event, duplicate_keys)
{
	bad("{\"v\":1,\"v\":1,\"type\":\"token.revoked\",\"id\":\"e\","
	    "\"time\":1,\"iss\":\"i\",\"target\":{\"jti\":\"t\"}}",
	    "invalid_json", "duplicate object key");
	bad(issued("", ",\"sub\":\"other\""), "invalid_json", "duplicate");
	bad(issued("", ",\"act\":{\"sub\":\"a\",\"act\":{\"sub\":\"b\","
	    "\"sub\":\"c\"}}"), "invalid_json", "duplicate");
	bad(revoked("{\"jti\":\"t\",\"jti\":\"u\"}", ""), "invalid_json",
	    "duplicate");
	/* Even inside members that are otherwise ignored. */
	bad(issued(",\"x\":{\"a\":1,\"a\":2}", ""), "invalid_json",
	    "duplicate");
}

/* --- JSON-level defences --- */

Test(event, too_large)
{
	char	*big;
	size_t	 n = EV_DEFAULT_MAX + 1;
	int	 rc;

	big = malloc(n);
	cr_assert_not_null(big);
	memset(big, ' ', n);
	memcpy(big, spec_revoked, strlen(spec_revoked));
	rc = decode_len(big, n, 0);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(reason, "too_large");
	/* Exactly at the limit: parsed (trailing whitespace is fine). */
	rc = decode_len(big, EV_DEFAULT_MAX, 0);
	cr_assert_eq(rc, 0, "%s: %s", reason, err);
	/* Garbage over the limit is too_large, not invalid_json. */
	memset(big, 0xff, n);
	rc = decode_len(big, n, 0);
	cr_assert_str_eq(reason, "too_large");
	free(big);
	/* A configured limit. */
	rc = decode_len(spec_revoked, strlen(spec_revoked), 32);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(reason, "too_large");
	rc = decode_len(spec_revoked, strlen(spec_revoked),
	    strlen(spec_revoked));
	cr_assert_eq(rc, 0);
}

Test(event, invalid_utf8)
{
	bad(revoked("{\"jti\":\"t\xff\"}", ""), "invalid_json", NULL);
	bad(revoked("{\"jti\":\"\xc0\xaf\"}", ""), "invalid_json", NULL);
	bad(revoked("{\"jti\":\"\xed\xa0\x80\"}", ""), "invalid_json", NULL);
	bad(revoked("{\"jti\":\"\\ud800\"}", ""), "invalid_json", NULL);
	bad(revoked("{\"j\xe2\x28\xa1\":\"t\"}", ""), "invalid_json", NULL);
	cr_assert_null(strchr(err, '\xe2'), "raw bytes echoed: %s", err);
	ok(revoked("{\"jti\":\"t-\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91\"}", ""));
	cr_assert_str_eq(ev.target, "t-\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91");
	ok(revoked("{\"jti\":\"t-\\u00e9\\ud83d\\udd11\"}", ""));
}

Test(event, embedded_nul)
{
	static const char raw[] = "{\"v\":1,\"type\":\"token.revoked\","
	    "\"id\":\"e\",\"time\":1,\"iss\":\"i\",\"target\":{\"jti\":\"a\0b\""
	    "}}";
	int	rc;

	bad(revoked("{\"jti\":\"a\\u0000b\"}", ""), "invalid_json", NULL);
	bad(revoked("{\"jti\":\"t\"}", ",\"reason\":\"\\u0000\""),
	    "invalid_json", NULL);
	bad(revoked("{\"jti\":\"t\",\"x\\u0000\":1}", ""), "invalid_json",
	    NULL);
	rc = decode_len(raw, sizeof(raw) - 1, 0);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(reason, "invalid_json");
}

Test(event, trailing_garbage)
{
	char	js[1024];
	int	n;

	n = snprintf(js, sizeof(js), "%s x", spec_revoked);
	cr_assert(n > 0 && (size_t)n < sizeof(js));
	bad(js, "invalid_json", NULL);
	n = snprintf(js, sizeof(js), "%s{}", spec_revoked);
	cr_assert(n > 0 && (size_t)n < sizeof(js));
	bad(js, "invalid_json", NULL);
	n = snprintf(js, sizeof(js), "%s\n", spec_revoked);
	cr_assert(n > 0 && (size_t)n < sizeof(js));
	ok(js);
}

Test(event, not_an_object)
{
	int	rc;

	bad("", "invalid_json", NULL);
	bad("   ", "invalid_json", NULL);
	bad("[]", "invalid_json", "not a JSON object");
	bad("[{\"v\":1}]", "invalid_json", "not a JSON object");
	bad("\"token.issued\"", "invalid_json", NULL);
	bad("1", "invalid_json", NULL);
	bad("null", "invalid_json", NULL);
	bad("{\"v\":1", "invalid_json", NULL);
	bad("{'v':1}", "invalid_json", NULL);
	bad("{\"v\":1,}", "invalid_json", NULL);
	rc = event_decode(NULL, 0, 0, &ev, &reason, err, sizeof(err));
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(reason, "invalid_json");
}

Test(event, deep_nesting_no_crash)
{
	static char	js[20000];
	size_t		i, n = 5000, off;

	off = (size_t)snprintf(js, sizeof(js), "{\"x\":");
	for (i = 0; i < n; i++)
		js[off++] = '[';
	for (i = 0; i < n; i++)
		js[off++] = ']';
	js[off++] = '}';
	js[off] = '\0';
	bad(js, "invalid_json", NULL);
}

Test(event, errbuf_small_and_null_reason)
{
	char	small[8];
	int	rc;

	rc = event_decode("[]", 2, 0, &ev, NULL, small, sizeof(small));
	cr_assert_eq(rc, -1);
	cr_assert_lt(strlen(small), sizeof(small));
	rc = event_decode("[]", 2, 0, &ev, &reason, NULL, 0);
	cr_assert_eq(rc, -1);
	cr_assert_str_eq(reason, "invalid_json");
}

Test(event, reason_strings_exact)
{
	static const struct {
		const char	*js;
		const char	*reason;
	} cases[] = {
		{ "nope", "invalid_json" },
		{ "{\"v\":3}", "bad_version" },
		{ "{\"v\":1,\"type\":\"x\"}", "unknown_type" },
		{ "{\"v\":1,\"type\":\"token.revoked\"}", "missing_field" },
		{ "{\"v\":1,\"type\":\"token.revoked\",\"id\":1}", "bad_fiel"
		    "d" },
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		bad(cases[i].js, cases[i].reason, NULL);
	cr_assert_eq(decode_len("{}", 2, 1), -1);
	cr_assert_str_eq(reason, "too_large");
}

Test(event, clear_is_safe)
{
	struct event	e;

	memset(&e, 0, sizeof(e));
	event_clear(&e);
	event_clear(&e);
	event_clear(NULL);
	ok(spec_revoked);
	event_clear(&ev);
	event_clear(&ev);
	cr_assert_null(ev.json);
}

/* --- claims blob --- */

Test(event, claims_spec_example)
{
	static const char want[] = "{\"iss\":\"https://idp.example\","
	    "\"jti\":\"t-agent-a\",\"sub\":\"user-123\","
	    "\"client_id\":\"agent-a\",\"scope\":\"files:read\","
	    "\"aud\":\"agent-b\",\"exp\":1764380900,\"iat\":1764380000,"
	    "\"token_type\":\"access_token\","
	    "\"act\":{\"sub\":\"agent-a\",\"act\":{\"sub\":\"orchestrator\"}},"
	    "\"may_act\":{\"sub\":\"agent-b\"}}";
	char	*s;
	size_t	 len = 0;

	ok(spec_issued);
	s = event_claims(&ev, &len);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, want);
	cr_assert_eq(len, strlen(want));
	free(s);
}

Test(event, claims_minimal_and_refresh)
{
	char	*s;
	size_t	 len;

	ok(issued("", ",\"kind\":\"refresh\",\"nbf\":5,\"aud\":[\"a\",\"b\"]"));
	s = event_claims(&ev, &len);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "{\"iss\":\"https://idp.example\",\"jti\":\"t-1\","
	    "\"sub\":\"user-1\",\"client_id\":\"agent-a\","
	    "\"aud\":[\"a\",\"b\"],\"exp\":1764380900,\"nbf\":5,"
	    "\"token_type\":\"refresh_token\"}");
	free(s);
}

Test(event, claims_act_copied_as_given)
{
	char	*s;

	ok(issued("", ",\"act\":{\"sub\":\"a\",\"client_id\":\"c-a\","
	    "\"act\":{\"iss\":\"x\",\"sub\":\"b\"}},\"may_act\":{\"sub\":\"m\","
	    "\"extra\":[1]}"));
	s = event_claims(&ev, NULL);
	cr_assert_not_null(s);
	cr_assert(strstr(s, "\"act\":{\"sub\":\"a\",\"client_id\":\"c-a\","
	    "\"act\":{\"iss\":\"x\",\"sub\":\"b\"}},\"may_act\":{\"sub\":\"m\","
	    "\"extra\":[1]}}") != NULL, "%s", s);
	free(s);
}

/*
 * The claims blob is written by hand: byte for byte what jansson dumps
 * of the same content, escapes and non-ASCII included.
 */
Test(event, claims_are_janssons_bytes)
{
	static const char *const extra[] = {
	    ",\"scope\":\"a \\\"b\\\" \\\\ c\\n\\t\\u0001\\u001f\\u007f\"",
	    ",\"aud\":[\"\\u00e9\\u20ac\",\"\\ud83d\\ude00/\\b\\f\\r\"]",
	    ",\"aud\":[\"one\"],\"nbf\":7,\"iat\":0",
	    ",\"act\":{\"sub\":\"a\\\"\",\"x\":{\"y\":[1,2.5,null,true]},"
	    "\"act\":{\"iss\":\"\\u0002?\"}},\"may_act\":{\"iss\":\"q\"}" };
	json_t	*j;
	char	*s, *again;
	size_t	 i, len;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		ok(issued("", extra[i]));
		s = event_claims(&ev, &len);
		cr_assert_not_null(s, "%s", extra[i]);
		cr_assert_eq(strlen(s), len);
		j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
		cr_assert_not_null(j, "not JSON: %s", s);
		again = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		cr_expect_str_eq(s, again);
		free(again);
		json_decref(j);
		free(s);
	}
}

/* The same claims, for an event filled by hand (no JSON behind it). */
Test(event, claims_without_json)
{
	struct event	 e;
	char		*s;

	memset(&e, 0, sizeof(e));
	e.type = EV_ISSUED;
	e.iss = "i";
	e.tok.jti = "j";
	e.tok.sub = "s";
	e.tok.client_id = "c";
	e.tok.aud[0] = "a";
	e.tok.aud[1] = "b";
	e.tok.naud = 2;
	e.tok.exp = 9;
	e.tok.nact = 2;
	e.tok.act[0].sub = "x";
	e.tok.act[1].sub = "y";
	e.tok.act[1].iss = "z";
	e.tok.has_may_act = 1;
	e.tok.may_act.sub = "m";
	s = event_claims(&e, NULL);
	cr_assert_not_null(s);
	cr_assert_str_eq(s, "{\"iss\":\"i\",\"jti\":\"j\",\"sub\":\"s\","
	    "\"client_id\":\"c\",\"aud\":[\"a\",\"b\"],\"exp\":9,"
	    "\"token_type\":\"access_token\",\"act\":{\"sub\":\"x\","
	    "\"act\":{\"sub\":\"y\",\"iss\":\"z\"}},\"may_act\":{\"sub\":\"m\"}"
	    "}");
	free(s);
}

static void
same_token(const struct ev_token *a, const struct ev_token *b)
{
	size_t	i;

	cr_assert_str_eq(a->jti, b->jti);
	cr_assert_str_eq(a->sub, b->sub);
	cr_assert_str_eq(a->client_id, b->client_id);
	cr_assert_eq(a->kind, b->kind);
	cr_assert_eq(a->naud, b->naud);
	for (i = 0; i < a->naud; i++)
		cr_assert_str_eq(a->aud[i], b->aud[i]);
	cr_assert_eq(a->scope == NULL, b->scope == NULL);
	if (a->scope != NULL)
		cr_assert_str_eq(a->scope, b->scope);
	cr_assert_eq(a->has_iat, b->has_iat);
	cr_assert_eq(a->iat, b->iat);
	cr_assert_eq(a->has_nbf, b->has_nbf);
	cr_assert_eq(a->nbf, b->nbf);
	cr_assert_eq(a->exp, b->exp);
	cr_assert_eq(a->nact, b->nact);
	for (i = 0; i < a->nact; i++) {
		cr_assert_eq(a->act[i].sub == NULL, b->act[i].sub == NULL);
		if (a->act[i].sub != NULL)
			cr_assert_str_eq(a->act[i].sub, b->act[i].sub);
		cr_assert_eq(a->act[i].iss == NULL, b->act[i].iss == NULL);
		if (a->act[i].iss != NULL)
			cr_assert_str_eq(a->act[i].iss, b->act[i].iss);
	}
	cr_assert_eq(a->has_may_act, b->has_may_act);
	if (a->has_may_act && a->may_act.sub != NULL)
		cr_assert_str_eq(a->may_act.sub, b->may_act.sub);
}

static void
round_trip(const char *js)
{
	struct ev_token	 tok;
	void		*json = NULL;
	char		*s;
	size_t		 len;

	ok(js);
	s = event_claims(&ev, &len);
	cr_assert_not_null(s);
	cr_assert_eq(event_claims_parse(s, len, &tok, &json), 0, "%s", s);
	same_token(&ev.tok, &tok);
	cr_assert(!tok.has_hash);
	event_json_free(json);
	free(s);
}

Test(event, claims_round_trip)
{
	round_trip(spec_issued);
	round_trip(issued("", ""));
	round_trip(issued("", ",\"kind\":\"refresh\",\"iat\":1,\"nbf\":2,"
	    "\"aud\":[\"a\",\"b\",\"c\"],\"scope\":\"\","
	    "\"act\":{\"iss\":\"q\",\"act\":{\"sub\":\"r\"}},\"may_act\":{}"));
	round_trip(issued("", act_chain(EV_MAX_ACT)));
}

Test(event, claims_parse_rejects)
{
	static const char *const blobs[] = {
		"", "[]", "{", "{\"jti\":\"j\"}",
		"{\"jti\":\"j\",\"sub\":\"s\",\"client_id\":\"c\"}",
		"{\"jti\":\"j\",\"sub\":\"s\",\"client_id\":\"c\",\"exp\":1,"
		    "\"token_type\":\"access\"}",
		"{\"jti\":\"j\",\"sub\":\"s\",\"client_id\":\"c\",\"exp\":1,"
		    "\"jti\":\"k\"}",
	};
	struct ev_token	 tok;
	void		*json;
	size_t		 i;

	for (i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		json = (void *)1;
		cr_assert_eq(event_claims_parse(blobs[i], strlen(blobs[i]),
		    &tok, &json), -1, "accepted %s", blobs[i]);
		cr_assert_null(json);
	}
}

Test(event, claims_parse_refresh)
{
	static const char blob[] = "{\"iss\":\"i\",\"jti\":\"j\","
	    "\"sub\":\"s\",\"client_id\":\"c\",\"exp\":1,"
	    "\"token_type\":\"refresh_token\",\"future\":true}";
	struct ev_token	 tok;
	void		*json = NULL;

	cr_assert_eq(event_claims_parse(blob, sizeof(blob) - 1, &tok, &json),
	    0);
	cr_assert_eq(tok.kind, EV_KIND_REFRESH);
	cr_assert_str_eq(tok.jti, "j");
	cr_assert_eq(tok.exp, 1);
	event_json_free(json);
	event_json_free(NULL);
}
