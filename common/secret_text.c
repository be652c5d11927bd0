/*
 * secret_text.c: the line reader and the parsers of sendmail's authinfo
 * and Postfix's sasl_passwd text (secret_text.h).
 * Reads untrusted text only within the lengths it is given. A password
 * goes only into wiping buffers, and no error message quotes one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "err.h"
#include "secret_text.h"

#define QUOTE_MAX	64	/* bytes of a key or list an error quotes */

/* 1 for the white space of both formats, Postfix's ISSPACE. */
static int
text_space(char c)
{
	return memchr(SECRET_TEXT_SPACE, c, sizeof(SECRET_TEXT_SPACE) - 1) !=
	    NULL;
}

/* 1 when [p, end) is blank or its first non-blank byte is '#'. */
static int
text_skipped(const char *p, const char *end)
{
	while (p < end && text_space(*p))
		p++;
	return p == end || *p == '#';
}

/* Copies at most QUOTE_MAX bytes of [p, p + n) to dst, '?' for unprintables. */
static void
text_quote(char *dst, size_t dstlen, const char *p, size_t n)
{
	size_t i;

	if (n > QUOTE_MAX)
		n = QUOTE_MAX;
	for (i = 0; i < n && i + 1 < dstlen; i++)
		dst[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (dstlen > 0)
		dst[i] = '\0';
}

/* Writes the message to err and returns SK_ERR_FORMAT. */
static int
text_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
text_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SK_ERR_FORMAT;
}

void
secret_reader_init(struct secret_reader *rd, const void *buf, size_t len,
    enum secret_text_format format)
{
	memset(rd, 0, sizeof(*rd));
	rd->p = buf;
	rd->end = rd->p + len;
	rd->format = format;
	rd->next_lineno = 1;
	sbuf_init(&rd->line, SECRET_LINE_MAX);
}

void
secret_reader_free(struct secret_reader *rd)
{
	sbuf_free(&rd->line);
}

/* Takes the physical line at rd->p: returns its end, moves rd->p past it. */
static const char *
reader_take(struct secret_reader *rd, const char **start)
{
	const char *eol = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));

	if (eol == NULL)
		eol = rd->end;
	*start = rd->p;
	rd->p = eol < rd->end ? eol + 1 : eol;
	rd->next_lineno++;
	return eol;
}

/*
 * Gathers one logical line of postmap(1) into rd->line: SK_OK, or
 * SK_ERR_NOTFOUND when only skipped lines were left, SK_ERR_LIMIT.
 */
static int
reader_logical(struct secret_reader *rd)
{
	const char *s, *eol;
	int started = 0, r = SK_OK;

	while (rd->p < rd->end) {
		if (started && !text_space(*rd->p) && *rd->p != '#')
			break;
		if (!started)
			rd->lineno = rd->next_lineno;
		eol = reader_take(rd, &s);
		if (text_skipped(s, eol))
			continue;
		started = 1;
		if (r == SK_OK)
			r = sbuf_put(&rd->line, s, (size_t)(eol - s));
	}
	if (!started)
		return SK_ERR_NOTFOUND;
	return r;
}

int
secret_reader_next(struct secret_reader *rd, const char **line, size_t *len)
{
	const char *s, *eol;
	int r;

	sbuf_reset(&rd->line);
	if (rd->format == SECRET_TEXT_POSTFIX) {
		r = reader_logical(rd);
	} else if (rd->p < rd->end) {
		rd->lineno = rd->next_lineno;
		eol = reader_take(rd, &s);
		r = sbuf_put(&rd->line, s, (size_t)(eol - s));
	} else
		r = SK_ERR_NOTFOUND;
	if (r == SK_OK)
		r = sbuf_terminate(&rd->line);
	if (r != SK_OK) {
		sbuf_reset(&rd->line);
		return r;
	}
	*line = (const char *)rd->line.data;
	*len = rd->line.len;
	return SK_OK;
}

/* Checks a line's start: the blank and comment lines, a NUL, a blank first. */
static int
text_line_start(const char *line, size_t len, const char *what, char *err,
    size_t errlen)
{
	if (text_skipped(line, line + len))
		return SK_ERR_NOTFOUND;
	if (memchr(line, '\0', len) != NULL)
		return text_fail(err, errlen, "the line holds a NUL byte");
	if (text_space(line[0]))
		return text_fail(err, errlen, "the line starts with white "
		    "space where %s should be", what);
	return SK_OK;
}

