/*
 * agent.c: libsasl2's client side on an entry of the secret store (see
 * agent.h). The password reaches libsasl2 only through its callbacks, as a
 * sasl_secret_t that is wiped when the exchange ends; what libsasl2 keeps
 * inside its connection goes with sasl_dispose. No security layer is
 * negotiated (authentication only). Never logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "alloc.h"
#include "err.h"

/* libsasl2 takes every callback as int (*)(void) */
#define CB(f)	((int (*)(void))(void (*)(void))(f))

/* SASL_CB_AUTHNAME and SASL_CB_USER: I, and U (none when unset). */
static int
cb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct agent *ag = ctx;
	const struct secret_fields *f = &ag->e.f;

	if (id == SASL_CB_AUTHNAME)
		*result = (f->set & SECRET_F_I) ? f->authid : f->authzid;
	else if (id == SASL_CB_USER)
		*result = (f->set & SECRET_F_U) ? f->authzid : "";
	else
		return SASL_BADPARAM;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

/* SASL_CB_PASS: the entry's password. */
static int
cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct agent *ag = ctx;
	size_t n = ag->e.f.pass.len;

	(void)conn;
	if (id != SASL_CB_PASS || !(ag->e.f.set & SECRET_F_P))
		return SASL_FAIL;
	if (ag->secret == NULL) {
		if ((ag->secret = calloc(1, sizeof(*ag->secret) + n)) == NULL)
			return SASL_NOMEM;
		ag->secret->len = n;
		memcpy(ag->secret->data, ag->e.f.pass.data, n);
	}
	*psecret = ag->secret;
	return SASL_OK;
}

/* SASL_CB_GETREALM: R, else the server's first (DIGEST-MD5). */
static int
cb_realm(void *ctx, int id, const char **avail, const char **result)
{
	struct agent *ag = ctx;

	if (id != SASL_CB_GETREALM)
		return SASL_BADPARAM;
	if (ag->e.f.set & SECRET_F_R)
		*result = ag->e.f.realm;
	else
		*result = avail != NULL && avail[0] != NULL ? avail[0] : "";
	return SASL_OK;
}

void
agent_init_entry(struct agent *ag, struct secrets_entry *e)
{
	memset(ag, 0, sizeof(*ag));
	ag->e = *e;		/* the password's buffer moves with it */
	memset(e, 0, sizeof(*e));
	secret_fields_init(&e->f);
	ag->cbs[0] = (sasl_callback_t){ SASL_CB_AUTHNAME, CB(cb_simple), ag };
	ag->cbs[1] = (sasl_callback_t){ SASL_CB_USER, CB(cb_simple), ag };
	ag->cbs[2] = (sasl_callback_t){ SASL_CB_PASS, CB(cb_pass), ag };
	ag->cbs[3] = (sasl_callback_t){ SASL_CB_GETREALM, CB(cb_realm), ag };
	ag->cbs[4] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
}

/* libsasl2's own words on a failure, with the code's name. */
static int
agent_err(struct agent *ag, int r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ag->conn != NULL ?
	    sasl_errdetail(ag->conn) : sasl_errstring(r, NULL, NULL));
	return r;
}

/* Channel binding, critical for a -PLUS mechanism. */
static int
agent_cbind(struct agent *ag, const char *mech, const char *type,
    const unsigned char *data, size_t len)
{
	size_t n = strlen(mech);

	if (type == NULL)
		return SASL_OK;
	if (len > sizeof(ag->cb_data))
		return SASL_BADPARAM;
	memcpy(ag->cb_data, data, len);
	ag->cb.name = type;
	ag->cb.critical = n > 5 && strcmp(mech + n - 5, "-PLUS") == 0;
	ag->cb.len = (unsigned)len;
	ag->cb.data = ag->cb_data;
	return sasl_setprop(ag->conn, SASL_CHANNEL_BINDING, &ag->cb);
}

/* Copies libsasl2's output into out. */
static int
agent_out(const char *p, unsigned n, struct sbuf *out)
{
	sbuf_reset(out);
	return n == 0 || sbuf_put(out, p, n) == SK_OK ? SASL_OK : SASL_BUFOVER;
}

int
agent_start(struct agent *ag, const char *service, const char *host,
    const char *mech, const char *cb_type, const unsigned char *cb_data,
    size_t cb_len, struct sbuf *out, int *has_out, char *err, size_t errlen)
{
	sasl_security_properties_t sec;
	const char *p = NULL, *chosen = NULL;
	unsigned n = 0;
	int r;

	r = sasl_client_new(service, host, NULL, NULL, ag->cbs, 0, &ag->conn);
	if (r != SASL_OK) {
		ag->conn = NULL;
		return agent_err(ag, r, err, errlen);
	}
	memset(&sec, 0, sizeof(sec));
	sec.maxbufsize = 0;
	sec.max_ssf = 0;		/* no security layer: auth only */
	if ((r = sasl_setprop(ag->conn, SASL_SEC_PROPS, &sec)) != SASL_OK ||
	    (r = agent_cbind(ag, mech, cb_type, cb_data, cb_len)) != SASL_OK)
		return agent_err(ag, r, err, errlen);
	r = sasl_client_start(ag->conn, mech, NULL, &p, &n, &chosen);
	if (r != SASL_OK && r != SASL_CONTINUE)
		return agent_err(ag, r, err, errlen);
	ag->done = r == SASL_OK;
	*has_out = p != NULL;
	return agent_out(p, n, out);
}

int
agent_step(struct agent *ag, const void *in, size_t inlen, struct sbuf *out,
    char *err, size_t errlen)
{
	const char *p = NULL;
	unsigned n = 0;
	int r;

	if (ag->conn == NULL || ag->done || inlen > UINT32_MAX)
		return agent_err(ag, SASL_BADPROT, err, errlen);
	r = sasl_client_step(ag->conn, in, (unsigned)inlen, NULL, &p, &n);
	if (r != SASL_OK && r != SASL_CONTINUE)
		return agent_err(ag, r, err, errlen);
	ag->done = r == SASL_OK;
	return agent_out(p, n, out);
}

void
agent_free(struct agent *ag)
{
	if (ag->conn != NULL)
		sasl_dispose(&ag->conn);
	if (ag->secret != NULL)
		freezero(ag->secret, sizeof(*ag->secret) + ag->secret->len);
	secrets_entry_clear(&ag->e);
	explicit_bzero(ag, sizeof(*ag));
}
