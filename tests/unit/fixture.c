/* fixture: see fixture.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "store/graph/store.h"
#include "tests/unit/fixture.h"

struct store *
fixture_store(const char *name, size_t mapsize, char dir[64])
{
	struct store	*st;
	char		 err[256];

	snprintf(dir, 64, "/tmp/%s.XXXXXX", name);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
	st = store_open(dir, mapsize, err, sizeof(err));
	cr_assert_not_null(st, "store_open: %s", err);
	return st;
}

void
fixture_store_free(struct store **st, const char *dir)
{
	char		 path[512];
	DIR		*d;
	struct dirent	*de;

	store_close(st);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
