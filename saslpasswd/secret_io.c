/*
 * secret_io.c: moving credentials into the secret store from sendmail's
 * authinfo text or Postfix's sasl_passwd text (import), and out again
 * (export, root only, for a move away). The text is read into a wiping
 * buffer, every line is checked before any is sent, and messages name
 * lines, never a password.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "err.h"
#include "log.h"
#include "saslpasswd.h"
#include "sbuf.h"
#include "secret_fields.h"
#include "smap_proto.h"

#define SEC_FILE_MAX	(16u << 20)	/* an import file */

static int
sec_format(const char *s, enum secret_text_format *f)
{
	if (strcmp(s, SMAP_MAP_AUTHINFO) == 0)
		*f = SECRET_TEXT_SENDMAIL;
	else if (strcmp(s, SMAP_MAP_SASL_PASSWD) == 0)
		*f = SECRET_TEXT_POSTFIX;
	else {
		log_error("%s: the formats are authinfo (sendmail) and "
		    "sasl_passwd (Postfix)", s);
		return EXIT_USAGE;
	}
	return 0;
}

/* The whole file (or stdin for "-") into a wiping buffer. */
static int
sec_slurp(const char *file, struct sbuf *b)
{
	char buf[4096];
	ssize_t n;
	int fd = strcmp(file, "-") == 0 ? STDIN_FILENO :
	    open(file, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		log_error("%s: %s", file, strerror(errno));
		return EXIT_NOINPUT;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (sbuf_put(b, buf, (size_t)n) != SK_OK) {
			n = -2;
			break;
		}
	explicit_bzero(buf, sizeof(buf));
	if (fd != STDIN_FILENO)
		close(fd);
	if (n == -2) {
		log_error("%s: larger than %u bytes", file, SEC_FILE_MAX);
		return EXIT_DATAERR;
	}
	if (n < 0) {
		log_error("%s: %s", file, strerror(errno));
		return EXIT_IOERR;
	}
	return 0;
}

/* Parses one line of either format. */
static int
sec_parse_line(enum secret_text_format fmt, const char *line, size_t len,
    struct secret_fields *f, char *err, size_t errlen)
{
	return fmt == SECRET_TEXT_SENDMAIL ?
	    authinfo_parse_line(line, len, f, err, errlen) :
	    sasl_passwd_parse_line(line, len, f, err, errlen);
}

/* The entry of f, for libsecret: only the fields f sets. */
static void
sec_entry(const struct secret_fields *f, struct sksecret_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->name = f->name;
	e->authzid = (f->set & SECRET_F_U) ? f->authzid : NULL;
	e->authid = (f->set & SECRET_F_I) ? f->authid : NULL;
	e->password = (f->set & SECRET_F_P) ? (const char *)f->pass.data : NULL;
	e->realm = (f->set & SECRET_F_R) ? f->realm : NULL;
	e->mechs = (f->set & SECRET_F_M) ? f->mechs : NULL;
	e->label = (f->set & SECRET_F_L) ? f->label : NULL;
}

/*
 * One pass over the text: with send 0, counts the entries and reports
 * every bad line; with send 1, sends each entry (replacing one of the
 * same name, its grants kept).
 */
static int
sec_import_pass(struct sp_ctx *sp, const struct sbuf *text,
    enum secret_text_format fmt, const char *file, int send, size_t *n)
{
	struct secret_reader rd;
	struct secret_fields f;
	struct sksecret_entry e;
	const char *line;
	char err[256];
	size_t len;
	int r, bad = 0, rr = 0;

	*n = 0;
	secret_reader_init(&rd, text->data, text->len, fmt);
	secret_fields_init(&f);
	while (rr == 0 && (r = secret_reader_next(&rd, &line, &len)) !=
	    SK_ERR_NOTFOUND) {
		secret_fields_clear(&f);
		if (r == SK_ERR_LIMIT)
			snprintf(err, sizeof(err), "longer than %d bytes",
			    SECRET_LINE_MAX);
		else if (r != SK_OK) {
			rr = EXIT_SOFTWARE;
			break;
		}
		if (r == SK_OK)
			r = sec_parse_line(fmt, line, len, &f, err, sizeof(err));
		if (r == SK_ERR_NOTFOUND)
			continue;	/* a blank or comment line */
		if (r != SK_OK) {
			if (!send)
				log_error("%s:%zu: %s", file, rd.lineno, err);
			bad = 1;
			continue;
		}
		(*n)++;
		if (!send)
			continue;
		sec_entry(&f, &e);
		if ((r = sksecret_admin_secret_set(sp->ad, &e,
		    SKSECRET_SET_REPLACE)) != SKSECRET_OK)
			rr = sp_online_fail(sp, f.name, r);
	}
	secret_fields_clear(&f);
	secret_reader_free(&rd);
	if (rr != 0)
		return rr;
	return bad ? EXIT_DATAERR : 0;
}

int
sp_secret_import(struct sp_ctx *sp, const char *format, const char *file)
{
	enum secret_text_format fmt;
	struct sbuf text;
	size_t n;
	int r;

	if ((r = sec_format(format, &fmt)) != 0)
		return r;
	sbuf_init(&text, SEC_FILE_MAX);
	if ((r = sec_slurp(file, &text)) == 0 &&
	    (r = sec_import_pass(sp, &text, fmt, file, 0, &n)) != 0)
		log_error("%s: nothing was imported", file);
	if (r == 0 && (r = sec_import_pass(sp, &text, fmt, file, 1, &n)) == 0)
		printf("%zu entr%s imported\n", n, n == 1 ? "y" : "ies");
	sbuf_free(&text);
	return r;
}

struct sec_export {
	enum secret_text_format fmt;
	int bad;
};

/* One exported entry, as a line of the format. */
static int
sec_export_one(const struct sksecret_entry *e, void *arg)
{
	struct sec_export *x = arg;
	struct secret_fields f;
	struct sbuf out;
	int r;

	if (x->fmt == SECRET_TEXT_POSTFIX &&
	    strcmp(e->name, SECRET_DEFAULT_NAME) == 0) {
		log_warn("%s: left out: Postfix's sasl_passwd has no default "
		    "entry", e->name);
		return 0;
	}
	secret_fields_init(&f);
	r = secret_fields_from(&f, e->name, e->authzid, e->authid, e->password,
	    e->realm, e->mechs, e->label);
	sbuf_init(&out, SECRET_LINE_MAX * 2);
	if (r == SK_OK)
		r = x->fmt == SECRET_TEXT_SENDMAIL ? authinfo_format_line(&f, &out) :
		    sasl_passwd_format_line(&f, &out);
	if (r == SK_OK)
		printf("%.*s\n", (int)out.len, (const char *)out.data);
	else {
		log_error("%s: cannot be written in this format: %s", e->name,
		    sk_strerror(r));
		x->bad = 1;
	}
	sbuf_free(&out);
	secret_fields_clear(&f);
	return 0;
}

int
sp_secret_export(struct sp_ctx *sp, const char *format)
{
	struct sec_export x = { 0, 0 };
	unsigned long n;
	int r;

	if ((r = sec_format(format, &x.fmt)) != 0)
		return r;
	if ((r = sksecret_admin_secret_export(sp->ad, sec_export_one, &x,
	    &n)) != SKSECRET_OK)
		return sp_online_fail(sp, "export", r);
	fflush(stdout);
	return x.bad ? EXIT_DATAERR : 0;
}
