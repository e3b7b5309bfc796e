/*
 * The unit tests' shared fixture: a store in a temporary directory of
 * its own, removed with everything in it afterwards.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stddef.h>

struct store;

/*
 * Open a new store of mapsize bytes in a new directory /tmp/name.XXXXXX,
 * written to dir (64 bytes).  Fails the test on error.
 */
struct store	*fixture_store(const char *name, size_t mapsize,
		    char dir[64]);
/* Close *st (may be NULL already) and remove dir and its files. */
void		 fixture_store_free(struct store **st, const char *dir);

#endif
