/*
 * test_secret_text.c: unit tests of common/secret_text.c: the line reader
 * in both modes, and every accept and reject rule of the authinfo and
 * sasl_passwd parsers, with no message quoting the password.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "secret_text.h"

#define PW	"s3cr3t"	/* the password of the bad lines */

/* The next line of rd as a C string, NULL at the end. */
static const char *
next_line(struct secret_reader *rd)
{
	const char *line;
	size_t len;
	int r;

	r = secret_reader_next(rd, &line, &len);
	if (r == SK_ERR_NOTFOUND)
		return NULL;
	assert_int_equal(r, SK_OK);
	assert_int_equal(strlen(line), len);
	return line;
}

static void
test_reader_sendmail(void **state)
{
	const char *text = "AuthInfo:a \"P:x\"\n\n# c\n  \nlast\r\nno-lf";
	struct secret_reader rd;

	(void)state;
	secret_reader_init(&rd, text, strlen(text), SECRET_TEXT_SENDMAIL);
	assert_string_equal(next_line(&rd), "AuthInfo:a \"P:x\"");
	assert_int_equal(rd.lineno, 1);
	assert_string_equal(next_line(&rd), "");
	assert_string_equal(next_line(&rd), "# c");
	assert_string_equal(next_line(&rd), "  ");
	assert_string_equal(next_line(&rd), "last\r");
	assert_string_equal(next_line(&rd), "no-lf");
	assert_int_equal(rd.lineno, 6);
	assert_null(next_line(&rd));
	assert_null(next_line(&rd));
	secret_reader_free(&rd);
	secret_reader_init(&rd, "", 0, SECRET_TEXT_SENDMAIL);
	assert_null(next_line(&rd));
	secret_reader_free(&rd);
}

/* postmap's rule: continuations joined, blank and comment lines skipped. */
static void
test_reader_postfix(void **state)
{
	const char *text = "# head\n\nh1 user:pass\n  word\n# mid\n\n"
	    "\tend\nh2 u:p\n   \nh3 u:q";
	struct secret_reader rd;

	(void)state;
	secret_reader_init(&rd, text, strlen(text), SECRET_TEXT_POSTFIX);
	assert_string_equal(next_line(&rd), "h1 user:pass  word\tend");
	assert_int_equal(rd.lineno, 3);
	assert_string_equal(next_line(&rd), "h2 u:p");
	assert_int_equal(rd.lineno, 8);
	assert_string_equal(next_line(&rd), "h3 u:q");
	assert_int_equal(rd.lineno, 10);
	assert_null(next_line(&rd));
	secret_reader_free(&rd);
	/* only skipped lines: nothing */
	text = "# a\n\n  # b\n \n";
	secret_reader_init(&rd, text, strlen(text), SECRET_TEXT_POSTFIX);
	assert_null(next_line(&rd));
	secret_reader_free(&rd);
	/* a first line that starts with white space is yielded as it is */
	text = "  orphan\nh u:p\n";
	secret_reader_init(&rd, text, strlen(text), SECRET_TEXT_POSTFIX);
	assert_string_equal(next_line(&rd), "  orphan");
	assert_string_equal(next_line(&rd), "h u:p");
	secret_reader_free(&rd);
}

