/*
 * authc.c: smtpd's connection to authd's auth socket, through libsecret's
 * non-blocking side on smtpd's event loop. One connection carries the
 * exchanges of every session. When authd goes away, every open exchange
 * ends with a temporary error (454 for its client), and the connection
 * is tried again every second until authd is back. When a connection
 * ends (authd closes one that stays idle for its io_timeout), it is made
 * again at once (at most every AUTHC_FAST_MS): EHLO does not go without
 * AUTH for a second each time.
 */
#include <time.h>

#include <event2/event.h>

#include <saslkit/secret.h>

#include "log.h"
#include "session.h"

#define AUTHC_RETRY_MS	1000
#define AUTHC_FAST_MS	250	/* a reconnect at once, at most this often */

static void authc_connect(struct smtpd *d);

static long long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
authc_drop(struct smtpd *d)
{
	if (d->auth_rev != NULL)
		event_free(d->auth_rev);
	if (d->auth_wev != NULL)
		event_free(d->auth_wev);
	d->auth_rev = d->auth_wev = NULL;
	if (d->auth != NULL)
		sksecret_auth_close(d->auth);
	d->auth = NULL;
}

static void
authc_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	authc_connect(arg);
}

static void
authc_schedule(struct smtpd *d)
{
	struct timeval tv = { AUTHC_RETRY_MS / 1000,
	    (AUTHC_RETRY_MS % 1000) * 1000 };

	if (d->auth_retry == NULL)
		d->auth_retry = evtimer_new(d->base, authc_retry, d);
	if (d->auth_retry != NULL && !d->stopping)
		evtimer_add(d->auth_retry, &tv);
}

/* The socket is ready: libsecret reads, writes and calls back. */
static void
authc_io(evutil_socket_t fd, short what, void *arg)
{
	struct smtpd *d = arg;
	int r;

	(void)fd;
	(void)what;
	if ((r = sksecret_auth_step(d->auth)) != SKSECRET_OK) {
		long long t = now_ms();

		authc_drop(d);
		/* again at once, unless it was just done: a connection that
		   authd closes as soon as it is made does not loop */
		if (t - d->auth_fast >= AUTHC_FAST_MS) {
			log_info("authd: %s; connecting again",
			    sksecret_strerror(r));
			d->auth_fast = t;
			d->auth_down = 0;
			authc_connect(d);
			return;
		}
		log_warn("authd: %s; reconnecting", sksecret_strerror(r));
		d->auth_down = 1;
		authc_schedule(d);
		return;
	}
	authc_kick(d);
}

void
authc_kick(struct smtpd *d)
{
	if (d->auth != NULL && d->auth_wev != NULL &&
	    sksecret_auth_want_write(d->auth))
		event_add(d->auth_wev, NULL);
}

static void
authc_connect(struct smtpd *d)
{
	int r, fd;

	if (d->auth != NULL || d->stopping)
		return;
	if ((r = sksecret_auth_open(d->conf.auth_socket, &d->auth)) !=
	    SKSECRET_OK) {
		if (d->auth_down < 2)
			log_warn("authd at %s: %s; AUTH unavailable until it "
			    "answers", d->conf.auth_socket, sksecret_strerror(r));
		d->auth_down = 2;
		d->auth = NULL;
		authc_schedule(d);
		return;
	}
	fd = sksecret_auth_fd(d->auth);
	d->auth_rev = event_new(d->base, fd, EV_READ | EV_PERSIST, authc_io, d);
	d->auth_wev = event_new(d->base, fd, EV_WRITE, authc_io, d);
	if (d->auth_rev == NULL || d->auth_wev == NULL ||
	    event_add(d->auth_rev, NULL) == -1) {
		authc_drop(d);
		authc_schedule(d);
		return;
	}
	if (d->auth_down)
		log_info("authd at %s: connected again", d->conf.auth_socket);
	d->auth_down = 0;
	authc_kick(d);
}

void
authc_init(struct smtpd *d)
{
	authc_connect(d);
}

void
authc_free(struct smtpd *d)
{
	authc_drop(d);
	if (d->auth_retry != NULL)
		event_free(d->auth_retry);
	d->auth_retry = NULL;
}

struct sksecret_auth *
authc_get(struct smtpd *d)
{
	return d->auth != NULL && sksecret_auth_ready(d->auth) ? d->auth : NULL;
}
