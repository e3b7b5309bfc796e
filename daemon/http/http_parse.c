/*
 * http_parse: a strict parser for the HTTP/1.x request heads revokerd
 * serves (RFC 9112), and a decoder for application/x-www-form-urlencoded
 * bodies and query strings.
 *
 * Strict on purpose, since no proxy sits between us and the client: CRLF
 * line ends only, no obs-fold, no whitespace before a colon, one
 * Content-Length made of digits, no Transfer-Encoding (501), one Host,
 * and every byte checked against the grammar.  Pure functions: no
 * allocation, no state, so they are easy to fuzz.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "daemon/http/http_int.h"

#define MAX_CLEN_DIGITS	9

/* Header fields we look at, besides the ones we check for a duplicate. */
struct head_seen {
	int		 host;
	int		 clen;
	int		 close;
	int		 keepalive;
};

static int
is_tchar(unsigned char ch)
{
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
		return 1;
	if (ch >= '0' && ch <= '9')
		return 1;
	switch (ch) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return 1;
	default:
		return 0;
	}
}

static int
method_of(const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "GET", 3) == 0)
		return HM_GET;
	if (n == 4 && memcmp(s, "POST", 4) == 0)
		return HM_POST;
	if (n == 4 && memcmp(s, "HEAD", 4) == 0)
		return HM_HEAD;
	return HM_OTHER;
}

/* "METHOD SP origin-form SP HTTP/1.x" in p[0..n).  0 or a status. */
static int
request_line(const char *p, size_t n, struct http_msg *m)
{
	size_t	 i = 0, t;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return 400;
	m->method = method_of(p, i);
	t = ++i;
	while (i < n && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ' || p[t] != '/')
		return 400;
	m->target = p + t;
	m->target_len = i - t;
	p += i + 1;
	n -= i + 1;
	if (n == 8 && memcmp(p, "HTTP/1.", 7) == 0 &&
	    (p[7] == '0' || p[7] == '1')) {
		m->minor = p[7] - '0';
		return 0;
	}
	if (n == 8 && memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' &&
	    p[5] <= '9' && p[6] == '.' && p[7] >= '0' && p[7] <= '9')
		return 505;
	return 400;
}

static int
name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* The comma-separated tokens of a Connection field. */
static void
connection_tokens(const char *v, size_t n, struct head_seen *s)
{
	size_t	 i, j;

	for (i = 0; i < n; i = j + 1) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (j = i; j < n && v[j] != ',' && v[j] != ' ' &&
		    v[j] != '\t'; j++)
			;
		if (name_is(v + i, j - i, "close"))
			s->close = 1;
		else if (name_is(v + i, j - i, "keep-alive"))
			s->keepalive = 1;
	}
}

static int
content_length(const char *v, size_t n, struct http_msg *m)
{
	size_t	 i;

	if (n == 0)
		return 400;
	if (n > MAX_CLEN_DIGITS) {
		for (i = 0; i < n; i++)
			if (v[i] < '0' || v[i] > '9')
				return 400;
		return 413;
	}
	for (m->clen = 0, i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		m->clen = m->clen * 10 + (size_t)(v[i] - '0');
	}
	return 0;
}

/* Act on one field we know.  0 or a status. */
static int
known_field(const char *name, size_t nn, const char *v, size_t vn,
    struct http_msg *m, struct head_seen *s)
{
	switch (nn) {	/* the lengths of the names below */
	case 4: case 6: case 10: case 12: case 13: case 14: case 17:
		break;
	default:
		return 0;
	}
	if (name_is(name, nn, "authorization")) {
		if (m->authz != NULL)
			return 400;
		m->authz = v;
		m->authz_len = vn;
	} else if (name_is(name, nn, "content-type")) {
		if (m->ctype != NULL)
			return 400;
		m->ctype = v;
		m->ctype_len = vn;
	} else if (name_is(name, nn, "content-length")) {
		if (s->clen++)
			return 400;
		return content_length(v, vn, m);
	} else if (name_is(name, nn, "transfer-encoding"))
		return 501;
	else if (name_is(name, nn, "connection"))
		connection_tokens(v, vn, s);
	else if (name_is(name, nn, "expect")) {
		if (!name_is(v, vn, "100-continue"))
			return 417;
		m->expect_continue = 1;
	} else if (name_is(name, nn, "host") && s->host++)
		return 400;
	return 0;
}

