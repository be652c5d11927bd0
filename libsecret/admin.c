/*
 * admin.c: libsecret's blocking client of authd's admin socket
 * (common/admin_proto.h), for tools: the connection, its VERSION
 * exchange, and one request with its replies; the requests themselves
 * are admin_cmds.c's. One request at a time; each reply is waited for at
 * most the handle's timeout. Passwords go out in wiping buffers and never
 * come back. Must never log, exit or raise SIGPIPE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_proto.h"
#include "err.h"
#include "internal.h"
#include "line.h"
#include "sks_admin.h"

struct sksecret_admin {
	struct sks_stream st;
	int dead;
	unsigned long next_id;
	char reason[256];
	struct sks_agent_core agent;	/* an agent exchange, with an admin's rights */
};

static int
sks_admin_send(struct sksecret_admin *ad, const struct sbuf *b)
{
	return sks_stream_send(&ad->st, b);
}

static int
sks_admin_read_line(struct sksecret_admin *ad, char **line, size_t *len)
{
	return sks_stream_read_line(&ad->st, line, len);
}

int
sks_admin_from_fd(int fd, int timeout_ms, struct sksecret_admin **out)
{
	struct sksecret_admin *ad;
	struct line_fields lf;
	struct sbuf b;
	unsigned long major;
	char *line;
	size_t len;
	int r;

	*out = NULL;
	if ((ad = calloc(1, sizeof(*ad))) == NULL) {
		close(fd);
		return SKSECRET_ERR_NOMEM;
	}
	sks_stream_init(&ad->st, fd, timeout_ms, ADMIN_PROTO_LINE_MAX);
	sks_agent_core_init(&ad->agent, &ad->st, &ad->dead, &ad->next_id,
	    ad->reason, sizeof(ad->reason));
	ad->next_id = 1;
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	r = line_put_cmd(&b, ADMIN_CMD_VERSION) == SK_OK &&
	    line_put_id(&b, ADMIN_PROTO_MAJOR) == SK_OK &&
	    line_put_id(&b, ADMIN_PROTO_MINOR) == SK_OK &&
	    line_end(&b) == SK_OK ? sks_admin_send(ad, &b) : SKSECRET_ERR_NOMEM;
	sbuf_free(&b);
	if (r == SKSECRET_OK)
		r = sks_admin_read_line(ad, &line, &len);
	/* authd closes a peer it refuses at once, before any line */
	if (r == SKSECRET_ERR_CLOSED)
		r = SKSECRET_ERR_DENIED;
	if (r == SKSECRET_OK && (line_split(line, len, &lf) != SK_OK ||
	    lf.n < 2 || strcmp(lf.f[0], ADMIN_CMD_VERSION) != 0 ||
	    line_id(line_str(&lf, 1), &major) == -1 ||
	    major != ADMIN_PROTO_MAJOR))
		r = SKSECRET_ERR_PROTO;
	if (r != SKSECRET_OK) {
		sksecret_admin_close(ad);
		return r;
	}
	*out = ad;
	return SKSECRET_OK;
}

SKS_API int
sksecret_admin_open(const char *path, int timeout_ms,
    struct sksecret_admin **out)
{
	int fd;

	if (out == NULL || timeout_ms == 0)
		return SKSECRET_ERR_INVAL;
	*out = NULL;
	if ((fd = sks_connect(path != NULL ? path : SKSECRET_ADMIN_SOCKET)) < 0)
		return fd;
	return sks_admin_from_fd(fd, timeout_ms, out);
}

SKS_API void
sksecret_admin_close(struct sksecret_admin *ad)
{
	if (ad == NULL)
		return;
	sks_stream_close(&ad->st);
	sks_agent_core_free(&ad->agent);
	free(ad);
}

int
sks_admin_dead(const struct sksecret_admin *ad)
{
	return ad->dead != 0;
}

