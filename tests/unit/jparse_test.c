/*
 * jparse_test: the fast parser against jansson.  Whatever jparse
 * accepts, json_loadb() (JSON_REJECT_DUPLICATES) accepts into the same
 * tree, members in the same order; what jansson refuses, jparse
 * declines.  Over edge cases by hand and random mutations of events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "consumers/text/jparse.h"
#include "consumers/text/utf8.h"

#define FLAGS	(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

static size_t	fast, slow;

/* Compare the two parsers on buf; 1 if jparse took it. */
static int
same(const char *buf, size_t len)
{
	json_t	*a, *b;
	char	*da, *db;
	int	 took;

	a = jparse_object(buf, len);
	b = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (b != NULL && !json_is_object(b)) {
		json_decref(b);
		b = NULL;
	}
	took = a != NULL;
	fast += a != NULL;
	slow += b != NULL;
	if (a == NULL) {
		json_decref(b);
		return 0;
	}
	cr_assert_not_null(b, "jparse took what jansson refuses: %.*s",
	    (int)len, buf);
	cr_assert(json_equal(a, b), "trees differ: %.*s", (int)len, buf);
	da = json_dumps(a, FLAGS);
	db = json_dumps(b, FLAGS);
	cr_assert_not_null(da);
	cr_assert_not_null(db);
	cr_assert_str_eq(da, db, "order or bytes differ: %.*s", (int)len,
	    buf);
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
	return took;
}

static int
same_str(const char *s)
{
	return same(s, strlen(s));
}

static const char *const good[] = {
	"{}", " {\"a\":1} ", "{\"a\":-0,\"b\":0,\"c\":-123456789012345678}",
	"{\"a\":[],\"b\":[1,[2,[3]],{}],\"c\":true,\"d\":false,\"e\":null}",
	"{\"\\u00e9\":\"\\ud83d\\ude00\","
	"\"k\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}",
	"{\"u\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
	"\"v\":\"\\u20AC\\u20ac\"}",
	"{\"z\":1,\"a\":2,\"m\":{\"z\":1,\"a\":2}}",
	"\t\r\n{\t\"a\"\r:\n\"b\"\t}\n",
	"{\"v\":1,\"type\":\"token.issued\",\"id\":\"e-0\",\"time\":1764380000,"
	"\"iss\":\"https://idp.example\",\"x_idp\":{\"region\":\"eu-1\","
	"\"trace\":[1,2]},\"grant_type\":\"authorization_code\",\"token\":"
	"{\"jti\":\"t-0\","
	"\"hash\":\"X2gWRQaiFel9yH8brVgYnu6LD59xoZaWMBWk66J-W5k\","
	"\"kind\":\"access\",\"sub\":\"user-3090\",\"client_id\":\"orch-7\","
	"\"aud\":[\"orch-7\",\"x\"],\"scope\":\"openid files:write\","
	"\"iat\":1764380000,\"exp\":1764383600,\"act\":{\"sub\":\"a\","
	"\"act\":{\"sub\":\"b\"}}},\"parents\":{\"subject\":\"t-1\"}}",
};

/* Declined here: refused by jansson, or left to it (it decides). */
static const char *const declined[] = {
	"", " ", "[]", "[1]", "1", "\"s\"", "null", "{", "}", "{\"a\"}",
	"{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1 \"b\":2}", "{a:1}",
	"{\"a\":01}", "{\"a\":-}", "{\"a\":1.5}", "{\"a\":1e3}",
	"{\"a\":1234567890123456789}", "{\"a\":tru}", "{\"a\":nul}",
	"{\"a\":\"\\u0000\"}", "{\"\\u0000\":1}", "{\"a\":\"\\ud800\"}",
	"{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\x\"}",
	"{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}",
	"{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
	"{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xe2\x82\"}",
	"{\"a\":1,\"a\":2}", "{\"\\u0061\":1,\"a\":2}", "{\"a\":1}x",
	"{\"a\":1}{}", "{\"a\":[1,]}", "{\"a\":[,1]}", "\xef\xbb\xbf{}",
	"{\"a\":\"unterminated}", "{\"a\":1\x00}",
};