/* "name: OWS value OWS" in p[0..n).  0 or a status. */
static int
header_line(const char *p, size_t n, struct http_msg *m, struct head_seen *s)
{
	size_t	 i = 0, v, e, k;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return 400;
	for (v = i + 1; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
		;
	for (e = n; e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	for (k = v; k < e; k++)
		if (((unsigned char)p[k] < ' ' && p[k] != '\t') ||
		    p[k] == 0x7f)
			return 400;
	return known_field(p, i, p + v, e - v, m, s);
}

/* The head's lines from p up to end (the CRLF ending the last one). */
static int
header_lines(const char *p, const char *end, struct http_msg *m)
{
	struct head_seen s;
	const char	*eol;
	int		 rc, nf = 0;

	memset(&s, 0, sizeof(s));
	for (; p < end; p = eol + 2) {
		eol = memchr(p, '\r', (size_t)(end - p + 1));
		if (eol == NULL || eol[1] != '\n')
			return 400;
		if (++nf > HTTP_MAX_HEADERS)
			return 431;
		if ((rc = header_line(p, (size_t)(eol - p), m, &s)) != 0)
			return rc;
	}
	if (m->minor == 1 && s.host != 1)
		return 400;
	m->keepalive = !s.close && (m->minor == 1 || s.keepalive);
	return 0;
}

/*
 * A line end that is not CRLF in p[0..n): a LF without its CR, or a CR
 * followed by anything but LF.  Such a head can never complete, so it
 * is answered at once rather than at the timeout.
 */
static int
bad_line_end(const char *p, size_t n)
{
	const char	*q, *e = p + n;

	for (q = p; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		if (q == p || q[-1] != '\r')
			return 1;
	for (q = p; (q = memchr(q, '\r', (size_t)(e - q))) != NULL; q++)
		if (q + 1 < e && q[1] != '\n')
			return 1;
	return 0;
}

int
http_parse(const char *buf, size_t len, size_t max_head, struct http_msg *m)
{
	const char	*end, *eol, *p = buf;
	size_t		 scan = len < max_head ? len : max_head;
	int		 rc;

	memset(m, 0, sizeof(*m));
	/* RFC 9112 2.2: ignore a CRLF or two before the request-line. */
	while (p - buf < 4 && (size_t)(p - buf) + 2 <= scan &&
	    p[0] == '\r' && p[1] == '\n')
		p += 2;
	end = memmem(p, scan - (size_t)(p - buf), "\r\n\r\n", 4);
	if (end == NULL) {
		if (bad_line_end(p, scan - (size_t)(p - buf)))
			return 400;
		return len >= max_head ? 431 : HTTP_MORE;
	}
	m->head_len = (size_t)(end - buf) + 4;
	eol = memchr(p, '\r', (size_t)(end - p + 1));
	if (eol == NULL || eol[1] != '\n' || memchr(p, '\n', (size_t)(eol -
	    p)) != NULL)
		return 400;
	if ((rc = request_line(p, (size_t)(eol - p), m)) != 0)
		return rc;
	return header_lines(eol + 2, end + 2, m);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
http_decode(const char *s, size_t n, char *out, size_t outlen, int plus)
{
	size_t	 i, o = 0;
	int	 hi, lo;

	if (outlen == 0 || n > INT_MAX)
		return -1;
	/* The common case, nothing to decode: one copy. */
	if (n < outlen && memchr(s, '%', n) == NULL && memchr(s, '\0', n) ==
	    NULL && (!plus || memchr(s, '+', n) == NULL)) {
		memcpy(out, s, n);
		out[n] = '\0';
		return (int)n;
	}
	for (i = 0; i < n; i++) {
		if (o + 1 >= outlen)
			return -1;
		if (s[i] == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0 || (hi | lo) == 0)
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus)
			out[o++] = ' ';
		else if (s[i] == '\0')
			return -1;
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return (int)o;
}

/* Decode one "name=value" pair into its field, if wanted.  0 or -1. */
static int
form_pair(const char *s, size_t n, struct http_field *f, size_t nf,
    char *out, size_t outlen, size_t *used)
{
	const char	*eq, *v;
	char		 name[64];
	size_t		 i, nl;
	int		 vl;

	if ((eq = memchr(s, '=', n)) == NULL)
		eq = s + n;
	nl = (size_t)(eq - s);
	if (http_decode(s, nl, name, sizeof(name), 1) < 0)
		return nl >= sizeof(name) ? 0 : -1;
	for (i = 0; i < nf; i++)
		if (strcmp(name, f[i].name) == 0)
			break;
	if (i == nf)
		return 0;
	if (f[i].val != NULL)
		return -1;	/* RFC 6749 3.1: no parameter twice */
	v = eq < s + n ? eq + 1 : eq;
	if ((vl = http_decode(v, n - (size_t)(v - s), out + *used,
	    outlen - *used, 1)) < 0)
		return -1;
	f[i].val = out + *used;
	f[i].len = (size_t)vl;
	*used += (size_t)vl + 1;
	return 0;
}

int
http_form(const char *s, size_t n, struct http_field *f, size_t nf,
    char *out, size_t outlen)
{
	const char	*amp;
	size_t		 i, used = 0, len;

	for (i = 0; i < nf; i++) {
		f[i].val = NULL;
		f[i].len = 0;
	}
	while (n > 0) {
		amp = memchr(s, '&', n);
		len = amp != NULL ? (size_t)(amp - s) : n;
		if (len > 0 && form_pair(s, len, f, nf, out, outlen,
		    &used) == -1)
			return -1;
		if (amp == NULL)
			break;
		n -= len + 1;
		s = amp + 1;
	}
	return 0;
}
