/*
 * smtp_auth.c: AUTH (RFC 4954) in a session, every exchange answered by
 * authd through authc.c: which mechanisms are offered (EHLO) and allowed
 * now, the exchange's lines both ways and its channel binding. What AUTH
 * means for MAIL and relaying is tx.c's. A decoded response lives only
 * in a wiping buffer, and the binding data is wiped once libsecret has
 * it. Its names begin with smtp_auth_, apart from authd's auth_.
 * Never logs a response, a challenge or binding data: only their sizes.
 */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <saslkit/secret.h>

#include "b64.h"
#include "err.h"
#include "log.h"
#include "mech.h"
#include "sbuf.h"
#include "session.h"

#define AUTH_TEMPFAIL	"454 4.7.0 Temporary authentication failure"
#define AUTH_ABORTED	"501 5.0.0 Authentication aborted"
#define AUTH_INVALID	"535 5.7.8 Authentication credentials invalid"
#define AUTH_UNKNOWN	"504 5.5.4 Unrecognized authentication type"
#define AUTH_CANCEL	"*"		/* the client gives up (RFC 4954 §4) */
#define AUTH_EMPTY	"="		/* an empty initial response (§4) */

const char *
smtp_auth_conf_mechs(const struct session *s)
{
	return s->l->mechs[0] != '\0' ? s->l->mechs : s->d->conf.auth_mechs;
}

/* Whether name is a mechanism of the space-separated list, ignoring case. */
static int
mech_in(const char *list, const char *name)
{
	return mech_list_has(list, name, strlen(name), NULL);
}

/*
 * Whether mech may be used now: NULL, or the reply that refuses it.
 * Offered are the configured mechanisms that authd has (AuthMechanisms);
 * a plaintext one only over TLS unless plaintext_auth (AuthOptions p); a
 * -PLUS one only over TLS, where there is a channel to bind. What authd
 * has is asked of a (the connection for the exchange), or, with a NULL,
 * taken from authd's last handshake (authd is away).
 */
static const char *
mech_refusal(const struct session *s, struct sksecret_auth *a,
    const char *mech)
{
	int flags = a != NULL ? sksecret_auth_mech_flags(a, mech) :
	    authc_mech_flags(s->d, mech);

	if (!mech_in(smtp_auth_conf_mechs(s), mech))
		return flags >= 0 ? "534 5.7.9 Authentication mechanism is too "
		    "weak or not allowed here" : AUTH_UNKNOWN;
	if (flags < 0)
		return AUTH_UNKNOWN;
	if (!s->tls && (mech_is_plus(mech) ||
	    ((flags & SKSECRET_MECH_PLAINTEXT) && !s->l->plaintext_auth)))
		return "538 5.7.11 Encryption required for requested "
		    "authentication mechanism";
	return NULL;
}

/*
 * The AUTH line of EHLO: what may be used now, as authd's last handshake
 * gave it, so that it stays while authd is away (AUTH then gets 454, a
 * temporary failure, where a missing AUTH would fail the client for good).
 * The list is a part of the configured one, and fits where it does.
 */
void
smtp_auth_ehlo(struct session *s)
{
	const char *p = smtp_auth_conf_mechs(s), *name;
	char list[sizeof(s->l->mechs)] = "", mech[MECH_NAME_MAX + 1];
	size_t n, used = 0;

	if (s->authed)
		return;
	while ((n = mech_list_next(&p, &name)) > 0) {
		if (n > MECH_NAME_MAX)
			continue;
		memcpy(mech, name, n);
		mech[n] = '\0';
		if (mech_refusal(s, NULL, mech) != NULL ||
		    used + n + 2 > sizeof(list))
			continue;
		used += (size_t)snprintf(list + used, sizeof(list) - used,
		    "%s%s", used ? " " : "", mech);
	}
	if (used == 0) {
		log_debug("%s: no AUTH offered: no mechanism may be used "
		    "here%s", s->id, s->tls ? "" : " without TLS");
		return;
	}
	log_debug("%s: mechanisms offered: %s", s->id, list);
	sess_reply(s, "250-AUTH %s", list);
	if (s->d->conf.broken_auth_line)
		sess_reply(s, "250-AUTH=%s", list);
}

