/*
 * fuzz_authinfo.c: the sendmail authinfo importer (secret_text.c) and its
 * formatters (secret_fmt.c) on arbitrary bytes taken as a file: the
 * reader splits it into physical lines and each is parsed.
 *
 * Asserts (abort() on violation):
 *  - the reader yields exactly the lines of a split at LF, NUL-terminated,
 *    and SK_ERR_LIMIT exactly for those over SECRET_LINE_MAX;
 *  - a parse gives SK_OK, SK_ERR_NOTFOUND (blank or comment) or
 *    SK_ERR_FORMAT with a message; only SK_OK leaves fields set;
 *  - an entry has a canonical name, a password of 1 to SECRET_PASS_MAX
 *    bytes with no NUL, and U or I, as sendmail requires;
 *  - authinfo_format_line then parse, and "AuthInfo:" + name TAB
 *    authinfo_format_value then parse, give back the same fields;
 *  - sasl_passwd_format_line, when it accepts the entry, reads back as
 *    the same name, user and password.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "secret_text.h"
#include "fuzz.h"

/* Parses text with parse and checks that it gives f back. */
static void
check_reparse(int (*parse)(const char *, size_t, struct secret_fields *,
    char *, size_t), const struct sbuf *text, const struct secret_fields *f)
{
	struct secret_fields g;
	char err[256];

	secret_fields_init(&g);
	FUZZ_CHECK(text->data[text->len] == '\0');
	FUZZ_CHECK(parse((const char *)text->data, text->len, &g, err,
	    sizeof(err)) == SK_OK);
	FUZZ_CHECK(secret_fields_equal(f, &g));
	secret_fields_clear(&g);
}

/* The entry through the map value sendmail gets from a lookup. */
static void
check_value(const struct secret_fields *f)
{
	struct sbuf t;

	sbuf_init(&t, 2 * SECRET_LINE_MAX);
	FUZZ_CHECK(sbuf_put_str(&t, "AuthInfo:") == SK_OK);
	if (strcmp(f->name, SECRET_DEFAULT_NAME) != 0)
		FUZZ_CHECK(sbuf_put_str(&t, f->name) == SK_OK);
	FUZZ_CHECK(sbuf_put(&t, "\t", 1) == SK_OK);
	FUZZ_CHECK(authinfo_format_value(f, &t) == SK_OK);
	check_reparse(authinfo_parse_line, &t, f);
	sbuf_free(&t);
}

/* The entry exported to Postfix's format, when that can carry it. */
static void
check_postfix(const struct secret_fields *f)
{
	struct secret_fields g;
	struct sbuf t;
	char err[256];
	const char *user = (f->set & SECRET_F_I) ? f->authid : f->authzid;

	sbuf_init(&t, 2 * SECRET_LINE_MAX);
	secret_fields_init(&g);
	if (sasl_passwd_format_line(f, &t) == SK_OK) {
		FUZZ_CHECK(sasl_passwd_parse_line((const char *)t.data, t.len,
		    &g, err, sizeof(err)) == SK_OK);
		FUZZ_CHECK(strcmp(g.name, f->name) == 0);
		FUZZ_CHECK(strcmp(g.authid, user) == 0);
		FUZZ_CHECK(g.pass.len == f->pass.len &&
		    memcmp(g.pass.data, f->pass.data, f->pass.len) == 0);
	}
	secret_fields_clear(&g);
	sbuf_free(&t);
}

static void
check_entry(const struct secret_fields *f)
{
	char canon[SECRET_NAME_MAX + 1];
	struct sbuf t;

	FUZZ_CHECK(secret_name_norm(f->name, canon, sizeof(canon)) == SK_OK);
	FUZZ_CHECK(strcmp(canon, f->name) == 0);
	FUZZ_CHECK(f->set & SECRET_F_P);
	FUZZ_CHECK(f->set & (SECRET_F_U | SECRET_F_I));
	FUZZ_CHECK(f->pass.len > 0 && f->pass.len <= SECRET_PASS_MAX);
	FUZZ_CHECK(f->pass.data[f->pass.len] == '\0');
	FUZZ_CHECK(memchr(f->pass.data, '\0', f->pass.len) == NULL);
	sbuf_init(&t, 2 * SECRET_LINE_MAX);
	FUZZ_CHECK(authinfo_format_line(f, &t) == SK_OK);
	check_reparse(authinfo_parse_line, &t, f);
	sbuf_free(&t);
	check_value(f);
	check_postfix(f);
}

/*
 * Checks the reader's result r for the physical line at *pp (a plain split
 * at LF) and moves *pp past it.
 */
static void
check_read(int r, const char *line, size_t len, const uint8_t **pp,
    const uint8_t *end)
{
	const uint8_t *p = *pp, *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL)
		nl = end;
	n = (size_t)(nl - p);
	if (n > SECRET_LINE_MAX) {
		FUZZ_CHECK(r == SK_ERR_LIMIT);
	} else {
		FUZZ_CHECK(r == SK_OK && len == n && line[len] == '\0');
		FUZZ_CHECK(n == 0 || memcmp(line, p, n) == 0);
	}
	*pp = nl < end ? nl + 1 : nl;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secret_reader rd;
	struct secret_fields f;
	const uint8_t *p = data;
	const char *line = NULL;
	char err[256];
	size_t len = 0;
	int r;

	secret_reader_init(&rd, data, size, SECRET_TEXT_SENDMAIL);
	secret_fields_init(&f);
	while ((r = secret_reader_next(&rd, &line, &len)) != SK_ERR_NOTFOUND) {
		FUZZ_CHECK(p < data + size);
		check_read(r, line, len, &p, data + size);
		if (r != SK_OK)
			continue;
		err[0] = '\0';
		r = authinfo_parse_line(line, len, &f, err, sizeof(err));
		FUZZ_CHECK(r == SK_OK || r == SK_ERR_NOTFOUND ||
		    r == SK_ERR_FORMAT);
		FUZZ_CHECK((r == SK_ERR_FORMAT) == (err[0] != '\0'));
		FUZZ_CHECK((r == SK_OK) == (f.set != 0));
		if (r == SK_OK)
			check_entry(&f);
	}
	FUZZ_CHECK(p == data + size);
	secret_fields_clear(&f);
	secret_reader_free(&rd);
	return 0;
}
