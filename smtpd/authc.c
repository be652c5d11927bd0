/*
 * authc.c: smtpd's connections to authd's auth socket, through libsecret's
 * non-blocking side on smtpd's event loop. A few connections
 * (auth_connections) carry the exchanges of every session, each many at
 * once; a new exchange goes to the next ready one in turn, so a lost
 * connection takes only its own share of exchanges with it. When authd
 * goes away, every open exchange ends with a temporary error (454 for its
 * client), and each connection is tried again every second until authd
 * is back (auth_retry_ms). When a connection ends (authd closes one that
 * stays idle for its io_timeout), it is made again at once (at most every
 * AUTHC_FAST_MS). The mechanisms of authd's last handshake are kept, so
 * that EHLO offers them while authd is away: an authd restart is a
 * temporary failure for the clients (454), never a missing AUTH.
 * Never logs a client's data; never blocks on authd.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include <saslkit/secret.h>

#include "log.h"
#include "mech.h"
#include "monotime.h"
#include "smtpd.h"

#define AUTHC_FAST_MS	250	/* a reconnect at once, at most this often */

static void authc_connect(struct authc *c);

static void
authc_drop(struct authc *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	c->rev = c->wev = NULL;
	c->ready = 0;
	if (c->auth != NULL)
		sksecret_auth_close(c->auth);
	c->auth = NULL;
}

static void
authc_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	authc_connect(arg);
}

static void
authc_schedule(struct authc *c)
{
	unsigned ms = c->d->conf.auth_retry_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (c->retry == NULL)
		c->retry = evtimer_new(c->d->base, authc_retry, c);
	if (c->retry != NULL && !c->d->stopping)
		evtimer_add(c->retry, &tv);
}

static void
authc_kick_one(struct authc *c)
{
	if (c->auth != NULL && c->wev != NULL &&
	    sksecret_auth_want_write(c->auth))
		event_add(c->wev, NULL);
}

/* The last known mechanisms, space-separated, into buf. */
static void
authc_mech_list(const struct smtpd *d, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < d->nmechs && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		    i ? " " : "", d->mechs[i].name);
}

/*
 * The handshake of c is done: its mechanisms become the last known ones,
 * which EHLO offers even while authd is away.
 */
static void
authc_learn(struct authc *c)
{
	struct smtpd *d = c->d;
	const char *p = sksecret_auth_mechs(c->auth), *name;
	char old[AUTHC_MECHS_MAX * (MECH_NAME_MAX + 1)], now[sizeof(old)];
	size_t n;
	int changed;

	authc_mech_list(d, old, sizeof(old));
	d->nmechs = 0;
	while (d->nmechs < AUTHC_MECHS_MAX &&
	    (n = mech_list_next(&p, &name)) > 0) {
		if (n > MECH_NAME_MAX)	/* longer: not a SASL name */
			continue;
		memcpy(d->mechs[d->nmechs].name, name, n);
		d->mechs[d->nmechs].name[n] = '\0';
		d->mechs[d->nmechs].flags = sksecret_auth_mech_flags(c->auth,
		    d->mechs[d->nmechs].name);
		d->nmechs++;
	}
	authc_mech_list(d, now, sizeof(now));
	changed = strcmp(old, now) != 0;
	if (!d->reached)
		log_info("authd reached at %s: mechanisms %s",
		    d->conf.auth_socket, now);
	else if (changed)
		log_info("authd at %s now offers: %s", d->conf.auth_socket, now);
	d->reached = 1;
	c->ready = 1;
}

/* The socket is ready: libsecret reads, writes and calls back. */
static void
authc_io(evutil_socket_t fd, short what, void *arg)
{
	struct authc *c = arg;
	int r;

	(void)fd;
	(void)what;
	if ((r = sksecret_auth_step(c->auth)) != SKSECRET_OK) {
		long long t = sk_clock_ms(CLOCK_MONOTONIC);

		log_debug("authd connection %u: down: %s", c->n,
		    sksecret_strerror(r));
		authc_drop(c);
		/* again at once, unless it was just done: a connection that
		   authd closes as soon as it is made does not loop */
		if (t - c->fast >= AUTHC_FAST_MS) {
			log_info("authd connection %u: %s; connecting again",
			    c->n, sksecret_strerror(r));
			c->fast = t;
			c->down = 0;
			authc_connect(c);
			return;
		}
		log_warn("authd connection %u: %s; reconnecting", c->n,
		    sksecret_strerror(r));
		c->down = 1;
		authc_schedule(c);
		return;
	}
	if (!c->ready && sksecret_auth_ready(c->auth))
		authc_learn(c);
	authc_kick_one(c);
}

