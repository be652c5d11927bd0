/*
 * session.c: a client's session from accept to end (session.h): the caps
 * on sessions, the greeting, the bufferevent and its TLS (implicit, or
 * after STARTTLS), replies, timeouts and the close. What the client
 * sends is input.c's to read. Never logs a message body or AUTH data;
 * client strings in logs are sanitised.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#include <openssl/ssl.h>

#include "alloc.h"
#include "log.h"
#include "session.h"

#define SESS_ID_TIME_MASK	0xffff	/* the id's last 4 hex digits */
#define SESS_REPLY_LOG_MAX	1024	/* a reply as the debug log shows it */
#define SESS_CLOSE_TICK_US	10000	/* after STARTTLS, the close waits */
#define SESS_CLOSE_TICKS	200	/* for TLS output: 2 s at most */
#define SESS_CHALLENGE		"334 "	/* AUTH's: logged by its size only */

static void sess_read(struct bufferevent *bev, void *arg);
static void sess_write(struct bufferevent *bev, void *arg);
static void sess_event(struct bufferevent *bev, short what, void *arg);

/* The parsed command, an AUTH line's worth: the loop's one thread handles
   one line at a time, so all sessions share it (an idle one costs less). */
static struct smtp_cmd sess_cmd;

/*
 * Debug: a reply line, sanitised; a 334 challenge only by its length,
 * since an AUTH exchange's data stays out of the log.
 */
static void
reply_debug(struct session *s, const char *fmt, va_list ap)
{
	char line[SESS_REPLY_LOG_MAX], safe[SESS_REPLY_LOG_MAX / 2];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	if (strncmp(line, SESS_CHALLENGE, strlen(SESS_CHALLENGE)) == 0)
		log_debug("%s: > 334 <challenge of %zu base64 bytes>", s->id,
		    strlen(line) - strlen(SESS_CHALLENGE));
	else
		log_debug("%s: > %s", s->id, log_sanitize(line, strlen(line),
		    safe, sizeof(safe)));
}

