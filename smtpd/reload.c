/*
 * reload.c: smtpd's SIGHUP (reload.h). The configuration is read again,
 * as smtpd's own user, and what can change live is applied at once: new
 * sessions and the next command of a running one see it. What only a
 * restart can apply (listeners, user, paths opened at start) is logged
 * and left, pointing into the first file's strings, kept to the end.
 *
 * What a reload replaces is freed at once: nothing else holds it. A
 * session reads the configuration only on the loop's thread (where the
 * reload runs too), while it handles an event, and keeps no pointer into
 * it from one event to the next; the pool's thread reads only maildir
 * and sendmail_command, which only a restart changes. A running TLS
 * session holds a reference of its own to the old SSL_CTX.
 * Must never apply half a configuration.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "reload.h"
#include "smtpd.h"
#include "tls.h"

static char conffile[PATH_MAX];	/* absolute: daemon() went to / */
static struct conf *boot_raw;	/* restart-only strings point into it */
static uid_t key_owner;		/* who may own tls_key besides root */

void
reload_init(struct smtpd *d, const char *path, uid_t owner)
{
	if (realpath(path, conffile) == NULL)
		snprintf(conffile, sizeof(conffile), "%s", path);
	boot_raw = d->conf.raw;
	key_owner = owner;
}

/*
 * The certificate and key of nc, if a listener uses TLS. A key smtpd may
 * not read (root-only, as at start) while its path is unchanged keeps
 * the running context: *ctx_r stays NULL and the reason is logged.
 */
static int
reload_tls(struct smtpd *d, const struct smtpd_conf *nc,
    struct ssl_ctx_st **ctx_r, char *err, size_t errlen)
{
	size_t i;

	*ctx_r = NULL;
	for (i = 0; i < d->conf.nlisten; i++)
		if (d->conf.listen[i].tls != LISTEN_PLAIN)
			break;
	if (i == d->conf.nlisten)
		return SK_OK;
	if (nc->tls_cert == NULL || nc->tls_key == NULL) {
		snprintf(err, errlen, "listen %s:%u uses TLS: set tls_cert and "
		    "tls_key", d->conf.listen[i].addr, d->conf.listen[i].port);
		return SK_ERR_FORMAT;
	}
	if (strcmp(nc->tls_cert, d->conf.tls_cert) == 0 &&
	    strcmp(nc->tls_key, d->conf.tls_key) == 0 &&
	    ((access(nc->tls_key, R_OK) == -1 && errno == EACCES) ||
	    (access(nc->tls_cert, R_OK) == -1 && errno == EACCES))) {
		log_warn("reload: %s or %s is not readable by uid %u: the "
		    "certificate in use stays; restart smtpd to load a new "
		    "one, or let smtpd's user own the key (chown, mode 0600)",
		    nc->tls_cert, nc->tls_key, (unsigned)geteuid());
		return SK_OK;
	}
	return tls_ctx_load(nc, key_owner, ctx_r, err, errlen);
}

/*
 * What the running configuration owns and a reload replaces, moved into
 * old for smtpd_conf_free: its strings (but the first file's) and its
 * domain lists.
 */
static void
detach(struct smtpd *d, struct smtpd_conf *old)
{
	struct smtpd_conf *c = &d->conf;

	memset(old, 0, sizeof(*old));
	old->raw = c->raw == boot_raw ? NULL : c->raw;
	memcpy(old->local_domains, c->local_domains,
	    c->nlocal * sizeof(c->local_domains[0]));
	old->nlocal = c->nlocal;
	memcpy(old->relay_domains, c->relay_domains,
	    c->nrelay * sizeof(c->relay_domains[0]));
	old->nrelay = c->nrelay;
}

