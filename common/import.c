/*
 * import.c: parser of the batch import format (see import.h); the other
 * formats are in import_foreign.c.
 * Reads untrusted bytes only with explicit lengths, and never copies a
 * password anywhere but the record's wiping buffer.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "import.h"
#include "sasldb.h"

void
import_record_init(struct import_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	sbuf_init(&rec->password, SASLDB_PASS_MAX + 1);
}

void
import_record_clear(struct import_record *rec)
{
	sbuf_free(&rec->password);
	explicit_bzero(rec->scram1, sizeof(rec->scram1));
	explicit_bzero(rec->scram256, sizeof(rec->scram256));
	explicit_bzero(rec->crypt, sizeof(rec->crypt));
	explicit_bzero(rec->cram, sizeof(rec->cram));
	rec->action = IMPORT_SKIP;
	rec->user[0] = '\0';
	sbuf_init(&rec->password, SASLDB_PASS_MAX + 1);
}

int
import_field(const char *p, const char *end, char *out, size_t outsz)
{
	size_t n = (size_t)(end - p), i;

	if (n == 0 || n >= outsz)
		return SK_ERR_FORMAT;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return SK_ERR_FORMAT;
	memcpy(out, p, n);
	out[n] = '\0';
	return SK_OK;
}

static int
import_verifier(const char *p, const char *end, char *out, size_t outsz,
    enum scram_hash want)
{
	struct scram_verifier v;
	int r;

	if (import_field(p, end, out, outsz) != SK_OK)
		return SK_ERR_FORMAT;
	r = scram_parse(out, strlen(out), &v);
	if (r == SK_OK && v.hash != want)
		r = SK_ERR_FORMAT;
	scram_clear(&v);
	return r;
}

int
import_fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return SK_ERR_FORMAT;
}

/* One verifier of either hash into the matching field. */
static int
import_one_verifier(const char *p, const char *end, struct import_record *rec)
{
	if (import_verifier(p, end, rec->scram1, sizeof(rec->scram1),
	    SCRAM_SHA1) == SK_OK)
		return SK_OK;
	explicit_bzero(rec->scram1, sizeof(rec->scram1));
	return import_verifier(p, end, rec->scram256, sizeof(rec->scram256),
	    SCRAM_SHA256);
}

/* The records of imported hashes: verifier, crypt, cram. */
static int
import_parse_hash(const char *act, size_t alen, const char *t2,
    const char *end, struct import_record *rec, char *err, size_t errlen)
{
	const char *arg = t2 != NULL ? t2 + 1 : end;
	enum import_action a;

	if (alen == 8 && memcmp(act, "verifier", 8) == 0)
		a = IMPORT_VERIFIER;
	else if (alen == 5 && memcmp(act, "crypt", 5) == 0)
		a = IMPORT_CRYPT;
	else if (alen == 4 && memcmp(act, "cram", 4) == 0)
		a = IMPORT_CRAM;
	else
		return import_fail(err, errlen, "unknown action (want password, "
		    "plaintext, verifiers, verifier, crypt, cram or delete)");
	if (t2 == NULL || memchr(arg, '\t', (size_t)(end - arg)) != NULL)
		return import_fail(err, errlen, "expected one field after the "
		    "action");
	if (a == IMPORT_VERIFIER && import_one_verifier(arg, end, rec) != SK_OK)
		return import_fail(err, errlen, "malformed SCRAM verifier");
	if (a == IMPORT_CRYPT && (import_field(arg, end, rec->crypt,
	    sizeof(rec->crypt)) != SK_OK || pwscheme_crypt_parse(rec->crypt,
	    strlen(rec->crypt), NULL) != SK_OK))
		return import_fail(err, errlen, "malformed or unsupported "
		    "crypt hash (want {SHA512-CRYPT}$6$..., {SHA256-CRYPT}, "
		    "{BLF-CRYPT}, {MD5-CRYPT} or {YESCRYPT})");
	if (a == IMPORT_CRAM && pwscheme_unhex(arg, (size_t)(end - arg),
	    rec->cram, sizeof(rec->cram)) != SK_OK)
		return import_fail(err, errlen, "CRAM-MD5 secret: want 64 hex "
		    "digits");
	rec->action = a;
	return SK_OK;
}

/*
 * What every format does first: clears rec, drops a CR before the end
 * and refuses a NUL. 1 with *end set when the line has a record to parse,
 * SK_OK (0) for a blank or comment line, or the error.
 */
int
import_line_begin(const char *line, size_t len, struct import_record *rec,
    const char **end, char *err, size_t errlen)
{
	*end = line + len;
	import_record_clear(rec);
	if (len > 0 && line[len - 1] == '\r')
		(*end)--;
	if (*end == line || line[0] == '#')
		return SK_OK;
	if (memchr(line, '\0', (size_t)(*end - line)) != NULL)
		return import_fail(err, errlen, "NUL byte in line");
	return 1;
}

