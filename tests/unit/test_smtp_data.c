/* test_smtp_data.c: the DATA/BDAT reader, smuggling cases first. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../smtpd/smtp_data.h"

struct out {
	unsigned char buf[65536];
	size_t len;
	int fail;
};

static int
sink(void *ctx, const unsigned char *p, size_t n)
{
	struct out *o = ctx;

	if (o->fail)
		return -1;
	if (o->len + n > sizeof(o->buf))
		return -1;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/* Feeds s whole, then byte by byte: both must agree. */
static size_t
run(int mode, const char *s, size_t n, unsigned reject, struct out *o,
    int *done, unsigned *flags)
{
	struct smtp_data d, d1;
	struct out o1;
	size_t used, used1 = 0, u, i;
	int done1 = 0;

	memset(o, 0, sizeof(*o));
	memset(&o1, 0, sizeof(o1));
	smtp_data_init(&d, mode, 1u << 20, 1000, reject, sink, o);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)s, n, &used,
	    done), 0);
	assert_int_equal(smtp_data_finish(&d), 0);
	smtp_data_init(&d1, mode, 1u << 20, 1000, reject, sink, &o1);
	for (i = 0; i < n && !done1; i++) {
		assert_int_equal(smtp_data_feed(&d1, (const unsigned char *)s + i,
		    1, &u, &done1), 0);
		used1 += u;
	}
	assert_int_equal(smtp_data_finish(&d1), 0);
	assert_int_equal(used, used1);
	assert_int_equal(*done, done1);
	assert_int_equal(o->len, o1.len);
	assert_memory_equal(o->buf, o1.buf, o->len);
	assert_int_equal(d.flags, d1.flags);
	*flags = d.flags;
	return used;
}

#define RUN(mode, lit, rej, o, done, fl) \
	run(mode, lit, sizeof(lit) - 1, rej, o, done, fl)

static void
test_plain_message(void **state)
{
	static const char in[] = "Subject: x\r\n\r\n..hello\r\n.\r\nQUIT\r\n";
	struct out o;
	unsigned fl;
	int done;
	size_t used;

	(void)state;
	used = RUN(SMTP_DATA_DOT, in, 0, &o, &done, &fl);
	assert_true(done);
	assert_int_equal(used, sizeof(in) - 1 - strlen("QUIT\r\n"));
	assert_int_equal(fl, 0);
	assert_int_equal(o.len, strlen("Subject: x\n\n.hello\n"));
	assert_memory_equal(o.buf, "Subject: x\n\n.hello\n", o.len);
}

static void
test_empty_message(void **state)
{
	struct out o;
	unsigned fl;
	int done;

	(void)state;
	assert_int_equal(RUN(SMTP_DATA_DOT, ".\r\n", 0, &o, &done, &fl), 3);
	assert_true(done);
	assert_int_equal(o.len, 0);
}

/* Every smuggling form: none ends the message. */
static void
test_smuggling(void **state)
{
	static const char *const evil[] = {
		"a\n.\nMAIL FROM:<x@y>\r\n",
		"a\n.\r\nMAIL FROM:<x@y>\r\n",
		"a\r.\rMAIL FROM:<x@y>\r\n",
		"a\r.\r\nMAIL FROM:<x@y>\r\n",
		"a\r\n.\nMAIL FROM:<x@y>\r\n",
		"a\r\n.\rMAIL FROM:<x@y>\r\n",
		"a\r\n.\r\r\nMAIL FROM:<x@y>\r\n",
		"a\r\n\n.\r\nMAIL FROM:<x@y>\r\n",
	};
	struct out o;
	unsigned fl;
	size_t i, used;
	int done;

	(void)state;
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		used = run(SMTP_DATA_DOT, evil[i], strlen(evil[i]), 0, &o, &done,
		    &fl);
		assert_false(done);
		assert_int_equal(used, strlen(evil[i]));
		/* each is flagged: the session rejects the message */
		assert_true(fl & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR));
	}
}