SKS_API const char *
sksecret_admin_reason(const struct sksecret_admin *ad)
{
	return ad != NULL ? ad->reason : "";
}

/* OK id k=v...: the counters asked for. */
static void
sks_admin_ok_fields(struct sks_admin_ctx *x, const struct line_fields *lf)
{
	const char *v;
	size_t i, k;

	if (line_param(lf, 2, ADMIN_KEY_COUNT, &v, NULL))
		x->count = strtoul(v, NULL, 10);
	if (line_param(lf, 2, ADMIN_KEY_MISSING, &v, NULL))
		x->missing = strtoul(v, NULL, 10);
	if (line_param(lf, 2, ADMIN_KEY_KEY, &v, NULL))
		x->key = strtoul(v, NULL, 10);
	if (x->upgrade != NULL)
		sks_admin_upgrade_fields(x->upgrade, lf);
	if (x->stat_fn == NULL)
		return;
	for (i = 2; i < lf->n; i++) {
		k = strcspn(lf->f[i], "=");
		if (lf->f[i][k] != '=')
			continue;
		lf->f[i][k] = '\0';
		x->stat_fn(lf->f[i], strtoul(lf->f[i] + k + 1, NULL, 10), x->arg);
		lf->f[i][k] = '=';
	}
}

/* FAIL id code= reason=: the request's error, its reason kept. */
static int
sks_admin_fail_code(struct sksecret_admin *ad, const struct line_fields *lf)
{
	const char *v;

	if (line_param(lf, 2, ADMIN_KEY_REASON, &v, NULL))
		snprintf(ad->reason, sizeof(ad->reason), "%s", v);
	if (!line_param(lf, 2, ADMIN_KEY_CODE, &v, NULL))
		return SKSECRET_ERR_PROTO;
	if (strcmp(v, ADMIN_FAIL_NOTFOUND) == 0)
		return SKSECRET_ERR_NOTFOUND;
	if (strcmp(v, ADMIN_FAIL_INVALID) == 0)
		return SKSECRET_ERR_REFUSED;
	if (strcmp(v, ADMIN_FAIL_TEMP) == 0)
		return SKSECRET_ERR_TEMP;
	if (strcmp(v, ADMIN_FAIL_EXISTS) == 0)
		return SKSECRET_ERR_EXISTS;
	if (strcmp(v, ADMIN_FAIL_DENIED) == 0)
		return SKSECRET_ERR_DENIED;
	return SKSECRET_ERR_PROTO;
}

/*
 * One reply line to request id: 1 for a USER line (more follow), else
 * the request's result; SKSECRET_ERR_PROTO for a line out of step.
 */
static int
sks_admin_reply(struct sksecret_admin *ad, struct line_fields *lf,
    unsigned long id, struct sks_admin_ctx *x)
{
	const char *props = NULL;
	unsigned long rid;

	if (lf->n < 2 || line_id(lf->f[1], &rid) == -1 || rid != id)
		return SKSECRET_ERR_PROTO;	/* one request at a time */
	if (strcmp(lf->f[0], ADMIN_CMD_USER) == 0) {
		if (lf->n < 3)
			return SKSECRET_ERR_PROTO;
		(void)line_param(lf, 3, ADMIN_KEY_PROPS, &props, NULL);
		if (x != NULL && x->user_fn != NULL && !x->stopped &&
		    x->user_fn(lf->f[2], props, x->arg) != 0)
			x->stopped = 1;
		return 1;
	}
	if (strcmp(lf->f[0], ADMIN_CMD_SECRET) == 0) {
		if (lf->n < 3)
			return SKSECRET_ERR_PROTO;
		if (x != NULL && x->entry_fn != NULL && !x->stopped)
			sks_admin_secret_line(x, lf);
		return 1;
	}
	if (strcmp(lf->f[0], ADMIN_CMD_OK) == 0) {
		if (x != NULL)
			sks_admin_ok_fields(x, lf);
		return SKSECRET_OK;
	}
	if (strcmp(lf->f[0], ADMIN_CMD_FAIL) == 0)
		return sks_admin_fail_code(ad, lf);
	return SKSECRET_ERR_PROTO;
}