/* A line over SECRET_LINE_MAX is reported and skipped, in both modes. */
static void
test_reader_long(void **state)
{
	static char text[2 * SECRET_LINE_MAX + 64];
	struct secret_reader rd;
	const char *line;
	size_t len, n;
	int mode;

	(void)state;
	for (mode = 0; mode < 2; mode++) {
		n = 0;
		memset(text, 'x', SECRET_LINE_MAX + 1);
		n += SECRET_LINE_MAX + 1;
		n += (size_t)sprintf(text + n, "\n  more\nok u:p\n");
		secret_reader_init(&rd, text, n, mode == 0 ?
		    SECRET_TEXT_SENDMAIL : SECRET_TEXT_POSTFIX);
		assert_int_equal(secret_reader_next(&rd, &line, &len),
		    SK_ERR_LIMIT);
		if (mode == 0)
			assert_string_equal(next_line(&rd), "  more");
		assert_string_equal(next_line(&rd), "ok u:p");
		assert_null(next_line(&rd));
		secret_reader_free(&rd);
	}
	/* exactly SECRET_LINE_MAX is fine */
	memset(text, 'x', SECRET_LINE_MAX);
	secret_reader_init(&rd, text, SECRET_LINE_MAX, SECRET_TEXT_SENDMAIL);
	assert_int_equal(secret_reader_next(&rd, &line, &len), SK_OK);
	assert_int_equal(len, SECRET_LINE_MAX);
	secret_reader_free(&rd);
}

typedef int parse_fn(const char *, size_t, struct secret_fields *, char *,
    size_t);

/* A line that breaks a rule, and what its message must say. */
struct bad_line {
	const char *line, *msg;
};

/* Parses the C string s as authinfo; the result, err filled. */
static int
ai(const char *s, struct secret_fields *f, char *err, size_t errlen)
{
	return authinfo_parse_line(s, strlen(s), f, err, errlen);
}

/*
 * Parses each bad line: SK_ERR_FORMAT, a message that says msg and never
 * the password, and f left empty.
 */
static void
check_bad_lines(parse_fn *parse, const struct bad_line *bad, size_t n)
{
	struct secret_fields f;
	char err[256];
	size_t i;

	secret_fields_init(&f);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (parse(bad[i].line, strlen(bad[i].line), &f, err,
		    sizeof(err)) != SK_ERR_FORMAT)
			fail_msg("accepted: %s", bad[i].line);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("%s: message \"%s\" lacks \"%s\"",
			    bad[i].line, err, bad[i].msg);
		assert_null(strstr(err, PW));
		assert_null(strstr(err, "czNj"));	/* PW in base64 */
		assert_int_equal(f.set, 0);
		assert_int_equal(f.pass.len, 0);
		assert_string_equal(f.name, "");
	}
	secret_fields_clear(&f);
}

static void
test_authinfo_ok(void **state)
{
	struct secret_fields f;
	char err[256];

	(void)state;
	secret_fields_init(&f);
	/* the example of sendmail's documentation */
	assert_int_equal(ai("AuthInfo:your.isp.net \"U:root\" \"I:user\" "
	    "\"P:password\"", &f, err, sizeof(err)), SK_OK);
	assert_string_equal(f.name, "your.isp.net");
	assert_string_equal(f.authzid, "root");
	assert_string_equal(f.authid, "user");
	assert_string_equal((char *)f.pass.data, "password");
	assert_int_equal(f.pass.len, 8);
	assert_int_equal(f.set, SECRET_F_U | SECRET_F_I | SECRET_F_P);
	/* every item, tabs, lower-case tags and key, base64, a CR at the end */
	assert_int_equal(ai("authinfo:[SMTP.Example.com]:587\t\"i:bob\"\t"
	    "\"p=cGEic3MgdzpyZA==\" \"R:example.com\" \"m:cram-md5,plain\""
	    "\"U=YWxpY2U=\"\r", &f, err, sizeof(err)), SK_OK);
	assert_string_equal(f.name, "[smtp.example.com]:587");
	assert_string_equal(f.authid, "bob");
	assert_string_equal(f.authzid, "alice");
	assert_string_equal((char *)f.pass.data, "pa\"ss w:rd");
	assert_string_equal(f.realm, "example.com");
	assert_string_equal(f.mechs, "CRAM-MD5 PLAIN");
	assert_int_equal(f.set, SECRET_F_U | SECRET_F_I | SECRET_F_P |
	    SECRET_F_R | SECRET_F_M);
	/* "AuthInfo:" alone is the default entry; U or I is enough */
	assert_int_equal(ai("AuthInfo: \"U:u\" \"P:a b\"", &f, err,
	    sizeof(err)), SK_OK);
	assert_string_equal(f.name, "default");
	assert_string_equal((char *)f.pass.data, "a b");
	assert_int_equal(ai("AUTHINFO:10.0.0.1 \"I:u\" \"P:\\x\"", &f, err,
	    sizeof(err)), SK_OK);
	assert_string_equal(f.name, "10.0.0.1");
	assert_string_equal((char *)f.pass.data, "\\x");
	/* a value as is may hold any byte but '"' */
	assert_int_equal(ai("AuthInfo:h \"I:u\" \"P:\xc3\xa9t\xc3\xa9 #:\"",
	    &f, err, sizeof(err)), SK_OK);
	assert_string_equal((char *)f.pass.data, "\xc3\xa9t\xc3\xa9 #:");
	secret_fields_clear(&f);
}

