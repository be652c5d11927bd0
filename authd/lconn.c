/*
 * lconn.c: line connections (see lconn.h).
 * Must never leave a byte of input unwiped, and never free a connection
 * that a worker still holds.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "err.h"
#include "lconn.h"
#include "log.h"

static void lconn_read(evutil_socket_t fd, short what, void *arg);
static void lconn_write(evutil_socket_t fd, short what, void *arg);

static void
lconn_free(struct lconn *c)
{
	c->closing = 1;		/* on_close may end exchanges: no timer now */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->a->lconns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->on_close != NULL)
		c->on_close(c);
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->idle);
	close(c->fd);
	sbuf_free(&c->in);
	sbuf_free(&c->out);
	c->a->nconns--;
	free(c);
}

/* The output is written or given up: whoever waits for that goes on. */
static void
lconn_drained(struct lconn *c)
{
	void (*fn)(void *) = c->on_drain;

	c->on_drain = NULL;
	if (fn != NULL)
		fn(c->drain_arg);
}

/* Frees the connection if it is done: closing, flushed, nothing out. */
static int
lconn_maybe_free(struct lconn *c)
{
	if (!c->closing || c->inflight > 0 || c->sent < c->out.len)
		return 0;
	lconn_free(c);
	return 1;
}

static void
lconn_stop_reading(struct lconn *c)
{
	if (c->reading)
		event_del(c->rev);
	c->reading = 0;
	evtimer_del(c->idle);
}

/* Nothing from a client that owes us nothing: it goes. */
static void
lconn_idle(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *c = arg;

	(void)fd;
	(void)what;
	log_info("%s: pid %ld: idle for %u s, disconnected", c->name,
	    (long)c->peer.pid, c->a->conf.io_timeout);
	lconn_close(c);
}

/* Reading runs while the client may send more. */
static void
lconn_update_read(struct lconn *c)
{
	struct timeval tv = { (time_t)c->a->conf.io_timeout, 0 };

	if (c->closing || c->inflight >= c->max_inflight) {
		lconn_stop_reading(c);
		return;
	}
	/* the read event stays in epoll; only the idle timer moves */
	if (!c->reading && event_add(c->rev, NULL) == 0)
		c->reading = 1;
	/* while we hold a request, the client is waiting for us, and while
	   an exchange is open, we wait for the client: no idle timeout */
	if (c->inflight > 0 || c->open > 0)
		evtimer_del(c->idle);
	else
		evtimer_add(c->idle, &tv);
}

void
lconn_keep(struct lconn *c, int more)
{
	struct timeval tv = { (time_t)c->a->conf.io_timeout, 0 };

	if (more)
		c->open++;
	else if (c->open > 0)
		c->open--;
	if (c->closing)
		return;
	if (c->inflight > 0 || c->open > 0)
		evtimer_del(c->idle);
	else if (c->reading)
		evtimer_add(c->idle, &tv);
}

struct lconn *
lconn_new(struct authd *a, const char *name, int fd,
    const struct peercred *peer, size_t max_line, unsigned max_inflight,
    lconn_line_fn *on_line, lconn_close_fn *on_close, void *ctx)
{
	struct lconn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->a = a;
	c->name = name;
	c->fd = fd;
	c->peer = *peer;
	c->max_inflight = max_inflight;
	c->on_line = on_line;
	c->on_close = on_close;
	c->ctx = ctx;
	sbuf_init(&c->in, max_line);
	sbuf_init(&c->out, LCONN_OUT_MAX);
	c->rev = event_new(a->base, fd, EV_READ | EV_PERSIST, lconn_read, c);
	c->idle = evtimer_new(a->base, lconn_idle, c);
	c->wev = event_new(a->base, fd, EV_WRITE, lconn_write, c);
	if (c->rev == NULL || c->wev == NULL || c->idle == NULL) {
		if (c->idle != NULL)
			event_free(c->idle);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		free(c);
		return NULL;
	}
	a->nconns++;
	c->next = a->lconns;
	if (c->next != NULL)
		c->next->prev = c;
	a->lconns = c;
	lconn_update_read(c);
	return c;
}

/* Hands every complete line to the protocol; keeps a partial one. */
static int
lconn_lines(struct lconn *c)
{
	unsigned char *nl;
	size_t len;

	while (!c->closing && c->inflight < c->max_inflight &&
	    (nl = memchr(c->in.data + c->in.off, '\n', sbuf_avail(&c->in))) !=
	    NULL) {
		char *line = (char *)c->in.data + c->in.off;

		len = (size_t)(nl - (unsigned char *)line);
		*nl = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		c->in.off = (size_t)(nl - c->in.data) + 1;
		if (c->on_line(c, line, len) == -1)
			return -1;
	}
	/* move the partial line to the front, wiping what was consumed */
	len = sbuf_avail(&c->in);
	memmove(c->in.data, c->in.data + c->in.off, len);
	explicit_bzero(c->in.data + len, c->in.len - len);
	c->in.len = len;
	c->in.off = 0;
	return 0;
}

