/*
 * plugin.c: the libsasl2 server plugin's table and steps. It offers the
 * mechanisms that authd offers (asked once, when the application calls
 * sasl_server_init) and passes every step to authd with the
 * application's service, addresses, TLS state and channel-binding data.
 * authd decides; the identities it returns go to libsasl2's canon_user,
 * so the application's own proxy policy runs after authd's.
 * It must never hand libsasl2 a success that authd did not give, and
 * a lost or silent authd must be a temporary failure (SASL_UNAVAIL).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"

struct plug_mech {
	const char *name;
	unsigned sec, feat;
	int scram;
};

/* Flags as Cyrus's own plugins give them, so that libsasl2 orders and */
/* filters (minimum SSF, noplaintext ...) ours as it would theirs. */
static const struct plug_mech plug_known[] = {
	{ "SCRAM-SHA-256", SASL_SEC_NOPLAINTEXT | SASL_SEC_NOACTIVE |
	    SASL_SEC_NOANONYMOUS | SASL_SEC_MUTUAL_AUTH,
	    SASL_FEAT_ALLOWS_PROXY | SASL_FEAT_CHANNEL_BINDING, 1 },
	{ "SCRAM-SHA-1", SASL_SEC_NOPLAINTEXT | SASL_SEC_NOACTIVE |
	    SASL_SEC_NOANONYMOUS | SASL_SEC_MUTUAL_AUTH,
	    SASL_FEAT_ALLOWS_PROXY | SASL_FEAT_CHANNEL_BINDING, 1 },
	{ "DIGEST-MD5", SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS |
	    SASL_SEC_MUTUAL_AUTH, SASL_FEAT_ALLOWS_PROXY, 0 },
	{ "CRAM-MD5", SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS,
	    SASL_FEAT_SERVER_FIRST, 0 },
	{ "PLAIN", SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS,
	    SASL_FEAT_WANT_CLIENT_FIRST | SASL_FEAT_ALLOWS_PROXY, 0 },
	{ "LOGIN", SASL_SEC_NOANONYMOUS | SASL_SEC_PASS_CREDENTIALS, 0, 0 },
};
#define PLUG_NKNOWN	(sizeof(plug_known) / sizeof(plug_known[0]))

/* Cyrus's plugins that offer one of our names: with us in one directory,
 * libsasl2's load order would pick which one answers. */
static const char *const plug_rivals[] = {
	"libscram.so", "libdigestmd5.so", "libcrammd5.so", "libplain.so",
	"liblogin.so",
};

struct plug_ctx {
	const struct plug_mech *m;
	struct plug_opts o;
	struct plug_xchg x;
	int started;
	unsigned cbdisp;		/* SASL_CB_DISP_*, from the gs2 header */
	char cbname[32];
};

static sasl_server_plug_t plug_table[PLUG_MECHS_MAX];
/*
 * libsasl2 sends what a plugin logs at init to syslog, not to the
 * application's log callback: a rival found then is named again, once
 * per process, in the log of the first exchange.
 */
static char plug_rival[PATH_MAX + 32];
static pid_t plug_rival_told;

/* The first step: AUTH at authd, with what the application told libsasl2. */
static int
plug_begin(struct plug_ctx *c, sasl_server_params_t *sp, const char *in,
    unsigned inlen)
{
	struct sksecret_auth_params p;
	char mech[40], lip[64], rip[64];

	memset(&p, 0, sizeof(p));
	snprintf(mech, sizeof(mech), "%s", c->m->name);
	if (c->m->scram) {
		if (plug_gs2(in, inlen, &c->cbdisp, c->cbname,
		    sizeof(c->cbname)) == -1)
			return SKSECRET_ERR_INVAL;
		if (c->cbdisp == SASL_CB_DISP_USED) {
			snprintf(mech, sizeof(mech), "%s-PLUS", c->m->name);
			c->x.cbind = sp->cbinding;
		}
	}
	p.mech = mech;
	p.service = sp->service != NULL && *sp->service != '\0' ?
	    sp->service : sp->appname != NULL ? sp->appname : "sasl";
	if (plug_ipport(sp->iplocalport, sp->iploclen, lip, sizeof(lip),
	    &p.local_port) == 0)
		p.local_ip = lip;
	if (plug_ipport(sp->ipremoteport, sp->ipremlen, rip, sizeof(rip),
	    &p.remote_port) == 0)
		p.remote_ip = rip;
	p.secured = sp->external_ssf > 0;
	p.initial = (const unsigned char *)in;
	p.initial_len = in != NULL ? inlen : 0;
	return plug_xchg_start(&c->x, &c->o, &p);
}

