/* b64: see b64.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "consumers/text/b64.h"

size_t
b64_encode(const void *in, size_t n, char *out, int url)
{
	size_t len, i;

	len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	if (!url)
		return len;
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return len;
}

/* A character of the alphabet (padding aside)? */
static int
b64_char(int c, int url)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return url ? c == '-' || c == '_' : c == '+' || c == '/';
}

ssize_t
b64_decode(const char *s, size_t n, void *out, size_t outlen, int url)
{
	unsigned char *buf;
	size_t i, pad = 0, full;
	int len;

	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	if ((!url && (n % 4 != 0)) || (n - pad) % 4 == 1)
		return -1;
	for (i = 0; i < n - pad; i++)
		if (!b64_char((unsigned char)s[i], url))
			return -1;
	full = B64_LEN((n - pad) * 3 / 4);
	if ((buf = malloc(full + 1 + full)) == NULL)
		return -1;
	/* The standard alphabet, padded, for EVP_DecodeBlock. */
	for (i = 0; i < n - pad; i++)
		buf[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (; i < full; i++)
		buf[i] = '=';
	len = EVP_DecodeBlock(buf + full + 1, buf, (int)full);
	/* EVP_DecodeBlock counts each '=' as a zero byte. */
	if (len >= 0)
		len -= (int)(full - (n - pad));
	if (len < 0 || (size_t)len > outlen) {
		free(buf);
		return -1;
	}
	memcpy(out, buf + full + 1, (size_t)len);
	free(buf);
	return len;
}
