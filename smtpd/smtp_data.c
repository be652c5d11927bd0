/*
 * smtp_data.c: a message's bytes after DATA or in BDAT chunks, one state
 * per byte, so that chunk boundaries fall anywhere. Only CRLF.CRLF ends
 * DATA (smtp_data.h); a bare LF or CR is data, flagged, and never a line
 * end. Must never read past the input nor write past its buffer.
 */
#include <string.h>

#include "smtp_data.h"

enum {
	ST_BOL,		/* at the start of a line (after CRLF) */
	ST_DOT,		/* "." at the start of a line */
	ST_DOT_CR,	/* ".\r" at the start of a line */
	ST_MID,		/* inside a line */
	ST_CR,		/* "\r" inside a line, LF awaited */
};

void
smtp_data_init(struct smtp_data *d, int mode, size_t max_size,
    size_t max_line, unsigned reject, smtp_data_sink *sink, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->max_size = max_size;
	d->max_line = max_line < 3 ? 3 : max_line;
	d->reject = reject | SMTP_DATA_TOO_BIG;
	d->sink = sink;
	d->ctx = ctx;
	d->state = ST_BOL;
}

/* Gives the buffered output to the sink. */
static int
flush(struct smtp_data *d)
{
	/* what emit kept came before any rejected flag: it may go */
	if (d->buflen > 0 && !d->sink_failed &&
	    d->sink(d->ctx, d->buf, d->buflen) != 0)
		d->sink_failed = 1;
	d->buflen = 0;
	return d->sink_failed ? -1 : 0;
}

/* One byte of the message, counted against the size limit. */
static void
emit(struct smtp_data *d, unsigned char c)
{
	if (++d->size > d->max_size)
		d->flags |= SMTP_DATA_TOO_BIG;
	if (d->flags & d->reject)
		return;		/* nothing more is kept */
	if (d->buflen == sizeof(d->buf))
		(void)flush(d);
	d->buf[d->buflen++] = c;
}

/* One octet of a line's text (not its CRLF), counted against max_line. */
static void
text(struct smtp_data *d, unsigned char c)
{
	if (c == '\0')
		d->flags |= SMTP_DATA_NUL;
	if (++d->line_len > d->max_line - 2)
		d->flags |= SMTP_DATA_LONG_LINE;
	emit(d, c);
}

/* A line ends with CRLF: it is stored with LF. */
static void
eol(struct smtp_data *d)
{
	d->size++;		/* counted as CRLF, as SIZE (RFC 1870) counts */
	emit(d, '\n');
	d->line_len = 0;
	d->state = ST_BOL;
}

/* A bare LF: data, flagged; the line goes on (no end of line). */
static void
bare_lf(struct smtp_data *d)
{
	d->flags |= SMTP_DATA_BARE_LF;
	text(d, '\n');
	d->state = ST_MID;
}

/* A CR that no LF followed: data, flagged. */
static void
bare_cr(struct smtp_data *d)
{
	d->flags |= SMTP_DATA_BARE_CR;
	text(d, '\r');
}

/* A byte in the middle of a line (ST_MID). */
static void
mid(struct smtp_data *d, unsigned char c)
{
	if (c == '\r')
		d->state = ST_CR;
	else if (c == '\n')
		bare_lf(d);
	else {
		text(d, c);
		d->state = ST_MID;
	}
}

/* One byte; 1 when it completed the end mark. */
static int
step(struct smtp_data *d, unsigned char c)
{
	switch (d->state) {
	case ST_BOL:
		if (c == '.' && d->mode == SMTP_DATA_DOT) {
			d->state = ST_DOT;
			d->line_len = 1;	/* the stuffed dot is on the wire */
		} else
			mid(d, c);
		return 0;
	case ST_DOT:
		if (c == '\r')
			d->state = ST_DOT_CR;
		else
			mid(d, c);	/* the first dot was stuffing */
		return 0;
	case ST_DOT_CR:
		if (c == '\n')
			return 1;	/* CRLF . CRLF */
		bare_cr(d);		/* ".\r" then something else */
		d->state = ST_MID;
		mid(d, c);
		return 0;
	case ST_CR:
		if (c == '\n')
			eol(d);
		else {
			bare_cr(d);
			d->state = ST_MID;
			mid(d, c);
		}
		return 0;
	default:
		mid(d, c);
		return 0;
	}
}

int
smtp_data_feed(struct smtp_data *d, const unsigned char *p, size_t n,
    size_t *used, int *done)
{
	size_t i;

	*done = 0;
	for (i = 0; i < n; i++)
		if (step(d, p[i])) {
			*done = 1;
			i++;
			break;
		}
	*used = i;
	return flush(d);
}

int
smtp_data_finish(struct smtp_data *d)
{
	if (d->mode == SMTP_DATA_RAW) {
		if (d->state == ST_CR)
			bare_cr(d);
	}
	d->state = ST_BOL;
	return flush(d);
}
