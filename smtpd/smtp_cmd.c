/*
 * smtp_cmd.c: the SMTP command-line parser (smtp_cmd.h).
 * Reads only within the given length and writes only within the struct;
 * never decodes the AUTH initial response, and never logs or exits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "smtp_cmd.h"

/* A cursor over the line. */
struct scan {
	const unsigned char *p;
	size_t len;
	size_t off;
};

/* Indexed by enum smtp_verb. */
static const char *const smtp_verbs[SMTP_VERB_COUNT] = {
	"UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
	"QUIT", "VRFY", "EXPN", "HELP", "AUTH", "STARTTLS", "BDAT",
};

static int
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_letdig(int c)
{
	return is_alpha(c) || is_digit(c);
}

/* atext of RFC 5322 §3.2.3, ASCII part. */
static int
is_atext(int c)
{
	return is_letdig(c) || (c > 0 && c < 0x80 &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_b64(int c)
{
	return is_letdig(c) || c == '+' || c == '/';
}

/* A SASL mechanism name byte (RFC 4422 §3.1), either case. */
static int
is_mech(int c)
{
	return is_letdig(c) || c == '-' || c == '_';
}

static int
to_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Do n bytes of p match the ASCII word w, case aside? */
static int
caseeq(const unsigned char *p, const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (to_upper(p[i]) != to_upper((unsigned char)w[i]))
			return 0;
	return 1;
}

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629 §4) at p, within
 * n bytes; 0 when there is none: overlong forms, surrogates and code
 * points past U+10FFFF are not well-formed.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
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

static int
scan_peek(const struct scan *s)
{
	return s->off < s->len ? s->p[s->off] : -1;
}

/* Consumes c when it comes next; 1 when it did. */
static int
scan_char(struct scan *s, int c)
{
	if (scan_peek(s) != c)
		return 0;
	s->off++;
	return 1;
}

/* Consumes the ASCII word w, case aside, when it comes next. */
static int
scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if (s->len - s->off < n || !caseeq(s->p + s->off, w, n))
		return 0;
	s->off += n;
	return 1;
}

static int
fail(struct smtp_cmd *cmd, int result, const char *why)
{
	cmd->why = why;
	return result;
}

/* Copies n bytes into the pool and NUL-terminates; NULL when full. */
static char *
pool_put(struct smtp_cmd *cmd, const unsigned char *p, size_t n)
{
	char *d;

	if (n >= sizeof(cmd->pool) - cmd->pool_used)
		return NULL;
	d = cmd->pool + cmd->pool_used;
	memcpy(d, p, n);
	d[n] = '\0';
	cmd->pool_used += n + 1;
	return d;
}

/* Copies n bytes into an array that holds at least n + 1. */
static void
copy_str(char *dst, const unsigned char *p, size_t n)
{
	memcpy(dst, p, n);
	dst[n] = '\0';
}

static int
has_8bit(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= 0x80)
			return 1;
	return 0;
}

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
				if (!utf8 || (k = utf8_seq(p + i, n - i)) == 0)
					return 0;
				i += k;
			} else if (is_letdig(p[i]) || p[i] == '-')
				i++;
			else
				return 0;
		}
		if (i == start || i - start > 63 || p[start] == '-' ||
		    p[i - 1] == '-')
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
	enum smtp_host_kind kind = SMTP_HOST_IPV4;
	int af = AF_INET;

	if (n < 2 || p[0] != '[' || p[n - 1] != ']')
		return SMTP_HOST_NONE;
	p++;
	n -= 2;
	if (n >= 5 && caseeq(p, "IPv6:", 5)) {
		p += 5;
		n -= 5;
		af = AF_INET6;
		kind = SMTP_HOST_IPV6;
	}
	if (n == 0 || n >= sizeof(buf) || memchr(p, '\0', n) != NULL)
		return SMTP_HOST_NONE;
	copy_str(buf, p, n);
	return inet_pton(af, buf, addr) == 1 ? kind : SMTP_HOST_NONE;
}

