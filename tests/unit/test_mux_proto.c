/*
 * test_mux_proto.c: the saslauthd request and reply: a round trip, a
 * request cut anywhere asks for more bytes, limits and NULs are refused,
 * and replies are "OK" or "NO reason" cut to fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "../../authd/mux_proto.h"

static void
test_roundtrip(void **state)
{
	struct mux_request req;
	struct sbuf b;
	size_t used, cut;

	(void)state;
	sbuf_init(&b, MUX_REQUEST_MAX);
	mux_request_init(&req);
	assert_int_equal(mux_build_request(&b, "alice", "s3cret", "imap",
	    "example.org"), SK_OK);
	assert_int_equal(mux_parse_request(b.data, b.len, &req, &used), SK_OK);
	assert_int_equal(used, b.len);
	assert_string_equal(req.login, "alice");
	assert_string_equal((char *)req.password.data, "s3cret");
	assert_int_equal(req.password.len, 6);
	assert_string_equal(req.service, "imap");
	assert_string_equal(req.realm, "example.org");
	/* any prefix is incomplete, never an error */
	for (cut = 0; cut < b.len; cut++)
		assert_int_equal(mux_parse_request(b.data, cut, &req, &used),
		    SK_ERR_SHORT);
	/* bytes after a request are left for the next one */
	assert_int_equal(sbuf_put(&b, "\0\0", 2), SK_OK);
	assert_int_equal(mux_parse_request(b.data, b.len, &req, &used), SK_OK);
	assert_int_equal(used, b.len - 2);
	mux_request_clear(&req);
	assert_int_equal(req.password.len, 0);
	assert_string_equal(req.login, "");
	sbuf_free(&b);
}

static void
test_empty_fields(void **state)
{
	struct mux_request req;
	struct sbuf b;
	size_t used;

	(void)state;
	sbuf_init(&b, MUX_REQUEST_MAX);
	mux_request_init(&req);
	/* testsaslauthd sends an empty realm by default */
	assert_int_equal(mux_build_request(&b, "bob", "pw", "imap", ""), SK_OK);
	assert_int_equal(mux_parse_request(b.data, b.len, &req, &used), SK_OK);
	assert_string_equal(req.realm, "");
	/* an empty login is refused */
	sbuf_reset(&b);
	assert_int_equal(mux_build_request(&b, "", "pw", "imap", ""), SK_OK);
	assert_int_equal(mux_parse_request(b.data, b.len, &req, &used),
	    SK_ERR_FORMAT);
	mux_request_clear(&req);
	sbuf_free(&b);
}

static void
test_limits_and_nul(void **state)
{
	static const unsigned char nul[] = { 0, 3, 'a', 0, 'b' };
	unsigned char big[2 + MUX_FIELD_MAX + 1];
	struct mux_request req;
	struct sbuf b;
	size_t used;

	(void)state;
	mux_request_init(&req);
	big[0] = (MUX_FIELD_MAX + 1) >> 8;
	big[1] = (MUX_FIELD_MAX + 1) & 0xff;
	memset(big + 2, 'x', MUX_FIELD_MAX + 1);
	assert_int_equal(mux_parse_request(big, sizeof(big), &req, &used),
	    SK_ERR_LIMIT);
	/* the length alone decides: no need to wait for the bytes */
	assert_int_equal(mux_parse_request(big, 2, &req, &used), SK_ERR_LIMIT);
	assert_int_equal(mux_parse_request(nul, sizeof(nul), &req, &used),
	    SK_ERR_FORMAT);
	sbuf_init(&b, 4096);
	memset(big, 'y', sizeof(big));
	big[MUX_FIELD_MAX + 1] = '\0';
	assert_int_equal(mux_build_request(&b, (char *)big, "p", "s", "r"),
	    SK_ERR_LIMIT);
	sbuf_free(&b);
	mux_request_clear(&req);
}

static void
test_replies(void **state)
{
	char reason[1000];
	struct sbuf b;

	(void)state;
	sbuf_init(&b, MUX_REPLY_MAX);
	assert_int_equal(mux_build_reply(&b, 1, NULL), SK_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "\0\002OK", 4);
	sbuf_reset(&b);
	assert_int_equal(mux_build_reply(&b, 0, "authentication failed"), SK_OK);
	assert_int_equal(b.len, 2 + 3 + 21);
	assert_memory_equal(b.data + 2, "NO authentication failed", 24);
	sbuf_reset(&b);
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(mux_build_reply(&b, 0, reason), SK_OK);
	assert_true(b.len <= MUX_REPLY_MAX);
	assert_int_equal((b.data[0] << 8 | b.data[1]) + 2, b.len);
	sbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_empty_fields),
		cmocka_unit_test(test_limits_and_nul),
		cmocka_unit_test(test_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
