/*
 * test_sbuf.c: unit tests of common/sbuf.c, the bounded buffer: the max
 * bound on puts, length-checked gets, trailing-byte detection, big-endian
 * integers, wiping on reset and NUL termination.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "sbuf.h"

/* Puts up to max succeed; one byte more is SK_ERR_LIMIT and changes nothing. */
static void
test_bound(void **state)
{
	struct sbuf b;
	size_t i;

	(void)state;
	sbuf_init(&b, 10);
	assert_int_equal(sbuf_put(&b, "0123456789", 10), SK_OK);
	assert_int_equal(b.len, 10);
	assert_int_equal(sbuf_put_u8(&b, 'x'), SK_ERR_LIMIT);
	assert_int_equal(sbuf_put(&b, "x", 1), SK_ERR_LIMIT);
	assert_int_equal(sbuf_put_u16be(&b, 1), SK_ERR_LIMIT);
	assert_int_equal(sbuf_put_str(&b, "x"), SK_ERR_LIMIT);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	assert_true(b.cap <= b.max + 1);
	/* an empty put at the bound is fine */
	assert_int_equal(sbuf_put(&b, "", 0), SK_OK);
	sbuf_free(&b);

	/* byte by byte up to the bound, the growth path */
	sbuf_init(&b, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(sbuf_put_u8(&b, (uint8_t)i), SK_OK);
	assert_int_equal(sbuf_put_u8(&b, 0), SK_ERR_LIMIT);
	assert_int_equal(b.len, 1000);
	for (i = 0; i < 1000; i++)
		assert_int_equal(b.data[i], (uint8_t)i);
	assert_true(b.cap <= 1001);
	sbuf_free(&b);
}

/* A length near SIZE_MAX cannot wrap the bound check. */
static void
test_bound_huge(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put(&b, "abc", 3), SK_OK);
	assert_int_equal(sbuf_put(&b, "x", SIZE_MAX), SK_ERR_LIMIT);
	assert_int_equal(sbuf_put(&b, "x", SIZE_MAX - 2), SK_ERR_LIMIT);
	assert_int_equal(sbuf_put(&b, "x", 62), SK_ERR_LIMIT);
	assert_int_equal(b.len, 3);
	sbuf_free(&b);

	/* the bound itself is capped */
	sbuf_init(&b, SIZE_MAX);
	assert_int_equal(b.max, SBUF_MAX_BOUND);
	sbuf_free(&b);

	/* a zero bound holds nothing */
	sbuf_init(&b, 0);
	assert_int_equal(sbuf_put_u8(&b, 1), SK_ERR_LIMIT);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
}

/* Gets past the end are SK_ERR_SHORT and consume nothing. */
static void
test_get_short(void **state)
{
	struct sbuf b;
	unsigned char out[8];
	uint16_t v16;
	uint8_t v8;

	(void)state;
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put(&b, "abc", 3), SK_OK);
	assert_int_equal(sbuf_avail(&b), 3);
	assert_int_equal(sbuf_get(&b, out, 4), SK_ERR_SHORT);
	assert_int_equal(sbuf_avail(&b), 3);
	assert_int_equal(sbuf_get(&b, out, 2), SK_OK);
	assert_memory_equal(out, "ab", 2);
	assert_int_equal(sbuf_get(&b, out, 2), SK_ERR_SHORT);
	assert_int_equal(sbuf_get_u16be(&b, &v16), SK_ERR_SHORT);
	assert_int_equal(sbuf_skip(&b, 2), SK_ERR_SHORT);
	assert_int_equal(sbuf_avail(&b), 1);
	assert_int_equal(*sbuf_ptr(&b), 'c');
	assert_int_equal(sbuf_get_u8(&b, &v8), SK_OK);
	assert_int_equal(v8, 'c');
	assert_int_equal(sbuf_get_u8(&b, &v8), SK_ERR_SHORT);
	assert_int_equal(sbuf_get(&b, out, SIZE_MAX), SK_ERR_SHORT);
	assert_int_equal(sbuf_get(&b, out, 0), SK_OK);
	sbuf_free(&b);

	/* a never-written buffer */
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_avail(&b), 0);
	assert_non_null(sbuf_ptr(&b));
	assert_int_equal(sbuf_get_u8(&b, &v8), SK_ERR_SHORT);
	assert_int_equal(sbuf_end(&b), SK_OK);
	sbuf_free(&b);
}

