/*
 * smtp_lex.c: the cursor and byte classes of SMTP command lines
 * (smtp_lex.h). Reads only within the length it is given; never
 * allocates, logs or exits.
 */
#include <string.h>

#include "smtp_lex.h"

int
smtp_lex_peek(const struct smtp_lex *l)
{
	return l->off < l->len ? l->p[l->off] : -1;
}

int
smtp_lex_char(struct smtp_lex *l, int c)
{
	if (smtp_lex_peek(l) != c)
		return 0;
	l->off++;
	return 1;
}

int
smtp_lex_word(struct smtp_lex *l, const char *w)
{
	size_t n = strlen(w);

	if (l->len - l->off < n || !smtp_lex_caseeq(l->p + l->off, w, n))
		return 0;
	l->off += n;
	return 1;
}

int
smtp_lex_digit(int c)
{
	return c >= '0' && c <= '9';
}

int
smtp_lex_letdig(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    smtp_lex_digit(c);
}

int
smtp_lex_atext(int c)
{
	return smtp_lex_letdig(c) || (c > 0 && c < 0x80 &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int
smtp_lex_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

int
smtp_lex_caseeq(const unsigned char *p, const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (smtp_lex_upper(p[i]) != smtp_lex_upper((unsigned char)w[i]))
			return 0;
	return 1;
}

size_t
smtp_lex_utf8(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

int
smtp_lex_utf8_skip(struct smtp_lex *l)
{
	size_t k;

	if (l->off >= l->len ||
	    (k = smtp_lex_utf8(l->p + l->off, l->len - l->off)) == 0)
		return 0;
	l->off += k;
	return 1;
}

void
smtp_lex_copy(char *dst, const unsigned char *p, size_t n)
{
	memcpy(dst, p, n);
	dst[n] = '\0';
}