static void
test_authinfo_skip(void **state)
{
	static const char *const skip[] = { "", "   ", "\t\r", "# x",
	    "  # AuthInfo:h \"I:u\" \"P:p\"" };
	struct secret_fields f;
	char err[64];
	size_t i;

	(void)state;
	secret_fields_init(&f);
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		assert_int_equal(ai(skip[i], &f, err, sizeof(err)),
		    SK_ERR_NOTFOUND);
		assert_int_equal(f.set, 0);
	}
	secret_fields_clear(&f);
}

static const struct bad_line ai_bad[] = {
	{ " AuthInfo:h \"I:u\" \"P:" PW "\"", "white space" },
	{ "Auth:h \"I:u\" \"P:" PW "\"", "does not start with AuthInfo:" },
	{ "h \"I:u\" \"P:" PW "\"", "does not start with AuthInfo:" },
	{ "AuthInfo:a..b \"I:u\" \"P:" PW "\"", "\"a..b\": not a host" },
	{ "AuthInfo:u@example.com \"I:u\" \"P:" PW "\"", "sender" },
	{ "AuthInfo:h I:u \"P:" PW "\"", "item 1: want a quoted" },
	{ "AuthInfo:h \"I:u\" P:" PW, "item 2: want a quoted" },
	{ "AuthInfo:h \"X:u\" \"P:" PW "\"", "item 1: the tag" },
	{ "AuthInfo:h \"I-u\" \"P:" PW "\"", "I: want ':' or '='" },
	{ "AuthInfo:h \"I:u\" \"P", "item 2: cut short" },
	{ "AuthInfo:h \"I:u\" \"P:" PW, "P: no closing quote" },
	{ "AuthInfo:h \"I:u\" \"P:" PW "\\\"", "P= base64" },
	{ "AuthInfo:h \"I:u\" \"I:v\" \"P:" PW "\"", "I: given twice" },
	{ "AuthInfo:h \"I:u\" \"P:" PW "\" \"p:x\"", "P: given twice" },
	{ "AuthInfo:h \"I:\" \"P:" PW "\"", "I: the value is empty" },
	{ "AuthInfo:h \"I:u\" \"P=\"", "P: the value is empty" },
	{ "AuthInfo:h \"I:u\" \"P=" PW "\"", "not base64" },
	{ "AuthInfo:h \"I:u\" \"P=czNjcjN0 \"", "not base64" },
	{ "AuthInfo:h \"I:u\" \"P=czNj\ncjN0\"", "not base64" },
	{ "AuthInfo:h \"I:u\" \"P=AA==\"", "P: the value holds a NUL" },
	{ "AuthInfo:h \"I:u\" \"P=czNjAGNyM3Q=\"", "P: the value holds a NUL" },
	{ "AuthInfo:h \"I:u\" \"M:PLAIN LO.GIN\" \"P:" PW "\"",
	    "M: \"PLAIN LO.GIN\" is not a list" },
	{ "AuthInfo:h \"I:u\" \"M:,\" \"P:" PW "\"", "M: \",\" is not" },
	{ "AuthInfo:h \"I:u\" \"R:r\"", "no \"P:\" item" },
	{ "AuthInfo:h", "no \"P:\" item" },
	{ "AuthInfo:h \"R:r\" \"P:" PW "\"", "neither a \"U:\" nor" },
	{ "AuthInfo:h \"M:PLAIN\" \"P:" PW "\"", "neither a \"U:\" nor" },
};

