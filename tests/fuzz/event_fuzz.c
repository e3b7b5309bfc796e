/*
 * event_fuzz: libFuzzer target for the input-event decoder.
 *
 * Feeds any bytes to event_decode() and, on success, renders and
 * re-parses the claims blob, which must round-trip.  Build and run with
 * scripts/fuzz.sh.
 *
 * Built with every consumers/ and store/ source (the kind names of
 * store/graph/tbl_*.h come from the store).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/event/event.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event	 ev;
	const char	*reason = NULL;
	char		 err[256];

	if (event_decode(data, size, 0, &ev, &reason, err, sizeof(err)) == 0) {
		if (ev.type == EV_ISSUED)
			check_claims(&ev);
		event_clear(&ev);
	} else if (reason == NULL || strlen(err) >= sizeof(err))
		abort();
	return 0;
}
