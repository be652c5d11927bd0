/* test_senders.c: the sender-login map of smtpd. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../smtpd/senders.c"

static int
loadn(const char *text, size_t n, struct sender_map *m)
{
	char path[] = "/tmp/test_senders.XXXXXX", err[256];
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	r = sender_map_load(path, m, err, sizeof(err));
	unlink(path);
	return r;
}

/* a literal with NULs in it, whole */
#define LOAD_LITERAL(s, m)	loadn((s), sizeof(s) - 1, (m))

static int
load(const char *text, struct sender_map *m)
{
	return loadn(text, strlen(text), m);
}

static void
test_map(void **state)
{
	struct sender_map m;

	(void)state;
	assert_int_equal(load("# senders\n\nalice@Example.ORG alice@realm\n"
	    "@shop.example bob@realm,carol@realm\n"
	    "  info@shop.example   dave@realm\n", &m), 0);
	assert_int_equal(m.n, 3);
	assert_true(sender_map_allows(&m, "alice@example.org", "alice@realm"));
	assert_true(sender_map_allows(&m, "ALICE@example.org", "alice@realm"));
	assert_false(sender_map_allows(&m, "alice@example.org", "bob@realm"));
	assert_false(sender_map_allows(&m, "alice@example.org", "alice"));
	assert_true(sender_map_allows(&m, "x@shop.example", "carol@realm"));
	assert_false(sender_map_allows(&m, "x@shop.example", "car@realm"));
	/* the address's own entry wins over its domain's */
	assert_true(sender_map_allows(&m, "info@shop.example", "dave@realm"));
	assert_false(sender_map_allows(&m, "info@shop.example", "bob@realm"));
	/* in no entry: nobody's */
	assert_false(sender_map_allows(&m, "z@other.example", "alice@realm"));
	sender_map_free(&m);
}

static void
test_bad_files(void **state)
{
	struct sender_map m;
	char err[256];

	(void)state;
	assert_int_equal(load("alice@example.org\n", &m), -1);
	assert_int_equal(load("noat alice@realm\n", &m), -1);
	assert_int_equal(load("a@b.example u1 u2\n", &m), -1);
	/* CRLF is a line end; a CR or a NUL anywhere else is an error, not
	   the end of the line's text */
	assert_int_equal(load("a@b.example u1\r\nc@d.example u2\r\n", &m), 0);
	assert_int_equal(m.n, 2);
	assert_true(sender_map_allows(&m, "c@d.example", "u2"));
	sender_map_free(&m);
	assert_int_equal(load("a@b.example u1\rjunk\n", &m), -1);
	assert_int_equal(load("a@b\r.example u1\n", &m), -1);
	assert_int_equal(LOAD_LITERAL("a@b.example u1\0junk\n", &m), -1);
	assert_int_equal(LOAD_LITERAL("# note\0\na@b.example u1\n", &m), -1);
	assert_int_equal(load("a@b.example\x01 u1\n", &m), -1);
	/* 1,022 octets a line at most, its end not counted */
	{
		char longline[1100];

		memset(longline, 'u', sizeof(longline));
		memcpy(longline, "a@b.example ", 12);
		longline[1022] = '\n';
		assert_int_equal(loadn(longline, 1023, &m), 0);
		sender_map_free(&m);
		longline[1022] = 'u';
		longline[1023] = '\n';
		assert_int_equal(loadn(longline, 1024, &m), -1);
		/* 1,022 octets, then CRLF: fine; then a CR and more: not */
		memcpy(longline + 1022, "\r\n", 2);
		assert_int_equal(loadn(longline, 1024, &m), 0);
		sender_map_free(&m);
		memcpy(longline + 1022, "\rx y\n", 6);
		assert_int_equal(loadn(longline, 1027, &m), -1);
		memcpy(longline + 1022, "\r\0JUNK\n", 8);
		assert_int_equal(loadn(longline, 1029, &m), -1);
	}
	/* not a file that reads */
	assert_int_equal(sender_map_load("/tmp", &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read"));
	assert_int_equal(sender_map_load("/nonexistent/map", &m, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/map"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
