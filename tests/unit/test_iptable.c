/* test_iptable.c: smtpd's per-address session counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define IPTABLE_TEST_FAILURES
#include "../../smtpd/iptable.c"

static void
addr(char *buf, unsigned i)
{
	snprintf(buf, IPTABLE_ADDR_MAX, "10.%u.%u.%u", (i >> 16) & 255,
	    (i >> 8) & 255, i & 255);
}

static void
test_limit_and_release(void **state)
{
	struct iptable *t = iptable_new(10);

	(void)state;
	assert_non_null(t);
	assert_int_equal(iptable_acquire(t, "192.0.2.1", 2), 0);
	assert_int_equal(iptable_acquire(t, "192.0.2.1", 2), 0);
	assert_int_equal(iptable_acquire(t, "192.0.2.1", 2), -1);
	assert_int_equal(iptable_count(t, "192.0.2.1"), 2);
	assert_int_equal(iptable_acquire(t, "2001:db8::1", 2), 0);
	assert_int_equal(iptable_addrs(t), 2);
	iptable_release(t, "192.0.2.1");
	assert_int_equal(iptable_acquire(t, "192.0.2.1", 2), 0);
	iptable_release(t, "192.0.2.1");
	iptable_release(t, "192.0.2.1");
	assert_int_equal(iptable_count(t, "192.0.2.1"), 0);
	assert_int_equal(iptable_addrs(t), 1);
	iptable_release(t, "192.0.2.1");	/* not there: no effect */
	iptable_release(t, "");
	assert_int_equal(iptable_count(t, "2001:db8::1"), 1);
	/* too long, empty, limit 0 */
	assert_int_equal(iptable_acquire(t, "0123456789012345678901234567890"
	    "12345678901234567", 5), -1);
	assert_int_equal(iptable_acquire(t, "", 5), -1);
	assert_int_equal(iptable_acquire(t, "192.0.2.9", 0), -1);
	iptable_free(t);
}

/* At most max_addrs addresses at once; any number over time (the bug of
   a table that never forgot an address: new clients were refused once
   4096 different ones had come). */
static void
test_capacity_and_turnover(void **state)
{
	struct iptable *t = iptable_new(100);
	char a[IPTABLE_ADDR_MAX];
	unsigned i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 100; i++) {
		addr(a, i);
		assert_int_equal(iptable_acquire(t, a, 1), 0);
	}
	addr(a, 100);
	assert_int_equal(iptable_acquire(t, a, 1), -1);	/* full */
	for (i = 0; i < 100; i++) {
		addr(a, i);
		iptable_release(t, a);
	}
	assert_int_equal(iptable_addrs(t), 0);
	for (i = 0; i < 200000; i++) {
		addr(a, i);
		assert_int_equal(iptable_acquire(t, a, 1), 0);
		iptable_release(t, a);
	}
	assert_int_equal(iptable_addrs(t), 0);
	iptable_free(t);
}

/* Random acquires and releases against a plain array: every count
   agrees, whatever the deletions moved. */
static void
test_against_a_model(void **state)
{
	enum { N = 3000, MAX = 1000 };
	static unsigned model[N];
	struct iptable *t = iptable_new(MAX);
	char a[IPTABLE_ADDR_MAX];
	unsigned i, k, live = 0;

	(void)state;
	assert_non_null(t);
	srand(7);
	for (k = 0; k < 400000; k++) {
		i = (unsigned)rand() % N;
		addr(a, i);
		if (rand() % 2 == 0) {
			int want = model[i] >= 3 ||
			    (model[i] == 0 && live >= MAX) ? -1 : 0;

			assert_int_equal(iptable_acquire(t, a, 3), want);
			if (want == 0 && model[i]++ == 0)
				live++;
		} else if (model[i] > 0) {
			iptable_release(t, a);
			if (--model[i] == 0)
				live--;
		}
		if (k % 1000 == 0) {
			unsigned j;

			for (j = 0; j < N; j++) {
				addr(a, j);
				assert_int_equal(iptable_count(t, a), model[j]);
			}
			assert_int_equal(iptable_addrs(t), live);
		}
	}
	iptable_free(t);
}

/* A MAC that fails now and then (out of memory): a lookup scans, a new
   address is refused, and no count is lost or doubled. */
static void
test_mac_failures(void **state)
{
	enum { N = 500, MAX = 200 };
	static unsigned model[N];
	struct iptable *t = iptable_new(MAX);
	char a[IPTABLE_ADDR_MAX];
	unsigned i, k, j, live = 0;

	(void)state;
	assert_non_null(t);
	srand(11);
	for (k = 0; k < 100000; k++) {
		if (k % 7 == 0)
			iptable_test_fail = 1 + rand() % 3;
		i = (unsigned)rand() % N;
		addr(a, i);
		if (rand() % 2 == 0) {
			/* may be refused: a limit, or a failed MAC */
			if (iptable_acquire(t, a, 3) == 0 && model[i]++ == 0)
				live++;
		} else if (model[i] > 0) {
			iptable_release(t, a);
			if (--model[i] == 0)
				live--;
		}
	}
	iptable_test_fail = 0;
	for (j = 0; j < N; j++) {
		addr(a, j);
		assert_int_equal(iptable_count(t, a), model[j]);
	}
	assert_int_equal(iptable_addrs(t), live);
	iptable_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_and_release),
		cmocka_unit_test(test_capacity_and_turnover),
		cmocka_unit_test(test_against_a_model),
		cmocka_unit_test(test_mac_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