void
authc_kick(struct smtpd *d)
{
	unsigned i;

	for (i = 0; i < d->nauth; i++)
		authc_kick_one(&d->auth[i]);
}

static void
authc_connect(struct authc *c)
{
	struct smtpd *d = c->d;
	int r, fd;

	if (c->auth != NULL || d->stopping)
		return;
	if ((r = sksecret_auth_open(d->conf.auth_socket, &c->auth)) !=
	    SKSECRET_OK) {
		if (c->down < 2)
			log_warn("auth_socket %s: authd (connection %u): %s; "
			    "AUTH unavailable until it answers: start authd, or "
			    "set auth_socket to its socket", d->conf.auth_socket,
			    c->n, sksecret_strerror(r));
		if (!d->reached && !d->unreached_said)
			log_warn("authd not reached yet since smtpd started: "
			    "EHLO offers the configured mechanisms, AUTH gets "
			    "454 and MAIL on auth_required listeners 451 until "
			    "it answers");
		d->unreached_said = 1;
		log_debug("authd connection %u: cannot connect to %s: %s; "
		    "trying again in %u ms", c->n, d->conf.auth_socket,
		    sksecret_strerror(r), d->conf.auth_retry_ms);
		c->down = 2;
		c->auth = NULL;
		authc_schedule(c);
		return;
	}
	fd = sksecret_auth_fd(c->auth);
	c->rev = event_new(d->base, fd, EV_READ | EV_PERSIST, authc_io, c);
	c->wev = event_new(d->base, fd, EV_WRITE, authc_io, c);
	if (c->rev == NULL || c->wev == NULL ||
	    event_add(c->rev, NULL) == -1) {
		authc_drop(c);
		authc_schedule(c);
		return;
	}
	if (c->down)
		log_info("authd at %s (connection %u): connected again",
		    d->conf.auth_socket, c->n);
	log_debug("authd connection %u: %s to %s", c->n, c->down ?
	    "reconnected" : c->fast != 0 ? "connected again at once" :
	    "connected", d->conf.auth_socket);
	c->down = 0;
	authc_kick_one(c);
}

void
authc_init(struct smtpd *d)
{
	unsigned i;

	d->nauth = d->conf.auth_connections;
	for (i = 0; i < d->nauth; i++) {
		d->auth[i].d = d;
		d->auth[i].n = i + 1;
		authc_connect(&d->auth[i]);
	}
}

void
authc_free(struct smtpd *d)
{
	unsigned i;

	for (i = 0; i < d->nauth; i++) {
		authc_drop(&d->auth[i]);
		if (d->auth[i].retry != NULL)
			event_free(d->auth[i].retry);
		d->auth[i].retry = NULL;
	}
}

/* Whether a connection to authd is ready for an exchange. */
int
authc_up(const struct smtpd *d)
{
	unsigned i;

	for (i = 0; i < d->nauth; i++)
		if (d->auth[i].auth != NULL &&
		    sksecret_auth_ready(d->auth[i].auth))
			return 1;
	return 0;
}

int
authc_mech_flags(const struct smtpd *d, const char *mech)
{
	size_t i;

	if (!d->reached)	/* nothing known: the configured list stands */
		return strcasecmp(mech, "PLAIN") == 0 ||
		    strcasecmp(mech, "LOGIN") == 0 ?
		    SKSECRET_MECH_PLAINTEXT : 0;
	for (i = 0; i < d->nmechs; i++)
		if (strcasecmp(d->mechs[i].name, mech) == 0)
			return d->mechs[i].flags;
	return -1;
}

/* A ready connection for a new exchange, the next in turn; NULL if none. */
struct sksecret_auth *
authc_get(struct smtpd *d)
{
	unsigned i, k;

	for (i = 0; i < d->nauth; i++) {
		k = (d->auth_next + i) % d->nauth;
		if (d->auth[k].auth != NULL &&
		    sksecret_auth_ready(d->auth[k].auth)) {
			d->auth_next = (k + 1) % d->nauth;
			return d->auth[k].auth;
		}
	}
	return NULL;
}
