/*
 * conf_table.c: typed values of a parsed configuration (numbers, switches,
 * modes, paths), and conf_load_table, which applies a daemon's table of
 * keys to its configuration structure. Messages name the key and quote
 * the value as written; never exits or logs.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

/* A decimal number from min to max: digits only, no sign, no prefix. */
static int
conf_uint_value(const char *key, const char *v, long long min, long long max,
    unsigned *out, char *err, size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 ||
	    n < (unsigned long)min || n > (unsigned long)max) {
		snprintf(err, errlen, "%s: \"%s\" is not a number from %lld to "
		    "%lld", key, v, min, max);
		return SK_ERR_FORMAT;
	}
	*out = (unsigned)n;
	return SK_OK;
}

static int
conf_bool_value(const char *key, const char *v, int *out, char *err,
    size_t errlen)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else {
		snprintf(err, errlen, "%s: \"%s\" is neither yes nor no", key,
		    v);
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

/* An octal mode such as 0660, at most max. */
static int
conf_mode_value(const char *key, const char *v, long long max, mode_t *out,
    char *err, size_t errlen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 ||
	    n > (unsigned long)max) {
		snprintf(err, errlen, "%s: \"%s\" is not an octal mode such as "
		    "0660", key, v);
		return SK_ERR_FORMAT;
	}
	*out = (mode_t)n;
	return SK_OK;
}

int
conf_get_uint(const struct conf *c, const char *key, unsigned min,
    unsigned max, unsigned def, unsigned *out, char *err, size_t errlen)
{
	const char *v = conf_get(c, key);

	if (v == NULL) {
		*out = def;
		return SK_OK;
	}
	return conf_uint_value(key, v, min, max, out, err, errlen);
}

int
conf_get_bool(const struct conf *c, const char *key, int def, int *out,
    char *err, size_t errlen)
{
	const char *v = conf_get(c, key);

	if (v == NULL) {
		*out = def;
		return SK_OK;
	}
	return conf_bool_value(key, v, out, err, errlen);
}

/*
 * A path key set to a relative path is refused by name: a daemon works
 * from / once it runs. Unset or empty is fine.
 */
static int
conf_check_paths(const struct conf *c, const struct conf_key *tab, size_t n,
    char *err, size_t errlen)
{
	const char *v;
	size_t i;

	for (i = 0; i < n; i++)
		if (tab[i].type == CONF_PATH &&
		    (v = conf_get(c, tab[i].name)) != NULL && v[0] != '\0' &&
		    v[0] != '/') {
			snprintf(err, errlen, "%s %.200s: not an absolute path; "
			    "give the whole path (the daemon runs from /)",
			    tab[i].name, v);
			return SK_ERR_FORMAT;
		}
	return SK_OK;
}

/* The size of the field a type writes; 0 for any (CONF_CUSTOM). */
static size_t
conf_type_size(enum conf_type type)
{
	switch (type) {
	case CONF_STR:
	case CONF_PATH:
		return sizeof(const char *);
	case CONF_UINT:
		return sizeof(unsigned);
	case CONF_BOOL:
		return sizeof(int);
	case CONF_MODE:
		return sizeof(mode_t);
	default:
		return 0;	/* CONF_CUSTOM */
	}
}

const char *
conf_type_name(enum conf_type type)
{
	static const char *const names[] = {
		[CONF_STR] = "str", [CONF_PATH] = "path", [CONF_UINT] = "uint",
		[CONF_BOOL] = "bool", [CONF_MODE] = "mode",
		[CONF_CUSTOM] = "custom",
	};

	if ((size_t)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}

/* A string or path: v, or the default, or NULL, as the entry's flags say. */
static void
conf_set_str(const struct conf_key *k, const char *v, const char **out)
{
	if (v == NULL || (v[0] == '\0' && (k->flags & CONF_EMPTY_DEF)))
		*out = k->def;
	else if (v[0] == '\0' && (k->flags & CONF_EMPTY_OFF))
		*out = NULL;
	else
		*out = v;
}

/* Sets one entry's field in out from its value v (NULL: unset). */
static int
conf_set(const struct conf_key *k, const char *v, void *out, char *err,
    size_t errlen)
{
	void *f = (char *)out + k->offset;

	if ((unsigned)k->type > CONF_CUSTOM || (k->type == CONF_CUSTOM ?
	    k->parse == NULL : k->size != conf_type_size(k->type))) {
		snprintf(err, errlen, "%s: table entry does not fit its field",
		    k->name);
		return SK_ERR_INVAL;
	}
	if (k->type == CONF_STR || k->type == CONF_PATH) {
		conf_set_str(k, v, f);
		return SK_OK;
	}
	if (v == NULL)
		v = k->def;
	if (k->type == CONF_CUSTOM)
		return k->parse(k, v, out, err, errlen);
	if (v == NULL)
		return SK_OK;
	if (k->type == CONF_UINT)
		return conf_uint_value(k->name, v, k->min, k->max, f, err,
		    errlen);
	if (k->type == CONF_BOOL)
		return conf_bool_value(k->name, v, f, err, errlen);
	return conf_mode_value(k->name, v, k->max, f, err, errlen);
}

int
conf_load_table(const struct conf *c, const struct conf_key *tab, size_t n,
    void *out, char *err, size_t errlen)
{
	size_t i;
	int r;

	if ((r = conf_check_keys(c, tab, n, err, errlen)) != SK_OK ||
	    (r = conf_check_paths(c, tab, n, err, errlen)) != SK_OK)
		return r;
	for (i = 0; i < n; i++)
		if ((r = conf_set(&tab[i], conf_get(c, tab[i].name), out, err,
		    errlen)) != SK_OK)
			return r;
	return SK_OK;
}
