/*
 * session.h: smtpd's server state and its SMTP sessions (session.c),
 * on libevent: one event loop, a worker pool for the handoff's waits.
 */
#ifndef SMTPD_SESSION_H
#define SMTPD_SESSION_H

#include <event2/event.h>
#include <event2/listener.h>

#include <openssl/ssl.h>

#include "iptable.h"
#include "pool.h"
#include "senders.h"
#include "smtp_cmd.h"
#include "smtpd.h"

#define AUTHC_MECHS_MAX	32

/* One connection to authd (authc.c). */
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

struct smtpd {
	struct smtpd_conf conf;
	struct event_base *base;
	struct pool *pool;
	SSL_CTX *tls;			/* NULL when no listener uses TLS */
	struct sender_map senders;	/* sender_login_map, read at start */
	struct authc auth[SMTPD_AUTH_CONNS_MAX];	/* shared by all sessions */
	unsigned nauth, auth_next;	/* in use; the next for an exchange */
	struct {			/* authd's last handshake, kept while */
		char name[SMTP_MECH_MAX + 1];	/* authd is away */
		int flags;
	} mechs[AUTHC_MECHS_MAX];
	size_t nmechs;
	int reached;			/* authd answered once since start */
	int unreached_said;		/* "not reached yet" was logged */
	struct evconnlistener *lev[SMTPD_LISTENERS_MAX];
	int lfd[SMTPD_LISTENERS_MAX];	/* bound before the drop of root */
	unsigned nsessions;
	struct session *sessions;
	unsigned long next_id;
	int stopping;
	struct iptable *ips;		/* sessions per client address */
	unsigned long gen;		/* configurations loaded: reload.c */
};

/*
 * The connection to authd (authc.c): made at start and again whenever it
 * is lost. authc_get is NULL while authd cannot be asked (authc_up 0);
 * authc_kick after starting or continuing an exchange, so that it is
 * sent. authc_mech_flags answers from authd's last handshake, also while
 * authd is away: a mechanism's SKSECRET_MECH_* flags, -1 when authd did
 * not offer it; before authd was ever reached, every mechanism counts as
 * offered, PLAIN and LOGIN as plaintext.
 */
struct sksecret_auth;
void authc_init(struct smtpd *d);
void authc_free(struct smtpd *d);
struct sksecret_auth *authc_get(struct smtpd *d);
int authc_up(const struct smtpd *d);
int authc_mech_flags(const struct smtpd *d, const char *mech);
void authc_kick(struct smtpd *d);

/* Starts accepting on every bound listener. 0 or -1. */
int smtpd_listen(struct smtpd *d);
/* Stops accepting; sessions go on until they end. */
void smtpd_stop_listening(struct smtpd *d);

/*
 * SIGHUP (reload.c): reads the configuration again and applies what can
 * change live; a bad one changes nothing. reload_init after the first
 * load, with who may own tls_key besides root; reload_session_end when
 * a session born under configuration gen ends; reload_free at exit,
 * before smtpd_conf_free.
 */
void reload_init(struct smtpd *d, const char *conffile, uid_t key_owner);
int smtpd_reload(struct smtpd *d);
void reload_session_end(struct smtpd *d, unsigned long gen);
void reload_free(struct smtpd *d);
/* The TLS context of c's certificate and key (owned by root or owner). */
int smtpd_tls_load(const struct smtpd_conf *c, uid_t owner, SSL_CTX **ctx_r,
    char *err, size_t errlen);

#endif