int
sks_admin_send_request(struct sksecret_admin *ad, const char *cmd,
    struct sbuf *args, unsigned long *id_r)
{
	struct sbuf b;
	int r;

	if (ad == NULL)
		return SKSECRET_ERR_INVAL;
	if (ad->dead)
		return ad->dead;
	ad->reason[0] = '\0';
	*id_r = ad->next_id++;
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	r = line_put_cmd(&b, cmd) == SK_OK && line_put_id(&b, *id_r) == SK_OK &&
	    (args == NULL || sbuf_put(&b, args->data, args->len) == SK_OK) &&
	    line_end(&b) == SK_OK ? sks_admin_send(ad, &b) : SKSECRET_ERR_LIMIT;
	sbuf_free(&b);
	if (r != SKSECRET_OK && r != SKSECRET_ERR_LIMIT)
		ad->dead = r;	/* part of a line may have gone */
	return r;
}

int
sks_admin_read_final(struct sksecret_admin *ad, unsigned long *id_r,
    struct sks_admin_ctx *x)
{
	struct line_fields lf;
	char *line;
	size_t len;
	int r;

	if (ad->dead)
		return ad->dead;
	ad->reason[0] = '\0';
	if ((r = sks_admin_read_line(ad, &line, &len)) == SKSECRET_OK) {
		if (line_split(line, len, &lf) != SK_OK || lf.n < 2 ||
		    line_id(lf.f[1], id_r) == -1 ||
		    (strcmp(lf.f[0], ADMIN_CMD_OK) != 0 &&
		    strcmp(lf.f[0], ADMIN_CMD_FAIL) != 0))
			r = SKSECRET_ERR_PROTO;
		else
			return sks_admin_reply(ad, &lf, *id_r, x);
	}
	ad->dead = r;
	return r;
}

/*
 * Sends one request (its fields already on args, after the command and
 * id this adds) and reads until its OK or FAIL.
 */
int
sks_admin_request(struct sksecret_admin *ad, const char *cmd,
    struct sbuf *args, struct sks_admin_ctx *x)
{
	struct line_fields lf;
	char *line;
	unsigned long id;
	size_t len;
	int r;

	if ((r = sks_admin_send_request(ad, cmd, args, &id)) != SKSECRET_OK)
		return r;
	while ((r = sks_admin_read_line(ad, &line, &len)) == SKSECRET_OK) {
		r = line_split(line, len, &lf) != SK_OK ? SKSECRET_ERR_PROTO :
		    sks_admin_reply(ad, &lf, id, x);
		if (r == 1)
			r = SKSECRET_OK;
		else if (r != SKSECRET_ERR_PROTO)
			return r;	/* OK, or FAIL's code */
		else
			break;
	}
	/* a broken exchange leaves the stream out of step: no more use */
	ad->dead = r;
	return r;
}

SKS_API int
sksecret_admin_agent_start(struct sksecret_admin *ad, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags)
{
	if (ad == NULL)
		return SKSECRET_ERR_INVAL;
	return sks_agent_core_start(&ad->agent, name, mech, p, resp, len, flags);
}

SKS_API int
sksecret_admin_agent_step(struct sksecret_admin *ad, const void *challenge,
    size_t len, const unsigned char **resp, size_t *resplen, int *flags)
{
	if (ad == NULL)
		return SKSECRET_ERR_INVAL;
	return sks_agent_core_step(&ad->agent, challenge, len, resp, resplen,
	    flags);
}

SKS_API int
sksecret_admin_agent_cancel(struct sksecret_admin *ad)
{
	return ad != NULL ? sks_agent_core_cancel(&ad->agent) :
	    SKSECRET_ERR_INVAL;
}
