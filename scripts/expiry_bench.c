/*
 * expiry-bench: the store's size under a steady stream of short-lived
 * tokens, with the sweep (SPEC 6 --retention) and, as the baseline in
 * the same run, without it.
 *
 * A simulated clock runs for -t seconds; each second issues -r tokens
 * living -l seconds (a third of them exchanged from a token of the
 * second before, one in fifty revoked, one in a hundred revoked by sub)
 * in one write transaction, then, with the sweep on, sweeps to now
 * minus -R seconds in slices of 64.  Every -e seconds it prints a CSV
 * line: second, bytes of the map in use and token records, for both
 * stores.
 *
 * usage: expiry-bench [-t seconds] [-r rate] [-l lifetime] [-R retention]
 *	  [-e every] dir
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/graph/store.h"

#define ISS	"https://idp.example"

struct opts {
	long	 t, rate, life, ret, every;
};

static void
die(const char *what)
{
	fprintf(stderr, "expiry-bench: %s\n", what);
	exit(1);
}

static struct store_txn *
wr(struct store *s)
{
	struct store_txn *t;

	if (store_begin(s, 0, &t) != 0)
		die("store_begin");
	return t;
}

static void
put(struct store_txn *t, long sec, long i, const struct opts *o)
{
	static const char claims[] = "{\"scope\":\"files:read\"}";
	char jti[48], sub[32], parent[48];
	struct store_token tok;
	struct store_put_args a;
	uint64_t id;

	memset(&tok, 0, sizeof(tok));
	memset(&a, 0, sizeof(a));
	snprintf(jti, sizeof(jti), "t-%ld-%ld", sec, i);
	snprintf(sub, sizeof(sub), "user-%ld", (sec * 7 + i) % 5000);
	tok.iss = ISS;
	tok.jti = jti;
	tok.sub = sub;
	tok.client_id = "agent";
	tok.iat = sec;
	tok.exp = sec + o->life;
	tok.claims = claims;
	tok.claims_len = sizeof(claims) - 1;
	tok.has_hash = 1;
	snprintf((char *)tok.hash, sizeof(tok.hash), "%.31s", jti);
	if (sec > 0 && i % 3 == 1) {
		snprintf(parent, sizeof(parent), "t-%ld-%ld", sec - 1, i - 1);
		if (store_ref(t, ISS, parent, &tok.parent[0]) != 0)
			die("store_ref");
	}
	a.tok = &tok;
	if (store_put(t, &a, &id) != 0)
		die("store_put");
	if (i % 50 == 7) {
		struct store_cause c = { jti, "", ISS, jti, 0, sec };
		uint32_t ref;
		uint64_t n;

		if (store_cause_add(t, &c, &ref) != 0 ||
		    store_revoke(t, id, ref, &n) != 0)
			die("revoke");
	}
	if (i % 100 == 11) {
		struct store_cause c = { jti, "", ISS, sub, STORE_IDX_SUB,
		    sec };
		uint32_t ref;
		uint64_t n;

		if (store_cause_add(t, &c, &ref) != 0 ||
		    store_rule_add(t, STORE_IDX_SUB, ISS, sub, sec, ref,
		    &n) != 0)
			die("rule");
	}
	snprintf(jti, sizeof(jti), "e-%ld-%ld", sec, i);
	if (store_event_mark(t, jti, sec + o->life, NULL) != 0)
		die("event");
}

/* Take the outbox away, as a drain would. */
static void
drain(struct store *s)
{
	struct store_txn *t = wr(s);
	const void *data;
	uint64_t seq;
	uint8_t kind;
	size_t len;

	while (store_outbox_next(t, 0, &seq, &kind, &data, &len) == 0)
		if (store_outbox_del(t, seq) != 0)
			die("outbox");
	if (store_commit(&t) != 0)
		die("commit");
}

static void
sweep(struct store *s, int64_t horizon)
{
	struct store_swept r;
	struct store_txn *t;

	do {
		t = wr(s);
		if (store_sweep(t, horizon, 64, &r) != 0 ||
		    store_commit(&t) != 0)
			die("sweep");
	} while (r.more);
}

static void
usage_of(struct store *s, uint64_t *bytes, uint64_t *tokens)
{
	struct store_txn *t;

	if (store_begin(s, 1, &t) != 0 || store_usage(t, bytes, tokens) != 0)
		die("usage");
	store_abort(&t);
}

static long
num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1)
		die("bad number");
	return v;
}

int
main(int argc, char **argv)
{
	struct opts o = { 1200, 500, 60, 30, 10 };
	struct store *s[2];
	char dir[2][4096], err[256];
	uint64_t b[2], n[2];
	struct store_txn *t;
	long sec, i;
	int c, k;

	while ((c = getopt(argc, argv, "t:r:l:R:e:")) != -1) {
		switch (c) {
		case 't': o.t = num(optarg); break;
		case 'r': o.rate = num(optarg); break;
		case 'l': o.life = num(optarg); break;
		case 'R': o.ret = num(optarg); break;
		case 'e': o.every = num(optarg); break;
		default: die("usage: expiry-bench [-t s] [-r rate] [-l life] "
		    "[-R retention] [-e every] dir");
		}
	}
	if (optind + 1 != argc)
		die("usage: expiry-bench [options] dir");
	for (k = 0; k < 2; k++) {
		snprintf(dir[k], sizeof(dir[k]), "%s/%s", argv[optind],
		    k ? "sweep-off" : "sweep-on");
		if ((s[k] = store_open(dir[k], (size_t)16 << 30, err,
		    sizeof(err))) == NULL)
			die(err);
	}
	printf("second,bytes_sweep_on,records_sweep_on,bytes_sweep_off,"
	    "records_sweep_off\n");
	for (sec = 0; sec < o.t; sec++) {
		for (k = 0; k < 2; k++) {
			t = wr(s[k]);
			for (i = 0; i < o.rate; i++)
				put(t, sec, i, &o);
			if (store_commit(&t) != 0)
				die("commit");
			drain(s[k]);
			if (k == 0)
				sweep(s[k], sec - o.ret);
		}
		if ((sec + 1) % o.every != 0)
			continue;
		for (k = 0; k < 2; k++)
			usage_of(s[k], &b[k], &n[k]);
		printf("%ld,%llu,%llu,%llu,%llu\n", sec + 1,
		    (unsigned long long)b[0], (unsigned long long)n[0],
		    (unsigned long long)b[1], (unsigned long long)n[1]);
		fflush(stdout);
	}
	for (k = 0; k < 2; k++)
		store_close(&s[k]);
	return 0;
}
