/*
 * sink_test: the JSONL file sink.  One line per message with the
 * message embedded as JSON (or as a string when it is not JSON), each
 * reported once at the next poll; a write that fails (/dev/full) is
 * reported failed, never delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "consumers/sink/sink.h"

static uint64_t	 tags[8];
static int	 results[8];
static int	 nrep;

static void
report(void *arg, uint64_t tag, int result)
{
	(void)arg;
	cr_assert_lt(nrep, 8);
	tags[nrep] = tag;
	results[nrep++] = result;
}

Test(sink, file_lines_and_reports)
{
	char path[] = "/tmp/sink_test.XXXXXX", err[256], line[512];
	struct sink_file *sf;
	struct sink s;
	json_t *j;
	FILE *f;
	int fd;

	nrep = 0;
	cr_assert_neq(fd = mkstemp(path), -1);
	close(fd);
	sf = sink_file_open(path, report, NULL, err, sizeof(err));
	cr_assert_not_null(sf, "%s", err);
	s = sink_file_sink(sf);
	cr_assert_eq(s.ops->send(s.self, "rev", "t-1", 3, "{\"jti\":\"t-1\"}",
	    13, 11), SINK_SENT);
	cr_assert_eq(s.ops->send(s.self, "dlq", NULL, 0, "not json\n", 9, 12),
	    SINK_SENT);
	cr_expect_eq(s.ops->pending(s.self), 2);
	cr_expect_eq(nrep, 0, "reported at poll, not at send");
	s.ops->poll(s.self, 0);
	cr_assert_eq(nrep, 2);
	cr_expect(tags[0] == 11 && tags[1] == 12);
	cr_expect(results[0] == SINK_DELIVERED && results[1] == SINK_DELIVERED);
	cr_expect_eq(s.ops->pending(s.self), 0);
	cr_expect_eq(sink_file_lines(sf), 2);
	cr_assert_eq(sink_file_close(&sf), 0);
	cr_expect_null(sf);

	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(fgets(line, sizeof(line), f));
	j = json_loads(line, 0, NULL);
	cr_assert_not_null(j, "%s", line);
	cr_expect_str_eq(json_string_value(json_object_get(j, "topic")), "rev");
	cr_expect_str_eq(json_string_value(json_object_get(j, "key")), "t-1");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j,
	    "message"), "jti")), "t-1", "the message embedded as JSON");
	json_decref(j);
	cr_assert_not_null(fgets(line, sizeof(line), f));
	j = json_loads(line, 0, NULL);
	cr_assert_not_null(j, "one line even with a newline inside: %s", line);
	cr_expect(json_is_null(json_object_get(j, "key")));
	cr_expect_str_eq(json_string_value(json_object_get(j, "message")),
	    "not json\n");
	json_decref(j);
	cr_expect_null(fgets(line, sizeof(line), f), "two lines only");
	fclose(f);
	unlink(path);
}

Test(sink, write_error_reported_failed)
{
	char err[256];
	struct sink_file *sf;
	struct sink s;
	char big[8192];
	int i;

	cr_assert_eq(access("/dev/full", W_OK), 0, "Linux has /dev/full");
	nrep = 0;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sf = sink_file_open("/dev/full", report, NULL, err, sizeof(err));
	cr_assert_not_null(sf, "%s", err);
	s = sink_file_sink(sf);
	for (i = 0; i < 3; i++)
		cr_assert_eq(s.ops->send(s.self, "rev", "k", 1, big,
		    strlen(big), (uint64_t)i + 1), SINK_SENT);
	s.ops->poll(s.self, 0);
	cr_assert_eq(nrep, 3);
	for (i = 0; i < 3; i++)
		cr_expect_eq(results[i], SINK_FAILED, "report %d", i);
	cr_expect_eq(sink_file_close(&sf), -1, "close says a line is lost");
}
