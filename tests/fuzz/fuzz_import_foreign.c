/*
 * fuzz_import_foreign.c: libFuzzer target for the Dovecot passwd-file and
 * shadow line parsers (import_foreign.c) and the record writer that sends
 * their records to authd.
 *
 * The first byte picks the format (even: dovecot, odd: shadow); every
 * '\n'-separated line of the rest is parsed with one reused record.
 * Asserts (abort() on violation):
 *  - a failure is SK_ERR_FORMAT with a message, and leaves no action;
 *  - a skip leaves no user and no secret;
 *  - any record has a printable, NUL-terminated, non-empty user, and
 *    import_format_record writes it as a line of saslkit's grammar that
 *    import_parse_line reads back to the same action, user and secret.
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
#include "fuzz.h"

/* The written line parses back to the same record. */
static void
check_roundtrip(const struct import_record *rec)
{
	struct import_record back;
	struct sbuf out;
	char err[256];

	sbuf_init(&out, IMPORT_LINE_MAX);
	import_record_init(&back);
	FUZZ_CHECK(import_format_record(rec, &out) == SK_OK);
	FUZZ_CHECK(import_parse_line((const char *)out.data, out.len, &back,
	    err, sizeof(err)) == SK_OK);
	FUZZ_CHECK(back.action == rec->action);
	FUZZ_CHECK(strcmp(back.user, rec->user) == 0);
	FUZZ_CHECK(back.password.len == rec->password.len &&
	    (rec->password.len == 0 || memcmp(back.password.data,
	    rec->password.data, rec->password.len) == 0));
	FUZZ_CHECK(strcmp(back.scram1, rec->scram1) == 0);
	FUZZ_CHECK(strcmp(back.scram256, rec->scram256) == 0);
	FUZZ_CHECK(strcmp(back.crypt, rec->crypt) == 0);
	FUZZ_CHECK(memcmp(back.cram, rec->cram, sizeof(back.cram)) == 0);
	import_record_clear(&back);
	sbuf_free(&back.password);
	sbuf_free(&out);
}

static void
check_line(enum import_format f, const char *line, size_t len,
    struct import_record *rec)
{
	char err[160];
	size_t i;
	int r;

	r = import_parse_fmt(f, line, len, rec, err, sizeof(err));
	if (r != SK_OK) {
		FUZZ_CHECK(r == SK_ERR_FORMAT && err[0] != '\0');
		FUZZ_CHECK(rec->action == IMPORT_SKIP);
		return;
	}
	if (rec->action == IMPORT_SKIP) {
		FUZZ_CHECK(rec->user[0] == '\0' && rec->password.len == 0);
		return;
	}
	FUZZ_CHECK(memchr(rec->user, '\0', sizeof(rec->user)) != NULL);
	FUZZ_CHECK(rec->user[0] != '\0');
	for (i = 0; rec->user[i] != '\0'; i++)
		FUZZ_CHECK((unsigned char)rec->user[i] >= 0x20 &&
		    rec->user[i] != 0x7f);
	FUZZ_CHECK(rec->action == IMPORT_PASSWORD ||
	    rec->action == IMPORT_VERIFIER || rec->action == IMPORT_CRYPT ||
	    rec->action == IMPORT_CRAM);
	/* a user with a TAB or a password with one could not be sent */
	if (strchr(rec->user, '\t') == NULL && (rec->password.len == 0 ||
	    memchr(rec->password.data, '\t', rec->password.len) == NULL))
		check_roundtrip(rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_record rec;
	const char *p, *end, *nl;
	enum import_format f;

	if (size == 0)
		return 0;
	f = data[0] & 1 ? IMPORT_FMT_SHADOW : IMPORT_FMT_DOVECOT;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	import_record_init(&rec);
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line(f, p, (size_t)(nl - p), &rec);
		if (nl == end)
			break;
		p = nl + 1;
	}
	import_record_clear(&rec);
	sbuf_free(&rec.password);
	return 0;
}
