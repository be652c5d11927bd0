/*
 * main.c: smtpd, an SMTP submission server that holds no stored secret.
 * As root it writes its pidfile and binds its ports, then drops to its
 * user (privdrop.c) before it reads a byte from the network; it can also
 * start unprivileged on high ports. SIGHUP reloads (reload.c). Logs go to
 * syslog (mail) or, with -d, to stderr.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemonize.h"
#include "err.h"
#include "iptable.h"
#include "log.h"
#include "pidfile.h"
#include "pool.h"
#include "privdrop.h"
#include "reload.h"
#include "rundir.h"
#include "safefile.h"
#include "session.h"
#include "tls.h"
#include "version.h"


static struct smtpd smtpd;
static struct event *drain;
static int verbose;		/* -v: debug logging, whatever the key */

/* Binds one listener, non-blocking, before privileges go. */
static int
bind_listener(const struct listener_conf *l)
{
	int fd, on = 1;

	if ((fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (l->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)&l->ss, l->sslen) == -1 ||
	    listen(fd, 1024) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * The TLS context, before root goes: the key is the one secret smtpd
 * holds, so its file must be as safe as authd's (owner only). Its owner
 * may be root or smtpd's user, who can then read it again on SIGHUP.
 * Returns an exit status, the error logged, naming the key and the file.
 */
static int
tls_load(const struct smtpd_conf *c, uid_t key_owner,
    struct ssl_ctx_st **ctx_r)
{
	char err[1024];
	int r;

	if ((r = tls_ctx_load(c, key_owner, ctx_r, err, sizeof(err))) !=
	    SK_OK) {
		int e = errno;	/* before syslog may change it */

		log_error("%s", err);
		return safefile_exit_status(r, e);
	}
	return 0;
}

/*
 * After the drop: smtpd's user must be able to write where messages go
 * (maildir, or the directory above it while the handoff has not made it
 * yet; spool_dir for sendmail_command), or every message would fail.
 * Returns an exit status, the error logged, naming the key.
 */
static int
check_handoff_dir(const struct smtpd_conf *c)
{
	const char *key = c->maildir != NULL ? "maildir" : "spool_dir";
	const char *dir = c->maildir != NULL ? c->maildir : c->spool_dir;
	char up[4096], err[1024], *slash;
	int r, e;

	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	e = errno;
	if (e == ENOENT && c->maildir != NULL &&
	    (size_t)snprintf(up, sizeof(up), "%s", dir) < sizeof(up)) {
		if ((slash = strrchr(up, '/')) == NULL)
			strcpy(up, ".");
		else
			slash[slash == up] = '\0';
		if (access(up, W_OK | X_OK) == 0)
			return 0;
		if (errno != ENOENT)	/* the maildir is missing, and can't be made */
			e = errno;
	}
	r = safefile_explain(key, dir, "write into", e, NULL, err, sizeof(err));
	log_error("%s", err);
	return safefile_exit_status(r, e);
}

/* Who may own tls_key besides root: smtpd's user (or ours, unprivileged). */
static uid_t
key_owner(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return geteuid();
	return (pw = getpwnam(user)) != NULL ? pw->pw_uid : 0;
}

/*
 * The pidfile, before root goes: its directory made if missing (root:root
 * 0755), refused if unsafe; then locked for as long as smtpd runs.
 */
static int
open_pidfile(const char *path)
{
	char err[1024];
	int fd, made, r;

	if ((r = rundir_for_key("pidfile", path, &made, err, sizeof(err))) !=
	    SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if (made > 0)
		log_info("pidfile: made the directory of %s", path);
	if ((r = pidfile_open(path, &fd, err, sizeof(err))) == SK_ERR_BUSY)
		fatal("%s: is another smtpd running?", err);
	if (r != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	return fd;
}

/* Sessions may use a descriptor each: the limit follows max_connections. */
static void
raise_nofile(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (geteuid() == 0 && rl.rlim_max < want)
		rl.rlim_max = rl.rlim_cur = want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void
drain_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (smtpd.nsessions == 0)
		event_base_loopexit(smtpd.base, NULL);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct timeval tv = { 0, 100000 };

	(void)what;
	(void)arg;
	if (sig == SIGHUP) {
		if (reload_run(&smtpd) == SK_OK)
			log_set_debug(verbose, smtpd.conf.debug);
		return;
	}
	if (smtpd.stopping)
		return;
	log_info("%s: no new sessions; exiting once %u end",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT", smtpd.nsessions);
	sess_stop_listening(&smtpd);
	drain = event_new(smtpd.base, -1, EV_PERSIST, drain_tick, NULL);
	if (drain == NULL || event_add(drain, &tv) == -1)
		event_base_loopexit(smtpd.base, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpd [-dVv] [-c config]\n");
	exit(64);
}

/*
 * The configuration, the TLS context and the sender map, read as root;
 * an exit status, or 0.
 */
static int
load_all(const char *conffile, uid_t *owner)
{
	char err[1024];
	size_t i;
	int r, e;

	if ((r = smtpd_conf_load(conffile, &smtpd.conf, err, sizeof(err))) !=
	    SK_OK) {
		if (r == SK_ERR_NOTFOUND || r == SK_ERR_IO) {
			e = errno;
			r = safefile_explain("-c", conffile, "read", e, NULL, err,
			    sizeof(err));
			log_error("%s", err);
			return safefile_exit_status(r, e);
		}
		log_error("%s", err);
		return EX_CONFIG;
	}
	log_debug_start(verbose, smtpd.conf.debug);
	*owner = key_owner(smtpd.conf.user);
	for (i = 0; i < smtpd.conf.nlisten; i++)
		if (smtpd.conf.listen[i].tls != LISTEN_PLAIN &&
		    smtpd.tls == NULL &&
		    (r = tls_load(&smtpd.conf, *owner, &smtpd.tls)) != 0)
			return r;
	if (smtpd.conf.sender_login_map != NULL &&
	    sender_map_load(smtpd.conf.sender_login_map, &smtpd.senders, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	return 0;
}

/* The listeners bound and root dropped; an exit status, or 0. */
static int
bind_and_drop(void)
{
	char err[1024];
	size_t i;

	raise_nofile(smtpd.conf.max_connections + 64);
	for (i = 0; i < smtpd.conf.nlisten; i++)
		if ((smtpd.lfd[i] = bind_listener(&smtpd.conf.listen[i])) == -1)
			fatal("listen %s:%u: %s", smtpd.conf.listen[i].addr,
			    smtpd.conf.listen[i].port, strerror(errno));
	/* no network byte has been read yet */
	if (privdrop(smtpd.conf.user, err, sizeof(err)) != 0)
		fatal("%s", err);
	return check_handoff_dir(&smtpd.conf);
}

/* The event loop, the handoff's workers, authd's connections, the listeners. */
static void
start_serving(struct event **sigs, const int *signums, size_t nsigs)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1 ||
	    (smtpd.base = event_base_new()) == NULL ||
	    (smtpd.pool = pool_new(smtpd.base, 2, SMTPD_HANDOFFS_MAX)) == NULL)
		fatal("cannot start the event loop or the workers");
	for (i = 0; i < nsigs; i++) {
		sigs[i] = evsignal_new(smtpd.base, signums[i], on_signal, NULL);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) == -1)
			fatal("cannot watch signals");
	}
	authc_init(&smtpd);
	if (sess_listen(&smtpd) != 0)
		fatal("cannot accept connections");
	for (i = 0; i < smtpd.conf.nlisten; i++)
		log_info("listening on %s:%u", smtpd.conf.listen[i].addr,
		    smtpd.conf.listen[i].port);
	log_info("smtpd %s ready as uid %u", SASLKIT_VERSION, (unsigned)getuid());
}

/* After the loop: everything freed, the pidfile emptied. */
static void
stop_all(int pidfd, struct event **sigs, size_t nsigs)
{
	size_t i;

	pool_free(smtpd.pool);
	sess_stop_listening(&smtpd);
	authc_free(&smtpd);
	iptable_free(smtpd.ips);
	for (i = 0; i < nsigs; i++)
		event_free(sigs[i]);
	if (drain != NULL)
		event_free(drain);
	event_base_free(smtpd.base);
	tls_ctx_free(smtpd.tls);
	sender_map_free(&smtpd.senders);
	/* after the drop it cannot remove the file: it empties it */
	if (pidfd != -1)
		pidfile_close(smtpd.conf.pidfile, pidfd);
	reload_free(&smtpd);
	smtpd_conf_free(&smtpd.conf);
	log_info("stopped");
}

int
main(int argc, char *argv[])
{
	static const int signums[] = { SIGTERM, SIGINT, SIGHUP };
	struct event *sigs[sizeof(signums) / sizeof(signums[0])];
	const size_t nsigs = sizeof(signums) / sizeof(signums[0]);
	const char *conffile = SMTPD_DEFAULT_CONF;
	char err[1024];
	int c, r, foreground = 0, pidfd = -1, readyfd = -1;
	uid_t owner = 0;

	while ((c = getopt(argc, argv, "c:dVv")) != -1) {
		switch (c) {
		case 'c': conffile = optarg; break;
		case 'd': foreground = 1; break;
		case 'V': printf("smtpd (saslkit) %s\n", SASLKIT_VERSION); return 0;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("smtpd", LOG_MAIL, foreground);
	if ((r = load_all(conffile, &owner)) != 0)
		return r;
	reload_init(&smtpd, conffile, owner);
	if (smtpd.conf.pidfile != NULL)
		pidfd = open_pidfile(smtpd.conf.pidfile);
	if ((r = bind_and_drop()) != 0)
		return r;
	if (!foreground && daemonize(&readyfd) == -1)
		fatal("cannot become a daemon: %s", strerror(errno));
	/* the lock came through the fork; root owns the file */
	if (pidfd != -1 && pidfile_write(pidfd, err, sizeof(err)) != SK_OK)
		fatal("pidfile %s: %s", smtpd.conf.pidfile, err);
	start_serving(sigs, signums, nsigs);
	daemonize_ready(readyfd);	/* the parent exits 0 now */
	event_base_dispatch(smtpd.base);
	stop_all(pidfd, sigs, nsigs);
	return 0;
}