static enum smtp_host_kind
host_kind(const unsigned char *p, size_t n, int utf8)
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
domain_span(const struct scan *s)
{
	const unsigned char *p = s->p + s->off, *q;
	size_t n = s->len - s->off, i;

	if (n > 0 && p[0] == '[') {
		q = memchr(p, ']', n);
		return q == NULL ? n : (size_t)(q - p) + 1;
	}
	for (i = 0; i < n && (is_letdig(p[i]) || p[i] == '-' ||
	    p[i] == '.' || p[i] >= 0x80); i++)
		;
	return i;
}

/* Skips a source route "@a,@b:" (ASCII domains only); 0 or -1. */
static int
scan_route(struct scan *s)
{
	size_t n;

	do {
		if (!scan_char(s, '@'))
			return -1;
		n = domain_span(s);
		if (!domain_valid(s->p + s->off, n, 0))
			return -1;
		s->off += n;
	} while (scan_char(s, ','));
	return scan_char(s, ':') ? 0 : -1;
}

/* Skips a dot-string: atoms of atext or UTF-8 joined by single dots. */
static int
scan_dot_string(struct scan *s)
{
	size_t atom = 0, k;
	int c;

	for (;;) {
		c = scan_peek(s);
		if (c == '.') {
			if (atom == 0)
				return -1;
			atom = 0;
			s->off++;
		} else if (c >= 0x80) {
			if ((k = utf8_seq(s->p + s->off, s->len - s->off)) == 0)
				return -1;
			s->off += k;
			atom++;
		} else if (is_atext(c)) {
			s->off++;
			atom++;
		} else
			return atom > 0 ? 0 : -1;
	}
}

