/*
 * sasl.c: authd's use of Cyrus libsasl2 (DESIGN §3). Mechanisms are
 * libsasl2's; secrets come from our own auxprop plugin, which reads the
 * store through authd's open handle; PLAIN and LOGIN are checked by our
 * checkpass callback against the verifiers. Every option libsasl2 asks
 * for is answered here, so no system .conf file or sasldb plugin touches
 * the store behind authd's back.
 * Must never log a password, response or verifier.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/hmac.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "authd.h"
#include "authsasl.h"
#include "b64.h"
#include "err.h"
#include "log.h"
#include "scram.h"

static struct authd *sasl_authd;

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

/* Splits libsasl2's canonical "user@realm" as the store does. */
static int
sasl_split(const char *user, unsigned ulen, char *authid, char *realm)
{
	char tmp[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];

	if (ulen >= sizeof(tmp))
		return SK_ERR_LIMIT;
	memcpy(tmp, user, ulen);
	tmp[ulen] = '\0';
	return sasldb_split_user(tmp, sasl_authd->conf.default_realm, authid,
	    SASLDB_AUTHID_MAX + 1, realm, SASLDB_REALM_MAX + 1);
}

/*
 * A verifier for a user that does not exist, stable across restarts:
 * salt and keys from HMAC(install key, user), so that SCRAM fails at its last
 * step, as for a wrong password, instead of saying "no such user" at once.
 */
static int
fake_verifier(enum scram_hash hash, const char *authid, const char *realm,
    char *out, size_t outsz)
{
	struct scram_verifier v;
	unsigned char md[64];
	unsigned int n;
	char input[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 8];
	int r;

	memset(&v, 0, sizeof(v));
	v.hash = hash;
	v.iter = sasl_authd->conf.scram_iterations;
	v.saltlen = SCRAM_SALT_LEN;
	n = (unsigned)snprintf(input, sizeof(input), "%d\n%s@%s", (int)hash,
	    authid, realm);
	if (HMAC(EVP_sha512(), sasl_authd->install_key,
	    sizeof(sasl_authd->install_key),
	    (unsigned char *)input, n, md, &n) == NULL)
		return SK_ERR_CRYPTO;
	memcpy(v.salt, md, SCRAM_SALT_LEN);
	memcpy(v.stored_key, md + 16, scram_key_len(hash) > 24 ? 24 :
	    scram_key_len(hash));
	memcpy(v.server_key, md + 40, 24);
	r = scram_format(&v, out, outsz);
	scram_clear(&v);
	explicit_bzero(md, sizeof(md));
	return r;
}

/* Adds a value to a requested property, once per request. */
static void
prop_add(const sasl_utils_t *utils, struct propctx *ctx, const char *name,
    const char *value, int *erased, unsigned flags)
{
	if ((flags & SASL_AUXPROP_OVERRIDE) && !*erased) {
		utils->prop_erase(ctx, name);
		*erased = 1;
	}
	utils->prop_set(ctx, name, value, 0);
}

