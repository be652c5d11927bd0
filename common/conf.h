/*
 * conf.h: "key: value" configuration files in the style of Cyrus SASL's
 * .conf files. '#' starts a comment line; blank lines are ignored.
 */
#ifndef SK_CONF_H
#define SK_CONF_H

#include <stddef.h>

#define CONF_LINE_MAX	4096
#define CONF_FILE_MAX	(64 * 1024)
#define CONF_KEYS_MAX	128

struct conf;

/* Parses len bytes; err names the line of the first problem. */
int conf_parse(const char *buf, size_t len, struct conf **c_r, char *err,
    size_t errlen);
/*
 * Reads and parses a file of at most CONF_FILE_MAX bytes. SK_ERR_NOTFOUND
 * when it does not exist; on it and on SK_ERR_IO errno is kept.
 */
int conf_load(const char *path, struct conf **c_r, char *err, size_t errlen);
/* An empty configuration, for when no file exists. */
struct conf *conf_empty(void);
void conf_free(struct conf *c);
/* The value of key, or NULL when unset. */
const char *conf_get(const struct conf *c, const char *key);
/* Whether key has the same value (or is unset) in both: for a reload. */
int conf_same(const struct conf *a, const struct conf *b, const char *key);
/* An unsigned value in [min, max], or def when unset. */
int conf_get_uint(const struct conf *c, const char *key, unsigned min,
    unsigned max, unsigned def, unsigned *out, char *err, size_t errlen);
/*
 * SK_ERR_FORMAT, naming the key, when one of the NULL-terminated keys is
 * set to a relative path: a daemon works from / once it runs.
 */
int conf_check_abs(const struct conf *c, const char *const *keys, char *err,
    size_t errlen);
/* "yes" (1) or "no" (0), or def when unset; SK_ERR_FORMAT otherwise. */
int conf_get_bool(const struct conf *c, const char *key, int def, int *out,
    char *err, size_t errlen);
/* SK_ERR_FORMAT, naming the key, when a key is not in the NULL-terminated list. */
int conf_check_keys(const struct conf *c, const char *const *known, char *err,
    size_t errlen);

#endif
