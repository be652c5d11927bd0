/*
 * main.c: saslpasswd, a saslpasswd2-compatible manager of sasldb users.
 * Flags follow Cyrus's saslpasswd2; -l, -L, -P, -i, -s and -t go beyond it.
 * A password is read with echo off (twice) or as one line with -p, and is
 * wiped as soon as it has been used.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/opensslv.h>
#include <sasl/sasl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "conf.h"
#include "err.h"
#include "import.h"
#include "log.h"
#include "paths.h"
#include "safefile.h"
#include "saslpasswd.h"
#include "scram.h"
#include "version.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: saslpasswd [-v] [-c [-p] [-n | -P]] [-d] [-a app]"
	    " [-f sasldb | -S socket] [-u realm] user\n"
	    "       saslpasswd -t [-p] [-f sasldb | -S socket] [-u realm] user\n"
	    "       saslpasswd -l | -L [-f sasldb | -S socket]\n"
	    "       saslpasswd -i file|- [-F saslkit|dovecot|shadow] [-n | -P]"
	    " [-f sasldb | -S socket] [-u realm]\n"
	    "       saslpasswd -s [-f sasldb | -S socket] [-u realm]\n"
	    "       saslpasswd -U [-D] [-f sasldb | -S socket] [-u realm]"
	    " [user ...]\n"
	    "       saslpasswd -R [-f sasldb | -S socket]\n"
	    "  -c  create (or change) the user      -d  delete the user\n"
	    "  -p  read the password as one line from standard input\n"
	    "  -n  store no plaintext userPassword  -P  store plaintext too\n"
	    "  -l  list users  -L  list users with property names\n"
	    "  -i  batch import   -s  interactive shell   -t  test a password\n"
	    "  -U  hash stored plaintext in place   -D  with -U: drop it\n"
	    "  -R  rewrite the store, scrubbing deleted data\n"
	    "  -F  -i's format: saslkit (default), dovecot (passwd-file),"
	    " shadow\n"
	    "  -I  PBKDF2 iterations  -C  configuration file  -v  version\n"
	    "  -S  authd's admin socket (default: through authd when it runs,"
	    " else the file)\n"
	    "       saslpasswd [-S socket] [-C config] secret VERB ...  "
	    "(the secret store; secret help)\n");
	exit(EXIT_USAGE);
}

static void
version(void)
{
	const char *impl;
	int v;

	sasl_version(&impl, &v);
	printf("saslpasswd (saslkit) %s\n"
	    "Built against SASL API version %u.%u.%u\n"
	    "LibSasl version %u.%u.%u by \"%s\"\n%s\n", SASLKIT_VERSION,
	    SASL_VERSION_MAJOR, SASL_VERSION_MINOR, SASL_VERSION_STEP,
	    (unsigned)v >> 24, ((unsigned)v >> 16) & 0xff, (unsigned)v & 0xffff,
	    impl, OPENSSL_VERSION_TEXT);
	exit(0);
}

/* Strips a trailing LF and CR. */
static size_t
chomp(char *buf, size_t n)
{
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n;
}

int
sp_read_pipe_password(char *buf, size_t bufsz, size_t *len_r)
{
	size_t n = 0;
	int c;

	while ((c = getchar()) != EOF && c != '\n') {
		if (n + 1 >= bufsz) {
			/* the whole line goes, so no tail is read as a command */
			while ((c = getchar()) != EOF && c != '\n')
				;
			explicit_bzero(buf, bufsz);
			return SK_ERR_LIMIT;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	*len_r = chomp(buf, n);
	return SK_OK;
}

static struct termios tty_saved;	/* the terminal as the user had it */
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };
#define TTY_NSIG (sizeof(tty_signals) / sizeof(tty_signals[0]))

/* A signal at the prompt: give the terminal its echo back, then die of it. */
static void
tty_restore_and_raise(int sig)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads one line from the terminal with echo off. */
static int
tty_line(const char *prompt, char *buf, size_t bufsz, size_t *len_r)
{
	struct sigaction sa, prev[TTY_NSIG];
	struct termios quiet;
	int tty = isatty(STDIN_FILENO), r;
	size_t i;

	/* echo goes off before the prompt shows, so nothing typed is echoed */
	if (tty && tcgetattr(STDIN_FILENO, &tty_saved) == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = tty_restore_and_raise;
		sigemptyset(&sa.sa_mask);
		for (i = 0; i < TTY_NSIG; i++)
			sigaction(tty_signals[i], &sa, &prev[i]);
		quiet = tty_saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	} else {
		tty = 0;
	}
	fputs(prompt, stderr);
	fflush(stderr);
	r = sp_read_pipe_password(buf, bufsz, len_r);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &tty_saved);
		for (i = 0; i < TTY_NSIG; i++)
			sigaction(tty_signals[i], &prev[i], NULL);
	}
	return r;
}

