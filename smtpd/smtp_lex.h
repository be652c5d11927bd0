/*
 * smtp_lex.h: the bytes of one SMTP command line, for its parsers
 * (smtp_cmd.c, smtp_addr.c): a cursor that never reads past the line's
 * length, ASCII classes that no locale changes, and well-formed UTF-8
 * (RFC 3629) for SMTPUTF8 (RFC 6531).
 */
#ifndef SMTPD_SMTP_LEX_H
#define SMTPD_SMTP_LEX_H

#include <stddef.h>

/* A cursor over a line of len bytes. */
struct smtp_lex {
	const unsigned char *p;
	size_t len;
	size_t off;		/* the next byte */
};

/* The next byte, or -1 at the end of the line. */
int smtp_lex_peek(const struct smtp_lex *l);
/* Consumes c when it comes next; 1 when it did. */
int smtp_lex_char(struct smtp_lex *l, int c);
/* Consumes the ASCII word w, case aside, when it comes next; 1 when it did. */
int smtp_lex_word(struct smtp_lex *l, const char *w);

int smtp_lex_digit(int c);
/* A letter or a digit (RFC 5321 Let-dig). */
int smtp_lex_letdig(int c);
/* atext of RFC 5322 §3.2.3, ASCII part. */
int smtp_lex_atext(int c);
int smtp_lex_upper(int c);
/* Whether n bytes of p match the ASCII word w, case aside. */
int smtp_lex_caseeq(const unsigned char *p, const char *w, size_t n);
/*
 * Length of the well-formed UTF-8 sequence at p, within n bytes; 0 when
 * there is none (overlong forms, surrogates, past U+10FFFF).
 */
size_t smtp_lex_utf8(const unsigned char *p, size_t n);
/* Consumes the well-formed UTF-8 sequence at the cursor; 1 when it did. */
int smtp_lex_utf8_skip(struct smtp_lex *l);
/* Copies n bytes into dst, which holds at least n + 1, and NUL-terminates. */
void smtp_lex_copy(char *dst, const unsigned char *p, size_t n);

#endif
