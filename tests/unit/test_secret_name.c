/*
 * test_secret_name.c: unit tests of common/secret_name.c: every form of
 * entry name the secret store accepts and its canonical spelling, every
 * form it refuses, mechanism lists, and the life of a secret_fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "secret_text.h"

/* A host name of n bytes, labels of 63 'a's apart by dots. */
static void
make_host(char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (i % 64 == 63) ? '.' : 'a';
	out[n] = '\0';
}

static void
assert_norm(const char *in, const char *want)
{
	char out[SECRET_NAME_MAX + 1];

	assert_int_equal(secret_name_norm(in, out, sizeof(out)), SK_OK);
	assert_string_equal(out, want);
}

static void
test_name_hosts(void **state)
{
	(void)state;
	assert_norm("smtp.example.com", "smtp.example.com");
	assert_norm("SMTP.Example.COM", "smtp.example.com");
	assert_norm("mail_relay-2.example", "mail_relay-2.example");
	assert_norm("localhost", "localhost");
	assert_norm("smtp.example.com:587", "smtp.example.com:587");
	assert_norm("[SMTP.example.com]", "[smtp.example.com]");
	assert_norm("[smtp.example.com]:587", "[smtp.example.com]:587");
	assert_norm("smtp.example.com:1", "smtp.example.com:1");
	assert_norm("smtp.example.com:65535", "smtp.example.com:65535");
	assert_norm("default", "default");
	assert_norm("DeFault", "default");
}

static void
test_name_addresses(void **state)
{
	(void)state;
	assert_norm("127.0.0.1", "127.0.0.1");
	assert_norm("127.0.0.1:25", "127.0.0.1:25");
	assert_norm("[127.0.0.1]", "[127.0.0.1]");
	assert_norm("[192.0.2.1]:587", "[192.0.2.1]:587");
	/* IPv6 in sendmail's spelling or bare, written as inet_ntop does */
	assert_norm("[IPv6:2001:DB8:0:0:0:0:0:1]", "[ipv6:2001:db8::1]");
	assert_norm("[ipv6:2001:db8::1]:587", "[ipv6:2001:db8::1]:587");
	assert_norm("[2001:db8::1]:587", "[ipv6:2001:db8::1]:587");
	assert_norm("[::1]", "[ipv6:::1]");
	assert_norm("[IPV6:::ffff:192.0.2.1]", "[ipv6:::ffff:192.0.2.1]");
}

/* The limits of a host name: labels of 63, 253 bytes in all. */
static void
test_name_lengths(void **state)
{
	char host[300], in[310], out[SECRET_NAME_MAX + 1];

	(void)state;
	make_host(host, 253);
	assert_norm(host, host);
	snprintf(in, sizeof(in), "[%s]:65535", host);
	assert_true(strlen(in) == 261 && strlen(in) <= SECRET_NAME_MAX);
	assert_norm(in, in);
	make_host(host, 254);
	/* 254 bytes */
	assert_int_equal(secret_name_norm(host, out, sizeof(out)),
	    SK_ERR_FORMAT);
	memset(host, 'a', 63);
	strcpy(host + 63, ".example");
	assert_norm(host, host);
	memset(host, 'a', 64);
	strcpy(host + 64, ".example");
	assert_int_equal(secret_name_norm(host, out, sizeof(out)),
	    SK_ERR_FORMAT);
	/* an input far longer than any name */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(secret_name_norm(in, out, sizeof(out)),
	    SK_ERR_FORMAT);
}

static void
test_name_bad(void **state)
{
	static const char *const bad[] = {
		"", ".", ".example.com", "example.com.", "a..b", "a b",
		"a\tb", "host/x", "h\xc3\xa9.example", "*.example.com",
		"user@example.com", "@example.com", "[a", "a]", "[]",
		"[a]x", "[a]:", "[a]]", "a:", "a:0", "a:01", "a:65536",
		"a:123456", "a:-1", "a:+1", "a:2 5", "a:b", "a:1:2",
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "123",
		"[1.2.3.4.5]", "[IPv6:1.2.3.4]", "[IPv6:zz::1]",
		"[fe80::1%eth0]", "2001:db8::1", "[IPv6:]", "[IPv6:2001:db8::1",
		"IPv6:2001:db8::1", "[default", "default:x",
	};
	char out[SECRET_NAME_MAX + 1] = "untouched";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (secret_name_norm(bad[i], out, sizeof(out)) != SK_ERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_string_equal(out, "untouched");
}

/* The length-bounded form reads only its bytes; a NUL inside is refused. */
static void
test_name_normn(void **state)
{
	static const char *const ok[] = { "192.0.2.1", "[192.0.2.1]:25",
	    "h.example", "[h.example]:587", "[IPv6:2001:db8::1]", "default" };
	char out[SECRET_NAME_MAX + 1] = "untouched", *p;
	size_t i, n;

	(void)state;
	assert_int_equal(secret_name_normn("host.example:25 trailing", 15, out,
	    sizeof(out)), SK_OK);
	assert_string_equal(out, "host.example:25");
	assert_int_equal(secret_name_normn("defaultx", 7, out, sizeof(out)),
	    SK_OK);
	assert_string_equal(out, "default");
	assert_int_equal(secret_name_normn("a\0b", 3, out, sizeof(out)),
	    SK_ERR_FORMAT);
	assert_int_equal(secret_name_normn("[a]\0", 4, out, sizeof(out)),
	    SK_ERR_FORMAT);
	assert_int_equal(secret_name_normn("", 0, out, sizeof(out)),
	    SK_ERR_FORMAT);
	/* exact-size heap copies with no NUL: ASan sees any read past them */
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = strlen(ok[i]);
		assert_non_null(p = malloc(n));
		memcpy(p, ok[i], n);
		assert_int_equal(secret_name_normn(p, n, out, sizeof(out)),
		    SK_OK);
		free(p);
	}
}

