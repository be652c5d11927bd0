/*
 * xchg.c: one exchange of the plugin with authd, over libsecret's
 * non-blocking auth API, waited for with poll() and a deadline per step so
 * that the application is never held past saslkit_timeout. A connection
 * lives for one exchange: nothing is shared between threads or across a
 * fork. The client's responses are copied by libsecret into wiping
 * buffers; nothing here logs them.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "monotime.h"
#include "plugin.h"

static char *
plug_strdup(const sasl_utils_t *u, const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	if ((d = u->malloc(n)) != NULL)
		memcpy(d, s, n);
	return d;
}

/* Frees what the last answer left; the data may be a challenge only. */
static void
plug_xchg_clear(struct plug_xchg *x)
{
	const sasl_utils_t *u = x->utils;

	if (x->data != NULL) {
		explicit_bzero(x->data, x->len);
		u->free(x->data);
	}
	u->free(x->user);
	u->free(x->auth_user);
	u->free(x->reason);
	x->data = NULL;
	x->len = 0;
	x->user = x->auth_user = x->reason = NULL;
	x->done = 0;
}

/* libsecret's callback: keeps a copy of authd's answer. */
static void
plug_xchg_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct plug_xchg *x = arg;
	const sasl_utils_t *u = x->utils;

	(void)req;
	plug_xchg_clear(x);
	x->done = 1;
	x->res = *res;
	if (res->status != SKSECRET_CONTINUE)
		x->req = NULL;		/* freed by libsecret */
	if (res->len > 0 && (x->data = u->malloc(res->len)) != NULL) {
		memcpy(x->data, res->data, res->len);
		x->len = res->len;
	} else if (res->len > 0) {
		x->res.status = SKSECRET_ERROR;
		x->res.error = SKSECRET_ERR_NOMEM;
	}
	x->user = plug_strdup(u, res->user);
	x->auth_user = plug_strdup(u, res->auth_user);
	x->reason = plug_strdup(u, res->reason);
	x->res.data = x->data;
	x->res.user = x->user;
	x->res.auth_user = x->auth_user;
	x->res.reason = x->reason;
}

/* The application's channel-binding data, when authd asks for its type. */
static int
plug_xchg_cbind(const char *type, const unsigned char **data, size_t *len,
    void *arg)
{
	struct plug_xchg *x = arg;

	if (x->cbind == NULL || x->cbind->name == NULL ||
	    strcmp(x->cbind->name, type) != 0 || x->cbind->len == 0)
		return -1;
	*data = x->cbind->data;
	*len = x->cbind->len;
	return 0;
}

/* Steps the connection until the callback ran or the deadline passed. */
static int
plug_xchg_wait(struct plug_xchg *x, int timeout_ms)
{
	long long end = sk_clock_ms(CLOCK_MONOTONIC) + timeout_ms, left;
	struct pollfd pfd;
	int e, n;

	while (!x->done) {
		if ((left = end - sk_clock_ms(CLOCK_MONOTONIC)) <= 0)
			return SKSECRET_ERR_TIMEOUT;
		pfd.fd = sksecret_auth_fd(x->auth);
		pfd.events = POLLIN;
		if (sksecret_auth_want_write(x->auth))
			pfd.events |= POLLOUT;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return SKSECRET_ERR_CLOSED;
		if (n > 0 && (e = sksecret_auth_step(x->auth)) != SKSECRET_OK &&
		    !x->done)
			return e;
	}
	return SKSECRET_OK;
}

int
plug_xchg_start(struct plug_xchg *x, const struct plug_opts *o,
    const struct sksecret_auth_params *p)
{
	struct sksecret_auth_params q = *p;
	int e;

	x->deadline_ms = o->timeout_ms;
	if ((e = sksecret_auth_open(o->socket, &x->auth)) != SKSECRET_OK) {
		x->auth = NULL;
		return e;
	}
	q.cbind = plug_xchg_cbind;
	q.cbind_arg = x;
	if ((e = sksecret_req_start(x->auth, &q, plug_xchg_cb, x,
	    &x->req)) != SKSECRET_OK) {
		x->req = NULL;
		return e;
	}
	return plug_xchg_wait(x, x->deadline_ms);
}

int
plug_xchg_continue(struct plug_xchg *x, const void *resp, size_t len)
{
	int e;

	if (x->auth == NULL || x->req == NULL)
		return SKSECRET_ERR_STATE;
	plug_xchg_clear(x);
	if ((e = sksecret_req_continue(x->req, resp, len)) != SKSECRET_OK)
		return e;
	return plug_xchg_wait(x, x->deadline_ms);
}

void
plug_xchg_end(struct plug_xchg *x)
{
	if (x->req != NULL)
		sksecret_req_cancel(x->req);
	x->req = NULL;
	if (x->auth != NULL)
		sksecret_auth_close(x->auth);
	x->auth = NULL;
	plug_xchg_clear(x);
}

int
plug_authd_mechs(const struct plug_opts *o, char *out, size_t outsz)
{
	struct sksecret_auth *a;
	const char *m;
	int wait = o->timeout_ms < PLUG_INIT_WAIT_MS ? o->timeout_ms :
	    PLUG_INIT_WAIT_MS;

	if (sksecret_auth_open(o->socket, &a) != SKSECRET_OK)
		return -1;
	if (sksecret_auth_wait(a, 0, wait) != SKSECRET_OK ||
	    !sksecret_auth_ready(a) || (m = sksecret_auth_mechs(a)) == NULL ||
	    strlen(m) >= outsz) {
		sksecret_auth_close(a);
		return -1;
	}
	memcpy(out, m, strlen(m) + 1);
	sksecret_auth_close(a);
	return 0;
}