Test(jparse, good_inputs_taken_and_equal)
{
	size_t	i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(same_str(good[i]), "declined: %s", good[i]);
}

Test(jparse, bad_and_unusual_inputs_declined)
{
	size_t	i;

	for (i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		cr_expect(!same_str(declined[i]), "took: %s", declined[i]);
	cr_expect(!same("{\"a\":1}\0", 8), "took a trailing NUL");
}

Test(jparse, deep_nesting_declined)
{
	char	buf[2 * (JPARSE_DEPTH + 2) + 8];
	size_t	i, n = 0;

	buf[n++] = '{';
	buf[n++] = '"';
	buf[n++] = 'a';
	buf[n++] = '"';
	buf[n++] = ':';
	for (i = 0; i < JPARSE_DEPTH + 1; i++)
		buf[n++] = '[';
	for (i = 0; i < JPARSE_DEPTH + 1; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	cr_expect(!same(buf, n));
}

/* Random mutations of the good inputs: bytes flipped, inserted, cut. */
Test(jparse, mutations_agree_with_jansson)
{
	static const char ins[] = "{}[]\":,\\u0123456789abcdefABCDEF-+.eE "
	    "\t\r\ntrue\x01\x7f\xc3\xa9\xff";
	char		buf[2048];
	unsigned	seed = 11;
	size_t		round, len, k, pos, g;

	for (round = 0; round < 60000; round++) {
		g = (size_t)rand_r(&seed) % (sizeof(good) / sizeof(good[0]));
		len = strlen(good[g]);
		memcpy(buf, good[g], len);
		for (k = 1 + (size_t)rand_r(&seed) % 3; k > 0; k--) {
			pos = len > 0 ? (size_t)rand_r(&seed) % len : 0;
			switch (rand_r(&seed) % 4) {
			case 0:		/* replace */
				if (len > 0)
					buf[pos] = ins[(size_t)rand_r(&seed) %
					    (sizeof(ins) - 1)];
				break;
			case 1:		/* insert */
				if (len + 1 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos,
					    len - pos);
					buf[pos] = ins[(size_t)rand_r(&seed) %
					    (sizeof(ins) - 1)];
					len++;
				}
				break;
			case 2:		/* delete */
				if (len > 0) {
					memmove(buf + pos, buf + pos + 1,
					    len - pos - 1);
					len--;
				}
				break;
			default:	/* cut */
				len = pos;
				break;
			}
		}
		(void)same(buf, len);
	}
	cr_log_info("mutations: jparse took %zu, jansson %zu", fast, slow);
	cr_expect_gt(fast, 1000, "the fast path was hardly taken");
	cr_expect_gt(slow - fast, 0, "no input left to jansson");
}

/*
 * A character cut by the end of the buffer: never read past it (the
 * buffer is allocated to the byte, so ASan sees any overread), and
 * the object is declined.  The bounded validator it uses, directly.
 */
Test(jparse, utf8_cut_by_the_end_is_not_read_past)
{
	static const char whole[] = "{\"k\":\"\xe2\x82\xac\"}";
	size_t cut;
	char *buf;
	json_t *o;

	for (cut = 7; cut < 9; cut++) {
		cr_assert_not_null(buf = malloc(cut));
		memcpy(buf, whole, cut);
		o = jparse_object(buf, cut);
		cr_expect_null(o, "a buffer of %zu bytes", cut);
		json_decref(o);
		free(buf);
	}
	cr_expect_eq(utf8_seqn("\xe2\x82\xac", 3), 3);
	cr_expect_eq(utf8_seqn("\xe2\x82\xac", 2), 0);
	cr_expect_eq(utf8_seqn("\xe2\x82", 2), 0);
	cr_expect_eq(utf8_seqn("a", 0), 0);
	cr_expect_eq(utf8_seqn("a", 1), 1);
	cr_expect_eq(utf8_seq("\xe2\x82\xac"), 3);
	cr_expect_eq(utf8_seq("\xe2\x82"), 0);
}
