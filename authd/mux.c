/*
 * mux.c: the saslauthd-compatible listener (mux_proto.h). One request and
 * one reply per connection, as Cyrus's saslauthd does. Requests are read
 * with read(2) straight into a wiping buffer, so the password never sits
 * in a libevent buffer; the check runs on a worker thread.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "mux_proto.h"

struct mux_conn {
	struct mux_conn *next, *prev;	/* authd's open mux connections */
	int reading;			/* still waiting for the request */
	struct authd *a;
	int fd;
	pid_t pid;			/* the peer, for the log */
	struct event *ev;
	struct sbuf in;			/* wiping: holds the password */
	struct sbuf out;
	size_t sent;
	struct mux_request req;
	char authid[SASLDB_AUTHID_MAX + 1];
	char realm[SASLDB_REALM_MAX + 1];
	int result;
};

static void mux_conn_read(evutil_socket_t fd, short what, void *arg);

static void
mux_conn_free(struct mux_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->a->mconns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->fd);
	sbuf_free(&c->in);
	sbuf_free(&c->out);
	mux_request_clear(&c->req);
	sbuf_free(&c->req.password);
	c->a->nconns--;
	free(c);
}

/* Writes what is left of the reply; the connection ends with it. */
static void
mux_conn_write(evutil_socket_t fd, short what, void *arg)
{
	struct mux_conn *c = arg;
	struct timeval tv = { (time_t)c->a->conf.io_timeout, 0 };
	ssize_t n;

	if (what & EV_TIMEOUT) {
		mux_conn_free(c);
		return;
	}
	while (c->sent < c->out.len) {
		n = send(fd, c->out.data + c->sent, c->out.len - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			event_del(c->ev);
			event_assign(c->ev, c->a->base, fd, EV_WRITE,
			    mux_conn_write, c);
			event_add(c->ev, &tv);
			return;
		}
		if (n <= 0)
			break;
		c->sent += (size_t)n;
	}
	mux_conn_free(c);
}

/* Worker thread: the check itself. */
static void
mux_conn_work(void *arg)
{
	struct mux_conn *c = arg;

	c->result = verify_password(c->a, c->authid, c->realm,
	    (const char *)c->req.password.data, c->req.password.len, NULL);
	if (c->result != SK_ERR_BUSY)	/* deferred: a worker needs it */
		sbuf_reset(&c->req.password);
}

/* Loop thread: log the attempt, answer, close. */
static void
mux_conn_done(void *arg)
{
	struct mux_conn *c = arg;
	int ok = c->result == SK_OK;

	verify_log("mux", c->authid, c->realm, "PLAIN", c->req.service, NULL,
	    c->result);
	if (ok)
		c->a->stats.auth_ok++;
	else if (c->result == SK_ERR_MISMATCH || c->result == SK_ERR_NOTFOUND ||
	    c->result == SK_ERR_DISABLED)
		c->a->stats.auth_fail++;
	else
		c->a->stats.auth_error++;
	stats_mech(c->a, "PLAIN", ok);
	/* the same answer for an unknown user and a wrong password */
	if (mux_build_reply(&c->out, ok, ok ? NULL : "authentication failed") !=
	    SK_OK) {
		mux_conn_free(c);
		return;
	}
	mux_conn_write(c->fd, EV_WRITE, c);
}

/* Splits the request's user as saslpasswd does; SK_OK or SK_ERR_INVAL. */
static int
mux_conn_user(struct mux_conn *c)
{
	if (c->req.realm[0] == '\0')
		return sasldb_split_user(c->req.login, c->a->conf.default_realm,
		    c->authid, sizeof(c->authid), c->realm, sizeof(c->realm));
	if (sasldb_check_user(c->req.login, c->req.realm) != SK_OK)
		return SK_ERR_INVAL;
	strcpy(c->authid, c->req.login);
	strcpy(c->realm, c->req.realm);
	return SK_OK;
}

/*
 * A whole request arrived: checked at once when that is cheap (a stored
 * plaintext, a cache hit), else by a worker (verify.c, inline checks).
 */
