/*
 * sks_client.c: drives libsecret (<saslkit/secret.h>) against a live authd,
 * for the pytest suite (test_libsecret.py). Each subcommand prints what it
 * saw on stdout as "key=value ..." and exits 0 when the library behaved, 1
 * when it did not, 2 on bad usage.
 *
 *   many SOCKET USER PASS N     N PLAIN exchanges at once on one
 *                               connection, every other with a wrong password
 *   mech SOCKET MECH USER PASS [TYPE:HEX]
 *                               one exchange driven by client-side libsasl2,
 *                               with channel-binding data for -PLUS
 *   cancel SOCKET USER PASS     cancels exchanges, then runs one to the end
 *   one SOCKET USER PASS        one PLAIN exchange; prints its result
 *   loop SOCKET USER PASS SECS  exchanges for SECS seconds, reconnecting
 *                               whenever authd goes away
 *   admin SOCKET CMD ARGS...    setpass USER PASS [keep|yes|no], delete USER,
 *                               disable USER, enable USER, show USER,
 *                               list [props], import FILE, reload, stats
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sasl/sasl.h>

#include <saslkit/secret.h>

#include "sasl_client_cb.h"

static const char *sock_path, *user, *pass;

static void
usage(void)
{
	fprintf(stderr, "usage: sks_client many|mech|cancel|one|loop|admin "
	    "SOCKET ...\n");
	exit(2);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* PLAIN's initial response: \0user\0pass. */
static size_t
plain_resp(char *buf, size_t sz, const char *u, const char *p)
{
	size_t ul = strlen(u), pl = strlen(p);

	if (ul + pl + 2 > sz)
		exit(2);
	buf[0] = '\0';
	memcpy(buf + 1, u, ul);
	buf[1 + ul] = '\0';
	memcpy(buf + 2 + ul, p, pl);
	return ul + pl + 2;
}

static int
open_auth(struct sksecret_auth **a)
{
	int r;

	if ((r = sksecret_auth_open(sock_path, a)) != SKSECRET_OK)
		return r;
	if ((r = sksecret_auth_wait(*a, 0, 10000)) != SKSECRET_OK) {
		sksecret_auth_close(*a);
		*a = NULL;
	}
	return r;
}

struct tally {
	int ok, fail, error, cont, wrong, last_error, temporary;
};

/* One exchange's expectation and where its result is counted. */
struct one_req {
	struct tally *t;
	int expect_ok;
	int done;
};

static void
tally_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct one_req *o = arg;

	(void)req;
	if (res->status != SKSECRET_CONTINUE)
		o->done = 1;		/* a final answer */
	switch (res->status) {
	case SKSECRET_SUCCESS:
		o->t->ok++;
		if (!o->expect_ok || res->user == NULL ||
		    strncmp(res->user, user, strlen(user)) != 0)
			o->t->wrong++;
		break;
	case SKSECRET_FAILURE:
		o->t->fail++;
		if (o->expect_ok)
			o->t->wrong++;
		break;
	case SKSECRET_CONTINUE:
		o->t->cont++;
		o->t->wrong++;
		break;
	case SKSECRET_ERROR:
		o->t->error++;
		o->t->last_error = res->error;
		o->t->temporary = res->temporary;
		break;
	}
}

static int
start_plain(struct sksecret_auth *a, struct one_req *o, const char *pw,
    const char *rip)
{
	struct sksecret_auth_params p;
	char buf[1024];

	memset(&p, 0, sizeof(p));
	p.mech = "PLAIN";
	p.service = "smtp";
	p.remote_ip = rip;
	p.initial = (unsigned char *)buf;
	p.initial_len = plain_resp(buf, sizeof(buf), user, pw);
	return sksecret_req_start(a, &p, tally_cb, o, NULL);
}

