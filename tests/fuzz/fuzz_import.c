/*
 * fuzz_import.c: libFuzzer target for the batch import parser (import.c).
 *
 * Fuzzes import_parse_line on every '\n'-separated line of the input, with
 * one import_record reused across lines, and import_read_line over the whole
 * input through fmemopen() with a bounded sbuf, once with the real bound
 * IMPORT_LINE_MAX and once with a 64-byte bound so that short inputs reach
 * the long-line path.
 *
 * Asserts (abort() on violation):
 *  - SK_OK with IMPORT_SKIP only for a blank line, a lone CR or a '#' line;
 *  - for any other SK_OK the user is non-empty, NUL-terminated in its array
 *    and free of control characters;
 *  - PASSWORD/PLAINTEXT: the password is non-empty, has no NUL, is at most
 *    SASLDB_PASS_MAX bytes, is NUL-terminated and equals the rest of the
 *    line after the second TAB (less a final CR);
 *  - VERIFIERS: both strings parse with scram_parse, the first as
 *    SCRAM-SHA-1 and the second as SCRAM-SHA-256; VERIFIER: one does;
 *  - CRYPT: the value is a "{SCHEME}hash" that pwscheme_crypt_parse takes;
 *  - a failed parse leaves an error message and no action;
 *  - import_read_line returns exactly the lines of the input in order, each
 *    NUL-terminated, at most the bound and without a LF, and SK_ERR_LIMIT
 *    exactly for the longer ones (whose rest is skipped).
 * Must never print a password.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "import.h"
#include "pwscheme.h"
#include "sasldb.h"
#include "sbuf.h"
#include "scram.h"
#include "fuzz.h"

#define SHORT_LINE_MAX	64	/* a second, tiny line bound */

/* No byte below 0x20 and no DEL, as import.c requires of a user. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void
check_verifier(const char *s, size_t max, enum scram_hash want)
{
	struct scram_verifier v;

	FUZZ_CHECK(memchr(s, '\0', max) != NULL);
	FUZZ_CHECK(scram_parse(s, strlen(s), &v) == SK_OK);
	FUZZ_CHECK(v.hash == want);
	scram_clear(&v);
}

/* The password is the rest of the line after the second TAB, less a final CR. */
static void
check_password(const char *line, size_t len, const struct sbuf *pw)
{
	const char *t1, *t2;
	size_t n;

	FUZZ_CHECK(pw->len > 0 && pw->len <= SASLDB_PASS_MAX);
	FUZZ_CHECK(pw->data != NULL && pw->data[pw->len] == '\0');
	FUZZ_CHECK(memchr(pw->data, '\0', pw->len) == NULL);
	if (line[len - 1] == '\r')
		len--;
	t1 = memchr(line, '\t', len);
	FUZZ_CHECK(t1 != NULL);
	t2 = memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line));
	FUZZ_CHECK(t2 != NULL);
	n = len - (size_t)(t2 + 1 - line);
	FUZZ_CHECK(n == pw->len && memcmp(t2 + 1, pw->data, n) == 0);
}

static void
check_line(const char *line, size_t len, struct import_record *rec)
{
	char err[256];
	int r;

	err[0] = '\0';
	r = import_parse_line(line, len, rec, err, sizeof(err));
	if (r != SK_OK) {
		FUZZ_CHECK(r == SK_ERR_FORMAT);
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(rec->action == IMPORT_SKIP);
		return;
	}
	if (rec->action == IMPORT_SKIP) {
		FUZZ_CHECK(len == 0 || line[0] == '#' ||
		    (len == 1 && line[0] == '\r'));
		return;
	}
	FUZZ_CHECK(memchr(rec->user, '\0', sizeof(rec->user)) != NULL);
	FUZZ_CHECK(rec->user[0] != '\0' && printable(rec->user));
	switch (rec->action) {
	case IMPORT_PASSWORD:
	case IMPORT_PLAINTEXT:
		check_password(line, len, &rec->password);
		break;
	case IMPORT_VERIFIERS:
		check_verifier(rec->scram1, sizeof(rec->scram1), SCRAM_SHA1);
		check_verifier(rec->scram256, sizeof(rec->scram256),
		    SCRAM_SHA256);
		break;
	case IMPORT_VERIFIER:
		if (rec->scram1[0] != '\0')
			check_verifier(rec->scram1, sizeof(rec->scram1),
			    SCRAM_SHA1);
		else
			check_verifier(rec->scram256, sizeof(rec->scram256),
			    SCRAM_SHA256);
		break;
	case IMPORT_CRYPT:
		FUZZ_CHECK(memchr(rec->crypt, '\0', sizeof(rec->crypt)) != NULL);
		FUZZ_CHECK(pwscheme_crypt_parse(rec->crypt, strlen(rec->crypt),
		    NULL) == SK_OK);
		break;
	case IMPORT_CRAM:
	case IMPORT_DELETE:
		break;
	default:
		FUZZ_CHECK(!"unknown action");
	}
}

static void
fuzz_parse_lines(const char *data, size_t size)
{
	struct import_record rec;
	const char *p = data, *end = data + size, *nl;

	import_record_init(&rec);
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line(p, (size_t)(nl - p), &rec);
		if (nl == end)
			break;
		p = nl + 1;
	}
	import_record_clear(&rec);
	FUZZ_CHECK(rec.action == IMPORT_SKIP && rec.password.len == 0);
	sbuf_free(&rec.password);
}

/*
 * import_read_line must yield the same lines as a plain split at LF; max is
 * the line buffer's bound (IMPORT_LINE_MAX, or less to reach the long-line
 * path with short inputs).
 */
static void
fuzz_read_lines(const char *data, size_t size, size_t max)
{
	struct sbuf line;
	const char *p = data, *end = data + size, *nl;
	char *copy;
	FILE *fp;
	size_t n;
	int r;

	if (size == 0 || (copy = malloc(size)) == NULL)
		return;
	memcpy(copy, data, size);
	if ((fp = fmemopen(copy, size, "r")) == NULL) {
		free(copy);
		return;
	}
	sbuf_init(&line, max);
	for (;;) {
		r = import_read_line(fp, &line);
		if (p == end) {
			FUZZ_CHECK(r == SK_ERR_NOTFOUND);
			break;
		}
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > max) {
			FUZZ_CHECK(r == SK_ERR_LIMIT);
		} else {
			FUZZ_CHECK(r == SK_OK);
			FUZZ_CHECK(line.len == n && line.len <= max);
			FUZZ_CHECK(n == 0 || memcmp(line.data, p, n) == 0);
			FUZZ_CHECK(line.data != NULL && line.data[n] == '\0');
		}
		p = nl + (nl < end);
	}
	sbuf_free(&line);
	fclose(fp);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse_lines((const char *)data, size);
	fuzz_read_lines((const char *)data, size, IMPORT_LINE_MAX);
	fuzz_read_lines((const char *)data, size, SHORT_LINE_MAX);
	return 0;
}
