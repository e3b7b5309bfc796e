/* utf8: see utf8.h. */
#include <stdint.h>

#include "consumers/text/utf8.h"

size_t
utf8_seqn(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n, i;

	if (avail == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		/* Also stops at a NUL, before any byte past avail. */
		if (i >= avail || (p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
utf8_seq(const char *s)
{
	return utf8_seqn(s, SIZE_MAX);	/* a NUL ends it first */
}

size_t
utf8_prefix(const char *s, size_t max)
{
	size_t len = 0, n;

	while (s[len] != '\0') {
		/* A bad byte counts as one: the caller prints it as is. */
		if ((n = utf8_seq(s + len)) == 0)
			n = 1;
		if (len + n > max)
			break;
		len += n;
	}
	return len;
}
