/*
 * jparse: a strict JSON parser for the hot paths (input events, claims
 * blobs), building the very tree jansson's json_loadb() would build,
 * several times faster: jansson's lexer reads through a callback a byte
 * at a time, and was half of the instructions of a replay.
 *
 * It handles the JSON that revokerd meets in practice and declines the
 * rest: any error, and whatever it does not handle (a number with a
 * fraction or an exponent, an integer of more than 18 digits, nesting
 * deeper than JPARSE_DEPTH, a string with escapes longer than
 * JPARSE_ESC, a key with escapes longer than JPARSE_KEY), returns
 * NULL, and the caller parses the same bytes with
 * json_loadb(), which decides and says why.  So an input is accepted
 * exactly when jansson accepts it (with JSON_REJECT_DUPLICATES, no
 * NUL in strings, nothing after the value), into an equal tree with
 * members in the same order (the tests and the fuzz target compare the
 * two on every input).
 */
#ifndef JPARSE_H
#define JPARSE_H

#include <stddef.h>

#define JPARSE_DEPTH	64
#define JPARSE_ESC	4096
#define JPARSE_KEY	256

/*
 * The JSON object in buf[0..len) as a jansson tree (a json_t * the
 * caller json_decref()s), or NULL: not an object, invalid, or not
 * handled here; then ask json_loadb().  Cost: O(len), one allocation
 * per value (jansson's own), none of its own.
 */
void	*jparse_object(const char *buf, size_t len);

#endif
