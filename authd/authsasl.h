/*
 * authsasl.h: authd's libsasl2 glue (sasl.c, and its auxprop plugin in
 * sasl_auxprop.c). One authsasl_req per AUTH exchange; its steps run on
 * worker threads, one at a time.
 */
#ifndef AUTHD_AUTHSASL_H
#define AUTHD_AUTHSASL_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "auth_proto.h"
#include "authd.h"

struct authsasl_req {
	sasl_conn_t *conn;
	sasl_callback_t cbs[3];
	int verify_result;	/* of the last checkpass, for the log */
	char rip[AUTH_PROTO_IP_MAX + 1];	/* the client's IP, for PAM */
};

/* Before any thread: mutexes, our auxprop plugin, sasl_server_init. */
int authsasl_init(struct authd *a, char *err, size_t errlen);
void authsasl_done(void);
int authsasl_new(struct authsasl_req *req, const char *service,
    const char *lip, const char *rip);
void authsasl_free(struct authsasl_req *req);
/* sasl_server_start (first) or sasl_server_step; returns a SASL_ code. */
int authsasl_step(struct authsasl_req *req, const char *mech, const char *in,
    unsigned inlen, int first, const char **out, unsigned *outlen);
/* libsasl2's name of a result code, "SASL_BADAUTH"; for debug lines. */
const char *authsasl_code_name(int r);
/* sasl_errdetail of the exchange, sanitised for a log line. */
void authsasl_errdetail(struct authsasl_req *req, char *out, size_t outsz);
/* The authorization identity after SASL_OK. */
const char *authsasl_user(struct authsasl_req *req);
const char *authsasl_authuser(struct authsasl_req *req);
/*
 * The mechanisms offered: mech_list (mech.h's grammar) intersected with
 * libsasl2's, -PLUS forms included, upper-cased and space-separated.
 */
int authsasl_mechs(char *out, size_t outsz);
/*
 * Channel binding for a -PLUS exchange: libsasl2 keeps the pointer and
 * reads name, len and data at its last step, so cb must outlive req.
 */
void authsasl_cbind(struct authsasl_req *req, const sasl_channel_binding_t *cb);

/*
 * The auxprop plugin (sasl_auxprop.c): authsasl_init gives it authd's
 * state, then registers it with libsasl2 as "saslkit".
 */
void authsasl_auxprop_set(struct authd *a);
int authsasl_auxprop_init(const sasl_utils_t *utils, int max_version,
    int *out_version, sasl_auxprop_plug_t **plug, const char *plugname);
/*
 * Splits libsasl2's canonical "user@realm" (ulen bytes) as the store does;
 * authid and realm hold SASLDB_AUTHID_MAX + 1 and SASLDB_REALM_MAX + 1.
 */
int authsasl_split(const char *user, unsigned ulen, char *authid, char *realm);

#endif
