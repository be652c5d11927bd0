/*
 * import_foreign.c: the other input formats of saslpasswd -i -F: a
 * Dovecot passwd-file (user[@domain]:{SCHEME}data[:uid:gid:...]) and
 * /etc/shadow (user:hash:...), each line turned into an import record;
 * and a record written back as a line of saslkit's grammar, for authd.
 * Reads untrusted bytes only with explicit lengths; an error message
 * never quotes a password or hash.
 */
#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "import.h"
#include "pwscheme.h"

#define SCHEME_MAX	32	/* the longest scheme name we quote */

int
import_format_parse(const char *name, enum import_format *f)
{
	if (strcmp(name, "saslkit") == 0)
		*f = IMPORT_FMT_SASLKIT;
	else if (strcmp(name, "dovecot") == 0)
		*f = IMPORT_FMT_DOVECOT;
	else if (strcmp(name, "shadow") == 0)
		*f = IMPORT_FMT_SHADOW;
	else
		return SK_ERR_INVAL;
	return SK_OK;
}

/* Is the scheme [s, s + n) the name want? Case as Dovecot: ignored. */
static int
scheme_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/* A crypt hash that libcrypt verifies. */
static int
foreign_crypt(const char *h, size_t n, struct import_record *rec)
{
	if (pwscheme_crypt_value(h, n, rec->crypt, sizeof(rec->crypt)) != SK_OK)
		return SK_ERR_FORMAT;
	rec->action = IMPORT_CRYPT;
	return SK_OK;
}

/*
 * A {PLAIN} password: verifiers from it, as a "password" record. No CR:
 * saslkit's grammar, which carries it to authd, drops one at a line's end.
 */
static int
foreign_plain(const char *p, size_t n, struct import_record *rec)
{
	if (n == 0 || n > SASLDB_PASS_MAX || memchr(p, '\0', n) != NULL ||
	    memchr(p, '\r', n) != NULL ||
	    sbuf_put(&rec->password, p, n) != SK_OK ||
	    sbuf_terminate(&rec->password) != SK_OK)
		return SK_ERR_FORMAT;
	rec->action = IMPORT_PASSWORD;
	return SK_OK;
}

/* Says which scheme cannot be imported, and what the user needs. */
static int
scheme_refused(const char *s, size_t n, const char *why, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < n && i < SCHEME_MAX; i++)
		if (s[i] < '!' || s[i] > '~')
			break;
	snprintf(err, errlen, "{%.*s}%s: %s; the user needs a new password",
	    (int)i, s, i < n ? "..." : "", why);
	return SK_ERR_FORMAT;
}

/* {CRYPT}: any hash libcrypt verifies; a named scheme: a hash of it. */
static int
dovecot_crypt(const char *s, size_t n, const char *d, size_t dn,
    struct import_record *rec, char *err, size_t errlen)
{
	const char *got = pwscheme_crypt_scheme(d, dn);

	if (got == NULL || (!scheme_is(s, n, "CRYPT") && !scheme_is(s, n, got)) ||
	    foreign_crypt(d, dn, rec) != SK_OK)
		return scheme_refused(s, n, "not a hash of that scheme that "
		    "libcrypt verifies", err, errlen);
	return SK_OK;
}

/* {SCHEME}data of a passwd-file line, into rec. */
static int
dovecot_password(const char *s, size_t n, const char *d, size_t dn,
    struct import_record *rec, char *err, size_t errlen)
{
	if (scheme_is(s, n, "PLAIN") || scheme_is(s, n, "CLEARTEXT") ||
	    scheme_is(s, n, "CLEAR"))
		return foreign_plain(d, dn, rec) == SK_OK ? SK_OK :
		    import_fail(err, errlen, "empty or too long password");
	if (scheme_is(s, n, "SCRAM-SHA-1") || scheme_is(s, n, "SCRAM-SHA-256")) {
		enum scram_hash h = n == 11 ? SCRAM_SHA1 : SCRAM_SHA256;

		if (pwscheme_scram_from_dovecot(h, d, dn, h == SCRAM_SHA1 ?
		    rec->scram1 : rec->scram256, SCRAM_VERIFIER_MAX) != SK_OK)
			return import_fail(err, errlen, "malformed SCRAM data "
			    "(want iter,salt,StoredKey,ServerKey)");
		rec->action = IMPORT_VERIFIER;
		return SK_OK;
	}
	if (scheme_is(s, n, "CRAM-MD5") || scheme_is(s, n, "HMAC-MD5")) {
		if (pwscheme_cram_from_dovecot(d, dn, rec->cram) != SK_OK)
			return import_fail(err, errlen, "malformed CRAM-MD5 data "
			    "(want 64 hex digits)");
		rec->action = IMPORT_CRAM;
		return SK_OK;
	}
	if (scheme_is(s, n, "ARGON2ID") || scheme_is(s, n, "ARGON2I"))
		return scheme_refused(s, n, "neither libcrypt nor OpenSSL here "
		    "verifies Argon2", err, errlen);
	if (scheme_is(s, n, "CRYPT") || scheme_is(s, n, "SHA512-CRYPT") ||
	    scheme_is(s, n, "SHA256-CRYPT") || scheme_is(s, n, "BLF-CRYPT") ||
	    scheme_is(s, n, "MD5-CRYPT"))
		return dovecot_crypt(s, n, d, dn, rec, err, errlen);
	return scheme_refused(s, n, "scheme not supported", err, errlen);
}

