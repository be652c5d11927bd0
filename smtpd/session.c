/*
 * session.c: one SMTP session (RFC 5321) per client, on a bufferevent.
 * Commands are parsed by smtp_cmd, message bytes read by smtp_data (only
 * CRLF.CRLF ends DATA), and the handoff's waits (fsync, the command) run
 * on the pool. Pipelined commands are answered in order: a command that
 * waits for the pool holds the ones after it.
 * Never logs a message body; client strings in logs are sanitised.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <saslkit/secret.h>

#include "b64.h"
#include "handoff.h"
#include "log.h"
#include "sbuf.h"
#include "session.h"
#include "smtp_cmd.h"
#include "smtp_data.h"

enum sess_state {
	S_CMD,		/* reading commands */
	S_DATA,		/* reading the message after DATA */
	S_BDAT,		/* reading a BDAT chunk */
	S_WAIT,		/* the pool has the handoff: input waits */
	S_SKIP,		/* dropping an over-long line up to its LF */
	S_STARTTLS,	/* 220 sent: TLS starts once it is written */
	S_AUTH,		/* an AUTH exchange: lines are responses */
	S_QUIT,		/* closing once the output is written */
};

struct session {
	struct session *next, *prev;	/* the server's open sessions */
	struct smtpd *d;
	unsigned long gen;		/* the configuration it began under */
	const struct listener_conf *l;
	struct bufferevent *bev;
	enum sess_state state;
	char id[24];
	char rip[IPTABLE_ADDR_MAX], helo[SMTP_DOMAIN_MAX + 1];
	int greeted, esmtp;
	int tls;			/* the session runs over TLS */
	/* AUTH (RFC 4954), answered by authd */
	int authed;
	char auth_user[512], auth_mech[SMTP_MECH_MAX + 1];
	unsigned auth_failures;
	struct sksecret_req *areq;	/* the exchange in progress */
	int auth_wait;			/* a step is with authd: input waits */
	int auth_lost;			/* the exchange ended (authd went away)
					   while the client owed a line: 454
					   answers that line */
	int auth_tempfail;		/* AUTH failed only for want of authd:
					   MAIL and relaying get 4xx, not 5xx */
	unsigned char cbdata[64];	/* channel-binding data of this TLS */
	/* the mail transaction */
	int in_mail, smtputf8;
	char from[SMTP_PATH_MAX + 1];
	char **rcpts;
	size_t nrcpts;
	struct smtp_data *rd;		/* during a message only */
	struct handoff ho;
	int ho_open;
	uint64_t bdat_left, bdat_size;
	int bdat_last, bdat_failed;
	int gone;			/* the client left while the pool had us */
	struct event *closer;		/* waits for TLS output to reach the wire */
	int close_waits;
	/* the handoff on the pool */
	int ho_result;
	unsigned ho_timeout;		/* read on the loop: SIGHUP may change it */
	char ho_err[HANDOFF_ERR_MAX];
	struct smtp_cmd *cmd;		/* the one of the event loop */
};

static void sess_input(struct session *s);

/*
 * The parsed command: big (an AUTH line's worth), and used only while one
 * line is handled on the event loop's one thread, so all sessions share
 * it; an idle session costs a few KiB, not twenty.
 */
static struct smtp_cmd sess_cmd;

static void
reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Debug: a reply line, sanitised; a 334 challenge only by its length,
 * since an AUTH exchange's data stays out of the log.
 */
static void
reply_debug(struct session *s, const char *fmt, va_list ap)
{
	char line[1024], safe[512];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	if (strncmp(line, "334", 3) == 0)
		log_debug("%s: > 334 <challenge of %zu base64 bytes>", s->id,
		    strlen(line) > 4 ? strlen(line) - 4 : 0);
	else
		log_debug("%s: > %s", s->id, log_sanitize(line, strlen(line),
		    safe, sizeof(safe)));
}

