/*
 * config.c: authd.conf, in Cyrus's "key: value" style. Every key is in
 * the table below, with its type, bounds and default; an unknown key is an
 * error, so a typo never silently leaves a default in force. The table is
 * what man/authd.conf.5 documents (tests/integration/test_conf_keys.py).
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "err.h"
#include "mech.h"
#include "scram.h"
#include "seal.h"

/* A group name or number, into the entry's gid_t. */
static int
conf_group(const struct conf_key *k, const char *v, void *out, char *err,
    size_t errlen)
{
	gid_t *gid = (gid_t *)((char *)out + k->offset);
	struct group *gr;

	if ((gr = getgrnam(v)) == NULL) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);

		if (*v == '\0' || *end != '\0') {
			snprintf(err, errlen, "%s: no group \"%s\"", k->name,
			    v);
			return SK_ERR_FORMAT;
		}
		*gid = (gid_t)n;
		return SK_OK;
	}
	*gid = gr->gr_gid;
	return SK_OK;
}

/*
 * mech_list, checked in mech.h's one grammar as smtpd's lists are; kept
 * as written (authsasl.c intersects it with what libsasl2 has).
 */
static int
conf_mech_list(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	char scratch[sizeof(((struct authd *)0)->sasl_mechs)];

	if (mech_list_conf(k->name, v, scratch, sizeof(scratch), err, errlen) !=
	    SK_OK)
		return SK_ERR_FORMAT;
	((struct authd_conf *)conf)->mech_list = v;
	return SK_OK;
}

/* secrets_cipher: an AEAD that seal.h has. */
static int
conf_cipher(const struct conf_key *k, const char *v, void *conf, char *err,
    size_t errlen)
{
	enum seal_alg alg;

	if (seal_alg_parse(v, &alg) != SK_OK) {
		snprintf(err, errlen, "%s: \"%s\" is not aes-256-gcm nor "
		    "chacha20-poly1305", k->name, v);
		return SK_ERR_FORMAT;
	}
	((struct authd_conf *)conf)->secrets_cipher = (int)alg;
	return SK_OK;
}

