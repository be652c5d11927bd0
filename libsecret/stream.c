/*
 * stream.c: a blocking stream of protocol lines on a UNIX socket, for
 * libsecret's blocking clients (admin.c, agent.c): whole lines out, one
 * line in at a time, each waited for at most the stream's timeout. Input
 * sits in a wiping buffer: replies may carry passwords. Never logs,
 * never raises SIGPIPE.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "internal.h"
#include "monotime.h"

void
sks_stream_init(struct sks_stream *s, int fd, int timeout_ms, size_t max_line)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->timeout_ms = timeout_ms;
	s->max_line = max_line;
	sbuf_init(&s->in, 2 * max_line);
}

void
sks_stream_close(struct sks_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	sbuf_free(&s->in);
}

int
sks_stream_send(struct sks_stream *s, const struct sbuf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = send(s->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SKSECRET_ERR_CLOSED;
		off += (size_t)n;
	}
	return SKSECRET_OK;
}

/* Waits up to the deadline for input: 1 ready, 0 not yet, or an error. */
static int
sks_stream_wait(struct sks_stream *s, long long deadline)
{
	struct pollfd pfd = { s->fd, POLLIN, 0 };
	long long left;
	int r;

	if (s->timeout_ms < 0)
		return 1;
	if ((left = deadline - sk_clock_ms(CLOCK_MONOTONIC)) <= 0)
		return SKSECRET_ERR_TIMEOUT;
	if ((r = poll(&pfd, 1, (int)left)) < 0 && errno != EINTR)
		return SKSECRET_ERR_CLOSED;
	return r > 0;
}

int
sks_stream_read_line(struct sks_stream *s, char **line, size_t *len)
{
	unsigned char buf[4096];
	long long deadline = sk_clock_ms(CLOCK_MONOTONIC) + s->timeout_ms;
	ssize_t n;
	int r;

	for (;;) {
		if ((r = sks_take_line(&s->in, &s->in_start, s->max_line, line,
		    len)) != 0)
			return r == 1 ? SKSECRET_OK : r;
		sks_compact(&s->in, &s->in_start);
		if ((r = sks_stream_wait(s, deadline)) < 0)
			return r;
		if (r == 0)
			continue;
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		r = n <= 0 ? SKSECRET_ERR_CLOSED : sbuf_put(&s->in, buf,
		    (size_t)n) != SK_OK ? SKSECRET_ERR_PROTO : SKSECRET_OK;
		explicit_bzero(buf, sizeof(buf));
		if (r != SKSECRET_OK)
			return r;
	}
}