int
sp_read_tty_password(const char *prompt, int confirm, char *buf, size_t bufsz,
    size_t *len_r)
{
	char again[SASLDB_PASS_MAX + 2];
	size_t n2;
	int r, same;

	if ((r = tty_line(prompt, buf, bufsz, len_r)) != SK_OK || !confirm)
		return r;
	if ((r = tty_line("Again (for verification): ", again, sizeof(again),
	    &n2)) != SK_OK) {
		explicit_bzero(buf, bufsz);
		return r;
	}
	same = n2 == *len_r && memcmp(buf, again, n2) == 0;
	explicit_bzero(again, sizeof(again));
	if (!same) {
		explicit_bzero(buf, bufsz);
		return SK_ERR_MISMATCH;
	}
	return SK_OK;
}

/* Reads the password for a set or test, per -p. Returns an exit code. */
int
sp_get_password(int pipe_mode, int confirm, char *buf, size_t bufsz, size_t *len)
{
	int r;

	if (!pipe_mode && !isatty(STDIN_FILENO))
		pipe_mode = 1;	/* as saslpasswd2 does */
	r = pipe_mode ? sp_read_pipe_password(buf, bufsz, len) :
	    sp_read_tty_password("Password: ", confirm, buf, bufsz, len);
	if (r == SK_ERR_MISMATCH) {
		log_error("passwords don't match; nothing was changed");
		return EXIT_DATAERR;
	}
	if (r != SK_OK) {
		log_error("password longer than %d bytes", SASLDB_PASS_MAX);
		return EXIT_DATAERR;
	}
	if (*len == 0) {
		log_error("empty password: nothing was changed");
		return EXIT_DATAERR;
	}
	return 0;
}

/* Loads the configuration: -C, else <confdir>/<app>.conf, else authd.conf. */
static int
load_conf(const char *file, const char *app, struct conf **c)
{
	const char *dir = getenv("SASLKIT_CONFDIR");
	char path[PATH_MAX], err[PATH_MAX + 512];
	int r, e;

	if (file == NULL) {
		snprintf(path, sizeof(path), "%s/%s.conf", dir ? dir : SK_CONFDIR,
		    app ? app : "authd");
		file = path;
	}
	r = conf_load(file, c, err, sizeof(err));
	if (r == SK_ERR_NOTFOUND && file == path) {
		*c = conf_empty();
		return *c ? 0 : EXIT_SOFTWARE;
	}
	if (r == SK_ERR_NOTFOUND || r == SK_ERR_IO) {
		e = errno;
		safefile_explain("-C", file, "read", e, NULL, err, sizeof(err));
		log_error("%s", err);
		return r == SK_ERR_NOTFOUND ? EXIT_NOINPUT : EXIT_DATAERR;
	}
	if (r != SK_OK) {
		log_error("%s", err);
		return EXIT_DATAERR;
	}
	return 0;
}

