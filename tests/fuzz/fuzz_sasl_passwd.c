/*
 * fuzz_sasl_passwd.c: the Postfix sasl_passwd importer (secret_text.c)
 * and its formatters (secret_fmt.c) on arbitrary bytes taken as a file:
 * once through the reader's postmap logical lines, and once split at
 * each LF with no joining, so continuation lines reach the parser too.
 *
 * Asserts (abort() on violation):
 *  - a logical line is NUL-terminated, at most SECRET_LINE_MAX bytes,
 *    holds no LF, and is neither blank nor a comment;
 *  - a parse gives SK_OK, SK_ERR_NOTFOUND (blank or comment) or
 *    SK_ERR_FORMAT with a message; only SK_OK leaves fields set;
 *  - an entry has a canonical name and just I and P: a user of 1 to
 *    SECRET_ID_MAX bytes with no ':' and no leading blank, a password of
 *    1 to SECRET_PASS_MAX bytes with no NUL, LF or trailing blank;
 *  - sasl_passwd_format_line accepts every entry and parses back to the
 *    same fields, and so does authinfo_format_line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "secret_text.h"
#include "fuzz.h"

/* 1 for the white space of Postfix's ISSPACE. */
static int
is_blank(unsigned char c)
{
	return c != '\0' && strchr(SECRET_TEXT_SPACE, c) != NULL;
}

/* Formats f with fmt, parses that back with parse, and compares. */
static void
check_roundtrip(int (*fmt)(const struct secret_fields *, struct sbuf *),
    int (*parse)(const char *, size_t, struct secret_fields *, char *,
    size_t), const struct secret_fields *f)
{
	struct secret_fields g;
	struct sbuf t;
	char err[256];

	sbuf_init(&t, 2 * SECRET_LINE_MAX);
	secret_fields_init(&g);
	FUZZ_CHECK(fmt(f, &t) == SK_OK);
	FUZZ_CHECK(parse((const char *)t.data, t.len, &g, err, sizeof(err)) ==
	    SK_OK);
	FUZZ_CHECK(secret_fields_equal(f, &g));
	secret_fields_clear(&g);
	sbuf_free(&t);
}

static void
check_entry(const struct secret_fields *f)
{
	char canon[SECRET_NAME_MAX + 1];
	size_t ul = strlen(f->authid), pl = f->pass.len;

	FUZZ_CHECK(secret_name_norm(f->name, canon, sizeof(canon)) == SK_OK);
	FUZZ_CHECK(strcmp(canon, f->name) == 0);
	FUZZ_CHECK(f->set == (SECRET_F_I | SECRET_F_P));
	FUZZ_CHECK(ul > 0 && ul <= SECRET_ID_MAX);
	FUZZ_CHECK(strchr(f->authid, ':') == NULL && !is_blank(f->authid[0]));
	FUZZ_CHECK(pl > 0 && pl <= SECRET_PASS_MAX);
	FUZZ_CHECK(f->pass.data[pl] == '\0' && !is_blank(f->pass.data[pl - 1]));
	FUZZ_CHECK(memchr(f->pass.data, '\0', pl) == NULL);
	FUZZ_CHECK(memchr(f->pass.data, '\n', pl) == NULL);
	check_roundtrip(sasl_passwd_format_line, sasl_passwd_parse_line, f);
	check_roundtrip(authinfo_format_line, authinfo_parse_line, f);
}

static void
check_line(const char *line, size_t len, struct secret_fields *f)
{
	char err[256];
	int r;

	err[0] = '\0';
	r = sasl_passwd_parse_line(line, len, f, err, sizeof(err));
	FUZZ_CHECK(r == SK_OK || r == SK_ERR_NOTFOUND || r == SK_ERR_FORMAT);
	FUZZ_CHECK((r == SK_ERR_FORMAT) == (err[0] != '\0'));
	FUZZ_CHECK((r == SK_OK) == (f->set != 0));
	if (r == SK_OK)
		check_entry(f);
}

/* Logical lines, as postmap reads them. */
static void
fuzz_logical(const uint8_t *data, size_t size, struct secret_fields *f)
{
	struct secret_reader rd;
	const char *line, *p;
	size_t len;
	int r;

	secret_reader_init(&rd, data, size, SECRET_TEXT_POSTFIX);
	while ((r = secret_reader_next(&rd, &line, &len)) != SK_ERR_NOTFOUND) {
		if (r == SK_ERR_LIMIT)
			continue;
		FUZZ_CHECK(r == SK_OK && len > 0 && len <= SECRET_LINE_MAX);
		FUZZ_CHECK(line[len] == '\0');
		FUZZ_CHECK(memchr(line, '\n', len) == NULL);
		for (p = line; p < line + len && is_blank(*p); p++)
			;
		FUZZ_CHECK(p < line + len && *p != '#');
		check_line(line, len, f);
	}
	secret_reader_free(&rd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret_fields f;
	const uint8_t *p = data, *end = data + size, *nl;

	secret_fields_init(&f);
	fuzz_logical(data, size, &f);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line((const char *)p, (size_t)(nl - p), &f);
		p = nl + 1;
	}
	secret_fields_clear(&f);
	return 0;
}
