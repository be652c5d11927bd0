/*
 * test_conf_table.c: unit tests of common/conf_table.c: typed values
 * (numbers, switches) and conf_load_table, which applies a key table:
 * every type, defaults, empty values, unknown keys, relative paths, the
 * custom parsers and an entry that does not fit its field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

static char err[512];

static int
parse(const char *s, struct conf **c)
{
	err[0] = '\0';
	return conf_parse(s, strlen(s), c, err, sizeof(err));
}

/* yes, no, unset (the default), and anything else refused by name */
static void
test_get_bool(void **state)
{
	struct conf *c;
	int v;

	(void)state;
	assert_int_equal(parse("y: yes\nn: no\nbad: Yes\nnum: 1\n", &c), SK_OK);
	assert_int_equal(conf_get_bool(c, "y", 0, &v, err, sizeof(err)), SK_OK);
	assert_int_equal(v, 1);
	assert_int_equal(conf_get_bool(c, "n", 1, &v, err, sizeof(err)), SK_OK);
	assert_int_equal(v, 0);
	assert_int_equal(conf_get_bool(c, "unset", 1, &v, err, sizeof(err)),
	    SK_OK);
	assert_int_equal(v, 1);
	v = 7;
	assert_int_equal(conf_get_bool(c, "bad", 0, &v, err, sizeof(err)),
	    SK_ERR_FORMAT);
	assert_non_null(strstr(err, "bad: \"Yes\" is neither yes nor no"));
	assert_int_equal(v, 7);
	assert_int_equal(conf_get_bool(c, "num", 0, &v, err, sizeof(err)),
	    SK_ERR_FORMAT);
	conf_free(c);
}