void
sess_reply(struct session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap, aq;

	va_start(ap, fmt);
	if (log_enabled(LOG_LVL_DEBUG)) {
		va_copy(aq, ap);
		reply_debug(s, fmt, aq);
		va_end(aq);
	}
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

void
sess_free(struct session *s)
{
	tx_reset(s);
	iptable_release(s->d->ips, s->rip);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->d->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->d->nsessions--;
	log_info("%s: disconnect from [%s]", s->id, s->rip);
	if (s->closer != NULL)
		event_free(s->closer);
	smtp_auth_end(s);
	authc_kick(s->d);
	if (s->bev != NULL) {
		/* draining the input may make TLS read on and report the end
		   again: no callback may reach s from here on */
		bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
		input_drop(s);
		bufferevent_free(s->bev);
	}
	freezero(s, sizeof(*s));
}

/* Sets a session's bufferevent up: callbacks, bounds, timeout. */
static void
sess_bev_setup(struct session *s)
{
	struct timeval tv = { (time_t)s->d->conf.timeout_command, 0 };

	bufferevent_setcb(s->bev, sess_read, sess_write, sess_event, s);
	/* reading pauses past one full AUTH line: never an unbounded buffer */
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_AUTH_LINE_MAX + 1);
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* TLS could not start: the session ends without a word. */
static void
sess_tls_failed(struct session *s, SSL *ssl)
{
	/* no callback may reach s once it is freed; at worst, the
	   connection leaks (never a double free) */
	bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	if (ssl == NULL)
		bufferevent_free(s->bev);
	bufferevent_decref(s->bev);
	s->bev = NULL;
	log_error("%s: cannot start TLS", s->id);
	s->state = S_QUIT;
	sess_free(s);
}

/* The 220 to STARTTLS is out: TLS over the same connection, afresh. */
static void
sess_start_tls(struct session *s)
{
	struct bufferevent *tb;
	SSL *ssl;

	/*
	 * A reference of our own on the plain bufferevent: a failed
	 * filter_new (out of memory) may or may not have freed it (libevent
	 * 2.1 does once past its first allocation), and only with our
	 * reference is it still there to be silenced either way.
	 */
	bufferevent_incref(s->bev);
	if ((ssl = SSL_new(s->d->tls)) == NULL ||
	    (tb = bufferevent_openssl_filter_new(s->d->base, s->bev, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		sess_tls_failed(s, ssl);
		return;
	}
	bufferevent_decref(s->bev);	/* the filter holds its own */
	s->bev = tb;
	s->tls = 1;
	log_debug("%s: STARTTLS: TLS handshake begins", s->id);
	/* RFC 3207 §4.2: what the client said before TLS is forgotten */
	tx_reset(s);
	s->greeted = s->esmtp = 0;
	s->helo[0] = '\0';
	smtp_auth_reset(s);
	s->state = S_CMD;
	sess_bev_setup(s);
}

static void
sess_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	input_run(arg);
}

/*
 * After STARTTLS, "written" means handed to TLS, whose records sit in the
 * underlying bufferevent until the socket takes them: the session ends
 * once those are out too (or after SESS_CLOSE_TICKS).
 */
static void
sess_close_tick(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	struct timeval tv = { 0, SESS_CLOSE_TICK_US };

	(void)fd;
	(void)what;
	if (under == NULL || evbuffer_get_length(bufferevent_get_output(under))
	    == 0 || ++s->close_waits > SESS_CLOSE_TICKS) {
		sess_free(s);
		return;
	}
	if (s->closer == NULL &&
	    (s->closer = evtimer_new(s->d->base, sess_close_tick, s)) == NULL) {
		sess_free(s);
		return;
	}
	evtimer_add(s->closer, &tv);
}

static void
sess_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == S_QUIT)
		sess_close_tick(-1, 0, s);
	else if (s->state == S_STARTTLS)
		sess_start_tls(s);
}

/* The handshake is done, or TLS failed: logged. */
static void
sess_event_tls(struct session *s, short what)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	unsigned long err;

	if ((what & BEV_EVENT_CONNECTED) && ssl != NULL)
		tls_log_done(s->id, ssl);
	else if ((what & BEV_EVENT_ERROR) && s->tls &&
	    (err = bufferevent_get_openssl_error(s->bev)) != 0)
		tls_log_error(s->id, s->rip, err);
}

static void
sess_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	sess_event_tls(s, what);
	if (what & BEV_EVENT_CONNECTED)		/* the TLS handshake */
		return;
	if (what & BEV_EVENT_EOF)
		log_debug("%s: the client closed the connection", s->id);
	if ((what & BEV_EVENT_TIMEOUT) && s->state != S_QUIT &&
	    s->state != S_WAIT) {
		log_info("%s: timeout", s->id);
		sess_reply(s, "421 4.4.2 %s Error: timeout exceeded",
		    s->d->conf.host_name);
		s->state = S_QUIT;
		bufferevent_disable(s->bev, EV_READ);
		bufferevent_enable(s->bev, EV_WRITE);
		return;
	}
	if (s->state == S_WAIT) {
		/* the pool holds the session: it ends once the handoff does */
		s->gone = 1;
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
		return;
	}
	sess_free(s);
}

/* The listener of lev, and the client's address and port as text. */
static const struct listener_conf *
sess_peer(struct smtpd *d, struct evconnlistener *lev, struct sockaddr *sa,
    char *ip, size_t iplen, unsigned *port)
{
	const struct listener_conf *l = NULL;
	size_t i;

	for (i = 0; i < d->conf.nlisten; i++)
		if (d->lev[i] == lev)
			l = &d->conf.listen[i];
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip,
		    iplen);
		*port = ntohs(((struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip,
		    iplen);
		*port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
	}
	return l;
}

