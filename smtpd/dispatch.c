/*
 * dispatch.c: a session's command line: parsed (smtp_cmd), refused when
 * the session's state does not allow it now, else carried out by its
 * verb's handler. The state rules are data: each verb's row names the
 * rules that must hold, and each rule has the one reply that refuses it
 * (RFC 5321 §4.1.4 and §4.3.2, RFC 3207 §4, RFC 4954 §4). MAIL, RCPT,
 * DATA and BDAT are tx.c's and msg.c's, AUTH smtp_auth.c's; the short
 * verbs are here. Not common/verb.h's table: a line protocol there has
 * one state and one wording per kind of refusal, where SMTP's state is
 * many facts and each rule has its own reply code and text.
 * Never logs AUTH data: a command is logged as parsed, never as sent.
 */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "session.h"

#define DEBUG_ARG_MAX	(SMTP_PATH_MAX * 4 + 8)	/* a sanitised path */
#define DEBUG_INIT_MAX	64		/* "initial response <hidden> ..." */

/* The state rules, checked in this order. */
enum {
	NEEDS_HELO = 1 << 0,		/* HELO or EHLO came first */
	NEEDS_EHLO = 1 << 1,		/* EHLO came first: ESMTP */
	NEEDS_STARTTLS = 1 << 2,	/* the listener offers STARTTLS */
	ONCE_TLS = 1 << 3,		/* not on TLS yet: STARTTLS once */
	NEEDS_AUTH_ON = 1 << 4,		/* a mechanism is configured here */
	ONCE_AUTH = 1 << 5,		/* not authenticated: AUTH once */
	NOT_IN_TX = 1 << 6,		/* no mail transaction */
	NEEDS_MAIL = 1 << 7,		/* MAIL was accepted */
	NEEDS_RCPT = 1 << 8,		/* a RCPT was accepted */
	NOT_AFTER_BDAT = 1 << 9,	/* no BDAT chunk in this transaction */
};

static int
has_helo(const struct session *s)
{
	return s->greeted;
}

static int
has_ehlo(const struct session *s)
{
	return s->greeted && s->esmtp;
}

static int
offers_starttls(const struct session *s)
{
	return s->l->tls == LISTEN_STARTTLS;
}

static int
not_tls(const struct session *s)
{
	return !s->tls;
}

static int
auth_on(const struct session *s)
{
	return smtp_auth_conf_mechs(s)[0] != '\0';
}

static int
not_authed(const struct session *s)
{
	return !s->authed;
}

static int
not_in_tx(const struct session *s)
{
	return !s->in_mail;
}

static int
in_tx(const struct session *s)
{
	return s->in_mail;
}

static int
has_rcpt(const struct session *s)
{
	return s->nrcpts > 0;
}

static int
no_bdat(const struct session *s)
{
	return !s->ho_open;	/* only a BDAT chunk opens it this early */
}

static const struct rule {
	unsigned flag;
	int (*holds)(const struct session *);
	const char *refusal;
} rules[] = {
	{ NEEDS_HELO, has_helo, "503 5.5.1 Error: send HELO/EHLO first" },
	{ NEEDS_EHLO, has_ehlo, "503 5.5.1 Error: send EHLO first" },
	{ NEEDS_STARTTLS, offers_starttls,
	    "502 5.5.1 Error: STARTTLS not offered here" },
	{ ONCE_TLS, not_tls, "503 5.5.1 Error: TLS already active" },
	{ NEEDS_AUTH_ON, auth_on,
	    "503 5.5.1 Error: authentication not enabled" },
	{ ONCE_AUTH, not_authed, "503 5.5.1 Error: already authenticated" },
	{ NOT_IN_TX, not_in_tx,
	    "503 5.5.1 Error: MAIL transaction in progress" },
	{ NEEDS_MAIL, in_tx, "503 5.5.1 Error: need MAIL command" },
	{ NEEDS_RCPT, has_rcpt, "554 5.5.1 Error: no valid recipients" },
	{ NOT_AFTER_BDAT, no_bdat, "503 5.5.1 Error: DATA after BDAT" },
};

