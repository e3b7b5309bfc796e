/*
 * jout: JSON into a buffer as jansson dumps it.  See jout.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumers/text/jout.h"
#include "consumers/text/utf8.h"

/* Room for n more bytes: 0, or -1 (full set). */
static int
room(struct jout *j, size_t n)
{
	size_t	 cap;
	char	*p;

	if (j->full)
		return -1;
	if (n <= j->cap - j->len)
		return 0;
	if (!j->grow) {
		j->full = 1;
		return -1;
	}
	for (cap = j->cap > 0 ? j->cap : 256; n > cap - j->len; cap *= 2)
		if (cap > ((size_t)-1) / 4) {
			j->full = 1;
			return -1;
		}
	if ((p = realloc(j->p, cap)) == NULL) {
		j->full = 1;
		return -1;
	}
	j->p = p;
	j->cap = cap;
	return 0;
}

void
jout_raw(struct jout *j, const char *s, size_t n)
{
	if (room(j, n) == -1)
		return;
	memcpy(j->p + j->len, s, n);
	j->len += n;
}

void
jout_int(struct jout *j, long long v)
{
	char	b[24];
	int	n;

	n = snprintf(b, sizeof(b), "%lld", v);
	jout_raw(j, b, (size_t)n);
}

/* The escape of control character or ASCII c into e; its length. */
static size_t
escape(unsigned char c, char e[6])
{
	static const char	 hx[] = "0123456789ABCDEF";
	static const char	 named[] = "\bb\ff\nn\rr\tt\"\"\\\\";
	const char		*k;

	e[0] = '\\';
	if ((k = memchr(named, c, sizeof(named) - 1)) != NULL &&
	    (k - named) % 2 == 0) {
		e[1] = k[1];
		return 2;
	}
	memcpy(e, "\\u00", 4);
	e[4] = hx[c >> 4];
	e[5] = hx[c & 15];
	return 6;
}

void
jout_str(struct jout *j, const char *s)
{
	const char	*p, *run;
	char		 e[6];
	size_t		 n;
	unsigned char	 c;

	jout_lit(j, "\"");
	for (p = run = s; *p != '\0'; p += n) {
		c = (unsigned char)*p;
		n = 1;
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80)
			continue;
		if (c >= 0x80 && (n = utf8_seq(p)) > 0)
			continue;
		n = 1;
		jout_raw(j, run, (size_t)(p - run));
		if (c >= 0x80)
			jout_lit(j, "\xef\xbf\xbd");
		else
			jout_raw(j, e, escape(c, e));
		run = p + 1;
	}
	jout_raw(j, run, (size_t)(p - run));
	jout_lit(j, "\"");
}