/* "sasldb", "pam", or both in the order they are tried. */
static int
conf_passdb(const struct conf_key *k, const char *v, void *conf, char *err,
    size_t errlen)
{
	char *out = ((struct authd_conf *)conf)->passdb;
	const char *p;
	size_t n, used = 0;
	char kind;

	(void)k;
	for (p = v; *p != '\0'; p += n) {
		p += strspn(p, " \t,");
		if ((n = strcspn(p, " \t,")) == 0)
			break;
		if (n == 6 && strncmp(p, "sasldb", 6) == 0)
			kind = AUTHD_PASSDB_SASLDB;
		else if (n == 3 && strncmp(p, "pam", 3) == 0)
			kind = AUTHD_PASSDB_PAM;
		else {
			snprintf(err, errlen, "passdb: \"%.*s\" is neither "
			    "sasldb nor pam", (int)n, p);
			return SK_ERR_FORMAT;
		}
		if (memchr(out, kind, used) != NULL) {
			snprintf(err, errlen, "passdb: \"%.*s\" named twice",
			    (int)n, p);
			return SK_ERR_FORMAT;
		}
		out[used++] = kind;
	}
	out[used] = '\0';
	if (used == 0) {
		snprintf(err, errlen, "passdb: empty; say sasldb, pam or both");
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

#define F(field)	CONF_FIELD(struct authd_conf, field)

/*
 * Every key: name, type, field, min, max, default, flags, parser.
 * CONF_RESTART: a reload cannot apply it (reload.c says so).
 */
const struct conf_key authd_conf_keys[] = {
	{ "sasldb_path", CONF_PATH, F(sasldb_path), 0, 0, SK_SASLDB,
	    CONF_RESTART, NULL },
	/* NULL default: the host name (authd_conf_derive) */
	{ "default_realm", CONF_STR, F(default_realm), 0, 0, NULL, 0, NULL },
	{ "pidfile", CONF_PATH, F(pidfile), 0, 0, AUTHD_DEFAULT_PIDFILE,
	    CONF_RESTART, NULL },
	{ "mux_socket", CONF_PATH, F(mux_socket), 0, 0, SK_MUX_SOCKET,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "mux_socket_mode", CONF_MODE, F(mux_mode), 0, 0777, "0660",
	    CONF_RESTART, NULL },
	{ "mux_socket_group", CONF_CUSTOM, F(mux_gid), 0, 0, "root",
	    CONF_RESTART, conf_group },
	{ "auth_socket", CONF_PATH, F(auth_socket), 0, 0, SKSECRET_AUTH_SOCKET,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "auth_socket_mode", CONF_MODE, F(auth_mode), 0, 0777, "0660",
	    CONF_RESTART, NULL },
	{ "auth_socket_group", CONF_CUSTOM, F(auth_gid), 0, 0, "root",
	    CONF_RESTART, conf_group },
	{ "mech_list", CONF_CUSTOM, F(mech_list), 0, 0, AUTHD_DEFAULT_MECHS,
	    CONF_RESTART, conf_mech_list },
	{ "install_key", CONF_PATH, F(install_key), 0, 0, AUTHD_DEFAULT_KEY,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "passdb", CONF_CUSTOM, F(passdb), 0, 0, "sasldb", CONF_RESTART,
	    conf_passdb },
	{ "pam_service", CONF_STR, F(pam_service), 0, 0, "saslkit",
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "pam_confdir", CONF_PATH, F(pam_confdir), 0, 0, NULL,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "pam_workers", CONF_UINT, F(pam_workers), 0, 256, "16", CONF_RESTART,
	    NULL },
	{ "cache_ttl", CONF_UINT, F(cache_ttl), 0, 86400, "60", 0, NULL },
	{ "cache_size", CONF_UINT, F(cache_size), 4, 10000000, "10000",
	    CONF_RESTART, NULL },
	{ "sasl_plugin_dir", CONF_PATH, F(sasl_plugin_dir), 0, 0,
	    SASL_PLUGIN_DIR, CONF_RESTART, NULL },
	/* NULL default: the host name (authd_conf_derive) */
	{ "host_name", CONF_STR, F(host_name), 0, 0, NULL, 0, NULL },
	{ "admin_socket", CONF_PATH, F(admin_socket), 0, 0,
	    SKSECRET_ADMIN_SOCKET, CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "admin_socket_mode", CONF_MODE, F(admin_mode), 0, 0777, "0660",
	    CONF_RESTART, NULL },
	{ "admin_socket_group", CONF_CUSTOM, F(admin_gid), 0, 0, "root",
	    CONF_RESTART, conf_group },
	{ "master_socket", CONF_PATH, F(master_socket), 0, 0, NULL,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "master_socket_mode", CONF_MODE, F(master_mode), 0, 0777, "0600",
	    CONF_RESTART, NULL },
	{ "master_socket_group", CONF_CUSTOM, F(master_gid), 0, 0, "root",
	    CONF_RESTART, conf_group },
	/* NULL default: one per core (authd_conf_derive) */
	{ "workers", CONF_UINT, F(workers), 1, AUTHD_WORKERS_MAX, NULL,
	    CONF_RESTART, NULL },
	{ "io_timeout", CONF_UINT, F(io_timeout), 1, 3600, "30", 0, NULL },
	{ "exchange_timeout", CONF_UINT, F(exchange_timeout), 1, 3600, "120", 0,
	    NULL },
	{ "max_connections", CONF_UINT, F(max_connections), 1, 100000, "1000",
	    0, NULL },
	{ "penalty_base_ms", CONF_UINT, F(penalty_base_ms), 0, 60000, "200", 0,
	    NULL },
	{ "penalty_max_ms", CONF_UINT, F(penalty_max_ms), 0, 600000, "15000", 0,
	    NULL },
	{ "penalty_expire", CONF_UINT, F(penalty_expire), 1, 86400, "3600", 0,
	    NULL },
	/* read by saslpasswd from the same file too */
	{ "scram_iterations", CONF_UINT, F(scram_iterations), 1, SCRAM_ITER_MAX,
	    CONF_DEF(SCRAM_ITER_DEFAULT), 0, NULL },
	{ "upgrade_hashes", CONF_BOOL, F(upgrade_hashes), 0, 0, "yes", 0,
	    NULL },
	{ "secrets_path", CONF_PATH, F(secrets_path), 0, 0, SK_SECRETS,
	    CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "secrets_key", CONF_PATH, F(secrets_key), 0, 0, SK_SECRETS_KEY,
	    CONF_EMPTY_DEF | CONF_RESTART, NULL },
	{ "secrets_cipher", CONF_CUSTOM, F(secrets_cipher), 0, 0, "aes-256-gcm",
	    0, conf_cipher },
	{ "secrets_socket", CONF_PATH, F(secrets_socket), 0, 0,
	    SK_SECRETS_SOCKET, CONF_EMPTY_OFF | CONF_RESTART, NULL },
	{ "secrets_socket_mode", CONF_MODE, F(secrets_mode), 0, 0777, "0666",
	    CONF_RESTART, NULL },
	{ "debug", CONF_BOOL, F(debug), 0, 0, "no", 0, NULL },
};
const size_t authd_conf_nkeys = sizeof(authd_conf_keys) /
    sizeof(authd_conf_keys[0]);

/* The defaults that depend on the host: its name, its processors. */
static void
authd_conf_derive(struct authd_conf *c)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (c->default_realm == NULL)
		c->default_realm = c->host;
	if (c->host_name == NULL)
		c->host_name = c->host;
	if (c->workers == 0)
		c->workers = cores < 1 ? 1 : cores > AUTHD_WORKERS_MAX ?
		    AUTHD_WORKERS_MAX : (unsigned)cores;
}

int
authd_conf_load(const char *path, struct authd_conf *c, char *err,
    size_t errlen)
{
	char sub[256];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = conf_load(path, &c->raw, err, errlen)) != SK_OK)
		return r;
	if ((r = conf_load_table(c->raw, authd_conf_keys, authd_conf_nkeys, c,
	    sub, sizeof(sub))) != SK_OK) {
		snprintf(err, errlen, "%s: %s", path, sub);
		authd_conf_free(c);
		return r;
	}
	if (gethostname(c->host, sizeof(c->host) - 1) == -1)
		strcpy(c->host, "localhost");
	authd_conf_derive(c);
	return SK_OK;
}

void
authd_conf_free(struct authd_conf *c)
{
	conf_free(c->raw);
	c->raw = NULL;
}
