/*
 * source_test: the JSONL file source.  Messages in order, blank lines
 * skipped, an overlong line cut at max_len (its length tells the
 * decoder it is too large), a stop from the callback, progress in
 * bytes of the file's size, a missing file an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "consumers/apply/apply.h"
#include "consumers/source/source.h"

static char	 got[8][16];
static size_t	 ngot;
static size_t	 stop_at;
static uint64_t	 done, total;

static int
collect(void *arg, const struct apply_msg *m)
{
	(void)arg;
	cr_assert_lt(ngot, 8);
	cr_assert_lt(m->len, sizeof(got[0]));
	memcpy(got[ngot], m->payload, m->len);
	got[ngot][m->len] = '\0';
	return ++ngot == stop_at ? 7 : 0;
}

static void
seen(void *arg, uint64_t d, uint64_t t)
{
	(void)arg;
	done = d;
	total = t;
}

static void
file_of(char path[], const char *text)
{
	FILE	*f;
	int	 fd;

	cr_assert_neq(fd = mkstemp(path), -1);
	cr_assert_not_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
}

Test(source, file_lines_in_order)
{
	char			 path[] = "/tmp/source_test.XXXXXX", err[128];
	static const char	 text[] = "{\"a\":1}\n\n  \nabcdefghijkl\nlast";
	struct source_file	 sf = { path, 8 };
	struct source		 s;

	file_of(path, text);
	ngot = stop_at = 0;
	s = source_file(&sf);
	cr_assert_eq(s.ops->read(s.self, collect, NULL, seen, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(ngot, 4, "a blank line skipped, spaces kept");
	cr_expect_str_eq(got[0], "{\"a\":1}");
	cr_expect_str_eq(got[1], "  ");
	cr_expect_str_eq(got[2], "abcdefgh", "cut at max_len");
	cr_expect_str_eq(got[3], "last", "a last line without a newline");
	cr_expect_eq(total, sizeof(text) - 1);
	cr_expect_eq(done, total);
	ngot = 0;
	stop_at = 2;
	cr_expect_eq(s.ops->read(s.self, collect, NULL, NULL, err,
	    sizeof(err)), 7, "the callback's value");
	cr_expect_eq(ngot, 2, "nothing after the stop");
	unlink(path);
}

Test(source, missing_file_is_an_error)
{
	struct source_file	 sf = { "/nonexistent/events.jsonl", 64 };
	struct source		 s = source_file(&sf);
	char			 err[128] = "";

	cr_expect_eq(s.ops->read(s.self, collect, NULL, NULL, err,
	    sizeof(err)), -1);
	cr_expect(strstr(err, "No such file") != NULL, "%s", err);
}
