/*
 * agent.c: libsecret's blocking client of the auth socket's secret-store
 * commands (auth_proto.h): SECRET-LOOKUP, and the agent exchange
 * (AGENT-START, AGENT-STEP) in which authd computes the SASL client's
 * responses. One request at a time per handle. A password or response
 * arrives in the stream's wiping buffer and is wiped from the line once
 * read. Must never log, exit or raise SIGPIPE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_proto.h"
#include "b64.h"
#include "err.h"
#include "internal.h"
#include "line.h"

struct sksecret_agent {
	struct sks_stream st;
	int dead;			/* out of step: every call fails so */
	unsigned long next_id;
	char reason[256];
	struct sks_agent_core core;
};

void
sks_agent_core_init(struct sks_agent_core *k, struct sks_stream *st,
    int *dead, unsigned long *next_id, char *reason, size_t reasonsz)
{
	memset(k, 0, sizeof(*k));
	k->st = st;
	k->dead = dead;
	k->next_id = next_id;
	k->reason = reason;
	k->reasonsz = reasonsz;
	sbuf_init(&k->resp, AUTH_PROTO_LINE_MAX);
}

void
sks_agent_core_free(struct sks_agent_core *k)
{
	sbuf_free(&k->resp);
}

/* VERSION and CPID, then the server's handshake up to DONE. */
static int
sks_agent_handshake(struct sksecret_agent *ag)
{
	struct line_fields lf;
	struct sbuf b;
	char *line;
	size_t len;
	int r, version = 0;

	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	r = line_put_cmd(&b, AUTH_CMD_VERSION) == SK_OK &&
	    line_put_id(&b, AUTH_PROTO_MAJOR) == SK_OK &&
	    line_put_id(&b, AUTH_PROTO_MINOR) == SK_OK && line_end(&b) == SK_OK &&
	    line_put_cmd(&b, AUTH_CMD_CPID) == SK_OK &&
	    line_put_id(&b, (unsigned long)getpid()) == SK_OK &&
	    line_end(&b) == SK_OK ? sks_stream_send(&ag->st, &b) :
	    SKSECRET_ERR_NOMEM;
	sbuf_free(&b);
	while (r == SKSECRET_OK &&
	    (r = sks_stream_read_line(&ag->st, &line, &len)) == SKSECRET_OK) {
		if (line_split(line, len, &lf) != SK_OK || lf.n < 1)
			return SKSECRET_ERR_PROTO;
		if (strcmp(lf.f[0], AUTH_CMD_VERSION) == 0)
			version = lf.n > 1 && strcmp(lf.f[1], "1") == 0;
		else if (strcmp(lf.f[0], AUTH_CMD_DONE) == 0)
			return version ? SKSECRET_OK : SKSECRET_ERR_PROTO;
	}
	/* authd closes a peer it refuses at once, before any line */
	return r == SKSECRET_ERR_CLOSED ? SKSECRET_ERR_DENIED : r;
}

SKS_API int
sksecret_agent_open(const char *path, int timeout_ms,
    struct sksecret_agent **out)
{
	struct sksecret_agent *ag;
	int fd, r;

	if (out == NULL || timeout_ms == 0)
		return SKSECRET_ERR_INVAL;
	*out = NULL;
	if ((fd = sks_connect(path != NULL ? path : SKSECRET_AUTH_SOCKET)) < 0)
		return fd;
	if ((ag = calloc(1, sizeof(*ag))) == NULL) {
		close(fd);
		return SKSECRET_ERR_NOMEM;
	}
	sks_stream_init(&ag->st, fd, timeout_ms, AUTH_PROTO_LINE_MAX);
	ag->next_id = 1;
	sks_agent_core_init(&ag->core, &ag->st, &ag->dead, &ag->next_id,
	    ag->reason, sizeof(ag->reason));
	if ((r = sks_agent_handshake(ag)) != SKSECRET_OK) {
		sksecret_agent_close(ag);
		return r;
	}
	*out = ag;
	return SKSECRET_OK;
}

SKS_API void
sksecret_agent_close(struct sksecret_agent *ag)
{
	if (ag == NULL)
		return;
	sks_stream_close(&ag->st);
	sks_agent_core_free(&ag->core);
	free(ag);
}

SKS_API const char *
sksecret_agent_reason(const struct sksecret_agent *ag)
{
	return ag != NULL ? ag->reason : "";
}

/* FAIL id [code=] [reason=]: the error it stands for. */
static int
sks_agent_fail(struct sks_agent_core *k, const struct line_fields *lf)
{
	const char *v;

	if (line_param(lf, 2, AUTH_KEY_REASON, &v, NULL))
		snprintf(k->reason, k->reasonsz, "%s", v);
	if (!line_param(lf, 2, AUTH_KEY_CODE, &v, NULL))
		return SKSECRET_ERR_REFUSED;
	if (strcmp(v, AUTH_FAIL_NOTFOUND) == 0)
		return SKSECRET_ERR_NOTFOUND;
	if (strcmp(v, AUTH_FAIL_TEMP) == 0)
		return SKSECRET_ERR_TEMP;
	return SKSECRET_ERR_REFUSED;
}

