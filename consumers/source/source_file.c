/*
 * source_file: the JSONL file source; see source.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "consumers/apply/apply.h"
#include "consumers/source/source.h"

/*
 * One line of fp without its newline, at most cap bytes of it in buf
 * (the rest is skipped).  *bytes grows by what was read.  1 at the end
 * of the file, else 0.  O(length of the line).
 */
static int
read_line(FILE *fp, char *buf, size_t cap, size_t *len, uint64_t *bytes)
{
	uint64_t all = 0;
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (n < cap)
			buf[n++] = (char)c;
		all++;
	}
	if (c == EOF && all == 0)
		return 1;
	*bytes += all + (c == '\n');
	*len = n;
	return 0;
}

static int
file_read(void *self, source_fn *fn, void *arg, source_progress_fn *progress,
    char *errbuf, size_t errlen)
{
	struct source_file *sf = self;
	struct apply_msg m;
	struct stat sb;
	uint64_t done = 0, total = 0;
	size_t len;
	char *buf;
	FILE *fp;
	int rc = 0;

	fp = strcmp(sf->path, "-") == 0 ? stdin : fopen(sf->path, "r");
	if (fp == NULL) {
		snprintf(errbuf, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode))
		total = (uint64_t)sb.st_size;
	if ((buf = malloc(sf->max_len > 0 ? sf->max_len : 1)) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		rc = -1;
	}
	memset(&m, 0, sizeof(m));
	while (rc == 0 && read_line(fp, buf, sf->max_len, &len, &done) == 0) {
		if (progress != NULL)
			progress(arg, done, total);
		if (len == 0)
			continue;
		m.payload = buf;
		m.len = len;
		rc = fn(arg, &m);
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(errbuf, errlen, "read error");
		rc = -1;
	}
	if (fp != stdin)
		fclose(fp);
	free(buf);
	return rc;
}

static const struct source_ops file_ops = { file_read };

struct source
source_file(struct source_file *sf)
{
	struct source s = { &file_ops, sf };

	return s;
}
