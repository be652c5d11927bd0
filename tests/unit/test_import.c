/*
 * test_import.c: unit tests of common/import.c: every action of the batch
 * import format, skipped lines, CRLF, passwords with TABs, the errors (which
 * must never quote a password), and the bounded line reader.
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
#include "import.h"
#include "scram.h"

static char err[256];
static char v1[SCRAM_VERIFIER_MAX], v256[SCRAM_VERIFIER_MAX];

/* Makes one valid verifier of each kind, for the verifiers action. */
static int
setup_verifiers(void **state)
{
	struct scram_verifier v;

	(void)state;
	if (scram_make(SCRAM_SHA1, "pw", 2, 2, &v) != SK_OK ||
	    scram_format(&v, v1, sizeof(v1)) != SK_OK ||
	    scram_make(SCRAM_SHA256, "pw", 2, 2, &v) != SK_OK ||
	    scram_format(&v, v256, sizeof(v256)) != SK_OK)
		return -1;
	scram_clear(&v);
	return 0;
}

static int
parse(const char *line, struct import_record *rec)
{
	err[0] = '\0';
	return import_parse_line(line, strlen(line), rec, err, sizeof(err));
}

/* The line must fail with SK_ERR_FORMAT, a message containing msg, and no secret. */
static void
parse_fails(const char *line, const char *msg, const char *secret)
{
	struct import_record rec;

	import_record_init(&rec);
	assert_int_equal(parse(line, &rec), SK_ERR_FORMAT);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, msg);
	if (secret != NULL && strstr(err, secret) != NULL)
		fail_msg("error \"%s\" quotes the secret", err);
	import_record_clear(&rec);
}

static void
test_password(void **state)
{
	struct import_record rec;

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse("alice@example.org\tpassword\ts3cret", &rec),
	    SK_OK);
	assert_int_equal(rec.action, IMPORT_PASSWORD);
	assert_string_equal(rec.user, "alice@example.org");
	assert_int_equal(rec.password.len, 6);
	assert_string_equal((char *)rec.password.data, "s3cret");
	import_record_clear(&rec);
	assert_int_equal(rec.password.len, 0);
	assert_null(rec.password.data);
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_string_equal(rec.user, "");
}

static void
test_plaintext(void **state)
{
	struct import_record rec;

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse("bob\tplaintext\tp w d ", &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_PLAINTEXT);
	assert_string_equal(rec.user, "bob");
	/* spaces are part of the password, even at the end */
	assert_string_equal((char *)rec.password.data, "p w d ");
	import_record_clear(&rec);
}

/* The password is the rest of the line, TABs included. */
static void
test_password_tab(void **state)
{
	struct import_record rec;

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse("carol\tpassword\ta\tb\t\tc", &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_PASSWORD);
	assert_string_equal(rec.user, "carol");
	assert_int_equal(rec.password.len, 6);
	assert_memory_equal(rec.password.data, "a\tb\t\tc", 7);
	/* a password that is only a TAB */
	assert_int_equal(parse("carol\tpassword\t\t", &rec), SK_OK);
	assert_string_equal((char *)rec.password.data, "\t");
	import_record_clear(&rec);
}

