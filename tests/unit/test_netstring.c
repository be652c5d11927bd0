/*
 * test_netstring.c: unit tests of common/netstring.c: netstrings decoded
 * whole, in pieces as read(2) gives them and several to a buffer; every
 * malformed length field; the limit caught before the data arrives; the
 * encoder's all-or-nothing appends; and socketmap requests and replies
 * as sendmail and Postfix send them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "netstring.h"
#include "sbuf.h"

/* Decodes the C string s with bound max; the result code. */
static int
dec(const char *s, size_t max, const unsigned char **p, size_t *n,
    size_t *used)
{
	return netstring_decode(s, strlen(s), max, p, n, used);
}

static void
test_decode_ok(void **state)
{
	const unsigned char *p = NULL;
	size_t n = 99, used = 0;

	(void)state;
	assert_int_equal(dec("0:,", 10, &p, &n, &used), SK_OK);
	assert_int_equal(n, 0);
	assert_int_equal(used, 3);
	assert_int_equal(dec("5:hello,", 10, &p, &n, &used), SK_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(used, 8);
	/* the payload may hold ',', ':' and a NUL */
	assert_int_equal(netstring_decode("4:a,\0:,", 7, 10, &p, &n, &used),
	    SK_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "a,\0:", 4);
	/* a length of exactly max is allowed */
	assert_int_equal(dec("10:0123456789,", 10, &p, &n, &used), SK_OK);
	assert_int_equal(used, 14);
}

/* Two netstrings and the start of a third in one read. */
static void
test_decode_stream(void **state)
{
	const char *s = "3:abc,27:sasl_passwd [h.example]:587,1";
	const unsigned char *p;
	size_t n, used, off = 0;

	(void)state;
	assert_int_equal(netstring_decode(s, strlen(s), 1024, &p, &n, &used),
	    SK_OK);
	assert_memory_equal(p, "abc", 3);
	off += used;
	assert_int_equal(netstring_decode(s + off, strlen(s) - off, 1024, &p,
	    &n, &used), SK_OK);
	assert_int_equal(n, 27);
	assert_memory_equal(p, "sasl_passwd [h.example]:587", 27);
	off += used;
	assert_int_equal(netstring_decode(s + off, strlen(s) - off, 1024, &p,
	    &n, &used), SK_ERR_SHORT);
}

/* Every proper prefix of a good netstring asks for more. */
static void
test_decode_short(void **state)
{
	const char *s = "12:hello, world,";
	const unsigned char *p;
	size_t n, used, k;

	(void)state;
	for (k = 0; k < strlen(s); k++)
		assert_int_equal(netstring_decode(s, k, 1024, &p, &n, &used),
		    SK_ERR_SHORT);
	assert_int_equal(netstring_decode(s, strlen(s), 1024, &p, &n, &used),
	    SK_OK);
}

static void
test_decode_format(void **state)
{
	const unsigned char *p;
	size_t n, used;

	(void)state;
	assert_int_equal(dec(":,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("00:,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("01:a,", 10, &p, &n, &used), SK_ERR_FORMAT);
	/* a leading zero is known bad before the ':' arrives */
	assert_int_equal(dec("05", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("-1:a,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("+1:a,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec(" 1:a,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("1 :a,", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("1x", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("GET / HTTP/1.0", 10, &p, &n, &used),
	    SK_ERR_FORMAT);
	/* no ',' after the data */
	assert_int_equal(dec("1:ab", 10, &p, &n, &used), SK_ERR_FORMAT);
	assert_int_equal(dec("2:a,", 10, &p, &n, &used), SK_ERR_SHORT);
	assert_int_equal(dec("0:;", 10, &p, &n, &used), SK_ERR_FORMAT);
}

static void
test_decode_limit(void **state)
{
	const unsigned char *p;
	size_t n, used;

	(void)state;
	/* the limit is known from the digits alone */
	assert_int_equal(dec("1025", SOCKETMAP_REQUEST_MAX, &p, &n, &used),
	    SK_ERR_LIMIT);
	assert_int_equal(dec("1025:", SOCKETMAP_REQUEST_MAX, &p, &n, &used),
	    SK_ERR_LIMIT);
	assert_int_equal(dec("1024:", SOCKETMAP_REQUEST_MAX, &p, &n, &used),
	    SK_ERR_SHORT);
	assert_int_equal(dec("99999999999999999999999999", 1000, &p, &n,
	    &used), SK_ERR_LIMIT);
	/* digits that would overflow size_t with no bound at all */
	assert_int_equal(dec("99999999999999999999999999", SIZE_MAX, &p, &n,
	    &used), SK_ERR_LIMIT);
	assert_int_equal(dec("1:a,", 0, &p, &n, &used), SK_ERR_LIMIT);
	assert_int_equal(dec("0:,", 0, &p, &n, &used), SK_OK);
}

static void
test_encode(void **state)
{
	struct sbuf b;
	const unsigned char *p;
	size_t n, used;

	(void)state;
	sbuf_init(&b, 64);
	assert_int_equal(netstring_encode(&b, "hello", 5), SK_OK);
	assert_int_equal(netstring_encode(&b, NULL, 0), SK_OK);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "5:hello,0:,", 11);
	assert_int_equal(netstring_decode(b.data, b.len, 64, &p, &n, &used),
	    SK_OK);
	assert_int_equal(used, 8);
	sbuf_free(&b);

	/* past the bound nothing at all is appended */
	sbuf_init(&b, 10);
	assert_int_equal(netstring_encode(&b, "abc", 3), SK_OK);
	assert_int_equal(netstring_encode(&b, "abc", 3), SK_ERR_LIMIT);
	assert_int_equal(b.len, 6);
	assert_int_equal(netstring_encode(&b, "ab", 2), SK_ERR_LIMIT);
	assert_int_equal(netstring_encode(&b, "", 0), SK_OK);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "3:abc,0:,", 9);
	sbuf_free(&b);
}

static void
test_request_split(void **state)
{
	char name[SOCKETMAP_MAPNAME_MAX + 1];
	const unsigned char *key;
	size_t klen;
	const char *s;

	(void)state;
	s = "authinfo authinfo:[127.0.0.1]";
	assert_int_equal(socketmap_request_split((const unsigned char *)s,
	    strlen(s), name, &key, &klen), SK_OK);
	assert_string_equal(name, "authinfo");
	assert_int_equal(klen, 20);
	assert_memory_equal(key, "authinfo:[127.0.0.1]", 20);
	/* the key may hold spaces and be empty */
	s = "sasl_passwd a b";
	assert_int_equal(socketmap_request_split((const unsigned char *)s,
	    strlen(s), name, &key, &klen), SK_OK);
	assert_string_equal(name, "sasl_passwd");
	assert_int_equal(klen, 3);
	s = "Map-2 ";
	assert_int_equal(socketmap_request_split((const unsigned char *)s,
	    strlen(s), name, &key, &klen), SK_OK);
	assert_string_equal(name, "Map-2");
	assert_int_equal(klen, 0);
}

static void
test_request_split_bad(void **state)
{
	char name[SOCKETMAP_MAPNAME_MAX + 1] = "untouched", longname[80];
	const unsigned char *key;
	size_t klen;
	static const char *const bad[] = { "authinfo", " key", "auth.info k",
	    "auth/info k", "map\tkey", "" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(socketmap_request_split(
		    (const unsigned char *)bad[i], strlen(bad[i]), name, &key,
		    &klen), SK_ERR_FORMAT);
	assert_int_equal(socketmap_request_split((const unsigned char *)
	    "map k\0ey", 8, name, &key, &klen), SK_ERR_FORMAT);
	assert_int_equal(socketmap_request_split((const unsigned char *)
	    "m\0p key", 7, name, &key, &klen), SK_ERR_FORMAT);
	assert_string_equal(name, "untouched");
	/* 64 name bytes are fine, 65 are not */
	memset(longname, 'm', 64);
	memcpy(longname + 64, " k", 3);
	assert_int_equal(socketmap_request_split((unsigned char *)longname, 66,
	    name, &key, &klen), SK_OK);
	assert_int_equal(strlen(name), 64);
	memset(longname, 'm', 65);
	memcpy(longname + 65, " k", 3);
	assert_int_equal(socketmap_request_split((unsigned char *)longname, 67,
	    name, &key, &klen), SK_ERR_FORMAT);
}

static void
test_reply_put(void **state)
{
	struct sbuf b;

	(void)state;
	sbuf_init(&b, 1024);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_OK, "u:pw", 4),
	    SK_OK);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_NOTFOUND, NULL, 0),
	    SK_OK);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_TEMP, "db", 2),
	    SK_OK);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_PERM, "x", 1),
	    SK_OK);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_TIMEOUT, "t", 1),
	    SK_OK);
	assert_int_equal(b.len, strlen("7:OK u:pw,9:NOTFOUND ,7:TEMP db,"
	    "6:PERM x,9:TIMEOUT t,"));
	assert_memory_equal(b.data, "7:OK u:pw,9:NOTFOUND ,7:TEMP db,"
	    "6:PERM x,9:TIMEOUT t,", b.len);
	assert_int_equal(socketmap_reply_put(&b, (enum socketmap_status)7,
	    "x", 1), SK_ERR_INVAL);
	sbuf_free(&b);
}

