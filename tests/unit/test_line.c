/*
 * test_line.c: the protocol line codec: splitting with Dovecot's
 * tab-escaping, optional parameters, building escaped lines, and a round
 * trip of every byte value; malformed lines and too many fields fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "line.h"

/* Splits a copy of s (which may not hold NUL); the copy keeps its room. */
static int
split(const char *s, char *buf, size_t bufsz, struct line_fields *lf)
{
	size_t n = strlen(s);

	assert_true(n < bufsz);
	memcpy(buf, s, n + 1);
	return line_split(buf, n, lf);
}

static void
test_split_plain(void **state)
{
	struct line_fields lf;
	char buf[128];

	(void)state;
	assert_int_equal(split("AUTH\t1\tPLAIN\tservice=smtp\tsecured", buf,
	    sizeof(buf), &lf), SK_OK);
	assert_int_equal(lf.n, 5);
	assert_string_equal(line_str(&lf, 0), "AUTH");
	assert_string_equal(line_str(&lf, 2), "PLAIN");
	assert_null(line_str(&lf, 5));
	assert_int_equal(split("", buf, sizeof(buf), &lf), SK_OK);
	assert_int_equal(lf.n, 1);
	assert_int_equal(lf.len[0], 0);
	assert_int_equal(split("a\t\tb\t", buf, sizeof(buf), &lf), SK_OK);
	assert_int_equal(lf.n, 4);
	assert_string_equal(line_str(&lf, 1), "");
	assert_string_equal(line_str(&lf, 3), "");
}

static void
test_split_escapes(void **state)
{
	struct line_fields lf;
	char buf[128];

	(void)state;
	assert_int_equal(split("x\001ty\001nz\t\0011\001r\001q", buf,
	    sizeof(buf), &lf), SK_OK);
	assert_int_equal(lf.n, 2);
	assert_int_equal(lf.len[0], 5);
	assert_memory_equal(lf.f[0], "x\ty\nz", 5);
	/* \001 then an unknown byte stands for the byte */
	assert_int_equal(lf.len[1], 3);
	assert_memory_equal(lf.f[1], "\001\rq", 3);
	/* an escaped NUL is kept, but the field is then no C string */
	assert_int_equal(split("a\0010b", buf, sizeof(buf), &lf), SK_OK);
	assert_int_equal(lf.len[0], 3);
	assert_memory_equal(lf.f[0], "a\0b", 3);
	assert_null(line_str(&lf, 0));
	/* a trailing lone escape is dropped */
	assert_int_equal(split("ab\001", buf, sizeof(buf), &lf), SK_OK);
	assert_string_equal(line_str(&lf, 0), "ab");
}

static void
test_split_rejects(void **state)
{
	struct line_fields lf;
	char buf[LINE_FIELDS_MAX + 16];
	size_t i;

	(void)state;
	memcpy(buf, "a\nb", 4);
	assert_int_equal(line_split(buf, 3, &lf), SK_ERR_FORMAT);
	memcpy(buf, "a\0b", 4);
	assert_int_equal(line_split(buf, 3, &lf), SK_ERR_FORMAT);
	for (i = 0; i < LINE_FIELDS_MAX; i++)
		buf[i] = '\t';
	buf[LINE_FIELDS_MAX] = '\0';
	/* LINE_FIELDS_MAX TABs make one field too many */
	assert_int_equal(line_split(buf, LINE_FIELDS_MAX, &lf), SK_ERR_LIMIT);
	/* one TAB fewer and an x: just enough (the split wrote NULs: refill) */
	for (i = 0; i < LINE_FIELDS_MAX; i++)
		buf[i] = '\t';
	buf[LINE_FIELDS_MAX - 1] = 'x';
	assert_int_equal(line_split(buf, LINE_FIELDS_MAX, &lf), SK_OK);
	assert_int_equal(lf.n, LINE_FIELDS_MAX);
}

