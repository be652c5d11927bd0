/*
 * conf.h: "key: value" configuration files in the style of Cyrus SASL's
 * .conf files. '#' starts a comment line; blank lines are ignored. A
 * daemon describes its keys in one table (struct conf_key) that
 * conf_load_table applies.
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
/* "yes" (1) or "no" (0), or def when unset; SK_ERR_FORMAT otherwise. */
int conf_get_bool(const struct conf *c, const char *key, int def, int *out,
    char *err, size_t errlen);

/*
 * A daemon's keys as a table: each entry names a key, its type, the field
 * of the daemon's configuration structure it sets, its bounds and its
 * default, so that the key list, the defaults and the bounds live in one
 * place (conf_table.c applies it).
 */
enum conf_type {
	CONF_STR,	/* const char *: the value as written */
	CONF_PATH,	/* as CONF_STR, and an absolute path when not empty */
	CONF_UINT,	/* unsigned: decimal digits, from min to max */
	CONF_BOOL,	/* int: yes (1) or no (0) */
	CONF_MODE,	/* mode_t: octal, at most max */
	CONF_CUSTOM,	/* the entry's own parse function */
};

/* What an empty value of a CONF_STR or CONF_PATH key means; else "". */
#define CONF_EMPTY_DEF	0x1	/* the default */
#define CONF_EMPTY_OFF	0x2	/* NULL: the feature is off */
/* Only a restart applies a change of the key; a reload keeps the old value. */
#define CONF_RESTART	0x4

struct conf_key;
/*
 * The parser of a CONF_CUSTOM entry: v is the value, or k->def when the
 * key is unset (NULL when there is neither); out is the whole structure.
 * On error it writes a message that names the key.
 */
typedef int conf_parse_fn(const struct conf_key *k, const char *v,
    void *out, char *err, size_t errlen);

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset, size;	/* the field, in the structure given as out */
	long long min, max;	/* CONF_UINT (min >= 0), CONF_MODE (max) */
	const char *def;	/* written as a value would be; NULL: none */
	int flags;		/* CONF_EMPTY_* */
	conf_parse_fn *parse;	/* CONF_CUSTOM */
};

/* The offset and size of field f of structure type st, for a conf_key. */
#define CONF_FIELD(st, f)	offsetof(st, f), sizeof(((st *)0)->f)
/* A numeric constant as a default: CONF_DEF(SCRAM_ITER_DEFAULT) is "4096". */
#define CONF_DEF(n)		CONF_DEF_(n)
#define CONF_DEF_(n)		#n

/*
 * Applies a table to out: refuses a key the table lacks and a relative
 * path, then sets each entry's field from its value, or its default when
 * unset, checked against its bounds. A field whose key is unset and has no
 * default is left as it was. err names the key; SK_ERR_INVAL for an entry
 * whose size does not fit its type.
 */
int conf_load_table(const struct conf *c, const struct conf_key *tab,
    size_t n, void *out, char *err, size_t errlen);
/* SK_ERR_FORMAT, naming the key, when a key of c is not in the table. */
int conf_check_keys(const struct conf *c, const struct conf_key *tab,
    size_t n, char *err, size_t errlen);
/*
 * The next CONF_RESTART key of the table, from *pos on, whose value differs
 * between a and b (a reload's old and new files); NULL when none is left.
 */
const char *conf_next_restart_change(const struct conf *a,
    const struct conf *b, const struct conf_key *tab, size_t n, size_t *pos);
/* A type's name for listings: "str", "path", "uint", "bool", "mode"... */
const char *conf_type_name(enum conf_type type);

#endif
