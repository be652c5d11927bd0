/*
 * import.h: the batch import format, one record per line:
 *
 *   user[@realm] TAB "password"  TAB <password: the rest of the line>
 *   user[@realm] TAB "plaintext" TAB <password: the rest of the line>
 *   user[@realm] TAB "verifiers" TAB <SCRAM-SHA-1 verifier> TAB <SCRAM-SHA-256 verifier>
 *   user[@realm] TAB "delete"
 *
 * Lines end with LF (a CR before it is dropped). Blank lines and lines
 * starting with '#' are skipped. The user splits at the first '@'.
 */
#ifndef SK_IMPORT_H
#define SK_IMPORT_H

#include <stddef.h>
#include <stdio.h>

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
};

struct import_record {
	enum import_action action;
	char user[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	struct sbuf password;	/* wiping; NUL-terminated when set */
	char scram1[SCRAM_VERIFIER_MAX + 1];
	char scram256[SCRAM_VERIFIER_MAX + 1];
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