/*
 * Sends cmd id args, and reads its answer into *lf (pointing into the
 * stream's buffer; *line, *len: the raw line, for the caller to wipe).
 */
static int
sks_agent_request(struct sks_agent_core *k, const char *cmd,
    unsigned long id, const struct sbuf *args, struct line_fields *lf,
    char **line, size_t *len)
{
	struct sbuf b;
	unsigned long rid;
	int r;

	if (*k->dead)
		return *k->dead;
	k->reason[0] = '\0';
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);	/* wiped: may hold a challenge */
	r = line_put_cmd(&b, cmd) == SK_OK && line_put_id(&b, id) == SK_OK &&
	    sbuf_put(&b, args->data, args->len) == SK_OK &&
	    line_end(&b) == SK_OK ? sks_stream_send(k->st, &b) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&b);
	if (r == SKSECRET_ERR_LIMIT)
		return r;
	/* an exchange that authd ended late (timed out) may still answer */
	while (r == SKSECRET_OK &&
	    (r = sks_stream_read_line(k->st, line, len)) == SKSECRET_OK &&
	    (r = line_split(*line, *len, lf) != SK_OK || lf->n < 2 ||
	    line_id(lf->f[1], &rid) == -1 ? SKSECRET_ERR_PROTO : SKSECRET_OK) ==
	    SKSECRET_OK && rid != id)
		if (rid > id || strcmp(lf->f[0], AUTH_CMD_FAIL) != 0)
			r = SKSECRET_ERR_PROTO;
	if (r != SKSECRET_OK)
		*k->dead = r;
	return r;
}

int
sks_agent_core_cancel(struct sks_agent_core *k)
{
	struct line_fields lf;
	struct sbuf none;
	char *line = NULL;
	size_t len = 0;
	unsigned long id = k->cur;
	int r;

	if (id == 0)
		return SKSECRET_OK;
	k->cur = 0;
	sbuf_init(&none, 1);
	/* CANCELLED (auth socket) or OK (admin socket) for that id */
	r = sks_agent_request(k, AUTH_CMD_CANCEL, id, &none, &lf, &line, &len);
	sbuf_free(&none);
	return r;
}

SKS_API int
sksecret_lookup(struct sksecret_agent *ag, const char *name,
    sksecret_entry_fn *fn, void *arg)
{
	struct sksecret_entry e;
	struct line_fields lf;
	struct sbuf a;
	const char *v;
	char *line = NULL;
	size_t len = 0;
	int r;

	if (ag == NULL || name == NULL || *name == '\0' || fn == NULL)
		return SKSECRET_ERR_INVAL;
	sbuf_init(&a, AUTH_PROTO_LINE_MAX);
	r = line_put_str(&a, name) == SK_OK ? sks_agent_request(&ag->core,
	    AUTH_CMD_LOOKUP, ag->next_id++, &a, &lf, &line, &len) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&a);
	if (r != SKSECRET_OK)
		return r;
	if (strcmp(lf.f[0], AUTH_CMD_FAIL) == 0)
		r = sks_agent_fail(&ag->core, &lf);
	else if (strcmp(lf.f[0], AUTH_CMD_OK) != 0)
		r = ag->dead = SKSECRET_ERR_PROTO;
	else {
		memset(&e, 0, sizeof(e));
		e.name = line_param(&lf, 2, AUTH_KEY_NAME, &v, NULL) ? v : name;
		(void)line_param(&lf, 2, AUTH_SECRET_U, &e.authzid, NULL);
		(void)line_param(&lf, 2, AUTH_SECRET_I, &e.authid, NULL);
		(void)line_param(&lf, 2, AUTH_SECRET_R, &e.realm, NULL);
		(void)line_param(&lf, 2, AUTH_SECRET_M, &e.mechs, NULL);
		e.has_password = line_param(&lf, 2, AUTH_SECRET_P, &e.password, NULL);
		e.grants = "";
		fn(&e, arg);
	}
	explicit_bzero(line, len);
	return r;
}

