/*
 * test_b64.c: unit tests of common/b64.c: the RFC 4648 test vectors both
 * ways, strict rejection of malformed input, and output bounds that hold
 * whatever the input (exact-size heap buffers let ASan see any overflow).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "sbuf.h"

static const struct {
	const char *plain, *enc;
} vectors[] = {	/* RFC 4648, section 10 */
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};
#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

static void
test_encoded_len(void **state)
{
	(void)state;
	assert_int_equal(b64_encoded_len(0), 0);
	assert_int_equal(b64_encoded_len(1), 4);
	assert_int_equal(b64_encoded_len(2), 4);
	assert_int_equal(b64_encoded_len(3), 4);
	assert_int_equal(b64_encoded_len(4), 8);
	assert_int_equal(b64_encoded_len(32), 44);
}

/* Each vector encodes into a buffer of exactly b64_encoded_len + 1 bytes. */
static void
test_encode_vectors(void **state)
{
	size_t i, n, sz;
	char *out;

	(void)state;
	for (i = 0; i < NVECTORS; i++) {
		n = strlen(vectors[i].plain);
		sz = b64_encoded_len(n) + 1;
		assert_int_equal(sz, strlen(vectors[i].enc) + 1);
		out = malloc(sz);
		assert_non_null(out);
		assert_int_equal(b64_encode(vectors[i].plain, n, out, sz), SK_OK);
		assert_string_equal(out, vectors[i].enc);
		free(out);
	}
}

/* Each vector decodes into a buffer of exactly the decoded length. */
static void
test_decode_vectors(void **state)
{
	size_t i, n, got;
	unsigned char *out;

	(void)state;
	for (i = 0; i < NVECTORS; i++) {
		n = strlen(vectors[i].plain);
		out = malloc(n ? n : 1);
		assert_non_null(out);
		got = 99;
		assert_int_equal(b64_decode(vectors[i].enc, strlen(vectors[i].enc),
		    out, n, &got), SK_OK);
		assert_int_equal(got, n);
		assert_memory_equal(out, vectors[i].plain, n);
		free(out);
	}
}

/* Every byte value, at every length mod 3, survives the round trip. */
static void
test_round_trip_all_bytes(void **state)
{
	unsigned char in[258], back[258];
	char enc[b64_encoded_len(258) + 1];
	size_t n, got, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(255 - i);
	for (n = 256; n <= 258; n++) {
		assert_int_equal(b64_encode(in, n, enc, sizeof(enc)), SK_OK);
		assert_int_equal(strlen(enc), b64_encoded_len(n));
		assert_int_equal(b64_decode(enc, strlen(enc), back, sizeof(back),
		    &got), SK_OK);
		assert_int_equal(got, n);
		assert_memory_equal(back, in, n);
	}
}

/* A length that is not a multiple of 4 is malformed. */
static void
test_reject_length(void **state)
{
	static const char *bad[] = { "Z", "Zg", "Zg=", "Zm9", "Zm9vY", "Zm9vYg=",
	    "Zm9vYmFy=" };
	unsigned char out[16];
	size_t i, got;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out), &got), SK_ERR_FORMAT);
}

/* Bytes outside the alphabet, whitespace and NUL are malformed. */
static void
test_reject_chars(void **state)
{
	static const char *bad[] = { "Zm9-", "Zm9_", "Zm9v!A==", "Zm.v",
	    "Zm9v\xc3\xa9Zm", "Zm9\x80",
	    /* whitespace anywhere */
	    " Zm9", "Zm9 ", "Zm9v Zm9", "Zm9v\nZm9", "Zm9v\tYmE", "Zm9v\r\nZm",
	    "\nZm9" };
	unsigned char out[16];
	size_t i, got;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out), &got), SK_ERR_FORMAT);
	/* a NUL counted in the length */
	assert_int_equal(b64_decode("Zm\0v", 4, out, sizeof(out), &got),
	    SK_ERR_FORMAT);
}

