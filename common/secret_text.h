/*
 * secret_text.h: an entry of the secret store (DESIGN §7), the names that
 * key it, and the two MTA text formats it is imported from and exported
 * to: sendmail's authinfo (makemap input) and Postfix's sasl_passwd.
 *
 * The names:
 *   host.name[:port]	letters, digits, '-', '_'; labels of 1-63, <= 253
 *   [host.name][:port]
 *   1.2.3.4[:port], [1.2.3.4][:port]
 *   [IPv6:2001:db8::1][:port], [2001:db8::1][:port]
 *   default		the default entry (sendmail's "AuthInfo:")
 * A port is 1-65535 without leading zeros. The canonical form is lower
 * case, with an IPv6 address as inet_ntop(3) writes it behind "ipv6:"
 * ("[ipv6:2001:db8::1]:587"), so a lookup matches an entry when their
 * canonical forms are equal, byte for byte.
 *
 * sendmail's authinfo, one entry a line:
 *   AuthInfo:HOST "U:authzid" "I:authid" "P:password" "R:realm" "M:MECHS"
 * The key is "AuthInfo:" (in any case) and a name; "AuthInfo:" alone is
 * the default entry. Items are quoted, in any order, each at most once;
 * the tag is U, I, P, R or M in either case; "X=base64" gives the value
 * in base64, "X:value" as is (no '"' in it, nor '\' before the closing
 * quote, which sendmail would take as an escape). A value is never
 * empty. As sendmail requires, U or I and P must be given.
 *
 * Postfix's sasl_passwd, one entry a logical line:
 *   KEY whitespace user:password
 * The password is everything after the first ':' (spaces and ':' in it
 * are its own), less trailing whitespace. A line that starts with
 * whitespace continues the one before (Postfix's postmap rule): use a
 * secret_reader in SECRET_TEXT_POSTFIX mode. Sender keys (user@domain,
 * @domain) are refused: saslkit keeps credentials per host only.
 *
 * In both formats, blank lines and lines whose first non-blank byte is
 * '#' are skipped. Never logs, never exits; error messages never hold a
 * password or any byte of one.
 */
#ifndef SK_SECRET_TEXT_H
#define SK_SECRET_TEXT_H

#include <stddef.h>

#include "sbuf.h"

/* "[" 253-char host "]" ":" 5-digit port */
#define SECRET_NAME_MAX		262
#define SECRET_ID_MAX		255	/* U, I, R */
#define SECRET_MECHS_MAX	255	/* M: SASL names, space-separated */
#define SECRET_LABEL_MAX	255
#define SECRET_PASS_MAX		1024
/* the default entry: sendmail's "AuthInfo:" with no host */
#define SECRET_DEFAULT_NAME	"default"
/* how an authinfo key starts, in any case */
#define SECRET_AUTHINFO_PREFIX	"AuthInfo:"
/* white space in both formats: Postfix's ISSPACE, isspace(3) in ASCII */
#define SECRET_TEXT_SPACE	" \t\n\v\f\r"
/* the longest text line either format needs, with every item in base64 */
#define SECRET_LINE_MAX		4096

#define SECRET_F_U	0x01u
#define SECRET_F_I	0x02u
#define SECRET_F_P	0x04u
#define SECRET_F_R	0x08u
#define SECRET_F_M	0x10u
#define SECRET_F_L	0x20u

struct secret_fields {
	char name[SECRET_NAME_MAX + 1];	/* canonical form, see above */
	char authzid[SECRET_ID_MAX + 1];	/* U */
	char authid[SECRET_ID_MAX + 1];	/* I */
	char realm[SECRET_ID_MAX + 1];	/* R */
	char mechs[SECRET_MECHS_MAX + 1];	/* M, canonical */
	char label[SECRET_LABEL_MAX + 1];
	struct sbuf pass;		/* P: wiping; NUL-terminated */
	unsigned set;			/* SECRET_F_*: the fields given */
};

/* Empties f; pass may then hold up to SECRET_PASS_MAX bytes. */
void secret_fields_init(struct secret_fields *f);
/* Wipes every field and frees pass; f is empty and ready for reuse. */
void secret_fields_clear(struct secret_fields *f);
/*
 * 1 when a and b have the same name, the same set bits and the same
 * value in each set field (the password compared in constant time).
 */
int secret_fields_equal(const struct secret_fields *a,
    const struct secret_fields *b);

/*
 * Writes the canonical form of the name in (a C string, or len bytes)
 * to out. SK_ERR_FORMAT for anything but the names above, SK_ERR_LIMIT
 * for an out too small (SECRET_NAME_MAX + 1 always does); out is written
 * only on SK_OK.
 */
