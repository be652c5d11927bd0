/*
 * main.c: authd, the privileged daemon that answers SASL checks for every
 * mail program on the host. It reads its configuration, refuses unsafe
 * files, opens the store (it is then the only writer), binds its sockets,
 * and serves them on libevent with a pool of worker threads.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>


#include "authd.h"
#include "authsasl.h"
#include "daemonize.h"
#include "err.h"
#include "lconn.h"
#include "log.h"
#include "pidfile.h"
#include "safefile.h"
#include "secrets.h"
#include "version.h"


static struct authd authd;
static struct ulistener *mux;
static int mux_fd = -1;
static struct llistener *admin;
static int admin_fd = -1;
static struct llistener *authl;
static struct ulistener *smapl;
static int smap_fd = -1;
static int auth_fd = -1;
static struct llistener *masterl;
static int master_fd = -1;
static struct event *drain;	/* polls for the end of in-flight work */
static const char *conffile = AUTHD_DEFAULT_CONF;
static char conffile_abs[PATH_MAX];
static int verbose;		/* -v: debug logging, whatever the key */

static void
usage(void)
{
	fprintf(stderr, "usage: authd [-dtVv] [-c config]\n");
	exit(64);
}

/* An exit before the end of main (an error at start) closes the store. */
static void
close_store_at_exit(void)
{
	sasldb_close(authd.db);
	authd.db = NULL;
	authd_close_secrets(&authd);
}

/*
 * Opens the store; with test_only (-t) a store that a running authd holds
 * is fine: its check is that authd's.
 */
static void
open_store(struct authd *a, int test_only)
{
	struct sasldb_open_opts o;
	char err[1024], holder[128] = "";
	int r;

	memset(&o, 0, sizeof(o));
	o.path = a->conf.sasldb_path;
	o.key = "sasldb_path";
	o.holder = SASLDB_HOLDER_AUTHD;
	o.create = 1;
	o.threaded = 1;
	o.cache_bytes = 32u << 20;
	r = sasldb_open(&o, &a->db, err, sizeof(err), holder, sizeof(holder));
	if (authd_store_opened(r, err, test_only))
		atexit(close_store_at_exit);
}

/* Waits for the connections in flight, then leaves the loop. */
static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (authd.nconns == 0)
		event_base_loopexit(authd.base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { 0, 100000 };

	(void)what;
	(void)arg;
	if (sig == SIGHUP) {
		(void)authd_reload(NULL, NULL);
		return;
	}
	if (authd.stopping)
		return;
	log_info("%s: finishing %u connections, then exiting",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT", authd.nconns);
	authd.stopping = 1;
	ulistener_free(mux);	/* no new clients */
	mux = NULL;
	ulistener_free(smapl);
	smapl = NULL;
	llistener_free(admin);
	admin = NULL;
	llistener_free(authl);
	authl = NULL;
	llistener_free(masterl);
	masterl = NULL;
	/* idle clients go now; those with a request go once it is answered */
	lconn_close_all(&authd);
	mux_close_idle(&authd);
	smap_close_idle(&authd);
	drain = event_new(authd.base, -1, EV_PERSIST, drain_tick, NULL);
	if (drain == NULL || event_add(drain, &tv) == -1)
		event_base_loopexit(authd.base, NULL);
}

/* The configuration and every file it names; -t stops after this. */
static void
check_all(int test_only)
{
	char err[1024];
	int r;

	authd_reload_init(&authd, conffile, verbose);
	authd_no_core_dumps();
	if ((r = authd_check_conf_file("-c", conffile, err, sizeof(err))) != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if (authd_conf_load(conffile, &authd.conf, err, sizeof(err)) != SK_OK)
		fatal_status(EX_CONFIG, "%s", err);
	authd_make_rundirs(&authd.conf);
	log_debug_start(verbose, authd.conf.debug);
	open_store(&authd, test_only);
	authd_check_pam(&authd.conf);
	/* before daemon(): its errors reach the admin with their exit status */
	authd_load_install_key(authd.conf.install_key, authd.install_key,
	    sizeof(authd.install_key));
	authd_check_plugin_dir(authd.conf.sasl_plugin_dir);
	/* last: a start stopped by another check makes no key file */
	authd_open_secrets(&authd, test_only);
}

/* Binds one socket of the configuration, if it names one. */
static int
bind_socket(const char *key, const char *path, mode_t mode, gid_t gid)
{
	char err[1024];
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = listen_unix(key, path, mode, gid, err, sizeof(err))) == -1)
		fatal("%s", err);
	return fd;
}