/* A reply over Postfix's limit is refused, whatever the buffer allows. */
static void
test_reply_limit(void **state)
{
	struct sbuf b;
	char *big = calloc(1, SOCKETMAP_REPLY_MAX);

	(void)state;
	assert_non_null(big);
	sbuf_init(&b, 2 * SOCKETMAP_REPLY_MAX);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_OK, big,
	    SOCKETMAP_REPLY_MAX - 3), SK_OK);
	assert_int_equal(b.len, 6 + 1 + SOCKETMAP_REPLY_MAX + 1);
	sbuf_reset(&b);
	assert_int_equal(socketmap_reply_put(&b, SOCKETMAP_OK, big,
	    SOCKETMAP_REPLY_MAX - 2), SK_ERR_LIMIT);
	assert_int_equal(b.len, 0);
	sbuf_free(&b);
	free(big);
}

static void
test_reply_parse(void **state)
{
	enum socketmap_status st;
	const unsigned char *v;
	size_t n;

	(void)state;
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "OK u:p w", 8, &st, &v, &n), SK_OK);
	assert_int_equal(st, SOCKETMAP_OK);
	assert_int_equal(n, 5);
	assert_memory_equal(v, "u:p w", 5);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "NOTFOUND ", 9, &st, &v, &n), SK_OK);
	assert_int_equal(st, SOCKETMAP_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "NOTFOUND", 8, &st, &v, &n), SK_OK);
	assert_int_equal(st, SOCKETMAP_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "TIMEOUT slow", 12, &st, &v, &n), SK_OK);
	assert_int_equal(st, SOCKETMAP_TIMEOUT);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "OK", 2, &st, &v, &n), SK_ERR_FORMAT);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "ok x", 4, &st, &v, &n), SK_ERR_FORMAT);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "OKAY x", 6, &st, &v, &n), SK_ERR_FORMAT);
	assert_int_equal(socketmap_reply_parse((const unsigned char *)
	    "", 0, &st, &v, &n), SK_ERR_FORMAT);
	assert_string_equal(socketmap_status_word(SOCKETMAP_PERM), "PERM");
	assert_null(socketmap_status_word((enum socketmap_status)5));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_ok),
		cmocka_unit_test(test_decode_stream),
		cmocka_unit_test(test_decode_short),
		cmocka_unit_test(test_decode_format),
		cmocka_unit_test(test_decode_limit),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_request_split),
		cmocka_unit_test(test_request_split_bad),
		cmocka_unit_test(test_reply_put),
		cmocka_unit_test(test_reply_limit),
		cmocka_unit_test(test_reply_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