int secret_name_norm(const char *in, char *out, size_t outlen);
int secret_name_normn(const char *in, size_t len, char *out, size_t outlen);
/*
 * Writes the mechanism list in (len bytes; names apart by spaces, tabs,
 * commas or slashes) upper-cased, one space apart, each once, to out.
 * SK_ERR_FORMAT for an empty list or a name that is not one (mech.h),
 * SK_ERR_LIMIT for an out too small; out is written only on SK_OK.
 */
int secret_mechs_norm(const char *in, size_t len, char *out, size_t outlen);

enum secret_text_format {
	SECRET_TEXT_SENDMAIL,	/* one physical line each */
	SECRET_TEXT_POSTFIX,	/* logical lines, continuations joined */
};

/*
 * Yields the lines of a text held in memory. In SENDMAIL mode every
 * physical line, blank and comment lines too; in POSTFIX mode the logical
 * lines of postmap(1): a line starting with whitespace is appended to the
 * one before (the LF dropped, its leading whitespace kept), and blank and
 * comment lines are skipped without ending the line they interrupt.
 */
struct secret_reader {
	const char *p, *end;	/* the text not yet read */
	enum secret_text_format format;
	size_t lineno;		/* where the last line yielded starts */
	size_t next_lineno;
	struct sbuf line;	/* wiping: the line, NUL-terminated */
};

/* Reads the len bytes at buf, which must outlive the reader. */
void secret_reader_init(struct secret_reader *rd, const void *buf,
    size_t len, enum secret_text_format format);
/*
 * The next line, without its LF: *line and *len point into rd->line.
 * SK_ERR_NOTFOUND at the end of the text; SK_ERR_LIMIT for a line longer
 * than SECRET_LINE_MAX (it is skipped: call again for the next one);
 * SK_ERR_NOMEM.
 */
int secret_reader_next(struct secret_reader *rd, const char **line,
    size_t *len);
/* Wipes and frees the line buffer. */
void secret_reader_free(struct secret_reader *rd);

/*
 * Parse one line (len bytes, no LF) into f, which is cleared first.
 * SK_OK: f holds the entry (name canonical; set says which fields came).
 * SK_ERR_NOTFOUND: a blank or comment line. SK_ERR_FORMAT: err says which
 * item and what is wrong. SK_ERR_NOMEM. On any error f is left empty.
 */
int authinfo_parse_line(const char *line, size_t len,
    struct secret_fields *f, char *err, size_t errlen);
int sasl_passwd_parse_line(const char *line, size_t len,
    struct secret_fields *f, char *err, size_t errlen);

/*
 * The entry name that a socketmap key of sendmail's authinfo map names:
 * "AuthInfo:" in any case, then a name, or nothing for the default entry.
 * SK_ERR_FORMAT for no such prefix or a name that is not one (a sasl_passwd
 * key is a plain name: secret_name_normn), SK_ERR_LIMIT for an out too
 * small; out is written only on SK_OK.
 */
int authinfo_key_norm(const char *key, size_t len, char *out, size_t outlen);

/*
 * The formatters append to out, which must be a wiping sbuf the caller
 * frees, and NUL-terminate it; on an error out may hold part of the text.
 * f->name must be canonical, and each field whose bit is set non-empty;
 * the label is in neither format.
 *
 * authinfo_format_value: the map value sendmail expects from a lookup,
 * "U:x" "I:y" "P=base64" "R:z" "M:A B", items only when set; P always in
 * base64, U, I and R as is when they hold only printable ASCII with no
 * '"' or '\', else in base64.
 * authinfo_format_line: "AuthInfo:HOST" TAB value, for export, the default
 * entry as "AuthInfo:"; P as is by the rule of U, I and R, else in base64.
 * SK_ERR_FORMAT when f has no P or neither U nor I.
 */
int authinfo_format_value(const struct secret_fields *f, struct sbuf *out);
int authinfo_format_line(const struct secret_fields *f, struct sbuf *out);
/*
 * sasl_passwd_format_value: "authid:password", I or, when it is not set,
 * U. sasl_passwd_format_line: KEY TAB value. SK_ERR_FORMAT for what the
 * format cannot carry: no P, no user, a user with ':' or LF or leading
 * whitespace, a password with LF or trailing whitespace.
 */
int sasl_passwd_format_value(const struct secret_fields *f, struct sbuf *out);
int sasl_passwd_format_line(const struct secret_fields *f, struct sbuf *out);

#endif