static void do_helo(struct session *s);
static void do_ehlo(struct session *s);
static void do_rset(struct session *s);
static void do_noop(struct session *s);
static void do_quit(struct session *s);
static void do_vrfy(struct session *s);
static void do_help(struct session *s);
static void do_starttls(struct session *s);

/*
 * The verbs: the rules each needs, its handler, and what a refusal
 * leaves to do (a refused BDAT still reads its chunk). EXPN and any verb
 * not here get 502.
 */
static const struct verb {
	enum smtp_verb verb;
	unsigned needs;
	void (*run)(struct session *);
	void (*refused)(struct session *);
} verbs[] = {
	{ SMTP_VERB_HELO, 0, do_helo, NULL },
	{ SMTP_VERB_EHLO, 0, do_ehlo, NULL },
	{ SMTP_VERB_MAIL, NEEDS_HELO | NOT_IN_TX, tx_mail, NULL },
	{ SMTP_VERB_RCPT, NEEDS_MAIL, tx_rcpt, NULL },
	{ SMTP_VERB_DATA, NEEDS_MAIL | NEEDS_RCPT | NOT_AFTER_BDAT, msg_data,
	    NULL },
	{ SMTP_VERB_BDAT, NEEDS_MAIL | NEEDS_RCPT, msg_bdat, msg_bdat_skip },
	{ SMTP_VERB_RSET, 0, do_rset, NULL },
	{ SMTP_VERB_NOOP, 0, do_noop, NULL },
	{ SMTP_VERB_QUIT, 0, do_quit, NULL },
	{ SMTP_VERB_VRFY, 0, do_vrfy, NULL },
	{ SMTP_VERB_HELP, 0, do_help, NULL },
	{ SMTP_VERB_STARTTLS, NEEDS_STARTTLS | ONCE_TLS, do_starttls, NULL },
	{ SMTP_VERB_AUTH, NEEDS_EHLO | NEEDS_AUTH_ON | ONCE_AUTH | NOT_IN_TX,
	    smtp_auth_start, NULL },
};

/* The replies to a line that did not parse, but SYNTAX's and TOO_LONG's. */
static const struct {
	int result;
	const char *reply;
} parse_replies[] = {
	{ SMTP_CMD_UNKNOWN, "500 5.5.1 Error: command not recognized" },
	{ SMTP_CMD_BAD_BYTE, "500 5.5.2 Error: bad character in command" },
	{ SMTP_CMD_BAD_SENDER, "501 5.1.7 Bad sender address syntax" },
	{ SMTP_CMD_BAD_RCPT, "501 5.1.3 Bad recipient address syntax" },
};

static const struct verb *
verb_row(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].verb == verb)
			return &verbs[i];
	return NULL;
}

const char *
dispatch_refusal(const struct session *s, enum smtp_verb verb)
{
	const struct verb *v = verb_row(verb);
	size_t i;

	for (i = 0; v != NULL && i < sizeof(rules) / sizeof(rules[0]); i++)
		if ((v->needs & rules[i].flag) && !rules[i].holds(s))
			return rules[i].refusal;
	return NULL;
}

static void
do_helo(struct session *s)
{
	tx_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", s->cmd->host);
	s->greeted = 1;
	s->esmtp = 0;
	sess_reply(s, "250 %s", s->d->conf.host_name);
}

