/*
 * config.c: smtpd.conf, in the "key: value" style of authd.conf. Every
 * key is in the table below, with its type, bounds and default; an
 * unknown key is an error, so a typo never leaves a default silently in
 * force. The table is what man/smtpd.conf.5 documents
 * (tests/integration/test_conf_keys.py). The lists (listeners,
 * mechanisms, domains) have parsers of their own in conflists.c; the
 * checks across keys follow the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "smtp_cmd.h"
#include "smtpd.h"

#define F(field)	CONF_FIELD(struct smtpd_conf, field)

/* Every key: name, type, field, min, max, default, flags, parser. */
const struct conf_key smtpd_conf_keys[] = {
	{ "listen", CONF_CUSTOM, F(listen), 0, 0, SMTPD_DEFAULT_LISTEN,
	    CONF_RESTART, smtpd_conf_listen },
	{ "local_domains", CONF_CUSTOM, F(local_domains), 0, 0, NULL, 0,
	    smtpd_conf_local_domains },
	{ "relay_domains", CONF_CUSTOM, F(relay_domains), 0, 0, NULL, 0,
	    smtpd_conf_relay_domains },
	/* NULL default: the host name (smtpd_conf_load) */
	{ "host_name", CONF_STR, F(host_name), 0, 0, NULL, CONF_EMPTY_DEF,
	    NULL },
	{ "user", CONF_STR, F(user), 0, 0, SMTPD_DEFAULT_USER,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "tls_cert", CONF_PATH, F(tls_cert), 0, 0, NULL, CONF_EMPTY_DEF,
	    NULL },
	{ "tls_key", CONF_PATH, F(tls_key), 0, 0, NULL, CONF_EMPTY_DEF, NULL },
	{ "auth_socket", CONF_PATH, F(auth_socket), 0, 0, SKSECRET_AUTH_SOCKET,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "pidfile", CONF_PATH, F(pidfile), 0, 0, SMTPD_DEFAULT_PIDFILE,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "auth_mechs", CONF_CUSTOM, F(auth_mechs), 0, 0, SMTPD_DEFAULT_MECHS,
	    0, smtpd_conf_mechs },
	{ "trusted_mechs", CONF_CUSTOM, F(trusted_mechs), 0, 0, NULL, 0,
	    smtpd_conf_trusted_mechs },
	{ "sender_login_map", CONF_PATH, F(sender_login_map), 0, 0, NULL,
	    CONF_EMPTY_DEF, NULL },
	{ "maildir", CONF_PATH, F(maildir), 0, 0, NULL,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	/* absolute too, but smtpd_conf_check says more */
	{ "sendmail_command", CONF_STR, F(sendmail_command), 0, 0, NULL,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "spool_dir", CONF_PATH, F(spool_dir), 0, 0, SMTPD_DEFAULT_SPOOL,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "max_message_size", CONF_UINT, F(max_message_size), 1024, 1u << 30,
	    "10240000", 0, NULL },
	{ "max_recipients", CONF_UINT, F(max_recipients), 1, 100000, "1000", 0,
	    NULL },
	{ "max_auth_failures", CONF_UINT, F(max_auth_failures), 1, 100, "3", 0,
	    NULL },
	{ "max_connections", CONF_UINT, F(max_connections), 1, 100000, "2000",
	    CONF_RESTART, NULL },
	{ "max_connections_per_ip", CONF_UINT, F(max_connections_per_ip), 1,
	    100000, "20", 0, NULL },
	{ "auth_connections", CONF_UINT, F(auth_connections), 1,
	    SMTPD_AUTH_CONNS_MAX, "2", CONF_RESTART, NULL },
	{ "auth_retry_ms", CONF_UINT, F(auth_retry_ms), 50, 60000, "1000", 0,
	    NULL },
	{ "max_line", CONF_UINT, F(max_line), 512, SMTP_CMD_LINE_MAX,
	    CONF_DEF(SMTP_CMD_LINE_MAX), 0, NULL },
	{ "timeout_command", CONF_UINT, F(timeout_command), 1, 3600, "300", 0,
	    NULL },
	{ "timeout_data_init", CONF_UINT, F(timeout_data_init), 1, 3600, "120",
	    0, NULL },
	{ "timeout_data_block", CONF_UINT, F(timeout_data_block), 1, 3600,
	    "180", 0, NULL },
	{ "timeout_data_term", CONF_UINT, F(timeout_data_term), 1, 3600, "600",
	    0, NULL },
	{ "handoff_timeout", CONF_UINT, F(handoff_timeout), 1, 3600, "120", 0,
	    NULL },
	{ "reject_bare_lf", CONF_BOOL, F(reject_bare_lf), 0, 0, "yes", 0,
	    NULL },
	{ "received_auth_user", CONF_BOOL, F(received_auth_user), 0, 0, "no", 0,
	    NULL },
	{ "broken_auth_line", CONF_BOOL, F(broken_auth_line), 0, 0, "no", 0,
	    NULL },
	{ "debug", CONF_BOOL, F(debug), 0, 0, "no", 0, NULL },
};
const size_t smtpd_conf_nkeys = sizeof(smtpd_conf_keys) /
    sizeof(smtpd_conf_keys[0]);

/* The handoff: one of maildir and sendmail_command, and its timeout. */
static int
smtpd_conf_check_handoff(const struct smtpd_conf *c, char *err,
    size_t errlen)
{
	if (c->handoff_timeout >= c->timeout_data_term) {
		snprintf(err, errlen, "handoff_timeout must be below "
		    "timeout_data_term, which the client waits for our reply");
		return SK_ERR_FORMAT;
	}
	if (c->sendmail_command != NULL && (c->sendmail_command[0] != '/' ||
	    strpbrk(c->sendmail_command, " \t") != NULL)) {
		snprintf(err, errlen, "sendmail_command: an absolute path "
		    "alone, without arguments (it runs as CMD -i -f SENDER -- "
		    "RCPTS)");
		return SK_ERR_FORMAT;
	}
	if ((c->maildir == NULL) == (c->sendmail_command == NULL)) {
		snprintf(err, errlen, "set exactly one of maildir and "
		    "sendmail_command");
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

/* Each listener: TLS files when it uses TLS, a mechanism when it needs AUTH. */
static int
smtpd_conf_check_listeners(const struct smtpd_conf *c, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls != LISTEN_PLAIN &&
		    (c->tls_cert == NULL || c->tls_key == NULL)) {
			snprintf(err, errlen, "listen %s:%u uses TLS: set "
			    "tls_cert and tls_key", c->listen[i].addr,
			    c->listen[i].port);
			return SK_ERR_FORMAT;
		}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].auth_required && c->listen[i].mechs[0] ==
		    '\0' && c->auth_mechs[0] == '\0') {
			snprintf(err, errlen, "listen %s:%u requires AUTH "
			    "but offers no mechanism: set auth_mechs or mechs=",
			    c->listen[i].addr, c->listen[i].port);
			return SK_ERR_FORMAT;
		}
	return SK_OK;
}

int
smtpd_conf_load(const char *path, struct smtpd_conf *c, char *err,
    size_t errlen)
{
	char sub[512];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = conf_load(path, &c->raw, err, errlen)) != SK_OK)
		return r;
	if ((r = conf_load_table(c->raw, smtpd_conf_keys, smtpd_conf_nkeys, c,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = smtpd_conf_check_handoff(c, sub, sizeof(sub))) != SK_OK ||
	    (r = smtpd_conf_check_listeners(c, sub, sizeof(sub))) != SK_OK) {
		snprintf(err, errlen, "%s: %s", path, sub);
		smtpd_conf_free(c);
		return r;
	}
	if (gethostname(c->host, sizeof(c->host) - 1) == -1)
		strcpy(c->host, "localhost");
	if (c->host_name == NULL)
		c->host_name = c->host;
	return SK_OK;
}

void
smtpd_conf_free(struct smtpd_conf *c)
{
	size_t i;

	for (i = 0; i < c->nlocal; i++)
		free(c->local_domains[i]);
	for (i = 0; i < c->nrelay; i++)
		free(c->relay_domains[i]);
	c->nlocal = c->nrelay = 0;
	conf_free(c->raw);
	c->raw = NULL;
}
