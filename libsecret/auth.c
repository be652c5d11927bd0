/*
 * auth.c: libsecret's client of authd's auth socket, Dovecot's auth-client
 * protocol (common/auth_proto.h), without blocking: the connection, its
 * handshake and its I/O. One connection carries many exchanges, each by
 * id (auth_req.c); the caller's event loop watches the descriptor and
 * calls sksecret_auth_step, which hands authd's lines to auth_lines.c.
 * Input is wiped as it is consumed. Must never log, exit or raise SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "monotime.h"
#include "sks_auth.h"

#define SKS_RECV_CHUNK	8192	/* bytes read at once */

int
sks_auth_queue(struct sksecret_auth *a, const struct sbuf *line)
{
	int r = sbuf_put(&a->out, line->data, line->len);

	return r == SK_OK ? SKSECRET_OK : r == SK_ERR_NOMEM ?
	    SKSECRET_ERR_NOMEM : SKSECRET_ERR_LIMIT;
}

/* Writes what the socket takes now. */
int
sks_auth_flush(struct sksecret_auth *a)
{
	ssize_t n;

	while (a->out_sent < a->out.len) {
		n = send(a->fd, a->out.data + a->out_sent,
		    a->out.len - a->out_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SKSECRET_OK;
		if (n <= 0)
			return SKSECRET_ERR_CLOSED;
		a->out_sent += (size_t)n;
	}
	sbuf_reset(&a->out);
	a->out_sent = 0;
	return SKSECRET_OK;
}

/* The connection is lost: every open exchange hears it, once. */
static void
sks_auth_lose(struct sksecret_auth *a, int err)
{
	struct sksecret_result res;

	if (a->dead)
		return;
	a->dead = err;
	memset(&res, 0, sizeof(res));
	res.status = SKSECRET_ERROR;
	res.error = err;
	res.temporary = 1;
	res.reason = sksecret_strerror(err);
	while (a->reqs != NULL && !a->close_pending)
		sks_req_deliver(a->reqs, &res);
}

/* Queues the client's handshake: VERSION and CPID. */
static int
sks_auth_hello(struct sksecret_auth *a)
{
	struct sbuf b;
	int r;

	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	r = line_put_cmd(&b, AUTH_CMD_VERSION) == SK_OK &&
	    line_put_id(&b, AUTH_PROTO_MAJOR) == SK_OK &&
	    line_put_id(&b, AUTH_PROTO_MINOR) == SK_OK &&
	    line_end(&b) == SK_OK && line_put_cmd(&b, AUTH_CMD_CPID) == SK_OK &&
	    line_put_id(&b, (unsigned long)getpid()) == SK_OK &&
	    line_end(&b) == SK_OK ? sks_auth_queue(a, &b) : SKSECRET_ERR_NOMEM;
	sbuf_free(&b);
	return r;
}

int
sks_auth_from_fd(int fd, struct sksecret_auth **out)
{
	struct sksecret_auth *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		close(fd);
		return SKSECRET_ERR_NOMEM;
	}
	a->fd = fd;
	a->next_id = 1;
	a->state = SKS_ST_NEW;
	sbuf_init(&a->in, 2 * AUTH_PROTO_LINE_MAX);
	sbuf_init(&a->out, SKS_OUT_MAX);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1 ||
	    sks_auth_hello(a) != SKSECRET_OK ||
	    sks_auth_flush(a) != SKSECRET_OK) {
		sksecret_auth_close(a);
		return SKSECRET_ERR_CLOSED;
	}
	*out = a;
	return SKSECRET_OK;
}

SKS_API int
sksecret_auth_open(const char *path, struct sksecret_auth **out)
{
	int fd;

	if (out == NULL)
		return SKSECRET_ERR_INVAL;
	*out = NULL;
	if ((fd = sks_connect(path != NULL ? path : SKSECRET_AUTH_SOCKET)) < 0)
		return fd;
	return sks_auth_from_fd(fd, out);
}

SKS_API void
sksecret_auth_close(struct sksecret_auth *a)
{
	if (a == NULL)
		return;
	if (a->in_step) {
		a->close_pending = 1;
		return;
	}
	while (a->reqs != NULL)
		sks_req_free(a->reqs);
	close(a->fd);
	sbuf_free(&a->in);
	sbuf_free(&a->out);
	free(a);
}

