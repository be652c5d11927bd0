/*
 * import.h: the batch import format, one record per line:
 *
 *   user[@realm] TAB "password"  TAB <password: the rest of the line>
 *   user[@realm] TAB "plaintext" TAB <password: the rest of the line>
 *   user[@realm] TAB "verifiers" TAB <SCRAM-SHA-1 verifier> TAB <SCRAM-SHA-256 verifier>
 *   user[@realm] TAB "verifier"  TAB <one verifier, SCRAM-SHA-1 or SCRAM-SHA-256>
 *   user[@realm] TAB "crypt"     TAB {SCHEME}<crypt hash>   (pwscheme.h)
 *   user[@realm] TAB "cram"      TAB <64 hex digits: Cyrus's CRAM-MD5 secret>
 *   user[@realm] TAB "delete"
 *
 * Lines end with LF (a CR before it is dropped). Blank lines and lines
 * starting with '#' are skipped. The user splits at the first '@'.
 */
#ifndef SK_IMPORT_H
#define SK_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "pwscheme.h"
#include "sasldb.h"
#include "sbuf.h"
#include "scram.h"

#define IMPORT_LINE_MAX	4096

enum import_action {
	IMPORT_SKIP,		/* blank or comment line */
	IMPORT_PASSWORD,	/* verifiers from a password */
	IMPORT_PLAINTEXT,	/* verifiers and plaintext */
	IMPORT_VERIFIERS,	/* precomputed verifiers */
	IMPORT_DELETE,
	IMPORT_VERIFIER,	/* one verifier: scram1 or scram256 is set */
	IMPORT_CRYPT,		/* a crypt hash */
	IMPORT_CRAM,		/* a CRAM-MD5 secret */
};

/* The input formats of saslpasswd -i -F (import_foreign.c). */
enum import_format { IMPORT_FMT_SASLKIT, IMPORT_FMT_DOVECOT, IMPORT_FMT_SHADOW };

struct import_record {
	enum import_action action;
	char user[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	struct sbuf password;	/* wiping; NUL-terminated when set */
	char scram1[SCRAM_VERIFIER_MAX + 1];
	char scram256[SCRAM_VERIFIER_MAX + 1];
	char crypt[PWSCHEME_CRYPT_MAX + 1];	/* "{SCHEME}hash" */
	unsigned char cram[PWSCHEME_CRAM_LEN];
};

void import_record_init(struct import_record *rec);
/* Wipes the password and verifiers. */
void import_record_clear(struct import_record *rec);
/*
 * Parses one line of len bytes, without its LF. On SK_ERR_FORMAT, err says
 * what is wrong, never quoting a password.
 */
int import_parse_line(const char *line, size_t len, struct import_record *rec,
    char *err, size_t errlen);
/* "saslkit", "dovecot" or "shadow"; SK_ERR_INVAL for another name. */
int import_format_parse(const char *name, enum import_format *f);
/*
 * Parses one line of the format f. A Dovecot passwd-file line is
 * user[@domain]:{SCHEME}data[:...]; a shadow line user:hash:...  An entry
 * that is skipped on purpose (a locked or empty shadow password) gives
 * SK_OK, IMPORT_SKIP and a note in err; any other line that cannot be
 * imported (an unknown scheme, ARGON2 which no library here verifies)
 * gives SK_ERR_FORMAT with err saying why. err never quotes a secret.
 */
int import_parse_fmt(enum import_format f, const char *line, size_t len,
    struct import_record *rec, char *err, size_t errlen);
/*
 * The record as one line of saslkit's grammar, into out (a wiping
 * buffer), NUL-terminated: what saslpasswd sends to authd.
 */
int import_format_record(const struct import_record *rec, struct sbuf *out);
/* Shared by import*.c: copies the field [p, end) into out when it is not
 * empty, fits and is printable. */
int import_field(const char *p, const char *end, char *out, size_t outsz);
/* Shared by import*.c: err gets msg; returns SK_ERR_FORMAT. */
int import_fail(char *err, size_t errlen, const char *msg);
int import_line_begin(const char *line, size_t len, struct import_record *rec,
    const char **end, char *err, size_t errlen);
/*
 * Reads one line into line (a bounded buffer, at most IMPORT_LINE_MAX bytes).
 * Returns SK_OK, SK_ERR_NOTFOUND at end of input, SK_ERR_LIMIT for a longer
 * line (the rest of which is skipped), or SK_ERR_IO.
 */
int import_read_line(FILE *fp, struct sbuf *line);
/*
 * Applies one parsed record, inside an open batch or alone. v holds the
 * verifiers of a password record (sasldb_make_verifiers); plain is the
 * plaintext rule for "password" records. Deleting a missing user returns
 * SK_ERR_NOTFOUND, which callers treat as a warning.
 */
int import_apply(struct sasldb *db, const struct import_record *rec,
    const char *default_realm, enum sasldb_plain plain,
    const struct sasldb_verifiers *v);

#endif
