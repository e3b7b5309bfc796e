/*
 * view: the one walk of a token's descendants (each once, bounded, no
 * edge to a token it did not list) and the one status a user sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "consumers/view/view.h"
#include "store/graph/store.h"
#include "tests/unit/fixture.h"

#define ISS	"https://idp.example"

static char dir[64];
static struct store *st;
static struct store_txn *txn;

static void
setup(void)
{
	st = fixture_store("view_test", 1 << 28, dir);
	cr_assert_eq(store_begin(st, 0, &txn), 0);
}

static void
teardown(void)
{
	store_abort(&txn);
	fixture_store_free(&st, dir);
}

TestSuite(view, .init = setup, .fini = teardown);

/* Issue jti with up to two parents (subject, actor); its id. */
static uint64_t
put(const char *jti, const char *subject, const char *actor)
{
	struct store_token tok;
	struct store_put_args args = { &tok, NULL, 0, 0 };
	uint64_t id;

	memset(&tok, 0, sizeof(tok));
	tok.iss = ISS;
	tok.jti = jti;
	tok.sub = "u";
	tok.client_id = "c";
	tok.iat = 1000;
	tok.exp = 2000;
	if (subject != NULL)
		cr_assert_eq(store_ref(txn, ISS, subject,
		    &tok.parent[STORE_PARENT_SUBJECT]), 0);
	if (actor != NULL)
		cr_assert_eq(store_ref(txn, ISS, actor,
		    &tok.parent[STORE_PARENT_ACTOR]), 0);
	cr_assert_eq(store_put(txn, &args, &id), 0);
	return id;
}

struct seen {
	int	nodes, edges, bad_edge;
	uint64_t listed[16];
};

static int
on_node(void *arg, const struct store_token *tok, uint32_t depth)
{
	struct seen *s = arg;

	(void)depth;
	s->listed[s->nodes++] = tok->id;
	return 0;
}

static int
on_edge(void *arg, uint64_t from, uint64_t to, int kind)
{
	struct seen *s = arg;
	int i, f = 0, t = 0;

	(void)kind;
	for (i = 0; i < s->nodes; i++) {
		f |= s->listed[i] == from;
		t |= s->listed[i] == to;
	}
	s->bad_edge |= !(f && t);
	s->edges++;
	return 0;
}

static void
walk(uint64_t root, size_t max, struct seen *s, struct view_walk *w)
{
	struct store_token tok;

	memset(s, 0, sizeof(*s));
	memset(w, 0, sizeof(*w));
	w->node = on_node;
	w->edge = on_edge;
	w->arg = s;
	w->max = max;
	cr_assert_eq(store_get(txn, root, &tok), 0);
	cr_assert_eq(view_walk_run(txn, &tok, w), 0);
}

/* root -> a, b; a, b -> shared (a diamond): 4 tokens, 4 edges. */
Test(view, a_shared_descendant_is_one_node_with_every_edge)
{
	struct view_walk w;
	struct seen s;
	uint64_t root = put("root", NULL, NULL);

	put("a", "root", NULL);
	put("b", "root", NULL);
	put("shared", "a", "b");
	walk(root, 100, &s, &w);
	cr_expect_eq(s.nodes, 4);
	cr_expect_eq(s.edges, 4);
	cr_expect(!w.truncated);
	cr_expect(!s.bad_edge);
	walk(root, 2, &s, &w);
	cr_expect_eq(s.nodes, 2);
	cr_expect(w.truncated);
	cr_expect(!s.bad_edge, "an edge names a token not listed");
}

Test(view, status_and_reason)
{
	struct store_token tok;
	struct view_reason vr;
	uint64_t id = put("t", NULL, NULL), ph;

	cr_assert_eq(store_get(txn, id, &tok), 0);
	cr_expect_str_eq(view_status(&tok, 1500, 0), "active");
	cr_expect_str_eq(view_status(&tok, 2000, 0), "expired");
	cr_expect_str_eq(view_status(&tok, 2000, 5), "active", "leeway");
	cr_assert_eq(view_reason(txn, &tok, 2001, 0, &vr), 0);
	cr_expect_str_eq(vr.reason, "expired");
	cr_assert_eq(store_ref(txn, ISS, "not-yet", &ph), 0);
	cr_assert_eq(store_get(txn, ph, &tok), 0);
	cr_expect_str_eq(view_status(&tok, 1500, 0), "pending",
	    "a placeholder is pending, the same for the CLI and the API");
	cr_expect_str_eq(view_parent_kind(STORE_PARENT_PREVIOUS), "previous");
	cr_expect_str_eq(view_target_kind(-1), "jti");
	cr_expect_str_eq(view_target_kind(STORE_TGT_HASH), "hash");
}
