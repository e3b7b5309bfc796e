/* b64: RFC 4648's test vectors, both alphabets, and strict decoding. */
#include <string.h>

#include <criterion/criterion.h>

#include "consumers/text/b64.h"

static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba",
	"foobar" };
static const char *const std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
	"Zm9vYmE=", "Zm9vYmFy" };
static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg",
	"Zm9vYmE", "Zm9vYmFy" };

Test(b64, rfc4648_vectors)
{
	char out[32], dec[32];
	size_t i;

	for (i = 0; i < 7; i++) {
		cr_expect_eq(b64_encode(plain[i], strlen(plain[i]), out, 0),
		    strlen(std[i]));
		cr_expect_str_eq(out, std[i]);
		cr_expect_eq(b64_encode(plain[i], strlen(plain[i]), out, 1),
		    strlen(url[i]));
		cr_expect_str_eq(out, url[i]);
		cr_expect_eq(b64_decode(std[i], strlen(std[i]), dec,
		    sizeof(dec), 0), (ssize_t)strlen(plain[i]), "%s", std[i]);
		cr_expect_eq(memcmp(dec, plain[i], strlen(plain[i])), 0);
		cr_expect_eq(b64_decode(url[i], strlen(url[i]), dec,
		    sizeof(dec), 1), (ssize_t)strlen(plain[i]), "%s", url[i]);
		cr_expect_eq(memcmp(dec, plain[i], strlen(plain[i])), 0);
	}
}

Test(b64, url_alphabet_round_trip)
{
	unsigned char in[3] = { 0xfb, 0xff, 0xfe }, dec[3];
	char out[8];

	b64_encode(in, 3, out, 1);
	cr_expect_str_eq(out, "-__-");
	b64_encode(in, 3, out, 0);
	cr_expect_str_eq(out, "+//+");
	cr_expect_eq(b64_decode("-__-", 4, dec, 3, 1), 3);
	cr_expect_eq(memcmp(dec, in, 3), 0);
}

Test(b64, strict)
{
	char dec[32];

	cr_expect_eq(b64_decode("Zm9", 3, dec, sizeof(dec), 0), -1,
	    "standard wants padding");
	cr_expect_eq(b64_decode("Zm 9v", 5, dec, sizeof(dec), 0), -1);
	cr_expect_eq(b64_decode("Zm9v\n", 5, dec, sizeof(dec), 0), -1);
	cr_expect_eq(b64_decode("Z=9v", 4, dec, sizeof(dec), 0), -1);
	cr_expect_eq(b64_decode("Zm-v", 4, dec, sizeof(dec), 0), -1,
	    "a url character in the standard alphabet");
	cr_expect_eq(b64_decode("Zm+v", 4, dec, sizeof(dec), 1), -1,
	    "a standard character in the url alphabet");
	cr_expect_eq(b64_decode("Z", 1, dec, sizeof(dec), 1), -1);
	cr_expect_eq(b64_decode("Zm9vYmFy", 8, dec, 5, 0), -1, "no room");
}