static void
test_get_uint(void **state)
{
	struct conf *c;
	unsigned v;

	(void)state;
	assert_int_equal(parse("n: 4096\nlow: 0\nneg: -1\nplus: +5\n"
	    "junk: 12abc\nempty:\nhuge: 99999999999999999999999\n"
	    "max: 4294967295\nover: 4294967296\nhex: 0x10\n", &c), SK_OK);
	assert_int_equal(conf_get_uint(c, "n", 1, 10000, 7, &v, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(v, 4096);
	/* unset: the default */
	v = 0;
	assert_int_equal(conf_get_uint(c, "unset", 1, 10, 7, &v, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(v, 7);
	/* bounds are inclusive */
	assert_int_equal(conf_get_uint(c, "n", 4096, 4096, 1, &v, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(conf_get_uint(c, "n", 4097, 5000, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "n:"));
	assert_int_equal(conf_get_uint(c, "n", 1, 4095, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "low", 1, 10, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "low", 0, 10, 1, &v, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(v, 0);
	assert_int_equal(conf_get_uint(c, "max", 0, 4294967295u, 1, &v, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(v, 4294967295u);
	/* not numbers, or out of range */
	v = 123;
	assert_int_equal(conf_get_uint(c, "neg", 0, 4294967295u, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "plus", 0, 10, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "junk", 0, 100, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "empty", 0, 100, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "huge", 0, 4294967295u, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "over", 0, 4294967295u, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(conf_get_uint(c, "hex", 0, 100, 1, &v, err,
	    sizeof(err)), SK_ERR_FORMAT);
	assert_int_equal(v, 123);	/* untouched on error */
	conf_free(c);
}

struct demo {
	const char *name, *path, *off, *dflt, *none;
	unsigned num, unset;
	int on;
	mode_t mode;
	char list[16];
	const char *seen;	/* what the custom parser was given */
};

/* A custom entry: records its value (or default) and copies it. */
static int
demo_list(const struct conf_key *k, const char *v, void *out, char *e,
    size_t elen)
{
	struct demo *d = out;

	d->seen = v;
	if (v != NULL && strlen(v) >= k->size) {
		snprintf(e, elen, "%s: too long", k->name);
		return SK_ERR_LIMIT;
	}
	snprintf((char *)out + k->offset, k->size, "%s", v != NULL ? v : "-");
	return SK_OK;
}

#define F(f)	CONF_FIELD(struct demo, f)

static const struct conf_key demo_keys[] = {
	{ "name", CONF_STR, F(name), 0, 0, "anon", 0, NULL },
	{ "path", CONF_PATH, F(path), 0, 0, "/def/path", 0, NULL },
	{ "off", CONF_PATH, F(off), 0, 0, "/run/x", CONF_EMPTY_OFF, NULL },
	{ "dflt", CONF_STR, F(dflt), 0, 0, "d", CONF_EMPTY_DEF, NULL },
	{ "none", CONF_PATH, F(none), 0, 0, NULL, CONF_EMPTY_DEF, NULL },
	{ "num", CONF_UINT, F(num), 1, 100, "30", 0, NULL },
	{ "unset", CONF_UINT, F(unset), 1, 100, NULL, 0, NULL },
	{ "on", CONF_BOOL, F(on), 0, 0, "yes", 0, NULL },
	{ "mode", CONF_MODE, F(mode), 0, 0777, "0660", 0, NULL },
	{ "list", CONF_CUSTOM, F(list), 0, 0, NULL, 0, demo_list },
};
#define NDEMO	(sizeof(demo_keys) / sizeof(demo_keys[0]))

/* Parses text and applies demo_keys to d, which starts with sentinels. */
static int
load_demo(const char *text, struct demo *d, struct conf **c)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->unset = 77;
	d->seen = "untouched";
	assert_int_equal(parse(text, c), SK_OK);
	err[0] = '\0';
	r = conf_load_table(*c, demo_keys, NDEMO, d, err, sizeof(err));
	if (r != SK_OK)
		assert_true(err[0] != '\0');
	return r;
}

/* Unset keys take their defaults, written as values; none: untouched. */
static void
test_table_defaults(void **state)
{
	struct conf *c;
	struct demo d;

	(void)state;
	assert_int_equal(load_demo("", &d, &c), SK_OK);
	assert_string_equal(d.name, "anon");
	assert_string_equal(d.path, "/def/path");
	assert_string_equal(d.off, "/run/x");
	assert_string_equal(d.dflt, "d");
	assert_null(d.none);
	assert_int_equal(d.num, 30);
	assert_int_equal(d.unset, 77);
	assert_int_equal(d.on, 1);
	assert_int_equal(d.mode, 0660);
	assert_null(d.seen);		/* no value and no default */
	assert_string_equal(d.list, "-");
	conf_free(c);
}

/* Set keys, and what an empty value means for each string flag. */
static void
test_table_values(void **state)
{
	struct conf *c;
	struct demo d;

	(void)state;
	assert_int_equal(load_demo("name: bob\npath: /p\noff: /o\ndflt: x\n"
	    "none: /n\nnum: 100\nunset: 1\non: no\nmode: 0700\nlist: abc\n",
	    &d, &c), SK_OK);
	assert_string_equal(d.name, "bob");
	assert_string_equal(d.path, "/p");
	assert_string_equal(d.off, "/o");
	assert_string_equal(d.dflt, "x");
	assert_string_equal(d.none, "/n");
	assert_int_equal(d.num, 100);
	assert_int_equal(d.unset, 1);
	assert_int_equal(d.on, 0);
	assert_int_equal(d.mode, 0700);
	assert_string_equal(d.seen, "abc");
	assert_string_equal(d.list, "abc");
	conf_free(c);
	assert_int_equal(load_demo("name:\npath:\noff:\ndflt:\nnone:\nlist:\n",
	    &d, &c), SK_OK);
	assert_string_equal(d.name, "");	/* kept */
	assert_string_equal(d.path, "");
	assert_null(d.off);			/* CONF_EMPTY_OFF */
	assert_string_equal(d.dflt, "d");	/* CONF_EMPTY_DEF */
	assert_null(d.none);
	assert_string_equal(d.seen, "");	/* given as written */
	conf_free(c);
}

/* Loads text, which must fail with code want and a message holding msg. */
static void
demo_fails(const char *text, int want, const char *msg)
{
	struct conf *c;
	struct demo d;

	assert_int_equal(load_demo(text, &d, &c), want);
	if (strstr(err, msg) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, msg);
	conf_free(c);
}

/* Each refusal names the key, in the wording the daemons have always had. */
static void
test_table_refusals(void **state)
{
	(void)state;
	demo_fails("name: a\nnmae: b\n", SK_ERR_FORMAT, "unknown key \"nmae\"");
	demo_fails("path: run/a.pid\n", SK_ERR_FORMAT, "path run/a.pid: not an "
	    "absolute path; give the whole path (the daemon runs from /)");
	demo_fails("off: x\n", SK_ERR_FORMAT, "off x: not an absolute path");
	/* a string key may be relative */
	demo_fails("name: rel\nnum: 0\n", SK_ERR_FORMAT,
	    "num: \"0\" is not a number from 1 to 100");
	demo_fails("num: 101\n", SK_ERR_FORMAT, "from 1 to 100");
	demo_fails("num: +5\n", SK_ERR_FORMAT, "num: \"+5\"");
	demo_fails("num:\n", SK_ERR_FORMAT, "num: \"\"");
	demo_fails("on: Yes\n", SK_ERR_FORMAT,
	    "on: \"Yes\" is neither yes nor no");
	demo_fails("mode: 0778\n", SK_ERR_FORMAT,
	    "mode: \"0778\" is not an octal mode such as 0660");
	demo_fails("mode: 1000\n", SK_ERR_FORMAT, "mode: \"1000\"");
	demo_fails("mode:\n", SK_ERR_FORMAT, "mode: \"\"");
	demo_fails("list: 0123456789abcdef\n", SK_ERR_LIMIT, "list: too long");
	/* unknown keys first, then relative paths, then values */
	demo_fails("num: 0\npath: rel\nzzz: 1\n", SK_ERR_FORMAT, "\"zzz\"");
	demo_fails("num: 0\npath: rel\n", SK_ERR_FORMAT, "path rel");
}

/* An entry whose size does not fit its type is refused, not written. */
static void
test_table_bad_entry(void **state)
{
	static const struct conf_key bad[] = {
		/* a field of 1 byte, for an unsigned */
		{ "num", CONF_UINT, offsetof(struct demo, list), 1, 0, 10, "1",
		    0, NULL },
	};
	static const struct conf_key nofn[] = {
		{ "list", CONF_CUSTOM, F(list), 0, 0, NULL, 0, NULL },
	};
	struct conf *c;
	struct demo d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(parse("", &c), SK_OK);
	assert_int_equal(conf_load_table(c, bad, 1, &d, err, sizeof(err)),
	    SK_ERR_INVAL);
	assert_non_null(strstr(err, "num: table entry"));
	assert_int_equal(d.list[0], 0);
	assert_int_equal(conf_load_table(c, nofn, 1, &d, err, sizeof(err)),
	    SK_ERR_INVAL);
	assert_non_null(strstr(err, "list: table entry"));
	conf_free(c);
}

/* conf_check_keys alone, on an empty configuration and an empty table. */
static void
test_check_keys(void **state)
{
	struct conf *c;

	(void)state;
	assert_int_equal(parse("num: 1\npath: /x\n", &c), SK_OK);
	assert_int_equal(conf_check_keys(c, demo_keys, NDEMO, err,
	    sizeof(err)), SK_OK);
	assert_int_equal(conf_check_keys(c, demo_keys, 0, err, sizeof(err)),
	    SK_ERR_FORMAT);
	conf_free(c);
	c = conf_empty();
	assert_non_null(c);
	assert_int_equal(conf_check_keys(c, demo_keys, 0, err, sizeof(err)),
	    SK_OK);
	conf_free(c);
	conf_free(NULL);
	assert_string_equal(conf_type_name(CONF_PATH), "path");
	assert_string_equal(conf_type_name(CONF_CUSTOM), "custom");
	assert_string_equal(conf_type_name((enum conf_type)99), "?");
}

/* A reload names the changed CONF_RESTART keys, each once, and no other. */
static void
test_restart_changes(void **state)
{
	static const struct conf_key keys[] = {
		{ "a", CONF_STR, 0, 0, 0, 0, NULL, CONF_RESTART, NULL },
		{ "b", CONF_STR, 0, 0, 0, 0, NULL, 0, NULL },
		{ "c", CONF_STR, 0, 0, 0, 0, NULL, CONF_RESTART, NULL },
		{ "d", CONF_STR, 0, 0, 0, 0, NULL, CONF_RESTART, NULL },
		{ "e", CONF_STR, 0, 0, 0, 0, NULL, CONF_RESTART, NULL },
	};
	struct conf *old, *new;
	size_t pos = 0;

	(void)state;
	assert_int_equal(parse("a: 1\nb: 1\nc: 1\nd: 1\n", &old), SK_OK);
	/* a changed, b changed but live, c same, d unset now, e set now */
	assert_int_equal(parse("a: 2\nb: 2\nc: 1\ne: 1\n", &new), SK_OK);
	assert_string_equal(conf_next_restart_change(old, new, keys, 5, &pos),
	    "a");
	assert_string_equal(conf_next_restart_change(old, new, keys, 5, &pos),
	    "d");
	assert_string_equal(conf_next_restart_change(old, new, keys, 5, &pos),
	    "e");
	assert_null(conf_next_restart_change(old, new, keys, 5, &pos));
	assert_null(conf_next_restart_change(old, new, keys, 5, &pos));
	pos = 0;
	assert_null(conf_next_restart_change(old, old, keys, 5, &pos));
	conf_free(old);
	conf_free(new);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_get_uint),
		cmocka_unit_test(test_table_defaults),
		cmocka_unit_test(test_table_values),
		cmocka_unit_test(test_table_refusals),
		cmocka_unit_test(test_table_bad_entry),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_restart_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