SKS_API int
sksecret_auth_fd(const struct sksecret_auth *a)
{
	return a != NULL ? a->fd : -1;
}

SKS_API int
sksecret_auth_want_write(const struct sksecret_auth *a)
{
	return a != NULL && !a->dead && a->out_sent < a->out.len;
}

SKS_API int
sksecret_auth_ready(const struct sksecret_auth *a)
{
	return a != NULL && a->state == SKS_ST_RUNNING && !a->dead;
}

SKS_API const char *
sksecret_auth_mechs(const struct sksecret_auth *a)
{
	return a != NULL ? a->mechs : "";
}

SKS_API int
sksecret_auth_mech_flags(const struct sksecret_auth *a, const char *mech)
{
	size_t i;

	if (a == NULL || mech == NULL)
		return -1;
	for (i = 0; i < a->nmech; i++)
		if (strcasecmp(a->mech[i].name, mech) == 0)
			return a->mech[i].flags;
	return -1;
}

SKS_API size_t
sksecret_auth_pending(const struct sksecret_auth *a)
{
	return a != NULL ? a->nreqs : 0;
}

/* Reads what is there and handles every complete line. */
static int
sks_auth_input(struct sksecret_auth *a)
{
	unsigned char buf[SKS_RECV_CHUNK];
	char *line;
	size_t len, room;
	ssize_t n;
	int r;

	for (;;) {
		/* a line never fills the buffer: sks_take_line says so first */
		room = a->in.max - a->in.len;
		n = recv(a->fd, buf, room < sizeof(buf) ? room : sizeof(buf),
		    MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SKSECRET_OK;
		if (n <= 0)
			return SKSECRET_ERR_CLOSED;
		r = sbuf_put(&a->in, buf, (size_t)n);
		explicit_bzero(buf, (size_t)n);
		if (r != SK_OK)
			return SKSECRET_ERR_NOMEM;
		while ((r = sks_take_line(&a->in, &a->in_start,
		    AUTH_PROTO_LINE_MAX, &line, &len)) == 1) {
			r = sks_auth_line(a, line, len);
			explicit_bzero(line, len);
			if (r != SKSECRET_OK)
				return r;
			if (a->close_pending)
				return SKSECRET_OK;
		}
		if (r < 0)
			return r;
		sks_compact(&a->in, &a->in_start);
	}
}

SKS_API int
sksecret_auth_step(struct sksecret_auth *a)
{
	int r;

	if (a == NULL)
		return SKSECRET_ERR_INVAL;
	if (a->dead)
		return a->dead;
	a->in_step = 1;
	if ((r = sks_auth_flush(a)) == SKSECRET_OK)
		r = sks_auth_input(a);
	if (r == SKSECRET_OK && !a->close_pending)
		r = sks_auth_flush(a);
	if (r != SKSECRET_OK)
		sks_auth_lose(a, r);
	a->in_step = 0;
	if (a->close_pending) {
		sksecret_auth_close(a);
		return SKSECRET_ERR_STATE;
	}
	return r;
}

SKS_API int
sksecret_auth_wait(struct sksecret_auth *a, int all, int timeout_ms)
{
	struct pollfd pfd;
	long long t0;
	int r, left = timeout_ms;

	if (a == NULL)
		return SKSECRET_ERR_INVAL;
	t0 = sk_clock_ms(CLOCK_MONOTONIC);
	for (;;) {
		if (a->dead)
			return a->dead;
		if (all ? a->nreqs == 0 : a->state == SKS_ST_RUNNING)
			return SKSECRET_OK;
		pfd.fd = a->fd;
		pfd.events = POLLIN | (sksecret_auth_want_write(a) ? POLLOUT : 0);
		if (timeout_ms >= 0) {
			left = timeout_ms -
			    (int)(sk_clock_ms(CLOCK_MONOTONIC) - t0);
			if (left <= 0)
				return SKSECRET_ERR_TIMEOUT;
		}
		if ((r = poll(&pfd, 1, left)) < 0 && errno != EINTR)
			return SKSECRET_ERR_CLOSED;
		if (r > 0 && (r = sksecret_auth_step(a)) != SKSECRET_OK)
			return r;
	}
}
