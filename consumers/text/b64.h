/*
 * b64: the one base64 of the project, on libcrypto's EVP_EncodeBlock and
 * EVP_DecodeBlock: standard (RFC 4648 section 4, padded) for HTTP Basic
 * credentials and dead letters, and base64url without padding (section
 * 5) for token hashes.  No codec of our own.
 */
#ifndef B64_H
#define B64_H

#include <stddef.h>
#include <sys/types.h>

/* Encoded length of n bytes, padded, without the NUL. */
#define B64_LEN(n)	(4 * (((n) + 2) / 3))

/*
 * Encode n bytes into out (room for B64_LEN(n) + 1), NUL-terminated;
 * url: the URL-safe alphabet without padding.  Returns the length.
 * O(n).
 */
size_t	b64_encode(const void *in, size_t n, char *out, int url);

/*
 * Decode the n characters at s (standard alphabet, padded; url: the
 * URL-safe alphabet, padding optional) into out, at most outlen bytes.
 * Strict: any other character, a bad length or bad padding is an error.
 * Returns the decoded length, or -1.  O(n).
 */
ssize_t	b64_decode(const char *s, size_t n, void *out, size_t outlen,
	    int url);

#endif
