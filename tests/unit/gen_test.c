/* Unit tests of daemon/gen: determinism and well-formed events. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/revokerctl/gen.h"

/* The whole log of cfg, in a malloc'd string. */
static char *
gen_all(const struct gen_config *cfg, size_t *len, struct gen_stats *st)
{
	char errbuf[256], *buf = NULL;
	FILE *fp = open_memstream(&buf, len);

	cr_assert_not_null(fp);
	cr_assert_eq(gen_write(cfg, fp, st, errbuf, sizeof(errbuf)), 0, "%s",
	    errbuf);
	fclose(fp);
	return buf;
}

static void
small(struct gen_config *cfg, uint64_t seed)
{
	gen_defaults(cfg);
	cfg->seed = seed;
	cfg->events = 5000;
	cfg->attack_share = 0.05;
	cfg->revoke_share = 0.05;
	cfg->dup_share = 0.01;
}

Test(gen, same_seed_same_bytes)
{
	struct gen_config cfg;
	size_t la, lb;
	char *a, *b;

	small(&cfg, 42);
	a = gen_all(&cfg, &la, NULL);
	b = gen_all(&cfg, &lb, NULL);
	cr_assert_eq(la, lb);
	cr_assert(memcmp(a, b, la) == 0);
	free(b);
	cfg.seed = 43;
	b = gen_all(&cfg, &lb, NULL);
	cr_assert(la != lb || memcmp(a, b, la) != 0, "seeds 42, 43 agree");
	free(a);
	free(b);
}

/* base64url(SHA-256("tok-" jti)), as gen.h promises. */
static void
check_hash(const char *jti, const char *hash)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char md[33];
	char tok[300], want[44];
	size_t i, j = 0;
	uint32_t v;

	cr_assert(snprintf(tok, sizeof(tok), "tok-%s", jti) <
	    (int)sizeof(tok));
	cr_assert_eq(EVP_Digest(tok, strlen(tok), md, NULL, EVP_sha256(),
	    NULL), 1);
	md[32] = 0;
	for (i = 0; i < 32; i += 3) {
		v = (uint32_t)md[i] << 16 | (uint32_t)md[i + 1] << 8 |
		    md[i + 2];
		want[j++] = b64[v >> 18 & 63];
		want[j++] = b64[v >> 12 & 63];
		want[j++] = b64[v >> 6 & 63];
		if (i + 2 < 32)
			want[j++] = b64[v & 63];
	}
	want[j] = '\0';
	cr_assert_str_eq(hash, want, "hash of %s", jti);
}

static void
check_issued(json_t *ev)
{
	const char *gt, *jti, *hash, *sub, *client;
	json_int_t iat, exp;
	json_t *tok;

	cr_assert_eq(json_unpack(ev, "{s:s, s:o}", "grant_type", &gt,
	    "token", &tok), 0);
	cr_assert_eq(json_unpack(tok, "{s:s, s:s, s:s, s:s, s:I, s:I}",
	    "jti", &jti, "hash", &hash, "sub", &sub, "client_id", &client,
	    "iat", &iat, "exp", &exp), 0, "token fields");
	cr_assert_gt(exp, iat);
	check_hash(jti, hash);
	if (strcmp(gt, "urn:ietf:params:oauth:grant-type:token-exchange") ==
	    0)
		cr_assert_not_null(json_object_get(json_object_get(ev,
		    "parents"), "subject"), "exchange without a subject");
}

static void
check_revoked(json_t *ev)
{
	json_t *tgt = json_object_get(ev, "target");
	int n = 0;

	cr_assert(json_is_object(tgt));
	n += json_object_get(tgt, "jti") != NULL;
	n += json_object_get(tgt, "sub") != NULL;
	n += json_object_get(tgt, "client_id") != NULL;
	n += json_object_get(tgt, "actor") != NULL;
	cr_assert_eq(n, 1, "target holds exactly one of jti/sub/client/actor");
}