/* Skips a quoted-string (RFC 5321 §4.1.2, with RFC 6531's UTF-8). */
static int
scan_quoted(struct scan *s)
{
	size_t k;
	int c;

	s->off++;
	for (;;) {
		c = scan_peek(s);
		if (c == '"') {
			s->off++;
			return 0;
		}
		if (c == '\\') {
			s->off++;
			c = scan_peek(s);
			if (c < 32 || c > 126)
				return -1;
			s->off++;
		} else if (c >= 0x80) {
			if ((k = utf8_seq(s->p + s->off, s->len - s->off)) == 0)
				return -1;
			s->off += k;
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
	return n == 10 && caseeq(p, "Postmaster", 10);
}

/* Parses "<" [route ":"] mailbox ">", or "<>", into cmd->path. */
static int
parse_path(struct scan *s, struct smtp_cmd *cmd, int rcpt)
{
	struct smtp_path *path = &cmd->path;
	int bad = rcpt ? SMTP_CMD_BAD_RCPT : SMTP_CMD_BAD_SENDER, r;
	size_t start = s->off, mbox, at, n;

	if (!scan_char(s, '<'))
		return fail(cmd, bad, "path not in angle brackets");
	if (scan_char(s, '>')) {
		if (rcpt)
			return fail(cmd, bad, "empty forward-path");
		path->null = 1;
		return SMTP_CMD_OK;
	}
	if (scan_peek(s) == '@') {
		if (scan_route(s) != 0)
			return fail(cmd, bad, "bad source route");
		path->route = 1;
	}
	mbox = s->off;
	path->quoted = scan_peek(s) == '"';
	r = path->quoted ? scan_quoted(s) : scan_dot_string(s);
	if (r != 0)
		return fail(cmd, bad, "bad local part");
	if ((at = s->off) - mbox > SMTP_LOCAL_MAX)
		return fail(cmd, bad, "local part too long");
	copy_str(path->local, s->p + mbox, at - mbox);
	if (rcpt && !path->route && is_postmaster(s->p + mbox, at - mbox) &&
	    scan_char(s, '>')) {
		path->postmaster = 1;
		copy_str(path->addr, s->p + mbox, at - mbox);
		return SMTP_CMD_OK;
	}
	if (!scan_char(s, '@'))
		return fail(cmd, bad, "no domain in path");
	n = domain_span(s);
	if (n > SMTP_DOMAIN_MAX)
		return fail(cmd, bad, "domain too long");
	if ((path->domain_kind = host_kind(s->p + s->off, n, 1)) ==
	    SMTP_HOST_NONE)
		return fail(cmd, bad, "bad domain");
	copy_str(path->domain, s->p + s->off, n);
	s->off += n;
	if (!scan_char(s, '>'))
		return fail(cmd, bad, "bad domain");
	if (s->off - start > SMTP_PATH_MAX)
		return fail(cmd, bad, "path too long");
	/* mailbox = local "@" domain, at most SMTP_PATH_MAX - 2 octets */
	copy_str(path->addr, s->p + mbox, s->off - 1 - mbox);
	return SMTP_CMD_OK;
}

/* Parses " KEY[=VALUE]" parameters up to the end of the line. */
static int
parse_params(struct scan *s, struct smtp_cmd *cmd)
{
	struct smtp_param *pa;
	size_t key, val, i;
	char *k;
	int c;

	while (s->off < s->len) {
		if (!scan_char(s, ' '))
			return fail(cmd, SMTP_CMD_SYNTAX, "junk after path");
		key = s->off;
		if (!is_letdig(scan_peek(s)))
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "bad parameter keyword");
		while (is_letdig(c = scan_peek(s)) || c == '-')
			s->off++;
		val = s->off;
		if (scan_char(s, '=')) {
			while ((c = scan_peek(s)) >= 33 && c <= 126 && c != '=')
				s->off++;
			if (s->off == val + 1)
				return fail(cmd, SMTP_CMD_SYNTAX,
				    "empty parameter value");
		}
		if (s->off < s->len && scan_peek(s) != ' ')
			return fail(cmd, SMTP_CMD_SYNTAX, "bad parameter");
		if (cmd->nparams == SMTP_PARAMS_MAX)
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "too many parameters");
		pa = &cmd->params[cmd->nparams];
		if ((k = pool_put(cmd, s->p + key, val - key)) == NULL)
			return fail(cmd, SMTP_CMD_SYNTAX, "line too long");
		for (i = 0; k[i] != '\0'; i++)
			k[i] = (char)to_upper((unsigned char)k[i]);
		for (i = 0; i < cmd->nparams; i++)
			if (strcmp(cmd->params[i].key, k) == 0)
				return fail(cmd, SMTP_CMD_SYNTAX,
				    "parameter given twice");
		pa->key = k;
		if (s->off > val && (pa->value = pool_put(cmd, s->p + val + 1,
		    s->off - val - 1)) == NULL)
			return fail(cmd, SMTP_CMD_SYNTAX, "line too long");
		cmd->nparams++;
	}
	return SMTP_CMD_OK;
}

/* MAIL FROM:<path> [params], RCPT TO:<path> [params] */
static int
parse_mail_rcpt(struct scan *s, struct smtp_cmd *cmd, int rcpt)
{
	int r;

	if (!scan_char(s, ' ') || !scan_word(s, rcpt ? "TO:" : "FROM:"))
		return fail(cmd, SMTP_CMD_SYNTAX, rcpt ?
		    "syntax: RCPT TO:<address>" :
		    "syntax: MAIL FROM:<address>");
	/* tolerated: "MAIL FROM: <a@b>", as many clients send it */
	(void)scan_char(s, ' ');
	if (s->off == s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "no path");
	if ((r = parse_path(s, cmd, rcpt)) != SMTP_CMD_OK)
		return r;
	cmd->utf8 = has_8bit((const unsigned char *)cmd->path.addr,
	    strlen(cmd->path.addr));
	return parse_params(s, cmd);
}

