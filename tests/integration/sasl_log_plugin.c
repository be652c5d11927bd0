/*
 * sasl_log_plugin.c: a libsasl2 server mechanism, XTEST-LOG, for the
 * integration tests of authd's libsasl2 log callback (test_debug_log.py
 * builds it as a shared object and points sasl_plugin_dir at it). Its one
 * step logs through libsasl2 at every level, naming the log_level that
 * libsasl2 read from authd's SASL_CB_GETOPT, then fails.
 * It must never be installed: it authenticates no one, and logs a fake
 * secret at SASL_LOG_PASS on purpose.
 */
#include <stddef.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

static int
xtest_new(void *glob, sasl_server_params_t *sp, const char *challenge,
    unsigned challen, void **ctx)
{
	(void)glob;
	(void)sp;
	(void)challenge;
	(void)challen;
	*ctx = NULL;
	return SASL_OK;
}

/* Logs at each level, then fails the exchange. */
static int
xtest_step(void *ctx, sasl_server_params_t *sp, const char *in,
    unsigned inlen, const char **out, unsigned *outlen,
    sasl_out_params_t *oparams)
{
	const sasl_utils_t *u = sp->utils;

	(void)ctx;
	(void)in;
	(void)inlen;
	(void)oparams;
	*out = NULL;
	*outlen = 0;
	u->log(u->conn, SASL_LOG_ERR, "xtest: log_level=%d", sp->log_level);
	u->log(u->conn, SASL_LOG_FAIL, "xtest: marker at FAIL");
	u->log(u->conn, SASL_LOG_NOTE, "xtest: marker at NOTE");
	u->log(u->conn, SASL_LOG_DEBUG, "xtest: marker at DEBUG");
	u->log(u->conn, SASL_LOG_TRACE, "xtest: marker at TRACE");
	u->log(u->conn, SASL_LOG_PASS, "xtest: marker at PASS plug-pw");
	u->seterror(u->conn, SASL_NOLOG, "xtest: always fails");
	return SASL_BADAUTH;
}

static void
xtest_dispose(void *ctx, const sasl_utils_t *u)
{
	(void)ctx;
	(void)u;
}

static sasl_server_plug_t xtest_plugins[] = {
	{
		.mech_name = "XTEST-LOG",
		.security_flags = SASL_SEC_NOANONYMOUS,
		.mech_new = xtest_new,
		.mech_step = xtest_step,
		.mech_dispose = xtest_dispose,
	}
};

int sasl_server_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_server_plug_t **pluglist, int *plugcount);

int
sasl_server_plug_init(const sasl_utils_t *utils, int maxversion,
    int *out_version, sasl_server_plug_t **pluglist, int *plugcount)
{
	(void)utils;
	if (maxversion < SASL_SERVER_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_SERVER_PLUG_VERSION;
	*pluglist = xtest_plugins;
	*plugcount = 1;
	return SASL_OK;
}
