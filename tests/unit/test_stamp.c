/*
 * test_stamp.c: the stamp and tripwire: a made stamp formats and parses
 * back, bindings are "-" for nothing and 64 hex digits that change with
 * the token and the value, malformed stamps are refused, and a tripwire
 * matches only its own token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "stamp.h"

static void
test_roundtrip(void **state)
{
	char out[STAMP_VALUE_MAX + 1];
	struct stamp st, back;

	(void)state;
	assert_int_equal(stamp_new(&st), SK_OK);
	assert_int_equal(strlen(st.token), STAMP_HEX);
	assert_int_equal(stamp_binding(st.token, "pw", 2, st.plain), SK_OK);
	stamp_format(&st, out);
	assert_int_equal(stamp_parse(out, strlen(out), &back), SK_OK);
	assert_string_equal(back.token, st.token);
	assert_string_equal(back.plain, st.plain);
	assert_string_equal(back.scram1, "-");
	assert_int_equal(strlen(out), 3 + STAMP_HEX + 1 + STAMP_BINDING_HEX + 2);
}

static void
test_bindings(void **state)
{
	char a[STAMP_BINDING_HEX + 1], b[STAMP_BINDING_HEX + 1];
	struct stamp s1, s2;

	(void)state;
	assert_int_equal(stamp_new(&s1), SK_OK);
	assert_int_equal(stamp_new(&s2), SK_OK);
	assert_string_not_equal(s1.token, s2.token);
	assert_int_equal(stamp_binding(s1.token, NULL, 0, a), SK_OK);
	assert_string_equal(a, "-");
	/* an empty value is stored, so it is not "-" */
	assert_int_equal(stamp_binding(s1.token, "", 0, a), SK_OK);
	assert_int_equal(strlen(a), STAMP_BINDING_HEX);
	assert_int_equal(stamp_binding(s1.token, "x", 1, a), SK_OK);
	assert_int_equal(stamp_binding(s2.token, "x", 1, b), SK_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(stamp_binding(s1.token, "y", 1, b), SK_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(stamp_binding(s1.token, "x", 1, b), SK_OK);
	assert_string_equal(a, b);
}

static void
test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"v1",
		"v2:0123456789abcdef0123456789abcdef:-:-",
		"v1:0123456789abcdef0123456789abcde:-:-",	/* short token */
		"v1:0123456789ABCDEF0123456789abcdef:-:-",	/* upper case */
		"v1:0123456789abcdef0123456789abcdef:-",	/* two fields */
		"v1:0123456789abcdef0123456789abcdef:-:-:",	/* trailing colon */
		"v1:0123456789abcdef0123456789abcdef:-:-:-",	/* four fields */
		"v1:0123456789abcdef0123456789abcdef:--:-",
		"v1:0123456789abcdef0123456789abcdef:abc:-",	/* short binding */
		"v1:-:-:-",					/* token may not be "-" */
	};
	struct stamp st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(stamp_parse(bad[i], strlen(bad[i]), &st),
		    SK_ERR_FORMAT);
		assert_int_equal(st.token[0], '\0');
	}
	assert_int_equal(stamp_parse("v1:0123456789abcdef0123456789abcdef:-:-",
	    39, &st), SK_OK);
}

static void
test_tripwire(void **state)
{
	char trip[STAMP_TRIPWIRE_LEN + 1];
	struct stamp st, other;

	(void)state;
	assert_int_equal(stamp_new(&st), SK_OK);
	assert_int_equal(stamp_new(&other), SK_OK);
	stamp_tripwire(&st, trip);
	assert_int_equal(strncmp(trip, STAMP_TRIPWIRE_PREFIX,
	    strlen(STAMP_TRIPWIRE_PREFIX)), 0);
	assert_true(stamp_tripwire_matches(&st, trip, strlen(trip)));
	assert_false(stamp_tripwire_matches(&other, trip, strlen(trip)));
	assert_false(stamp_tripwire_matches(&st, trip, strlen(trip) - 1));
	/* a real Cyrus SASLv1 secret is 33 bytes and never a tripwire */
	assert_false(stamp_tripwire_matches(&st, "0123456789abcdef\0"
	    "0123456789abcdef", 33));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bindings),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_tripwire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
