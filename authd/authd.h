/*
 * authd.h: what authd's modules share: the configuration, the worker pool
 * and the listeners. authd runs as root; it is the only process of ours
 * that opens the sasldb, and it never sends a stored secret to a client.
 */
#ifndef AUTHD_H
#define AUTHD_H

#include <sys/types.h>

#include <event2/event.h>

#include "conf.h"
#include "paths.h"
#include "peercred.h"
#include "sasldb.h"

#define AUTHD_DEFAULT_CONF	SK_CONFDIR "/authd.conf"
#define AUTHD_DEFAULT_KEY	SK_CONFDIR "/authd.key"
#define AUTHD_DEFAULT_PIDFILE	SK_RUNDIR "/authd.pid"
#define AUTHD_WORKERS_MAX	64	/* by default one per core, up to this */
#define AUTHD_DEFAULT_MECHS	\
	"SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN LOGIN"
#ifndef SASL_PLUGIN_DIR
#define SASL_PLUGIN_DIR		"/usr/lib/x86_64-linux-gnu/sasl2"
#endif

struct authd_conf {
	const char *sasldb_path;
	const char *default_realm;
	const char *pidfile;
	const char *mux_socket;		/* NULL: the listener is off */
	mode_t mux_mode;
	gid_t mux_gid;
	const char *auth_socket;	/* NULL: the listener is off */
	mode_t auth_mode;
	gid_t auth_gid;
	const char *mech_list;		/* offered, if libsasl2 has them */
	const char *sasl_plugin_dir;
	const char *host_name;		/* the server name libsasl2 sees */
	const char *admin_socket;	/* NULL: the listener is off */
	mode_t admin_mode;
	gid_t admin_gid;
	const char *master_socket;	/* Dovecot's auth-master; NULL: off */
	mode_t master_mode;
	gid_t master_gid;
	unsigned scram_iterations;
	int upgrade_hashes;		/* imported hashes become verifiers */
	unsigned penalty_base_ms;	/* 0: no penalties */
	unsigned penalty_max_ms;
	unsigned penalty_expire;	/* seconds */
	unsigned workers;
	unsigned io_timeout;		/* seconds */
	unsigned exchange_timeout;	/* seconds for an answer to CONT */
	unsigned max_connections;
	char passdb[4];			/* in order: 's' sasldb, 'p' PAM */
	const char *install_key;	/* the per-install secret */
	const char *pam_service;
	const char *pam_confdir;	/* NULL: PAM's own (/etc/pam.d) */
	unsigned pam_workers;		/* threads a PAM wait may add */
	unsigned cache_ttl;		/* seconds; 0: no cache */
	unsigned cache_size;		/* entries */
	const char *secrets_path;	/* NULL: no secret store */
	const char *secrets_key;	/* its key file */
	int secrets_cipher;		/* enum seal_alg of a new key */
	const char *secrets_socket;	/* the socketmap; NULL: off */
	mode_t secrets_mode;
	int debug;			/* debug logging; follows a reload */
	struct conf *raw;
	char host[256];			/* default realm when unset */
};

/* authd.conf's keys: names, types, bounds and defaults (config.c). */
extern const struct conf_key authd_conf_keys[];
extern const size_t authd_conf_nkeys;

/* Reads and checks the configuration file; err names the problem. */
int authd_conf_load(const char *path, struct authd_conf *c, char *err,
    size_t errlen);
void authd_conf_free(struct authd_conf *c);

#define AUTHD_PASSDB_SASLDB	's'
#define AUTHD_PASSDB_PAM	'p'

#include "pool.h"

#define STATS_MECHS 16

/* Counters for STATS; touched on the loop thread only. */
struct authd_stats {
	struct {
		char name[32];
		unsigned long ok, fail;
	} mech[STATS_MECHS];		/* per mechanism, in order of first use */
	unsigned long auth_ok, auth_fail, auth_error;
	unsigned long admin_ok, admin_fail;
	unsigned long refused_peers, protocol_errors;
	unsigned long penalised;	/* exchanges held back by a penalty */
};

/*
 * The cache of successful plaintext checks (cache.c); any thread. Emptied
 * by every write through authd and by any change of the store file.
 */
struct vcache;
struct vcache *vcache_new(struct sasldb *db, unsigned size, unsigned ttl);
void vcache_free(struct vcache *c);
/* 1 on a hit; *gen is the generation an insert after a miss must carry. */
int vcache_lookup(struct vcache *c, const char *authid, const char *realm,
    const char *pass, size_t passlen, unsigned long *gen);
void vcache_insert(struct vcache *c, const char *authid, const char *realm,
    const char *pass, size_t passlen, unsigned long gen);
void vcache_flush(struct vcache *c);
void vcache_set_ttl(struct vcache *c, unsigned ttl);
void vcache_stats(struct vcache *c, unsigned long *hits,
    unsigned long *misses, unsigned long *flushes);

/*
 * A PAM check (pam.c) on a worker thread: SK_OK, SK_ERR_MISMATCH,
 * SK_ERR_NOTFOUND (PAM_USER_UNKNOWN) or SK_ERR_DB (PAM itself failed).
 */
int pam_check(const char *service, const char *confdir, const char *user,
    const char *pass, size_t passlen, const char *rip);

struct authd {
	struct authd_conf conf;
	unsigned char install_key[32];	/* salts decoys of unknown users */
	struct vcache *cache;
	struct event_base *base;
	struct pool *pool;
	struct sasldb *db;
	struct secrets *secrets;	/* NULL: secrets_path is off */
	unsigned nconns;		/* open client connections */
	int stopping;
	struct authd_stats stats;
	char sasl_mechs[1024];		/* what libsasl2 offers of mech_list */
	struct penalty *penalty;
	struct lconn *lconns;		/* open auth and admin connections */
	struct mux_conn *mconns;	/* open mux connections */
	struct smap_conn *sconns;	/* open socketmap connections */
};