/*
 * authd's OK: the identities go through libsasl2's canon_user, told that
 * they were verified elsewhere, so that an application without auxprop
 * plugins (the plugin's own directory has none) needs no user database.
 */
#define PLUG_CU	SASL_CU_EXTERNALLY_VERIFIED
static int
plug_success(struct plug_ctx *c, sasl_server_params_t *sp,
    sasl_out_params_t *op)
{
	const char *user = c->x.res.user, *authcid = c->x.res.auth_user;
	int r;

	if (user == NULL || *user == '\0')
		return SASL_BADPROT;
	if (authcid == NULL || strcmp(authcid, user) == 0)
		r = sp->canon_user(sp->utils->conn, user, 0,
		    SASL_CU_AUTHID | SASL_CU_AUTHZID | PLUG_CU, op);
	else if ((r = sp->canon_user(sp->utils->conn, authcid, 0,
	    SASL_CU_AUTHID | PLUG_CU, op)) == SASL_OK)
		r = sp->canon_user(sp->utils->conn, user, 0,
		    SASL_CU_AUTHZID | PLUG_CU, op);
	if (r != SASL_OK)
		return r;
	op->doneflag = 1;
	op->mech_ssf = 0;
	op->maxoutbuf = 0;
	op->encode_context = op->decode_context = NULL;
	op->encode = NULL;
	op->decode = NULL;
	op->param_version = 0;
	op->cbindingdisp = c->cbdisp;
	op->cbindingname = c->cbdisp == SASL_CB_DISP_USED ? c->cbname : NULL;
	return SASL_OK;
}

/* Maps authd's answer (or the lack of one) to libsasl2's codes. */
static int
plug_answer(struct plug_ctx *c, sasl_server_params_t *sp, int e,
    const char **out, unsigned *outlen, sasl_out_params_t *op)
{
	const sasl_utils_t *u = sp->utils;
	const struct sksecret_result *res = &c->x.res;

	*out = NULL;
	*outlen = 0;
	if (e == SKSECRET_ERR_INVAL) {
		u->seterror(u->conn, 0, "malformed client message");
		return SASL_BADPROT;
	}
	if (e != SKSECRET_OK) {
		u->log(u->conn, SASL_LOG_ERR, PLUG_NAME ": authd at %s: %s",
		    c->o.socket, sksecret_strerror(e));
		u->seterror(u->conn, SASL_NOLOG, "authentication server "
		    "unavailable");
		return SASL_UNAVAIL;
	}
	switch (res->status) {
	case SKSECRET_CONTINUE:
		*out = c->x.data != NULL ? (const char *)c->x.data : "";
		*outlen = (unsigned)c->x.len;
		return SASL_CONTINUE;
	case SKSECRET_SUCCESS:
		if ((e = plug_success(c, sp, op)) == SASL_OK && c->x.len > 0) {
			*out = (const char *)c->x.data;
			*outlen = (unsigned)c->x.len;
		}
		return e;
	case SKSECRET_FAILURE:
		u->seterror(u->conn, SASL_NOLOG, "%s", res->temporary ?
		    "temporary authentication failure" :
		    "authentication failed");
		return res->temporary ? SASL_TRYAGAIN : SASL_BADAUTH;
	default:
		if (res->error == SKSECRET_ERR_STATE) {
			u->seterror(u->conn, 0, "no channel-binding data of "
			    "the type authd asked for");
			return SASL_BADBINDING;
		}
		u->log(u->conn, SASL_LOG_ERR, PLUG_NAME ": authd at %s: %s",
		    c->o.socket, res->reason != NULL ? res->reason :
		    sksecret_strerror(res->error));
		return SASL_UNAVAIL;
	}
}

static int
plug_step(void *ctx, sasl_server_params_t *sp, const char *in, unsigned inlen,
    const char **out, unsigned *outlen, sasl_out_params_t *op)
{
	struct plug_ctx *c = ctx;
	int e;

	if (!c->started) {
		c->started = 1;
		e = plug_begin(c, sp, in, inlen);
	} else
		e = plug_xchg_continue(&c->x, in != NULL ? in : "", inlen);
	return plug_answer(c, sp, e, out, outlen, op);
}

static void
plug_rival_log(const sasl_utils_t *u, sasl_conn_t *conn, const char *path)
{
	u->log(conn, SASL_LOG_WARN, PLUG_NAME ": %s is in this plugin's "
	    "directory: libsasl2's load order then decides whether Cyrus or "
	    "saslkit answers its mechanisms; keep saslkit's plugin in a "
	    "directory of its own (SASL_PATH)", path);
}

