/*
 * config.c: authd.conf, in Cyrus's "key: value" style. Every key is known
 * and checked here, with its default; an unknown key is an error, so a
 * typo never silently leaves a default in force.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "err.h"
#include "scram.h"

/* keys that name a file or directory */
static const char *const authd_path_keys[] = {
	"sasldb_path", "pidfile", "mux_socket", "auth_socket", "admin_socket",
	"install_key", "sasl_plugin_dir", "pam_confdir", NULL
};

static const char *const authd_keys[] = {
	"sasldb_path", "default_realm", "pidfile",
	"mux_socket", "mux_socket_mode", "mux_socket_group",
	"admin_socket", "admin_socket_mode", "admin_socket_group",
	"auth_socket", "auth_socket_mode", "auth_socket_group",
	"mech_list", "sasl_plugin_dir", "host_name",
	"penalty_base_ms", "penalty_max_ms", "penalty_expire",
	"workers", "io_timeout", "max_connections", "exchange_timeout",
	"passdb", "pam_service", "pam_confdir", "pam_workers",
	"cache_ttl", "cache_size", "install_key",
	"scram_iterations",	/* read by saslpasswd from the same file */
	"debug",
	NULL
};

/* An octal mode such as 0660, at most 0777. */
static int
conf_mode(const struct conf *c, const char *key, mode_t def, mode_t *out,
    char *err, size_t errlen)
{
	const char *v = conf_get(c, key);
	unsigned long n;
	char *end;

	if (v == NULL) {
		*out = def;
		return SK_OK;
	}
	errno = 0;
	n = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || n > 0777) {
		snprintf(err, errlen, "%s: \"%s\" is not an octal mode such as "
		    "0660", key, v);
		return SK_ERR_FORMAT;
	}
	*out = (mode_t)n;
	return SK_OK;
}

/* A group name or number. */
static int
conf_group(const struct conf *c, const char *key, const char *def,
    gid_t *out, char *err, size_t errlen)
{
	const char *v = conf_get(c, key);
	struct group *gr;

	if (v == NULL)
		v = def;
	if ((gr = getgrnam(v)) == NULL) {
		char *end;
		unsigned long n = strtoul(v, &end, 10);

		if (*v == '\0' || *end != '\0') {
			snprintf(err, errlen, "%s: no group \"%s\"", key, v);
			return SK_ERR_FORMAT;
		}
		*out = (gid_t)n;
		return SK_OK;
	}
	*out = gr->gr_gid;
	return SK_OK;
}

/* "sasldb", "pam", or both in the order they are tried. */
static int
conf_passdb(const struct conf *c, char out[4], char *err, size_t errlen)
{
	const char *v = conf_get(c, "passdb"), *p;
	size_t n, used = 0;
	char kind;

	if (v == NULL)
		v = "sasldb";
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

int
authd_conf_load(const char *path, struct authd_conf *c, char *err,
    size_t errlen)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char sub[256];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = conf_load(path, &c->raw, err, errlen)) != SK_OK)
		return r;
	if ((r = conf_check_keys(c->raw, authd_keys, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_check_abs(c->raw, authd_path_keys, sub, sizeof(sub))) !=
	    SK_OK)
		goto bad;
	c->sasldb_path = conf_get(c->raw, "sasldb_path");
	if (c->sasldb_path == NULL)
		c->sasldb_path = "/etc/sasldb2";
	if (gethostname(c->host, sizeof(c->host) - 1) == -1)
		strcpy(c->host, "localhost");
	c->default_realm = conf_get(c->raw, "default_realm");
	if (c->default_realm == NULL)
		c->default_realm = c->host;
	c->pidfile = conf_get(c->raw, "pidfile");
	if (c->pidfile == NULL)
		c->pidfile = "/run/saslkit/authd.pid";
	c->mux_socket = conf_get(c->raw, "mux_socket");
	if (c->mux_socket == NULL)
		c->mux_socket = "/run/saslkit/mux";
	else if (c->mux_socket[0] == '\0')
		c->mux_socket = NULL;
	c->auth_socket = conf_get(c->raw, "auth_socket");
	if (c->auth_socket == NULL)
		c->auth_socket = "/run/saslkit/auth";
	else if (c->auth_socket[0] == '\0')
		c->auth_socket = NULL;
	if ((c->mech_list = conf_get(c->raw, "mech_list")) == NULL)
		c->mech_list = AUTHD_DEFAULT_MECHS;
	if ((c->sasl_plugin_dir = conf_get(c->raw, "sasl_plugin_dir")) == NULL)
		c->sasl_plugin_dir = SASL_PLUGIN_DIR;
	if ((c->host_name = conf_get(c->raw, "host_name")) == NULL)
		c->host_name = c->host;
	c->admin_socket = conf_get(c->raw, "admin_socket");
	if (c->admin_socket == NULL)
		c->admin_socket = "/run/saslkit/admin";
	else if (c->admin_socket[0] == '\0')
		c->admin_socket = NULL;
	if ((c->install_key = conf_get(c->raw, "install_key")) == NULL ||
	    c->install_key[0] == '\0')
		c->install_key = "/etc/saslkit/authd.key";
	if ((c->pam_service = conf_get(c->raw, "pam_service")) == NULL ||
	    c->pam_service[0] == '\0')
		c->pam_service = "saslkit";
	if ((c->pam_confdir = conf_get(c->raw, "pam_confdir")) != NULL &&
	    c->pam_confdir[0] == '\0')
		c->pam_confdir = NULL;
	if ((r = conf_passdb(c->raw, c->passdb, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "pam_workers", 0, 256, 16,
	    &c->pam_workers, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "cache_ttl", 0, 86400, 60,
	    &c->cache_ttl, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "cache_size", 4, 10000000, 10000,
	    &c->cache_size, sub, sizeof(sub))) != SK_OK)
		goto bad;
	if ((r = conf_mode(c->raw, "mux_socket_mode", 0660, &c->mux_mode, sub,
	    sizeof(sub))) != SK_OK ||
	    (r = conf_mode(c->raw, "admin_socket_mode", 0660, &c->admin_mode,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_mode(c->raw, "auth_socket_mode", 0660, &c->auth_mode,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_group(c->raw, "auth_socket_group", "root", &c->auth_gid,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_group(c->raw, "admin_socket_group", "root", &c->admin_gid,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "scram_iterations", 1, SCRAM_ITER_MAX,
	    SCRAM_ITER_DEFAULT, &c->scram_iterations, sub, sizeof(sub))) !=
	    SK_OK ||
	    (r = conf_group(c->raw, "mux_socket_group", "root", &c->mux_gid,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "workers", 1, 64, cores < 1 ? 1 :
	    cores > 64 ? 64 : (unsigned)cores, &c->workers, sub,
	    sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "io_timeout", 1, 3600, 30,
	    &c->io_timeout, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "exchange_timeout", 1, 3600, 120,
	    &c->exchange_timeout, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_connections", 1, 100000, 1000,
	    &c->max_connections, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "penalty_base_ms", 0, 60000, 200,
	    &c->penalty_base_ms, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "penalty_max_ms", 0, 600000, 15000,
	    &c->penalty_max_ms, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "penalty_expire", 1, 86400, 3600,
	    &c->penalty_expire, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_bool(c->raw, "debug", 0, &c->debug, sub,
	    sizeof(sub))) != SK_OK)
		goto bad;
	return SK_OK;
bad:
	snprintf(err, errlen, "%s: %s", path, sub);
	authd_conf_free(c);
	return r;
}

void
authd_conf_free(struct authd_conf *c)
{
	conf_free(c->raw);
	c->raw = NULL;
}