/* Applies the configuration's sasldb_path, default_realm and iterations. */
static int
apply_conf(struct sp_ctx *sp, const struct conf *c, int have_iter,
    char *host, size_t hostlen)
{
	char err[256];

	if (sp->admin_path == NULL)
		sp->admin_path = conf_get(c, "admin_socket");
	if (sp->admin_path == NULL || sp->admin_path[0] == '\0')
		sp->admin_path = SKSECRET_ADMIN_SOCKET;
	if ((sp->auth_path = conf_get(c, "auth_socket")) == NULL ||
	    sp->auth_path[0] == '\0')
		sp->auth_path = SKSECRET_AUTH_SOCKET;
	if (sp->path == NULL)
		sp->path = conf_get(c, "sasldb_path");
	if (sp->path == NULL)
		sp->path = SK_SASLDB;
	if (sp->realm == NULL)
		sp->realm = conf_get(c, "default_realm");
	if (sp->realm == NULL) {
		if (gethostname(host, hostlen - 1) == -1)
			return EXIT_SOFTWARE;
		host[hostlen - 1] = '\0';
		sp->realm = host;
	}
	if (!have_iter && conf_get_uint(c, "scram_iterations", 1,
	    SCRAM_ITER_MAX, SCRAM_ITER_DEFAULT, &sp->iterations, err,
	    sizeof(err)) != SK_OK) {
		log_error("%s", err);
		return EXIT_DATAERR;
	}
	return 0;
}

static unsigned
parse_iter(const char *s)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || n < 1 || n > SCRAM_ITER_MAX) {
		log_error("-I %s: iterations must be a number from 1 to %d", s,
		    SCRAM_ITER_MAX);
		exit(EXIT_USAGE);
	}
	return (unsigned)n;
}

struct sp_flags {
	int create, del, pipe, list, longlist, shell, test, have_iter;
	int upgrade, drop, have_format, rewrite;
	const char *import, *conffile, *app;
	int have_file, have_socket;
};

/* Runs the one operation the flags ask for. */
static int
dispatch(struct sp_ctx *sp, const struct sp_flags *f, char *const *args,
    size_t nargs)
{
	const char *user = nargs > 0 ? args[0] : NULL;
	char pass[SASLDB_PASS_MAX + 2];
	size_t len = 0;
	int r;

	if (f->list || f->longlist)
		return sp_cmd_list(sp, f->longlist);
	if (f->upgrade)
		return sp_cmd_upgrade(sp, args, nargs, f->drop);
	if (f->rewrite)
		return sp_cmd_rewrite(sp);
	if (f->import)
		return sp_cmd_import(sp, f->import);
	if (f->shell)
		return sp_shell(sp);
	if (f->del)
		return sp_cmd_delete(sp, user);
	if ((r = sp_get_password(f->pipe, !f->test, pass, sizeof(pass), &len)) == 0)
		r = f->test ? sp_cmd_test(sp, user, pass, len) :
		    sp_cmd_set(sp, user, pass, len, 0);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

/*
 * Where "secret" stands as the first word after options that the secret
 * store takes too (-S, -C, -a); -1 when it does not: "-c secret" is a
 * user named secret.
 */
static int
secret_word(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-')
			return strcmp(a, "secret") == 0 ? i : -1;
		if (a[1] == '\0' || strchr("SCa", a[1]) == NULL)
			return -1;
		if (a[2] == '\0')
			i++;		/* the option's argument */
	}
	return -1;
}

/* saslpasswd [-S socket] [-C config] [-a app] secret VERB ... */
static int
secret_mode(struct sp_ctx *sp, int k, char *argv[], int argc)
{
	const char *conffile = NULL, *app = NULL;
	struct conf *conf = NULL;
	char host[256];
	int c, r;

	optind = 1;
	while ((c = getopt(k, argv, "+S:C:a:")) != -1) {
		switch (c) {
		case 'S': sp->admin_path = optarg; break;
		case 'C': conffile = optarg; break;
		case 'a': app = optarg; break;
		default: usage();
		}
	}
	if (app != NULL && strchr(app, '/') != NULL)
		usage();
	if ((r = load_conf(conffile, app, &conf)) == 0 &&
	    (r = apply_conf(sp, conf, 0, host, sizeof(host))) == 0 &&
	    (r = sp_online_open(sp, 1)) == 0)
		r = sp_secret_main(sp, argc - k - 1, argv + k + 1);
	sp_online_close(sp);
	conf_free(conf);
	return r;
}