static int
cmd_many(int n)
{
	struct sksecret_auth *a;
	struct one_req *o;
	struct tally t = { 0 };
	char rip[32];
	double t0 = now();
	int i, r;

	if ((r = open_auth(&a)) != SKSECRET_OK) {
		printf("error=%d\n", r);
		return 1;
	}
	if ((o = calloc((size_t)n, sizeof(*o))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		o[i].t = &t;
		o[i].expect_ok = i % 2 == 0;
		/* a client IP each: failures are penalised per IP */
		snprintf(rip, sizeof(rip), "10.9.%d.%d", i / 250, i % 250 + 1);
		if ((r = start_plain(a, &o[i], o[i].expect_ok ? pass : "wrong-one",
		    rip)) != SKSECRET_OK) {
			printf("start_error=%d\n", r);
			return 1;
		}
	}
	printf("pending_after_start=%zu\n", sksecret_auth_pending(a));
	r = sksecret_auth_wait(a, 1, 60000);
	printf("wait=%d ok=%d fail=%d error=%d wrong=%d pending=%zu "
	    "seconds=%.3f\n", r, t.ok, t.fail, t.error, t.wrong,
	    sksecret_auth_pending(a), now() - t0);
	sksecret_auth_close(a);
	free(o);
	return r == SKSECRET_OK && t.ok == (n + 1) / 2 && t.fail == n / 2 &&
	    t.error == 0 && t.wrong == 0 ? 0 : 1;
}

/* ---- mech: client-side libsasl2 through libsecret ---- */

struct mech_ctx {
	sasl_conn_t *conn;
	int status;		/* SKSECRET_* once over, -1 before */
	const char *user_out;
	char user[256];
	int steps, error;
	unsigned char cbdata[128];
	size_t cblen;
	char cbtype[32];
	char libtype[32];	/* the type the library can answer for */
};


static int
mech_cbind(const char *type, const unsigned char **data, size_t *len,
    void *arg)
{
	struct mech_ctx *m = arg;

	if (m->cblen == 0 || strcmp(type, m->libtype) != 0)
		return -1;
	*data = m->cbdata;
	*len = m->cblen;
	return 0;
}

static void
mech_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct mech_ctx *m = arg;
	const char *out = NULL;
	unsigned outlen = 0;
	int r;

	if (res->status == SKSECRET_CONTINUE) {
		m->steps++;
		r = sasl_client_step(m->conn, (const char *)res->data,
		    (unsigned)res->len, NULL, &out, &outlen);
		if (r != SASL_OK && r != SASL_CONTINUE) {
			fprintf(stderr, "libsasl2 client: %s\n",
			    sasl_errdetail(m->conn));
			sksecret_req_cancel(req);
			m->status = SKSECRET_ERROR;
			return;
		}
		if (sksecret_req_continue(req, out, outlen) != SKSECRET_OK)
			m->status = SKSECRET_ERROR;
		return;
	}
	m->status = res->status;
	m->error = res->error;
	if (res->status == SKSECRET_SUCCESS)
		snprintf(m->user, sizeof(m->user), "%s", res->user);
}