/* An AGENT or FAIL answer to the open exchange. */
static int
sks_agent_answer(struct sks_agent_core *k, const struct line_fields *lf,
    const unsigned char **resp, size_t *resplen, int *flags)
{
	const char *v;
	size_t n;
	int r;

	*flags = 0;
	if (strcmp(lf->f[0], AUTH_CMD_FAIL) == 0) {
		k->cur = 0;
		return sks_agent_fail(k, lf);
	}
	if (strcmp(lf->f[0], AUTH_CMD_AGENT) != 0)
		return *k->dead = SKSECRET_ERR_PROTO;
	sbuf_reset(&k->resp);
	if (line_param(lf, 2, AUTH_KEY_RESP, &v, &n)) {
		if ((r = b64_decode_sbuf(v, n, &k->resp)) != SK_OK)
			return *k->dead = SKSECRET_ERR_PROTO;
		*flags |= SKSECRET_AGENT_RESP;
	}
	if (line_param(lf, 2, AUTH_KEY_DONE, &v, NULL)) {
		*flags |= SKSECRET_AGENT_DONE;
		k->cur = 0;
	}
	*resp = k->resp.data != NULL ? k->resp.data : (const unsigned char *)"";
	*resplen = k->resp.len;
	return SKSECRET_OK;
}

/* AGENT-START's parameters after the name and mechanism. */
static int
sks_agent_params(struct sbuf *a, const struct sksecret_agent_params *p)
{
	struct sbuf enc;
	int r = SK_OK;

	if (p == NULL)
		return SK_OK;
	if (p->service != NULL)
		r = line_put_kv_str(a, AUTH_KEY_SERVICE, p->service);
	if (r == SK_OK && p->host != NULL)
		r = line_put_kv_str(a, AUTH_KEY_HOST, p->host);
	if (r != SK_OK || p->cbind_type == NULL)
		return r;
	sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
	if ((r = line_put_kv_str(a, AUTH_KEY_CBIND_TYPE, p->cbind_type)) ==
	    SK_OK && (r = b64_encode_sbuf(p->cbind_data, p->cbind_len,
	    &enc)) == SK_OK)
		r = line_put_kv(a, AUTH_KEY_CBIND_DATA, enc.data, enc.len);
	sbuf_free(&enc);
	return r;
}

int
sks_agent_core_start(struct sks_agent_core *k, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags)
{
	struct line_fields lf;
	struct sbuf a;
	char *line = NULL;
	size_t llen = 0;
	int r;

	if (name == NULL || mech == NULL || resp == NULL ||
	    len == NULL || flags == NULL || (p != NULL && p->cbind_type !=
	    NULL && (p->cbind_data == NULL || p->cbind_len == 0)))
		return SKSECRET_ERR_INVAL;
	/* an exchange the server ended early (a 535) ends here too */
	if ((r = sks_agent_core_cancel(k)) != SKSECRET_OK)
		return r;
	sbuf_init(&a, AUTH_PROTO_LINE_MAX);
	k->cur = (*k->next_id)++;
	r = line_put_str(&a, name) == SK_OK && line_put_str(&a, mech) ==
	    SK_OK && sks_agent_params(&a, p) == SK_OK ? sks_agent_request(k,
	    AUTH_CMD_AGENT_START, k->cur, &a, &lf, &line, &llen) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&a);
	if (r == SKSECRET_OK)
		r = sks_agent_answer(k, &lf, resp, len, flags);
	else
		k->cur = 0;
	explicit_bzero(line, llen);
	return r;
}

int
sks_agent_core_step(struct sks_agent_core *k, const void *challenge,
    size_t len, const unsigned char **resp, size_t *resplen, int *flags)
{
	struct line_fields lf;
	struct sbuf a, enc;
	char *line = NULL;
	size_t llen = 0;
	int r;

	if ((challenge == NULL && len > 0) || resp == NULL ||
	    resplen == NULL || flags == NULL)
		return SKSECRET_ERR_INVAL;
	if (k->cur == 0)
		return SKSECRET_ERR_STATE;
	sbuf_init(&a, AUTH_PROTO_LINE_MAX);
	sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
	r = b64_encode_sbuf(challenge, len, &enc) == SK_OK &&
	    line_put(&a, enc.data, enc.len) == SK_OK ? sks_agent_request(k,
	    AUTH_CMD_AGENT_STEP, k->cur, &a, &lf, &line, &llen) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&enc);
	sbuf_free(&a);
	if (r == SKSECRET_OK)
		r = sks_agent_answer(k, &lf, resp, resplen, flags);
	explicit_bzero(line, llen);
	return r;
}

SKS_API int
sksecret_agent_start(struct sksecret_agent *ag, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags)
{
	if (ag == NULL)
		return SKSECRET_ERR_INVAL;
	return sks_agent_core_start(&ag->core, name, mech, p, resp, len, flags);
}

SKS_API int
sksecret_agent_step(struct sksecret_agent *ag, const void *challenge,
    size_t len, const unsigned char **resp, size_t *resplen, int *flags)
{
	if (ag == NULL)
		return SKSECRET_ERR_INVAL;
	return sks_agent_core_step(&ag->core, challenge, len, resp, resplen,
	    flags);
}

SKS_API int
sksecret_agent_cancel(struct sksecret_agent *ag)
{
	return ag != NULL ? sks_agent_core_cancel(&ag->core) :
	    SKSECRET_ERR_INVAL;
}
