/*
 * test_mech.c: unit tests of common/mech.c: names by RFC 4422's rule,
 * the -PLUS test in any case, and one list grammar (spaces, tabs, commas
 * and slashes) for lookups and normalising.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mech.h"

static void
test_names(void **state)
{
	(void)state;
	assert_true(mech_name_ok("PLAIN", 5));
	assert_true(mech_name_ok("scram-sha-256_x", 15));
	assert_true(mech_name_ok("ABCDEFGHIJKLMNOPQRST", 20));
	assert_false(mech_name_ok("ABCDEFGHIJKLMNOPQRSTU", 21));
	assert_false(mech_name_ok("", 0));
	assert_false(mech_name_ok("PL AIN", 6));
	assert_false(mech_name_ok("PL/AIN", 6));
	assert_false(mech_name_ok("PL\0IN", 5));
	assert_false(mech_name_ok("PL\xc3\xa9", 4));
}

static void
test_plus(void **state)
{
	(void)state;
	assert_true(mech_is_plus("SCRAM-SHA-256-PLUS"));
	assert_true(mech_is_plus("scram-sha-1-plus"));
	assert_false(mech_is_plus("-PLUS"));
	assert_false(mech_is_plus("PLUS"));
	assert_false(mech_is_plus("SCRAM-SHA-256"));
	assert_false(mech_is_plus("SCRAM-PLUS-X"));
	assert_false(mech_is_plus(""));
}

static void
test_next(void **state)
{
	const char *p = " PLAIN,\tLOGIN//CRAM-MD5 ,", *name;
	static const char *const want[] = { "PLAIN", "LOGIN", "CRAM-MD5" };
	size_t n, i = 0;

	(void)state;
	while ((n = mech_list_next(&p, &name)) > 0) {
		assert_true(i < 3);
		assert_int_equal(n, strlen(want[i]));
		assert_memory_equal(name, want[i], n);
		i++;
	}
	assert_int_equal(i, 3);
	p = "";
	assert_int_equal(mech_list_next(&p, &name), 0);
}

static void
test_has(void **state)
{
	char canon[MECH_NAME_MAX + 1];

	(void)state;
	assert_true(mech_list_has("PLAIN LOGIN", "login", 5, canon));
	assert_string_equal(canon, "LOGIN");
	assert_true(mech_list_has("plain,Login", "LOGIN", 5, canon));
	assert_string_equal(canon, "Login");
	assert_true(mech_list_has("A/B", "B", 1, NULL));
	assert_false(mech_list_has("PLAIN LOGIN", "LOG", 3, NULL));
	assert_false(mech_list_has("PLAIN LOGIN", "LOGINX", 6, NULL));
	assert_false(mech_list_has("", "PLAIN", 5, NULL));
	assert_false(mech_list_has("PLAIN", "", 0, NULL));
	/* the same list, whichever separators: authd and smtpd agree */
	assert_true(mech_list_has("PLAIN\tCRAM-MD5", "cram-md5", 8, NULL));
	assert_true(mech_list_has("PLAIN/CRAM-MD5", "cram-md5", 8, NULL));
	assert_true(mech_list_has("PLAIN, CRAM-MD5", "cram-md5", 8, NULL));
}

static void
test_norm(void **state)
{
	char out[64];
	const char *bad = NULL, *in;

	(void)state;
	in = "plain, login\tcram-md5/Plain";
	assert_int_equal(mech_list_norm(in, strlen(in), out, sizeof(out), &bad),
	    0);
	assert_string_equal(out, "PLAIN LOGIN CRAM-MD5");
	assert_int_equal(mech_list_norm("", 0, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(mech_list_norm(" ,/ ", 4, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
	/* only n bytes are read: a listener word ends inside a line */
	in = "PLAIN/LOGIN auth_required";
	assert_int_equal(mech_list_norm(in, 11, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "PLAIN LOGIN");
	in = "PLAIN LO.GIN";
	assert_int_equal(mech_list_norm(in, strlen(in), out, sizeof(out), &bad),
	    -1);
	assert_ptr_equal(bad, in + 6);
	in = "PLAIN ABCDEFGHIJKLMNOPQRSTU";
	assert_int_equal(mech_list_norm(in, strlen(in), out, sizeof(out), &bad),
	    -1);
	assert_ptr_equal(bad, in + 6);
	/* an out too small fails rather than cut a name */
	in = "PLAIN LOGIN";
	assert_int_equal(mech_list_norm(in, strlen(in), out, 8, &bad), -1);
	assert_ptr_equal(bad, in + 6);
	assert_int_equal(mech_list_norm(in, strlen(in), out, 0, NULL), -1);
	/* a NUL inside the n bytes is not a separator */
	assert_int_equal(mech_list_norm("PLAIN\0LOGIN", 11, out, sizeof(out),
	    NULL), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_plus),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_has),
		cmocka_unit_test(test_norm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
