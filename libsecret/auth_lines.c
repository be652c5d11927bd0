/*
 * auth_lines.c: authd's lines to libsecret's auth client, by table: each
 * line with the states it is allowed in and whether it may come only
 * once. The handshake (VERSION first; MECH lines; SPID, CUID and COOKIE
 * once; DONE) comes before any answer (CONT, OK, FAIL, CANCELLED). A line
 * out of its place breaks the connection; a line this client does not
 * know is skipped, for a server newer than it. Decoded data lives in
 * wiping buffers. Must never log, exit or raise SIGPIPE.
 */
#include <string.h>

#include "b64.h"
#include "err.h"
#include "sks_auth.h"
#include "verb.h"

static int sks_line_version(struct sksecret_auth *, struct line_fields *);
static int sks_line_mech(struct sksecret_auth *, struct line_fields *);
static int sks_line_skip(struct sksecret_auth *, struct line_fields *);
static int sks_line_cont(struct sksecret_auth *, struct line_fields *);
static int sks_line_ok(struct sksecret_auth *, struct line_fields *);
static int sks_line_fail(struct sksecret_auth *, struct line_fields *);

/*
 * The table: a line's rule (states, once, least fields after its name),
 * its handler and the state it leads to (0: the same).
 */
static const struct sks_line {
	struct verb_rule rule;
	int (*fn)(struct sksecret_auth *, struct line_fields *);
	unsigned next;
} sks_lines[] = {
	{ { AUTH_CMD_VERSION, SKS_ST_NEW, 1, 1 }, sks_line_version,
	    SKS_ST_SHAKING },
	{ { AUTH_CMD_MECH, SKS_ST_SHAKING, 0, 0 }, sks_line_mech, 0 },
	{ { AUTH_CMD_SPID, SKS_ST_SHAKING, 1, 0 }, sks_line_skip, 0 },
	{ { AUTH_CMD_CUID, SKS_ST_SHAKING, 1, 0 }, sks_line_skip, 0 },
	{ { AUTH_CMD_COOKIE, SKS_ST_SHAKING, 1, 0 }, sks_line_skip, 0 },
	{ { AUTH_CMD_DONE, SKS_ST_SHAKING, 1, 0 }, sks_line_skip,
	    SKS_ST_RUNNING },
	{ { AUTH_CMD_CONT, SKS_ST_RUNNING, 0, 2 }, sks_line_cont, 0 },
	{ { AUTH_CMD_OK, SKS_ST_RUNNING, 0, 1 }, sks_line_ok, 0 },
	{ { AUTH_CMD_FAIL, SKS_ST_RUNNING, 0, 1 }, sks_line_fail, 0 },
	/* for an exchange we cancelled and forgot */
	{ { AUTH_CMD_CANCELLED, SKS_ST_RUNNING, 0, 0 }, sks_line_skip, 0 },
};
#define SKS_NLINES	(sizeof(sks_lines) / sizeof(sks_lines[0]))

/* VERSION <major> <minor>: the major must be ours. */
static int
sks_line_version(struct sksecret_auth *a, struct line_fields *lf)
{
	unsigned long major;

	(void)a;
	return line_id(line_str(lf, 1), &major) == 0 &&
	    major == AUTH_PROTO_MAJOR ? SKSECRET_OK : SKSECRET_ERR_PROTO;
}

/* A line with nothing for this client. */
static int
sks_line_skip(struct sksecret_auth *a, struct line_fields *lf)
{
	(void)a;
	(void)lf;
	return SKSECRET_OK;
}

/*
 * MECH name flag...: remembered for sksecret_auth_mech_flags; a name that
 * is not one, or one too many, is skipped.
 */
static int
sks_line_mech(struct sksecret_auth *a, struct line_fields *lf)
{
	static const struct {
		const char *name;
		int flag;
	} flags[] = {
		{ AUTH_MECH_PLAINTEXT, SKSECRET_MECH_PLAINTEXT },
		{ AUTH_MECH_DICTIONARY, SKSECRET_MECH_DICTIONARY },
		{ AUTH_MECH_ACTIVE, SKSECRET_MECH_ACTIVE },
		{ AUTH_MECH_ANONYMOUS, SKSECRET_MECH_ANONYMOUS },
		{ AUTH_MECH_MUTUAL, SKSECRET_MECH_MUTUAL_AUTH },
		{ AUTH_MECH_CBIND, SKSECRET_MECH_CHANNEL_BINDING },
		{ AUTH_MECH_FORWARD, SKSECRET_MECH_FORWARD_SECRECY },
	};
	const char *name = line_str(lf, 1);
	size_t i, k, n;

	if (name == NULL || (n = strlen(name)) == 0 ||
	    n > AUTH_PROTO_MECH_MAX || a->nmech == SKS_MECHS_MAX ||
	    strpbrk(name, " ") != NULL)
		return SKSECRET_OK;
	memcpy(a->mech[a->nmech].name, name, n + 1);
	a->mech[a->nmech].flags = 0;
	for (i = 2; i < lf->n; i++)
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(lf->f[i], flags[k].name) == 0)
				a->mech[a->nmech].flags |= flags[k].flag;
	if (a->nmech > 0)
		strcat(a->mechs, " ");
	strcat(a->mechs, name);
	a->nmech++;
	return SKSECRET_OK;
}

/* The open exchange that a line's id names: NULL for one we cancelled. */
static int
sks_line_req(struct sksecret_auth *a, struct line_fields *lf,
    struct sksecret_req **r)
{
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1)
		return SKSECRET_ERR_PROTO;
	*r = sks_req_find(a, id);
	return SKSECRET_OK;
}

