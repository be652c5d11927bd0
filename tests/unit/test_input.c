/*
 * test_input.c: smtpd's reader of lines (input.c) on libevent buffers:
 * lines end at LF with or without CR, never at a lone CR; a line moves
 * into a wiping buffer and its bytes in libevent's chain are wiped before
 * they are drained, also across chains; a line past the buffer's bound
 * is left whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <event2/buffer.h>

#include "../../smtpd/session.h"
#include "err.h"
#include "sbuf.h"

/* The next line of in as a string ("" and -1/0 when none). */
static int
next(struct evbuffer *in, char *out, size_t outsz)
{
	struct sbuf line;
	int r;

	sbuf_init(&line, 1024);
	r = input_line(in, &line);
	out[0] = '\0';
	if (r == 1) {
		assert_true(line.len < outsz);
		memcpy(out, line.data, line.len + 1);
		assert_int_equal(strlen(out), line.len);
	}
	sbuf_free(&line);
	return r;
}

static void
test_line_ends(void **state)
{
	struct evbuffer *in = evbuffer_new();
	char l[64];

	(void)state;
	evbuffer_add_printf(in, "EHLO a\r\nNOOP\nAUTH x\ry\r\n\r\nrest");
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "EHLO a");
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "NOOP");
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "AUTH x\ry");	/* a lone CR ends nothing */
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "");
	assert_int_equal(next(in, l, sizeof(l)), 0);	/* no end yet */
	assert_int_equal(evbuffer_get_length(in), 4);
	evbuffer_add(in, "\r\n", 2);
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "rest");
	assert_int_equal(evbuffer_get_length(in), 0);
	evbuffer_free(in);
}

/* The bytes a line took in libevent's chain are zero once it is read. */
static void
test_chain_wiped(void **state)
{
	static const char secret[] = "AGFsaWNlAGFsaWNlLXB3";	/* 20 bytes */
	struct evbuffer *in = evbuffer_new();
	struct evbuffer_iovec v;
	const unsigned char *p;
	char l[64];
	size_t i, n = strlen(secret) + 2;

	(void)state;
	evbuffer_add_printf(in, "%s\r\nNEXT", secret);
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, secret);
	/* the chain holds "NEXT" still, and behind it what was read */
	assert_true(evbuffer_peek(in, -1, NULL, &v, 1) >= 1);
	assert_int_equal(v.iov_len, 4);
	p = (const unsigned char *)v.iov_base;
	assert_memory_equal(p, "NEXT", 4);
	for (i = 1; i <= n; i++)
		assert_int_equal(p[-(ptrdiff_t)i], 0);
	evbuffer_free(in);
}

/* A line over two chains comes whole; what it took is wiped. */
static void
test_across_chains(void **state)
{
	struct evbuffer *in = evbuffer_new(), *tail = evbuffer_new();
	struct evbuffer_iovec v[2];
	const unsigned char *p;
	char l[64];
	int i;

	(void)state;
	evbuffer_add(in, "xxxxAB", 6);
	evbuffer_add(tail, "CD\r\nZ", 5);
	evbuffer_add_buffer(in, tail);	/* its chain follows ours */
	assert_int_equal(evbuffer_peek(in, -1, NULL, v, 2), 2);
	assert_int_equal(input_take(in, 4, NULL), SK_OK);	/* dropped */
	assert_int_equal(next(in, l, sizeof(l)), 1);
	assert_string_equal(l, "ABCD");
	assert_int_equal(evbuffer_peek(in, -1, NULL, v, 1), 1);
	p = (const unsigned char *)v[0].iov_base;
	assert_int_equal(p[0], 'Z');
	for (i = 1; i <= 4; i++)		/* "CD\r\n" */
		assert_int_equal(p[-i], 0);
	evbuffer_free(tail);
	evbuffer_free(in);
}

/* A line past the buffer's bound is left whole, for the caller to skip. */
static void
test_too_long(void **state)
{
	struct evbuffer *in = evbuffer_new();
	struct sbuf line;

	(void)state;
	evbuffer_add_printf(in, "12345\r\n");
	sbuf_init(&line, 4);
	assert_int_equal(input_line(in, &line), -1);
	assert_int_equal(evbuffer_get_length(in), 7);
	assert_int_equal(line.len, 0);
	sbuf_free(&line);
	sbuf_init(&line, 5);
	assert_int_equal(input_line(in, &line), 1);
	assert_int_equal(line.len, 5);
	assert_int_equal(evbuffer_get_length(in), 0);
	sbuf_free(&line);
	evbuffer_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_chain_wiped),
		cmocka_unit_test(test_across_chains),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