/* Penalties per client IP (penalty.c); loop thread only. */
struct penalty;
struct penalty *penalty_new(unsigned base_ms, unsigned max_ms, unsigned expire);
void penalty_free(struct penalty *p);
/* New limits, from a reloaded configuration. */
void penalty_set(struct penalty *p, unsigned base_ms, unsigned max_ms,
    unsigned expire);
/* The delay before ip's next exchange may start: 0 when none. */
unsigned penalty_delay_ms(struct penalty *p, const char *ip);
void penalty_fail(struct penalty *p, const char *ip);
void penalty_ok(struct penalty *p, const char *ip);

/*
 * Reads the configuration again (SIGHUP, or RELOAD on the admin socket)
 * and applies what can change live; connections stay. A bad file changes
 * nothing and returns an error. Then the store is reopened and the cache
 * emptied on a worker, and done (may be NULL) gets the result on the loop
 * thread. Loop thread.
 */
typedef void reload_done_fn(void *arg, int r);
int authd_reload(reload_done_fn *done, void *arg);
/* The daemon, its -c file (absolute) and -v, for authd_reload. */
void authd_reload_init(struct authd *a, const char *conffile, int verbose);
/* Frees the configurations that reloads replaced (at exit). */
void authd_reload_end(void);

/*
 * authd's checks at start (startup.c): each stops authd with a message
 * that names the key and the fix, but authd_check_conf_file, which a
 * reload uses too and which returns an error.
 */
int authd_check_conf_file(const char *key, const char *path, char *err,
    size_t errlen);
void authd_check_pam(const struct authd_conf *c);
void authd_load_install_key(const char *path, unsigned char *key,
    size_t keylen);
void authd_check_plugin_dir(const char *dir);
void authd_no_core_dumps(void);
/*
 * After opening a store (r, with err from sasldb_open or secrets_open):
 * 1 when it is open, 0 when -t found it held by a running authd; any
 * other failure stops authd with err and its exit status.
 */
int authd_store_opened(int r, const char *err, int test_only);
void authd_make_rundirs(const struct authd_conf *c);
int authd_write_pidfile(const char *path);

/* Counts one attempt of a mechanism (loop thread). */
void stats_mech(struct authd *a, const char *mech, int ok);

/*
 * Accepts a client on a listening socket and checks its credentials: root
 * or a member of group, or anyone with ACCEPT_ANY_PEER (the socketmap,
 * whose grants decide per lookup).
 */
#define ACCEPT_ANY_PEER	((gid_t)-1)
int accept_peer(struct authd *a, int lfd, const char *name, gid_t group,
    struct peercred *pc);

/*
 * The admin and auth listeners (admin_proto.h, auth_proto.h); freed with
 * llistener_free.
 */
struct llistener;
struct llistener *admin_listener_new(struct authd *a, int fd);
struct llistener *auth_listener_new(struct authd *a, int fd);
/*
 * The master listener (master_proto.h): Dovecot's imap and pop3 finish
 * the logins of the auth listener there.
 */
struct llistener *master_listener_new(struct authd *a, int fd);

/*
 * Makes a listening UNIX socket: a stale one is replaced, a live one (of
 * another authd) is an error; then the mode and group are set. Messages
 * name the config key that gave path.
 */
int listen_unix(const char *key, const char *path, mode_t mode, gid_t gid,
    char *err, size_t errlen);

/*
 * A listener of one connection at a time per accept (listen.c), for the
 * mux and socketmap sockets: on_accept gets the listener as its argument.
 */
struct ulistener {
	struct authd *a;
	struct event *ev;
	int fd;
};
struct ulistener *ulistener_new(struct authd *a, int fd,
    event_callback_fn on_accept);
/* Closes the socket (NULL is fine). */
void ulistener_free(struct ulistener *l);

/* The socketmap listener of the secret store (smap.c). */
struct ulistener *smap_listener_new(struct authd *a, int fd);
/* On SIGTERM: idle socketmap clients go; busy ones after their answer. */
void smap_close_idle(struct authd *a);

/* The secret store (secstore.c): opened at start, closed at exit. */
void authd_open_secrets(struct authd *a, int test_only);
void authd_close_secrets(struct authd *a);

/* The saslauthd-compatible mux listener. */
struct ulistener *mux_listener_new(struct authd *a, int fd);
/* On SIGTERM: drops the mux clients still waiting to send a request. */
void mux_close_idle(struct authd *a);

/*
 * Verifies a password against each passdb in turn (the store, through
 * the cache, then PAM if configured). Runs on a worker thread. An unknown
 * user costs the same PBKDF2 work as a wrong password.
 */
int verify_password(struct authd *a, const char *authid, const char *realm,
    const char *pass, size_t passlen, const char *rip);
/*
 * Logs one attempt, in the form the shipped fail2ban filter matches:
 * "auth <ok|fail>: user=U@R mech=M service=S rip=IP via=L". Client
 * strings are sanitised; rip may be NULL.
 */
/*
 * Inline checks on the loop thread (verify.c): between begin and end,
 * nothing waits; a check that would (PBKDF2, PAM, a busy store) returns
 * SK_ERR_BUSY and marks the step deferred, which end reports (1): the
 * caller then runs the step again on a worker. verify_defer(r) marks it
 * for an SK_ERR_BUSY seen elsewhere (the auxprop lookup).
 */
void verify_inline_begin(void);
int verify_inline_end(void);
int verify_defer(int r);
void verify_log(const char *via, const char *authid, const char *realm,
    const char *mech, const char *service, const char *rip, int result);

#endif
