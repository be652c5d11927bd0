/*
 * fuzz_conf.c: libFuzzer target for the "key: value" configuration parser
 * (conf.c).
 *
 * Fuzzes conf_parse on the raw input. On success it walks the input again
 * with a small independent reading of the format (trim spaces, TABs and CRs,
 * skip blank and '#' lines, key chars up to ':') and looks every key up with
 * conf_get, then exercises conf_get_uint and applies a key table of every
 * type with conf_load_table; conf_free last.
 *
 * Asserts (abort() on violation):
 *  - conf_parse returns SK_OK with a configuration, or an error with none
 *    and a message;
 *  - every parsed key is found by conf_get, and its value is NUL-terminated,
 *    has no control character other than TAB (bytes below 0x20 and DEL, as conf.c
 *    defines them), no leading or trailing space, TAB or CR, and equals the
 *    text after the ':' of its line;
 *  - conf_get_uint on a parsed key succeeds only for a value of digits;
 *  - conf_load_table succeeds, with every field within its entry's bounds
 *    (a number in range, a switch 0 or 1, a mode at most 0777, a path
 *    absolute, empty or off), or fails with a message.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "fuzz.h"

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int
is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

static void
check_value(const struct conf *c, const char *key, const char *v, size_t vlen)
{
	const char *got = conf_get(c, key);
	char err[256];
	unsigned u;
	size_t i, n;
	int digits = vlen > 0;

	FUZZ_CHECK(got != NULL);
	n = strlen(got);
	FUZZ_CHECK(n == vlen && memcmp(got, v, n) == 0);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(((unsigned char)got[i] >= 0x20 && got[i] != 0x7f) ||
		    got[i] == '\t');
		if (got[i] < '0' || got[i] > '9')
			digits = 0;
	}
	FUZZ_CHECK(n == 0 || (!is_space(got[0]) && !is_space(got[n - 1])));
	if (conf_get_uint(c, key, 0, 4000000000u, 7, &u, err, sizeof(err)) ==
	    SK_OK)
		FUZZ_CHECK(digits);
}

/* Checks the key of line [p, end), if it has one. */
static void
check_line(const struct conf *c, const char *p, const char *end)
{
	const char *k, *kend;
	char key[CONF_LINE_MAX + 1];

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p == end || *p == '#')
		return;
	for (k = p; p < end && is_key_char(*p); p++)
		;
	kend = p;
	while (p < end && is_space(*p))
		p++;
	/* conf_parse succeeded, so every other line is a key line */
	FUZZ_CHECK(kend > k && p < end && *p == ':');
	for (p++; p < end && is_space(*p); p++)
		;
	FUZZ_CHECK((size_t)(kend - k) < sizeof(key));
	memcpy(key, k, (size_t)(kend - k));
	key[kend - k] = '\0';
	check_value(c, key, p, (size_t)(end - p));
}

struct fuzz_conf {
	const char *path, *off, *name;
	unsigned num;
	int on;
	mode_t mode;
};

#define F(f)	CONF_FIELD(struct fuzz_conf, f)

static const struct conf_key fuzz_keys[] = {
	{ "sasldb_path", CONF_PATH, F(path), 0, 0, "/etc/sasldb2", 0, NULL },
	{ "mux_socket", CONF_PATH, F(off), 0, 0, "/run/mux", CONF_EMPTY_OFF,
	    NULL },
	{ "mech_list", CONF_STR, F(name), 0, 0, "PLAIN", CONF_EMPTY_DEF, NULL },
	{ "workers", CONF_UINT, F(num), 1, 64, "4", 0, NULL },
	{ "debug", CONF_BOOL, F(on), 0, 0, "no", 0, NULL },
	{ "mode", CONF_MODE, F(mode), 0, 0777, "0660", 0, NULL },
};

/* Applies fuzz_keys: each field within its entry's bounds, or a message. */
static void
check_table(const struct conf *c)
{
	struct fuzz_conf f;
	char err[256];

	memset(&f, 0, sizeof(f));
	err[0] = '\0';
	if (conf_load_table(c, fuzz_keys, sizeof(fuzz_keys) /
	    sizeof(fuzz_keys[0]), &f, err, sizeof(err)) != SK_OK) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(f.path != NULL && (f.path[0] == '/' || f.path[0] == '\0'));
	FUZZ_CHECK(f.off == NULL || f.off[0] == '/');
	FUZZ_CHECK(f.name != NULL && f.name[0] != '\0');
	FUZZ_CHECK(f.num >= 1 && f.num <= 64);
	FUZZ_CHECK(f.on == 0 || f.on == 1);
	FUZZ_CHECK(f.mode <= 0777);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *p = buf, *end = buf + size, *nl;
	struct conf *c = (struct conf *)1;
	char err[256];
	int r;

	err[0] = '\0';
	r = conf_parse(buf, size, &c, err, sizeof(err));
	if (r != SK_OK) {
		FUZZ_CHECK(c == NULL && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(c != NULL);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line(c, p, nl);
		p = nl + (nl < end);
	}
	check_table(c);
	FUZZ_CHECK(conf_get(c, "") == NULL);
	conf_free(c);
	return 0;
}
