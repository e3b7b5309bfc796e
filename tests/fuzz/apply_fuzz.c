/*
 * apply_fuzz: libFuzzer target for the apply path.
 *
 * An input is a log: one event per line, applied in order in one write
 * transaction of a scratch LMDB (aborted after, so every input starts
 * from an empty store) through apply_message(), in the profile mode the
 * input's length picks.  On a store that is not full, no log may make
 * apply_message() report a failure of the store: whatever an event
 * holds, it is applied, ignored, or dead-lettered (issue 9: no event
 * stops consumption).  Seeds: tests/fuzz/seeds/apply/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/apply/apply.h"
#include "consumers/log/log.h"
#include "store/graph/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct store *st;

static void
init(void)
{
	char dir[] = "/tmp/apply_fuzz.XXXXXX", err[256];

	log_init(LOG_ERROR, "apply_fuzz");
	if (mkdtemp(dir) == NULL)
		abort();
	if ((st = store_open(dir, (size_t)1 << 30, err, sizeof(err))) == NULL) {
		fprintf(stderr, "apply_fuzz: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apply_config ac = { (int)(size % 3), 8, 0, 0 };
	struct store_txn *txn;
	struct apply_msg m;
	struct apply *a;
	const uint8_t *p = data, *end = data + size, *nl;

	if (st == NULL)
		init();
	if ((a = apply_new(&ac)) == NULL || store_begin(st, 0, &txn) == -1)
		abort();
	memset(&m, 0, sizeof(m));
	m.topic = "token-events";
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		m.payload = p;
		m.len = (size_t)(nl - p);
		if (APPLY_FAILED(apply_message(a, txn, &m, NULL)))
			abort();
		m.offset++;
		p = nl + 1;
	}
	store_abort(&txn);
	apply_free(&a);
	return 0;
}