static void
test_params(void **state)
{
	struct line_fields lf;
	const char *v;
	size_t n;
	char buf[128];

	(void)state;
	assert_int_equal(split("AUTH\t7\tLOGIN\tservice=smtp\tsecured\t"
	    "rip=192.0.2.1\tresp=", buf, sizeof(buf), &lf), SK_OK);
	assert_true(line_param(&lf, 3, "service", &v, &n));
	assert_string_equal(v, "smtp");
	assert_int_equal(n, 4);
	assert_true(line_param(&lf, 3, "secured", &v, &n));
	assert_string_equal(v, "");
	assert_true(line_param(&lf, 3, "resp", &v, &n));
	assert_int_equal(n, 0);
	assert_false(line_param(&lf, 3, "lip", &v, &n));
	/* a prefix of a name is not the name */
	assert_false(line_param(&lf, 3, "servic", &v, &n));
	assert_false(line_param(&lf, 3, "ri", &v, &n));
	/* fields before start are not parameters */
	assert_false(line_param(&lf, 3, "LOGIN", &v, &n));
}

static void
test_build(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 256);
	assert_int_equal(line_put_cmd(&b, "FAIL"), SK_OK);
	assert_int_equal(line_put_str(&b, "12"), SK_OK);
	assert_int_equal(line_put_kv_str(&b, "reason", "bad\tthing\n"), SK_OK);
	assert_int_equal(line_put_kv_uint(&b, "n", 42), SK_OK);
	assert_int_equal(line_put(&b, "\0\001", 2), SK_OK);
	assert_int_equal(line_end(&b), SK_OK);
	assert_int_equal(b.len, strlen("FAIL\t12\treason=bad\001tthing\001n\tn=42\t"
	    "\0010\0011\n"));
	assert_memory_equal(b.data, "FAIL\t12\treason=bad\001tthing\001n\tn=42\t"
	    "\0010\0011\n", b.len);
	sbuf_free(&b);
	/* the bound holds */
	sbuf_init(&b, 4);
	assert_int_equal(line_put_cmd(&b, "TOOLONG"), SK_ERR_LIMIT);
	sbuf_free(&b);
}

static void
test_ids(void **state)
{
	unsigned long id;

	(void)state;
	assert_int_equal(line_id("0", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(line_id("4294967295", &id), 0);
	assert_int_equal(id, 4294967295UL);
	assert_int_equal(line_id("4294967296", &id), -1);
	assert_int_equal(line_id("12345678901", &id), -1);
	assert_int_equal(line_id("", &id), -1);
	assert_int_equal(line_id(NULL, &id), -1);
	assert_int_equal(line_id("-1", &id), -1);
	assert_int_equal(line_id(" 1", &id), -1);
	assert_int_equal(line_id("1x", &id), -1);
	assert_int_equal(line_id("+1", &id), -1);
}

static void
test_roundtrip_all_bytes(void **state)
{
	unsigned char all[256];
	struct line_fields lf;
	struct sbuf b;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	sbuf_init(&b, 4096);
	assert_int_equal(line_put_cmd(&b, "X"), SK_OK);
	assert_int_equal(line_put(&b, all, sizeof(all)), SK_OK);
	assert_int_equal(line_put(&b, all, 10), SK_OK);
	assert_null(memchr(b.data, '\n', b.len));
	assert_null(memchr(b.data, '\0', b.len));
	assert_int_equal(sbuf_terminate(&b), SK_OK);
	assert_int_equal(line_split((char *)b.data, b.len, &lf), SK_OK);
	assert_int_equal(lf.n, 3);
	assert_int_equal(lf.len[1], 256);
	assert_memory_equal(lf.f[1], all, 256);
	assert_memory_equal(lf.f[2], all, 10);
	sbuf_free(&b);
}

/* line_put_id writes what line_id reads back, at both ends of the range. */
static void
test_put_id(void **state)
{
	static const unsigned long ids[] = { 0, 1, 42, 4294967295UL };
	struct line_fields lf;
	unsigned long got;
	struct sbuf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sbuf_init(&b, 64);
		assert_int_equal(line_put_cmd(&b, "OK"), SK_OK);
		assert_int_equal(line_put_id(&b, ids[i]), SK_OK);
		assert_int_equal(sbuf_put_u8(&b, 0), SK_OK);
		assert_int_equal(line_split((char *)b.data, b.len - 1, &lf),
		    SK_OK);
		assert_int_equal(lf.n, 2);
		assert_int_equal(line_id(line_str(&lf, 1), &got), 0);
		assert_true(got == ids[i]);
		sbuf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_plain),
		cmocka_unit_test(test_split_escapes),
		cmocka_unit_test(test_split_rejects),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_roundtrip_all_bytes),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_put_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
