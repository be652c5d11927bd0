/*
 * test_alloc.c: unit tests of common/alloc.c: zeroed and overflow-checked
 * array allocation, growth that leaves the old block alone on overflow,
 * and the string copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* alloc_array returns zeroed memory of the whole nmemb * size bytes. */
static void
test_array_zeroed(void **state)
{
	unsigned char *p;
	size_t i;

	(void)state;
	p = alloc_array(100, 7);
	assert_non_null(p);
	for (i = 0; i < 700; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xa5, 700);	/* ASan catches a block shorter than asked */
	free(p);
}

/* A zero count or size still gives a usable, freeable block. */
static void
test_array_zero(void **state)
{
	void *a, *b;

	(void)state;
	a = alloc_array(0, 16);
	b = alloc_array(16, 0);
	assert_non_null(a);
	assert_non_null(b);
	free(a);
	free(b);
}

/* nmemb * size that wraps around SIZE_MAX is refused, not truncated. */
static void
test_array_overflow(void **state)
{
	(void)state;
	assert_null(alloc_array(SIZE_MAX / 2 + 1, 2));
	assert_null(alloc_array(SIZE_MAX, SIZE_MAX));
	assert_null(alloc_array((SIZE_MAX >> 16) + 1, (size_t)1 << 16));
	assert_null(alloc_array(2, SIZE_MAX / 2 + 1));
}

/* Growing keeps the old contents. */
static void
test_rearray_grows(void **state)
{
	unsigned *p, *q;
	unsigned i;

	(void)state;
	p = alloc_rearray(NULL, 4, sizeof(*p));
	assert_non_null(p);
	for (i = 0; i < 4; i++)
		p[i] = i * 3 + 1;
	q = alloc_rearray(p, 1000, sizeof(*q));
	assert_non_null(q);
	for (i = 0; i < 4; i++)
		assert_int_equal(q[i], i * 3 + 1);
	q[999] = 42;	/* the new size is really there */
	assert_int_equal(q[999], 42);
	free(q);
}

/* On overflow the result is NULL and the old block is untouched and valid. */
static void
test_rearray_overflow(void **state)
{
	char *p;

	(void)state;
	p = alloc_rearray(NULL, 8, 1);
	assert_non_null(p);
	memcpy(p, "sentinel", 8);
	assert_null(alloc_rearray(p, SIZE_MAX / 4 + 1, 4));
	assert_null(alloc_rearray(p, 2, SIZE_MAX / 2 + 1));
	assert_null(alloc_rearray(p, SIZE_MAX, SIZE_MAX));
	assert_memory_equal(p, "sentinel", 8);
	free(p);	/* ASan reports a double free if p had been released */
}

/* alloc_strndup copies exactly len bytes and terminates them. */
static void
test_strndup(void **state)
{
	char *s;

	(void)state;
	s = alloc_strndup("abcdef", 3);
	assert_non_null(s);
	assert_string_equal(s, "abc");
	free(s);

	s = alloc_strndup("abcdef", 0);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);

	/* embedded NUL bytes are copied, as the length says */
	s = alloc_strndup("a\0b", 3);
	assert_non_null(s);
	assert_memory_equal(s, "a\0b\0", 4);
	free(s);
}

static void
test_strdup(void **state)
{
	char *s;

	(void)state;
	s = alloc_strdup("hello, world");
	assert_non_null(s);
	assert_string_equal(s, "hello, world");
	freezero_str(s);
	s = alloc_strdup("");
	assert_non_null(s);
	assert_string_equal(s, "");
	freezero_str(s);
}

/* The wiping frees accept NULL, and free a real block (ASan checks leaks). */
static void
test_freezero(void **state)
{
	char *p;

	(void)state;
	freezero(NULL, 100);
	freezero_str(NULL);
	p = alloc_array(32, 1);
	assert_non_null(p);
	memset(p, 'x', 31);
	freezero(p, 32);
	p = alloc_strdup("password");
	assert_non_null(p);
	freezero_str(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_array_zeroed),
		cmocka_unit_test(test_array_zero),
		cmocka_unit_test(test_array_overflow),
		cmocka_unit_test(test_rearray_grows),
		cmocka_unit_test(test_rearray_overflow),
		cmocka_unit_test(test_strndup),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_freezero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