static void
test_verifiers(void **state)
{
	struct import_record rec;
	char line[1024];

	(void)state;
	import_record_init(&rec);
	snprintf(line, sizeof(line), "dave@r\tverifiers\t%s\t%s", v1, v256);
	assert_int_equal(parse(line, &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_VERIFIERS);
	assert_string_equal(rec.user, "dave@r");
	assert_string_equal(rec.scram1, v1);
	assert_string_equal(rec.scram256, v256);
	assert_int_equal(rec.password.len, 0);
	import_record_clear(&rec);
	assert_string_equal(rec.scram1, "");
	assert_string_equal(rec.scram256, "");
}

/* SHA-256 first and SHA-1 second, or two of one kind, is malformed. */
static void
test_verifiers_bad(void **state)
{
	char line[1024];

	(void)state;
	snprintf(line, sizeof(line), "dave\tverifiers\t%s\t%s", v256, v1);
	parse_fails(line, "verifier", NULL);
	snprintf(line, sizeof(line), "dave\tverifiers\t%s\t%s", v1, v1);
	parse_fails(line, "verifier", NULL);
	snprintf(line, sizeof(line), "dave\tverifiers\t%s\t%s", v256, v256);
	parse_fails(line, "verifier", NULL);
	/* one field only, or an empty second one */
	snprintf(line, sizeof(line), "dave\tverifiers\t%s", v1);
	parse_fails(line, "two fields", NULL);
	parse_fails("dave\tverifiers", "two fields", NULL);
	snprintf(line, sizeof(line), "dave\tverifiers\t%s\t", v1);
	parse_fails(line, "verifier", NULL);
	/* a third field */
	snprintf(line, sizeof(line), "dave\tverifiers\t%s\t%s\tx", v1, v256);
	parse_fails(line, "verifier", NULL);
	/* garbage */
	parse_fails("dave\tverifiers\tabc\tdef", "verifier", NULL);
}

static void
test_delete(void **state)
{
	struct import_record rec;

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse("eve@realm\tdelete", &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_DELETE);
	assert_string_equal(rec.user, "eve@realm");
	assert_int_equal(parse("eve\tdelete\r", &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_DELETE);
	import_record_clear(&rec);
	parse_fails("eve\tdelete\tnow", "no argument", NULL);
	parse_fails("eve\tdelete\t", "no argument", NULL);
}

/* Blank lines and '#' comments are IMPORT_SKIP. */
static void
test_skip(void **state)
{
	static const char *lines[] = { "", "\r", "# comment",
	    "#alice\tpassword\tx", "#" };
	struct import_record rec;
	size_t i;

	(void)state;
	import_record_init(&rec);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		rec.action = IMPORT_DELETE;
		assert_int_equal(parse(lines[i], &rec), SK_OK);
		assert_int_equal(rec.action, IMPORT_SKIP);
	}
	/* a parse that skips also clears the previous record */
	assert_int_equal(parse("u\tpassword\tsecret", &rec), SK_OK);
	assert_int_equal(parse("# next", &rec), SK_OK);
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_int_equal(rec.password.len, 0);
	assert_string_equal(rec.user, "");
	import_record_clear(&rec);
}

/* One CR before the (removed) LF is dropped, and only one. */
static void
test_crlf(void **state)
{
	struct import_record rec;

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse("frank\tpassword\tpw\r", &rec), SK_OK);
	assert_string_equal((char *)rec.password.data, "pw");
	assert_int_equal(rec.password.len, 2);
	assert_int_equal(parse("frank\tpassword\tpw\r\r", &rec), SK_OK);
	assert_int_equal(rec.password.len, 3);
	assert_memory_equal(rec.password.data, "pw\r", 3);
	/* CR inside the password stays */
	assert_int_equal(parse("frank\tplaintext\ta\rb\r", &rec), SK_OK);
	assert_memory_equal(rec.password.data, "a\rb", 4);
	import_record_clear(&rec);
	/* a CR that leaves the password empty */
	parse_fails("frank\tpassword\t\r", "empty password", NULL);
}

static void
test_empty_password(void **state)
{
	(void)state;
	parse_fails("u\tpassword\t", "empty password", NULL);
	parse_fails("u\tpassword", "empty password", NULL);
	parse_fails("u\tplaintext\t", "empty password", NULL);
	parse_fails("u\tplaintext", "empty password", NULL);
}

/* Passwords of up to SASLDB_PASS_MAX bytes; longer is refused, unquoted. */
static void
test_password_max(void **state)
{
	struct import_record rec;
	char line[2 * SASLDB_PASS_MAX];
	size_t n;

	(void)state;
	n = (size_t)sprintf(line, "u\tpassword\t");
	memset(line + n, 'P', SASLDB_PASS_MAX);
	line[n + SASLDB_PASS_MAX] = '\0';
	import_record_init(&rec);
	assert_int_equal(parse(line, &rec), SK_OK);
	assert_int_equal(rec.password.len, SASLDB_PASS_MAX);
	assert_int_equal(rec.password.data[SASLDB_PASS_MAX], '\0');
	import_record_clear(&rec);
	line[n + SASLDB_PASS_MAX] = 'P';
	line[n + SASLDB_PASS_MAX + 1] = '\0';
	parse_fails(line, "too long", "PPPP");
	line[n + SASLDB_PASS_MAX + 100] = '\0';
	memset(line + n, 'P', SASLDB_PASS_MAX + 100);
	parse_fails(line, "too long", "PPPP");
}

