/*
 * utf8: the one UTF-8 validator of the consumers (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF).
 */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s, or 0 if there is none.  Reads
 * no byte past the first that is not a continuation, so never past a
 * NUL.  O(1).
 */
size_t	utf8_seq(const char *s);
/* The same for s of avail bytes, NUL or not: reads none past them. */
size_t	utf8_seqn(const char *s, size_t avail);

/*
 * The length of the longest prefix of the NUL-terminated s that is at
 * most max bytes and ends on a character boundary: what "%.*s" may
 * print of s without cutting a character in two.  O(max).
 */
size_t	utf8_prefix(const char *s, size_t max);

#endif
