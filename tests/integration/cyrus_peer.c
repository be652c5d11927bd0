/*
 * cyrus_peer.c: a Cyrus-linked server for the tests. libsasl2's own sasldb
 * auxprop plugin reads the given file, and an in-process libsasl2 client
 * logs in with the given mechanism.
 * usage: cyrus_peer SASLDB MECH USER PASSWORD REALM
 * With CYRUS_PEER_SASLAUTHD=SOCKET, PLAIN is checked through a saslauthd
 * socket instead (pwcheck_method: saslauthd), as Cyrus-linked servers do.
 * exit: 0 authenticated, 1 refused, 2 setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sasl/sasl.h>

/* libsasl2 stores every callback as int (*)(void) */
typedef int (*cb_fn)(void);
#define CB(f) ((cb_fn)(void (*)(void))(f))

static const char *dbpath, *mech, *user, *pass;
static sasl_secret_t *secret;

static int
getopt_cb(void *ctx, const char *plugin, const char *opt, const char **res,
    unsigned *len)
{
	(void)ctx; (void)plugin;
	const char *mux = getenv("CYRUS_PEER_SASLAUTHD");

	if (strcmp(opt, "sasldb_path") == 0)
		*res = dbpath;
	else if (strcmp(opt, "auxprop_plugin") == 0)
		*res = "sasldb";
	else if (strcmp(opt, "pwcheck_method") == 0)
		*res = mux ? "saslauthd" : "auxprop";
	else if (strcmp(opt, "saslauthd_path") == 0 && mux != NULL)
		*res = mux;
	else if (strcmp(opt, "mech_list") == 0)
		*res = mech;
	else
		return SASL_FAIL;
	if (len)
		*len = (unsigned)strlen(*res);
	return SASL_OK;
}

static int
simple_cb(void *ctx, int id, const char **res, unsigned *len)
{
	(void)ctx;
	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_FAIL;
	*res = id == SASL_CB_USER ? "" : user;
	if (len)
		*len = (unsigned)strlen(*res);
	return SASL_OK;
}

static int
pass_cb(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	size_t n = strlen(pass);

	(void)conn; (void)ctx; (void)id;
	secret = malloc(sizeof(*secret) + n);
	secret->len = n;
	memcpy(secret->data, pass, n + 1);
	*psecret = secret;
	return SASL_OK;
}

int
main(int argc, char *argv[])
{
	sasl_callback_t scb[] = {
		{ SASL_CB_GETOPT, CB(getopt_cb), NULL },
		{ SASL_CB_LIST_END, NULL, NULL } };
	sasl_callback_t ccb[] = {
		{ SASL_CB_GETOPT, CB(getopt_cb), NULL },
		{ SASL_CB_USER, CB(simple_cb), NULL },
		{ SASL_CB_AUTHNAME, CB(simple_cb), NULL },
		{ SASL_CB_PASS, CB(pass_cb), NULL },
		{ SASL_CB_LIST_END, NULL, NULL } };
	sasl_conn_t *s, *c;
	const char *out, *chosen;
	unsigned outlen;
	int rs, rc, rounds = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: cyrus_peer SASLDB MECH USER PASS REALM\n");
		return 2;
	}
	dbpath = argv[1]; mech = argv[2]; user = argv[3]; pass = argv[4];
	if (sasl_server_init(scb, "saslkit-test") != SASL_OK ||
	    sasl_client_init(ccb) != SASL_OK ||
	    sasl_server_new("smtp", "localhost", argv[5], NULL, NULL, NULL, 0,
	    &s) != SASL_OK ||
	    sasl_client_new("smtp", "localhost", NULL, NULL, NULL, 0, &c) != SASL_OK) {
		fprintf(stderr, "cyrus_peer: libsasl2 setup failed\n");
		return 2;
	}
	rc = sasl_client_start(c, mech, NULL, &out, &outlen, &chosen);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		fprintf(stderr, "cyrus_peer: client start: %s\n", sasl_errdetail(c));
		return 2;
	}
	rs = sasl_server_start(s, mech, out, outlen, &out, &outlen);
	while (rs == SASL_CONTINUE && rounds++ < 10) {
		rc = sasl_client_step(c, out, outlen, NULL, &out, &outlen);
		if (rc != SASL_OK && rc != SASL_CONTINUE)
			break;
		rs = sasl_server_step(s, out, outlen, &out, &outlen);
	}
	if (rs == SASL_OK) {
		printf("cyrus_peer: %s OK for %s\n", mech, user);
		return 0;
	}
	printf("cyrus_peer: %s refused: %s\n", mech, sasl_errdetail(s));
	return rs == SASL_BADAUTH || rs == SASL_NOUSER || rs == SASL_BADPROT ||
	    rs == SASL_FAIL || rs == SASL_NOVERIFY ? 1 : 2;
}