/* user[@domain]:{SCHEME}data[:uid:gid:gecos:home:shell:extra] */
static int
dovecot_line(const char *line, const char *end, struct import_record *rec,
    char *err, size_t errlen)
{
	const char *c1, *pw, *pend, *close;

	if ((c1 = memchr(line, ':', (size_t)(end - line))) == NULL)
		return import_fail(err, errlen, "expected user:password");
	if (import_field(line, c1, rec->user, sizeof(rec->user)) != SK_OK)
		return import_fail(err, errlen, "bad or too long user name");
	pw = c1 + 1;
	if ((pend = memchr(pw, ':', (size_t)(end - pw))) == NULL)
		pend = end;
	if (pend == pw) {
		snprintf(err, errlen, "no password: skipped");
		return SK_OK;
	}
	/* without a {SCHEME}, passwd-file's default scheme: CRYPT */
	if (pw[0] != '{' ||
	    (close = memchr(pw, '}', (size_t)(pend - pw))) == NULL)
		return dovecot_password("CRYPT", 5, pw, (size_t)(pend - pw), rec,
		    err, errlen);
	return dovecot_password(pw + 1, (size_t)(close - pw - 1), close + 1,
	    (size_t)(pend - close - 1), rec, err, errlen);
}

/* user:hash:lastchange:...; a locked or empty hash is skipped. */
static int
shadow_line(const char *line, const char *end, struct import_record *rec,
    char *err, size_t errlen)
{
	const char *c1, *pw, *pend;

	if ((c1 = memchr(line, ':', (size_t)(end - line))) == NULL ||
	    (pend = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL)
		return import_fail(err, errlen, "expected user:hash:...");
	if (import_field(line, c1, rec->user, sizeof(rec->user)) != SK_OK)
		return import_fail(err, errlen, "bad or too long user name");
	pw = c1 + 1;
	if (pend == pw || pw[0] == '!' || pw[0] == '*') {
		snprintf(err, errlen, "%s: skipped", pend == pw ?
		    "empty password" : "locked or no password");
		return SK_OK;
	}
	if (foreign_crypt(pw, (size_t)(pend - pw), rec) != SK_OK)
		return import_fail(err, errlen, "hash not supported (want $6$, "
		    "$5$, $2b$, $y$ or $1$); the user needs a new password");
	return SK_OK;
}

int
import_parse_fmt(enum import_format f, const char *line, size_t len,
    struct import_record *rec, char *err, size_t errlen)
{
	const char *end;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	if (f == IMPORT_FMT_SASLKIT)
		return import_parse_line(line, len, rec, err, errlen);
	if ((r = import_line_begin(line, len, rec, &end, err, errlen)) <= 0)
		return r;
	r = f == IMPORT_FMT_DOVECOT ? dovecot_line(line, end, rec, err, errlen) :
	    shadow_line(line, end, rec, err, errlen);
	if (r != SK_OK || rec->action == IMPORT_SKIP) {
		char keep[160];

		/* a failed or skipped line leaves no secret and no action */
		snprintf(keep, sizeof(keep), "%s", errlen > 0 ? err : "");
		import_record_clear(rec);
		snprintf(err, errlen, "%s", keep);
	}
	return r;
}

static const char *const action_names[] = {
	[IMPORT_PASSWORD] = "password", [IMPORT_PLAINTEXT] = "plaintext",
	[IMPORT_VERIFIERS] = "verifiers", [IMPORT_DELETE] = "delete",
	[IMPORT_VERIFIER] = "verifier", [IMPORT_CRYPT] = "crypt",
	[IMPORT_CRAM] = "cram",
};

int
import_format_record(const struct import_record *rec, struct sbuf *out)
{
	char hex[PWSCHEME_CRAM_HEX + 1];
	int r;

	sbuf_reset(out);
	if (rec->action == IMPORT_SKIP)
		return SK_ERR_INVAL;
	r = sbuf_put_str(out, rec->user) | sbuf_put_u8(out, '\t') |
	    sbuf_put_str(out, action_names[rec->action]);
	if (rec->action != IMPORT_DELETE)
		r |= sbuf_put_u8(out, '\t');
	if (rec->action == IMPORT_PASSWORD || rec->action == IMPORT_PLAINTEXT)
		r |= sbuf_put(out, rec->password.data, rec->password.len);
	else if (rec->action == IMPORT_VERIFIERS)
		r |= sbuf_put_str(out, rec->scram1) | sbuf_put_u8(out, '\t') |
		    sbuf_put_str(out, rec->scram256);
	else if (rec->action == IMPORT_VERIFIER)
		r |= sbuf_put_str(out, rec->scram1[0] ? rec->scram1 :
		    rec->scram256);
	else if (rec->action == IMPORT_CRYPT)
		r |= sbuf_put_str(out, rec->crypt);
	else if (rec->action == IMPORT_CRAM) {
		pwscheme_hex(rec->cram, sizeof(rec->cram), hex);
		r |= sbuf_put_str(out, hex);
		explicit_bzero(hex, sizeof(hex));
	}
	r |= sbuf_terminate(out);
	return r == SK_OK ? SK_OK : SK_ERR_LIMIT;
}
