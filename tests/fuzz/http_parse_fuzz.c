/*
 * http_parse_fuzz: libFuzzer target for the HTTP request-head parser and
 * the form decoder, the two parsers of untrusted bytes in the HTTP API.
 *
 * Feeds any bytes to http_parse() with a few head limits and checks what
 * it promises: a complete head lies inside the input and the limit, its
 * pointers point into it; "more bytes needed" only for a head that can
 * still complete (no bare LF, no CR before anything but LF); then
 * decodes the body and the query as forms.
 * Build and run with scripts/fuzz.sh.
 *
 * FUZZ_SOURCES: daemon/http/http_parse.c
 * FUZZ_LIBS: libevent
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http/http_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
inside(const char *buf, size_t len, const char *p, size_t n)
{
	if (p != NULL && (p < buf || p + n > buf + len))
		abort();
}

/* HTTP_MORE for buf[0..n) is only right if every line end is CRLF. */
static void
completable(const char *buf, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) ||
		    (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n'))
			abort();
}

static void
forms(const char *s, size_t n)
{
	struct http_field	 f[3] = { { "token", NULL, 0 },
	    { "token_type_hint", NULL, 0 }, { "iss", NULL, 0 } };
	char			 out[256];
	size_t			 i;

	if (http_form(s, n, f, 3, out, sizeof(out)) != 0)
		return;
	for (i = 0; i < 3; i++)
		if (f[i].val != NULL && (f[i].val < out ||
		    f[i].val + f[i].len >= out + sizeof(out) ||
		    strlen(f[i].val) != f[i].len))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 64, 1024, 8192 };
	const char	*buf;
	struct http_msg	 m;
	size_t		 i, body;
	char		*copy;
	int		 rc;

	/* An exact-size copy, so that ASan sees any read past the end. */
	if ((copy = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(copy, data, size);
	buf = copy;
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		rc = http_parse(buf, size, limits[i], &m);
		if (rc == HTTP_MORE)
			completable(buf, size < limits[i] ? size : limits[i]);
		if (rc != 0)
			continue;
		if (m.head_len > size || m.head_len > limits[i] ||
		    m.minor < 0 || m.minor > 1)
			abort();
		inside(buf, size, m.target, m.target_len);
		inside(buf, size, m.authz, m.authz_len);
		inside(buf, size, m.ctype, m.ctype_len);
		if (m.target == NULL || m.target[0] != '/')
			abort();
		body = size - m.head_len < m.clen ? size - m.head_len : m.clen;
		forms(buf + m.head_len, body);
		forms(m.target, m.target_len);
	}
	forms(buf, size);
	free(copy);
	return 0;
}