/* HELO/EHLO: one word of printable ASCII; host_kind says what it is. */
static int
parse_helo(struct scan *s, struct smtp_cmd *cmd)
{
	const unsigned char *p;
	size_t n, i;

	if (!scan_char(s, ' ') || s->off == s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "a domain is required");
	p = s->p + s->off;
	n = s->len - s->off;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return fail(cmd, SMTP_CMD_SYNTAX, p[i] == ' ' ?
			    "one domain only" : "bad byte in domain");
	if (n > SMTP_DOMAIN_MAX)
		return fail(cmd, SMTP_CMD_SYNTAX, "domain too long");
	copy_str(cmd->host, p, n);
	cmd->host_kind = host_kind(p, n, 0);
	return SMTP_CMD_OK;
}

/* VRFY, EXPN, HELP: printable ASCII or UTF-8, no space at either end. */
static int
parse_arg(struct scan *s, struct smtp_cmd *cmd, int required)
{
	const unsigned char *p;
	size_t n, i, k;

	if (s->off == s->len)
		return required ? fail(cmd, SMTP_CMD_SYNTAX,
		    "an argument is required") : SMTP_CMD_OK;
	s->off++;
	p = s->p + s->off;
	n = s->len - s->off;
	if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
		return fail(cmd, SMTP_CMD_SYNTAX, "stray space");
	for (i = 0; i < n; i += k) {
		k = 1;
		if (p[i] >= 0x80) {
			if ((k = utf8_seq(p + i, n - i)) == 0)
				return fail(cmd, SMTP_CMD_SYNTAX, "bad UTF-8");
			cmd->utf8 = 1;
		} else if (p[i] < ' ' || p[i] == 0x7f)
			return fail(cmd, SMTP_CMD_SYNTAX, "control byte");
	}
	if ((cmd->arg = pool_put(cmd, p, n)) == NULL)
		return fail(cmd, SMTP_CMD_SYNTAX, "argument too long");
	return SMTP_CMD_OK;
}

/* AUTH mechanism [SP initial-response], the response checked, not decoded. */
static int
parse_auth(struct scan *s, struct smtp_cmd *cmd)
{
	size_t start, body, pad, i;

	if (!scan_char(s, ' '))
		return fail(cmd, SMTP_CMD_SYNTAX, "a mechanism is required");
	for (start = s->off; s->off < s->len && s->p[s->off] != ' '; s->off++)
		if (!is_mech(s->p[s->off]))
			return fail(cmd, SMTP_CMD_SYNTAX, "bad mechanism name");
	if (s->off == start || s->off - start > SMTP_MECH_MAX)
		return fail(cmd, SMTP_CMD_SYNTAX, "bad mechanism name");
	for (i = 0; i < s->off - start; i++)
		cmd->mech[i] = (char)to_upper(s->p[start + i]);
	if (!scan_char(s, ' '))
		return SMTP_CMD_OK;
	for (start = s->off; is_b64(scan_peek(s)); s->off++)
		;
	body = s->off - start;
	for (pad = 0; pad < 2 && scan_char(s, '='); pad++)
		;
	if (s->off != s->len || (body == 0 && pad != 1))
		return fail(cmd, SMTP_CMD_SYNTAX, "bad initial response");
	if ((cmd->initial = pool_put(cmd, s->p + start, s->len - start)) ==
	    NULL)
		return fail(cmd, SMTP_CMD_SYNTAX, "line too long");
	return SMTP_CMD_OK;
}

/* BDAT chunk-size [SP "LAST"] */
static int
parse_bdat(struct scan *s, struct smtp_cmd *cmd)
{
	uint64_t v = 0;
	size_t start;
	unsigned d;

	if (!scan_char(s, ' '))
		return fail(cmd, SMTP_CMD_SYNTAX, "a chunk size is required");
	for (start = s->off; is_digit(scan_peek(s)); s->off++) {
		d = (unsigned)(scan_peek(s) - '0');
		if (v > (SMTP_BDAT_SIZE_MAX - d) / 10)
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "chunk size too large");
		v = v * 10 + d;
	}
	if (s->off == start)
		return fail(cmd, SMTP_CMD_SYNTAX, "bad chunk size");
	cmd->chunk_size = v;
	if (s->off == s->len)
		return SMTP_CMD_OK;
	if (!scan_char(s, ' ') || !scan_word(s, "LAST") || s->off != s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "syntax: BDAT size [LAST]");
	cmd->last = 1;
	return SMTP_CMD_OK;
}

