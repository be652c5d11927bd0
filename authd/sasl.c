/*
 * sasl.c: authd's use of Cyrus libsasl2 (DESIGN §3). Mechanisms are
 * libsasl2's; secrets come from our own auxprop plugin (sasl_auxprop.c),
 * which reads the store through authd's open handle; PLAIN and LOGIN are
 * checked by our checkpass callback against the verifiers. Every option
 * libsasl2 asks for is answered here, so no system .conf file or sasldb
 * plugin touches the store behind authd's back.
 * Must never log a password, response or verifier.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "authd.h"
#include "authsasl.h"
#include "err.h"
#include "log.h"
#include "mech.h"

static struct authd *sasl_authd;
/* mech_list's names as libsasl2 reads a list: space-separated */
static char sasl_mech_list[sizeof(((struct authd *)0)->sasl_mechs)];

/* libsasl2's log_level option: SASL_LOG_DEBUG with debug on, else its own. */
#define AUTHSASL_LOG_DEBUG	"5"
#define AUTHSASL_LOG_DEFAULT	"1"	/* SASL_LOG_ERR */

typedef int (*sasl_cb_fn)(void);
#define CB(f) ((sasl_cb_fn)(void (*)(void))(f))

/* libsasl2's mutexes do nothing by default: give it real ones. */
static void *
mutex_alloc(void)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(m, NULL);
	return m;
}

static int
mutex_lock(void *m)
{
	return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static int
mutex_unlock(void *m)
{
	return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static void
mutex_free(void *m)
{
	pthread_mutex_destroy(m);
	free(m);
}

/* Every option libsasl2 reads comes from here. */
static int
cb_getopt(void *ctx, const char *plugin, const char *opt, const char **res,
    unsigned *len)
{
	(void)ctx;
	(void)plugin;
	if (strcmp(opt, "auxprop_plugin") == 0)
		*res = "saslkit";
	else if (strcmp(opt, "mech_list") == 0)
		*res = sasl_mech_list;
	else if (strcmp(opt, "pwcheck_method") == 0)
		*res = "auxprop";
	else if (strcmp(opt, "log_level") == 0)	/* read per connection */
		*res = log_enabled(LOG_LVL_DEBUG) ? AUTHSASL_LOG_DEBUG :
		    AUTHSASL_LOG_DEFAULT;
	else
		return SASL_FAIL;
	if (len != NULL)
		*len = (unsigned)strlen(*res);
	return SASL_OK;
}

static int
cb_getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = sasl_authd->conf.sasl_plugin_dir;
	return SASL_OK;
}

/* No system configuration file: a directory that holds none. */
static int
cb_getconfpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = "/nonexistent/saslkit-authd";
	return SASL_OK;
}

/*
 * libsasl2's messages: errors as warnings, the rest up to SASL_LOG_DEBUG
 * as debug lines. Never SASL_LOG_TRACE, nor SASL_LOG_PASS, which may carry
 * passwords: those are dropped before anything is formatted.
 */
static int
cb_log(void *ctx, int level, const char *msg)
{
	char safe[256];

	(void)ctx;
	if (level <= SASL_LOG_NONE || level > SASL_LOG_DEBUG || msg == NULL ||
	    (level > SASL_LOG_ERR && !log_enabled(LOG_LVL_DEBUG)))
		return SASL_OK;
	log_sanitize(msg, strlen(msg), safe, sizeof(safe));
	if (level <= SASL_LOG_ERR)
		log_warn("libsasl2: %s", safe);
	else
		log_debug("libsasl2: %s", safe);
	return SASL_OK;
}

/* PLAIN and LOGIN: checked against the store's current secrets. */
static int
cb_checkpass(sasl_conn_t *conn, void *ctx, const char *user, const char *pass,
    unsigned passlen, struct propctx *propctx)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	struct authsasl_req *req = ctx;
	int r;

	(void)conn;
	(void)propctx;
	if (authsasl_split(user, (unsigned)strlen(user), authid, realm) !=
	    SK_OK)
		r = SK_ERR_NOTFOUND;
	else
		r = verify_password(sasl_authd, authid, realm, pass, passlen,
		    req->rip);
	req->verify_result = r;
	if (r == SK_OK)
		return SASL_OK;
	if (r == SK_ERR_NOTFOUND)
		return SASL_NOUSER;
	if (r == SK_ERR_MISMATCH || r == SK_ERR_DISABLED)
		return SASL_BADAUTH;
	return SASL_TRYAGAIN;	/* the store failed: not the client's fault */
}

