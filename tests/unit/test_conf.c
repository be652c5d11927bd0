/*
 * test_conf.c: unit tests of common/conf.c, the "key: value" parser:
 * comments, blank lines, trimming, duplicate keys, malformed lines with
 * their line numbers, control characters, length limits and loading from
 * a file. Typed values and key tables: test_conf_table.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"

static char err[512];

static int
parse(const char *s, struct conf **c)
{
	err[0] = '\0';
	return conf_parse(s, strlen(s), c, err, sizeof(err));
}

/* Parses s, which must fail with code want and a message containing msg. */
static void
parse_fails(const char *s, int want, const char *msg)
{
	struct conf *c = (struct conf *)1;

	assert_int_equal(parse(s, &c), want);
	assert_null(c);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, msg);
}

static void
test_basic(void **state)
{
	struct conf *c;

	(void)state;
	assert_int_equal(parse("pwcheck_method: auxprop\n"
	    "mech_list: PLAIN SCRAM-SHA-256\n", &c), SK_OK);
	assert_non_null(c);
	assert_string_equal(conf_get(c, "pwcheck_method"), "auxprop");
	assert_string_equal(conf_get(c, "mech_list"), "PLAIN SCRAM-SHA-256");
	assert_null(conf_get(c, "missing"));
	assert_null(conf_get(c, "mech_lis"));
	assert_null(conf_get(c, "Mech_list"));	/* keys are case-sensitive */
	conf_free(c);
}

/* Comments and blank (or whitespace-only) lines are ignored. */
static void
test_comments_blank(void **state)
{
	struct conf *c;

	(void)state;
	assert_int_equal(parse("# a comment: with a colon\n"
	    "\n"
	    "   \t \n"
	    "  # an indented comment\n"
	    "a: 1\n"
	    "\n"
	    "b: 2", &c), SK_OK);	/* no final newline */
	assert_string_equal(conf_get(c, "a"), "1");
	assert_string_equal(conf_get(c, "b"), "2");
	assert_null(conf_get(c, "#"));
	assert_null(conf_get(c, "# a comment"));
	conf_free(c);

	/* an empty or comment-only file is an empty configuration */
	assert_int_equal(parse("", &c), SK_OK);
	assert_null(conf_get(c, "a"));
	conf_free(c);
	assert_int_equal(parse("# nothing\n\n", &c), SK_OK);
	conf_free(c);
}

/* Whitespace around key, colon and value is trimmed; inner spaces stay. */
static void
test_trim(void **state)
{
	struct conf *c;

	(void)state;
	assert_int_equal(parse("  spaced  :   value with  spaces \t \n"
	    "tight:v\n"
	    "\tcrlf: yes\r\n"
	    "empty:\n"
	    "tab:\ta\tb\n", &c), SK_OK);
	assert_string_equal(conf_get(c, "spaced"), "value with  spaces");
	assert_string_equal(conf_get(c, "tight"), "v");
	assert_string_equal(conf_get(c, "crlf"), "yes");
	assert_string_equal(conf_get(c, "empty"), "");
	assert_string_equal(conf_get(c, "tab"), "a\tb");
	conf_free(c);

	/* the value may contain ':' */
	assert_int_equal(parse("url: ldap://host:389/\n", &c), SK_OK);
	assert_string_equal(conf_get(c, "url"), "ldap://host:389/");
	conf_free(c);
}

static void
test_duplicate(void **state)
{
	(void)state;
	parse_fails("a: 1\nb: 2\na: 3\n", SK_ERR_FORMAT, "line 3");
	parse_fails("a: 1\nb: 2\na: 3\n", SK_ERR_FORMAT, "\"a\"");
	/* the same key with different spacing is still a duplicate */
	parse_fails("key: 1\n  key :2\n", SK_ERR_FORMAT, "line 2");
}

/* A line without a colon, or without a key, names its line. */
static void
test_missing_colon(void **state)
{
	(void)state;
	parse_fails("a: 1\n# c\n\nnocolon here\n", SK_ERR_FORMAT, "line 4");
	parse_fails("a: 1\nb = 2\n", SK_ERR_FORMAT, "line 2");
	parse_fails(": value\n", SK_ERR_FORMAT, "line 1");
	parse_fails("key\n", SK_ERR_FORMAT, "line 1");
	/* a key with characters outside [A-Za-z0-9_.-] */
	parse_fails("bad key: 1\n", SK_ERR_FORMAT, "line 1");
	parse_fails("a: 1\nk\xc3\xa9y: 1\n", SK_ERR_FORMAT, "line 2");
	parse_fails("a/b: 1\n", SK_ERR_FORMAT, "line 1");
}

