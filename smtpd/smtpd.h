/*
 * smtpd.h: what smtpd's modules share: the configuration (config.c) and
 * its listeners, and the server (struct smtpd). smtpd holds no stored
 * secret: every AUTH goes to authd, and the TLS key is the one secret it
 * loads.
 */
#ifndef SMTPD_H
#define SMTPD_H

#include <stddef.h>
#include <sys/socket.h>

#include "authc.h"
#include "conf.h"
#include "mech.h"
#include "paths.h"
#include "senders.h"

struct event_base;
struct evconnlistener;
struct iptable;
struct pool;
struct session;
struct ssl_ctx_st;

#define SMTPD_DEFAULT_CONF	SK_CONFDIR "/smtpd.conf"
#define SMTPD_DEFAULT_USER	"saslkit-smtpd"
#define SMTPD_DEFAULT_PIDFILE	SK_RUNDIR "/smtpd.pid"
#define SMTPD_DEFAULT_SPOOL	"/var/spool/saslkit-smtpd"
#define SMTPD_DEFAULT_LISTEN	"127.0.0.1:587 starttls auth_required"
#define SMTPD_DEFAULT_MECHS	"SCRAM-SHA-256-PLUS SCRAM-SHA-256 " \
	"SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN LOGIN CRAM-MD5"
#define SMTPD_LISTENERS_MAX	16
#define SMTPD_AUTH_CONNS_MAX	16	/* auth_connections at most */
#define SMTPD_HANDOFFS_MAX	32	/* handoffs waiting on a disk or command at once */
#define SMTPD_DOMAINS_MAX	256
#define SMTPD_DOMAIN_LEN_MAX	255	/* bytes of a domain name, RFC 1035 */

enum listen_tls {
	LISTEN_PLAIN,		/* no TLS at all */
	LISTEN_STARTTLS,	/* RFC 3207 */
	LISTEN_TLS,		/* implicit TLS, RFC 8314 (port 465) */
};

/* One listener and its policy, as sendmail's DAEMON_OPTIONS. */
struct listener_conf {
	char addr[80];		/* numeric IPv4 or IPv6 */
	unsigned port;
	enum listen_tls tls;
	int auth_required;	/* M=a: MAIL needs AUTH */
	int plaintext_auth;	/* PLAIN/LOGIN before TLS (AuthOptions p off) */
	char mechs[512];	/* offered here, "" for the global list;
				   normalised: upper case, one space apart */
	struct sockaddr_storage ss;
	socklen_t sslen;
};

struct smtpd_conf {
	struct listener_conf listen[SMTPD_LISTENERS_MAX];
	size_t nlisten;
	const char *host_name;
	const char *user;
	const char *tls_cert, *tls_key;
	const char *auth_socket;
	const char *pidfile;		/* NULL: none */
	char auth_mechs[512];		/* AuthMechanisms, normalised */
	char trusted_mechs[512];	/* TrustAuthMech: may relay */
	int trusted_set;		/* 0: what the listener offers */
	char *local_domains[SMTPD_DOMAINS_MAX];
	size_t nlocal;
	char *relay_domains[SMTPD_DOMAINS_MAX];
	size_t nrelay;
	const char *sender_login_map;	/* file: "address user[,user...]" */
	const char *maildir;		/* one of these two handoffs */
	const char *sendmail_command;
	const char *spool_dir;		/* for the command's spool files */
	unsigned max_message_size;	/* SIZE, octets */
	unsigned max_recipients;
	unsigned max_auth_failures;	/* then the session is closed */
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned auth_connections;	/* to authd, shared by all sessions */
	unsigned auth_retry_ms;		/* between tries while authd is away */
	unsigned max_line;		/* command line octets, CRLF included */
	unsigned timeout_command;	/* RFC 5321 §4.5.3.2, seconds */
	unsigned timeout_data_init;
	unsigned timeout_data_block;
	unsigned timeout_data_term;
	unsigned handoff_timeout;
	int reject_bare_lf;
	int received_auth_user;		/* the user in Received: */
	int broken_auth_line;		/* also "AUTH=" for old clients */
	int debug;			/* debug logging (or -v) */
	struct conf *raw;
	char host[256];
};

/* smtpd.conf's keys: names, types, bounds and defaults (config.c). */
extern const struct conf_key smtpd_conf_keys[];
extern const size_t smtpd_conf_nkeys;

/* Reads and checks the configuration file; err names the problem. */
int smtpd_conf_load(const char *path, struct smtpd_conf *c, char *err,
    size_t errlen);
void smtpd_conf_free(struct smtpd_conf *c);
/*
 * The parsers of the lists (conflists.c), for the key table: the
 * listeners, a mechanism list into the entry's char array (upper case,
 * one space apart), trusted_mechs (and trusted_set), a domain list.
 */
conf_parse_fn smtpd_conf_listen, smtpd_conf_mechs, smtpd_conf_trusted_mechs,
    smtpd_conf_local_domains, smtpd_conf_relay_domains;
/* Whether domain is in the list, ignoring case. */
int smtpd_domain_in(char *const *list, size_t n, const char *domain);

/*
 * The server, one per process (main.c's). The live part of conf is
 * reload.c's to replace, on the loop's thread; the rest lives until exit.
 */
struct smtpd {
	struct smtpd_conf conf;
	struct event_base *base;
	struct pool *pool;
	struct ssl_ctx_st *tls;		/* SSL_CTX (tls.c); NULL when no
					   listener uses TLS */
	struct sender_map senders;	/* sender_login_map, read at start
					   and again by each reload */
	struct authc auth[SMTPD_AUTH_CONNS_MAX];	/* shared by all sessions */
	unsigned nauth, auth_next;	/* in use; the next for an exchange */
	struct {			/* authd's last handshake, kept while */
		char name[MECH_NAME_MAX + 1];	/* authd is away */
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
};

#endif
