/*
 * jparse: strict JSON into a jansson tree.  See jparse.h.
 *
 * Recursive descent over the bytes, as RFC 8259 gives the grammar;
 * strings without escapes go to jansson straight from the input, those
 * with escapes through a buffer on the stack.
 */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "consumers/text/jparse.h"
#include "consumers/text/utf8.h"

struct jp {
	const unsigned char	*p, *end;
	int			 depth;
	char			 esc[JPARSE_ESC];
};

static json_t	*value(struct jp *);

static void
ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(struct jp *j, uint32_t *v)
{
	int	i, c;

	if (j->end - j->p < 4)
		return -1;
	for (*v = 0, i = 0; i < 4; i++) {
		c = j->p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		*v = (*v << 4) | (uint32_t)c;
	}
	j->p += 4;
	return 0;
}

/* \uXXXX (a surrogate pair as one) at p, after the \u, into out. */
static int
unicode(struct jp *j, char *out, size_t *o)
{
	uint32_t	cp, lo;

	if (hex4(j, &cp) == -1 || cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return -1;
		j->p += 2;
		if (hex4(j, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp < 0x80)
		out[(*o)++] = (char)cp;
	else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
	return 0;
}

/* The rest of a string with escapes, from p, into j->esc after o bytes. */
static int
escaped(struct jp *j, size_t o, const char **s, size_t *n)
{
	static const char	 from[] = "\"\\/bfnrt";
	static const char	 to[] = "\"\\/\b\f\n\r\t";
	const char		*k;
	size_t			 m;
	unsigned char		 c;

	for (;;) {
		if (j->p >= j->end || o > sizeof(j->esc) - 4)
			return -1;
		c = *j->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (j->end - j->p < 2)
				return -1;
			c = j->p[1];
			j->p += 2;
			if (c == 'u') {
				if (unicode(j, j->esc, &o) == -1)
					return -1;
			} else if (c != '\0' &&
			    (k = strchr(from, c)) != NULL)
				j->esc[o++] = to[k - from];
			else
				return -1;
			continue;
		}
		m = c < 0x80 ? 1 : utf8_seqn((const char *)j->p,
		    (size_t)(j->end - j->p));
		if (m == 0)
			return -1;
		memcpy(j->esc + o, j->p, m);
		o += m;
		j->p += m;
	}
	j->p++;
	*s = j->esc;
	*n = o;
	return 0;
}

/* A string at p (the opening quote): *s, *n valid until the next one. */
static int
string(struct jp *j, const char **s, size_t *n)
{
	const unsigned char	*start;
	size_t			 m;
	unsigned char		 c;

	start = ++j->p;
	for (;;) {
		if (j->p >= j->end)
			return -1;
		c = *j->p;
		if (c == '"')
			break;
		if (c == '\\') {
			if ((size_t)(j->p - start) > sizeof(j->esc) - 4)
				return -1;
			memcpy(j->esc, start, (size_t)(j->p - start));
			return escaped(j, (size_t)(j->p - start), s, n);
		}
		if (c < 0x20)
			return -1;
		if (c < 0x80) {
			j->p++;
			continue;
		}
		if ((m = utf8_seqn((const char *)j->p,
		    (size_t)(j->end - j->p))) == 0)
			return -1;
		j->p += m;
	}
	*s = (const char *)start;
	*n = (size_t)(j->p - start);
	j->p++;
	return 0;
}

/* An integer of at most 18 digits; anything else is jansson's. */
static json_t *
number(struct jp *j)
{
	json_int_t	v = 0;
	int		neg = 0, digits = 0;

	if (*j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return NULL;
	if (*j->p == '0') {
		j->p++;
		digits = 1;
	} else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			if (++digits > 18)
				return NULL;
			v = v * 10 + (*j->p++ - '0');
		}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' ||
	    *j->p == 'E' || (*j->p >= '0' && *j->p <= '9')))
		return NULL;
	return json_integer(neg ? -v : v);
}

static json_t *
literal(struct jp *j, const char *word, size_t n, json_t *v)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return NULL;
	j->p += n;
	return v;
}

static json_t *
array(struct jp *j)
{
	json_t	*a, *v;

	if ((a = json_array()) == NULL)
		return NULL;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return a;
	}
	for (;;) {
		if ((v = value(j)) == NULL || json_array_append_new(a, v) == -1)
			break;
		ws(j);
		if (j->p >= j->end)
			break;
		if (*j->p == ']') {
			j->p++;
			return a;
		}
		if (*j->p++ != ',')
			break;
		ws(j);
	}
	json_decref(a);
	return NULL;
}

static json_t *
object(struct jp *j)
{
	json_t		*o, *v;
	const char	*k;
	char		 key[JPARSE_KEY];
	size_t		 n;

	if ((o = json_object()) == NULL)
		return NULL;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return o;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"' || string(j, &k, &n) == -1)
			break;
		if (k == j->esc) {	/* the value's strings reuse esc */
			if (n > sizeof(key))
				break;
			memcpy(key, k, n);
			k = key;
		}
		ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			break;
		ws(j);
		if (json_object_getn(o, k, n) != NULL ||
		    (v = value(j)) == NULL)
			break;
		if (json_object_setn_new_nocheck(o, k, n, v) == -1)
			break;
		ws(j);
		if (j->p >= j->end)
			break;
		if (*j->p == '}') {
			j->p++;
			return o;
		}
		if (*j->p++ != ',')
			break;
		ws(j);
	}
	json_decref(o);
	return NULL;
}

static json_t *
value(struct jp *j)
{
	const char	*s;
	json_t		*v = NULL;
	size_t		 n;

	if (j->p >= j->end || j->depth >= JPARSE_DEPTH)
		return NULL;
	switch (*j->p) {
	case '{':
		j->depth++;
		v = object(j);
		j->depth--;
		return v;
	case '[':
		j->depth++;
		v = array(j);
		j->depth--;
		return v;
	case '"':
		if (string(j, &s, &n) == -1)
			return NULL;
		return json_stringn_nocheck(s, n);
	case 't':
		return literal(j, "true", 4, json_true());
	case 'f':
		return literal(j, "false", 5, json_false());
	case 'n':
		return literal(j, "null", 4, json_null());
	default:
		return number(j);
	}
}

void *
jparse_object(const char *buf, size_t len)
{
	struct jp	 j;
	json_t		*v;

	if (buf == NULL)
		return NULL;
	j.p = (const unsigned char *)buf;
	j.end = j.p + len;
	j.depth = 0;
	ws(&j);
	if (j.p >= j.end || *j.p != '{' || (v = value(&j)) == NULL)
		return NULL;
	ws(&j);
	if (j.p != j.end) {
		json_decref(v);
		return NULL;
	}
	return v;
}
