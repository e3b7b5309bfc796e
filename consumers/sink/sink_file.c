/*
 * sink_file: the JSONL file sink; see sink.h.
 *
 * Lines go through stdio; the tags of the lines written since the last
 * poll wait in an array (bounded by what the caller keeps in flight)
 * and are reported at the next poll, delivered if the flush succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "consumers/sink/sink.h"

struct sink_file {
	FILE		*f;
	sink_report_fn	*report;
	void		*arg;
	uint64_t	*tags;		/* written, not reported */
	size_t		 n, cap;
	int		 werr;		/* a write failed since the last poll */
	uint64_t	 lines;
};

struct sink_file *
sink_file_open(const char *path, sink_report_fn *report, void *arg,
    char *errbuf, size_t errlen)
{
	struct sink_file *sf;
	int fd;

	if ((sf = calloc(1, sizeof(*sf))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1 || (sf->f = fdopen(fd, "a")) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(sf);
		return NULL;
	}
	sf->report = report;
	sf->arg = arg;
	return sf;
}

/* The line of one message, NUL-ended, malloc'd; NULL on out of memory. */
static char *
line_of(const char *topic, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	json_t *o, *m, *k;
	char *s;

	if ((m = json_loadb(val, vlen, 0, NULL)) ==
	    NULL && (m = json_stringn(val, vlen)) == NULL)
		m = json_null();	/* neither JSON nor UTF-8 */
	k = key != NULL ? json_stringn(key, klen) : NULL;
	o = json_pack("{s:s, s:o, s:o}", "topic", topic,
	    "key", k != NULL ? k : json_null(), "message", m);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int
file_send(void *self, const char *topic, const void *key, size_t klen,
    const void *val, size_t vlen, uint64_t tag)
{
	struct sink_file *sf = self;
	uint64_t *nt;
	size_t ncap;
	char *s;

	if (sf->n == sf->cap) {
		ncap = sf->cap ? sf->cap * 2 : 1024;
		if ((nt = realloc(sf->tags, ncap * sizeof(*nt))) == NULL)
			return SINK_FULL;
		sf->tags = nt;
		sf->cap = ncap;
	}
	if ((s = line_of(topic, key, klen, val, vlen)) == NULL)
		return SINK_FULL;
	if (fputs(s, sf->f) == EOF || putc('\n', sf->f) == EOF)
		sf->werr = 1;
	free(s);
	sf->tags[sf->n++] = tag;
	sf->lines++;
	return SINK_SENT;
}

static void
file_poll(void *self, int timeout_ms)
{
	struct sink_file *sf = self;
	uint64_t *tags = sf->tags;
	size_t i, n = sf->n;
	int result;

	(void)timeout_ms;
	if (n == 0)
		return;
	if (fflush(sf->f) == EOF || fdatasync(fileno(sf->f)) == -1)
		sf->werr = 1;	/* on disk, or not delivered */
	result = sf->werr ? SINK_FAILED : SINK_DELIVERED;
	sf->werr = 0;
	sf->tags = NULL;	/* a report may send again: a new array */
	sf->n = sf->cap = 0;
	for (i = 0; i < n; i++)
		sf->report(sf->arg, tags[i], result);
	free(tags);
}

static int
file_pending(void *self)
{
	return (int)((struct sink_file *)self)->n;
}

static int
file_fatal(void *self)
{
	(void)self;
	return 0;
}

static const struct sink_ops file_ops = {
	file_send, file_poll, file_pending, file_fatal
};

struct sink
sink_file_sink(struct sink_file *sf)
{
	struct sink s = { &file_ops, sf };

	return s;
}

uint64_t
sink_file_lines(const struct sink_file *sf)
{
	return sf->lines;
}

int
sink_file_close(struct sink_file **sfp)
{
	struct sink_file *sf;
	int rc = 0;

	if (sfp == NULL || (sf = *sfp) == NULL)
		return 0;
	file_poll(sf, 0);
	if (fflush(sf->f) == EOF || fsync(fileno(sf->f)) == -1)
		rc = -1;
	if (fclose(sf->f) == EOF)
		rc = -1;
	free(sf->tags);
	free(sf);
	*sfp = NULL;
	return rc;
}
