/*
 * fuzz_conf.c: libFuzzer target for the "key: value" configuration parser
 * (conf.c).
 *
 * Fuzzes conf_parse on the raw input. On success it walks the input again
 * with a small independent reading of the format (trim spaces, TABs and CRs,
 * skip blank and '#' lines, key chars up to ':') and looks every key up with
 * conf_get, then exercises conf_get_uint and conf_check_keys; conf_free last.
 *
 * Asserts (abort() on violation):
 *  - conf_parse returns SK_OK with a configuration, or an error with none
 *    and a message;
 *  - every parsed key is found by conf_get, and its value is NUL-terminated,
 *    has no control character other than TAB (bytes below 0x20 and DEL, as conf.c
 *    defines them), no leading or trailing space, TAB or CR, and equals the
 *    text after the ':' of its line;
 *  - conf_get_uint on a parsed key succeeds only for a value of digits.
 */
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "sasldb_path", "mech_list",
	    "log_level", NULL };
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
	(void)conf_check_keys(c, known, err, sizeof(err));
	FUZZ_CHECK(conf_get(c, "") == NULL);
	conf_free(c);
	return 0;
}
