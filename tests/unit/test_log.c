/*
 * test_log.c: unit tests of common/log.c: log_sanitize (escaping of
 * non-printable bytes, truncation with "...", tiny output buffers) and the
 * debug level (dropped by default, "debug: " on stderr once turned on).
 * Nothing here writes to syslog; stderr goes to a temporary file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* Sanitises in[0..inlen) into an exact-size heap buffer, so ASan sees overflows. */
static char *
sanitize(const char *in, size_t inlen, size_t outlen)
{
	char *out = malloc(outlen ? outlen : 1);

	assert_non_null(out);
	assert_ptr_equal(log_sanitize(in, inlen, out, outlen), out);
	return out;
}

static void
expect(const char *in, size_t inlen, size_t outlen, const char *want)
{
	char *out = sanitize(in, inlen, outlen);

	assert_string_equal(out, want);
	free(out);
}

/* Printable ASCII passes through unchanged; inlen is respected. */
static void
test_plain(void **state)
{
	(void)state;
	expect("hello world", 11, LOG_SAFE_MAX, "hello world");
	expect("alice@EXAMPLE.ORG", 17, LOG_SAFE_MAX, "alice@EXAMPLE.ORG");
	expect("abcdef", 3, LOG_SAFE_MAX, "abc");
	expect("", 0, LOG_SAFE_MAX, "");
	expect(" ~!\"#", 5, LOG_SAFE_MAX, " ~!\"#");
}

/* Control bytes, DEL, high bytes, backslash and NUL become \xNN. */
static void
test_escape(void **state)
{
	(void)state;
	expect("a\nb", 3, LOG_SAFE_MAX, "a\\x0ab");
	expect("\r\t", 2, LOG_SAFE_MAX, "\\x0d\\x09");
	expect("\x1b[31m", 5, LOG_SAFE_MAX, "\\x1b[31m");
	expect("\x7f", 1, LOG_SAFE_MAX, "\\x7f");
	expect("\xff\x80", 2, LOG_SAFE_MAX, "\\xff\\x80");
	/* a backslash is escaped so that "\x41" in input is not mistaken */
	expect("\\x41", 4, LOG_SAFE_MAX, "\\x5cx41");
	/* a NUL within inlen is escaped, not an end */
	expect("a\0b", 3, LOG_SAFE_MAX, "a\\x00b");
}

/* A string that fits exactly is not truncated; one byte more is, with "...". */
static void
test_truncate(void **state)
{
	(void)state;
	expect("abcdefg", 7, 8, "abcdefg");
	expect("abcdefgh", 8, 8, "abcd...");
	expect("abcdefghijklmnop", 16, 8, "abcd...");
	expect("abcde", 5, 5, "a...");
	/* an escape that fits exactly */
	expect("ab\x01", 3, 7, "ab\\x01");
	/* an escape that does not fit */
	expect("ab\x01", 3, 6, "ab...");
}

/* "..." never cuts an escape in half: the text before it is whole units. */
static void
test_truncate_escape_boundary(void **state)
{
	(void)state;
	/* "ab\x01cd" is 8 bytes; with 7 available it ends at a unit boundary */
	expect("ab\x01" "cdef", 7, 8, "ab...");
	expect("\x01\x02\x03\x04", 4, 10, "\\x01...");
	expect("\x01\x02\x03\x04", 4, 12, "\\x01\\x02...");
	expect("a\x01\x02", 3, 9, "a\\x01...");
}

/* Buffers of 0 to 4 bytes: nothing written, empty, a cut or only "...". */
static void
test_tiny(void **state)
{
	char buf[4];

	(void)state;
	memcpy(buf, "XYZ", 4);
	assert_ptr_equal(log_sanitize("abc", 3, buf, 0), buf);
	assert_string_equal(buf, "XYZ");	/* untouched */
	expect("abc", 3, 1, "");
	expect("abc", 3, 2, "a");
	expect("abc", 3, 3, "ab");
	expect("abc", 3, 4, "abc");
	expect("abcd", 4, 4, "...");
	expect("\x01", 1, 2, "");
	expect("\x01", 1, 4, "...");
	expect("", 0, 1, "");
}

/*
 * Whatever the input and size, the result fits, is printable ASCII, and
 * every escape in it is whole.
 */
static void
test_bounds_sweep(void **state)
{
	char in[64];
	size_t outlen, inlen, i, n;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 37 + 3);	/* a mix of plain and escaped */
	for (inlen = 0; inlen <= sizeof(in); inlen += 7) {
		for (outlen = 1; outlen <= 80; outlen++) {
			out = sanitize(in, inlen, outlen);
			n = strlen(out);
			assert_true(n <= outlen - 1);
			for (i = 0; i < n; i++)
				assert_true(out[i] >= 0x20 && out[i] < 0x7f);
			/* every backslash starts a whole \xNN */
			for (i = 0; i < n; i++) {
				if (out[i] != '\\')
					continue;
				assert_true(i + 3 < n);
				assert_int_equal(out[i + 1], 'x');
				assert_non_null(strchr("0123456789abcdef",
				    out[i + 2]));
				assert_non_null(strchr("0123456789abcdef",
				    out[i + 3]));
			}
			free(out);
		}
	}
}

/* Runs fn with stderr in a temporary file; returns what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	char *buf = calloc(1, 4096);

	assert_non_null(tmp);
	assert_non_null(buf);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), 2) == 2);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	rewind(tmp);
	(void)!fread(buf, 1, 4095, tmp);
	fclose(tmp);
	return buf;
}

static void
write_levels(void)
{
	log_info("an info line");
	log_debug("a debug line %d", 1);
}

/* Debug lines are dropped by default, and marked "debug: " when on. */
static void
test_debug_level(void **state)
{
	char *out;

	(void)state;
	log_init("t", LOG_USER, 1);
	assert_true(log_enabled(LOG_LVL_INFO));
	assert_false(log_enabled(LOG_LVL_DEBUG));
	out = capture_stderr(write_levels);
	assert_string_equal(out, "t: an info line\n");
	free(out);
	log_set_level(LOG_LVL_DEBUG);
	assert_true(log_enabled(LOG_LVL_DEBUG));
	out = capture_stderr(write_levels);
	assert_string_equal(out, "t: an info line\nt: debug: a debug line 1\n");
	free(out);
	log_set_level(LOG_LVL_INFO);
	out = capture_stderr(write_levels);
	assert_string_equal(out, "t: an info line\n");
	free(out);
}

static void
start_forced(void)
{
	log_debug_start(1, 0);
}

static void
start_by_key(void)
{
	log_debug_start(0, 1);
}

/* The daemons' switch: -v or the debug key turns debug on, and says which. */
static void
test_set_debug(void **state)
{
	char *out;

	(void)state;
	log_init("t", LOG_USER, 1);
	log_set_debug(0, 0);
	assert_false(log_enabled(LOG_LVL_DEBUG));
	log_set_debug(0, 1);
	assert_true(log_enabled(LOG_LVL_DEBUG));
	log_set_debug(1, 0);
	assert_true(log_enabled(LOG_LVL_DEBUG));
	log_set_debug(0, 0);
	out = capture_stderr(start_forced);
	assert_string_equal(out, "t: debug: debug logging on (-v)\n");
	free(out);
	log_set_debug(0, 0);
	out = capture_stderr(start_by_key);
	assert_string_equal(out, "t: debug: debug logging on (debug: yes)\n");
	free(out);
	log_set_debug(0, 0);
	assert_false(log_enabled(LOG_LVL_DEBUG));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_set_debug),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_truncate_escape_boundary),
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_bounds_sweep),
		cmocka_unit_test(test_debug_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
