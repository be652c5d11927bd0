/*
 * test_checkpw.c: unit tests of saslkit-checkpassword's input and
 * environment (checkpw/input.c, checkpw/peer.c): Dovecot's fd 3 data
 * whole, in pieces, at and past the 512-byte limit, and malformed; the
 * wipe; the client's service, addresses, ports and TLS state from the
 * environment, with the values that must be left out; numbers (-t).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "../../checkpw/checkpw.h"

/* Parses n bytes of s. */
static int
parse(struct checkpw_input *in, const char *s, size_t n)
{
	memset(in, 0, sizeof(*in));
	memcpy(in->buf, s, n);
	in->len = n;
	return checkpw_input_parse(in);
}

static void
test_parse_ok(void **state)
{
	struct checkpw_input in;

	(void)state;
	assert_int_equal(parse(&in, "alice\0alice-pw\0\0", 16), SK_OK);
	assert_string_equal(in.user, "alice");
	assert_int_equal(in.userlen, 5);
	assert_string_equal(in.pass, "alice-pw");
	assert_int_equal(in.passlen, 8);
	/* no timestamp, or one, or more after it: the same two fields */
	assert_int_equal(parse(&in, "bob@x.org\0p w\0", 14), SK_OK);
	assert_string_equal(in.user, "bob@x.org");
	assert_string_equal(in.pass, "p w");
	assert_int_equal(parse(&in, "bob\0pw\0<1.2@h>\0more", 19), SK_OK);
	assert_string_equal(in.pass, "pw");
	/* an empty password is the caller's to refuse */
	assert_int_equal(parse(&in, "bob\0\0\0", 6), SK_OK);
	assert_int_equal(in.passlen, 0);
}

static void
test_parse_bad(void **state)
{
	struct checkpw_input in;

	(void)state;
	assert_int_equal(parse(&in, "", 0), SK_ERR_FORMAT);
	assert_int_equal(parse(&in, "alice", 5), SK_ERR_FORMAT);
	assert_int_equal(parse(&in, "alice\0pw", 8), SK_ERR_FORMAT);
	assert_null(in.user);
	assert_null(in.pass);
	assert_int_equal(parse(&in, "\0pw\0\0", 5), SK_ERR_FORMAT);
	in.len = CHECKPW_INPUT_MAX + 1;
	assert_int_equal(checkpw_input_parse(&in), SK_ERR_FORMAT);
}

/* Writes n bytes of s into a pipe in chunks of step, and reads them. */
static int
read_piped(struct checkpw_input *in, const char *s, size_t n, size_t step)
{
	int fd[2], r;
	size_t off;

	assert_int_equal(pipe(fd), 0);
	for (off = 0; off < n; off += step)
		assert_true(write(fd[1], s + off, n - off < step ? n - off :
		    step) > 0);
	close(fd[1]);
	r = checkpw_input_read(fd[0], in);
	close(fd[0]);
	return r;
}

static void
test_read(void **state)
{
	static struct checkpw_input in;
	char big[CHECKPW_INPUT_MAX + 1];

	(void)state;
	assert_int_equal(read_piped(&in, "alice\0alice-pw\0\0", 16, 3), SK_OK);
	assert_string_equal(in.user, "alice");
	assert_string_equal(in.pass, "alice-pw");
	checkpw_input_wipe(&in);
	assert_null(memmem(&in, sizeof(in), "alice-pw", 8));
	assert_null(in.pass);
	/* exactly the limit, then one byte past it */
	memset(big, 'p', sizeof(big));
	memcpy(big, "u\0", 2);
	big[CHECKPW_INPUT_MAX - 1] = '\0';
	assert_int_equal(read_piped(&in, big, CHECKPW_INPUT_MAX, 100), SK_OK);
	assert_int_equal(in.passlen, CHECKPW_INPUT_MAX - 3);
	big[CHECKPW_INPUT_MAX] = '\0';
	assert_int_equal(read_piped(&in, big, CHECKPW_INPUT_MAX + 1, 100),
	    SK_ERR_LIMIT);
	assert_int_equal(read_piped(&in, "u\0p", 3, 1), SK_ERR_FORMAT);
	assert_int_equal(checkpw_input_read(-1, &in), SK_ERR_IO);
}

static void
clear_env(void)
{
	unsetenv("SERVICE");
	unsetenv("TCPLOCALIP");
	unsetenv("TCPREMOTEIP");
	unsetenv("TCPLOCALPORT");
	unsetenv("TCPREMOTEPORT");
	unsetenv("AUTH_SECURED");
}

static void
test_peer(void **state)
{
	struct checkpw_peer p;

	(void)state;
	clear_env();
	setenv("SERVICE", "imap", 1);
	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	setenv("TCPLOCALIP", "2001:db8::1", 1);
	setenv("TCPREMOTEPORT", "50123", 1);
	setenv("TCPLOCALPORT", "143", 1);
	setenv("AUTH_SECURED", "secured", 1);
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_OK);
	assert_string_equal(p.service, "imap");
	assert_string_equal(p.rip, "192.0.2.7");
	assert_string_equal(p.lip, "2001:db8::1");
	assert_int_equal(p.rport, 50123);
	assert_int_equal(p.lport, 143);
	assert_int_equal(p.secured, 1);
	/* -S wins over SERVICE; an empty AUTH_SECURED is not TLS */
	setenv("AUTH_SECURED", "", 1);
	assert_int_equal(checkpw_peer_from_env(&p, "pop3"), SK_OK);
	assert_string_equal(p.service, "pop3");
	assert_int_equal(p.secured, 0);
}

static void
test_peer_bad(void **state)
{
	struct checkpw_peer p;

	(void)state;
	clear_env();
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_ERR_INVAL);
	setenv("SERVICE", "im ap", 1);
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_ERR_INVAL);
	setenv("SERVICE", "", 1);
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_ERR_INVAL);
	setenv("SERVICE", "imap", 1);
	setenv("TCPREMOTEIP", "192.0.2.7\trip=10.0.0.1", 1);
	setenv("TCPLOCALIP", "localhost", 1);
	setenv("TCPREMOTEPORT", "65536", 1);
	setenv("TCPLOCALPORT", "14x", 1);
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_OK);
	assert_string_equal(p.rip, "");
	assert_string_equal(p.lip, "");
	assert_int_equal(p.rport, 0);
	assert_int_equal(p.lport, 0);
	assert_int_equal(p.secured, 0);
	setenv("TCPREMOTEPORT", "-1", 1);
	setenv("TCPLOCALPORT", "0", 1);
	assert_int_equal(checkpw_peer_from_env(&p, NULL), SK_OK);
	assert_int_equal(p.rport, 0);
	assert_int_equal(p.lport, 0);
	clear_env();
}

static void
test_uint(void **state)
{
	unsigned long n = 0;

	(void)state;
	assert_int_equal(checkpw_uint("10", 3600, &n), SK_OK);
	assert_int_equal(n, 10);
	assert_int_equal(checkpw_uint("3600", 3600, &n), SK_OK);
	assert_int_equal(checkpw_uint("3601", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint("0", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint("", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint(" 1", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint("-1", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint("1x", 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint("99999999999999999999999", ~0UL, &n),
	    SK_ERR_FORMAT);
	assert_int_equal(checkpw_uint(NULL, 3600, &n), SK_ERR_FORMAT);
	assert_int_equal(n, 3600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_peer),
		cmocka_unit_test(test_peer_bad),
		cmocka_unit_test(test_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