static int
plug_new(void *glob, sasl_server_params_t *sp, const char *challenge,
    unsigned challen, void **ctx)
{
	struct plug_ctx *c;

	(void)challenge;
	(void)challen;
	if ((c = sp->utils->malloc(sizeof(*c))) == NULL)
		return SASL_NOMEM;
	memset(c, 0, sizeof(*c));
	c->m = glob;
	c->x.utils = sp->utils;
	plug_opts_read(sp->utils, &c->o);
	if (plug_rival[0] != '\0' && plug_rival_told != getpid()) {
		plug_rival_told = getpid();
		plug_rival_log(sp->utils, sp->utils->conn, plug_rival);
	}
	*ctx = c;
	return SASL_OK;
}

static void
plug_dispose(void *ctx, const sasl_utils_t *u)
{
	struct plug_ctx *c = ctx;

	if (c == NULL)
		return;
	plug_xchg_end(&c->x);
	explicit_bzero(c, sizeof(*c));
	u->free(c);
}

/* Warns when a Cyrus plugin with one of our names shares our directory. */
static void
plug_check_rivals(const sasl_utils_t *u)
{
	Dl_info info;
	char dir[PATH_MAX], path[PATH_MAX + 32];
	const char *slash;
	size_t i;
	FILE *f;

	if (dladdr((void *)plug_check_rivals, &info) == 0 ||
	    info.dli_fname == NULL ||
	    (slash = strrchr(info.dli_fname, '/')) == NULL ||
	    (size_t)(slash - info.dli_fname) >= sizeof(dir))
		return;
	plug_rival[0] = '\0';
	memcpy(dir, info.dli_fname, (size_t)(slash - info.dli_fname));
	dir[slash - info.dli_fname] = '\0';
	for (i = 0; i < sizeof(plug_rivals) / sizeof(plug_rivals[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, plug_rivals[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		fclose(f);
		plug_rival_log(u, NULL, path);
		memcpy(plug_rival, path, strlen(path) + 1);
	}
}

/* Whether word is one of the space-separated words of list. */
static int
plug_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* Fills plug_table with the known mechanisms that authd offers. */
static int
plug_fill(const sasl_utils_t *u)
{
	struct plug_opts o;
	char mechs[1024];
	size_t i, n = 0;
	int all;

	plug_opts_read(u, &o);
	all = plug_authd_mechs(&o, mechs, sizeof(mechs)) == -1;
	if (all)
		u->log(NULL, SASL_LOG_WARN, PLUG_NAME ": authd at %s did not "
		    "answer: offering every mechanism; those authd does not "
		    "offer will fail", o.socket);
	memset(plug_table, 0, sizeof(plug_table));
	for (i = 0; i < PLUG_NKNOWN && n < PLUG_MECHS_MAX; i++) {
		if (!all && !plug_word(mechs, plug_known[i].name))
			continue;
		plug_table[n].mech_name = plug_known[i].name;
		plug_table[n].max_ssf = 0;
		plug_table[n].security_flags = plug_known[i].sec;
		plug_table[n].features = plug_known[i].feat;
		plug_table[n].glob_context = (void *)&plug_known[i];
		plug_table[n].mech_new = plug_new;
		plug_table[n].mech_step = plug_step;
		plug_table[n].mech_dispose = plug_dispose;
		n++;
	}
	/* libsasl2's own printf: %d, %u, %s, no %zu */
	u->log(NULL, SASL_LOG_NOTE, PLUG_NAME ": %u mechanisms through "
	    "authd at %s", (unsigned)n, o.socket);
	return (int)n;
}

int sasl_server_plug_init(const sasl_utils_t *, int, int *,
    sasl_server_plug_t **, int *)
    __attribute__((visibility("default")));

int
sasl_server_plug_init(const sasl_utils_t *u, int maxversion, int *out_version,
    sasl_server_plug_t **pluglist, int *plugcount)
{
	int n;

	if (maxversion < SASL_SERVER_PLUG_VERSION) {
		u->seterror(NULL, 0, PLUG_NAME ": libsasl2 is too old");
		return SASL_BADVERS;
	}
	plug_check_rivals(u);
	if ((n = plug_fill(u)) == 0)
		return SASL_NOMECH;
	*out_version = SASL_SERVER_PLUG_VERSION;
	*pluglist = plug_table;
	*plugcount = n;
	return SASL_OK;
}