static void
reply(struct session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap, aq;

	va_start(ap, fmt);
	if (log_enabled(LOG_LVL_DEBUG)) {
		va_copy(aq, ap);
		reply_debug(s, fmt, aq);
		va_end(aq);
	}
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/*
 * Debug: a command as parsed, never as sent: its verb and, for some, an
 * argument (sanitised); AUTH's initial response only by its length.
 */
static void
cmd_debug(struct session *s, int r)
{
	const struct smtp_cmd *c = s->cmd;
	const char *verb = smtp_verb_name(c->verb);
	char a[SMTP_PATH_MAX * 4 + 8], init[64] = "";

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

/* ---- the transaction ---- */

static void
tx_reset(struct session *s)
{
	size_t i;

	if (s->ho_open)
		handoff_abort(&s->ho, s->d->conf.maildir);
	s->ho_open = 0;
	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->in_mail = 0;
	s->smtputf8 = 0;
	s->from[0] = '\0';
	s->bdat_left = 0;
	s->bdat_last = s->bdat_failed = 0;
	free(s->rd);
	s->rd = NULL;
}

static void
sess_free(struct session *s)
{
	tx_reset(s);
	iptable_release(s->d->ips, s->rip);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->d->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->d->nsessions--;
	reload_session_end(s->d, s->gen);
	log_info("%s: disconnect from [%s]", s->id, s->rip);
	if (s->closer != NULL)
		event_free(s->closer);
	if (s->areq != NULL)
		sksecret_req_cancel(s->areq);
	authc_kick(s->d);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	free(s);
}

/* ---- commands ---- */

/* ---- AUTH (RFC 4954), every exchange answered by authd ---- */

/* The mechanisms configured for this listener. */
static const char *
sess_mech_conf(const struct session *s)
{
	return s->l->mechs[0] != '\0' ? s->l->mechs : s->d->conf.auth_mechs;
}

/* Whether name is a word of the space-separated list, ignoring case. */
static int
word_in(const char *list, const char *name)
{
	size_t n = strlen(name), len;

	while (*list != '\0') {
		list += strspn(list, " ");
		len = strcspn(list, " ");
		if (len == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

/*
 * Whether mech may be used now: 0, or the reply that refuses it. Offered
 * are the configured mechanisms that authd has (AuthMechanisms); a
 * plaintext one only over TLS unless plaintext_auth (AuthOptions p); a
 * -PLUS one only over TLS, where there is a channel to bind. What authd
 * has is asked of a (the connection for the exchange), or, with a NULL,
 * taken from authd's last handshake (authd is away).
 */
static const char *
sess_mech_refusal(const struct session *s, struct sksecret_auth *a,
    const char *mech)
{
	int flags = a != NULL ? sksecret_auth_mech_flags(a, mech) :
	    authc_mech_flags(s->d, mech);

	if (!word_in(sess_mech_conf(s), mech))
		return flags >= 0 ? "534 5.7.9 Authentication mechanism is too "
		    "weak or not allowed here" : "504 5.5.4 Unrecognized "
		    "authentication type";
	if (flags < 0)
		return "504 5.5.4 Unrecognized authentication type";
	if (!s->tls && ((strlen(mech) > 5 && strcasecmp(mech + strlen(mech) -
	    5, "-PLUS") == 0) || ((flags & SKSECRET_MECH_PLAINTEXT) &&
	    !s->l->plaintext_auth)))
		return "538 5.7.11 Encryption required for requested "
		    "authentication mechanism";
	return NULL;
}

/*
 * The AUTH line of EHLO: what may be used now, as authd's last handshake
 * gave it, so that it stays while authd is away (AUTH then gets 454, a
 * temporary failure, where a missing AUTH would fail the client for good).
 */
static void
sess_ehlo_auth(struct session *s)
{
	const char *p = sess_mech_conf(s);
	char list[512] = "", mech[SMTP_MECH_MAX + 1];
	size_t n, used = 0;

	if (s->authed)
		return;
	while (*p != '\0') {
		p += strspn(p, " ");
		if ((n = strcspn(p, " ")) == 0 || n > SMTP_MECH_MAX) {
			p += n;
			continue;
		}
		memcpy(mech, p, n);
		mech[n] = '\0';
		p += n;
		if (sess_mech_refusal(s, NULL, mech) != NULL ||
		    used + n + 2 > sizeof(list))
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
		    used ? " " : "", mech);
	}
	if (used == 0) {
		log_debug("%s: no AUTH offered: no mechanism may be used "
		    "here%s", s->id, s->tls ? "" : " without TLS");
		return;
	}
	log_debug("%s: mechanisms offered: %s", s->id, list);
	reply(s, "250-AUTH %s", list);
	if (s->d->conf.broken_auth_line)
		reply(s, "250-AUTH=%s", list);
}

/* Channel-binding data of this session's TLS, for a -PLUS exchange. */
static int
sess_cbind(const char *type, const unsigned char **data, size_t *len,
    void *arg)
{
	struct session *s = arg;
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	size_t n;

	if (ssl == NULL)
		return -1;
	if (strcmp(type, "tls-exporter") == 0 &&
	    SSL_version(ssl) >= TLS1_3_VERSION) {	/* RFC 9266 */
		if (SSL_export_keying_material(ssl, s->cbdata, 32,
		    "EXPORTER-Channel-Binding", 24, NULL, 0, 0) != 1)
			return -1;
		n = 32;
	} else if (strcmp(type, "tls-unique") == 0 &&
	    SSL_version(ssl) < TLS1_3_VERSION) {	/* RFC 5929 */
		/* the first Finished of the last handshake */
		n = SSL_session_reused(ssl) ? SSL_get_finished(ssl, s->cbdata,
		    sizeof(s->cbdata)) : SSL_get_peer_finished(ssl, s->cbdata,
		    sizeof(s->cbdata));
		if (n == 0 || n > sizeof(s->cbdata))
			return -1;
	} else
		return -1;
	*data = s->cbdata;
	*len = n;
	return 0;
}

/* The exchange goes on (334), or ends. */
static void
sess_auth_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct session *s = arg;
	char *b64;
	size_t n;
	int waited = s->auth_wait;

	(void)req;
	s->auth_wait = 0;
	if (res->status == SKSECRET_CONTINUE)
		log_debug("%s: AUTH %s: authd > challenge of %zu bytes", s->id,
		    s->auth_mech, res->len);
	else
		log_debug("%s: AUTH %s: authd > %s", s->id, s->auth_mech,
		    res->status == SKSECRET_SUCCESS ? "success" :
		    res->status == SKSECRET_ERROR || res->temporary ?
		    "temporary failure" : "failure");
	if (res->status != SKSECRET_CONTINUE && !waited) {
		/* authd went away while the client owes a line: that line
		   gets the 454, or a reply now would answer it ahead */
		s->areq = NULL;
		s->auth_lost = 1;
		log_info("%s: AUTH %s: authd could not answer", s->id,
		    s->auth_mech);
		return;
	}
	if (res->status == SKSECRET_CONTINUE) {
		n = b64_encoded_len(res->len) + 1;
		if ((b64 = malloc(n)) == NULL ||
		    b64_encode(res->data, res->len, b64, n) != 0) {
			free(b64);
			sksecret_req_cancel(s->areq);
			s->areq = NULL;
			reply(s, "454 4.7.0 Temporary authentication failure");
			s->state = S_CMD;
		} else {
			reply(s, "334 %s", b64);
			free(b64);
		}
		sess_input(s);
		return;
	}
	s->areq = NULL;
	s->state = S_CMD;
	if (res->status == SKSECRET_SUCCESS) {
		s->authed = 1;
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", res->user);
		log_info("%s: AUTH %s ok, user=%s", s->id, s->auth_mech,
		    s->auth_user);
		reply(s, "235 2.7.0 Authentication successful");
	} else if (res->status == SKSECRET_ERROR || res->temporary) {
		log_info("%s: AUTH %s: authd could not answer", s->id,
		    s->auth_mech);
		s->auth_tempfail = 1;
		reply(s, "454 4.7.0 Temporary authentication failure");
	} else {
		log_info("%s: AUTH %s failed from [%s]", s->id, s->auth_mech,
		    s->rip);
		s->auth_tempfail = 0;	/* authd answered: 530 stands */
		if (++s->auth_failures >= s->d->conf.max_auth_failures) {
			reply(s, "535 5.7.8 Authentication credentials invalid");
			reply(s, "421 4.7.0 %s Error: too many failed "
			    "authentications", s->d->conf.host_name);
			s->state = S_QUIT;
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
		reply(s, "535 5.7.8 Authentication credentials invalid");
	}
	sess_input(s);
}

/* Decodes a client's base64 ("=" is empty) into a wiping buffer. */
static int
sess_b64(const char *in, struct sbuf *out)
{
	size_t len = strlen(in), n;
	unsigned char *tmp;
	int r;

	sbuf_reset(out);
	if (strcmp(in, "=") == 0)
		return 0;
	if ((tmp = malloc(len / 4 * 3 + 3)) == NULL)
		return -1;
	r = b64_decode(in, len, tmp, len / 4 * 3 + 3, &n) == 0 &&
	    sbuf_put(out, tmp, n) == 0 ? 0 : -1;
	explicit_bzero(tmp, len / 4 * 3 + 3);
	free(tmp);
	return r;
}

static void
cmd_auth(struct session *s)
{
	struct sksecret_auth *a = authc_get(s->d);
	struct sksecret_auth_params p;
	const char *why, *mech = s->cmd->mech;
	struct sbuf init;
	int r;

	if (!s->greeted || !s->esmtp) {
		reply(s, "503 5.5.1 Error: send EHLO first");
		return;
	}
	if (sess_mech_conf(s)[0] == '\0') {	/* an empty mechanism list */
		reply(s, "503 5.5.1 Error: authentication not enabled");
		return;
	}
	if (s->authed) {
		reply(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (s->in_mail) {
		reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if ((why = sess_mech_refusal(s, a, mech)) != NULL) {
		reply(s, "%s", why);
		return;
	}
	if (a == NULL) {	/* authd is away: a mechanism it had, or may have */
		log_info("%s: AUTH %s: authd is not reachable", s->id, mech);
		s->auth_tempfail = 1;
		reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	sbuf_init(&init, SMTP_AUTH_LINE_MAX);
	if (s->cmd->initial != NULL && sess_b64(s->cmd->initial, &init) != 0) {
		sbuf_free(&init);
		reply(s, "501 5.5.2 Cannot decode the initial response");
		return;
	}
	memset(&p, 0, sizeof(p));
	p.mech = mech;
	p.service = "smtp";
	p.remote_ip = s->rip;
	p.secured = s->tls;
	if (s->cmd->initial != NULL) {
		p.initial = init.data != NULL ? init.data :
		    (const unsigned char *)"";
		p.initial_len = init.len;
	}
	/* binding data only where -PLUS was offered: over TLS (DESIGN §3) */
	if (s->tls && strlen(mech) > 5 &&
	    strcasecmp(mech + strlen(mech) - 5, "-PLUS") == 0) {
		p.cbind = sess_cbind;
		p.cbind_arg = s;
	}
	r = sksecret_req_start(a, &p, sess_auth_cb, s, &s->areq);
	sbuf_free(&init);
	if (r != SKSECRET_OK) {
		s->areq = NULL;
		s->auth_tempfail = 1;
		reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	snprintf(s->auth_mech, sizeof(s->auth_mech), "%s", mech);
	log_debug("%s: AUTH %s: exchange sent to authd, %s", s->id, mech,
	    s->cmd->initial != NULL ? "with an initial response" :
	    "without initial response");
	s->state = S_AUTH;
	s->auth_wait = 1;
	authc_kick(s->d);
}

/* A line of the client during AUTH: its response, or "*" to stop. */
static void
sess_auth_line(struct session *s, const char *line, size_t len)
{
	struct sbuf resp;
	char *copy;
	int r;

	if (s->auth_lost) {	/* authd went away meanwhile */
		s->auth_lost = 0;
		s->state = S_CMD;
		if (len == 1 && line[0] == '*') {
			reply(s, "501 5.0.0 Authentication aborted");
			return;
		}
		s->auth_tempfail = 1;
		reply(s, "454 4.7.0 Temporary authentication failure");
		return;
	}
	if (len == 1 && line[0] == '*') {
		log_debug("%s: AUTH %s: client < \"*\": aborted", s->id,
		    s->auth_mech);
		sksecret_req_cancel(s->areq);
		s->areq = NULL;
		s->state = S_CMD;
		authc_kick(s->d);
		reply(s, "501 5.0.0 Authentication aborted");
		return;
	}
	if (len + 2 > SMTP_AUTH_LINE_MAX) {
		sksecret_req_cancel(s->areq);
		s->areq = NULL;
		s->state = S_CMD;
		authc_kick(s->d);
		reply(s, "500 5.5.6 Authentication exchange line is too long");
		return;
	}
	sbuf_init(&resp, SMTP_AUTH_LINE_MAX);
	if ((copy = strndup(line, len)) == NULL || sess_b64(copy, &resp) != 0) {
		if (copy != NULL)
			explicit_bzero(copy, len);
		free(copy);
		sbuf_free(&resp);
		sksecret_req_cancel(s->areq);
		s->areq = NULL;
		s->state = S_CMD;
		authc_kick(s->d);
		reply(s, "501 5.5.2 Cannot decode the response");
		return;
	}
	explicit_bzero(copy, len);
	free(copy);
	log_debug("%s: AUTH %s: client < response of %zu bytes, to authd",
	    s->id, s->auth_mech, resp.len);
	r = sksecret_req_continue(s->areq, resp.data != NULL ? resp.data :
	    (const unsigned char *)"", resp.len);
	sbuf_free(&resp);
	if (r != SKSECRET_OK) {
		sksecret_req_cancel(s->areq);
		s->areq = NULL;
		s->state = S_CMD;
		s->auth_tempfail = 1;
		reply(s, "454 4.7.0 Temporary authentication failure");
	} else
		s->auth_wait = 1;
	authc_kick(s->d);
}

static void
cmd_ehlo(struct session *s, int esmtp)
{
	const struct smtpd_conf *c = &s->d->conf;

	tx_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", s->cmd->host);
	s->greeted = 1;
	s->esmtp = esmtp;
	if (!esmtp) {
		reply(s, "250 %s", c->host_name);
		return;
	}
	reply(s, "250-%s", c->host_name);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %u", c->max_message_size);
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-CHUNKING");
	if (s->l->tls == LISTEN_STARTTLS && !s->tls)
		reply(s, "250-STARTTLS");
	sess_ehlo_auth(s);
	reply(s, "250 ENHANCEDSTATUSCODES");
}

/*
 * Whether this session could not authenticate for want of authd: authd is
 * away now, or the session's last AUTH failed because it was (even if it
 * is back since, the client was told to try again later). A refusal that
 * only AUTH would lift is then temporary (4xx), never 5xx.
 */
static int
sess_auth_away(const struct session *s)
{
	return sess_mech_conf(s)[0] != '\0' &&
	    (s->auth_tempfail || !authc_up(s->d));
}

/* Whether some mechanism offered here would allow relaying after AUTH. */
static int
sess_auth_relays(const struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	const char *p = sess_mech_conf(s);
	char mech[SMTP_MECH_MAX + 1];
	size_t n;

	if (!c->trusted_set)
		return p[0] != '\0';
	while (*p != '\0') {
		p += strspn(p, " ");
		if ((n = strcspn(p, " ")) > 0 && n <= SMTP_MECH_MAX) {
			memcpy(mech, p, n);
			mech[n] = '\0';
			if (word_in(c->trusted_mechs, mech))
				return 1;
		}
		p += n;
	}
	return 0;
}

/* Whether mail for domain may come in without AUTH: ours, or relayed. */
static int
domain_open(const struct smtpd_conf *c, const char *domain)
{
	return smtpd_domain_in(c->local_domains, c->nlocal, domain) ||
	    smtpd_domain_in(c->relay_domains, c->nrelay, domain);
}

static void
cmd_mail(struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	size_t i;

	if (!s->greeted) {
		reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->in_mail) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (s->l->auth_required && !s->authed) {
		/* 530 only when AUTH could have been done: authd is up */
		if (sess_auth_away(s))
			reply(s, "451 4.7.0 Authentication service temporarily "
			    "unavailable, try again later");
		else
			reply(s, "530 5.7.0 Authentication required");
		return;
	}
	for (i = 0; i < s->cmd->nparams; i++) {
		const struct smtp_param *p = &s->cmd->params[i];

		if (strcmp(p->key, "SIZE") == 0 && p->value != NULL) {
			char *end;
			unsigned long long n = strtoull(p->value, &end, 10);

			if (*end != '\0' || p->value[0] < '0' || p->value[0] > '9') {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				return;
			}
			if (n > c->max_message_size) {
				reply(s, "552 5.3.4 Message size exceeds fixed "
				    "limit");
				return;
			}
		} else if (strcmp(p->key, "BODY") == 0 && p->value != NULL &&
		    (strcasecmp(p->value, "7BIT") == 0 ||
		    strcasecmp(p->value, "8BITMIME") == 0)) {
			;
		} else if (strcmp(p->key, "SMTPUTF8") == 0 && p->value == NULL) {
			s->smtputf8 = 1;
		} else if (strcmp(p->key, "AUTH") == 0 && p->value != NULL) {
			/*
			 * RFC 4954 §5: kept only from a client allowed to act
			 * as that identity (here: itself), else it is <>.
			 */
			log_info("%s: AUTH=%s %s", s->id, s->authed &&
			    strcmp(p->value, s->auth_user) == 0 ? "trusted" :
			    "not trusted, taken as <>", "on MAIL");
		} else {
			reply(s, "555 5.5.4 Unsupported option: %s", p->key);
			s->smtputf8 = 0;
			return;
		}
	}
	if (s->cmd->utf8 && !s->smtputf8) {
		reply(s, "553 5.6.7 Non-ASCII sender needs SMTPUTF8");
		return;
	}
	/* sender_login_map: an authenticated user sends as its own only */
	if (c->sender_login_map != NULL && s->authed && !s->cmd->path.null &&
	    !sender_map_allows(&s->d->senders, s->cmd->path.addr,
	    s->auth_user)) {
		log_info("%s: sender <%s> not owned by %s", s->id,
		    s->cmd->path.addr, s->auth_user);
		reply(s, "553 5.7.1 <%s>: Sender address rejected: not owned "
		    "by user %s", s->cmd->path.addr, s->auth_user);
		return;
	}
	snprintf(s->from, sizeof(s->from), "%s", s->cmd->path.addr);
	s->in_mail = 1;
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	char **n;

	if (!s->in_mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->cmd->nparams > 0) {
		reply(s, "555 5.5.4 Unsupported option: %s",
		    s->cmd->params[0].key);
		return;
	}
	if (s->cmd->utf8 && !s->smtputf8) {
		reply(s, "553 5.6.7 Non-ASCII recipient needs SMTPUTF8");
		return;
	}
	if (!s->cmd->path.postmaster && !domain_open(c, s->cmd->path.domain) &&
	    !(s->authed && word_in(c->trusted_set ? c->trusted_mechs :
	    sess_mech_conf(s), s->auth_mech))) {
		/*
		 * This session's AUTH failed for want of authd, and AUTH
		 * would have allowed it: 4xx. A client that did not try
		 * AUTH (EHLO offers it even while authd is away) gets 554.
		 */
		if (!s->authed && s->auth_tempfail && sess_auth_relays(s))
			reply(s, "451 4.7.1 <%s>: Relay access denied for now: "
			    "authentication service temporarily unavailable",
			    s->cmd->path.addr);
		else
			reply(s, "554 5.7.1 <%s>: Relay access denied",
			    s->cmd->path.addr);
		return;
	}
	if (s->nrcpts >= c->max_recipients) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((n = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*n))) == NULL ||
	    (n[s->nrcpts] = strdup(s->cmd->path.postmaster ? "postmaster" :
	    s->cmd->path.addr)) == NULL) {
		if (n != NULL)
			s->rcpts = n;
		reply(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	s->rcpts = n;
	s->nrcpts++;
	reply(s, "250 2.1.5 Ok");
}

/* RFC 5322 date for the Received header. */
static void
rfc5322_date(char *buf, size_t sz)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, sz, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* Opens the handoff and writes the Received header (RFC 5321, 3848). */
static int
message_begin(struct session *s, int mode)
{
	const struct smtpd_conf *c = &s->d->conf;
	char date[64], hdr[1024];
	int n, r;

	if (c->maildir != NULL)
		r = handoff_begin_maildir(&s->ho, c->maildir, s->ho_err,
		    sizeof(s->ho_err));
	else
		r = handoff_begin_spool(&s->ho, c->spool_dir, s->ho_err,
		    sizeof(s->ho_err));
	if (r != 0) {
		log_error("%s: %s", s->id, s->ho_err);
		reply(s, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	s->ho_open = 1;
	rfc5322_date(date, sizeof(date));
	/* RFC 3848's protocol types; the user only when asked for */
	n = snprintf(hdr, sizeof(hdr), "Received: from %s ([%s])%s%s%s\n\tby %s "
	    "(saslkit) with %s id %s\n\tfor <%s>; %s\n", s->helo, s->rip,
	    c->received_auth_user && s->authed ? "\n\t(Authenticated sender: " :
	    "", c->received_auth_user && s->authed ? s->auth_user : "",
	    c->received_auth_user && s->authed ? ")" : "",
	    c->host_name, !s->esmtp ? "SMTP" : s->tls ? (s->authed ? "ESMTPSA" :
	    "ESMTPS") : s->authed ? "ESMTPA" : "ESMTP",
	    s->id, s->nrcpts == 1 ?
	    s->rcpts[0] : "multiple recipients", date);
	if (n < 0 || (size_t)n >= sizeof(hdr) ||
	    handoff_write(&s->ho, (unsigned char *)hdr, (size_t)n) != 0) {
		reply(s, "451 4.3.0 Error: queue file write error");
		tx_reset(s);
		return -1;
	}
	if ((s->rd = calloc(1, sizeof(*s->rd))) == NULL) {
		reply(s, "451 4.3.0 Error: out of memory");
		tx_reset(s);
		return -1;
	}
	smtp_data_init(s->rd, mode, c->max_message_size, 1000,
	    c->reject_bare_lf ? SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR |
	    SMTP_DATA_NUL : SMTP_DATA_NUL, handoff_write, &s->ho);
	return 0;
}

static void
cmd_data(struct session *s)
{
	struct timeval tv = { (time_t)s->d->conf.timeout_data_init, 0 };

	if (!s->in_mail) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->nrcpts == 0) {
		reply(s, "554 5.5.1 Error: no valid recipients");
		return;
	}
	if (s->ho_open) {		/* BDAT was used: RFC 3030 §2 */
		reply(s, "503 5.5.1 Error: DATA after BDAT");
		return;
	}
	if (message_begin(s, SMTP_DATA_DOT) != 0)
		return;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	s->state = S_DATA;
}

/* Worker: the handoff's waits. */
static void
handoff_work(void *arg)
{
	struct session *s = arg;
	const struct smtpd_conf *c = &s->d->conf;

	/* fsync or the command: waiting, not computing, so other handoffs
	   go on meanwhile, on spare threads */
	pool_blocking_begin();
	s->ho_result = handoff_commit(&s->ho, c->maildir, c->sendmail_command,
	    s->from, (const char *const *)s->rcpts, s->nrcpts,
	    s->ho_timeout, s->ho_err, sizeof(s->ho_err));
	pool_blocking_end();
}

/* Loop: the handoff is done; the commands after it go on. */
static void
handoff_done(void *arg)
{
	struct session *s = arg;
	struct timeval tv = { (time_t)s->d->conf.timeout_command, 0 };

	s->ho_open = 0;
	if (s->gone) {		/* no one to answer: the handoff stands */
		log_info("%s: from=<%s> nrcpt=%zu: %s, client gone", s->id,
		    s->from, s->nrcpts, s->ho_result == 0 ? "queued" : "failed");
		sess_free(s);
		return;
	}
	if (s->ho_result == 0) {
		log_info("%s: from=<%s> nrcpt=%zu size=%llu: queued", s->id,
		    s->from, s->nrcpts, (unsigned long long)s->rd->size);
		reply(s, "250 2.0.0 Ok: queued as %s", s->id);
	} else {
		log_error("%s: handoff failed: %s", s->id, s->ho_err);
		reply(s, "451 4.3.0 Error: local delivery failed; try again later");
	}
	tx_reset(s);
	s->state = S_CMD;
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	bufferevent_enable(s->bev, EV_READ);
	sess_input(s);
}

/* The message's end was read: refuse it, or hand it off. */
static void
message_end(struct session *s)
{
	unsigned f = s->rd->flags;
	struct timeval tv = { (time_t)s->d->conf.timeout_command, 0 };

	bufferevent_set_timeouts(s->bev, &tv, NULL);
	if (smtp_data_finish(s->rd) != 0) {
		log_error("%s: queue file write error", s->id);
		reply(s, "451 4.3.0 Error: queue file write error");
	} else if (f & SMTP_DATA_TOO_BIG)
		reply(s, "552 5.3.4 Error: message too large");
	else if (f & s->rd->reject & SMTP_DATA_BARE_LF)
		reply(s, "554 5.6.0 Error: bare <LF> in message");
	else if (f & s->rd->reject & SMTP_DATA_BARE_CR)
		reply(s, "554 5.6.0 Error: bare <CR> in message");
	else if (f & SMTP_DATA_NUL)
		reply(s, "554 5.6.0 Error: NUL byte in message");
	else if (f & SMTP_DATA_LONG_LINE)
		reply(s, "500 5.5.2 Error: message line too long");
	else {
		s->state = S_WAIT;
		bufferevent_disable(s->bev, EV_READ);
		s->ho_timeout = s->d->conf.handoff_timeout;
		if (pool_submit(s->d->pool, handoff_work, handoff_done, s) == 0)
			return;
		reply(s, "451 4.3.0 Error: out of memory");
	}
	if (f != 0 && f != SMTP_DATA_TOO_BIG)
		log_info("%s: message refused, flags 0x%x", s->id, f);
	tx_reset(s);
	s->state = S_CMD;
}

static void
cmd_bdat(struct session *s)
{
	if (!s->in_mail || s->nrcpts == 0) {
		/* the chunk must still be read: its bytes are not commands */
		s->bdat_failed = 1;
		reply(s, "503 5.5.1 Error: need MAIL and RCPT before BDAT");
	} else if (!s->ho_open && message_begin(s, SMTP_DATA_RAW) != 0)
		s->bdat_failed = 1;
	s->bdat_left = s->bdat_size = s->cmd->chunk_size;
	s->bdat_last = s->cmd->last;
	s->state = S_BDAT;
}

/*
 * STARTTLS (RFC 3207): 220, and whatever the client pipelined after the
 * command is dropped unread, so that no plaintext can pass for a command
 * sent over TLS (the CVE-2011-0411 class). TLS starts once 220 is out.
 */
static void
cmd_starttls(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	if (s->l->tls != LISTEN_STARTTLS) {
		reply(s, "502 5.5.1 Error: STARTTLS not offered here");
		return;
	}
	if (s->tls) {
		reply(s, "503 5.5.1 Error: TLS already active");
		return;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
	reply(s, "220 2.0.0 Ready to start TLS");
	s->state = S_STARTTLS;
	bufferevent_disable(s->bev, EV_READ);
}

static void sess_read(struct bufferevent *bev, void *arg);
static void sess_write(struct bufferevent *bev, void *arg);
static void sess_event(struct bufferevent *bev, short what, void *arg);

/* Sets a session's bufferevent up: callbacks, bounds, timeout. */
static void
sess_bev_setup(struct session *s)
{
	struct timeval tv = { (time_t)s->d->conf.timeout_command, 0 };

	bufferevent_setcb(s->bev, sess_read, sess_write, sess_event, s);
	/* reading pauses past one full AUTH line: never an unbounded buffer */
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_AUTH_LINE_MAX + 1);
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* The 220 is out: TLS over the same connection, and a fresh start. */
static void
sess_start_tls(struct session *s)
{
	struct bufferevent *tb;
	SSL *ssl;

	/*
	 * A reference of our own on the plain bufferevent: a failed
	 * filter_new (out of memory) may or may not have freed it (libevent
	 * 2.1 does once past its first allocation), and only with our
	 * reference is it still there to be silenced either way.
	 */
	bufferevent_incref(s->bev);
	if ((ssl = SSL_new(s->d->tls)) == NULL ||
	    (tb = bufferevent_openssl_filter_new(s->d->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		/* no callback may reach s once it is freed; at worst, the
		   connection leaks (never a double free) */
		bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		if (ssl == NULL)
			bufferevent_free(s->bev);
		bufferevent_decref(s->bev);
		s->bev = NULL;
		log_error("%s: cannot start TLS", s->id);
		s->state = S_QUIT;
		sess_free(s);
		return;
	}
	bufferevent_decref(s->bev);	/* the filter holds its own */
	s->bev = tb;
	s->tls = 1;
	log_debug("%s: STARTTLS: TLS handshake begins", s->id);
	/* RFC 3207 §4.2: what the client said before TLS is forgotten */
	tx_reset(s);
	s->greeted = s->esmtp = 0;
	s->helo[0] = '\0';
	s->authed = 0;
	s->auth_tempfail = 0;
	s->auth_user[0] = s->auth_mech[0] = '\0';
	s->state = S_CMD;
	sess_bev_setup(s);
}

static void
dispatch(struct session *s)
{
	switch (s->cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		cmd_ehlo(s, s->cmd->verb == SMTP_VERB_EHLO);
		break;
	case SMTP_VERB_MAIL:
		cmd_mail(s);
		break;
	case SMTP_VERB_RCPT:
		cmd_rcpt(s);
		break;
	case SMTP_VERB_DATA:
		cmd_data(s);
		break;
	case SMTP_VERB_BDAT:
		cmd_bdat(s);
		break;
	case SMTP_VERB_RSET:
		tx_reset(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_QUIT:
		reply(s, "221 2.0.0 Bye");
		s->state = S_QUIT;
		break;
	case SMTP_VERB_VRFY:
		reply(s, "252 2.5.0 Cannot VRFY user, but will accept message");
		break;
	case SMTP_VERB_HELP:
		reply(s, "214 2.0.0 See RFC 5321; commands: HELO EHLO MAIL "
		    "RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
		break;
	case SMTP_VERB_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_VERB_AUTH:
		cmd_auth(s);
		break;
	default:
		reply(s, "502 5.5.1 Error: command not implemented");
		break;
	}
}

/* One command line, CRLF removed. */
static void
sess_line(struct session *s, const char *line, size_t len)
{
	int r = smtp_cmd_parse(line, len, s->cmd);

	/* max_line, below the parser's own limit, for all but AUTH */
	if (r == SMTP_CMD_OK && s->cmd->verb != SMTP_VERB_AUTH &&
	    len + 2 > s->d->conf.max_line)
		r = SMTP_CMD_TOO_LONG;
	cmd_debug(s, r);
	if (r == SMTP_CMD_OK)
		dispatch(s);
	else if (r == SMTP_CMD_UNKNOWN)
		reply(s, "500 5.5.1 Error: command not recognized");
	else if (r == SMTP_CMD_BAD_BYTE)
		reply(s, "500 5.5.2 Error: bad character in command");
	else if (r == SMTP_CMD_TOO_LONG)
		reply(s, s->cmd->verb == SMTP_VERB_AUTH ? "500 5.5.6 "
		    "Authentication exchange line is too long" :
		    "500 5.5.2 Error: line too long");
	else if (r == SMTP_CMD_BAD_SENDER)
		reply(s, "501 5.1.7 Bad sender address syntax");
	else if (r == SMTP_CMD_BAD_RCPT)
		reply(s, "501 5.1.3 Bad recipient address syntax");
	else
		reply(s, "501 5.5.4 Syntax error: %s", s->cmd->why ? s->cmd->why :
		    "in parameters");
	smtp_cmd_clear(s->cmd);
}

/* Message bytes from the input buffer, as far as they go. */
static void
sess_body(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t used, n;
	int done = s->state == S_BDAT && s->bdat_left == 0;	/* BDAT 0 */

	if (s->state == S_DATA && evbuffer_get_length(in) > 0) {
		/* the message has started: the block timeout from now on */
		struct timeval tv = { (time_t)s->d->conf.timeout_data_block, 0 };

		bufferevent_set_timeouts(s->bev, &tv, NULL);
	}
	while (evbuffer_get_length(in) > 0 && !done) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = v.iov_len;
		if (s->state == S_BDAT && n > s->bdat_left)
			n = (size_t)s->bdat_left;
		if (s->state == S_BDAT && s->bdat_failed) {
			used = n;	/* a refused chunk: read and dropped */
		} else if (smtp_data_feed(s->rd, v.iov_base, n, &used,
		    &done) != 0)
			s->bdat_failed = 1;
		evbuffer_drain(in, used);
		if (s->state == S_BDAT) {
			s->bdat_left -= used;
			done = s->bdat_left == 0;
		}
	}
	if (!done)
		return;
	if (s->state == S_DATA) {
		s->state = S_CMD;
		message_end(s);
		return;
	}
	/* a BDAT chunk is in */
	s->state = S_CMD;
	if (s->bdat_failed) {
		tx_reset(s);
		return;		/* its reply was given */
	}
	if (s->bdat_last)
		message_end(s);
	else
		reply(s, "250 2.0.0 Ok: %llu octets",
		    (unsigned long long)s->bdat_size);
}

/* Everything the input holds, until a command has to wait. */
static void
sess_input(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char *line;
	size_t len;

	while (s->state != S_WAIT && s->state != S_QUIT &&
	    s->state != S_STARTTLS && !(s->state == S_AUTH && s->auth_wait)) {
		if (s->state == S_CMD && s->d->stopping) {
			/* between commands, and smtpd stops: RFC 5321 §3.8 */
			reply(s, "421 4.3.2 %s Service shutting down",
			    s->d->conf.host_name);
			s->state = S_QUIT;
			break;
		}
		if (s->state == S_DATA || s->state == S_BDAT) {
			sess_body(s, in);
			if (s->state == S_DATA || s->state == S_BDAT)
				return;		/* more to come */
			continue;
		}
		if (s->state == S_SKIP) {
			struct evbuffer_ptr p = evbuffer_search(in, "\n", 1,
			    NULL);

			if (p.pos < 0) {
				evbuffer_drain(in, evbuffer_get_length(in));
				return;
			}
			evbuffer_drain(in, (size_t)p.pos + 1);
			s->state = S_CMD;
			continue;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			if (evbuffer_get_length(in) >= SMTP_AUTH_LINE_MAX) {
				/* no end in sight: a line too long */
				unsigned char head[5];

				evbuffer_copyout(in, head, sizeof(head));
				if (s->state == S_AUTH) {
					sksecret_req_cancel(s->areq);
					s->areq = NULL;
					s->auth_lost = 0;
					authc_kick(s->d);
				}
				reply(s, s->state == S_AUTH || strncasecmp(
				    (char *)head, "AUTH ", 5) == 0 ? "500 5.5.6 "
				    "Authentication exchange line is too long" :
				    "500 5.5.2 Error: line too long");
				s->state = S_SKIP;
				continue;
			}
			return;
		}
		if (s->state == S_AUTH)
			sess_auth_line(s, line, len);
		else
			sess_line(s, line, len);
		explicit_bzero(line, len);	/* it may hold AUTH data */
		free(line);
	}
	if (s->state == S_QUIT)
		bufferevent_disable(s->bev, EV_READ);
}

static void
sess_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	sess_input(arg);
}

/*
 * After STARTTLS, "written" means handed to TLS, whose records sit in the
 * underlying bufferevent until the socket takes them: the session ends
 * once those are out too (or after two seconds).
 */
static void
sess_close_tick(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	struct timeval tv = { 0, 10000 };

	(void)fd;
	(void)what;
	if (under == NULL || evbuffer_get_length(bufferevent_get_output(under))
	    == 0 || ++s->close_waits > 200) {
		sess_free(s);
		return;
	}
	if (s->closer == NULL &&
	    (s->closer = evtimer_new(s->d->base, sess_close_tick, s)) == NULL) {
		sess_free(s);
		return;
	}
	evtimer_add(s->closer, &tv);
}

static void
sess_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == S_QUIT)
		sess_close_tick(-1, 0, s);
	else if (s->state == S_STARTTLS)
		sess_start_tls(s);
}

static void
sess_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	unsigned long tls_err;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {	/* the TLS handshake is done */
		SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

		if (ssl != NULL)
			log_info("%s: TLS %s %s", s->id, SSL_get_version(ssl),
			    SSL_get_cipher_name(ssl));
		if (ssl != NULL)
			log_debug("%s: TLS handshake done: %s, cipher %s (%d "
			    "bits), session %s", s->id, SSL_get_version(ssl),
			    SSL_get_cipher_name(ssl), SSL_get_cipher_bits(ssl,
			    NULL), SSL_session_reused(ssl) ? "resumed" : "new");
		return;
	}
	if ((what & BEV_EVENT_ERROR) && s->tls &&
	    (tls_err = bufferevent_get_openssl_error(s->bev)) != 0) {
		log_info("%s: TLS error from [%s]", s->id, s->rip);
		if (log_enabled(LOG_LVL_DEBUG)) {
			char e[256];

			ERR_error_string_n(tls_err, e, sizeof(e));
			log_debug("%s: TLS error: %s", s->id, e);
		}
	}
	if (what & BEV_EVENT_EOF)
		log_debug("%s: the client closed the connection", s->id);
	if ((what & BEV_EVENT_TIMEOUT) && s->state != S_QUIT &&
	    s->state != S_WAIT) {
		log_info("%s: timeout", s->id);
		reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->d->conf.host_name);
		s->state = S_QUIT;
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_enable(s->bev, EV_WRITE);
		return;
	}
	if (s->state == S_WAIT) {
		/* the pool holds the session: it ends once the handoff does */
		s->gone = 1;
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	sess_free(s);
}

/* A client connects: the caps, then the greeting. */
static void
sess_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct smtpd *d = arg;
	const struct listener_conf *l = NULL;
	struct session *s;
	size_t i;
	char ip[IPTABLE_ADDR_MAX] = "?";
	unsigned port = 0;

	(void)salen;
	for (i = 0; i < d->conf.nlisten; i++)
		if (d->lev[i] == lev)
			l = &d->conf.listen[i];
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip,
		    sizeof(ip));
		port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip,
		    sizeof(ip));
		port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	}
	if (d->stopping || l == NULL || d->nsessions >= d->conf.max_connections ||
	    iptable_acquire(d->ips, ip, d->conf.max_connections_per_ip) == -1) {
		static const char busy[] = "421 4.7.0 Error: too many "
		    "connections\r\n";

		(void)!write(fd, busy, sizeof(busy) - 1);
		log_info("connection from [%s] refused: too many", ip);
		close(fd);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		iptable_release(d->ips, ip);
		close(fd);
		return;
	}
	if (l->tls == LISTEN_TLS) {		/* implicit TLS, RFC 8314 */
		SSL *ssl = SSL_new(d->tls);

		s->tls = 1;
		/* on a failure, libevent 2.1 may have freed ssl and closed
		   fd already (see sess_start_tls): not touched again */
		if (ssl == NULL)
			close(fd);
		else
			s->bev = bufferevent_openssl_socket_new(d->base, fd,
			    ssl, BUFFEREVENT_SSL_ACCEPTING,
			    BEV_OPT_CLOSE_ON_FREE);
	} else if ((s->bev = bufferevent_socket_new(d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		close(fd);
	if (s->bev == NULL) {
		iptable_release(d->ips, ip);
		free(s);
		return;
	}
	d->nsessions++;
	s->d = d;
	s->gen = d->gen;
	if ((s->next = d->sessions) != NULL)
		s->next->prev = s;
	d->sessions = s;
	s->l = l;
	s->cmd = &sess_cmd;
	snprintf(s->rip, sizeof(s->rip), "%s", ip);
	snprintf(s->id, sizeof(s->id), "%08lX%04X", ++d->next_id,
	    (unsigned)(time(NULL) & 0xffff));
	sess_bev_setup(s);
	log_info("%s: connect from [%s] to %s:%u", s->id, ip, l->addr, l->port);
	log_debug("%s: connect from [%s]:%u to listener %s:%u (%s)", s->id, ip,
	    port, l->addr, l->port, l->tls == LISTEN_TLS ? "implicit TLS" :
	    l->tls == LISTEN_STARTTLS ? "STARTTLS" : "plain");
	reply(s, "220 %s ESMTP saslkit", d->conf.host_name);
}

int
smtpd_listen(struct smtpd *d)
{
	size_t i;

	if (d->ips == NULL &&
	    (d->ips = iptable_new(d->conf.max_connections)) == NULL)
		return -1;
	for (i = 0; i < d->conf.nlisten; i++)
		if ((d->lev[i] = evconnlistener_new(d->base, sess_accept, d,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    d->lfd[i])) == NULL)
			return -1;
	return 0;
}

void
smtpd_stop_listening(struct smtpd *d)
{
	struct session *s, *next;
	size_t i;

	d->stopping = 1;
	/* sessions between commands go now; a message in progress ends first */
	for (s = d->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->state == S_CMD) {
			sess_input(s);
			bufferevent_enable(s->bev, EV_WRITE);
		}
	}
	for (i = 0; i < d->conf.nlisten; i++)
		if (d->lev[i] != NULL) {
			evconnlistener_free(d->lev[i]);
			d->lev[i] = NULL;
		}
}
