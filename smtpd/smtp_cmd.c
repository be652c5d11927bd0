/*
 * smtp_cmd.c: the SMTP command-line parser (smtp_cmd.h).
 * Reads only within the given length and writes only within the struct;
 * never decodes the AUTH initial response, and never logs or exits.
 */
#include <string.h>

#include "mech.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"
#include "smtp_lex.h"

/* Indexed by enum smtp_verb. */
static const char *const smtp_verbs[SMTP_VERB_COUNT] = {
	"UNKNOWN", "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP",
	"QUIT", "VRFY", "EXPN", "HELP", "AUTH", "STARTTLS", "BDAT",
};

static int
is_b64(int c)
{
	return smtp_lex_letdig(c) || c == '+' || c == '/';
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
 * Stores the parameter whose keyword runs from key to val and whose
 * value, after an "=", runs from val + 1 to the cursor.
 */
static int
param_store(struct smtp_lex *s, struct smtp_cmd *cmd, size_t key, size_t val)
{
	struct smtp_param *pa;
	size_t i;
	char *k;

	if (cmd->nparams == SMTP_PARAMS_MAX)
		return fail(cmd, SMTP_CMD_SYNTAX, "too many parameters");
	pa = &cmd->params[cmd->nparams];
	if ((k = pool_put(cmd, s->p + key, val - key)) == NULL)
		return fail(cmd, SMTP_CMD_SYNTAX, "line too long");
	for (i = 0; k[i] != '\0'; i++)
		k[i] = (char)smtp_lex_upper((unsigned char)k[i]);
	for (i = 0; i < cmd->nparams; i++)
		if (strcmp(cmd->params[i].key, k) == 0)
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "parameter given twice");
	pa->key = k;
	if (s->off > val && (pa->value = pool_put(cmd, s->p + val + 1,
	    s->off - val - 1)) == NULL)
		return fail(cmd, SMTP_CMD_SYNTAX, "line too long");
	cmd->nparams++;
	return SMTP_CMD_OK;
}

/* Parses " KEY[=VALUE]" parameters up to the end of the line. */
static int
parse_params(struct smtp_lex *s, struct smtp_cmd *cmd)
{
	size_t key, val;
	int c, r;

	while (s->off < s->len) {
		if (!smtp_lex_char(s, ' '))
			return fail(cmd, SMTP_CMD_SYNTAX, "junk after path");
		key = s->off;
		if (!smtp_lex_letdig(smtp_lex_peek(s)))
			return fail(cmd, SMTP_CMD_SYNTAX,
			    "bad parameter keyword");
		while (smtp_lex_letdig(c = smtp_lex_peek(s)) || c == '-')
			s->off++;
		val = s->off;
		if (smtp_lex_char(s, '=')) {
			while ((c = smtp_lex_peek(s)) >= 33 && c <= 126 &&
			    c != '=')
				s->off++;
			if (s->off == val + 1)
				return fail(cmd, SMTP_CMD_SYNTAX,
				    "empty parameter value");
		}
		if (s->off < s->len && smtp_lex_peek(s) != ' ')
			return fail(cmd, SMTP_CMD_SYNTAX, "bad parameter");
		if ((r = param_store(s, cmd, key, val)) != SMTP_CMD_OK)
			return r;
	}
	return SMTP_CMD_OK;
}

/* MAIL FROM:<path> [params], RCPT TO:<path> [params] */
static int
parse_mail_rcpt(struct smtp_lex *s, struct smtp_cmd *cmd, int rcpt)
{
	int r;

	if (!smtp_lex_char(s, ' ') || !smtp_lex_word(s, rcpt ? "TO:" : "FROM:"))
		return fail(cmd, SMTP_CMD_SYNTAX, rcpt ?
		    "syntax: RCPT TO:<address>" :
		    "syntax: MAIL FROM:<address>");
	/* tolerated: "MAIL FROM: <a@b>", as many clients send it */
	(void)smtp_lex_char(s, ' ');
	if (s->off == s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "no path");
	if ((r = smtp_addr_path(s, &cmd->path, rcpt, &cmd->why)) !=
	    SMTP_CMD_OK)
		return r;
	cmd->utf8 = has_8bit((const unsigned char *)cmd->path.addr,
	    strlen(cmd->path.addr));
	return parse_params(s, cmd);
}

/* HELO/EHLO: one word of printable ASCII; host_kind says what it is. */
static int
parse_helo(struct smtp_lex *s, struct smtp_cmd *cmd)
{
	const unsigned char *p;
	size_t n, i;

	if (!smtp_lex_char(s, ' ') || s->off == s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "a domain is required");
	p = s->p + s->off;
	n = s->len - s->off;
	for (i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return fail(cmd, SMTP_CMD_SYNTAX, p[i] == ' ' ?
			    "one domain only" : "bad byte in domain");
	if (n > SMTP_DOMAIN_MAX)
		return fail(cmd, SMTP_CMD_SYNTAX, "domain too long");
	smtp_lex_copy(cmd->host, p, n);
	cmd->host_kind = smtp_addr_host_kind(p, n, 0);
	return SMTP_CMD_OK;
}

/* VRFY, EXPN, HELP: printable ASCII or UTF-8, no space at either end. */
static int
parse_arg(struct smtp_lex *s, struct smtp_cmd *cmd, int required)
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
			if ((k = smtp_lex_utf8(p + i, n - i)) == 0)
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
parse_auth(struct smtp_lex *s, struct smtp_cmd *cmd)
{
	size_t start, body, pad, i;

	if (!smtp_lex_char(s, ' '))
		return fail(cmd, SMTP_CMD_SYNTAX, "a mechanism is required");
	for (start = s->off; s->off < s->len && s->p[s->off] != ' '; s->off++)
		;
	if (!mech_name_ok((const char *)s->p + start, s->off - start))
		return fail(cmd, SMTP_CMD_SYNTAX, "bad mechanism name");
	for (i = 0; i < s->off - start; i++)
		cmd->mech[i] = (char)smtp_lex_upper(s->p[start + i]);
	if (!smtp_lex_char(s, ' '))
		return SMTP_CMD_OK;
	for (start = s->off; is_b64(smtp_lex_peek(s)); s->off++)
		;
	body = s->off - start;
	for (pad = 0; pad < 2 && smtp_lex_char(s, '='); pad++)
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
parse_bdat(struct smtp_lex *s, struct smtp_cmd *cmd)
{
	uint64_t v = 0;
	size_t start;
	unsigned d;

	if (!smtp_lex_char(s, ' '))
		return fail(cmd, SMTP_CMD_SYNTAX, "a chunk size is required");
	for (start = s->off; smtp_lex_digit(smtp_lex_peek(s)); s->off++) {
		d = (unsigned)(smtp_lex_peek(s) - '0');
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
	if (!smtp_lex_char(s, ' ') || !smtp_lex_word(s, "LAST") ||
	    s->off != s->len)
		return fail(cmd, SMTP_CMD_SYNTAX, "syntax: BDAT size [LAST]");
	cmd->last = 1;
	return SMTP_CMD_OK;
}

static int
parse_args(struct smtp_lex *s, struct smtp_cmd *cmd)
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
		if (strlen(smtp_verbs[v]) == n &&
		    smtp_lex_caseeq(p, smtp_verbs[v], n))
			return (enum smtp_verb)v;
	return SMTP_VERB_UNKNOWN;
}

int
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	struct smtp_lex s = { (const unsigned char *)line, len, 0 };
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