/* Parse every line with duplicate keys rejected; check the fields. */
static size_t
check_lines(char *buf, int partitions)
{
	char *line, *save = NULL, *tab;
	const char *type, *id, *iss;
	json_int_t v, time;
	json_error_t err;
	json_t *ev;
	size_t n = 0;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		if (partitions > 0) {
			cr_assert_not_null(tab = strchr(line, '\t'));
			cr_assert_lt(atoi(line), partitions);
			line = tab + 1;
		}
		ev = json_loads(line, JSON_REJECT_DUPLICATES, &err);
		cr_assert_not_null(ev, "%s: %s", err.text, line);
		cr_assert_eq(json_unpack(ev, "{s:I, s:s, s:s, s:I, s:s}", "v",
		    &v, "type", &type, "id", &id, "time", &time, "iss", &iss),
		    0, "common fields: %s", line);
		cr_assert_eq(v, 1);
		if (strcmp(type, "token.issued") == 0)
			check_issued(ev);
		else {
			cr_assert_str_eq(type, "token.revoked");
			check_revoked(ev);
		}
		json_decref(ev);
	}
	return n;
}

Test(gen, every_line_is_an_event)
{
	struct gen_config cfg;
	struct gen_stats st;
	size_t len;
	char *buf;

	small(&cfg, 7);
	buf = gen_all(&cfg, &len, &st);
	cr_assert_eq(check_lines(buf, 0), 5000);
	cr_assert_eq(st.events, 5000);
	cr_assert_eq(st.events, st.issued + st.revocations + st.duplicates);
	cr_assert_gt(st.revocations, 100);
	cr_assert_gt(st.attacks, 50);
	cr_assert_gt(st.duplicates, 10);
	free(buf);
}

Test(gen, partitions_keep_the_events)
{
	struct gen_config cfg;
	size_t la, lb, i, j;
	char *a, *b;
	int seen[4] = { 0 };

	small(&cfg, 9);
	a = gen_all(&cfg, &la, NULL);
	cfg.partitions = 4;
	b = gen_all(&cfg, &lb, NULL);
	for (i = 0, j = 0; j < lb; j++) {
		if (j == 0 || b[j - 1] == '\n') {
			seen[b[j] - '0']++;
			j += 2;		/* "P\t" */
		}
		cr_assert_lt(i, la);
		cr_assert_eq(b[j], a[i++], "event bytes differ at %zu", i);
	}
	cr_assert_eq(i, la);
	for (i = 0; i < 4; i++)
		cr_assert_gt(seen[i], 1000, "partition %zu: %d", i, seen[i]);
	cr_assert_eq(check_lines(b, 4), 5000);
	free(a);
	free(b);
}

Test(gen, users_mode_ends)
{
	struct gen_config cfg;
	struct gen_stats st;
	size_t len;
	char *buf;

	gen_defaults(&cfg);
	cfg.events = 0;
	cfg.users = 50;
	cfg.depth = 4;
	cfg.fanout = 3;
	buf = gen_all(&cfg, &len, &st);
	cr_assert_eq(st.trees, 50);
	cr_assert_gt(st.events, 50 * 5);
	cr_assert_eq(check_lines(buf, 0), st.events);
	free(buf);
}

Test(gen, bad_config)
{
	struct gen_config cfg;
	char errbuf[128];

	gen_defaults(&cfg);
	cfg.depth = 0;
	cr_assert_null(gen_new(&cfg, errbuf, sizeof(errbuf)));
	cr_assert_not_null(strstr(errbuf, "depth"));
	gen_defaults(&cfg);
	cfg.iss = "bad\"iss";
	cr_assert_null(gen_new(&cfg, errbuf, sizeof(errbuf)));
	gen_defaults(&cfg);
	cfg.events = 0;
	cr_assert_null(gen_new(&cfg, errbuf, sizeof(errbuf)));
	gen_defaults(&cfg);
	cfg.attack_share = 0.9;
	cr_assert_null(gen_new(&cfg, errbuf, sizeof(errbuf)));
}