/* sbuf_end reports bytes left over until the last one is consumed. */
static void
test_end_trailing(void **state)
{
	struct sbuf b;
	uint16_t v;

	(void)state;
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put_u16be(&b, 7), SK_OK);
	assert_int_equal(sbuf_put_u8(&b, 9), SK_OK);
	assert_int_equal(sbuf_end(&b), SK_ERR_TRAILING);
	assert_int_equal(sbuf_get_u16be(&b, &v), SK_OK);
	assert_int_equal(sbuf_end(&b), SK_ERR_TRAILING);
	assert_int_equal(sbuf_skip(&b, 1), SK_OK);
	assert_int_equal(sbuf_end(&b), SK_OK);
	sbuf_free(&b);
}

/* u16be is big-endian on the wire and round-trips every kind of value. */
static void
test_u16be(void **state)
{
	static const uint16_t vals[] = { 0, 1, 0x00ff, 0x0100, 0x1234, 0x8001,
	    0xfffe, 0xffff };
	struct sbuf b;
	size_t i;
	uint16_t v;

	(void)state;
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put_u16be(&b, 0x1234), SK_OK);
	assert_int_equal(b.len, 2);
	assert_int_equal(b.data[0], 0x12);
	assert_int_equal(b.data[1], 0x34);
	assert_int_equal(sbuf_get_u16be(&b, &v), SK_OK);
	assert_int_equal(v, 0x1234);
	sbuf_reset(&b);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		assert_int_equal(sbuf_put_u16be(&b, vals[i]), SK_OK);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		assert_int_equal(sbuf_get_u16be(&b, &v), SK_OK);
		assert_int_equal(v, vals[i]);
	}
	assert_int_equal(sbuf_end(&b), SK_OK);
	sbuf_free(&b);
}

/* Reset empties the buffer, keeps its allocation and zeroes every byte. */
static void
test_reset_wipes(void **state)
{
	struct sbuf b;
	unsigned char *data;
	size_t cap, i;

	(void)state;
	sbuf_init(&b, 4096);
	assert_int_equal(sbuf_put_str(&b, "correct horse battery staple"), SK_OK);
	assert_int_equal(sbuf_skip(&b, 3), SK_OK);
	data = b.data;
	cap = b.cap;
	assert_true(cap > 0);
	sbuf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.off, 0);
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	for (i = 0; i < cap; i++)
		assert_int_equal(b.data[i], 0);
	/* still usable */
	assert_int_equal(sbuf_put_str(&b, "xy"), SK_OK);
	assert_memory_equal(b.data, "xy", 2);
	sbuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

/* Growing copies the old bytes and zero-fills the rest of the block. */
static void
test_grow_keeps(void **state)
{
	struct sbuf b;
	char big[300];
	size_t i;

	(void)state;
	memset(big, 'q', sizeof(big));
	sbuf_init(&b, 4096);
	assert_int_equal(sbuf_put_str(&b, "head"), SK_OK);
	assert_int_equal(sbuf_put(&b, big, sizeof(big)), SK_OK);
	assert_int_equal(b.len, 304);
	assert_memory_equal(b.data, "head", 4);
	assert_memory_equal(b.data + 4, big, sizeof(big));
	for (i = b.len; i < b.cap; i++)
		assert_int_equal(b.data[i], 0);
	sbuf_free(&b);
}

/* Terminate appends a NUL not counted in len, also at the bound. */
static void
test_terminate(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 3);
	assert_int_equal(sbuf_terminate(&b), SK_OK);	/* allocates */
	assert_non_null(b.data);
	assert_int_equal(b.data[0], '\0');
	assert_int_equal(b.len, 0);
	assert_int_equal(sbuf_put_str(&b, "abc"), SK_OK);
	assert_int_equal(sbuf_terminate(&b), SK_OK);
	assert_int_equal(b.len, 3);
	assert_string_equal((char *)b.data, "abc");
	assert_int_equal(sbuf_put_u8(&b, 'd'), SK_ERR_LIMIT);
	sbuf_free(&b);

	/* after a reset the NUL lands at the new end */
	sbuf_init(&b, 64);
	assert_int_equal(sbuf_put_str(&b, "longer string"), SK_OK);
	sbuf_reset(&b);
	assert_int_equal(sbuf_put_str(&b, "ab"), SK_OK);
	assert_int_equal(sbuf_terminate(&b), SK_OK);
	assert_string_equal((char *)b.data, "ab");
	sbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_bound_huge),
		cmocka_unit_test(test_get_short),
		cmocka_unit_test(test_end_trailing),
		cmocka_unit_test(test_u16be),
		cmocka_unit_test(test_reset_wipes),
		cmocka_unit_test(test_grow_keeps),
		cmocka_unit_test(test_terminate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
