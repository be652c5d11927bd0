/*
 * line.h: the line codec shared by the auth and admin protocols: LF-ended
 * lines of TAB-separated fields, with Dovecot's tab-escaping (\001 then
 * 0, 1, t, r or n for NUL, \001, TAB, CR, LF; \001 then any other byte
 * stands for that byte).
 */
#ifndef SK_LINE_H
#define SK_LINE_H

#include <stddef.h>

#include "sbuf.h"

#define LINE_FIELDS_MAX 1024	/* an IMPORT carries many records */
#define LINE_NUM_MAX	24	/* an unsigned long in decimal, NUL included */

struct line_fields {
	size_t n;
	char *f[LINE_FIELDS_MAX];	/* NUL-terminated, may hold a NUL too */
	size_t len[LINE_FIELDS_MAX];
};

/*
 * Splits a line of len bytes (no LF) in place into unescaped fields; the
 * buffer must have one byte more (where the LF was), which becomes a NUL.
 * SK_ERR_LIMIT for more than LINE_FIELDS_MAX fields, SK_ERR_FORMAT for a
 * raw LF or NUL inside the line.
 */
int line_split(char *line, size_t len, struct line_fields *out);
/* Field i as a C string, or NULL when absent or holding a NUL. */
const char *line_str(const struct line_fields *lf, size_t i);
/*
 * Looks for an optional parameter from field start on: "key=value" sets
 * *val (and *len), a bare "key" sets *val to "". Returns 1 when found.
 */
int line_param(const struct line_fields *lf, size_t start, const char *key,
    const char **val, size_t *len);

/*
 * A request id, as both protocols write it: a decimal number without
 * sign or leading space that fits 32 bits. 0, or -1 when s is not one.
 */
int line_id(const char *s, unsigned long *id);

/* Appends the command name that starts a line. */
int line_put_cmd(struct sbuf *out, const char *cmd);
/* Appends TAB and a request id, in the form line_id reads. */
int line_put_id(struct sbuf *out, unsigned long id);
/* Appends TAB and one escaped field of n bytes. */
int line_put(struct sbuf *out, const void *p, size_t n);
int line_put_str(struct sbuf *out, const char *s);
/* Appends TAB and key=value, the value escaped. */
int line_put_kv(struct sbuf *out, const char *key, const void *val, size_t n);
int line_put_kv_str(struct sbuf *out, const char *key, const char *val);
int line_put_kv_uint(struct sbuf *out, const char *key, unsigned long v);
/* Ends the line with LF. */
int line_end(struct sbuf *out);

#endif
