/*
 * event_fuzz: libFuzzer target for the input-event decoder.
 *
 * Feeds any bytes to jparse (which must agree with jansson) and to
 * event_decode() and, on success, renders and re-parses the claims
 * blob, which must round-trip.  Build and run with
 * scripts/fuzz.sh.
 *
 * Built with every consumers/ and store/ source (the kind names of
 * store/graph/tbl_*.h come from the store).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "consumers/event/event.h"
#include "consumers/text/jparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The claims blob of an accepted event parses back to the same token. */
static void
check_claims(const struct event *ev)
{
	struct ev_token	 tok;
	void		*json = NULL;
	char		*s;
	size_t		 len = 0;

	if ((s = event_claims(ev, &len)) == NULL)
		abort();
	if (event_claims_parse(s, len, &tok, &json) != 0 ||
	    strcmp(tok.jti, ev->tok.jti) != 0 ||
	    tok.exp != ev->tok.exp || tok.nact != ev->tok.nact ||
	    tok.naud != ev->tok.naud || tok.kind != ev->tok.kind)
		abort();
	event_json_free(json);
	free(s);
}

/* What jparse takes, jansson takes into the same tree (jparse.h). */
static void
check_jparse(const uint8_t *data, size_t size)
{
	json_t	*a, *b;
	char	*da, *db;

	if ((a = jparse_object((const char *)data, size)) == NULL)
		return;
	b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL);
	if (b == NULL || !json_equal(a, b))
		abort();
	da = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	db = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (da == NULL || db == NULL || strcmp(da, db) != 0)
		abort();
	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event	 ev;
	const char	*reason = NULL;
	char		 err[256];

	check_jparse(data, size);
	if (event_decode(data, size, 0, &ev, &reason, err, sizeof(err)) == 0) {
		if (ev.type == EV_ISSUED)
			check_claims(&ev);
		event_clear(&ev);
	} else if (reason == NULL || strlen(err) >= sizeof(err))
		abort();
	return 0;
}