static void
lconn_read(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *c = arg;
	unsigned char buf[4096];
	size_t room;
	ssize_t n;
	int r;

	(void)what;
	/* never more than the room left: the limit is on one line */
	room = c->in.max - c->in.len;
	if (room == 0) {
		r = SK_ERR_LIMIT;
		goto toolong;
	}
	n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		lconn_close(c);
		return;
	}
	r = sbuf_put(&c->in, buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	if (r == SK_OK && c->in.len == c->in.max &&
	    memchr(c->in.data, '\n', c->in.len) == NULL)
		r = SK_ERR_LIMIT;	/* a whole buffer and no end of line */
toolong:
	if (r != SK_OK) {
		log_warn("%s: pid %ld: line longer than %zu bytes; disconnected",
		    c->name, (long)c->peer.pid, c->in.max);
		lconn_close(c);
		return;
	}
	if (lconn_lines(c) == -1) {
		lconn_close(c);
		return;
	}
	lconn_update_read(c);
}

static void
lconn_write(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *c = arg;
	struct timeval tv = { (time_t)c->a->conf.io_timeout, 0 };
	ssize_t n;

	if (what & EV_TIMEOUT) {
		log_info("%s: pid %ld: not reading its replies; disconnected",
		    c->name, (long)c->peer.pid);
		c->sent = c->out.len;	/* give up on the output */
		c->closing = 1;
		lconn_drained(c);
		lconn_maybe_free(c);
		return;
	}
	while (c->sent < c->out.len) {
		n = send(fd, c->out.data + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			event_add(c->wev, &tv);
			return;
		}
		if (n <= 0) {
			c->sent = c->out.len;	/* the peer is gone */
			c->closing = 1;
			break;
		}
		c->sent += (size_t)n;
	}
	sbuf_reset(&c->out);
	c->sent = 0;
	lconn_drained(c);
	lconn_maybe_free(c);
}

size_t
lconn_pending(const struct lconn *c)
{
	return c->out.len - c->sent;
}

void
lconn_on_drain(struct lconn *c, void (*fn)(void *), void *arg)
{
	c->on_drain = fn;
	c->drain_arg = arg;
}

int
lconn_send(struct lconn *c, const struct sbuf *line)
{
	int r;

	if ((r = sbuf_put(&c->out, line->data, line->len)) != SK_OK)
		return r;
	if (!event_pending(c->wev, EV_WRITE, NULL))
		event_active(c->wev, EV_WRITE, 0);
	return SK_OK;
}

void
lconn_hold(struct lconn *c)
{
	c->inflight++;
	lconn_update_read(c);
}

void
lconn_unhold(struct lconn *c)
{
	c->inflight--;
}

void
lconn_release(struct lconn *c)
{
	c->inflight--;
	if (lconn_maybe_free(c))
		return;
	lconn_update_read(c);
	/* lines that waited for a free slot */
	if (!c->closing && sbuf_avail(&c->in) > 0 && lconn_lines(c) == -1) {
		lconn_close(c);
		return;
	}
	lconn_update_read(c);
}

int
lconn_proto_error(struct lconn *c, const char *cmd, const char *why)
{
	char safe[LOG_SAFE_MAX];

	c->a->stats.protocol_errors++;
	log_warn("%s: pid %ld: protocol error: %s%s%s; disconnected", c->name,
	    (long)c->peer.pid, cmd == NULL ? "" :
	    log_sanitize(cmd, strlen(cmd), safe, sizeof(safe)),
	    cmd == NULL ? "" : ": ", why);
	return -1;
}

void
lconn_close(struct lconn *c)
{
	c->closing = 1;
	lconn_stop_reading(c);
	if (!lconn_maybe_free(c) && c->sent < c->out.len &&
	    !event_pending(c->wev, EV_WRITE, NULL))
		event_active(c->wev, EV_WRITE, 0);
}

void
lconn_close_all(struct authd *a)
{
	struct lconn *c, *next;

	for (c = a->lconns; c != NULL; c = next) {
		next = c->next;	/* lconn_close may free c */
		lconn_close(c);
	}
}

struct llistener {
	struct authd *a;
	struct event *ev;
	int fd;
	const char *name;
	gid_t gid;
	size_t max_line;
	unsigned max_inflight;
	lconn_open_fn *on_open;
	lconn_line_fn *on_line;
	lconn_close_fn *on_close;
	size_t ctx_size;
};

static void
llistener_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct llistener *l = arg;
	struct peercred pc;
	struct lconn *c = NULL;
	void *ctx;
	int fd;

	(void)what;
	if ((fd = accept_peer(l->a, lfd, l->name, l->gid, &pc)) == -1)
		return;
	if ((ctx = calloc(1, l->ctx_size)) == NULL ||
	    (c = lconn_new(l->a, l->name, fd, &pc, l->max_line, l->max_inflight,
	    l->on_line, l->on_close, ctx)) == NULL) {
		free(ctx);
		close(fd);
		return;
	}
	if (l->on_open != NULL)
		l->on_open(c);
}

struct llistener *
llistener_new(struct authd *a, int fd, const char *name, gid_t gid,
    size_t max_line, unsigned max_inflight, lconn_open_fn *on_open,
    lconn_line_fn *on_line, lconn_close_fn *on_close, size_t ctx_size)
{
	struct llistener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	*l = (struct llistener){ a, NULL, fd, name, gid, max_line, max_inflight,
	    on_open, on_line, on_close, ctx_size };
	l->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, llistener_accept, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1) {
		llistener_free(l);
		return NULL;
	}
	return l;
}

void
llistener_free(struct llistener *l)
{
	if (l == NULL)
		return;
	if (l->ev != NULL)
		event_free(l->ev);
	close(l->fd);
	free(l);
}