/* Says why the key [p, end) is not a name; SK_ERR_FORMAT. */
static int
text_name_fail(const char *p, const char *end, char *err, size_t errlen)
{
	char q[QUOTE_MAX + 1];

	text_quote(q, sizeof(q), p, (size_t)(end - p));
	if (memchr(p, '@', (size_t)(end - p)) != NULL)
		return text_fail(err, errlen, "\"%s\": sender-dependent keys "
		    "(user@domain, @domain) are not kept by saslkit: key the "
		    "entry by the next hop's name", q);
	return text_fail(err, errlen, "\"%s\": not a host name, [host], "
	    "[address] or one of them with :port", q);
}

/*
 * The value of an item (n bytes at val, ':' as is or '=' base64) into
 * out, a wiping buffer: SK_OK when it is 1 to max bytes with no NUL.
 */
static int
item_value(char tag, char delim, const char *val, size_t n, size_t max,
    struct sbuf *out, char *err, size_t errlen)
{
	int r;

	if (delim == ':')
		r = sbuf_put(out, val, n);
	else if ((r = b64_decode_sbuf(val, n, out)) == SK_ERR_FORMAT)
		return text_fail(err, errlen, "%c: the value after '=' is "
		    "not base64", tag);
	if (r == SK_ERR_NOMEM)
		return r;
	if (r == SK_ERR_LIMIT || out->len > max)
		return text_fail(err, errlen, "%c: the value is longer than "
		    "%zu bytes", tag, max);
	if (out->len == 0)
		return text_fail(err, errlen, "%c: the value is empty", tag);
	if (memchr(out->data, '\0', out->len) != NULL)
		return text_fail(err, errlen, "%c: the value holds a NUL byte",
		    tag);
	return sbuf_terminate(out);
}

/* Stores one item's value, whose tag is known, in f. */
static int
item_store(struct secret_fields *f, char tag, char delim, const char *val,
    size_t n, char *err, size_t errlen)
{
	struct sbuf v;
	char q[QUOTE_MAX + 1];
	char *dst = tag == 'U' ? f->authzid : tag == 'I' ? f->authid :
	    f->realm;
	size_t max = tag == 'P' ? SECRET_PASS_MAX : tag == 'M' ?
	    SECRET_LINE_MAX : SECRET_ID_MAX;
	int r;

	sbuf_init(&v, SECRET_LINE_MAX);
	if ((r = item_value(tag, delim, val, n, max, &v, err, errlen)) != SK_OK)
		goto out;
	if (tag == 'P') {
		if ((r = sbuf_put(&f->pass, v.data, v.len)) == SK_OK)
			r = sbuf_terminate(&f->pass);
	} else if (tag == 'M') {
		r = secret_mechs_norm((char *)v.data, v.len, f->mechs,
		    sizeof(f->mechs));
		if (r != SK_OK) {
			text_quote(q, sizeof(q), (char *)v.data, v.len);
			r = text_fail(err, errlen, "M: \"%s\" is not a list of "
			    "SASL mechanism names, or is longer than %d bytes",
			    q, SECRET_MECHS_MAX);
		}
	} else
		memcpy(dst, v.data, v.len + 1);
out:
	sbuf_free(&v);
	return r;
}

/* The field bit of an item's tag, in either case; 0 for no tag of ours. */
static unsigned
item_bit(char *tag)
{
	static const char tags[] = "UIPRM";
	static const unsigned bits[] = { SECRET_F_U, SECRET_F_I, SECRET_F_P,
	    SECRET_F_R, SECRET_F_M };
	const char *t;

	if (*tag >= 'a' && *tag <= 'z')
		*tag = (char)(*tag - 'a' + 'A');
	if (*tag == '\0' || (t = strchr(tags, *tag)) == NULL)
		return 0;
	return bits[t - tags];
}

/* Parses the item that starts at *pp (its '"'), the idx-th, into f. */
static int
authinfo_item(const char **pp, const char *end, int idx,
    struct secret_fields *f, char *err, size_t errlen)
{
	const char *p = *pp, *close;
	char tag;
	unsigned bit;
	int r;

	if (*p != '"')
		return text_fail(err, errlen, "item %d: want a quoted item "
		    "such as \"P:password\"", idx);
	if (end - p < 3)
		return text_fail(err, errlen, "item %d: cut short", idx);
	tag = p[1];
	if ((bit = item_bit(&tag)) == 0)
		return text_fail(err, errlen, "item %d: the tag is not U, I, "
		    "P, R or M", idx);
	if (p[2] != ':' && p[2] != '=')
		return text_fail(err, errlen, "%c: want ':' or '=' after the "
		    "tag", tag);
	if ((close = memchr(p + 3, '"', (size_t)(end - p - 3))) == NULL)
		return text_fail(err, errlen, "%c: no closing quote", tag);
	if (p[2] == ':' && close > p + 3 && close[-1] == '\\')
		return text_fail(err, errlen, "%c: sendmail reads the '\\' "
		    "before the closing quote as an escape: give the value "
		    "in the %c= base64 form", tag, tag);
	if (f->set & bit)
		return text_fail(err, errlen, "%c: given twice", tag);
	if ((r = item_store(f, tag, p[2], p + 3, (size_t)(close - p - 3),
	    err, errlen)) != SK_OK)
		return r;
	f->set |= bit;
	*pp = close + 1;
	return SK_OK;
}