/* Every rule broken once: the message names it and never the password. */
static void
test_authinfo_bad(void **state)
{
	struct secret_fields f;
	char err[256];

	(void)state;
	check_bad_lines(authinfo_parse_line, ai_bad,
	    sizeof(ai_bad) / sizeof(ai_bad[0]));
	secret_fields_init(&f);
	assert_int_equal(authinfo_parse_line("AuthInfo:h \"I:u\0\" \"P:p\"",
	    23, &f, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "NUL"));
	secret_fields_clear(&f);
}

/* The bounds: U, I, R at most 255 bytes, P at most 1024. */
static void
test_authinfo_lengths(void **state)
{
	static char line[SECRET_LINE_MAX];
	struct secret_fields f;
	char err[256], id[SECRET_ID_MAX + 2], pw[SECRET_PASS_MAX + 2];

	(void)state;
	secret_fields_init(&f);
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	memset(pw, 'p', sizeof(pw) - 1);
	pw[sizeof(pw) - 1] = '\0';
	snprintf(line, sizeof(line), "AuthInfo:h \"I:%s\" \"P:x\"", id);
	assert_int_equal(ai(line, &f, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "I: the value is longer than 255"));
	snprintf(line, sizeof(line), "AuthInfo:h \"R:%s\" \"I:u\" \"P:x\"",
	    id + 1);
	assert_int_equal(ai(line, &f, err, sizeof(err)), SK_OK);
	assert_int_equal(strlen(f.realm), SECRET_ID_MAX);
	snprintf(line, sizeof(line), "AuthInfo:h \"I:u\" \"P:%s\"", pw);
	assert_int_equal(ai(line, &f, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "P: the value is longer than 1024"));
	assert_null(strstr(err, "pppp"));
	snprintf(line, sizeof(line), "AuthInfo:h \"I:u\" \"P:%s\"", pw + 1);
	assert_int_equal(ai(line, &f, err, sizeof(err)), SK_OK);
	assert_int_equal(f.pass.len, SECRET_PASS_MAX);
	assert_int_equal(f.pass.data[SECRET_PASS_MAX], '\0');
	secret_fields_clear(&f);
}

/* Parses the C string s as sasl_passwd. */
static int
sp(const char *s, struct secret_fields *f, char *err, size_t errlen)
{
	return sasl_passwd_parse_line(s, strlen(s), f, err, errlen);
}

static void
test_sasl_passwd_ok(void **state)
{
	struct secret_fields f;
	char err[256];

	(void)state;
	secret_fields_init(&f);
	assert_int_equal(sp("[SMTP.example.com]:587 user@example.com:"
	    "pass:word with spaces \t\r", &f, err, sizeof(err)), SK_OK);
	assert_string_equal(f.name, "[smtp.example.com]:587");
	assert_string_equal(f.authid, "user@example.com");
	assert_string_equal((char *)f.pass.data, "pass:word with spaces");
	assert_int_equal(f.set, SECRET_F_I | SECRET_F_P);
	/* leading blanks of the password are its own */
	assert_int_equal(sp("relay.example\t \tu v:  #pw", &f, err,
	    sizeof(err)), SK_OK);
	assert_string_equal(f.name, "relay.example");
	assert_string_equal(f.authid, "u v");
	assert_string_equal((char *)f.pass.data, "  #pw");
	assert_int_equal(sp("default u:p", &f, err, sizeof(err)), SK_OK);
	assert_string_equal(f.name, "default");
	assert_int_equal(sp("", &f, err, sizeof(err)), SK_ERR_NOTFOUND);
	assert_int_equal(sp(" \t ", &f, err, sizeof(err)), SK_ERR_NOTFOUND);
	assert_int_equal(sp("  # h u:p", &f, err, sizeof(err)),
	    SK_ERR_NOTFOUND);
	assert_int_equal(f.set, 0);
	secret_fields_clear(&f);
}