/* libsasl2, the event loop, the workers and the penalties. */
static void
start_engine(void)
{
	char err[1024];

	if ((authd.penalty = penalty_new(authd.conf.penalty_base_ms,
	    authd.conf.penalty_max_ms, authd.conf.penalty_expire)) == NULL)
		fatal("out of memory");
	if (authsasl_init(&authd, err, sizeof(err)) != SK_OK)
		fatal("cannot start libsasl2: %s", err);
	if (authsasl_mechs(authd.sasl_mechs, sizeof(authd.sasl_mechs)) != SK_OK)
		fatal_status(EX_CONFIG, "sasl_plugin_dir %s: libsasl2 finds "
		    "no mechanism there; install its plugins (libsasl2-modules) "
		    "or set sasl_plugin_dir", authd.conf.sasl_plugin_dir);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1 ||
	    (authd.base = event_base_new()) == NULL ||
	    (authd.pool = pool_new(authd.base, authd.conf.workers,
	    strchr(authd.conf.passdb, AUTHD_PASSDB_PAM) != NULL ?
	    authd.conf.pam_workers : 0)) == NULL)
		fatal("cannot start the event loop or the workers");
}

/* The listeners on the bound sockets, and the ready line. */
static void
start_listeners(void)
{
	if (mux_fd != -1 && (mux = mux_listener_new(&authd, mux_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.mux_socket);
	if (admin_fd != -1 &&
	    (admin = admin_listener_new(&authd, admin_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.admin_socket);
	if (auth_fd != -1 && (authl = auth_listener_new(&authd, auth_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.auth_socket);
	if (smap_fd != -1 && (smapl = smap_listener_new(&authd, smap_fd)) ==
	    NULL)
		fatal("cannot listen on %s", authd.conf.secrets_socket);
	if (master_fd != -1 &&
	    (masterl = master_listener_new(&authd, master_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.master_socket);
	if (master_fd != -1)
		log_info("master socket %s: Dovecot's imap and pop3 finish "
		    "logins there", authd.conf.master_socket);
	log_info("mechanisms: %s", authd.sasl_mechs);
	if (smap_fd != -1)
		log_info("secret store %s, socketmap %s",
		    authd.conf.secrets_path, authd.conf.secrets_socket);
	log_info("authd %s ready: store %s, %u workers%s%s%s%s%s%s",
	    SASLKIT_VERSION, authd.conf.sasldb_path, authd.conf.workers,
	    auth_fd != -1 ? ", auth " : "", auth_fd != -1 ?
	    authd.conf.auth_socket : "", mux_fd != -1 ? ", mux " : "",
	    mux_fd != -1 ? authd.conf.mux_socket : "", admin_fd != -1 ?
	    ", admin " : "", admin_fd != -1 ? authd.conf.admin_socket : "");
}

/* After the loop: the sockets and the pidfile go, everything is freed. */
static void
stop_all(int pidfd, struct event **sigs, size_t nsigs)
{
	size_t i;

	pool_free(authd.pool);
	ulistener_free(mux);
	llistener_free(admin);
	llistener_free(authl);
	llistener_free(masterl);
	ulistener_free(smapl);
	if (smap_fd != -1)
		unlink(authd.conf.secrets_socket);
	if (authd.conf.auth_socket != NULL)
		unlink(authd.conf.auth_socket);
	if (authd.conf.mux_socket != NULL)
		unlink(authd.conf.mux_socket);
	if (authd.conf.admin_socket != NULL)
		unlink(authd.conf.admin_socket);
	if (authd.conf.master_socket != NULL)
		unlink(authd.conf.master_socket);
	close_store_at_exit();
	pidfile_close(authd.conf.pidfile, pidfd);
	for (i = 0; i < nsigs; i++)
		event_free(sigs[i]);
	if (drain != NULL)
		event_free(drain);
	event_base_free(authd.base);
	authsasl_done();
	penalty_free(authd.penalty);
	vcache_free(authd.cache);
	authd_conf_free(&authd.conf);
	authd_reload_end();
	log_info("stopped");
}

int
main(int argc, char *argv[])
{
	static const int signums[] = { SIGTERM, SIGINT, SIGHUP };
	struct event *sigs[sizeof(signums) / sizeof(signums[0])];
	int c, foreground = 0, test_only = 0, pidfd, readyfd = -1;
	size_t i;

	while ((c = getopt(argc, argv, "c:dtVv")) != -1) {
		switch (c) {
		case 'c': conffile = optarg; break;
		case 'd': foreground = 1; break;
		case 't': test_only = foreground = 1; break;
		case 'V': printf("authd (saslkit) %s\n", SASLKIT_VERSION); return 0;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	/* SIGHUP reads it again from /, where the daemon runs */
	if (realpath(conffile, conffile_abs) != NULL)
		conffile = conffile_abs;
	log_init("authd", LOG_AUTH, foreground);
	check_all(test_only);
	/*
	 * -t: the configuration and every file it names are fine, and what a
	 * first start makes (the install key, the store and its environment,
	 * the run directories) is made; systemd runs it before the sandbox
	 */
	if (test_only) {
		explicit_bzero(authd.install_key, sizeof(authd.install_key));
		log_info("%s: configuration ok", conffile);
		return 0;
	}
	if ((authd.cache = vcache_new(authd.db,
	    authd.conf.cache_size, authd.conf.cache_ttl)) == NULL)
		fatal("out of memory for the cache");
	mux_fd = bind_socket("mux_socket", authd.conf.mux_socket,
	    authd.conf.mux_mode, authd.conf.mux_gid);
	auth_fd = bind_socket("auth_socket", authd.conf.auth_socket,
	    authd.conf.auth_mode, authd.conf.auth_gid);
	admin_fd = bind_socket("admin_socket", authd.conf.admin_socket,
	    authd.conf.admin_mode, authd.conf.admin_gid);
	master_fd = bind_socket("master_socket", authd.conf.master_socket,
	    authd.conf.master_mode, authd.conf.master_gid);
	if (authd.secrets != NULL)
		smap_fd = bind_socket("secrets_socket",
		    authd.conf.secrets_socket, authd.conf.secrets_mode, 0);
	if (!foreground && daemonize(&readyfd) == -1)
		fatal("cannot become a daemon: %s", strerror(errno));
	/* the store's lock record named the parent, which is gone now */
	if (!foreground && authd.db != NULL &&
	    sasldb_lock_owner_update(authd.db, SASLDB_HOLDER_AUTHD) != SK_OK)
		fatal("sasldb_path %s: cannot record the lock's owner: %s",
		    authd.conf.sasldb_path, strerror(errno));
	if (!foreground && authd.secrets != NULL &&
	    secrets_lock_owner_update(authd.secrets, SASLDB_HOLDER_AUTHD) !=
	    SK_OK)
		fatal("secrets_path %s: cannot record the lock's owner: %s",
		    authd.conf.secrets_path, strerror(errno));
	pidfd = authd_write_pidfile(authd.conf.pidfile);
	start_engine();
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		sigs[i] = evsignal_new(authd.base, signums[i], on_signal, NULL);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatal("cannot watch signals");
	}
	start_listeners();
	daemonize_ready(readyfd);	/* the parent exits 0 now */
	event_base_dispatch(authd.base);
	stop_all(pidfd, sigs, sizeof(signums) / sizeof(signums[0]));
	return 0;
}
