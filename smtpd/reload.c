/*
 * reload.c: smtpd's SIGHUP (reload.h). The configuration is read again, as smtpd's
 * own user, and what can change live is applied at once: new sessions
 * and the next command of a running one see it. What only a restart can
 * apply (listeners, user, paths opened at start) is logged and left.
 * Must never apply half a configuration, and never free a string that a
 * session born before the reload may still hold.
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

/* Keys that only a restart applies. */
static const char *const restart_keys[] = {
	"listen", "user", "auth_socket", "auth_connections", "max_connections",
	"maildir", "sendmail_command", "spool_dir", "pidfile", NULL
};

/* What a reload replaced, kept until the sessions born before it end. */
struct retired {
	struct retired *next;
	unsigned long gen;		/* the configuration's generation */
	unsigned pending;		/* sessions of gen or older, alive */
	struct conf *raw;		/* NULL: the first, kept to the end */
	char *domains[2 * SMTPD_DOMAINS_MAX];
	size_t ndomains;
};

static char conffile[PATH_MAX];	/* absolute: daemon() went to / */
static struct conf *boot_raw;	/* restart-only strings point into it */
static uid_t key_owner;		/* who may own tls_key besides root */
static struct retired *retired;

void
reload_init(struct smtpd *d, const char *path, uid_t owner)
{
	if (realpath(path, conffile) == NULL)
		snprintf(conffile, sizeof(conffile), "%s", path);
	boot_raw = d->conf.raw;
	key_owner = owner;
}

static void
retired_free(struct retired *r)
{
	size_t i;

	for (i = 0; i < r->ndomains; i++)
		free(r->domains[i]);
	conf_free(r->raw);
	free(r);
}

/* Frees every record no running session can still use. */
static void
retired_sweep(void)
{
	struct retired **rp = &retired, *r;

	while ((r = *rp) != NULL) {
		if (r->pending == 0) {
			*rp = r->next;
			retired_free(r);
		} else
			rp = &r->next;
	}
}

void
reload_session_end(struct smtpd *d, unsigned long gen)
{
	struct retired *r;

	(void)d;
	for (r = retired; r != NULL; r = r->next)
		if (gen <= r->gen && r->pending > 0)
			r->pending--;
	retired_sweep();
}

/* Hands what the running configuration owns to r, until its sessions end. */
static void
retire(struct smtpd *d, struct retired *r)
{
	struct smtpd_conf *c = &d->conf;

	r->gen = d->gen;
	r->pending = d->nsessions;
	r->raw = c->raw == boot_raw ? NULL : c->raw;
	memcpy(r->domains, c->local_domains, c->nlocal * sizeof(char *));
	memcpy(r->domains + c->nlocal, c->relay_domains,
	    c->nrelay * sizeof(char *));
	r->ndomains = c->nlocal + c->nrelay;
	r->next = retired;
	retired = r;
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

int
reload_run(struct smtpd *d)
{
	struct smtpd_conf nc;
	struct sender_map senders;
	struct retired *r;
	struct ssl_ctx_st *ctx = NULL;
	char err[1024];
	size_t i;
	int rc;

	memset(&senders, 0, sizeof(senders));
	if ((rc = smtpd_conf_load(conffile, &nc, err, sizeof(err))) != SK_OK) {
		log_error("reload: %s; the running configuration stays", err);
		return rc;
	}
	if ((rc = reload_tls(d, &nc, &ctx, err, sizeof(err))) != SK_OK ||
	    (nc.sender_login_map != NULL && (rc = sender_map_load(
	    nc.sender_login_map, &senders, err, sizeof(err))) != 0) ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		if (rc == SK_OK) {
			rc = SK_ERR_NOMEM;
			snprintf(err, sizeof(err), "out of memory");
		}
		log_error("reload: %s; the running configuration stays", err);
		tls_ctx_free(ctx);
		sender_map_free(&senders);
		smtpd_conf_free(&nc);
		return rc;
	}
	/* the running values of these are the first file's */
	for (i = 0; restart_keys[i] != NULL; i++)
		if (!conf_same(nc.raw, boot_raw, restart_keys[i]))
			log_warn("reload: %s changed: needs a restart; the "
			    "running value stays", restart_keys[i]);
	retire(d, r);
	apply(d, &nc);
	if (ctx != NULL) {	/* running TLS sessions hold the old one */
		tls_ctx_free(d->tls);
		d->tls = ctx;
	}
	sender_map_free(&d->senders);
	d->senders = senders;
	d->gen++;
	retired_sweep();
	log_info("reload: %s read again%s; new sessions use it", conffile,
	    ctx != NULL ? ", certificate and key loaded" : "");
	return SK_OK;
}

void
reload_free(struct smtpd *d)
{
	struct retired *r;

	while ((r = retired) != NULL) {
		retired = r->next;
		retired_free(r);
	}
	if (d->conf.raw != boot_raw)
		conf_free(boot_raw);
	boot_raw = NULL;
}