/* Debug: what the auxprop lookup found, never the secrets themselves. */
static void
lookup_debug(const char *authid, const char *realm, int authz,
    const char *what)
{
	char u[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_debug("store: lookup of %s %s@%s: %s", authz ? "authzid" :
	    "authid", log_sanitize(authid, strlen(authid), u, sizeof(u)),
	    log_sanitize(realm, strlen(realm), r, sizeof(r)), what);
}

/* Our auxprop plugin: userPassword and authPassword (every verifier). */
static int
saslkit_lookup(void *glob, sasl_server_params_t *sp, unsigned flags,
    const char *user, unsigned ulen)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	char fake[SCRAM_VERIFIER_MAX];
	const struct propval *cur;
	struct sasldb_secrets s;
	int authz = (flags & SASL_AUXPROP_AUTHZID) != 0, r;

	(void)glob;
	if (sp == NULL || user == NULL ||
	    sasl_split(user, ulen, authid, realm) != SK_OK)
		return SASL_NOUSER;
	sasldb_secrets_init(&s);
	if ((r = sasldb_get_secrets(sasl_authd->db, authid, realm, &s)) !=
	    SK_OK) {
		if (!verify_defer(r))	/* inline, and the store is busy */
			lookup_debug(authid, realm, authz, sk_strerror(r));
		sasldb_secrets_free(&s);
		return SASL_FAIL;
	}
	lookup_debug(authid, realm, authz, !s.exists ? "not found (decoy)" :
	    s.disabled ? "disabled (decoy)" : "found");
	for (cur = sp->utils->prop_get(sp->propctx); cur && cur->name; cur++) {
		const char *name = cur->name;
		int erased = 0;

		/* authid properties are asked for as "*name" */
		if (authz == (name[0] == '*'))
			continue;
		if (name[0] == '*')
			name++;
		if (cur->values != NULL && !(flags & SASL_AUXPROP_OVERRIDE))
			continue;
		if (strcmp(name, SASLDB_PROP_PLAIN) == 0 && s.has_plain &&
		    !s.disabled)
			prop_add(sp->utils, sp->propctx, cur->name,
			    (const char *)s.plain.data, &erased, flags);
		if (strcmp(name, SASLDB_PROP_SCRAM1) != 0)
			continue;
		if (s.has_scram1 && !s.disabled)
			prop_add(sp->utils, sp->propctx, cur->name,
			    (const char *)s.scram1.data, &erased, flags);
		if (s.has_scram256 && !s.disabled)
			prop_add(sp->utils, sp->propctx, cur->name,
			    (const char *)s.scram256.data, &erased, flags);
		/* unknown or disabled: a decoy, so SCRAM fails at its last step */
		if (!s.exists || s.disabled) {
			if (fake_verifier(SCRAM_SHA1, authid, realm, fake,
			    sizeof(fake)) == SK_OK)
				prop_add(sp->utils, sp->propctx, cur->name,
				    fake, &erased, flags);
			if (fake_verifier(SCRAM_SHA256, authid, realm, fake,
			    sizeof(fake)) == SK_OK)
				prop_add(sp->utils, sp->propctx, cur->name,
				    fake, &erased, flags);
			explicit_bzero(fake, sizeof(fake));
		}
	}
	sasldb_secrets_free(&s);
	return SASL_OK;
}

static sasl_auxprop_plug_t saslkit_auxprop = {
	0, 0, NULL, NULL, saslkit_lookup, "saslkit", NULL
};

static int
saslkit_auxprop_init(const sasl_utils_t *utils, int max_version,
    int *out_version, sasl_auxprop_plug_t **plug, const char *plugname)
{
	(void)utils;
	(void)plugname;
	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &saslkit_auxprop;
	return SASL_OK;
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
		*res = sasl_authd->conf.mech_list;
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
	if (sasl_split(user, (unsigned)strlen(user), authid, realm) != SK_OK)
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
	sasl_set_mutex(mutex_alloc, mutex_lock, mutex_unlock, mutex_free);
	if ((r = sasl_auxprop_add_plugin("saslkit", saslkit_auxprop_init)) !=
	    SASL_OK || (r = sasl_server_init(global_cbs, "saslkit-authd")) !=
	    SASL_OK) {
		snprintf(err, errlen, "libsasl2: %s", sasl_errstring(r, NULL,
		    NULL));
		return SK_ERR_INVAL;
	}
	return SK_OK;
}

void
authsasl_done(void)
{
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

/* Whether name is in the space-separated list, ignoring case. */
static int
mech_in_list(const char *list, const char *name, size_t n)
{
	size_t len;

	while (*list != '\0') {
		list += strspn(list, " \t,");
		len = strcspn(list, " \t,");
		if (len == n && strncasecmp(list, name, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

/*
 * The mechanisms we offer: the configured list, in its order, intersected
 * with what libsasl2 has. libsasl2 lists a -PLUS form only on a connection
 * that holds channel-binding data, so the probe carries a placeholder.
 */
int
authsasl_mechs(char *out, size_t outsz)
{
	static const sasl_channel_binding_t probe = { "tls-unique", 0, 0,
	    (const unsigned char *)"" };
	const char *conf = sasl_authd->conf.mech_list, *list, *m;
	unsigned len;
	int count;
	size_t n, used = 0;
	sasl_conn_t *c;

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
	for (m = conf; *m != '\0'; m += n) {
		m += strspn(m, " \t,");
		n = strcspn(m, " \t,");
		if (n == 0 || !mech_in_list(list, m, n) ||
		    mech_in_list(out, m, n))
			continue;
		if (used + n + 2 > outsz) {
			sasl_dispose(&c);
			return SK_ERR_LIMIT;
		}
		if (used > 0)
			out[used++] = ' ';
		for (size_t i = 0; i < n; i++)
			out[used++] = (char)toupper((unsigned char)m[i]);
		out[used] = '\0';
	}
	sasl_dispose(&c);
	return SK_OK;
}

void
authsasl_cbind(struct authsasl_req *req, const sasl_channel_binding_t *cb)
{
	sasl_setprop(req->conn, SASL_CHANNEL_BINDING, cb);
}
