/*
 * sasl_client_cb.h: the client-side libsasl2 callbacks of the test
 * drivers sasl_client.c and sks_client.c. Plugins come from
 * SASL_PLUGIN_DIR, no system configuration is read, libsasl2's log is
 * dropped, and the credentials are what the driver puts in cb_authname,
 * cb_authzid and cb_secret. Included once per program.
 */
#ifndef SASL_CLIENT_CB_H
#define SASL_CLIENT_CB_H

#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

typedef int (*sasl_cb_fn)(void);
#define CB(f) ((sasl_cb_fn)(void (*)(void))(f))

static const char *cb_authname = "", *cb_authzid = "";
static sasl_secret_t *cb_secret;	/* made by cb_make_secret */

/* A sasl_secret_t holding the n bytes of pass; NULL when out of memory.
   The caller wipes and frees it. */
static sasl_secret_t *
cb_make_secret(const char *pass, size_t n)
{
	sasl_secret_t *s = calloc(1, sizeof(*s) + n + 1);

	if (s != NULL) {
		s->len = n;
		memcpy(s->data, pass, n);
	}
	return s;
}

static int
cb_getpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = SASL_PLUGIN_DIR;
	return SASL_OK;
}

static int
cb_getconfpath(void *ctx, const char **path)
{
	(void)ctx;
	*path = "/nonexistent/saslkit-test-client";
	return SASL_OK;
}

static int
cb_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
	return SASL_OK;
}

static int
cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	(void)ctx;
	if (id == SASL_CB_AUTHNAME)
		*result = cb_authname;
	else if (id == SASL_CB_USER)
		*result = cb_authzid;
	else
		return SASL_BADPARAM;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	(void)conn;
	(void)ctx;
	if (id != SASL_CB_PASS || psecret == NULL || cb_secret == NULL)
		return SASL_BADPARAM;
	*psecret = cb_secret;
	return SASL_OK;
}

static int
cb_getrealm(void *ctx, int id, const char **avail, const char **result)
{
	(void)ctx;
	if (id != SASL_CB_GETREALM || result == NULL)
		return SASL_BADPARAM;
	*result = avail != NULL && avail[0] != NULL ? avail[0] : "";
	return SASL_OK;
}

/* for sasl_client_init */
static sasl_callback_t cb_global[] = {
	{ SASL_CB_GETPATH, CB(cb_getpath), NULL },
	{ SASL_CB_GETCONFPATH, CB(cb_getconfpath), NULL },
	{ SASL_CB_LOG, CB(cb_log), NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

/* for sasl_client_new */
static sasl_callback_t cb_client[] = {
	{ SASL_CB_AUTHNAME, CB(cb_simple), NULL },
	{ SASL_CB_USER, CB(cb_simple), NULL },
	{ SASL_CB_PASS, CB(cb_pass), NULL },
	{ SASL_CB_GETREALM, CB(cb_getrealm), NULL },
	{ SASL_CB_LIST_END, NULL, NULL }
};

#endif
