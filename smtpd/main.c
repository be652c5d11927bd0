/*
 * main.c: smtpd, an SMTP submission server that holds no stored secret.
 * As root it binds its ports, then drops to its user (privdrop.c) before
 * it reads a byte from the network; it can also start unprivileged on
 * high ports. Logs go to syslog (mail) or, with -d, to stderr.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "privdrop.h"
#include "safefile.h"
#include "session.h"
#include "version.h"

#define EXIT_IOERR 74	/* sysexits: I/O error */
#define EXIT_NOPERM 77	/* sysexits: unsafe file, permission denied */
#define EXIT_CONFIG 78	/* sysexits: configuration error */

static struct smtpd smtpd;
static struct event *drain;

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
 * The exit status for a file that a key names, from an sk_err (and errno
 * for SK_ERR_IO): 77 unsafe or denied, 78 a wrong path or contents, 74 I/O.
 */
static int
file_status(int r, int e)
{
	if (r == SK_ERR_IO)
		r = safefile_errclass(e);
	switch (r) {
	case SK_ERR_UNSAFE: return EXIT_NOPERM;
	case SK_ERR_NOTFOUND: case SK_ERR_FORMAT: case SK_ERR_INVAL:
	case SK_ERR_LIMIT: return EXIT_CONFIG;
	}
	return EXIT_IOERR;
}

/* The reason OpenSSL gave for the last failure, or a default. */
static const char *
tls_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_get_error());

	ERR_clear_error();
	return r != NULL ? r : "unknown reason";
}

/*
 * The TLS context, before root goes: the key is the one secret smtpd
 * holds, so its file must be as safe as authd's (owner only). Returns an
 * exit status, the error logged, naming the key and the file.
 */
static int
tls_load(const struct smtpd_conf *c, SSL_CTX **ctx_r)
{
	struct safefile_policy pol;
	unsigned long oe;
	char err[1024];
	SSL_CTX *ctx;
	int r, e;

	*ctx_r = NULL;
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.key = "tls_key";
	if ((r = safefile_check(c->tls_key, &pol, err, sizeof(err))) != SK_OK) {
		log_error("%s", err);
		return file_status(r, errno);
	}
	if (access(c->tls_cert, R_OK) == -1) {
		e = errno;
		r = safefile_explain("tls_cert", c->tls_cert, "read", e, NULL,
		    err, sizeof(err));
		log_error("%s", err);
		return file_status(r, e);
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		log_error("TLS: cannot make a context: %s", tls_reason());
		SSL_CTX_free(ctx);
		return EXIT_IOERR;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		log_error("tls_cert %s: not a PEM certificate chain (%s); check "
		    "the file or set tls_cert", c->tls_cert, tls_reason());
		goto bad;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1) {
		/* a good key, but of another certificate */
		oe = ERR_peek_last_error();
		if (ERR_GET_LIB(oe) == ERR_LIB_X509 &&
		    ERR_GET_REASON(oe) == X509_R_KEY_VALUES_MISMATCH)
			goto mismatch;
		log_error("tls_key %s: not a PEM private key (%s); check the "
		    "file or set tls_key", c->tls_key, tls_reason());
		goto bad;
	}
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto mismatch;
	/* no renegotiation, no compression, the server's cipher order */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	*ctx_r = ctx;
	return 0;
mismatch:
	log_error("tls_key %s: does not match the certificate of tls_cert %s "
	    "(%s); set the two to a key and its certificate", c->tls_key,
	    c->tls_cert, tls_reason());
bad:
	SSL_CTX_free(ctx);
	return EXIT_CONFIG;
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
	return file_status(r, e);
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
	if (smtpd.stopping)
		return;
	log_info("%s: no new sessions; exiting once %u end",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT", smtpd.nsessions);
	smtpd_stop_listening(&smtpd);
	drain = event_new(smtpd.base, -1, EV_PERSIST, drain_tick, NULL);
	if (drain == NULL || event_add(drain, &tv) == -1)
		event_base_loopexit(smtpd.base, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpd [-dv] [-c config]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	const char *conffile = SMTPD_DEFAULT_CONF;
	struct event *sigs[2];
	char err[1024];
	int c, r, foreground = 0;
	size_t i;

	while ((c = getopt(argc, argv, "c:dv")) != -1) {
		switch (c) {
		case 'c': conffile = optarg; break;
		case 'd': foreground = 1; break;
		case 'v': printf("smtpd (saslkit) %s\n", SASLKIT_VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("smtpd", LOG_MAIL, foreground);
	if ((r = smtpd_conf_load(conffile, &smtpd.conf, err, sizeof(err))) !=
	    SK_OK) {
		if (r == SK_ERR_NOTFOUND || r == SK_ERR_IO) {
			c = errno;
			r = safefile_explain("-c", conffile, "read", c, NULL, err,
			    sizeof(err));
			log_error("%s", err);
			return file_status(r, c);
		}
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	for (i = 0; i < smtpd.conf.nlisten; i++)
		if (smtpd.conf.listen[i].tls != LISTEN_PLAIN &&
		    smtpd.tls == NULL &&
		    (r = tls_load(&smtpd.conf, &smtpd.tls)) != 0)
			return r;
	if (smtpd.conf.sender_login_map != NULL &&
	    sender_map_load(smtpd.conf.sender_login_map, &smtpd.senders, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	raise_nofile(smtpd.conf.max_connections + 64);
	for (i = 0; i < smtpd.conf.nlisten; i++)
		if ((smtpd.lfd[i] = bind_listener(&smtpd.conf.listen[i])) == -1)
			fatal("listen %s:%u: %s", smtpd.conf.listen[i].addr,
			    smtpd.conf.listen[i].port, strerror(errno));
	/* no network byte has been read yet */
	if (privdrop(smtpd.conf.user, err, sizeof(err)) != 0)
		fatal("%s", err);
	if ((r = check_handoff_dir(&smtpd.conf)) != 0)
		return r;
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() == -1 ||
	    (smtpd.base = event_base_new()) == NULL ||
	    (smtpd.pool = pool_new(smtpd.base, 2, SMTPD_HANDOFFS_MAX)) == NULL)
		fatal("cannot start the event loop or the workers");
	sigs[0] = evsignal_new(smtpd.base, SIGTERM, on_signal, NULL);
	sigs[1] = evsignal_new(smtpd.base, SIGINT, on_signal, NULL);
	if (sigs[0] == NULL || sigs[1] == NULL || event_add(sigs[0], NULL) ||
	    event_add(sigs[1], NULL))
		fatal("cannot watch signals");
	authc_init(&smtpd);
	if (smtpd_listen(&smtpd) != 0)
		fatal("cannot accept connections");
	for (i = 0; i < smtpd.conf.nlisten; i++)
		log_info("listening on %s:%u", smtpd.conf.listen[i].addr,
		    smtpd.conf.listen[i].port);
	log_info("smtpd %s ready as uid %u", SASLKIT_VERSION, (unsigned)getuid());
	event_base_dispatch(smtpd.base);
	pool_free(smtpd.pool);
	smtpd_stop_listening(&smtpd);
	authc_free(&smtpd);
	iptable_free(smtpd.ips);
	for (i = 0; i < 2; i++)
		event_free(sigs[i]);
	if (drain != NULL)
		event_free(drain);
	event_base_free(smtpd.base);
	SSL_CTX_free(smtpd.tls);
	sender_map_free(&smtpd.senders);
	smtpd_conf_free(&smtpd.conf);
	log_info("stopped");
	return 0;
}
