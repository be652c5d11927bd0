/*
 * reload.c: smtpd's SIGHUP. The configuration is read again, as smtpd's
 * own user, and what can change live is applied at once: new sessions
 * and the next command of a running one see it. What only a restart can
 * apply (listeners, user, paths opened at start) is logged and left.
 * Must never apply half a configuration, and never free a string that a
 * session born before the reload may still hold.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "safefile.h"
#include "session.h"

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

/* The reason OpenSSL gave for the last failure, or a default. */
static const char *
tls_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_get_error());

	ERR_clear_error();
	return r != NULL ? r : "unknown reason";
}

/* The directories above the key: root's (or the caller's), none other. */
static int
tls_key_dirs(const char *key, char *err, size_t errlen)
{
	struct safefile_policy pol;
	char dir[PATH_MAX], *slash;

	memset(&pol, 0, sizeof(pol));
	pol.owner = geteuid();
	pol.trusted_gid = (gid_t)-1;
	pol.key = "tls_key";
	if (snprintf(dir, sizeof(dir), "%s", key) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL) {
		snprintf(err, errlen, "tls_key %s: want an absolute path", key);
		return SK_ERR_INVAL;
	}
	slash[slash == dir] = '\0';
	return safefile_check_dir(dir, &pol, err, errlen);
}

/*
 * Loads the private key through a descriptor opened without following a
 * link, the file the checks passed: 1 as SSL_CTX_use_PrivateKey_file.
 */
static int
tls_use_key(SSL_CTX *ctx, const char *path)
{
	EVP_PKEY *pk = NULL;
	struct stat st;
	BIO *b = NULL;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (b = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL &&
	    (pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) != NULL)
		ok = SSL_CTX_use_PrivateKey(ctx, pk);
	EVP_PKEY_free(pk);
	BIO_free(b);
	close(fd);
	return ok;
}

int
smtpd_tls_load(const struct smtpd_conf *c, uid_t owner, SSL_CTX **ctx_r,
    char *err, size_t errlen)
{
	struct safefile_policy pol;
	unsigned long oe;
	SSL_CTX *ctx;
	int r, e;

	*ctx_r = NULL;
	safefile_policy_secret(&pol);
	pol.owner = owner;
	pol.key = "tls_key";
	if ((r = safefile_check(c->tls_key, &pol, err, errlen)) != SK_OK)
		return r;
	/*
	 * smtpd's user may own the key, not the directories above it: else
	 * it could swap the file under root's next start
	 */
	if (owner != geteuid() && (r = tls_key_dirs(c->tls_key, err, errlen)) !=
	    SK_OK)
		return r;
	if (access(c->tls_cert, R_OK) == -1) {
		e = errno;
		r = safefile_explain("tls_cert", c->tls_cert, "read", e, NULL,
		    err, errlen);
		errno = e;
		return r;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		snprintf(err, errlen, "TLS: cannot make a context: %s",
		    tls_reason());
		SSL_CTX_free(ctx);
		return SK_ERR_CRYPTO;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		snprintf(err, errlen, "tls_cert %s: not a PEM certificate chain "
		    "(%s); check the file or set tls_cert", c->tls_cert,
		    tls_reason());
		goto bad;
	}
	if (tls_use_key(ctx, c->tls_key) != 1) {
		/* a good key, but of another certificate */
		oe = ERR_peek_last_error();
		if (ERR_GET_LIB(oe) == ERR_LIB_X509 &&
		    ERR_GET_REASON(oe) == X509_R_KEY_VALUES_MISMATCH)
			goto mismatch;
		snprintf(err, errlen, "tls_key %s: not a PEM private key (%s); "
		    "check the file or set tls_key", c->tls_key, tls_reason());
		goto bad;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto mismatch;
	/* no renegotiation, no compression, the server's cipher order */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	*ctx_r = ctx;
	return SK_OK;
mismatch:
	snprintf(err, errlen, "tls_key %s: does not match the certificate of "
	    "tls_cert %s (%s); set the two to a key and its certificate",
	    c->tls_key, c->tls_cert, tls_reason());
bad:
	SSL_CTX_free(ctx);
	return SK_ERR_FORMAT;
}

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
reload_tls(struct smtpd *d, const struct smtpd_conf *nc, SSL_CTX **ctx_r,
    char *err, size_t errlen)
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
	return smtpd_tls_load(nc, key_owner, ctx_r, err, errlen);
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
smtpd_reload(struct smtpd *d)
{
	struct smtpd_conf nc;
	struct sender_map senders;
	struct retired *r;
	SSL_CTX *ctx = NULL;
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
		SSL_CTX_free(ctx);
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
		SSL_CTX_free(d->tls);
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
