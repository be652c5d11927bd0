/*
 * fuzz_mux.c: saslauthd mux requests from an untrusted client, parsed one
 * after the other from the input as a server reads them from a socket.
 * Asserts: a parsed request used between 8 and MUX_REQUEST_MAX bytes
 * within the input; its strings hold no NUL and fit their bounds; building
 * the same request again gives the same bytes; a prefix of a request is
 * SK_ERR_SHORT or an error, never a request.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "../../authd/mux_proto.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mux_request req;
	struct sbuf again;
	size_t off = 0, used;
	int r;

	mux_request_init(&req);
	sbuf_init(&again, MUX_REQUEST_MAX);
	while (off < size) {
		r = mux_parse_request(data + off, size - off, &req, &used);
		if (r != SK_OK) {
			FUZZ_CHECK(r == SK_ERR_SHORT || r == SK_ERR_LIMIT ||
			    r == SK_ERR_FORMAT);
			FUZZ_CHECK(req.login[0] == '\0' && req.password.len == 0);
			break;
		}
		FUZZ_CHECK(used >= 8 && used <= MUX_REQUEST_MAX &&
		    used <= size - off);
		FUZZ_CHECK(req.login[0] != '\0');
		FUZZ_CHECK(strlen((char *)req.password.data) == req.password.len);
		sbuf_reset(&again);
		FUZZ_CHECK(mux_build_request(&again, req.login,
		    (char *)req.password.data, req.service, req.realm) == SK_OK);
		FUZZ_CHECK(again.len == used &&
		    memcmp(again.data, data + off, used) == 0);
		FUZZ_CHECK(mux_parse_request(data + off, used - 1, &req,
		    &used) != SK_OK);
		off += again.len;
	}
	mux_request_clear(&req);
	sbuf_free(&again);
	return 0;
}
