/*
 * mech.h: SASL mechanism names and lists of them, one parser for authd,
 * smtpd and libsecret alike. A name is RFC 4422's: 1 to 20 of A-Z, 0-9,
 * '-' and '_', compared without regard to case. In a list, names are
 * separated by any run of spaces, tabs, commas or slashes.
 */
#ifndef SK_MECH_H
#define SK_MECH_H

#include <stddef.h>

#define MECH_NAME_MAX	20		/* RFC 4422 §3.1 */
#define MECH_LIST_SEPS	" \t,/"
#define MECH_PLUS	"-PLUS"		/* the channel-binding form (RFC 5056) */

/* 1 when the n bytes at p are a mechanism name. */
int mech_name_ok(const char *p, size_t n);
/* 1 when mech is a -PLUS form, in any case. */
int mech_is_plus(const char *mech);
/*
 * The next name of a list from *p on: sets *name to it, moves *p past it,
 * and returns its length; 0 at the end of the list.
 */
size_t mech_list_next(const char **p, const char **name);
/*
 * 1 when list names the n bytes at mech, in any case; the list's own
 * spelling goes to canon (MECH_NAME_MAX + 1 bytes) when it is not NULL.
 */
int mech_list_has(const char *list, const char *mech, size_t n, char *canon);
/*
 * Writes the list's names upper-cased, one space apart, each once, into
 * out. An empty list gives "". -1 for a name that is not one or an out
 * too small, with *bad (when not NULL) at the offending name.
 */
int mech_list_norm(const char *in, size_t n, char *out, size_t outsz,
    const char **bad);
/*
 * mech_list_norm on the value v of configuration key key: SK_OK, or
 * SK_ERR_FORMAT with a message in err that names the key and the rule.
 */
int mech_list_conf(const char *key, const char *v, char *out, size_t outsz,
    char *err, size_t errlen);

#endif