static int
parse_args(struct scan *s, struct smtp_cmd *cmd)
{
	switch (cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		return parse_helo(s, cmd);
	case SMTP_VERB_MAIL:
		return parse_mail_rcpt(s, cmd, 0);
	case SMTP_VERB_RCPT:
		return parse_mail_rcpt(s, cmd, 1);
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		return parse_arg(s, cmd, 1);
	case SMTP_VERB_HELP:
		return parse_arg(s, cmd, 0);
	case SMTP_VERB_AUTH:
		return parse_auth(s, cmd);
	case SMTP_VERB_BDAT:
		return parse_bdat(s, cmd);
	case SMTP_VERB_NOOP:
		/* RFC 5321 §4.1.1.9: any argument is ignored */
		return SMTP_CMD_OK;
	case SMTP_VERB_DATA:
	case SMTP_VERB_RSET:
	case SMTP_VERB_QUIT:
	case SMTP_VERB_STARTTLS:
		if (s->off != s->len)
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "no arguments allowed");
		return SMTP_CMD_OK;
	default:
		return fail(cmd, SMTP_CMD_UNKNOWN, "unknown command");
	}
}

static enum smtp_verb
verb_lookup(const unsigned char *p, size_t n)
{
	int v;

	for (v = SMTP_VERB_UNKNOWN + 1; v < SMTP_VERB_COUNT; v++)
		if (strlen(smtp_verbs[v]) == n && caseeq(p, smtp_verbs[v], n))
			return (enum smtp_verb)v;
	return SMTP_VERB_UNKNOWN;
}

int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	struct scan s = { (const unsigned char *)line, len, 0 };
	size_t i;

	smtp_cmd_clear(cmd);
	if (len == 0)
		return fail(cmd, SMTP_CMD_UNKNOWN, "empty line");
	while (s.off < len && s.p[s.off] != ' ')
		s.off++;
	cmd->verb = verb_lookup(s.p, s.off);
	if (len > SMTP_AUTH_LINE_MAX - 2)
		return fail(cmd, SMTP_CMD_TOO_LONG, "line too long");
	for (i = 0; i < len; i++)
		if (s.p[i] == '\0' || s.p[i] == '\r' || s.p[i] == '\n')
			return fail(cmd, SMTP_CMD_BAD_BYTE, s.p[i] == '\0' ?
			    "NUL in command" : "bare CR or LF in command");
	if (cmd->verb != SMTP_VERB_AUTH && len > SMTP_CMD_LINE_MAX - 2)
		return fail(cmd, SMTP_CMD_TOO_LONG, "line too long");
	if (cmd->verb == SMTP_VERB_UNKNOWN)
		return fail(cmd, SMTP_CMD_UNKNOWN, "unknown command");
	return parse_args(&s, cmd);
}

void
smtp_cmd_clear(struct smtp_cmd *cmd)
{
	explicit_bzero(cmd, sizeof(*cmd));
}

const char *
smtp_cmd_result_name(int result)
{
	switch (result) {
	case SMTP_CMD_OK: return "ok";
	case SMTP_CMD_UNKNOWN: return "unknown command";
	case SMTP_CMD_SYNTAX: return "syntax error in arguments";
	case SMTP_CMD_BAD_SENDER: return "bad reverse-path";
	case SMTP_CMD_BAD_RCPT: return "bad forward-path";
	case SMTP_CMD_BAD_BYTE: return "NUL, CR or LF in line";
	case SMTP_CMD_TOO_LONG: return "line too long";
	default: return "unknown result";
	}
}

const char *
smtp_verb_name(enum smtp_verb verb)
{
	if ((int)verb <= SMTP_VERB_UNKNOWN || verb >= SMTP_VERB_COUNT)
		return smtp_verbs[SMTP_VERB_UNKNOWN];
	return smtp_verbs[verb];
}