/* Channel-binding data of this session's TLS, for a -PLUS exchange. */
static int
smtp_auth_cbind(const char *type, const unsigned char **data, size_t *len,
    void *arg)
{
	struct session *s = arg;
	struct ssl_st *ssl = bufferevent_openssl_get_ssl(s->bev);

	if (ssl == NULL || tls_cbind(ssl, type, s->cbdata, sizeof(s->cbdata),
	    len) != 0)
		return -1;
	*data = s->cbdata;	/* copied by libsecret; wiped next step */
	return 0;
}

/* Ends the exchange: the session reads commands again. */
static void
smtp_auth_done(struct session *s)
{
	s->areq = NULL;
	s->state = S_CMD;
	explicit_bzero(s->cbdata, sizeof(s->cbdata));
}

/* authd's challenge, to the client as 334 (RFC 4954 §4). */
static void
smtp_auth_challenge(struct session *s, const struct sksecret_result *res)
{
	struct sbuf b64;

	sbuf_init(&b64, b64_encoded_len(res->len) + 1);
	if (b64_encode_sbuf(res->data, res->len, &b64) != SK_OK) {
		sksecret_req_cancel(s->areq);
		smtp_auth_done(s);
		sess_reply(s, AUTH_TEMPFAIL);
	} else
		sess_reply(s, "334 %s", (const char *)b64.data);
	sbuf_free(&b64);
}

/* authd said no: 535, and the session ends after max_auth_failures. */
static void
smtp_auth_failed(struct session *s)
{
	log_info("%s: AUTH %s failed from [%s]", s->id, s->auth_mech, s->rip);
	s->auth_tempfail = 0;	/* authd answered: 530 stands */
	sess_reply(s, AUTH_INVALID);
	if (++s->auth_failures < s->d->conf.max_auth_failures)
		return;
	sess_reply(s, "421 4.7.0 %s Error: too many failed authentications",
	    s->d->conf.host_name);
	s->state = S_QUIT;
	bufferevent_disable(s->bev, EV_READ);
}

/* The exchange's end, as authd gave it. */
static void
smtp_auth_outcome(struct session *s, const struct sksecret_result *res)
{
	if (res->status == SKSECRET_SUCCESS) {
		s->authed = 1;
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", res->user);
		log_info("%s: AUTH %s ok, user=%s", s->id, s->auth_mech,
		    s->auth_user);
		sess_reply(s, "235 2.7.0 Authentication successful");
	} else if (res->status == SKSECRET_ERROR || res->temporary) {
		log_info("%s: AUTH %s: authd could not answer", s->id,
		    s->auth_mech);
		s->auth_tempfail = 1;
		sess_reply(s, AUTH_TEMPFAIL);
	} else
		smtp_auth_failed(s);
}

/* libsecret's callback: the exchange goes on (334), or ends. */
static void
smtp_auth_result(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct session *s = arg;
	int waited = s->auth_wait;

	(void)req;
	s->auth_wait = 0;
	explicit_bzero(s->cbdata, sizeof(s->cbdata));	/* taken, if asked */
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
	if (res->status == SKSECRET_CONTINUE)
		smtp_auth_challenge(s, res);
	else {
		smtp_auth_done(s);
		smtp_auth_outcome(s, res);
	}
	input_run(s);
}

/* Decodes a client's base64 ("=" is empty) into a wiping buffer. */
static int
smtp_auth_decode(const char *in, size_t len, struct sbuf *out)
{
	if (len == strlen(AUTH_EMPTY) && memcmp(in, AUTH_EMPTY, len) == 0)
		return SK_OK;
	return b64_decode_sbuf(in, len, out);
}

/* The exchange's parameters: binding data only where -PLUS was offered. */
static void
smtp_auth_params(struct session *s, const char *mech, const struct sbuf *init,
    struct sksecret_auth_params *p)
{
	memset(p, 0, sizeof(*p));
	p->mech = mech;
	p->service = "smtp";
	p->remote_ip = s->rip;
	p->secured = s->tls;
	if (s->cmd->initial != NULL) {
		p->initial = init->data != NULL ? init->data :
		    (const unsigned char *)"";
		p->initial_len = init->len;
	}
	if (s->tls && mech_is_plus(mech)) {	/* over TLS (DESIGN §3) */
		p->cbind = smtp_auth_cbind;
		p->cbind_arg = s;
	}
}

