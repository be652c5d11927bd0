/*
 * saslbench.c: a program linked with Cyrus libsasl2 that runs both ends of
 * SASL exchanges in one process: a libsasl2 server with the plugins of one
 * directory (saslkit's plugin, or Cyrus's own with its sasldb auxprop) and
 * a libsasl2 client with Cyrus's client plugins. The tests use it for what
 * Cyrus's sample programs cannot do (channel binding, threads, fork after
 * sasl_server_init); bench/saslbench.sh for the plugin's row.
 *
 *   saslbench -P plugindir -c confdir [-a app] [-s service] [-R realm]
 *       -m MECH -u user -w password [-U nusers] [-n count] [-t threads]
 *       [-f forks] [-B type:data [-K data] [-D]] [-x] [-q]
 *
 * -U: n users, -u and -w then being printf formats of the user's number
 * ("bench%04d", "pw-%d"); -R: the server's user realm; -B: channel-binding data on both ends (with -D on the server
 * only, as a client that cannot bind would see it; with -K the client's
 * differs, as through a man in the middle); -f: sasl_server_init
 * first, then forks, each child running -n exchanges on -t threads;
 * -x: every exchange is expected to fail.
 * Prints "ok=N fail=N rate=R/s p50=MS p99=MS" and exits 0 when every
 * exchange ended as expected. It never prints a password.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include "bench.h"

typedef int (*sb_cb_fn)(void);
#define SB_CB(f) ((sb_cb_fn)(void (*)(void))(f))

struct sb_opts {
	const char *plugdir, *confdir, *app, *service, *mech, *user, *pass;
	const char *realm;
	const char *cbtype, *cbdata, *cbclient;
	int nusers, count, threads, forks, server_only_cb, expect_fail, quiet;
};

struct sb_thread {
	const struct sb_opts *o;
	pthread_t t;
	int ok, fail, index;
	double *lat;
};

static struct sb_opts opt = {
	.app = "saslbench", .service = "smtp", .count = 1, .threads = 1,
};

static int
sb_getpath(void *ctx, const char **path)
{
	*path = ctx;
	return SASL_OK;
}

static int
sb_getconfpath(void *ctx, const char **path)
{
	*path = ctx;
	return SASL_OK;
}

/* One exchange's client: its name and password. */
struct sb_who {
	char user[256];
	union {
		sasl_secret_t s;
		char buf[sizeof(sasl_secret_t) + 256];
	} sec;
};

static int
sb_simple(void *ctx, int id, const char **result, unsigned *len)
{
	struct sb_who *w = ctx;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = id == SASL_CB_USER ? "" : w->user;
	if (len != NULL)
		*len = (unsigned)strlen(*result);
	return SASL_OK;
}

static int
sb_secret(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **psecret)
{
	struct sb_who *w = ctx;

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	*psecret = &w->sec.s;
	return SASL_OK;
}

/* The n-th client of -U, or the one of -u and -w. */
static void
sb_who(struct sb_who *w, int n)
{
	char pass[256];

	if (opt.nusers > 0) {
		snprintf(w->user, sizeof(w->user), opt.user, n);
		snprintf(pass, sizeof(pass), opt.pass, n);
	} else {
		snprintf(w->user, sizeof(w->user), "%s", opt.user);
		snprintf(pass, sizeof(pass), "%s", opt.pass);
	}
	w->sec.s.len = strlen(pass);
	memcpy(w->sec.s.data, pass, strlen(pass) + 1);
}

static void *
sb_mutex_alloc(void)
{
	pthread_mutex_t *m = malloc(sizeof(*m));

	if (m != NULL)
		pthread_mutex_init(m, NULL);
	return m;
}