/*
 * No core dump may hold a password, and stdin is unbuffered so that none
 * lingers in stdio's buffer: each byte goes straight to a wiped buffer.
 */
static void
harden(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setvbuf(stdin, NULL, _IONBF, 0);
}

int
main(int argc, char *argv[])
{
	struct sp_flags f;
	struct sp_ctx sp;
	struct conf *conf = NULL;
	enum import_format fmt;
	char host[256];
	int c, r, modes;

	log_init("saslpasswd", LOG_AUTH, 1);
	harden();
	memset(&f, 0, sizeof(f));
	memset(&sp, 0, sizeof(sp));
	sp.plain = SASLDB_PLAIN_KEEP;
	if ((c = secret_word(argc, argv)) > 0)
		return secret_mode(&sp, c, argv, argc);
	while ((c = getopt(argc, argv, "vpcdnPf:u:a:lLi:F:stI:C:S:hUDR")) != -1) {
		switch (c) {
		case 'v': version(); break;
		case 'p': f.pipe = 1; break;
		case 'c': f.create = 1; break;
		case 'd': f.del = 1; break;
		case 'n': sp.plain = SASLDB_PLAIN_NO; break;
		case 'P': sp.plain = SASLDB_PLAIN_YES; break;
		case 'f':
			sp.path = optarg;
			sp.path_key = "-f";
			f.have_file = 1;
			break;
		case 'S': sp.admin_path = optarg; f.have_socket = 1; break;
		case 'u': sp.realm = optarg; break;
		case 'a':
			if (strchr(optarg, '/') != NULL) {
				log_error("appname must not contain /");
				return EXIT_USAGE;
			}
			f.app = optarg;
			break;
		case 'l': f.list = 1; break;
		case 'L': f.longlist = 1; break;
		case 'i': f.import = optarg; break;
		case 'F':
			if (import_format_parse(optarg, &fmt) != SK_OK) {
				log_error("-F %s: want saslkit, dovecot or shadow",
				    optarg);
				return EXIT_USAGE;
			}
			sp.format = (int)fmt;
			f.have_format = 1;
			break;
		case 's': f.shell = 1; break;
		case 't': f.test = 1; break;
		case 'I': sp.iterations = parse_iter(optarg); f.have_iter = 1; break;
		case 'C': f.conffile = optarg; break;
		case 'U': f.upgrade = 1; break;
		case 'D': f.drop = 1; break;
		case 'R': f.rewrite = 1; break;
		default: usage();
		}
	}
	modes = f.del + (f.list || f.longlist) + (f.import != NULL) + f.shell +
	    f.test + f.upgrade + f.rewrite;
	if (modes > 1 || (f.create && modes > 0 && !f.import) ||
	    (f.have_file && f.have_socket) || (f.drop && !f.upgrade) ||
	    (f.upgrade && sp.plain != SASLDB_PLAIN_KEEP) ||
	    (f.have_format && !f.import))
		usage();
	if (f.upgrade)
		;		/* any number of users: none is every one */
	else if (modes == 0 || f.del || f.test) {
		if (optind != argc - 1)
			usage();
	} else if (optind != argc) {
		usage();
	}
	if ((r = load_conf(f.conffile, f.app, &conf)) != 0)
		return r;
	if ((r = apply_conf(&sp, conf, f.have_iter, host, sizeof(host))) == 0 &&
	    !f.have_file) {
		/* authd runs: through its admin socket; else the file */
		r = sp_online_open(&sp, f.have_socket);
		if (r < 0)
			r = 0;
	}
	if (r == 0)
		r = dispatch(&sp, &f, argv + optind, (size_t)(argc - optind));
	sp_online_close(&sp);
	sasldb_close(sp.db);
	conf_free(conf);
	return r;
}
