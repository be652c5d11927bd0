/*
 * line.c: splitting and building protocol lines (see line.h).
 * Reads only within the given length and never writes past a field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"

/* Unescapes [p, p+n) in place; returns the new length. */
static size_t
line_unescape(char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\001' || i + 1 == n) {
			/* a lone \001 at the end is dropped, as Dovecot does */
			if (p[i] != '\001')
				p[o++] = p[i];
			continue;
		}
		switch (p[++i]) {
		case '0': p[o++] = '\0'; break;
		case '1': p[o++] = '\001'; break;
		case 't': p[o++] = '\t'; break;
		case 'r': p[o++] = '\r'; break;
		case 'n': p[o++] = '\n'; break;
		default: p[o++] = p[i]; break;
		}
	}
	return o;
}

int
line_split(char *line, size_t len, struct line_fields *out)
{
	char *p = line, *end = line + len, *tab;

	out->n = 0;
	if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len) != NULL)
		return SK_ERR_FORMAT;
	for (;;) {
		if (out->n == LINE_FIELDS_MAX)
			return SK_ERR_LIMIT;
		tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL)
			tab = end;
		out->f[out->n] = p;
		out->len[out->n] = line_unescape(p, (size_t)(tab - p));
		/* terminate: the TAB (or the byte after the line) is ours */
		if (tab < end)
			*tab = '\0';
		p[out->len[out->n]] = '\0';
		out->n++;
		if (tab == end)
			return SK_OK;
		p = tab + 1;
	}
}

const char *
line_str(const struct line_fields *lf, size_t i)
{
	if (i >= lf->n || strlen(lf->f[i]) != lf->len[i])
		return NULL;
	return lf->f[i];
}

int
line_param(const struct line_fields *lf, size_t start, const char *key,
    const char **val, size_t *len)
{
	size_t k = strlen(key), i;

	for (i = start; i < lf->n; i++) {
		const char *f = lf->f[i];

		if (lf->len[i] < k || memcmp(f, key, k) != 0)
			continue;
		if (lf->len[i] == k) {
			*val = "";
			if (len != NULL)
				*len = 0;
			return 1;
		}
		if (f[k] == '=') {
			*val = f + k + 1;
			if (len != NULL)
				*len = lf->len[i] - k - 1;
			return 1;
		}
	}
	return 0;
}

/* Appends n bytes with \001, TAB, CR, LF and NUL escaped. */
static int
line_escaped(struct sbuf *out, const unsigned char *p, size_t n)
{
	size_t i, start = 0;
	char esc[2] = { '\001', 0 };
	int r;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '\0': esc[1] = '0'; break;
		case '\001': esc[1] = '1'; break;
		case '\t': esc[1] = 't'; break;
		case '\r': esc[1] = 'r'; break;
		case '\n': esc[1] = 'n'; break;
		default: continue;
		}
		if ((r = sbuf_put(out, p + start, i - start)) != SK_OK ||
		    (r = sbuf_put(out, esc, 2)) != SK_OK)
			return r;
		start = i + 1;
	}
	return sbuf_put(out, p + start, n - start);
}

int
line_put_cmd(struct sbuf *out, const char *cmd)
{
	return line_escaped(out, (const unsigned char *)cmd, strlen(cmd));
}

int
line_put_id(struct sbuf *out, unsigned long id)
{
	char num[LINE_NUM_MAX];
	int n = snprintf(num, sizeof(num), "%lu", id);

	return line_put(out, num, (size_t)n);
}

int
line_put(struct sbuf *out, const void *p, size_t n)
{
	int r;

	if ((r = sbuf_put_u8(out, '\t')) != SK_OK)
		return r;
	return line_escaped(out, p, n);
}

int
line_put_str(struct sbuf *out, const char *s)
{
	return line_put(out, s, strlen(s));
}

int
line_put_kv(struct sbuf *out, const char *key, const void *val, size_t n)
{
	int r;

	if ((r = sbuf_put_u8(out, '\t')) != SK_OK ||
	    (r = line_escaped(out, (const unsigned char *)key, strlen(key))) !=
	    SK_OK || (r = sbuf_put_u8(out, '=')) != SK_OK)
		return r;
	return line_escaped(out, val, n);
}

int
line_put_kv_str(struct sbuf *out, const char *key, const char *val)
{
	return line_put_kv(out, key, val, strlen(val));
}

int
line_put_kv_uint(struct sbuf *out, const char *key, unsigned long v)
{
	char num[LINE_NUM_MAX];
	int n = snprintf(num, sizeof(num), "%lu", v);

	return line_put_kv(out, key, num, (size_t)n);
}

int
line_end(struct sbuf *out)
{
	return sbuf_put_u8(out, '\n');
}

int
line_id(const char *s, unsigned long *id)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 10)
		return -1;
	*id = strtoul(s, &end, 10);
	return *end == '\0' && *id <= 4294967295UL ? 0 : -1;
}