static const struct bad_line sp_bad[] = {
	{ " h u:" PW, "white space" },
	{ "user@example.com u:" PW, "sender-dependent keys" },
	{ "@example.com u:" PW, "sender-dependent keys" },
	{ "a..b u:" PW, "\"a..b\": not a host name" },
	{ "[h]:99999 u:" PW, "not a host name" },
	{ "h", "no value after the key" },
	{ "h \t ", "no value after the key" },
	{ "h u" PW, "no ':' between" },
	{ "h :" PW, "no user before" },
	{ "h u:", "no password after" },
	{ "h u:  \t", "no password after" },
};

static void
test_sasl_passwd_bad(void **state)
{
	struct secret_fields f;
	char err[256], line[SECRET_LINE_MAX];

	(void)state;
	check_bad_lines(sasl_passwd_parse_line, sp_bad,
	    sizeof(sp_bad) / sizeof(sp_bad[0]));
	secret_fields_init(&f);
	assert_int_equal(sasl_passwd_parse_line("h u:p\0w", 7, &f, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "NUL"));
	/* a user of 256 bytes, a password of 1025 */
	snprintf(line, sizeof(line), "h %0256d:p", 0);
	assert_int_equal(sp(line, &f, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "user is longer than 255"));
	snprintf(line, sizeof(line), "h %0255d:p", 0);
	assert_int_equal(sp(line, &f, err, sizeof(err)), SK_OK);
	snprintf(line, sizeof(line), "h u:%01025d", 0);
	assert_int_equal(sp(line, &f, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "password is longer than 1024"));
	snprintf(line, sizeof(line), "h u:%01024d", 0);
	assert_int_equal(sp(line, &f, err, sizeof(err)), SK_OK);
	assert_int_equal(f.pass.len, 1024);
	secret_fields_clear(&f);
}

/* The keys sendmail asks of a socketmap, as the listener gets them. */
static void
test_authinfo_key(void **state)
{
	static const struct {
		const char *key, *name;
	} ok[] = {
		{ "authinfo:[127.0.0.1]", "[127.0.0.1]" },
		{ "authinfo:127.0.0.1", "127.0.0.1" },
		{ "authinfo:", "default" },
		{ "AuthInfo:Smtp.Example.com", "smtp.example.com" },
		{ "AUTHINFO:[ipv6:2001:db8::1]", "[ipv6:2001:db8::1]" },
	};
	static const char *const bad[] = { "authinfo", "", "[127.0.0.1]",
	    "auth:h", "authinfo:a b", "authinfo:user@example.com",
	    " authinfo:h" };
	char out[SECRET_NAME_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(authinfo_key_norm(ok[i].key, strlen(ok[i].key),
		    out, sizeof(out)), SK_OK);
		assert_string_equal(out, ok[i].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(authinfo_key_norm(bad[i], strlen(bad[i]), out,
		    sizeof(out)), SK_ERR_FORMAT);
	/* only len bytes are read */
	assert_int_equal(authinfo_key_norm("authinfo:hx", 10, out,
	    sizeof(out)), SK_OK);
	assert_string_equal(out, "h");
	assert_int_equal(authinfo_key_norm("authinfo:", 9, out, 7),
	    SK_ERR_LIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_sendmail),
		cmocka_unit_test(test_reader_postfix),
		cmocka_unit_test(test_reader_long),
		cmocka_unit_test(test_authinfo_ok),
		cmocka_unit_test(test_authinfo_skip),
		cmocka_unit_test(test_authinfo_bad),
		cmocka_unit_test(test_authinfo_lengths),
		cmocka_unit_test(test_sasl_passwd_ok),
		cmocka_unit_test(test_sasl_passwd_bad),
		cmocka_unit_test(test_authinfo_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