static int
cmd_mech(const char *mech, const char *cb)
{
	struct sksecret_auth *a;
	struct sksecret_auth_params p;
	struct mech_ctx m;
	sasl_channel_binding_t binding;
	sasl_security_properties_t sec;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	int r, flags;

	memset(&m, 0, sizeof(m));
	m.status = -1;
	if (cb != NULL) {
		const char *colon = strchr(cb, ':');
		size_t i;

		if (colon == NULL || (size_t)(colon - cb) >= sizeof(m.cbtype) ||
		    strlen(colon + 1) % 2 != 0 ||
		    strlen(colon + 1) / 2 > sizeof(m.cbdata))
			usage();
		memcpy(m.cbtype, cb, (size_t)(colon - cb));
		for (i = 0; colon[1 + 2 * i] != '\0'; i++)
			sscanf(colon + 1 + 2 * i, "%2hhx", &m.cbdata[i]);
		m.cblen = i;
	}
	/* SKS_CB_LIBTYPE: the caller holds data of another type than the
	 * one the SCRAM client binds, as after a TLS version mix-up */
	snprintf(m.libtype, sizeof(m.libtype), "%s", getenv("SKS_CB_LIBTYPE") ?
	    getenv("SKS_CB_LIBTYPE") : m.cbtype);
	cb_authname = user;
	if ((cb_secret = cb_make_secret(pass, strlen(pass))) == NULL ||
	    sasl_client_init(cb_global) != SASL_OK ||
	    sasl_client_new("smtp", "localhost", NULL, NULL, cb_client, 0,
	    &m.conn) != SASL_OK)
		return 1;
	memset(&sec, 0, sizeof(sec));
	sasl_setprop(m.conn, SASL_SEC_PROPS, &sec);
	if (m.cblen > 0) {
		binding.name = m.cbtype;
		binding.critical = 1;
		binding.len = (unsigned)m.cblen;
		binding.data = m.cbdata;
		sasl_setprop(m.conn, SASL_CHANNEL_BINDING, &binding);
	}
	if ((r = open_auth(&a)) != SKSECRET_OK) {
		printf("error=%d\n", r);
		return 1;
	}
	flags = sksecret_auth_mech_flags(a, mech);
	printf("offered=%d cbind_flag=%d\n", flags >= 0,
	    flags >= 0 && (flags & SKSECRET_MECH_CHANNEL_BINDING) != 0);
	r = sasl_client_start(m.conn, mech, NULL, &out, &outlen, &chosen);
	if (r != SASL_OK && r != SASL_CONTINUE) {
		printf("client_start=%d\n", r);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.mech = mech;		/* as asked: libsasl2 names -PLUS without it */
	p.service = "smtp";
	p.remote_ip = "10.8.0.1";
	p.secured = 1;
	p.initial = (const unsigned char *)out;
	p.initial_len = outlen;
	if (out == NULL)
		p.initial = NULL;
	p.cbind = mech_cbind;
	p.cbind_arg = &m;
	if ((r = sksecret_req_start(a, &p, mech_cb, &m, NULL)) != SKSECRET_OK) {
		printf("start_error=%d\n", r);
		return 1;
	}
	r = sksecret_auth_wait(a, 1, 30000);
	printf("wait=%d status=%s steps=%d user=%s error=%d\n", r,
	    m.status == SKSECRET_SUCCESS ? "success" : m.status ==
	    SKSECRET_FAILURE ? "failure" : m.status == SKSECRET_ERROR ?
	    "error" : "none", m.steps, m.user, m.error);
	sksecret_auth_close(a);
	sasl_dispose(&m.conn);
	sasl_client_done();
	return m.status == SKSECRET_SUCCESS ? 0 : 1;
}

/* ---- cancel ---- */

static int
cmd_cancel(void)
{
	struct sksecret_auth *a;
	struct sksecret_auth_params p;
	struct sksecret_req *req[3];
	struct one_req o[4];
	struct tally t = { 0 };
	int r, i;

	if ((r = open_auth(&a)) != SKSECRET_OK) {
		printf("error=%d\n", r);
		return 1;
	}
	memset(o, 0, sizeof(o));
	memset(&p, 0, sizeof(p));
	p.mech = "PLAIN";
	p.service = "smtp";
	/* no initial response: authd answers with an empty CONT */
	for (i = 0; i < 3; i++) {
		o[i].t = &t;
		if (sksecret_req_start(a, &p, tally_cb, &o[i], &req[i]) !=
		    SKSECRET_OK)
			return 1;
	}
	sksecret_req_cancel(req[1]);	/* before authd even saw it */
	printf("pending_after_cancel=%zu\n", sksecret_auth_pending(a));
	/* let the others get their CONT, which counts as "wrong" here */
	r = sksecret_auth_wait(a, 0, 1000);
	{
		double end = now() + 1;

		while (t.cont < 2 && now() < end)
			if ((r = sksecret_auth_wait(a, 1, 50)) != SKSECRET_OK &&
			    r != SKSECRET_ERR_TIMEOUT)
				break;
	}
	/* a request is valid until its final callback: only those open */
	if (!o[0].done)
		sksecret_req_cancel(req[0]);
	if (!o[2].done)
		sksecret_req_cancel(req[2]);
	printf("conts=%d pending=%zu\n", t.cont, sksecret_auth_pending(a));
	t.cont = t.wrong = 0;
	o[3].t = &t;
	o[3].expect_ok = 1;
	if (start_plain(a, &o[3], pass, "10.7.0.1") != SKSECRET_OK)
		return 1;
	r = sksecret_auth_wait(a, 1, 10000);
	printf("wait=%d ok=%d fail=%d error=%d wrong=%d pending=%zu\n", r, t.ok,
	    t.fail, t.error, t.wrong, sksecret_auth_pending(a));
	sksecret_auth_close(a);
	return r == SKSECRET_OK && t.ok == 1 && t.fail == 0 && t.error == 0 &&
	    t.wrong == 0 && !o[0].done && !o[1].done && !o[2].done ? 0 : 1;
}

/* ---- one ---- */

static int
cmd_one(void)
{
	struct sksecret_auth *a;
	struct one_req o = { 0 };
	struct tally t = { 0 };
	int r;

	if ((r = sksecret_auth_open(sock_path, &a)) != SKSECRET_OK) {
		printf("open=%d\n", r);
		return 1;
	}
	o.t = &t;
	o.expect_ok = 1;
	if ((r = start_plain(a, &o, pass, "10.6.0.1")) != SKSECRET_OK) {
		printf("start=%d\n", r);
		return 1;
	}
	r = sksecret_auth_wait(a, 1, 10000);
	printf("wait=%d ok=%d fail=%d error=%d last_error=%d temporary=%d "
	    "text=%s\n", r, t.ok, t.fail, t.error, t.last_error, t.temporary,
	    sksecret_strerror(r));
	sksecret_auth_close(a);
	return 0;
}

/* ---- loop: reconnects whenever authd goes away ---- */

static int
cmd_loop(double secs)
{
	struct sksecret_auth *a = NULL;
	struct one_req o;
	struct tally t = { 0 };
	double end = now() + secs;
	int r, lost = 0, reconnects = 0, refused = 0, ok_after = 0, before;

	while (now() < end) {
		if (a == NULL) {
			if ((r = open_auth(&a)) != SKSECRET_OK) {
				refused++;	/* authd not back yet */
				usleep(20000);
				continue;
			}
			if (lost > 0)
				reconnects++;
		}
		memset(&o, 0, sizeof(o));
		o.t = &t;
		o.expect_ok = 1;
		before = t.error;
		r = start_plain(a, &o, pass, "10.5.0.1");
		if (r == SKSECRET_OK)
			r = sksecret_auth_wait(a, 1, 10000);
		/* every exchange gets its final answer, even when the
		 * connection goes: an answer from authd, or a temporary ERROR */
		if (!o.done || (t.error > before && (t.last_error == 0 ||
		    !t.temporary))) {
			printf("bad_loss r=%d done=%d last=%d temporary=%d\n", r,
			    o.done, t.last_error, t.temporary);
			return 1;
		}
		if (r != SKSECRET_OK) {
			lost++;
			sksecret_auth_close(a);
			a = NULL;
			continue;
		}
		if (lost > 0 && t.error == before)
			ok_after++;
	}
	sksecret_auth_close(a);
	printf("ok=%d fail=%d error=%d wrong=%d lost=%d reconnects=%d "
	    "refused=%d ok_after=%d\n", t.ok, t.fail, t.error, t.wrong, lost,
	    reconnects, refused, ok_after);
	return t.wrong == 0 && t.fail == 0 ? 0 : 1;
}

/* ---- admin ---- */

static int
print_user(const char *u, const char *props, void *arg)
{
	(void)arg;
	printf("user=%s props=%s\n", u, props != NULL ? props : "-");
	return 0;
}

static void
print_stat(const char *name, unsigned long v, void *arg)
{
	(void)arg;
	printf("stat %s=%lu\n", name, v);
}

static int
cmd_admin(int argc, char **argv)
{
	struct sksecret_admin *ad;
	unsigned long count = 0, missing = 0;
	const char *cmd;
	int r;

	if (argc < 1)
		usage();
	cmd = argv[0];
	if ((r = sksecret_admin_open(sock_path, 10000, &ad)) != SKSECRET_OK) {
		printf("result=%d text=%s\n", r, sksecret_strerror(r));
		return 1;
	}
	if (strcmp(cmd, "setpass") == 0 && argc >= 3)
		r = sksecret_admin_setpass(ad, argv[1], argv[2], argc < 4 ||
		    strcmp(argv[3], "keep") == 0 ? SKSECRET_PLAINTEXT_KEEP :
		    strcmp(argv[3], "yes") == 0 ? SKSECRET_PLAINTEXT_YES :
		    SKSECRET_PLAINTEXT_NO);
	else if (strcmp(cmd, "delete") == 0 && argc == 2)
		r = sksecret_admin_delete(ad, argv[1]);
	else if (strcmp(cmd, "disable") == 0 && argc == 2)
		r = sksecret_admin_disable(ad, argv[1]);
	else if (strcmp(cmd, "enable") == 0 && argc == 2)
		r = sksecret_admin_enable(ad, argv[1]);
	else if (strcmp(cmd, "show") == 0 && argc == 2)
		r = sksecret_admin_show(ad, argv[1], print_user, NULL);
	else if (strcmp(cmd, "list") == 0)
		r = sksecret_admin_list(ad, argc > 1, print_user, NULL, &count);
	else if (strcmp(cmd, "reload") == 0)
		r = sksecret_admin_reload(ad);
	else if (strcmp(cmd, "stats") == 0)
		r = sksecret_admin_stats(ad, print_stat, NULL);
	else if (strcmp(cmd, "import") == 0 && argc == 2) {
		FILE *fp = fopen(argv[1], "r");
		char **recs = NULL, line[4096];
		size_t n = 0;

		if (fp == NULL)
			usage();
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			recs = realloc(recs, (n + 1) * sizeof(*recs));
			recs[n++] = strdup(line);
		}
		fclose(fp);
		r = sksecret_admin_import(ad, (const char *const *)recs, n, &count,
		    &missing);
		while (n > 0)
			free(recs[--n]);
		free(recs);
	} else
		usage();
	printf("result=%d text=%s reason=%s count=%lu missing=%lu\n", r,
	    sksecret_strerror(r), sksecret_admin_reason(ad), count, missing);
	sksecret_admin_close(ad);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	sock_path = argv[2];
	if (strcmp(argv[1], "admin") == 0)
		return cmd_admin(argc - 3, argv + 3);
	if (strcmp(argv[1], "mech") == 0) {
		if (argc < 6)
			usage();
		user = argv[4];
		pass = argv[5];
		return cmd_mech(argv[3], argc > 6 ? argv[6] : NULL);
	}
	if (argc < 5)
		usage();
	user = argv[3];
	pass = argv[4];
	if (strcmp(argv[1], "many") == 0 && argc == 6)
		return cmd_many(atoi(argv[5]));
	if (strcmp(argv[1], "cancel") == 0)
		return cmd_cancel();
	if (strcmp(argv[1], "one") == 0)
		return cmd_one();
	if (strcmp(argv[1], "loop") == 0 && argc == 6)
		return cmd_loop(atof(argv[5]));
	usage();
	return 2;
}