/* The session's bufferevent on fd, over TLS at once on a tls listener. */
static struct bufferevent *
sess_bev_new(struct smtpd *d, const struct listener_conf *l,
    evutil_socket_t fd)
{
	struct bufferevent *bev = NULL;
	SSL *ssl;

	if (l->tls != LISTEN_TLS) {		/* plain, or STARTTLS later */
		if ((bev = bufferevent_socket_new(d->base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL)
			close(fd);
		return bev;
	}
	/* implicit TLS, RFC 8314; on a failure, libevent 2.1 may have
	   freed ssl and closed fd already (see sess_start_tls): not
	   touched again */
	if ((ssl = SSL_new(d->tls)) == NULL)
		close(fd);
	else
		bev = bufferevent_openssl_socket_new(d->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	return bev;
}

/* Links a new session in, named, and greets the client. */
static void
sess_start(struct smtpd *d, struct session *s, const struct listener_conf *l,
    const char *ip, unsigned port)
{
	d->nsessions++;
	s->d = d;
	if ((s->next = d->sessions) != NULL)
		s->next->prev = s;
	d->sessions = s;
	s->l = l;
	s->tls = l->tls == LISTEN_TLS;
	s->cmd = &sess_cmd;
	snprintf(s->rip, sizeof(s->rip), "%s", ip);
	snprintf(s->id, sizeof(s->id), "%08lX%04X", ++d->next_id,
	    (unsigned)(time(NULL) & SESS_ID_TIME_MASK));
	sess_bev_setup(s);
	log_info("%s: connect from [%s] to %s:%u", s->id, ip, l->addr, l->port);
	log_debug("%s: connect from [%s]:%u to listener %s:%u (%s)", s->id, ip,
	    port, l->addr, l->port, l->tls == LISTEN_TLS ? "implicit TLS" :
	    l->tls == LISTEN_STARTTLS ? "STARTTLS" : "plain");
	sess_reply(s, "220 %s ESMTP saslkit", d->conf.host_name);
}

/* A client connects: the caps, then the greeting. */
static void
sess_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char busy[] = "421 4.7.0 Error: too many connections\r\n";
	struct smtpd *d = arg;
	const struct listener_conf *l;
	struct session *s;
	char ip[IPTABLE_ADDR_MAX] = "?";
	unsigned port = 0;

	(void)salen;
	l = sess_peer(d, lev, sa, ip, sizeof(ip), &port);
	if (d->stopping || l == NULL || d->nsessions >= d->conf.max_connections ||
	    iptable_acquire(d->ips, ip, d->conf.max_connections_per_ip) == -1) {
		(void)!write(fd, busy, sizeof(busy) - 1);
		log_info("connection from [%s] refused: too many", ip);
		close(fd);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		iptable_release(d->ips, ip);
		close(fd);
		return;
	}
	if ((s->bev = sess_bev_new(d, l, fd)) == NULL) {
		iptable_release(d->ips, ip);
		free(s);
		return;
	}
	sess_start(d, s, l, ip, port);
}

int
sess_listen(struct smtpd *d)
{
	size_t i;

	if (d->ips == NULL &&
	    (d->ips = iptable_new(d->conf.max_connections)) == NULL)
		return -1;
	for (i = 0; i < d->conf.nlisten; i++)
		if ((d->lev[i] = evconnlistener_new(d->base, sess_accept, d,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
		    d->lfd[i])) == NULL)
			return -1;
	return 0;
}

void
sess_stop_listening(struct smtpd *d)
{
	struct session *s, *next;
	size_t i;

	d->stopping = 1;
	/* sessions between commands go now; a message in progress ends first */
	for (s = d->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->state == S_CMD) {
			input_run(s);
			bufferevent_enable(s->bev, EV_WRITE);
		}
	}
	for (i = 0; i < d->conf.nlisten; i++)
		if (d->lev[i] != NULL) {
			evconnlistener_free(d->lev[i]);
			d->lev[i] = NULL;
		}
}
