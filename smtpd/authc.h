/*
 * authc.h: smtpd's connections to authd's auth socket (authc.c), shared
 * by every session. Made at start and again whenever one is lost.
 * authc_get is NULL while authd cannot be asked (authc_up 0); authc_kick
 * after starting or continuing an exchange, so that it is sent.
 * authc_mech_flags answers from authd's last handshake, also while authd
 * is away: a mechanism's SKSECRET_MECH_* flags, -1 when authd did not
 * offer it; before authd was ever reached, every mechanism counts as
 * offered, PLAIN and LOGIN as plaintext.
 */
#ifndef SMTPD_AUTHC_H
#define SMTPD_AUTHC_H

#define AUTHC_MECHS_MAX	32	/* kept from authd's last handshake */

struct event;
struct sksecret_auth;
struct smtpd;

/* One connection to authd. */
struct authc {
	struct smtpd *d;
	unsigned n;			/* 1, 2, ...: for the log */
	struct sksecret_auth *auth;
	struct event *rev, *wev, *retry;
	int down;			/* 1: lost it, 2: cannot connect */
	int ready;			/* its mechanisms were learnt */
	long long fast;			/* ms, monotonic: the last reconnect
					   made at once */
};

void authc_init(struct smtpd *d);
void authc_free(struct smtpd *d);
struct sksecret_auth *authc_get(struct smtpd *d);
int authc_up(const struct smtpd *d);
int authc_mech_flags(const struct smtpd *d, const char *mech);
void authc_kick(struct smtpd *d);

#endif
