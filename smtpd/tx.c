/*
 * tx.c: a session's mail transaction (RFC 5321 §3.3), its envelope: MAIL
 * with its parameters and the sender_login_map, RCPT and who may relay,
 * and the reset. The message itself is msg.c's.
 * Never takes a sender or recipient the session may not give: every
 * refusal is replied here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mech.h"
#include "senders.h"
#include "session.h"

void
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

/*
 * Whether the session could not authenticate for want of authd: authd is
 * away now, or the session's last AUTH failed because it was (even if it
 * is back since, the client was told to try again later). A refusal that
 * only AUTH would lift is then temporary (4xx), never 5xx.
 */
static int
tx_authd_away(const struct session *s)
{
	return smtp_auth_conf_mechs(s)[0] != '\0' &&
	    (s->auth_tempfail || !authc_up(s->d));
}

/* Whether the session's AUTH lets it relay: its mechanism is trusted. */
static int
tx_auth_relays(const struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;

	return s->authed && mech_list_has(c->trusted_set ?
	    c->trusted_mechs : smtp_auth_conf_mechs(s), s->auth_mech,
	    strlen(s->auth_mech), NULL);
}

/* Whether some mechanism offered here would let it relay after AUTH. */
static int
tx_auth_could_relay(const struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	const char *p = smtp_auth_conf_mechs(s), *name;
	size_t n;

	if (!c->trusted_set)
		return p[0] != '\0';
	while ((n = mech_list_next(&p, &name)) > 0)
		if (mech_list_has(c->trusted_mechs, name, n, NULL))
			return 1;
	return 0;
}

/* MAIL's SIZE (RFC 1870): 0, or -1 once refused. */
static int
mail_size(struct session *s, const char *value)
{
	unsigned long long n;
	char *end;

	n = strtoull(value, &end, 10);
	if (*end != '\0' || value[0] < '0' || value[0] > '9') {
		sess_reply(s, "501 5.5.4 Bad SIZE parameter");
		return -1;
	}
	if (n > s->d->conf.max_message_size) {
		sess_reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return -1;
	}
	return 0;
}

/* MAIL's ESMTP parameters: 0, or -1 once refused. */
static int
mail_params(struct session *s)
{
	const struct smtp_param *p;
	size_t i;

	for (i = 0; i < s->cmd->nparams; i++) {
		p = &s->cmd->params[i];
		if (strcmp(p->key, "SIZE") == 0 && p->value != NULL) {
			if (mail_size(s, p->value) != 0)
				return -1;
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
			sess_reply(s, "555 5.5.4 Unsupported option: %s", p->key);
			s->smtputf8 = 0;
			return -1;
		}
	}
	return 0;
}

void
tx_mail(struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	const struct smtp_path *path = &s->cmd->path;

	if (s->l->auth_required && !s->authed) {
		/* 530 only when AUTH could have been done: authd is up */
		if (tx_authd_away(s))
			sess_reply(s, "451 4.7.0 Authentication service "
			    "temporarily unavailable, try again later");
		else
			sess_reply(s, "530 5.7.0 Authentication required");
		return;
	}
	if (mail_params(s) != 0)
		return;
	if (s->cmd->utf8 && !s->smtputf8) {
		sess_reply(s, "553 5.6.7 Non-ASCII sender needs SMTPUTF8");
		return;
	}
	/* sender_login_map: an authenticated user sends as its own only */
	if (c->sender_login_map != NULL && s->authed && !path->null &&
	    !sender_map_allows(&s->d->senders, path->addr, s->auth_user)) {
		log_info("%s: sender <%s> not owned by %s", s->id, path->addr,
		    s->auth_user);
		sess_reply(s, "553 5.7.1 <%s>: Sender address rejected: not "
		    "owned by user %s", path->addr, s->auth_user);
		return;
	}
	snprintf(s->from, sizeof(s->from), "%s", path->addr);
	s->in_mail = 1;
	sess_reply(s, "250 2.1.0 Ok");
}

/* Whether mail for domain may come in without AUTH: ours, or relayed. */
static int
domain_open(const struct smtpd_conf *c, const char *domain)
{
	return smtpd_domain_in(c->local_domains, c->nlocal, domain) ||
	    smtpd_domain_in(c->relay_domains, c->nrelay, domain);
}

/* Whether RCPT's recipient may be taken: if not, the refusal is given. */
static int
rcpt_allowed(struct session *s)
{
	const struct smtp_path *path = &s->cmd->path;

	if (path->postmaster || domain_open(&s->d->conf, path->domain) ||
	    tx_auth_relays(s))
		return 1;
	/*
	 * This session's AUTH failed for want of authd, and AUTH would have
	 * allowed it: 4xx. A client that did not try AUTH (EHLO offers it
	 * even while authd is away) gets 554.
	 */
	if (!s->authed && s->auth_tempfail && tx_auth_could_relay(s))
		sess_reply(s, "451 4.7.1 <%s>: Relay access denied for now: "
		    "authentication service temporarily unavailable",
		    path->addr);
	else
		sess_reply(s, "554 5.7.1 <%s>: Relay access denied",
		    path->addr);
	return 0;
}

void
tx_rcpt(struct session *s)
{
	const struct smtp_path *path = &s->cmd->path;
	char **n;

	if (s->cmd->nparams > 0) {
		sess_reply(s, "555 5.5.4 Unsupported option: %s",
		    s->cmd->params[0].key);
		return;
	}
	if (s->cmd->utf8 && !s->smtputf8) {
		sess_reply(s, "553 5.6.7 Non-ASCII recipient needs SMTPUTF8");
		return;
	}
	if (!rcpt_allowed(s))
		return;
	if (s->nrcpts >= s->d->conf.max_recipients) {
		sess_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if ((n = realloc(s->rcpts, (s->nrcpts + 1) * sizeof(*n))) == NULL ||
	    (n[s->nrcpts] = strdup(path->postmaster ? "postmaster" :
	    path->addr)) == NULL) {
		if (n != NULL)
			s->rcpts = n;
		sess_reply(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	s->rcpts = n;
	s->nrcpts++;
	sess_reply(s, "250 2.1.5 Ok");
}