/* The key, "AuthInfo:" then a name or nothing, at [p, end), into f. */
static int
authinfo_key(const char *p, const char *end, struct secret_fields *f,
    char *err, size_t errlen)
{
	size_t k = strlen(SECRET_AUTHINFO_PREFIX), n = (size_t)(end - p);

	if (authinfo_key_norm(p, n, f->name, sizeof(f->name)) == SK_OK)
		return SK_OK;
	if (n < k || strncasecmp(p, SECRET_AUTHINFO_PREFIX, k) != 0)
		return text_fail(err, errlen, "the key does not start with "
		    SECRET_AUTHINFO_PREFIX);
	return text_name_fail(p + k, end, err, errlen);
}

int
authinfo_parse_line(const char *line, size_t len, struct secret_fields *f,
    char *err, size_t errlen)
{
	const char *p = line, *end = line + len;
	int r, idx = 0;

	secret_fields_clear(f);
	if ((r = text_line_start(line, len, "the " SECRET_AUTHINFO_PREFIX
	    "host key", err, errlen)) != SK_OK)
		return r;
	while (p < end && !text_space(*p))
		p++;
	if ((r = authinfo_key(line, p, f, err, errlen)) != SK_OK)
		goto fail;
	for (;;) {
		while (p < end && text_space(*p))
			p++;
		if (p == end)
			break;
		r = authinfo_item(&p, end, ++idx, f, err, errlen);
		if (r != SK_OK)
			goto fail;
	}
	if (!(f->set & SECRET_F_P))
		r = text_fail(err, errlen, "no \"P:\" item: sendmail needs a "
		    "password");
	else if (!(f->set & (SECRET_F_U | SECRET_F_I)))
		r = text_fail(err, errlen, "neither a \"U:\" nor an \"I:\" "
		    "item: sendmail needs a user");
	if (r == SK_OK)
		return SK_OK;
fail:
	secret_fields_clear(f);
	return r;
}

/* The value "user:password" at [v, end), trailing blanks trimmed, into f. */
static int
sasl_passwd_value(const char *v, const char *end, struct secret_fields *f,
    char *err, size_t errlen)
{
	const char *colon;
	int r;

	if (v == end)
		return text_fail(err, errlen, "no value after the key: want "
		    "user:password");
	if ((colon = memchr(v, ':', (size_t)(end - v))) == NULL)
		return text_fail(err, errlen, "the value has no ':' between "
		    "user and password");
	if (colon == v)
		return text_fail(err, errlen, "no user before the ':'");
	if (colon - v > SECRET_ID_MAX)
		return text_fail(err, errlen, "the user is longer than %d "
		    "bytes", SECRET_ID_MAX);
	if (colon + 1 == end)
		return text_fail(err, errlen, "no password after the ':'");
	if (end - colon - 1 > SECRET_PASS_MAX)
		return text_fail(err, errlen, "the password is longer than %d "
		    "bytes", SECRET_PASS_MAX);
	memcpy(f->authid, v, (size_t)(colon - v));
	f->authid[colon - v] = '\0';
	if ((r = sbuf_put(&f->pass, colon + 1, (size_t)(end - colon - 1))) !=
	    SK_OK || (r = sbuf_terminate(&f->pass)) != SK_OK)
		return r;
	f->set |= SECRET_F_I | SECRET_F_P;
	return SK_OK;
}

int
sasl_passwd_parse_line(const char *line, size_t len, struct secret_fields *f,
    char *err, size_t errlen)
{
	const char *p = line, *end = line + len;
	int r;

	secret_fields_clear(f);
	if ((r = text_line_start(line, len, "the key", err, errlen)) != SK_OK)
		return r;
	while (p < end && !text_space(*p))
		p++;
	if (secret_name_normn(line, (size_t)(p - line), f->name,
	    sizeof(f->name)) != SK_OK) {
		r = text_name_fail(line, p, err, errlen);
		goto fail;
	}
	while (p < end && text_space(*p))
		p++;
	while (end > p && text_space(end[-1]))
		end--;
	if ((r = sasl_passwd_value(p, end, f, err, errlen)) == SK_OK)
		return SK_OK;
fail:
	secret_fields_clear(f);
	return r;
}