static void
do_ehlo(struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;

	tx_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", s->cmd->host);
	s->greeted = 1;
	s->esmtp = 1;
	sess_reply(s, "250-%s", c->host_name);
	sess_reply(s, "250-PIPELINING");
	sess_reply(s, "250-SIZE %u", c->max_message_size);
	sess_reply(s, "250-8BITMIME");
	sess_reply(s, "250-SMTPUTF8");
	sess_reply(s, "250-CHUNKING");
	if (s->l->tls == LISTEN_STARTTLS && !s->tls)
		sess_reply(s, "250-STARTTLS");
	smtp_auth_ehlo(s);
	sess_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void
do_rset(struct session *s)
{
	tx_reset(s);
	sess_reply(s, "250 2.0.0 Ok");
}

static void
do_noop(struct session *s)
{
	sess_reply(s, "250 2.0.0 Ok");
}

static void
do_quit(struct session *s)
{
	sess_reply(s, "221 2.0.0 Bye");
	s->state = S_QUIT;
}

static void
do_vrfy(struct session *s)
{
	sess_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message");
}

static void
do_help(struct session *s)
{
	sess_reply(s, "214 2.0.0 See RFC 5321; commands: HELO EHLO MAIL RCPT "
	    "DATA BDAT RSET NOOP QUIT VRFY HELP");
}

/*
 * STARTTLS (RFC 3207): 220, and whatever the client pipelined after the
 * command is dropped unread, so that no plaintext can pass for a command
 * sent over TLS (the CVE-2011-0411 class). TLS starts once 220 is out.
 */
static void
do_starttls(struct session *s)
{
	input_drop(s);
	sess_reply(s, "220 2.0.0 Ready to start TLS");
	s->state = S_STARTTLS;
	bufferevent_disable(s->bev, EV_READ);
}

/*
 * Debug: a command as parsed, never as sent: its verb and, for some, an
 * argument (sanitised); AUTH's initial response only by its length.
 */
static void
debug_cmd(struct session *s, int r)
{
	const struct smtp_cmd *c = s->cmd;
	const char *verb = smtp_verb_name(c->verb);
	char a[DEBUG_ARG_MAX], init[DEBUG_INIT_MAX] = "";

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (r != SMTP_CMD_OK) {
		log_debug("%s: < %s: %s", s->id, verb, smtp_cmd_result_name(r));
		return;
	}
	switch (c->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		log_debug("%s: < %s %s", s->id, verb, log_sanitize(c->host,
		    strlen(c->host), a, sizeof(a)));
		break;
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		log_debug("%s: < %s %s:<%s>%s", s->id, verb, c->verb ==
		    SMTP_VERB_MAIL ? "FROM" : "TO", log_sanitize(c->path.addr,
		    strlen(c->path.addr), a, sizeof(a)), c->nparams > 0 ?
		    " with parameters" : "");
		break;
	case SMTP_VERB_AUTH:
		if (c->initial != NULL)
			snprintf(init, sizeof(init), "initial response "
			    "<hidden> (%zu base64 bytes)", strlen(c->initial));
		log_debug("%s: < AUTH %s %s", s->id, c->mech, c->initial !=
		    NULL ? init : "without initial response");
		break;
	case SMTP_VERB_BDAT:
		log_debug("%s: < BDAT %llu%s", s->id,
		    (unsigned long long)c->chunk_size, c->last ? " LAST" : "");
		break;
	default:
		log_debug("%s: < %s", s->id, verb);
		break;
	}
}

/* The reply to a line that did not parse (r). */
static void
refuse_parse(struct session *s, int r)
{
	size_t i;

	for (i = 0; i < sizeof(parse_replies) / sizeof(parse_replies[0]); i++)
		if (parse_replies[i].result == r) {
			sess_reply(s, "%s", parse_replies[i].reply);
			return;
		}
	if (r == SMTP_CMD_TOO_LONG)
		sess_reply(s, "%s", s->cmd->verb == SMTP_VERB_AUTH ?
		    REPLY_AUTH_TOO_LONG : REPLY_LINE_TOO_LONG);
	else
		sess_reply(s, "501 5.5.4 Syntax error: %s", s->cmd->why ?
		    s->cmd->why : "in parameters");
}

/* A parsed command: refused by the first rule it breaks, or carried out. */
static void
dispatch(struct session *s)
{
	const struct verb *v = verb_row(s->cmd->verb);
	const char *no;

	if (v == NULL) {
		sess_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if ((no = dispatch_refusal(s, v->verb)) != NULL) {
		sess_reply(s, "%s", no);
		if (v->refused != NULL)
			v->refused(s);
		return;
	}
	v->run(s);
}

void
dispatch_line(struct session *s, const char *line, size_t len)
{
	int r = smtp_cmd_parse(line, len, s->cmd);

	/* max_line, below the parser's own limit, for all but AUTH */
	if (r == SMTP_CMD_OK && s->cmd->verb != SMTP_VERB_AUTH &&
	    len + 2 > s->d->conf.max_line)
		r = SMTP_CMD_TOO_LONG;
	debug_cmd(s, r);
	if (r == SMTP_CMD_OK)
		dispatch(s);
	else
		refuse_parse(s, r);
	smtp_cmd_clear(s->cmd);
}
