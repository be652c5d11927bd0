/*
 * smtp_addr.c: paths and domains of MAIL and RCPT, and the kind of a
 * HELO argument (smtp_addr.h). Reads only within the line and writes
 * only within struct smtp_path; never logs or exits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "smtp_addr.h"

#define SMTP_LABEL_MAX	63		/* a label's octets, RFC 1035 */
#define SMTP_IPV6_TAG	"IPv6:"		/* RFC 5321 §4.1.3 */
#define SMTP_POSTMASTER	"Postmaster"	/* RFC 5321 §4.1.1.3, any case */

/*
 * Is [p, p+n) a domain: labels of 1-63 octets joined by dots, each made
 * of letters, digits and hyphens with no hyphen at either end, 255
 * octets at most? With utf8, well-formed UTF-8 counts as a letter.
 */
static int
domain_valid(const unsigned char *p, size_t n, int utf8)
{
	size_t i = 0, start, k;

	if (n == 0 || n > SMTP_DOMAIN_MAX)
		return 0;
	for (;;) {
		start = i;
		while (i < n && p[i] != '.') {
			if (p[i] >= 0x80) {
				if (!utf8 ||
				    (k = smtp_lex_utf8(p + i, n - i)) == 0)
					return 0;
				i += k;
			} else if (smtp_lex_letdig(p[i]) || p[i] == '-')
				i++;
			else
				return 0;
		}
		if (i == start || i - start > SMTP_LABEL_MAX ||
		    p[start] == '-' || p[i - 1] == '-')
			return 0;
		if (i == n)
			return 1;
		i++;
	}
}

/* What the address literal [p, p+n), brackets included, is. */
static enum smtp_host_kind
literal_kind(const unsigned char *p, size_t n)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];
	size_t tag = strlen(SMTP_IPV6_TAG);
	enum smtp_host_kind kind = SMTP_HOST_IPV4;
	int af = AF_INET;

	if (n < 2 || p[0] != '[' || p[n - 1] != ']')
		return SMTP_HOST_NONE;
	p++;
	n -= 2;
	if (n >= tag && smtp_lex_caseeq(p, SMTP_IPV6_TAG, tag)) {
		p += tag;
		n -= tag;
		af = AF_INET6;
		kind = SMTP_HOST_IPV6;
	}
	if (n == 0 || n >= sizeof(buf) || memchr(p, '\0', n) != NULL)
		return SMTP_HOST_NONE;
	smtp_lex_copy(buf, p, n);
	return inet_pton(af, buf, addr) == 1 ? kind : SMTP_HOST_NONE;
}

enum smtp_host_kind
smtp_addr_host_kind(const unsigned char *p, size_t n, int utf8)
{
	if (n > 0 && p[0] == '[')
		return literal_kind(p, n);
	return domain_valid(p, n, utf8) ? SMTP_HOST_DOMAIN : SMTP_HOST_NONE;
}

/*
 * Length of the domain at the cursor, not yet checked: a literal up to
 * its "]", or a run of the bytes a domain may hold.
 */
static size_t
domain_span(const struct smtp_lex *s)
{
	const unsigned char *p = s->p + s->off, *q;
	size_t n = s->len - s->off, i;

	if (n > 0 && p[0] == '[') {
		q = memchr(p, ']', n);
		return q == NULL ? n : (size_t)(q - p) + 1;
	}
	for (i = 0; i < n && (smtp_lex_letdig(p[i]) || p[i] == '-' ||
	    p[i] == '.' || p[i] >= 0x80); i++)
		;
	return i;
}

/* Skips a source route "@a,@b:" (ASCII domains only); 0 or -1. */
static int
scan_route(struct smtp_lex *s)
{
	size_t n;

	do {
		if (!smtp_lex_char(s, '@'))
			return -1;
		n = domain_span(s);
		if (!domain_valid(s->p + s->off, n, 0))
			return -1;
		s->off += n;
	} while (smtp_lex_char(s, ','));
	return smtp_lex_char(s, ':') ? 0 : -1;
}

