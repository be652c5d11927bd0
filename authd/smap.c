/*
 * smap.c: the socketmap listener (secrets_socket) that serves the secret
 * store to MTAs: netstring requests "MAP KEY" (netstring.h), one at a time
 * per connection, as sendmail (one connection per delivery) and Postfix
 * (one kept open) send them. The lookup runs on a worker (smap_lookup.c);
 * its reply, which may hold a password, lives only in a wiping buffer.
 * Anyone may connect: each lookup needs a read grant, checked against the
 * peer's kernel credentials.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "netstring.h"
#include "smap.h"

static void smap_conn_read(evutil_socket_t fd, short what, void *arg);
static void smap_conn_next(struct smap_conn *c);

static void
smap_conn_free(struct smap_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->a->sconns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->fd);
	sbuf_free(&c->in);
	sbuf_free(&c->out);
	explicit_bzero(&c->q, sizeof(c->q));
	c->a->nconns--;
	free(c);
}

/* Waits for fd to be ready for what, with the I/O timeout. */
static int
smap_conn_wait(struct smap_conn *c, short what, event_callback_fn fn)
{
	struct timeval tv = { (time_t)c->a->conf.io_timeout, 0 };

	event_del(c->ev);
	event_assign(c->ev, c->a->base, c->fd, what, fn, c);
	return event_add(c->ev, &tv);
}

/* Writes what is left of the reply, then reads the next request. */
static void
smap_conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct smap_conn *c = arg;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		smap_conn_free(c);
		return;
	}
	while (c->sent < c->out.len) {
		n = send(fd, c->out.data + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (smap_conn_wait(c, EV_WRITE, smap_conn_write) == -1)
				smap_conn_free(c);
			return;
		}
		if (n <= 0) {
			smap_conn_free(c);
			return;
		}
		c->sent += (size_t)n;
	}
	sbuf_reset(&c->out);
	c->sent = 0;
	smap_conn_next(c);
}

static void
smap_conn_work(void *arg)
{
	struct smap_conn *c = arg;

	smap_lookup(c->a, c, 0);
}

/* Loop thread: log the lookup, answer. */
static void
smap_conn_done(void *arg)
{
	struct smap_conn *c = arg;

	smap_log(c);
	c->busy = 0;
	if (c->a->stopping)
		c->closing = 1;	/* the answer goes out, then the connection */
	smap_conn_write(c->fd, EV_WRITE, c);
}

/* A protocol error: logged, counted, the connection closed. */
static void
smap_conn_broken(struct smap_conn *c, int r)
{
	log_warn("secrets: pid %ld uid %u: malformed socketmap request (%s); "
	    "disconnected", (long)c->pc.pid, (unsigned)c->pc.uid,
	    sk_strerror(r));
	c->a->stats.protocol_errors++;
	smap_conn_free(c);
}

/* Takes the next whole request from the input, if there is one. */
static void
smap_conn_next(struct smap_conn *c)
{
	const unsigned char *payload, *key;
	size_t plen, used, klen;
	int r;

	if (c->closing) {
		smap_conn_free(c);
		return;
	}
	r = netstring_decode(c->in.data, c->in.len, SOCKETMAP_REQUEST_MAX,
	    &payload, &plen, &used);
	if (r == SK_ERR_SHORT) {
		if (smap_conn_wait(c, EV_READ | EV_PERSIST, smap_conn_read) == -1)
			smap_conn_free(c);
		return;
	}
	if (r == SK_OK)
		r = socketmap_request_split(payload, plen, c->q.map, &key, &klen);
	if (r == SK_OK && (klen >= sizeof(c->q.key) ||
	    memchr(key, '\0', klen) != NULL))
		r = SK_ERR_FORMAT;
	if (r != SK_OK) {
		smap_conn_broken(c, r);
		return;
	}
	memcpy(c->q.key, key, klen);
	c->q.key[klen] = '\0';
	memmove(c->in.data, c->in.data + used, c->in.len - used);
	c->in.len -= used;
	event_del(c->ev);
	/* at once when the store need not be waited for; else a worker */
	if (smap_lookup(c->a, c, 1)) {
		smap_conn_done(c);
		return;
	}
	c->busy = 1;
	if (pool_submit(c->a->pool, smap_conn_work, smap_conn_done, c) != SK_OK)
		smap_conn_free(c);
}

static void
smap_conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct smap_conn *c = arg;
	unsigned char buf[1024];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		log_debug("secrets: pid %ld: idle, closed", (long)c->pc.pid);
		smap_conn_free(c);
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (c->in.len > 0)
			log_info("secrets: pid %ld: closed inside a request",
			    (long)c->pc.pid);
		smap_conn_free(c);
		return;
	}
	if (sbuf_put(&c->in, buf, (size_t)n) != SK_OK) {
		smap_conn_broken(c, SK_ERR_LIMIT);
		return;
	}
	smap_conn_next(c);
}

/* A new client: anyone may ask; its grants decide what it gets. */
static void
smap_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ulistener *m = arg;
	struct smap_conn *c;
	struct peercred pc;
	int fd;

	(void)what;
	if ((fd = accept_peer(m->a, lfd, "secrets", ACCEPT_ANY_PEER, &pc)) == -1)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->a = m->a;
	c->fd = fd;
	c->pc = pc;
	log_debug("secrets: pid %ld uid %u: connection opened", (long)pc.pid,
	    (unsigned)pc.uid);
	/* a request and the start of the next one */
	sbuf_init(&c->in, 2 * (SOCKETMAP_REQUEST_MAX + NETSTRING_OVERHEAD));
	sbuf_init(&c->out, SOCKETMAP_REPLY_MAX + NETSTRING_OVERHEAD);
	m->a->nconns++;
	c->next = m->a->sconns;
	if (c->next != NULL)
		c->next->prev = c;
	m->a->sconns = c;
	if ((c->ev = event_new(m->a->base, fd, EV_READ | EV_PERSIST,
	    smap_conn_read, c)) == NULL ||
	    smap_conn_wait(c, EV_READ | EV_PERSIST, smap_conn_read) == -1)
		smap_conn_free(c);
}

struct ulistener *
smap_listener_new(struct authd *a, int fd)
{
	return ulistener_new(a, fd, smap_accept);
}

void
smap_close_idle(struct authd *a)
{
	struct smap_conn *c, *next;

	for (c = a->sconns; c != NULL; c = next) {
		next = c->next;
		if (!c->busy)
			smap_conn_free(c);
		else
			c->closing = 1;
	}
}
