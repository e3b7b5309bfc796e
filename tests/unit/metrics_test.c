/*
 * metrics: the rendering is Prometheus text (every line a comment
 * "# HELP name text" / "# TYPE name type" or a sample
 * `name{label="v",...} value`), and it carries what was counted.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>

#include "consumers/event/event.h"
#include "daemon/metrics/metrics.h"

static char *
render(struct metrics *m)
{
	struct evbuffer	*b;
	char		*s;
	size_t		 n;

	cr_assert_not_null(b = evbuffer_new());
	metrics_render(m, b);
	n = evbuffer_get_length(b);
	cr_assert_not_null(s = malloc(n + 1));
	cr_assert_eq(evbuffer_remove(b, s, n), (int)n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

static const char *
name_end(const char *p)
{
	if (!isalpha((unsigned char)*p) && *p != '_' && *p != ':')
		return NULL;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
		p++;
	return p;
}

/* label="value"{,label="value"}} ; the char after '}' or NULL */
static const char *
labels_end(const char *p)
{
	for (;;) {
		if ((p = name_end(p)) == NULL || *p++ != '=' || *p++ != '"')
			return NULL;
		while (*p != '"' && *p != '\0' && *p != '\n')
			p += (*p == '\\') ? 2 : 1;
		if (*p++ != '"')
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static int
sample_ok(const char *line)
{
	const char	*p;
	char		*end;

	if ((p = name_end(line)) == NULL)
		return 0;
	if (*p == '{' && (p = labels_end(p + 1)) == NULL)
		return 0;
	if (*p++ != ' ')
		return 0;
	if (strcmp(p, "+Inf") == 0 || strcmp(p, "NaN") == 0)
		return 1;
	(void)strtod(p, &end);
	return end != p && *end == '\0';
}

static int
line_ok(const char *line)
{
	const char	*p;

	if (strncmp(line, "# HELP ", 7) == 0)
		return (p = name_end(line + 7)) != NULL && *p == ' ';
	if (strncmp(line, "# TYPE ", 7) == 0) {
		if ((p = name_end(line + 7)) == NULL || *p++ != ' ')
			return 0;
		return strcmp(p, "counter") == 0 || strcmp(p, "gauge") == 0 ||
		    strcmp(p, "histogram") == 0;
	}
	return sample_ok(line);
}

static void
check_format(char *text)
{
	char	*line, *p = text;
	int	 n = 0;

	cr_assert_gt(strlen(text), 0);
	cr_assert_eq(text[strlen(text) - 1], '\n');
	while ((line = strsep(&p, "\n")) != NULL) {
		if (*line == '\0' && p == NULL)
			break;
		cr_expect(line_ok(line), "bad line: \"%s\"", line);
		n++;
	}
	cr_expect_gt(n, 20);
}

Test(metrics, renders_prometheus_text)
{
	struct metrics	*m;
	char		*s;

	cr_assert_not_null(m = metrics_new());
	metrics_add(m, MET_APPLIED, 5);
	metrics_add(m, MET_PUB_DLQ, 2);
	metrics_set(m, MET_CONSUMER_LAG, -3);
	metrics_set(m, MET_READY, 1);
	metrics_dead(m, "invalid_json");
	metrics_dead(m, "something new");
	metrics_dead(m, NULL);
	metrics_http(m, MET_EP_INTROSPECT, 200, 40);
	metrics_http(m, MET_EP_INTROSPECT, 401, 3000000);
	metrics_http(m, 99, 999, 10);
	s = render(m);
	cr_expect_not_null(strstr(s, "\nrevokerd_events_applied_total 5\n"));
	cr_expect_not_null(strstr(s,
	    "revokerd_published_total{topic=\"dlq\"} 2\n"));
	cr_expect_not_null(strstr(s, "\nrevokerd_consumer_lag -3\n"));
	cr_expect_not_null(strstr(s, "\nrevokerd_ready 1\n"));
	cr_expect_not_null(strstr(s,
	    "revokerd_events_dead_total{reason=\"invalid_json\"} 1\n"));
	cr_expect_not_null(strstr(s,
	    "revokerd_events_dead_total{reason=\"other\"} 2\n"));
	cr_expect_not_null(strstr(s, "revokerd_http_requests_total"
	    "{endpoint=\"introspect\",code=\"2xx\"} 1\n"));
	cr_expect_not_null(strstr(s, "revokerd_http_requests_total"
	    "{endpoint=\"other\",code=\"other\"} 1\n"));
	cr_expect_not_null(strstr(s, "revokerd_http_request_duration_seconds"
	    "_bucket{endpoint=\"introspect\",le=\"0.000050\"} 1\n"));
	cr_expect_not_null(strstr(s, "revokerd_http_request_duration_seconds"
	    "_bucket{endpoint=\"introspect\",le=\"+Inf\"} 2\n"));
	cr_expect_not_null(strstr(s, "revokerd_http_request_duration_seconds"
	    "_count{endpoint=\"introspect\"} 2\n"));
	check_format(s);
	free(s);
	cr_expect_eq(metrics_get(m, MET_READY), 1);
	metrics_free(&m);
	cr_expect_null(m);
	metrics_free(NULL);
}

/*
 * Every dead-letter reason the decoder or apply can give has a series of
 * its own: the one list (consumers/event/tbl_reasons.h) names both, so no
 * reason falls into "other" by omission.
 */
Test(metrics, every_dead_letter_reason_has_its_series)
{
	struct metrics	*m;
	char		 want[128];
	char		*s;
	int		 r;

	cr_assert_not_null(m = metrics_new());
	for (r = 0; r < EV_NREASONS; r++) {
		cr_expect_eq(event_reason_of(event_reason_name(r)), r);
		metrics_dead(m, event_reason_name(r));
	}
	metrics_dead(m, "duplicate_hash");
	s = render(m);
	for (r = 0; r < EV_NREASONS; r++) {
		snprintf(want, sizeof(want), "revokerd_events_dead_total"
		    "{reason=\"%s\"} %d\n", event_reason_name(r),
		    r == EV_R_DUP_HASH ? 2 : 1);
		cr_expect_not_null(strstr(s, want), "%s", want);
	}
	cr_expect_not_null(strstr(s,
	    "revokerd_events_dead_total{reason=\"other\"} 0\n"));
	free(s);
	metrics_free(&m);
}

static void *
hammer(void *arg)
{
	int	 i;

	for (i = 0; i < 100000; i++)
		metrics_http(arg, MET_EP_REVOKE, 200, (uint64_t)i);
	return NULL;
}

Test(metrics, counts_from_many_threads)
{
	struct metrics	*m;
	pthread_t	 t[4];
	char		*s;
	int		 i;

	cr_assert_not_null(m = metrics_new());
	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, m), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	s = render(m);
	cr_expect_not_null(strstr(s, "revokerd_http_requests_total"
	    "{endpoint=\"revoke\",code=\"2xx\"} 400000\n"), "%s", s);
	free(s);
	metrics_free(&m);
}