static void
test_unknown_action(void **state)
{
	(void)state;
	parse_fails("u\tpasswd\tsecretpw", "unknown action", "secretpw");
	parse_fails("u\tPASSWORD\tsecretpw", "unknown action", "secretpw");
	parse_fails("u\tpasswordx\tsecretpw", "unknown action", "secretpw");
	parse_fails("u\tdeletes", "unknown action", NULL);
	parse_fails("u\t", "unknown action", NULL);
	parse_fails("u\t\tpassword\tx", "unknown action", NULL);
}

/* The user field: present, printable, bounded; a TAB must follow it. */
static void
test_bad_user(void **state)
{
	char line[1024];

	(void)state;
	parse_fails("no tab here", "TAB", NULL);
	parse_fails("\tpassword\tx", "user", NULL);
	parse_fails("a\x01" "b\tdelete", "user", NULL);
	parse_fails("a\x7f\tdelete", "user", NULL);
	memset(line, 'u', 600);
	memcpy(line + 600, "\tdelete", 8);
	parse_fails(line, "user", NULL);
	/* NUL counted in the length */
	{
		struct import_record rec;

		import_record_init(&rec);
		assert_int_equal(import_parse_line("u\tpassword\ta\0b", 14, &rec,
		    err, sizeof(err)), SK_ERR_FORMAT);
		assert_non_null(strstr(err, "NUL"));
		import_record_clear(&rec);
	}
}

/* Reads lines in turn: LF removed, CR kept for the parser, last line unterminated. */
static void
test_read_lines(void **state)
{
	static char text[] = "first\nsecond\r\n\nlast";
	struct sbuf line;
	FILE *fp;

	(void)state;
	fp = fmemopen(text, strlen(text), "r");
	assert_non_null(fp);
	sbuf_init(&line, IMPORT_LINE_MAX);
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_string_equal((char *)line.data, "first");
	assert_int_equal(line.len, 5);
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_string_equal((char *)line.data, "second\r");
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_int_equal(line.len, 0);
	assert_string_equal((char *)line.data, "");
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_string_equal((char *)line.data, "last");
	assert_int_equal(import_read_line(fp, &line), SK_ERR_NOTFOUND);
	assert_int_equal(import_read_line(fp, &line), SK_ERR_NOTFOUND);
	fclose(fp);
	sbuf_free(&line);
}

/* A line over IMPORT_LINE_MAX is SK_ERR_LIMIT; the next line still reads. */
static void
test_read_long_line(void **state)
{
	size_t n = IMPORT_LINE_MAX + 1000, o;
	char *text = malloc(3 * IMPORT_LINE_MAX + 2000);
	struct sbuf line;
	FILE *fp;

	(void)state;
	assert_non_null(text);
	memset(text, 'a', n);
	o = n;
	o += (size_t)sprintf(text + o, "\nnext\tdelete\n");
	memset(text + o, 'b', IMPORT_LINE_MAX);	/* exactly at the limit */
	o += IMPORT_LINE_MAX;
	text[o++] = '\n';
	memset(text + o, 'c', IMPORT_LINE_MAX + 1);	/* one over, at EOF */
	o += IMPORT_LINE_MAX + 1;
	fp = fmemopen(text, o, "r");
	assert_non_null(fp);
	sbuf_init(&line, IMPORT_LINE_MAX);
	assert_int_equal(import_read_line(fp, &line), SK_ERR_LIMIT);
	assert_true(line.len <= IMPORT_LINE_MAX);
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_string_equal((char *)line.data, "next\tdelete");
	assert_int_equal(import_read_line(fp, &line), SK_OK);
	assert_int_equal(line.len, IMPORT_LINE_MAX);
	assert_int_equal(line.data[IMPORT_LINE_MAX], '\0');
	assert_int_equal(import_read_line(fp, &line), SK_ERR_LIMIT);
	assert_int_equal(import_read_line(fp, &line), SK_ERR_NOTFOUND);
	fclose(fp);
	sbuf_free(&line);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_plaintext),
		cmocka_unit_test(test_password_tab),
		cmocka_unit_test(test_verifiers),
		cmocka_unit_test(test_verifiers_bad),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_empty_password),
		cmocka_unit_test(test_password_max),
		cmocka_unit_test(test_unknown_action),
		cmocka_unit_test(test_bad_user),
		cmocka_unit_test(test_read_lines),
		cmocka_unit_test(test_read_long_line),
	};

	return cmocka_run_group_tests(tests, setup_verifiers, NULL);
}
