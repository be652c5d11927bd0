/*
 * main.c: authd, the privileged daemon that answers SASL checks for every
 * mail program on the host. It reads its configuration, refuses unsafe
 * files, opens the store (it is then the only writer), binds its sockets,
 * and serves them on libevent with a pool of worker threads.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

#include <openssl/rand.h>

#include "authd.h"
#include "authsasl.h"
#include "daemonize.h"
#include "err.h"
#include "lconn.h"
#include "log.h"
#include "pidfile.h"
#include "rundir.h"
#include "safefile.h"
#include "version.h"


static struct authd authd;
static struct mux_listener *mux;
static int mux_fd = -1;
static struct llistener *admin;
static int admin_fd = -1;
static struct llistener *authl;
static int auth_fd = -1;
static struct event *drain;	/* polls for the end of in-flight work */
static const char *conffile = AUTHD_DEFAULT_CONF;
static char conffile_abs[PATH_MAX];
static int verbose;		/* -v: debug logging, whatever the key */
/* configurations replaced by SIGHUP: workers may still read their strings */
static struct conf *old_confs[64];
static size_t n_old_confs;

/* Checks a configuration file the way the store's files are checked. */
static int
check_conf_file(const char *key, const char *path, char *err, size_t errlen)
{
	struct safefile_policy pol;

	memset(&pol, 0, sizeof(pol));
	pol.owner = geteuid();
	pol.trusted_gid = (gid_t)-1;
	pol.key = key;
	return safefile_check(path, &pol, err, errlen);
}

/*
 * With pam_confdir, PAM reads its rules from a directory of our choosing:
 * the service file there must be as safe as our own configuration.
 */
static void
check_pam(const struct authd_conf *c)
{
	char path[4096], err[1024];
	int r;

	if (strchr(c->passdb, AUTHD_PASSDB_PAM) == NULL || c->pam_confdir == NULL)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->pam_confdir,
	    c->pam_service) >= sizeof(path))
		fatal_status(EX_CONFIG, "pam_confdir %s: path too long",
		    c->pam_confdir);
	if ((r = check_conf_file("pam_confdir", path, err, sizeof(err))) !=
	    SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
}

/*
 * The per-install secret: the decoy verifiers of unknown users are derived
 * from it, so they stay the same across restarts and a restart does not
 * tell an attacker which users exist. Made on first start (32 random
 * bytes, 0600); afterwards it must be as safe as the store.
 */
static void
load_install_key(const char *path, unsigned char *key, size_t keylen)
{
	struct safefile_policy pol;
	char err[1024];
	ssize_t n;
	int fd, r, e;

	memset(&pol, 0, sizeof(pol));
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.missing_ok = 1;
	pol.key = "install_key";
	if ((r = safefile_check(path, &pol, err, sizeof(err))) != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 &&
	    errno == ENOENT) {
		if (RAND_bytes(key, (int)keylen) != 1)
			fatal("no random bytes for %s", path);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1 ||
		    write(fd, key, keylen) != (ssize_t)keylen || fsync(fd) == -1 ||
		    close(fd) == -1) {
			e = errno;
			explicit_bzero(key, keylen);
			r = safefile_explain("install_key", path, "create", e, NULL,
			    err, sizeof(err));
			fatal_status(safefile_exit_status(r, e), "%s", err);
		}
		log_info("created the install key %s", path);
		return;
	}
	if (fd == -1) {
		e = errno;
		r = safefile_explain("install_key", path, "open", e, NULL, err,
		    sizeof(err));
		fatal_status(safefile_exit_status(r, e), "%s", err);
	}
	n = read(fd, key, keylen);
	close(fd);
	if (n != (ssize_t)keylen)
		fatal_status(EX_CONFIG, "install_key %s: not a %zu-byte key; "
		    "remove it to make a new one (unknown users then get new "
		    "decoys), or set install_key", path, keylen);
}

/* sasl_plugin_dir must be a directory, or libsasl2 finds no mechanism. */
static void
check_plugin_dir(const char *dir)
{
	struct stat st;
	char err[1024];
	int r, e;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return;
		errno = ENOTDIR;
	}
	e = errno;
	r = safefile_explain("sasl_plugin_dir", dir, "read", e, NULL, err,
	    sizeof(err));
	fatal_status(safefile_exit_status(r, e), "%s", err);
}

/* Keys whose change only a restart can apply. */
static const char *const restart_keys[] = {
	"sasldb_path", "pidfile", "auth_socket", "auth_socket_mode",
	"auth_socket_group", "mux_socket", "mux_socket_mode", "mux_socket_group",
	"admin_socket", "admin_socket_mode", "admin_socket_group", "workers",
	"mech_list", "sasl_plugin_dir", "passdb", "pam_service", "pam_confdir",
	"pam_workers", "cache_size", "install_key", NULL
};

/*
 * SIGHUP: reads the configuration again and applies what can change
 * live; reopens the store. Connections stay open. A bad file changes
 * nothing.
 */
struct reopen_job {
	reload_done_fn *done;
	void *arg;
	int r;
	char err[1024];		/* why the store did not open, for the log */
};