static void
test_bare_lf_rejected_stops_copy(void **state)
{
	static const char in[] = "one\r\ntwo\nthree\r\n.\r\n";
	struct out o;
	unsigned fl;
	int done;

	(void)state;
	RUN(SMTP_DATA_DOT, in, SMTP_DATA_BARE_LF, &o, &done, &fl);
	assert_true(done);
	assert_true(fl & SMTP_DATA_BARE_LF);
	assert_false(fl & SMTP_DATA_BARE_CR);
	/* nothing after the bare LF reached the sink */
	assert_true(o.len <= strlen("one\ntwo"));
	/* not rejected: kept as data, still no end of line */
	RUN(SMTP_DATA_DOT, in, 0, &o, &done, &fl);
	assert_int_equal(o.len, strlen("one\ntwo\nthree\n"));
}

static void
test_limits(void **state)
{
	struct smtp_data d;
	struct out o;
	char line[1200];
	size_t used;
	int done;

	(void)state;
	memset(&o, 0, sizeof(o));
	/* 998 octets and CRLF: fine; 999: too long */
	memset(line, 'x', 998);
	memcpy(line + 998, "\r\n.\r\n", 5);
	smtp_data_init(&d, SMTP_DATA_DOT, 1u << 20, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (unsigned char *)line, 1003, &used,
	    &done), 0);
	assert_true(done);
	assert_false(d.flags & SMTP_DATA_LONG_LINE);
	memset(line, 'x', 999);
	memcpy(line + 999, "\r\n.\r\n", 5);
	smtp_data_init(&d, SMTP_DATA_DOT, 1u << 20, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (unsigned char *)line, 1004, &used,
	    &done), 0);
	assert_true(d.flags & SMTP_DATA_LONG_LINE);
	/* size: the copy stops, the end is still found */
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, SMTP_DATA_DOT, 10, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)
	    "0123456789abcdef\r\n.\r\n", 21, &used, &done), 0);
	assert_true(done && used == 21);
	assert_true(d.flags & SMTP_DATA_TOO_BIG);
	assert_true(o.len <= 10);
	/* a NUL is flagged */
	smtp_data_init(&d, SMTP_DATA_DOT, 100, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)"a\0b\r\n.\r\n",
	    8, &used, &done), 0);
	assert_true(done && (d.flags & SMTP_DATA_NUL));
}

static void
test_raw_bdat(void **state)
{
	struct smtp_data d;
	struct out o;
	size_t used;
	int done;

	(void)state;
	memset(&o, 0, sizeof(o));
	smtp_data_init(&d, SMTP_DATA_RAW, 1u << 20, 1000, 0, sink, &o);
	/* a CRLF split across two chunks; dots are not special */
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)".a\r", 3,
	    &used, &done), 0);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)"\n.\r\n", 4,
	    &used, &done), 0);
	assert_false(done);
	assert_int_equal(smtp_data_finish(&d), 0);
	assert_int_equal(o.len, 5);
	assert_memory_equal(o.buf, ".a\n.\n", 5);
	assert_int_equal(d.flags, 0);
	/* a CR left at the very end is bare */
	smtp_data_init(&d, SMTP_DATA_RAW, 1u << 20, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)"x\r", 2,
	    &used, &done), 0);
	assert_int_equal(smtp_data_finish(&d), 0);
	assert_true(d.flags & SMTP_DATA_BARE_CR);
}

static void
test_sink_failure(void **state)
{
	struct smtp_data d;
	struct out o;
	size_t used;
	int done;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.fail = 1;
	smtp_data_init(&d, SMTP_DATA_DOT, 100, 1000, 0, sink, &o);
	assert_int_equal(smtp_data_feed(&d, (const unsigned char *)"a\r\n.\r\n",
	    6, &used, &done), -1);
	assert_true(done);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_bare_lf_rejected_stops_copy),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_raw_bdat),
		cmocka_unit_test(test_sink_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
