/*
 * http_reply: the bodies every endpoint shares: the OAuth error object
 * (RFC 6749 section 5.2) and JSON string escaping.  See http_int.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/http/http_int.h"

#define JSON_TYPE	"application/json"

#define STR_IOV(s)	{ (void *)(uintptr_t)(s), sizeof(s) - 1 }

void
http_error_desc(struct http_req *r, int status, const char *desc)
{
	struct iovec	 iov[5] = { STR_IOV("{\"error\":\""), { NULL, 0 },
	    STR_IOV("\",\"error_description\":\""), { NULL, 0 },
	    STR_IOV("\"}") };
	const char	*code;

	switch (status) {
	case 400: code = "invalid_request"; break;
	case 401: code = "invalid_client"; break;
	case 403: code = "access_denied"; break;
	case 404: code = "not_found"; break;
	case 405: code = "method_not_allowed"; break;
	case 409: code = "ambiguous_jti"; break;
	case 413: code = "request_too_large"; break;
	case 429: code = "slow_down"; break;
	case 503: code = "temporarily_unavailable"; break;
	default: code = status >= 500 ? "server_error" : "invalid_request";
	}
	iov[1].iov_base = (void *)(uintptr_t)code;
	iov[1].iov_len = strlen(code);
	if (desc == NULL) {
		iov[2] = iov[4];
		http_reply(r, status, JSON_TYPE, iov, 3);
		return;
	}
	iov[3].iov_base = (void *)(uintptr_t)desc;
	iov[3].iov_len = strlen(desc);
	http_reply(r, status, JSON_TYPE, iov, 5);
}

void
http_error(struct http_req *r, int status)
{
	http_error_desc(r, status, NULL);
}

void
http_json_str(struct evbuffer *b, const char *s, size_t n)
{
	char	 esc[8];
	size_t	 i, run = 0;

	evbuffer_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		evbuffer_add(b, s + run, i - run);
		run = i + 1;
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			evbuffer_add(b, esc, 2);
		} else if (snprintf(esc, sizeof(esc), "\\u%04x", ch) == 6)
			evbuffer_add(b, esc, 6);
	}
	evbuffer_add(b, s + run, n - run);
	evbuffer_add(b, "\"", 1);
}
