/*
 * test_secret_fmt.c: unit tests of common/secret_fmt.c: the authinfo and
 * sasl_passwd formatters, what each refuses to write, and format-then-
 * parse round trips with hard passwords, line by line and as whole files
 * through the reader.
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

/* Fills f with a name and the fields given (NULL: not set). */
static void
fill(struct secret_fields *f, const char *name, const char *u, const char *i,
    const char *p, const char *r, const char *m)
{
	const char *src[] = { u, i, r, m };
	char *dst[] = { f->authzid, f->authid, f->realm, f->mechs };
	static const unsigned bit[] = { SECRET_F_U, SECRET_F_I, SECRET_F_R,
	    SECRET_F_M };
	size_t k;

	secret_fields_clear(f);
	strcpy(f->name, name);
	for (k = 0; k < 4; k++) {
		if (src[k] == NULL)
			continue;
		strcpy(dst[k], src[k]);
		f->set |= bit[k];
	}
	if (p != NULL) {
		assert_int_equal(sbuf_put_str(&f->pass, p), SK_OK);
		assert_int_equal(sbuf_terminate(&f->pass), SK_OK);
		f->set |= SECRET_F_P;
	}
}

/* Runs fmt on f and compares the text with want (NULL: SK_ERR_FORMAT). */
static void
assert_fmt(int (*fmt)(const struct secret_fields *, struct sbuf *),
    const struct secret_fields *f, const char *want)
{
	struct sbuf out;
	int r;

	sbuf_init(&out, 8192);
	r = fmt(f, &out);
	if (want == NULL) {
		assert_int_equal(r, SK_ERR_FORMAT);
	} else {
		assert_int_equal(r, SK_OK);
		assert_string_equal((char *)out.data, want);
		assert_int_equal(out.len, strlen(want));
	}
	sbuf_free(&out);
}

static void
test_format_authinfo(void **state)
{
	struct secret_fields f;

	(void)state;
	secret_fields_init(&f);
	fill(&f, "[smtp.example.com]:587", "root", "user", "password",
	    "example.com", "CRAM-MD5 PLAIN");
	assert_fmt(authinfo_format_value, &f, "\"U:root\" \"I:user\" "
	    "\"P=cGFzc3dvcmQ=\" \"R:example.com\" \"M:CRAM-MD5 PLAIN\"");
	assert_fmt(authinfo_format_line, &f, "AuthInfo:[smtp.example.com]:587"
	    "\t\"U:root\" \"I:user\" \"P:password\" \"R:example.com\" "
	    "\"M:CRAM-MD5 PLAIN\"");
	/* ids that cannot stand as they are go in base64, P too on export */
	fill(&f, "default", "a\"b", "c\\d", "p\"w", "\xc3\xa9", NULL);
	assert_fmt(authinfo_format_value, &f, "\"U=YSJi\" \"I=Y1xk\" "
	    "\"P=cCJ3\" \"R=w6k=\"");
	assert_fmt(authinfo_format_line, &f, "AuthInfo:\t\"U=YSJi\" "
	    "\"I=Y1xk\" \"P=cCJ3\" \"R=w6k=\"");
	fill(&f, "h", NULL, "u", "tab\there", NULL, NULL);
	assert_fmt(authinfo_format_line, &f, "AuthInfo:h\t\"I:u\" "
	    "\"P=dGFiCWhlcmU=\"");
	/* what sendmail would refuse is refused */
	fill(&f, "h", "u", NULL, NULL, NULL, NULL);
	assert_fmt(authinfo_format_value, &f, NULL);
	fill(&f, "h", NULL, NULL, "p", "r", NULL);
	assert_fmt(authinfo_format_value, &f, NULL);
	fill(&f, "h", "", "u", "p", NULL, NULL);
	assert_fmt(authinfo_format_value, &f, NULL);
	fill(&f, "h", "u", NULL, "p", NULL, "PL\"AIN");
	assert_fmt(authinfo_format_value, &f, NULL);
	/* a name that is not canonical would not read back */
	fill(&f, "H.example", "u", NULL, "p", NULL, NULL);
	assert_fmt(authinfo_format_line, &f, NULL);
	fill(&f, "", "u", NULL, "p", NULL, NULL);
	assert_fmt(authinfo_format_line, &f, NULL);
	secret_fields_clear(&f);
}

static const struct {
	const char *user, *pass;
} refused[] = {
	{ "u", "p\nw" }, { "u", "pw " }, { "u", "pw\r" }, { "u:v", "pw" },
	{ " u", "pw" }, { "u\nv", "pw" }, { "u", NULL }, { NULL, "pw" },
	{ "u", "" },
};

static void
test_format_sasl_passwd(void **state)
{
	struct secret_fields f;
	size_t k;

	(void)state;
	secret_fields_init(&f);
	fill(&f, "[smtp.example.com]:587", "root", "user", " pa:ss word",
	    NULL, NULL);
	assert_fmt(sasl_passwd_format_value, &f, "user: pa:ss word");
	assert_fmt(sasl_passwd_format_line, &f,
	    "[smtp.example.com]:587\tuser: pa:ss word");
	fill(&f, "h", "root", NULL, "pw", NULL, NULL);
	assert_fmt(sasl_passwd_format_value, &f, "root:pw");
	/* what postmap would split, trim or break (NULL: not set) */
	for (k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		fill(&f, "h", NULL, refused[k].user, refused[k].pass, NULL,
		    NULL);
		assert_fmt(sasl_passwd_format_value, &f, NULL);
	}
	fill(&f, "not canonical", NULL, "u", "pw", NULL, NULL);
	assert_fmt(sasl_passwd_format_line, &f, NULL);
	secret_fields_clear(&f);
}

