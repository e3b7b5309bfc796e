/*
 * jout: JSON written straight into a buffer, byte for byte as jansson's
 * compact dump (JSON_COMPACT) of the same values, for the hot paths
 * that would otherwise build a jansson tree only to dump it: revocation
 * messages (publish.c) and claims blobs (event.c).
 *
 * A fixed buffer (grow 0) sets full on overflow and drops the rest; a
 * growing one (grow 1, p malloc'd or NULL) reallocs, and sets full only
 * when out of memory.  The caller checks full once, at the end.
 */
#ifndef JOUT_H
#define JOUT_H

#include <stddef.h>

struct jout {
	char	*p;
	size_t	 len, cap;
	int	 grow;
	int	 full;
};

/* n raw bytes (already JSON).  O(n). */
void	jout_raw(struct jout *, const char *s, size_t n);
#define jout_lit(j, s)	jout_raw((j), (s), sizeof(s) - 1)
/* A decimal integer.  O(1). */
void	jout_int(struct jout *, long long v);
/*
 * s as a JSON string, escaped as jansson does (", \ and control
 * characters: \b \f \n \r \t by name, others \u00XX), each byte of a
 * bad UTF-8 sequence as U+FFFD.  O(strlen(s)).
 */
void	jout_str(struct jout *, const char *s);

#endif
