/*
 * smtp_data.h: the reader of a message's bytes after DATA (RFC 5321
 * §4.1.1.4, §4.5.2) or in BDAT chunks (RFC 3030), fed as they arrive.
 *
 * Against SMTP smuggling, only CRLF "." CRLF ends DATA: a bare LF or a bare
 * CR never ends a line, so neither <LF>.<LF> nor <LF>.<CR><LF> nor
 * <CR>.<CR> can end a message early and start another. Lines are
 * dot-unstuffed, CRLF becomes LF (the form Maildir and sendmail -i take),
 * and what breaks the rules is flagged, never repaired silently: the
 * session rejects the message once its end has been read.
 */
#ifndef SMTPD_SMTP_DATA_H
#define SMTPD_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

/* a text line, CRLF included (RFC 5321 §4.5.3.1.6): the usual max_line */
#define SMTP_DATA_LINE_MAX	1000

/* modes */
#define SMTP_DATA_DOT		0	/* after DATA: ends at CRLF.CRLF */
#define SMTP_DATA_RAW		1	/* BDAT: no end mark, no stuffing */

/* flags of what was wrong with the message, seen so far */
#define SMTP_DATA_BARE_LF	0x01	/* LF without CR before it */
#define SMTP_DATA_BARE_CR	0x02	/* CR without LF after it */
#define SMTP_DATA_NUL		0x04	/* a NUL byte (not 8BITMIME) */
#define SMTP_DATA_LONG_LINE	0x08	/* a line over max_line octets */
#define SMTP_DATA_TOO_BIG	0x10	/* over max_size octets */

/* Where the message goes: returns 0, or non-zero to stop (an I/O error). */
typedef int smtp_data_sink(void *ctx, const unsigned char *p, size_t n);

struct smtp_data {
	int mode;
	size_t max_size;	/* octets after unstuffing, CRLF counted as 2 */
	size_t max_line;	/* octets of a line, CRLF included (1000) */
	unsigned reject;	/* flags that stop the copy to the sink */
	smtp_data_sink *sink;
	void *ctx;
	int state;
	int sink_failed;
	unsigned flags;		/* SMTP_DATA_*: what was seen */
	size_t line_len;
	uint64_t size;		/* octets given to the message */
	unsigned char buf[8192];	/* output not yet given to the sink */
	size_t buflen;
};

/*
 * Prepares a reader. reject: the flags after which nothing more goes to
 * the sink (the session will reject the message anyway); TOO_BIG always
 * stops the copy.
 */
void smtp_data_init(struct smtp_data *d, int mode, size_t max_size,
    size_t max_line, unsigned reject, smtp_data_sink *sink, void *ctx);
/*
 * Reads up to n bytes. *used gets how many were consumed: in DOT mode
 * reading stops right after the end mark, and *done is set; the bytes
 * after it are the client's next commands. 0, or -1 when the sink failed.
 */
int smtp_data_feed(struct smtp_data *d, const unsigned char *p, size_t n,
    size_t *used, int *done);
/*
 * The end: the DOT mark was read, or the last BDAT chunk. Flushes the
 * sink, and flags a CR left waiting at the end of a RAW stream. 0 or -1.
 */
int smtp_data_finish(struct smtp_data *d);

#endif