/* The output bound holds: SK_ERR_LIMIT, never an overrun. */
static void
test_format_limit(void **state)
{
	struct secret_fields f;
	struct sbuf out;

	(void)state;
	secret_fields_init(&f);
	fill(&f, "h", "u", NULL, "password", NULL, NULL);
	sbuf_init(&out, 20);
	assert_int_equal(authinfo_format_line(&f, &out), SK_ERR_LIMIT);
	sbuf_free(&out);
	sbuf_init(&out, 5);
	assert_int_equal(sasl_passwd_format_line(&f, &out), SK_ERR_LIMIT);
	sbuf_free(&out);
	secret_fields_clear(&f);
}

/* Hard passwords: '"', spaces, ':', '\', UTF-8, a tab, a leading blank. */
static const char *const hard[] = {
	"pa\"ss", "two words", "a:b:c", "back\\", "\\\"",
	"\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
	"tab\tin", " lead", "#hash", "=eq", "P:x\" \"U:y", "x",
};

/* Formats f as a line of the format, parses it, and compares. */
static void
roundtrip(const struct secret_fields *f, int postfix)
{
	struct secret_fields g;
	struct sbuf out;
	char err[256];

	secret_fields_init(&g);
	sbuf_init(&out, SECRET_LINE_MAX);
	if (postfix) {
		assert_int_equal(sasl_passwd_format_line(f, &out), SK_OK);
		assert_int_equal(sasl_passwd_parse_line((char *)out.data,
		    out.len, &g, err, sizeof(err)), SK_OK);
	} else {
		assert_int_equal(authinfo_format_line(f, &out), SK_OK);
		assert_int_equal(authinfo_parse_line((char *)out.data, out.len,
		    &g, err, sizeof(err)), SK_OK);
	}
	assert_true(secret_fields_equal(f, &g));
	sbuf_free(&out);
	secret_fields_clear(&g);
}

static void
test_roundtrip(void **state)
{
	struct secret_fields f;
	size_t i;

	(void)state;
	secret_fields_init(&f);
	for (i = 0; i < sizeof(hard) / sizeof(hard[0]); i++) {
		fill(&f, "[ipv6:2001:db8::1]:587", "\xc3\xa9", "id \"q\"",
		    hard[i], "realm", "SCRAM-SHA-256 CRAM-MD5");
		roundtrip(&f, 0);
		fill(&f, "default", "u", NULL, hard[i], NULL, NULL);
		roundtrip(&f, 0);
		fill(&f, "smtp.example.com:587", NULL, "user@example.com",
		    hard[i], NULL, NULL);
		roundtrip(&f, 1);
	}
	secret_fields_clear(&f);
}

/* A whole exported file reads back through the reader, entry by entry. */
static void
test_roundtrip_file(void **state)
{
	struct secret_fields f[3], g;
	struct secret_reader rd;
	struct sbuf text;
	const char *line;
	char err[256];
	size_t i, len;
	int mode;

	(void)state;
	secret_fields_init(&g);
	for (i = 0; i < 3; i++)
		secret_fields_init(&f[i]);
	fill(&f[0], "a.example", NULL, "u1", hard[0], NULL, NULL);
	fill(&f[1], "[b.example]:25", NULL, "u2", hard[1], NULL, NULL);
	fill(&f[2], "192.0.2.1", NULL, "u3", hard[6], NULL, NULL);
	for (mode = 0; mode < 2; mode++) {
		sbuf_init(&text, 8192);
		assert_int_equal(sbuf_put_str(&text, "# exported\n"), SK_OK);
		for (i = 0; i < 3; i++) {
			assert_int_equal((mode ? sasl_passwd_format_line :
			    authinfo_format_line)(&f[i], &text), SK_OK);
			assert_int_equal(sbuf_put_str(&text, "\n\n"), SK_OK);
		}
		secret_reader_init(&rd, text.data, text.len, mode ?
		    SECRET_TEXT_POSTFIX : SECRET_TEXT_SENDMAIL);
		for (i = 0; i < 3; ) {
			assert_int_equal(secret_reader_next(&rd, &line, &len),
			    SK_OK);
			if ((mode ? sasl_passwd_parse_line :
			    authinfo_parse_line)(line, len, &g, err,
			    sizeof(err)) == SK_ERR_NOTFOUND)
				continue;
			assert_true(secret_fields_equal(&f[i], &g));
			i++;
		}
		secret_reader_free(&rd);
		sbuf_free(&text);
	}
	for (i = 0; i < 3; i++)
		secret_fields_clear(&f[i]);
	secret_fields_clear(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_authinfo),
		cmocka_unit_test(test_format_sasl_passwd),
		cmocka_unit_test(test_format_limit),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