/* Control characters in a value (other than TAB) and NUL bytes are refused. */
static void
test_control_chars(void **state)
{
	struct conf *c = NULL;

	(void)state;
	parse_fails("a: 1\nb: x\x01y\n", SK_ERR_FORMAT, "line 2");
	parse_fails("b: x\ry\n", SK_ERR_FORMAT, "control");
	parse_fails("b: \x1b[31m\n", SK_ERR_FORMAT, "control");
	parse_fails("b: a\x7f" "b\n", SK_ERR_FORMAT, "control");
	/* a control character in the key is a malformed line */
	parse_fails("k\x01: v\n", SK_ERR_FORMAT, "line 1");
	/* NUL counted in the length */
	assert_int_equal(conf_parse("a: x\0y\n", 7, &c, err, sizeof(err)),
	    SK_ERR_FORMAT);
	assert_null(c);
	assert_non_null(strstr(err, "NUL"));
}

/* Lines of CONF_LINE_MAX bytes are fine; one more byte is SK_ERR_LIMIT. */
static void
test_long_line(void **state)
{
	size_t vlen = CONF_LINE_MAX - 3;	/* "k: " + value */
	char *buf = malloc(CONF_LINE_MAX + 16);
	struct conf *c;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, "k: ", 3);
	memset(buf + 3, 'v', vlen);
	buf[3 + vlen] = '\n';
	buf[4 + vlen] = '\0';
	assert_int_equal(parse(buf, &c), SK_OK);
	assert_int_equal(strlen(conf_get(c, "k")), vlen);
	conf_free(c);

	memcpy(buf, "a: 1\nk: ", 8);
	memset(buf + 8, 'v', vlen + 1);
	buf[8 + vlen + 1] = '\n';
	buf[8 + vlen + 2] = '\0';
	parse_fails(buf, SK_ERR_LIMIT, "line 2");
	free(buf);
}

/* A file larger than CONF_FILE_MAX is refused before parsing. */
static void
test_file_max(void **state)
{
	char *buf = malloc(CONF_FILE_MAX + 2);
	struct conf *c = NULL;

	(void)state;
	assert_non_null(buf);
	memset(buf, '\n', CONF_FILE_MAX + 1);
	assert_int_equal(conf_parse(buf, CONF_FILE_MAX, &c, err, sizeof(err)),
	    SK_OK);
	conf_free(c);
	assert_int_equal(conf_parse(buf, CONF_FILE_MAX + 1, &c, err,
	    sizeof(err)), SK_ERR_LIMIT);
	assert_null(c);
	free(buf);
}

/* More than CONF_KEYS_MAX distinct keys is SK_ERR_LIMIT. */
static void
test_too_many_keys(void **state)
{
	char *buf = malloc((CONF_KEYS_MAX + 1) * 16);
	struct conf *c;
	size_t o = 0;
	int i;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < CONF_KEYS_MAX; i++)
		o += (size_t)sprintf(buf + o, "k%d: %d\n", i, i);
	assert_int_equal(parse(buf, &c), SK_OK);
	assert_string_equal(conf_get(c, "k127"), "127");
	conf_free(c);
	sprintf(buf + o, "extra: 1\n");
	parse_fails(buf, SK_ERR_LIMIT, "line 129");
	free(buf);
}

static char tmpdir[32];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sk_conf.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char path[64];

	(void)state;
	snprintf(path, sizeof(path), "%s/sasl.conf", tmpdir);
	(void)unlink(path);
	return rmdir(tmpdir);
}

/* conf_load reads a file, prefixes errors with its path, and reports absence. */
static void
test_load(void **state)
{
	char path[64];
	struct conf *c;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/sasl.conf", tmpdir);
	errno = 0;
	assert_int_equal(conf_load(path, &c, err, sizeof(err)),
	    SK_ERR_NOTFOUND);
	/* errno kept, for the caller's message that names the key */
	assert_int_equal(errno, ENOENT);
	assert_null(c);
	assert_non_null(strstr(err, path));
	/* a directory opens, but does not read: SK_ERR_IO, errno EISDIR */
	errno = 0;
	assert_int_equal(conf_load(tmpdir, &c, err, sizeof(err)), SK_ERR_IO);
	assert_int_equal(errno, EISDIR);
	assert_null(c);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# saslkit\nsasldb_path: /etc/sasldb2\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), SK_OK);
	assert_string_equal(conf_get(c, "sasldb_path"), "/etc/sasldb2");
	conf_free(c);

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("a: 1\nbroken\n", fp);
	fclose(fp);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), SK_ERR_FORMAT);
	assert_null(c);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 2"));

	/* a file over CONF_FILE_MAX */
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i <= CONF_FILE_MAX; i++)
		fputc('\n', fp);
	fclose(fp);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), SK_ERR_LIMIT);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_comments_blank),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_missing_colon),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_file_max),
		cmocka_unit_test(test_too_many_keys),
		cmocka_unit_test_setup_teardown(test_load, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