/* Moves the live values of nc into d->conf; nc's lists go with them. */
static void
apply(struct smtpd *d, struct smtpd_conf *nc)
{
	struct smtpd_conf *c = &d->conf;

	c->raw = nc->raw;
	memcpy(c->host, nc->host, sizeof(c->host));
	c->host_name = nc->host_name == nc->host ? c->host : nc->host_name;
	c->tls_cert = nc->tls_cert;
	c->tls_key = nc->tls_key;
	memcpy(c->auth_mechs, nc->auth_mechs, sizeof(c->auth_mechs));
	memcpy(c->trusted_mechs, nc->trusted_mechs, sizeof(c->trusted_mechs));
	c->trusted_set = nc->trusted_set;
	memcpy(c->local_domains, nc->local_domains, sizeof(c->local_domains));
	c->nlocal = nc->nlocal;
	memcpy(c->relay_domains, nc->relay_domains, sizeof(c->relay_domains));
	c->nrelay = nc->nrelay;
	c->sender_login_map = nc->sender_login_map;
	c->max_message_size = nc->max_message_size;
	c->max_recipients = nc->max_recipients;
	c->max_auth_failures = nc->max_auth_failures;
	c->max_connections_per_ip = nc->max_connections_per_ip;
	c->max_line = nc->max_line;
	c->auth_retry_ms = nc->auth_retry_ms;
	c->timeout_command = nc->timeout_command;
	c->timeout_data_init = nc->timeout_data_init;
	c->timeout_data_block = nc->timeout_data_block;
	c->timeout_data_term = nc->timeout_data_term;
	c->handoff_timeout = nc->handoff_timeout;
	c->reject_bare_lf = nc->reject_bare_lf;
	c->received_auth_user = nc->received_auth_user;
	c->broken_auth_line = nc->broken_auth_line;
	c->debug = nc->debug;
	nc->raw = NULL;
	nc->nlocal = nc->nrelay = 0;
}

/*
 * The new file's parts that can fail: its certificate and key, its
 * sender_login_map. SK_OK, or an error with err set.
 */
static int
reload_load(struct smtpd *d, struct smtpd_conf *nc, struct ssl_ctx_st **ctx,
    struct sender_map *senders, char *err, size_t errlen)
{
	int rc;

	if ((rc = reload_tls(d, nc, ctx, err, errlen)) != SK_OK)
		return rc;
	if (nc->sender_login_map != NULL && (rc = sender_map_load(
	    nc->sender_login_map, senders, err, errlen)) != 0) {
		tls_ctx_free(*ctx);
		*ctx = NULL;
		sender_map_free(senders);
		return rc;
	}
	return SK_OK;
}

int
reload_run(struct smtpd *d)
{
	struct smtpd_conf nc, old;
	struct sender_map senders;
	struct ssl_ctx_st *ctx = NULL;
	const char *key;
	char err[1024];
	size_t i;
	int rc;

	memset(&senders, 0, sizeof(senders));
	if ((rc = smtpd_conf_load(conffile, &nc, err, sizeof(err))) != SK_OK) {
		log_error("reload: %s; the running configuration stays", err);
		return rc;
	}
	if ((rc = reload_load(d, &nc, &ctx, &senders, err, sizeof(err))) !=
	    SK_OK) {
		log_error("reload: %s; the running configuration stays", err);
		smtpd_conf_free(&nc);
		return rc;
	}
	/* the running values of these are the first file's */
	for (i = 0; (key = conf_next_restart_change(boot_raw, nc.raw,
	    smtpd_conf_keys, smtpd_conf_nkeys, &i)) != NULL;)
		log_warn("reload: %s changed: needs a restart; the running "
		    "value stays", key);
	detach(d, &old);
	apply(d, &nc);
	smtpd_conf_free(&old);
	if (ctx != NULL) {	/* running TLS sessions hold the old one */
		tls_ctx_free(d->tls);
		d->tls = ctx;
	}
	sender_map_free(&d->senders);
	d->senders = senders;
	log_info("reload: %s read again%s; new sessions use it", conffile,
	    ctx != NULL ? ", certificate and key loaded" : "");
	return SK_OK;
}

void
reload_free(struct smtpd *d)
{
	if (d->conf.raw != boot_raw)
		conf_free(boot_raw);
	boot_raw = NULL;
}