/* An out too small is SK_ERR_LIMIT and stays untouched. */
static void
test_name_out_small(void **state)
{
	char out[8] = "keep";

	(void)state;
	assert_int_equal(secret_name_norm("a.example", out, sizeof(out)),
	    SK_ERR_LIMIT);
	assert_string_equal(out, "keep");
	assert_int_equal(secret_name_norm("default", out, 7), SK_ERR_LIMIT);
	assert_int_equal(secret_name_norm("default", out, 8), SK_OK);
	assert_string_equal(out, "default");
	assert_int_equal(secret_name_norm("[::1]", out, sizeof(out)),
	    SK_ERR_LIMIT);
}

static void
test_mechs(void **state)
{
	char out[SECRET_MECHS_MAX + 1] = "untouched", in[600];
	const char *s;
	size_t i;

	(void)state;
	s = "cram-md5 digest-md5";
	assert_int_equal(secret_mechs_norm(s, strlen(s), out, sizeof(out)),
	    SK_OK);
	assert_string_equal(out, "CRAM-MD5 DIGEST-MD5");
	s = " scram-sha-256,  PLAIN,login/Plain\t";
	assert_int_equal(secret_mechs_norm(s, strlen(s), out, sizeof(out)),
	    SK_OK);
	assert_string_equal(out, "SCRAM-SHA-256 PLAIN LOGIN");
	/* only len bytes are read */
	assert_int_equal(secret_mechs_norm("PLAIN LOGIN", 5, out, sizeof(out)),
	    SK_OK);
	assert_string_equal(out, "PLAIN");
	strcpy(out, "untouched");
	assert_int_equal(secret_mechs_norm("", 0, out, sizeof(out)),
	    SK_ERR_FORMAT);
	assert_int_equal(secret_mechs_norm(" , ", 3, out, sizeof(out)),
	    SK_ERR_FORMAT);
	s = "PLAIN LO.GIN";
	assert_int_equal(secret_mechs_norm(s, strlen(s), out, sizeof(out)),
	    SK_ERR_FORMAT);
	assert_int_equal(secret_mechs_norm("PLAIN\0LOGIN", 11, out,
	    sizeof(out)), SK_ERR_FORMAT);
	s = "ABCDEFGHIJKLMNOPQRSTU";	/* 21: not a name */
	assert_int_equal(secret_mechs_norm(s, strlen(s), out, sizeof(out)),
	    SK_ERR_FORMAT);
	assert_string_equal(out, "untouched");
	/* 30 distinct good names of 10 bytes: 329 bytes, over 255 */
	for (i = 0; i < 30; i++)
		snprintf(in + i * 11, sizeof(in) - i * 11, "MECH-%05zu ", i);
	assert_int_equal(secret_mechs_norm(in, strlen(in), out, sizeof(out)),
	    SK_ERR_LIMIT);
	assert_int_equal(secret_mechs_norm("PLAIN", 5, out, 5), SK_ERR_LIMIT);
	assert_string_equal(out, "untouched");
}

static void
test_fields(void **state)
{
	struct secret_fields a, b;

	(void)state;
	secret_fields_init(&a);
	secret_fields_init(&b);
	assert_int_equal(a.set, 0);
	assert_true(secret_fields_equal(&a, &b));
	strcpy(a.name, "h.example");
	strcpy(b.name, "h.example");
	strcpy(a.authid, "user");
	a.set = b.set = SECRET_F_I | SECRET_F_P;
	assert_int_equal(sbuf_put_str(&a.pass, "pw1"), SK_OK);
	assert_int_equal(sbuf_put_str(&b.pass, "pw1"), SK_OK);
	assert_false(secret_fields_equal(&a, &b));	/* authid differs */
	strcpy(b.authid, "user");
	assert_true(secret_fields_equal(&a, &b));
	/* fields whose bit is clear do not count */
	strcpy(a.realm, "r");
	assert_true(secret_fields_equal(&a, &b));
	a.set |= SECRET_F_R;
	assert_false(secret_fields_equal(&a, &b));
	a.set &= ~SECRET_F_R;
	b.pass.data[2] = '2';
	assert_false(secret_fields_equal(&a, &b));
	b.pass.data[2] = '1';
	assert_int_equal(sbuf_put_str(&b.pass, "x"), SK_OK);
	assert_false(secret_fields_equal(&a, &b));
	/* clear leaves an empty, reusable entry */
	secret_fields_clear(&a);
	assert_int_equal(a.set, 0);
	assert_int_equal(a.pass.len, 0);
	assert_null(a.pass.data);
	assert_string_equal(a.name, "");
	assert_string_equal(a.authid, "");
	assert_int_equal(a.pass.max, SECRET_PASS_MAX);
	assert_int_equal(sbuf_put_str(&a.pass, "again"), SK_OK);
	secret_fields_clear(&a);
	secret_fields_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_hosts),
		cmocka_unit_test(test_name_addresses),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_name_bad),
		cmocka_unit_test(test_name_normn),
		cmocka_unit_test(test_name_out_small),
		cmocka_unit_test(test_mechs),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
