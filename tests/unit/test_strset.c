/*
 * test_strset.c: the string set behind saslpasswd -l: each string is new
 * once, growth keeps every member, and strings with embedded NULs count in
 * full, so "alice\0vm" and "alice" differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "strset.h"

static void
test_add_once(void **state)
{
	struct strset s;

	(void)state;
	strset_init(&s);
	assert_int_equal(strset_add(&s, "alice\0vm", 8), 1);
	assert_int_equal(strset_add(&s, "alice\0vm", 8), 0);
	/* a prefix, or the same bytes up to the NUL, is another string */
	assert_int_equal(strset_add(&s, "alice", 5), 1);
	assert_int_equal(strset_add(&s, "alice\0vm2", 9), 1);
	assert_int_equal(strset_add(&s, "", 0), 1);
	assert_int_equal(strset_add(&s, "", 0), 0);
	assert_int_equal(s.n, 4);
	strset_free(&s);
}

static void
test_growth_keeps_members(void **state)
{
	struct strset s;
	char buf[32];
	int i, n;

	(void)state;
	strset_init(&s);
	for (i = 0; i < 100000; i++) {
		n = snprintf(buf, sizeof(buf), "user%d", i);
		assert_int_equal(strset_add(&s, buf, (size_t)n), 1);
	}
	for (i = 0; i < 100000; i++) {
		n = snprintf(buf, sizeof(buf), "user%d", i);
		assert_int_equal(strset_add(&s, buf, (size_t)n), 0);
	}
	assert_int_equal(s.n, 100000);
	strset_free(&s);
}

static void
test_too_long(void **state)
{
	static char big[70000];
	struct strset s;

	(void)state;
	strset_init(&s);
	assert_int_equal(strset_add(&s, big, sizeof(big)), SK_ERR_LIMIT);
	assert_int_equal(s.n, 0);
	strset_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_once),
		cmocka_unit_test(test_growth_keeps_members),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