static int
sb_mutex_lock(void *m)
{
	return pthread_mutex_lock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static int
sb_mutex_unlock(void *m)
{
	return pthread_mutex_unlock(m) == 0 ? SASL_OK : SASL_FAIL;
}

static void
sb_mutex_free(void *m)
{
	pthread_mutex_destroy(m);
	free(m);
}

/* Hex channel-binding data into a binding for one end. */
static void
sb_cbind(sasl_conn_t *c, sasl_channel_binding_t *cb, unsigned char *buf,
    const char *hex)
{
	size_t i, n = strlen(hex) / 2;

	for (i = 0; i < n && i < 64; i++)
		sscanf(hex + 2 * i, "%2hhx", &buf[i]);
	cb->name = opt.cbtype;
	cb->critical = 0;
	cb->len = (unsigned)i;
	cb->data = buf;
	if (sasl_setprop(c, SASL_CHANNEL_BINDING, cb) != SASL_OK)
		die("sasl_setprop SASL_CHANNEL_BINDING");
}

/* Both ends of one exchange; 1 when the server says SASL_OK. */
static int
sb_exchange(struct sb_who *w)
{
	sasl_callback_t ccb[] = {
		{ SASL_CB_USER, SB_CB(sb_simple), w },
		{ SASL_CB_AUTHNAME, SB_CB(sb_simple), w },
		{ SASL_CB_PASS, SB_CB(sb_secret), w },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	sasl_channel_binding_t scb, ccbd;
	unsigned char sbuf[64], cbuf[64];
	sasl_conn_t *s = NULL, *c = NULL;
	const char *out, *used;
	unsigned outlen;
	int sr, cr = SASL_CONTINUE;

	if (sasl_server_new(opt.service, "localhost", opt.realm, "127.0.0.1;25",
	    "127.0.0.1;40001", NULL, SASL_SUCCESS_DATA, &s) != SASL_OK ||
	    sasl_client_new(opt.service, "localhost", "127.0.0.1;40001",
	    "127.0.0.1;25", ccb, SASL_SUCCESS_DATA, &c) != SASL_OK)
		die("sasl_server_new / sasl_client_new");
	if (opt.cbtype != NULL) {
		sb_cbind(s, &scb, sbuf, opt.cbdata);
		if (!opt.server_only_cb)
			sb_cbind(c, &ccbd, cbuf, opt.cbclient != NULL ?
			    opt.cbclient : opt.cbdata);
	}
	sr = sasl_client_start(c, opt.mech, NULL, &out, &outlen, &used);
	if (sr != SASL_OK && sr != SASL_CONTINUE)
		goto done;
	sr = sasl_server_start(s, used, out, outlen, &out, &outlen);
	while (sr == SASL_CONTINUE) {
		cr = sasl_client_step(c, out, outlen, NULL, &out, &outlen);
		if (cr != SASL_OK && cr != SASL_CONTINUE) {
			sr = cr;
			break;
		}
		sr = sasl_server_step(s, out, outlen, &out, &outlen);
	}
	if (sr == SASL_OK && outlen > 0 && cr == SASL_CONTINUE)
		cr = sasl_client_step(c, out, outlen, NULL, &out, &outlen);
done:
	if (sr != SASL_OK && !opt.quiet && !opt.expect_fail)
		fprintf(stderr, "saslbench: %s: %s\n", w->user,
		    sasl_errdetail(s));
	sasl_dispose(&c);
	sasl_dispose(&s);
	return sr == SASL_OK;
}

static void *
sb_run(void *arg)
{
	struct sb_thread *t = arg;
	struct sb_who w;
	double t0;
	int i;

	for (i = 0; i < t->o->count; i++) {
		sb_who(&w, t->o->nusers > 0 ?
		    (t->index * 7919 + i) % t->o->nusers : 0);
		t0 = now();
		if (sb_exchange(&w))
			t->ok++;
		else
			t->fail++;
		t->lat[i] = (now() - t0) * 1000;
	}
	return NULL;
}

/* -n exchanges on each of -t threads; prints the line; 1 when all ended
 * as expected. */
static int
sb_threads(void)
{
	struct sb_thread *t = calloc((size_t)opt.threads, sizeof(*t));
	double *lat = calloc((size_t)opt.threads * (size_t)opt.count,
	    sizeof(*lat));
	double t0, secs, p50, p99;
	int i, ok = 0, fail = 0;

	if (t == NULL || lat == NULL)
		die("out of memory");
	t0 = now();
	for (i = 0; i < opt.threads; i++) {
		t[i].o = &opt;
		t[i].index = i;
		t[i].lat = lat + (size_t)i * (size_t)opt.count;
		if (pthread_create(&t[i].t, NULL, sb_run, &t[i]) != 0)
			die("pthread_create");
	}
	for (i = 0; i < opt.threads; i++) {
		pthread_join(t[i].t, NULL);
		ok += t[i].ok;
		fail += t[i].fail;
	}
	secs = now() - t0;
	percentiles(lat, (size_t)opt.threads * (size_t)opt.count, &p50, &p99);
	printf("ok=%d fail=%d rate=%.0f/s p50=%.3f p99=%.3f\n", ok, fail,
	    (ok + fail) / secs, p50, p99);
	fflush(stdout);
	free(lat);
	free(t);
	return opt.expect_fail ? ok == 0 : fail == 0;
}

/* sasl_server_init done: -f children, each with its own threads. */
static int
sb_forks(void)
{
	int i, st, all = 1;
	pid_t pid;

	for (i = 0; i < opt.forks; i++) {
		if ((pid = fork()) == -1)
			die("fork");
		if (pid == 0)
			_exit(sb_threads() ? 0 : 1);
	}
	for (i = 0; i < opt.forks; i++) {
		if (wait(&st) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			all = 0;
	}
	return all;
}

static void
sb_usage(void)
{
	fprintf(stderr, "usage: saslbench -P plugindir -c confdir [-a app] "
	    "[-s service] [-R realm] -m mech -u user -w password [-U nusers] [-n count] "
	    "[-t threads] [-f forks] [-B type:hexdata [-K hexdata] [-D]] [-x] "
	    "[-q]\n");
	exit(2);
}

static void
sb_args(int argc, char **argv)
{
	char *colon;
	int ch;

	while ((ch = getopt(argc, argv, "P:c:a:s:R:m:u:w:U:n:t:f:B:K:Dxq")) != -1) {
		switch (ch) {
		case 'P': opt.plugdir = optarg; break;
		case 'c': opt.confdir = optarg; break;
		case 'a': opt.app = optarg; break;
		case 's': opt.service = optarg; break;
		case 'R': opt.realm = optarg; break;
		case 'm': opt.mech = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'w': opt.pass = optarg; break;
		case 'U': opt.nusers = atoi(optarg); break;
		case 'n': opt.count = atoi(optarg); break;
		case 't': opt.threads = atoi(optarg); break;
		case 'f': opt.forks = atoi(optarg); break;
		case 'B':
			if ((colon = strchr(optarg, ':')) == NULL)
				sb_usage();
			*colon = '\0';
			opt.cbtype = optarg;
			opt.cbdata = colon + 1;
			break;
		case 'K': opt.cbclient = optarg; break;
		case 'D': opt.server_only_cb = 1; break;
		case 'x': opt.expect_fail = 1; break;
		case 'q': opt.quiet = 1; break;
		default: sb_usage();
		}
	}
	if (opt.plugdir == NULL || opt.confdir == NULL || opt.mech == NULL ||
	    opt.user == NULL || opt.pass == NULL || opt.count < 1 ||
	    opt.threads < 1 || opt.forks < 0)
		sb_usage();
}

int
main(int argc, char **argv)
{
	static sasl_callback_t scb[] = {
		{ SASL_CB_GETPATH, SB_CB(sb_getpath), NULL },
		{ SASL_CB_GETCONFPATH, SB_CB(sb_getconfpath), NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};
	static sasl_callback_t clcb[] = {
		{ SASL_CB_GETPATH, SB_CB(sb_getpath), SASL_PLUGIN_DIR },
		{ SASL_CB_GETCONFPATH, SB_CB(sb_getconfpath),
		    "/nonexistent/saslbench-client" },
		{ SASL_CB_LIST_END, NULL, NULL },
	};

	bench_prog = "saslbench";
	sb_args(argc, argv);
	scb[0].context = (void *)opt.plugdir;
	scb[1].context = (void *)opt.confdir;
	sasl_set_mutex(sb_mutex_alloc, sb_mutex_lock, sb_mutex_unlock,
	    sb_mutex_free);
	if (sasl_server_init(scb, opt.app) != SASL_OK)
		die("sasl_server_init failed");
	if (sasl_client_init(clcb) != SASL_OK)
		die("sasl_client_init failed");
	return (opt.forks > 0 ? sb_forks() : sb_threads()) ? 0 : 1;
}