int
import_parse_line(const char *line, size_t len, struct import_record *rec,
    char *err, size_t errlen)
{
	const char *end, *t1, *t2, *t3, *act;
	size_t alen;
	int r;

	if ((r = import_line_begin(line, len, rec, &end, err, errlen)) <= 0)
		return r;
	if ((t1 = memchr(line, '\t', (size_t)(end - line))) == NULL)
		return import_fail(err, errlen, "expected user TAB action");
	if (import_field(line, t1, rec->user, sizeof(rec->user)) != SK_OK)
		return import_fail(err, errlen, "bad or too long user name");
	act = t1 + 1;
	t2 = memchr(act, '\t', (size_t)(end - act));
	alen = (size_t)((t2 ? t2 : end) - act);
	if (alen == 6 && memcmp(act, "delete", 6) == 0) {
		if (t2 != NULL)
			return import_fail(err, errlen, "delete takes no argument");
		rec->action = IMPORT_DELETE;
		return SK_OK;
	}
	if ((alen == 8 && memcmp(act, "password", 8) == 0) ||
	    (alen == 9 && memcmp(act, "plaintext", 9) == 0)) {
		if (t2 == NULL || t2 + 1 == end)
			return import_fail(err, errlen, "empty password");
		if (sbuf_put(&rec->password, t2 + 1, (size_t)(end - t2 - 1)) !=
		    SK_OK || rec->password.len > SASLDB_PASS_MAX ||
		    sbuf_terminate(&rec->password) != SK_OK)
			return import_fail(err, errlen, "password too long");
		rec->action = alen == 8 ? IMPORT_PASSWORD : IMPORT_PLAINTEXT;
		return SK_OK;
	}
	if (alen == 9 && memcmp(act, "verifiers", 9) == 0) {
		if (t2 == NULL ||
		    (t3 = memchr(t2 + 1, '\t', (size_t)(end - t2 - 1))) == NULL)
			return import_fail(err, errlen,
			    "verifiers needs two fields");
		if (import_verifier(t2 + 1, t3, rec->scram1, sizeof(rec->scram1),
		    SCRAM_SHA1) != SK_OK ||
		    import_verifier(t3 + 1, end, rec->scram256,
		    sizeof(rec->scram256), SCRAM_SHA256) != SK_OK)
			return import_fail(err, errlen, "malformed SCRAM-SHA-1 or "
			    "SCRAM-SHA-256 verifier");
		rec->action = IMPORT_VERIFIERS;
		return SK_OK;
	}
	return import_parse_hash(act, alen, t2, end, rec, err, errlen);
}

int
import_read_line(FILE *fp, struct sbuf *line)
{
	int c, over = 0;

	sbuf_reset(line);
	while ((c = getc_unlocked(fp)) != EOF && c != '\n') {
		if (over || sbuf_put_u8(line, (unsigned char)c) != SK_OK)
			over = 1;
	}
	if (ferror(fp))
		return SK_ERR_IO;
	if (c == EOF && line->len == 0 && !over)
		return SK_ERR_NOTFOUND;
	if (over)
		return SK_ERR_LIMIT;
	return sbuf_terminate(line);
}

/* A record of an imported hash, stored alone under a new stamp. */
static int
import_apply_hash(struct sasldb *db, const struct import_record *rec,
    const char *authid, const char *realm)
{
	struct sasldb_hashes h = { NULL, NULL, NULL, NULL };

	if (rec->action == IMPORT_VERIFIER) {
		h.scram1 = rec->scram1[0] != '\0' ? rec->scram1 : NULL;
		h.scram256 = rec->scram256[0] != '\0' ? rec->scram256 : NULL;
	} else if (rec->action == IMPORT_CRYPT)
		h.crypt = rec->crypt;
	else
		h.cram = rec->cram;
	return sasldb_set_hashes(db, authid, realm, &h);
}

int
import_apply(struct sasldb *db, const struct import_record *rec,
    const char *default_realm, enum sasldb_plain plain,
    const struct sasldb_verifiers *v)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	int r;

	r = sasldb_split_user(rec->user, default_realm, authid, sizeof(authid),
	    realm, sizeof(realm));
	if (r != SK_OK)
		return r;
	switch (rec->action) {
	case IMPORT_PASSWORD:
	case IMPORT_PLAINTEXT:
		return sasldb_store_password(db, authid, realm,
		    (const char *)rec->password.data, rec->password.len,
		    rec->action == IMPORT_PLAINTEXT ? SASLDB_PLAIN_YES : plain, v);
	case IMPORT_VERIFIERS:
		return sasldb_set_verifiers(db, authid, realm, rec->scram1,
		    rec->scram256);
	case IMPORT_VERIFIER:
	case IMPORT_CRYPT:
	case IMPORT_CRAM:
		return import_apply_hash(db, rec, authid, realm);
	case IMPORT_DELETE:
		return sasldb_delete_user(db, authid, realm);
	case IMPORT_SKIP:
		break;
	}
	return SK_OK;
}