/* '=' is only padding: never in the middle, never more than two. */
static void
test_reject_padding(void **state)
{
	static const char *bad[] = { "Zg==Zm9v", "Z=9v", "Zm=v", "=m9v",
	    "Zg=A", "Z===", "====", "Zm9v====", "Zm9=Zm9v", "Zm9vZ===" };
	unsigned char out[16];
	size_t i, got;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], strlen(bad[i]), out,
		    sizeof(out), &got), SK_ERR_FORMAT);
}

/* A decode output too small is SK_ERR_LIMIT, and nothing is written. */
static void
test_decode_small(void **state)
{
	unsigned char buf[16];
	size_t got = 77, i;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(b64_decode("Zm9vYmFy", 8, buf, 5, &got), SK_ERR_LIMIT);
	assert_int_equal(b64_decode("Zm9vYg==", 8, buf, 3, &got), SK_ERR_LIMIT);
	assert_int_equal(b64_decode("Zg==", 4, buf, 0, &got), SK_ERR_LIMIT);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	assert_int_equal(got, 77);
	/* exact sizes work */
	assert_int_equal(b64_decode("Zm9vYg==", 8, buf, 4, &got), SK_OK);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "foob", 4);
	assert_int_equal(buf[4], 0xee);
	assert_int_equal(b64_decode("Zm9vYmE=", 8, buf, 5, &got), SK_OK);
	assert_int_equal(got, 5);
	assert_int_equal(buf[5], 0xee);
}

/* An encode output too small is SK_ERR_LIMIT, and nothing is written. */
static void
test_encode_small(void **state)
{
	char buf[16];
	size_t i;

	(void)state;
	memset(buf, 'Q', sizeof(buf));
	assert_int_equal(b64_encode("foobar", 6, buf, 8), SK_ERR_LIMIT);
	assert_int_equal(b64_encode("f", 1, buf, 4), SK_ERR_LIMIT);
	assert_int_equal(b64_encode("", 0, buf, 0), SK_ERR_LIMIT);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Q');
	assert_int_equal(b64_encode("foobar", 6, buf, 9), SK_OK);
	assert_string_equal(buf, "Zm9vYmFy");
	assert_int_equal(buf[9], 'Q');
}

/* The sbuf forms: append, NUL-terminate, keep the bound, reject bad input. */
static void
test_sbuf_forms(void **state)
{
	struct sbuf b;
	size_t i;

	(void)state;
	for (i = 0; i < NVECTORS; i++) {
		sbuf_init(&b, 64);
		assert_int_equal(b64_encode_sbuf(vectors[i].plain,
		    strlen(vectors[i].plain), &b), SK_OK);
		assert_int_equal(b.len, strlen(vectors[i].enc));
		assert_string_equal((char *)b.data, vectors[i].enc);
		sbuf_reset(&b);
		assert_int_equal(b64_decode_sbuf(vectors[i].enc,
		    strlen(vectors[i].enc), &b), SK_OK);
		assert_int_equal(b.len, strlen(vectors[i].plain));
		if (b.len > 0)
			assert_memory_equal(b.data, vectors[i].plain, b.len);
		sbuf_free(&b);
	}
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put(&b, "x", 1), SK_OK);
	assert_int_equal(b64_decode_sbuf("Zm9v", 4, &b), SK_OK);	/* appends */
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "xfoo", 4);
	assert_int_equal(b64_decode_sbuf("Zm9v!", 5, &b), SK_ERR_FORMAT);
	assert_int_equal(b64_decode_sbuf("Z===", 4, &b), SK_ERR_FORMAT);
	sbuf_free(&b);
	sbuf_init(&b, 3);
	assert_int_equal(b64_decode_sbuf("Zm9vYmFy", 8, &b), SK_ERR_LIMIT);
	sbuf_reset(&b);
	assert_int_equal(b64_encode_sbuf("foo", 3, &b), SK_ERR_LIMIT);
	sbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_len),
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_round_trip_all_bytes),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_reject_chars),
		cmocka_unit_test(test_reject_padding),
		cmocka_unit_test(test_decode_small),
		cmocka_unit_test(test_encode_small),
		cmocka_unit_test(test_sbuf_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