/* Who may act as whom: by default, only oneself. */
static int
cb_proxy(sasl_conn_t *conn, void *ctx, const char *requested, unsigned rlen,
    const char *authid, unsigned alen, const char *realm, unsigned urlen,
    struct propctx *propctx)
{
	(void)ctx;
	(void)realm;
	(void)urlen;
	(void)propctx;
	if (rlen == 0 || (rlen == alen && memcmp(requested, authid, alen) == 0))
		return SASL_OK;
	sasl_seterror(conn, SASL_NOLOG, "not allowed to act as another user");
	return SASL_BADAUTH;
}

static sasl_callback_t global_cbs[] = {
	{ SASL_CB_GETOPT, CB(cb_getopt), NULL },
	{ SASL_CB_GETPATH, CB(cb_getpath), NULL },
	{ SASL_CB_GETCONFPATH, CB(cb_getconfpath), NULL },
	{ SASL_CB_LOG, CB(cb_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

int
authsasl_init(struct authd *a, char *err, size_t errlen)
{
	int r;

	sasl_authd = a;
	authsasl_auxprop_set(a);
	sasl_set_mutex(mutex_alloc, mutex_lock, mutex_unlock, mutex_free);
	if ((r = sasl_auxprop_add_plugin("saslkit", authsasl_auxprop_init)) !=
	    SASL_OK || (r = sasl_server_init(global_cbs, "saslkit-authd")) !=
	    SASL_OK || (r = sasl_client_init(NULL)) != SASL_OK) {
		snprintf(err, errlen, "libsasl2: %s", sasl_errstring(r, NULL,
		    NULL));
		return SK_ERR_INVAL;
	}
	return SK_OK;
}

void
authsasl_done(void)
{
	sasl_client_done();	/* the agent's (agent.c) */
	sasl_server_done();
	explicit_bzero(sasl_authd->install_key, sizeof(sasl_authd->install_key));
}

int
authsasl_new(struct authsasl_req *req, const char *service, const char *lip,
    const char *rip)
{
	sasl_security_properties_t sec;
	int r;

	req->cbs[0] = (sasl_callback_t){ SASL_CB_SERVER_USERDB_CHECKPASS,
	    CB(cb_checkpass), req };
	req->cbs[1] = (sasl_callback_t){ SASL_CB_PROXY_POLICY, CB(cb_proxy),
	    req };
	req->cbs[2] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	(void)lip;
	snprintf(req->rip, sizeof(req->rip), "%s", rip != NULL ? rip : "");
	r = sasl_server_new(service, sasl_authd->conf.host_name,
	    sasl_authd->conf.default_realm, NULL, NULL, req->cbs, 0, &req->conn);
	if (r != SASL_OK)
		return SK_ERR_INVAL;
	/* a proxied exchange carries no security layer */
	memset(&sec, 0, sizeof(sec));
	sec.max_ssf = 0;
	sec.maxbufsize = 0;
	sec.security_flags = 0;
	sasl_setprop(req->conn, SASL_SEC_PROPS, &sec);
	return SK_OK;
}

void
authsasl_free(struct authsasl_req *req)
{
	if (req->conn != NULL)
		sasl_dispose(&req->conn);
}

int
authsasl_step(struct authsasl_req *req, const char *mech, const char *in,
    unsigned inlen, int first, const char **out, unsigned *outlen)
{
	int r;

	req->verify_result = SK_ERR_NOTFOUND;
	if (first)
		r = sasl_server_start(req->conn, mech, in, inlen, out, outlen);
	else
		r = sasl_server_step(req->conn, in, inlen, out, outlen);
	return r;
}

const char *
authsasl_code_name(int r)
{
	static const struct { int code; const char *name; } names[] = {
		{ SASL_CONTINUE, "SASL_CONTINUE" },
		{ SASL_OK, "SASL_OK" },
		{ SASL_FAIL, "SASL_FAIL" },
		{ SASL_NOMEM, "SASL_NOMEM" },
		{ SASL_BUFOVER, "SASL_BUFOVER" },
		{ SASL_NOMECH, "SASL_NOMECH" },
		{ SASL_BADPROT, "SASL_BADPROT" },
		{ SASL_NOTDONE, "SASL_NOTDONE" },
		{ SASL_BADPARAM, "SASL_BADPARAM" },
		{ SASL_TRYAGAIN, "SASL_TRYAGAIN" },
		{ SASL_BADMAC, "SASL_BADMAC" },
		{ SASL_BADSERV, "SASL_BADSERV" },
		{ SASL_WRONGMECH, "SASL_WRONGMECH" },
		{ SASL_BADAUTH, "SASL_BADAUTH" },
		{ SASL_NOAUTHZ, "SASL_NOAUTHZ" },
		{ SASL_TOOWEAK, "SASL_TOOWEAK" },
		{ SASL_ENCRYPT, "SASL_ENCRYPT" },
		{ SASL_TRANS, "SASL_TRANS" },
		{ SASL_EXPIRED, "SASL_EXPIRED" },
		{ SASL_DISABLED, "SASL_DISABLED" },
		{ SASL_NOUSER, "SASL_NOUSER" },
		{ SASL_BADVERS, "SASL_BADVERS" },
		{ SASL_UNAVAIL, "SASL_UNAVAIL" },
		{ SASL_NOVERIFY, "SASL_NOVERIFY" },
		{ SASL_PWLOCK, "SASL_PWLOCK" },
		{ SASL_NOCHANGE, "SASL_NOCHANGE" },
		{ SASL_WEAKPASS, "SASL_WEAKPASS" },
		{ SASL_NOUSERPASS, "SASL_NOUSERPASS" },
		{ SASL_CONSTRAINT_VIOLAT, "SASL_CONSTRAINT_VIOLAT" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == r)
			return names[i].name;
	return "SASL_?";
}

void
authsasl_errdetail(struct authsasl_req *req, char *out, size_t outsz)
{
	const char *d = req->conn != NULL ? sasl_errdetail(req->conn) : NULL;

	log_sanitize(d != NULL ? d : "-", strlen(d != NULL ? d : "-"), out,
	    outsz);
}

const char *
authsasl_user(struct authsasl_req *req)
{
	const void *user = NULL;

	if (sasl_getprop(req->conn, SASL_USERNAME, &user) != SASL_OK)
		return NULL;
	return user;
}

/* The authentication id of a finished exchange, or NULL. */
const char *
authsasl_authuser(struct authsasl_req *req)
{
	const void *user = NULL;

	if (sasl_getprop(req->conn, SASL_AUTHUSER, &user) != SASL_OK)
		return NULL;
	return user;
}

/*
 * Appends a mechanism name to a space-separated list at *used, once,
 * upper-cased when upper is set.
 */
static int
authsasl_mech_put(char *out, size_t outsz, size_t *used, const char *name,
    size_t n, int upper)
{
	size_t i;

	if (mech_list_has(out, name, n, NULL))
		return SK_OK;
	if (*used + (*used > 0) + n + 1 > outsz)
		return SK_ERR_LIMIT;
	if (*used > 0)
		out[(*used)++] = ' ';
	for (i = 0; i < n; i++)
		out[(*used)++] = upper ? (char)toupper((unsigned char)name[i]) :
		    name[i];
	out[*used] = '\0';
	return SK_OK;
}

/*
 * mech_list in the one grammar of mech.h (names apart by spaces, tabs,
 * commas or slashes), for libsasl2, which splits at spaces only. The
 * configuration refused a list with anything but names (config.c).
 */
static int
authsasl_mech_list(const char *conf, char *out, size_t outsz)
{
	const char *name;
	size_t n, used = 0;
	int r = SK_OK;

	out[0] = '\0';
	while (r == SK_OK && (n = mech_list_next(&conf, &name)) > 0)
		if (mech_name_ok(name, n))
			r = authsasl_mech_put(out, outsz, &used, name, n, 0);
	return r;
}

/*
 * The mechanisms we offer: the configured list, in its order, intersected
 * with what libsasl2 has, upper-cased. libsasl2 lists a -PLUS form only on
 * a connection that holds channel-binding data, so the probe carries a
 * placeholder.
 */
int
authsasl_mechs(char *out, size_t outsz)
{
	static const sasl_channel_binding_t probe = { "tls-unique", 0, 0,
	    (const unsigned char *)"" };
	const char *p = sasl_mech_list, *list, *name;
	unsigned len;
	int count, r;
	size_t n, used = 0;
	sasl_conn_t *c;

	if ((r = authsasl_mech_list(sasl_authd->conf.mech_list, sasl_mech_list,
	    sizeof(sasl_mech_list))) != SK_OK)
		return r;
	if (sasl_server_new("saslkit", sasl_authd->conf.host_name, NULL, NULL,
	    NULL, NULL, 0, &c) != SASL_OK)
		return SK_ERR_INVAL;
	sasl_setprop(c, SASL_CHANNEL_BINDING, &probe);
	if (sasl_listmech(c, NULL, "", " ", "", &list, &len, &count) !=
	    SASL_OK) {
		sasl_dispose(&c);
		return SK_ERR_INVAL;
	}
	out[0] = '\0';
	while (r == SK_OK && (n = mech_list_next(&p, &name)) > 0)
		if (mech_list_has(list, name, n, NULL))
			r = authsasl_mech_put(out, outsz, &used, name, n, 1);
	sasl_dispose(&c);
	return r;
}

void
authsasl_cbind(struct authsasl_req *req, const sasl_channel_binding_t *cb)
{
	sasl_setprop(req->conn, SASL_CHANNEL_BINDING, cb);
}