/* Whether mech may start now: if not, the refusal is given. */
static int
smtp_auth_allowed(struct session *s, struct sksecret_auth *a, const char *mech)
{
	const char *why;

	if ((why = mech_refusal(s, a, mech)) != NULL) {
		sess_reply(s, "%s", why);
		return 0;
	}
	if (a == NULL) {	/* authd is away: a mechanism it had, or may */
		log_info("%s: AUTH %s: authd is not reachable", s->id, mech);
		s->auth_tempfail = 1;
		sess_reply(s, AUTH_TEMPFAIL);
		return 0;
	}
	return 1;
}

void
smtp_auth_start(struct session *s)
{
	struct sksecret_auth *a = authc_get(s->d);
	struct sksecret_auth_params p;
	const char *mech = s->cmd->mech, *init = s->cmd->initial;
	struct sbuf resp;
	int r;

	if (!smtp_auth_allowed(s, a, mech))
		return;
	sbuf_init(&resp, SMTP_AUTH_LINE_MAX);
	if (init != NULL &&
	    smtp_auth_decode(init, strlen(init), &resp) != SK_OK) {
		sbuf_free(&resp);
		sess_reply(s, "501 5.5.2 Cannot decode the initial response");
		return;
	}
	smtp_auth_params(s, mech, &resp, &p);
	r = sksecret_req_start(a, &p, smtp_auth_result, s, &s->areq);
	sbuf_free(&resp);
	if (r != SKSECRET_OK) {
		s->areq = NULL;
		s->auth_tempfail = 1;
		sess_reply(s, AUTH_TEMPFAIL);
		return;
	}
	snprintf(s->auth_mech, sizeof(s->auth_mech), "%s", mech);
	log_debug("%s: AUTH %s: exchange sent to authd, %s", s->id, mech,
	    init != NULL ? "with an initial response" :
	    "without initial response");
	s->state = S_AUTH;
	s->auth_wait = 1;
	authc_kick(s->d);
}

void
smtp_auth_abort(struct session *s)
{
	sksecret_req_cancel(s->areq);
	smtp_auth_done(s);
	s->auth_lost = 0;
	authc_kick(s->d);
}

/* The client's response (base64) to authd. */
static void
smtp_auth_respond(struct session *s, const char *line, size_t len)
{
	struct sbuf resp;
	int r;

	sbuf_init(&resp, SMTP_AUTH_LINE_MAX);
	if (smtp_auth_decode(line, len, &resp) != SK_OK) {
		sbuf_free(&resp);
		smtp_auth_abort(s);
		sess_reply(s, "501 5.5.2 Cannot decode the response");
		return;
	}
	log_debug("%s: AUTH %s: client < response of %zu bytes, to authd",
	    s->id, s->auth_mech, resp.len);
	r = sksecret_req_continue(s->areq, resp.data != NULL ? resp.data :
	    (const unsigned char *)"", resp.len);
	sbuf_free(&resp);
	if (r != SKSECRET_OK) {
		sksecret_req_cancel(s->areq);
		smtp_auth_done(s);
		s->auth_tempfail = 1;
		sess_reply(s, AUTH_TEMPFAIL);
	} else
		s->auth_wait = 1;
	authc_kick(s->d);
}

void
smtp_auth_line(struct session *s, const char *line, size_t len)
{
	int cancel = len == strlen(AUTH_CANCEL) &&
	    memcmp(line, AUTH_CANCEL, len) == 0;

	if (s->auth_lost) {	/* authd went away meanwhile */
		s->auth_lost = 0;
		s->state = S_CMD;
		if (!cancel)
			s->auth_tempfail = 1;
		sess_reply(s, "%s", cancel ? AUTH_ABORTED : AUTH_TEMPFAIL);
		return;
	}
	if (cancel) {
		log_debug("%s: AUTH %s: client < \"*\": aborted", s->id,
		    s->auth_mech);
		smtp_auth_abort(s);
		sess_reply(s, AUTH_ABORTED);
		return;
	}
	if (len + 2 > SMTP_AUTH_LINE_MAX) {
		smtp_auth_abort(s);
		sess_reply(s, REPLY_AUTH_TOO_LONG);
		return;
	}
	smtp_auth_respond(s, line, len);
}

void
smtp_auth_reset(struct session *s)
{
	s->authed = 0;
	s->auth_tempfail = 0;
	s->auth_user[0] = s->auth_mech[0] = '\0';
}

void
smtp_auth_end(struct session *s)
{
	sksecret_req_cancel(s->areq);
	s->areq = NULL;
	explicit_bzero(s->cbdata, sizeof(s->cbdata));
}