/* Decodes base64 data into a wiping buffer, there even when empty. */
static int
sks_line_decode(const char *b64, size_t len, struct sbuf *out)
{
	int r = b64_decode_sbuf(b64, len, out);

	if (r == SK_OK)
		r = sbuf_terminate(out);
	return r == SK_OK ? SKSECRET_OK : r == SK_ERR_NOMEM ?
	    SKSECRET_ERR_NOMEM : SKSECRET_ERR_PROTO;
}

/*
 * The server asked for channel binding of a type: the caller's callback
 * gives the data, or the exchange ends here (0 then).
 */
static int
sks_line_cbind(struct sksecret_req *r, const char *type)
{
	struct sksecret_result res;
	const unsigned char *cb;
	size_t cblen;

	sbuf_reset(&r->cb);
	r->has_cb = r->cbind != NULL &&
	    r->cbind(type, &cb, &cblen, r->cbind_arg) == 0 &&
	    cblen > 0 && cblen <= AUTH_PROTO_CBIND_MAX &&
	    sbuf_put(&r->cb, cb, cblen) == SK_OK;
	if (r->has_cb)
		return 1;
	sks_req_send_cancel(r->a, r->id);
	memset(&res, 0, sizeof(res));
	res.status = SKSECRET_ERROR;
	res.error = SKSECRET_ERR_STATE;
	res.reason = "no channel-binding data of the type asked";
	sks_req_deliver(r, &res);
	return 0;
}

/* A CONTINUE or a SUCCESS for r, with the data authd sent. */
static void
sks_line_deliver(struct sksecret_req *r, int status, const char *user,
    const char *auth_user, const struct sbuf *data)
{
	struct sksecret_result res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.user = user;
	res.auth_user = auth_user;
	res.data = data->data;
	res.len = data->len;
	sks_req_deliver(r, &res);
}

/* CONT id data [channel_binding=type] */
static int
sks_line_cont(struct sksecret_auth *a, struct line_fields *lf)
{
	struct sksecret_req *r;
	struct sbuf data;
	const char *type;
	int e;

	if ((e = sks_line_req(a, lf, &r)) != SKSECRET_OK || r == NULL)
		return e;
	if (r->want_answer)
		return SKSECRET_ERR_PROTO;
	sbuf_init(&data, AUTH_PROTO_LINE_MAX);
	if ((e = sks_line_decode(lf->f[2], lf->len[2], &data)) == SKSECRET_OK &&
	    (!line_param(lf, 3, AUTH_KEY_CBIND, &type, NULL) ||
	    sks_line_cbind(r, type)))
		sks_line_deliver(r, SKSECRET_CONTINUE, NULL, NULL, &data);
	sbuf_free(&data);
	return e;
}

/* OK id user=... [resp=...] */
static int
sks_line_ok(struct sksecret_auth *a, struct line_fields *lf)
{
	struct sksecret_req *r;
	struct sbuf data;
	const char *v, *user, *authcid = NULL;
	size_t vlen;
	int e;

	if ((e = sks_line_req(a, lf, &r)) != SKSECRET_OK || r == NULL)
		return e;
	if (!line_param(lf, 2, AUTH_KEY_USER, &user, &vlen) ||
	    memchr(user, '\0', vlen) != NULL)
		return SKSECRET_ERR_PROTO;
	if (line_param(lf, 2, AUTH_KEY_AUTH_USER, &authcid, &vlen) &&
	    memchr(authcid, '\0', vlen) != NULL)
		return SKSECRET_ERR_PROTO;
	sbuf_init(&data, AUTH_PROTO_LINE_MAX);
	if (line_param(lf, 2, AUTH_KEY_RESP, &v, &vlen))
		e = sks_line_decode(v, vlen, &data);
	if (e == SKSECRET_OK)
		sks_line_deliver(r, SKSECRET_SUCCESS, user, authcid, &data);
	sbuf_free(&data);
	return e;
}

/* FAIL id [reason=] [code=] */
static int
sks_line_fail(struct sksecret_auth *a, struct line_fields *lf)
{
	struct sksecret_result res;
	struct sksecret_req *r;
	const char *v, *reason = NULL;
	size_t vlen;
	int e;

	if ((e = sks_line_req(a, lf, &r)) != SKSECRET_OK || r == NULL)
		return e;
	if (line_param(lf, 2, AUTH_KEY_REASON, &reason, &vlen) &&
	    memchr(reason, '\0', vlen) != NULL)
		reason = NULL;
	memset(&res, 0, sizeof(res));
	res.status = SKSECRET_FAILURE;
	res.reason = reason;
	res.temporary = line_param(lf, 2, AUTH_KEY_CODE, &v, &vlen) &&
	    strcmp(v, AUTH_FAIL_TEMP) == 0;
	sks_req_deliver(r, &res);
	return SKSECRET_OK;
}

int
sks_auth_line(struct sksecret_auth *a, char *line, size_t len)
{
	struct line_fields lf;
	const char *cmd;
	size_t k;
	int r;

	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		return SKSECRET_ERR_PROTO;
	if ((k = verb_find(sks_lines, SKS_NLINES, sizeof(sks_lines[0]),
	    cmd)) == SKS_NLINES)
		return SKSECRET_OK;
	if (verb_check(&sks_lines[k].rule, k, a->state, &a->seen,
	    lf.n - 1) != NULL)
		return SKSECRET_ERR_PROTO;
	if ((r = sks_lines[k].fn(a, &lf)) == SKSECRET_OK &&
	    sks_lines[k].next != 0)
		a->state = sks_lines[k].next;
	return r;
}