static void
mux_conn_request(struct mux_conn *c)
{
	char safe[LOG_SAFE_MAX], sv[LOG_SAFE_MAX], realm[LOG_SAFE_MAX];

	if (log_enabled(LOG_LVL_DEBUG))
		log_debug("mux: pid %ld: request user=%s service=%s realm=%s "
		    "password=<hidden>", (long)c->pid,
		    log_sanitize(c->req.login, strlen(c->req.login), safe,
		    sizeof(safe)),
		    log_sanitize(c->req.service, strlen(c->req.service), sv,
		    sizeof(sv)), c->req.realm[0] == '\0' ? "-" :
		    log_sanitize(c->req.realm, strlen(c->req.realm), realm,
		    sizeof(realm)));
	if (mux_conn_user(c) != SK_OK) {
		/* a name no user can have: it fails like any other, after the work */
		log_info("mux: pid %ld: invalid user name \"%s\"", (long)c->pid,
		    log_sanitize(c->req.login, strlen(c->req.login), safe,
		    sizeof(safe)));
		strcpy(c->authid, "-");
		strcpy(c->realm, "-");
	}
	verify_inline_begin();
	mux_conn_work(c);
	if (!verify_inline_end()) {
		mux_conn_done(c);
		return;
	}
	log_debug("mux: pid %ld: check deferred to a worker", (long)c->pid);
	if (pool_submit(c->a->pool, mux_conn_work, mux_conn_done, c) != SK_OK)
		mux_conn_free(c);
}

static void
mux_conn_read(evutil_socket_t fd, short what, void *arg)
{
	struct mux_conn *c = arg;
	unsigned char buf[512];
	size_t used;
	ssize_t n;
	int r;

	if (what & EV_TIMEOUT) {
		log_info("mux: pid %ld: timed out", (long)c->pid);
		mux_conn_free(c);
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		mux_conn_free(c);
		return;
	}
	r = sbuf_put(&c->in, buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	if (r == SK_OK)
		r = mux_parse_request(c->in.data, c->in.len, &c->req, &used);
	if (r == SK_ERR_SHORT)
		return;
	if (r != SK_OK) {
		log_warn("mux: pid %ld: malformed request (%s); disconnected",
		    (long)c->pid, sk_strerror(r));
		c->a->stats.protocol_errors++;
		mux_conn_free(c);
		return;
	}
	sbuf_reset(&c->in);
	event_del(c->ev);
	c->reading = 0;
	mux_conn_request(c);
}

/* A new client: check who it is, then wait for its request. */
static void
mux_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct ulistener *m = arg;
	struct timeval tv = { (time_t)m->a->conf.io_timeout, 0 };
	struct peercred pc;
	struct mux_conn *c;
	int fd;

	(void)what;
	if ((fd = accept_peer(m->a, lfd, "mux", m->a->conf.mux_gid, &pc)) == -1)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->a = m->a;
	c->fd = fd;
	c->pid = pc.pid;
	log_debug("mux: pid %ld uid %u: connection opened", (long)pc.pid,
	    (unsigned)pc.uid);
	sbuf_init(&c->in, MUX_REQUEST_MAX);
	sbuf_init(&c->out, MUX_REPLY_MAX);
	mux_request_init(&c->req);
	m->a->nconns++;
	c->reading = 1;
	c->next = m->a->mconns;
	if (c->next != NULL)
		c->next->prev = c;
	m->a->mconns = c;
	c->ev = event_new(m->a->base, fd, EV_READ | EV_PERSIST, mux_conn_read, c);
	if (c->ev == NULL || event_add(c->ev, &tv) == -1)
		mux_conn_free(c);
}

struct ulistener *
mux_listener_new(struct authd *a, int fd)
{
	return ulistener_new(a, fd, mux_accept);
}

void
mux_close_idle(struct authd *a)
{
	struct mux_conn *c, *next;

	for (c = a->mconns; c != NULL; c = next) {
		next = c->next;
		if (c->reading)
			mux_conn_free(c);
	}
}
