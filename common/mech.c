/*
 * mech.c: SASL mechanism names and lists (mech.h). Pure string work: it
 * never allocates, never logs, and never reads past the NUL or the length
 * it is given.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mech.h"

int
mech_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > MECH_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!isascii(c) || (!isalnum(c) && c != '-' && c != '_'))
			return 0;
	}
	return 1;
}

int
mech_is_plus(const char *mech)
{
	size_t n = strlen(mech), k = strlen(MECH_PLUS);

	return n > k && strcasecmp(mech + n - k, MECH_PLUS) == 0;
}

size_t
mech_list_next(const char **p, const char **name)
{
	size_t n;

	*p += strspn(*p, MECH_LIST_SEPS);
	n = strcspn(*p, MECH_LIST_SEPS);
	*name = *p;
	*p += n;
	return n;
}

int
mech_list_has(const char *list, const char *mech, size_t n, char *canon)
{
	const char *name;
	size_t len;

	if (n == 0 || n > MECH_NAME_MAX)
		return 0;
	while ((len = mech_list_next(&list, &name)) > 0) {
		if (len != n || strncasecmp(name, mech, n) != 0)
			continue;
		if (canon != NULL) {
			memcpy(canon, name, n);
			canon[n] = '\0';
		}
		return 1;
	}
	return 0;
}

/* Appends one upper-cased name to out at *o, a space before it if needed. */
static int
mech_list_put(const char *name, size_t n, char *out, size_t outsz, size_t *o)
{
	size_t i;

	if (*o + (*o > 0) + n + 1 > outsz)
		return -1;
	if (*o > 0)
		out[(*o)++] = ' ';
	for (i = 0; i < n; i++)
		out[(*o)++] = (char)toupper((unsigned char)name[i]);
	out[*o] = '\0';
	return 0;
}

/* 1 when c separates names; a NUL does too, so it ends any name. */
static int
mech_sep(char c)
{
	return strchr(MECH_LIST_SEPS, c) != NULL;
}

int
mech_list_norm(const char *in, size_t n, char *out, size_t outsz,
    const char **bad)
{
	const char *end = in + n, *name;
	size_t o = 0, len;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	for (;;) {
		while (in < end && *in != '\0' && mech_sep(*in))
			in++;
		if (in == end)
			return 0;
		for (name = in; in < end && !mech_sep(*in); in++)
			;
		len = (size_t)(in - name);
		if (!mech_name_ok(name, len) ||
		    (!mech_list_has(out, name, len, NULL) &&
		    mech_list_put(name, len, out, outsz, &o) == -1)) {
			if (bad != NULL)
				*bad = name;
			return -1;
		}
	}
}

int
mech_list_conf(const char *key, const char *v, char *out, size_t outsz,
    char *err, size_t errlen)
{
	if (mech_list_norm(v, strlen(v), out, outsz, NULL) == 0)
		return SK_OK;
	snprintf(err, errlen, "%s: \"%s\": want mechanism names (letters, "
	    "digits, - and _, at most %d each), separated by spaces, tabs, "
	    "commas or slashes", key, v, MECH_NAME_MAX);
	return SK_ERR_FORMAT;
}
