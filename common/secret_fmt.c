/*
 * secret_fmt.c: writes an entry of the secret store as sendmail's authinfo
 * and Postfix's sasl_passwd text (secret_text.h), for the socketmap
 * replies and for export.
 * Writes secrets only into the caller's wiping buffer, and refuses what a
 * format cannot carry rather than write text that reads back otherwise.
 */
#include <string.h>

#include "b64.h"
#include "err.h"
#include "secret_text.h"

/*
 * 1 when the n bytes at s may stand in an item as is. sendmail rewrites
 * a map's value as a rule's result ("%%" to "%", "%1" to an argument),
 * so a '%' goes in base64 too.
 */
static int
fmt_plain(const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\' ||
		    p[i] == '%')
			return 0;
	return 1;
}

/* Appends one item, a space before it unless it is the first. */
static int
fmt_item(struct sbuf *out, size_t start, char tag, const void *v, size_t n,
    int plain)
{
	char head[3] = { '"', tag, plain ? ':' : '=' };
	int r;

	if (n == 0 || memchr(v, '\0', n) != NULL)
		return SK_ERR_FORMAT;
	if (out->len > start && (r = sbuf_put(out, " ", 1)) != SK_OK)
		return r;
	if ((r = sbuf_put(out, head, sizeof(head))) != SK_OK)
		return r;
	if (plain)
		r = sbuf_put(out, v, n);
	else
		r = b64_encode_sbuf(v, n, out);
	return r != SK_OK ? r : sbuf_put(out, "\"", 1);
}

/* Appends the items of f; P as is when pass_plain and it can be. */
static int
fmt_items(const struct secret_fields *f, struct sbuf *out, int pass_plain)
{
	const char *ids[] = { f->authzid, f->authid, NULL, f->realm };
	static const char tags[] = "UIPR";
	static const unsigned bits[] = { SECRET_F_U, SECRET_F_I, SECRET_F_P,
	    SECRET_F_R };
	size_t start = out->len, i, n;
	int r = SK_OK;

	if (!(f->set & SECRET_F_P) || !(f->set & (SECRET_F_U | SECRET_F_I)))
		return SK_ERR_FORMAT;
	for (i = 0; i < 4 && r == SK_OK; i++) {
		if (!(f->set & bits[i]))
			continue;
		if (ids[i] == NULL)
			r = fmt_item(out, start, 'P', f->pass.data, f->pass.len,
			    pass_plain && fmt_plain(f->pass.data, f->pass.len));
		else {
			n = strnlen(ids[i], SECRET_ID_MAX + 1);
			r = fmt_item(out, start, tags[i], ids[i], n,
			    fmt_plain(ids[i], n));
		}
	}
	if (r == SK_OK && (f->set & SECRET_F_M)) {
		n = strnlen(f->mechs, sizeof(f->mechs));
		r = fmt_plain(f->mechs, n) ?
		    fmt_item(out, start, 'M', f->mechs, n, 1) : SK_ERR_FORMAT;
	}
	return r != SK_OK ? r : sbuf_terminate(out);
}

/* 1 when f->name is a canonical name, so that it reads back the same. */
static int
fmt_name_ok(const struct secret_fields *f)
{
	char canon[SECRET_NAME_MAX + 1];

	return secret_name_norm(f->name, canon, sizeof(canon)) == SK_OK &&
	    strcmp(canon, f->name) == 0;
}

int
authinfo_format_value(const struct secret_fields *f, struct sbuf *out)
{
	return fmt_items(f, out, 0);
}

int
authinfo_format_line(const struct secret_fields *f, struct sbuf *out)
{
	int r;

	if (!fmt_name_ok(f))
		return SK_ERR_FORMAT;
	if ((r = sbuf_put_str(out, SECRET_AUTHINFO_PREFIX)) != SK_OK ||
	    (strcmp(f->name, SECRET_DEFAULT_NAME) != 0 &&
	    (r = sbuf_put_str(out, f->name)) != SK_OK) ||
	    (r = sbuf_put(out, "\t", 1)) != SK_OK)
		return r;
	return fmt_items(f, out, 1);
}

/* 1 for the white space of both formats. */
static int
fmt_space(unsigned char c)
{
	return c != '\0' && strchr(SECRET_TEXT_SPACE, c) != NULL;
}

int
sasl_passwd_format_value(const struct secret_fields *f, struct sbuf *out)
{
	const char *user = (f->set & SECRET_F_I) ? f->authid :
	    (f->set & SECRET_F_U) ? f->authzid : "";
	const unsigned char *pw = f->pass.data;
	size_t n = f->pass.len;
	int r;

	/* what postmap would split or trim otherwise */
	if (!(f->set & SECRET_F_P) || n == 0 || user[0] == '\0' ||
	    fmt_space((unsigned char)user[0]) || strpbrk(user, ":\n") != NULL ||
	    memchr(pw, '\n', n) != NULL || memchr(pw, '\0', n) != NULL ||
	    fmt_space(pw[n - 1]))
		return SK_ERR_FORMAT;
	if ((r = sbuf_put_str(out, user)) != SK_OK ||
	    (r = sbuf_put(out, ":", 1)) != SK_OK ||
	    (r = sbuf_put(out, pw, n)) != SK_OK)
		return r;
	return sbuf_terminate(out);
}

int
sasl_passwd_format_line(const struct secret_fields *f, struct sbuf *out)
{
	int r;

	if (!fmt_name_ok(f))
		return SK_ERR_FORMAT;
	if ((r = sbuf_put_str(out, f->name)) != SK_OK ||
	    (r = sbuf_put(out, "\t", 1)) != SK_OK)
		return r;
	return sasl_passwd_format_value(f, out);
}