/* Worker thread: reopening waits for the store's lock, so not on the loop. */
static void
reopen_work(void *arg)
{
	struct reopen_job *j = arg;

	j->r = sasldb_reopen(authd.db, j->err, sizeof(j->err));
	vcache_flush(authd.cache);
}

static void
reopen_done(void *arg)
{
	struct reopen_job *j = arg;

	if (j->r != SK_OK)
		log_error("reload: cannot reopen the store: %s; each lookup "
		    "tries again", j->err[0] ? j->err : sk_strerror(j->r));
	else
		log_info("reload: configuration reloaded, store reopened, cache "
		    "emptied; default realm %s", authd.conf.default_realm);
	if (j->done != NULL)
		j->done(j->arg, j->r);
	free(j);
}

int
authd_reload(reload_done_fn *done, void *arg)
{
	struct reopen_job *j;
	struct authd_conf nc;
	char err[1024];
	size_t i;

	if (check_conf_file("-c", conffile, err, sizeof(err)) != SK_OK ||
	    authd_conf_load(conffile, &nc, err, sizeof(err)) != SK_OK) {
		log_error("reload: %s; the running configuration stays", err);
		return SK_ERR_INVAL;
	}
	if (n_old_confs == sizeof(old_confs) / sizeof(old_confs[0])) {
		log_error("reload: too many reloads; restart authd");
		authd_conf_free(&nc);
		return SK_ERR_LIMIT;
	}
	for (i = 0; restart_keys[i] != NULL; i++)
		if (!conf_same(nc.raw, authd.conf.raw, restart_keys[i]))
			log_warn("reload: %s changed: restart authd to apply it",
			    restart_keys[i]);
	old_confs[n_old_confs++] = authd.conf.raw;
	authd.conf.raw = nc.raw;
	/*
	 * Workers read these while we write them: atomic stores, and the old
	 * strings stay allocated. nc's host name lives in nc: point at
	 * authd's copy instead.
	 */
	__atomic_store_n(&authd.conf.default_realm, nc.default_realm == nc.host ?
	    authd.conf.host : nc.default_realm, __ATOMIC_RELEASE);
	__atomic_store_n(&authd.conf.host_name, nc.host_name == nc.host ?
	    authd.conf.host : nc.host_name, __ATOMIC_RELEASE);
	__atomic_store_n(&authd.conf.scram_iterations, nc.scram_iterations,
	    __ATOMIC_RELEASE);
	authd.conf.io_timeout = nc.io_timeout;
	authd.conf.exchange_timeout = nc.exchange_timeout;
	authd.conf.max_connections = nc.max_connections;
	if (nc.debug != authd.conf.debug)
		log_info("reload: debug logging %s", nc.debug ? "on" : verbose ?
		    "stays on (-v)" : "off");
	authd.conf.debug = nc.debug;
	log_set_debug(verbose, authd.conf.debug);
	penalty_set(authd.penalty, nc.penalty_base_ms, nc.penalty_max_ms,
	    nc.penalty_expire);
	vcache_set_ttl(authd.cache, nc.cache_ttl);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SK_ERR_NOMEM;
	j->done = done;
	j->arg = arg;
	if (pool_submit(authd.pool, reopen_work, reopen_done, j) != SK_OK) {
		free(j);
		return SK_ERR_NOMEM;
	}
	return SK_OK;
}

static void
usage(void)
{
	fprintf(stderr, "usage: authd [-dtVv] [-c config]\n");
	exit(64);
}

/* No core dump of authd may ever hold a password or a verifier. */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("cannot disable core dumps: %s", strerror(errno));
}

/*
 * /run is a tmpfs: the directories of the pidfile and the sockets are
 * made when missing (root:root 0755; each socket has its own mode and
 * group), and refused when unsafe.
 */
static void
make_rundirs(const struct authd_conf *c)
{
	const char *const keys[] = { "pidfile", "auth_socket", "mux_socket",
	    "admin_socket" };
	const char *paths[] = { c->pidfile, c->auth_socket, c->mux_socket,
	    c->admin_socket };
	char err[1024];
	size_t i;
	int made, r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (paths[i] == NULL)
			continue;
		if ((r = rundir_for_key(keys[i], paths[i], &made, err,
		    sizeof(err))) != SK_OK)
			fatal_status(safefile_exit_status(r, errno), "%s", err);
		if (made > 0)
			log_info("%s: made the directory of %s", keys[i],
			    paths[i]);
	}
}

