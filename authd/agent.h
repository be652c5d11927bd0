/*
 * agent.h: the client side of SASL, run inside authd for a caller that
 * holds a "use" grant on an entry of the secret store (DESIGN §7): libsasl2's
 * client computes each response from the entry's password, and only the
 * responses leave authd, as ssh-agent signs without handing out its key.
 * agent.c is the engine; agent_req.c the auth socket's AGENT and
 * SECRET-LOOKUP commands. Shares nothing with the server side (sasl.c)
 * but libsasl2's initialisation (sasl_client_init in authsasl_init).
 */
#ifndef AUTHD_AGENT_H
#define AUTHD_AGENT_H

#include <sasl/sasl.h>

#include "auth_proto.h"
#include "sbuf.h"
#include "secrets.h"

struct agent {
	sasl_conn_t *conn;
	sasl_callback_t cbs[5];
	struct secrets_entry e;		/* the entry, its password included */
	sasl_secret_t *secret;		/* the password as libsasl2 asks: wiped */
	sasl_channel_binding_t cb;
	unsigned char cb_data[AUTH_PROTO_CBIND_MAX];	/* wiped */
	int done;			/* libsasl2 said SASL_OK */
};

/* Takes the entry (with its password) into ag, leaving e empty. */
void agent_init_entry(struct agent *ag, struct secrets_entry *e);
/*
 * Starts the exchange: out gets the initial response, *has_out says
 * whether the mechanism has one. cb_type NULL: no channel binding; else
 * its data, bound critically for a -PLUS mechanism. A SASL_ code; err
 * (errlen) says why it failed, without a secret.
 */
int agent_start(struct agent *ag, const char *service, const char *host,
    const char *mech, const char *cb_type, const unsigned char *cb_data,
    size_t cb_len, struct sbuf *out, int *has_out, char *err, size_t errlen);
/* The response to a challenge; ag->done once libsasl2 is satisfied. */
int agent_step(struct agent *ag, const void *in, size_t inlen,
    struct sbuf *out, char *err, size_t errlen);
/* Wipes and frees everything. */
void agent_free(struct agent *ag);

#endif