/* Skips a dot-string: atoms of atext or UTF-8 joined by single dots. */
static int
scan_dot_string(struct smtp_lex *s)
{
	size_t atom = 0;
	int c;

	for (;;) {
		c = smtp_lex_peek(s);
		if (c == '.') {
			if (atom == 0)
				return -1;
			atom = 0;
			s->off++;
		} else if (c >= 0x80) {
			if (!smtp_lex_utf8_skip(s))
				return -1;
			atom++;
		} else if (smtp_lex_atext(c)) {
			s->off++;
			atom++;
		} else
			return atom > 0 ? 0 : -1;
	}
}

/* Skips a quoted-string (RFC 5321 §4.1.2, with RFC 6531's UTF-8). */
static int
scan_quoted(struct smtp_lex *s)
{
	int c;

	s->off++;
	for (;;) {
		c = smtp_lex_peek(s);
		if (c == '"') {
			s->off++;
			return 0;
		}
		if (c == '\\') {
			s->off++;
			c = smtp_lex_peek(s);
			if (c < 32 || c > 126)
				return -1;
			s->off++;
		} else if (c >= 0x80) {
			if (!smtp_lex_utf8_skip(s))
				return -1;
		} else if (c >= 32 && c <= 126)
			s->off++;
		else
			return -1;
	}
}

/* Is [p, p+n) the unquoted local part of RCPT TO:<Postmaster>? */
static int
is_postmaster(const unsigned char *p, size_t n)
{
	return n == strlen(SMTP_POSTMASTER) &&
	    smtp_lex_caseeq(p, SMTP_POSTMASTER, n);
}

/* Sets *why to reason, and returns r. */
static int
path_fail(const char **why, const char *reason, int r)
{
	*why = reason;
	return r;
}

/* The local part at the cursor into path: NULL, or why it is bad. */
static const char *
path_local(struct smtp_lex *s, struct smtp_path *path)
{
	size_t start = s->off;

	path->quoted = smtp_lex_peek(s) == '"';
	if ((path->quoted ? scan_quoted(s) : scan_dot_string(s)) != 0)
		return "bad local part";
	if (s->off - start > SMTP_LOCAL_MAX)
		return "local part too long";
	smtp_lex_copy(path->local, s->p + start, s->off - start);
	return NULL;
}

/* "@" domain ">" at the cursor into path: NULL, or why it is bad. */
static const char *
path_domain(struct smtp_lex *s, struct smtp_path *path)
{
	size_t n;

	if (!smtp_lex_char(s, '@'))
		return "no domain in path";
	n = domain_span(s);
	if (n > SMTP_DOMAIN_MAX)
		return "domain too long";
	if ((path->domain_kind = smtp_addr_host_kind(s->p + s->off, n, 1)) ==
	    SMTP_HOST_NONE)
		return "bad domain";
	smtp_lex_copy(path->domain, s->p + s->off, n);
	s->off += n;
	if (!smtp_lex_char(s, '>'))
		return "bad domain";
	return NULL;
}

int
smtp_addr_path(struct smtp_lex *s, struct smtp_path *path, int rcpt,
    const char **why)
{
	int bad = rcpt ? SMTP_CMD_BAD_RCPT : SMTP_CMD_BAD_SENDER;
	size_t start = s->off, mbox, at;

	if (!smtp_lex_char(s, '<'))
		return path_fail(why, "path not in angle brackets", bad);
	if (smtp_lex_char(s, '>')) {
		if (rcpt)
			return path_fail(why, "empty forward-path", bad);
		path->null = 1;
		return SMTP_CMD_OK;
	}
	if (smtp_lex_peek(s) == '@') {
		if (scan_route(s) != 0)
			return path_fail(why, "bad source route", bad);
		path->route = 1;
	}
	mbox = s->off;
	if ((*why = path_local(s, path)) != NULL)
		return bad;
	at = s->off;
	if (rcpt && !path->route && is_postmaster(s->p + mbox, at - mbox) &&
	    smtp_lex_char(s, '>')) {
		path->postmaster = 1;
		smtp_lex_copy(path->addr, s->p + mbox, at - mbox);
		return SMTP_CMD_OK;
	}
	if ((*why = path_domain(s, path)) != NULL)
		return bad;
	if (s->off - start > SMTP_PATH_MAX)
		return path_fail(why, "path too long", bad);
	/* mailbox = local "@" domain, at most SMTP_PATH_MAX - 2 octets */
	smtp_lex_copy(path->addr, s->p + mbox, s->off - 1 - mbox);
	return SMTP_CMD_OK;
}