/* Writes the pidfile, locked for as long as authd runs. */
static int
write_pidfile(const char *path)
{
	char err[1024];
	int fd, r;

	if ((r = pidfile_open(path, &fd, err, sizeof(err))) == SK_ERR_BUSY)
		fatal("%s: is another authd running?", err);
	if (r != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if (pidfile_write(fd, err, sizeof(err)) != SK_OK)
		fatal("pidfile %s: %s", path, err);
	return fd;
}

/* An exit before the end of main (an error at start) closes the store. */
static void
close_store_at_exit(void)
{
	sasldb_close(authd.db);
	authd.db = NULL;
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
	if (r == SK_ERR_BUSY && test_only) {
		log_info("%s: held by a running authd; not opened", err);
		return;
	}
	if (r == SK_ERR_BUSY)
		fatal("%s (another authd, or saslpasswd -f, has the file)", err);
	if (r != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
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
	mux_listener_free(mux);	/* no new clients */
	mux = NULL;
	llistener_free(admin);
	admin = NULL;
	llistener_free(authl);
	authl = NULL;
	/* idle clients go now; those with a request go once it is answered */
	lconn_close_all(&authd);
	mux_close_idle(&authd);
	drain = event_new(authd.base, -1, EV_PERSIST, drain_tick, NULL);
	if (drain == NULL || event_add(drain, &tv) == -1)
		event_base_loopexit(authd.base, NULL);
}

int
main(int argc, char *argv[])
{
	struct event *sigs[4];
	static const int signums[] = { SIGTERM, SIGINT, SIGHUP };
	char err[1024];
	int c, r, foreground = 0, test_only = 0, pidfd, readyfd = -1;
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
	no_core_dumps();
	if ((r = check_conf_file("-c", conffile, err, sizeof(err))) != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if (authd_conf_load(conffile, &authd.conf, err, sizeof(err)) != SK_OK) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	make_rundirs(&authd.conf);
	log_debug_start(verbose, authd.conf.debug);
	open_store(&authd, test_only);
	check_pam(&authd.conf);
	/* before daemon(): its errors reach the admin with their exit status */
	load_install_key(authd.conf.install_key, authd.install_key,
	    sizeof(authd.install_key));
	check_plugin_dir(authd.conf.sasl_plugin_dir);
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
	if (authd.conf.mux_socket != NULL &&
	    (mux_fd = listen_unix("mux_socket", authd.conf.mux_socket,
	    authd.conf.mux_mode, authd.conf.mux_gid, err, sizeof(err))) == -1)
		fatal("%s", err);
	if (authd.conf.auth_socket != NULL &&
	    (auth_fd = listen_unix("auth_socket", authd.conf.auth_socket,
	    authd.conf.auth_mode, authd.conf.auth_gid, err, sizeof(err))) == -1)
		fatal("%s", err);
	if (authd.conf.admin_socket != NULL &&
	    (admin_fd = listen_unix("admin_socket", authd.conf.admin_socket,
	    authd.conf.admin_mode, authd.conf.admin_gid, err, sizeof(err))) == -1)
		fatal("%s", err);
	if (!foreground && daemonize(&readyfd) == -1)
		fatal("cannot become a daemon: %s", strerror(errno));
	/* the store's lock record named the parent, which is gone now */
	if (!foreground && authd.db != NULL &&
	    sasldb_lock_owner_update(authd.db, SASLDB_HOLDER_AUTHD) != SK_OK)
		fatal("sasldb_path %s: cannot record the lock's owner: %s",
		    authd.conf.sasldb_path, strerror(errno));
	pidfd = write_pidfile(authd.conf.pidfile);
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
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		sigs[i] = evsignal_new(authd.base, signums[i], on_signal, NULL);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatal("cannot watch signals");
	}
	if (mux_fd != -1 && (mux = mux_listener_new(&authd, mux_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.mux_socket);
	if (admin_fd != -1 &&
	    (admin = admin_listener_new(&authd, admin_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.admin_socket);
	if (auth_fd != -1 && (authl = auth_listener_new(&authd, auth_fd)) == NULL)
		fatal("cannot listen on %s", authd.conf.auth_socket);
	log_info("mechanisms: %s", authd.sasl_mechs);
	log_info("authd %s ready: store %s, %u workers%s%s%s%s%s%s",
	    SASLKIT_VERSION, authd.conf.sasldb_path, authd.conf.workers,
	    auth_fd != -1 ? ", auth " : "", auth_fd != -1 ?
	    authd.conf.auth_socket : "", mux_fd != -1 ? ", mux " : "",
	    mux_fd != -1 ? authd.conf.mux_socket : "", admin_fd != -1 ?
	    ", admin " : "", admin_fd != -1 ? authd.conf.admin_socket : "");
	daemonize_ready(readyfd);	/* the parent exits 0 now */
	event_base_dispatch(authd.base);
	pool_free(authd.pool);
	mux_listener_free(mux);
	llistener_free(admin);
	llistener_free(authl);
	if (authd.conf.auth_socket != NULL)
		unlink(authd.conf.auth_socket);
	if (authd.conf.mux_socket != NULL)
		unlink(authd.conf.mux_socket);
	if (authd.conf.admin_socket != NULL)
		unlink(authd.conf.admin_socket);
	close_store_at_exit();
	pidfile_close(authd.conf.pidfile, pidfd);
	for (i = 0; i < sizeof(signums) / sizeof(signums[0]); i++)
		event_free(sigs[i]);
	if (drain != NULL)
		event_free(drain);
	event_base_free(authd.base);
	authsasl_done();
	penalty_free(authd.penalty);
	vcache_free(authd.cache);
	authd_conf_free(&authd.conf);
	for (i = 0; i < n_old_confs; i++)
		conf_free(old_confs[i]);
	log_info("stopped");
	return 0;
}
