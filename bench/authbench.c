/*
 * authbench.c: load for an auth server, through libsecret. c clients, each
 * with one exchange at a time on its own connection, for a fixed time;
 * prints auths/s and p50/p99 latency. bench/authbench.sh runs it against
 * authd, Dovecot's auth server and Cyrus saslauthd on the same users.
 *
 *   authbench auth SOCKET MECH C SECONDS NUSERS   Dovecot's auth protocol
 *   authbench mux SOCKET REALM C SECONDS NUSERS   the saslauthd protocol
 *   authbench pbkdf2 ITERATIONS SECONDS           the machine's PBKDF2 limit
 *
 * Users are bench0000.. bench<NUSERS-1>, password "pw-<n>", taken in turn.
 * MECH is PLAIN, CRAM-MD5 or SCRAM-SHA-256. The SCRAM client keeps each
 * user's SaltedPassword once computed (RFC 5802 lets a client cache it),
 * so the client's PBKDF2 does not weigh on the numbers: the server's does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <saslkit/secret.h>

#include "scram.h"

#include "bench.h"

#define MAX_CLIENTS	256
#define MAX_SAMPLES	(4u << 20)



/* ---- results ---- */

static double *samples;
static size_t nsamples;
static unsigned long nok, nfail, nerr;
static double t_start, t_end;	/* the measured window */

static void
record(double started, int ok)
{
	double t = now();

	if (started < t_start || t > t_end)
		return;		/* warm-up, or past the end */
	if (!ok) {
		nfail++;
		return;
	}
	nok++;
	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = t - started;
}


static void
report(void)
{
	double secs = t_end - t_start, p50, p99;

	percentiles(samples, nsamples, &p50, &p99);
	printf("auths=%lu secs=%.2f rate=%.0f p50_ms=%.3f p99_ms=%.3f "
	    "fail=%lu errors=%lu\n", nok, secs, (double)nok / secs, p50 * 1e3,
	    p99 * 1e3, nfail, nerr);
}

/* ---- the client side of the mechanisms ---- */

struct user {
	char name[32], pass[32];
	int has_salted;
	unsigned char salt[64];
	size_t saltlen;
	unsigned iter;
	unsigned char salted[32];
};

static struct user *users;
static unsigned nusers, next_user;

struct client {
	int id;
	struct sksecret_auth *a;
	struct sksecret_req *req;
	struct user *u;
	double started;
	int busy;
	char nonce[32];
	char first_bare[128];
	int final_sent;
	/* mux */
	int fd;
	unsigned char buf[512];
	size_t len, off;
};

static const char *mech;
static const char *mux_realm = "";

static void
b64enc(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int
b64dec(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	int r;

	if (n % 4 != 0)
		return -1;
	if ((r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n)) < 0)
		return -1;
	while (n > 0 && in[n - 1] == '=') {
		n--;
		r--;
	}
	*outlen = (size_t)r;
	return 0;
}

/* SCRAM-SHA-256 client-final from the server-first message. */
static int
scram_final(struct client *c, const unsigned char *sf, size_t sflen,
    char *out, size_t outsz)
{
	struct user *u = c->u;
	char msg[512], *r = NULL, *s = NULL, *i = NULL, *p, *save = NULL;
	char without[256], auth[1024], proof64[64];
	unsigned char ckey[32], stored[32], sig[32], proof[32];
	unsigned char salt[64];
	size_t saltlen, k;
	unsigned len = 32;

	if (sflen >= sizeof(msg))
		return -1;
	memcpy(msg, sf, sflen);
	msg[sflen] = '\0';
	{
		char copy[512];

		memcpy(copy, msg, sflen + 1);
		for (p = strtok_r(copy, ",", &save); p != NULL;
		    p = strtok_r(NULL, ",", &save)) {
			if (strncmp(p, "r=", 2) == 0)
				r = msg + (p - copy) + 2;
			else if (strncmp(p, "s=", 2) == 0)
				s = msg + (p - copy) + 2;
			else if (strncmp(p, "i=", 2) == 0)
				i = msg + (p - copy) + 2;
		}
	}
	if (r == NULL || s == NULL || i == NULL)
		return -1;
	{
		size_t rl = strcspn(r, ","), sl = strcspn(s, ",");
		char sb[128], rb[128];

		if (rl >= sizeof(rb) || sl >= sizeof(sb))
			return -1;
		memcpy(rb, r, rl);
		rb[rl] = '\0';
		memcpy(sb, s, sl);
		sb[sl] = '\0';
		if (b64dec(sb, sl, salt, &saltlen) != 0 || saltlen > sizeof(salt))
			return -1;
		if (!u->has_salted || u->saltlen != saltlen ||
		    memcmp(u->salt, salt, saltlen) != 0 ||
		    u->iter != (unsigned)atoi(i)) {
			u->iter = (unsigned)atoi(i);
			memcpy(u->salt, salt, saltlen);
			u->saltlen = saltlen;
			if (PKCS5_PBKDF2_HMAC(u->pass, (int)strlen(u->pass), salt,
			    (int)saltlen, (int)u->iter, EVP_sha256(), 32,
			    u->salted) != 1)
				return -1;
			u->has_salted = 1;
		}
		snprintf(without, sizeof(without), "c=biws,r=%s", rb);
	}
	HMAC(EVP_sha256(), u->salted, 32, (const unsigned char *)"Client Key",
	    10, ckey, &len);
	SHA256(ckey, 32, stored);
	snprintf(auth, sizeof(auth), "%s,%s,%s", c->first_bare, msg, without);
	HMAC(EVP_sha256(), stored, 32, (unsigned char *)auth, strlen(auth), sig,
	    &len);
	for (k = 0; k < 32; k++)
		proof[k] = ckey[k] ^ sig[k];
	b64enc(proof, 32, proof64);
	return snprintf(out, outsz, "%s,p=%s", without, proof64) >= (int)outsz ?
	    -1 : 0;
}

static void start_one(struct client *c);

static void
auth_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct client *c = arg;
	char out[512];
	unsigned char mac[16];
	unsigned len = 16, k;

	if (res->status == SKSECRET_CONTINUE) {
		if (strcmp(mech, "CRAM-MD5") == 0) {
			int n;

			HMAC(EVP_md5(), c->u->pass, (int)strlen(c->u->pass),
			    res->data, res->len, mac, &len);
			n = snprintf(out, sizeof(out), "%s ", c->u->name);
			for (k = 0; k < 16; k++)
				n += snprintf(out + n, sizeof(out) - (size_t)n,
				    "%02x", mac[k]);
			sksecret_req_continue(req, out, (size_t)n);
		} else if (strncmp(mech, "SCRAM", 5) == 0) {
			if (c->final_sent) {	/* v=...: the server's proof */
				sksecret_req_continue(req, "", 0);
				return;
			}
			if (scram_final(c, res->data, res->len, out,
			    sizeof(out)) != 0) {
				sksecret_req_cancel(req);
				nerr++;
				c->busy = 0;
				return;
			}
			c->final_sent = 1;
			sksecret_req_continue(req, out, strlen(out));
		} else
			sksecret_req_continue(req, "", 0);
		return;
	}
	c->busy = 0;
	if (res->status == SKSECRET_ERROR)
		nerr++;
	else
		record(c->started, res->status == SKSECRET_SUCCESS);
}

static struct user *
next(void)
{
	struct user *u = &users[next_user];

	next_user = (next_user + 1) % nusers;
	return u;
}

static void
start_one(struct client *c)
{
	struct sksecret_auth_params p;
	char init[256];
	size_t n = 0;

	c->u = next();
	c->final_sent = 0;
	memset(&p, 0, sizeof(p));
	p.mech = mech;
	p.service = "smtp";
	p.remote_ip = "127.0.0.1";	/* one IP: no failures, no penalty */
	if (strcmp(mech, "PLAIN") == 0) {
		size_t ul = strlen(c->u->name), pl = strlen(c->u->pass);

		init[0] = '\0';
		memcpy(init + 1, c->u->name, ul);
		init[1 + ul] = '\0';
		memcpy(init + 2 + ul, c->u->pass, pl);
		n = ul + pl + 2;
		p.initial = (unsigned char *)init;
		p.initial_len = n;
	} else if (strncmp(mech, "SCRAM", 5) == 0) {
		unsigned char rnd[12];

		RAND_bytes(rnd, sizeof(rnd));
		b64enc(rnd, sizeof(rnd), c->nonce);
		snprintf(c->first_bare, sizeof(c->first_bare), "n=%s,r=%s",
		    c->u->name, c->nonce);
		n = (size_t)snprintf(init, sizeof(init), "n,,%s", c->first_bare);
		p.initial = (unsigned char *)init;
		p.initial_len = n;
	}
	c->started = now();
	c->busy = 1;
	if (sksecret_req_start(c->a, &p, auth_cb, c, &c->req) != SKSECRET_OK) {
		nerr++;
		c->busy = 0;
	}
}

static int
run_auth(const char *path, int nc, double secs)
{
	struct client *cl = calloc((size_t)nc, sizeof(*cl));
	struct pollfd *pfd = calloc((size_t)nc, sizeof(*pfd));
	double end;
	int i, r;

	if (cl == NULL || pfd == NULL)
		die("out of memory");
	for (i = 0; i < nc; i++) {
		cl[i].id = i;
		if ((r = sksecret_auth_open(path, &cl[i].a)) != SKSECRET_OK ||
		    (r = sksecret_auth_wait(cl[i].a, 0, 10000)) != SKSECRET_OK) {
			fprintf(stderr, "authbench: %s: %s\n", path,
			    sksecret_strerror(r));
			return 1;
		}
		if (sksecret_auth_mech_flags(cl[i].a, mech) < 0) {
			fprintf(stderr, "authbench: %s not offered\n", mech);
			return 1;
		}
	}
	t_start = now() + 0.5;		/* half a second of warm-up */
	t_end = t_start + secs;
	end = t_end;
	while (now() < end) {
		for (i = 0; i < nc; i++) {
			if (!cl[i].busy)
				start_one(&cl[i]);
			pfd[i].fd = sksecret_auth_fd(cl[i].a);
			pfd[i].events = POLLIN |
			    (sksecret_auth_want_write(cl[i].a) ? POLLOUT : 0);
		}
		if (poll(pfd, (nfds_t)nc, 100) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i < nc; i++)
			if (pfd[i].revents != 0 &&
			    sksecret_auth_step(cl[i].a) != SKSECRET_OK) {
				fprintf(stderr, "authbench: connection lost\n");
				return 1;
			}
	}
	for (i = 0; i < nc; i++)
		sksecret_auth_close(cl[i].a);
	report();
	return nerr == 0 && nfail == 0 ? 0 : 1;
}

/* ---- the saslauthd protocol: a connection per check ---- */

static size_t
mux_request(const struct user *u, unsigned char *buf)
{
	const char *f[4] = { u->name, u->pass, "smtp", mux_realm };
	size_t n = 0, k, l;

	for (k = 0; k < 4; k++) {
		l = strlen(f[k]);
		buf[n++] = (unsigned char)(l >> 8);
		buf[n++] = (unsigned char)l;
		memcpy(buf + n, f[k], l);
		n += l;
	}
	return n;
}

static int
mux_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 &&
	    errno != EINPROGRESS && errno != EAGAIN)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
mux_start(struct client *c, const char *path)
{
	c->u = next();
	c->len = mux_request(c->u, c->buf);
	c->off = 0;
	c->started = now();
	c->busy = 1;
	c->final_sent = 0;	/* 0: sending, 1: reading */
	if ((c->fd = mux_connect(path)) < 0) {
		nerr++;
		c->busy = 0;
	}
}

static int
run_mux(const char *path, int nc, double secs)
{
	struct client *cl = calloc((size_t)nc, sizeof(*cl));
	struct pollfd *pfd = calloc((size_t)nc, sizeof(*pfd));
	ssize_t n;
	int i;

	if (cl == NULL || pfd == NULL)
		die("out of memory");
	t_start = now() + 0.5;
	t_end = t_start + secs;
	while (now() < t_end) {
		for (i = 0; i < nc; i++) {
			if (!cl[i].busy)
				mux_start(&cl[i], path);
			pfd[i].fd = cl[i].busy ? cl[i].fd : -1;
			pfd[i].events = cl[i].final_sent ? POLLIN : POLLOUT;
		}
		if (poll(pfd, (nfds_t)nc, 100) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i < nc; i++) {
			struct client *c = &cl[i];

			if (!c->busy || pfd[i].revents == 0)
				continue;
			if (!c->final_sent) {
				n = send(c->fd, c->buf + c->off, c->len - c->off,
				    MSG_NOSIGNAL);
				if (n > 0 && (c->off += (size_t)n) == c->len) {
					c->final_sent = 1;
					c->off = 0;
				} else if (n <= 0 && errno != EAGAIN)
					goto bad;
				continue;
			}
			n = recv(c->fd, c->buf + c->off, sizeof(c->buf) - c->off, 0);
			if (n < 0 && errno == EAGAIN)
				continue;
			if (n > 0) {
				c->off += (size_t)n;
				if (c->off < 2 || c->off < 2 + (size_t)(c->buf[0] << 8 |
				    c->buf[1]))
					continue;
				record(c->started, c->off >= 4 &&
				    memcmp(c->buf + 2, "OK", 2) == 0);
				close(c->fd);
				c->busy = 0;
				continue;
			}
bad:
			nerr++;
			close(c->fd);
			c->busy = 0;
		}
	}
	for (i = 0; i < nc; i++)
		if (cl[i].busy)
			close(cl[i].fd);
	report();
	return nerr == 0 && nfail == 0 ? 0 : 1;
}

/* ---- the PBKDF2 limit of this machine, with authd's own PBKDF2 ---- */

static unsigned pb_iter;
static double pb_end;

static void *
pb_thread(void *arg)
{
	unsigned long *count = arg;
	unsigned char salt[16] = { 1 }, out[32];

	while (now() < pb_end) {
		scram_pbkdf2(SCRAM_SHA256, "pw-1", 4, salt, sizeof(salt), pb_iter,
		    out);
		++*count;
	}
	return NULL;
}

static int
run_pbkdf2(unsigned iter, double secs)
{
	cpu_set_t set;
	pthread_t th[64];
	unsigned long counts[64] = { 0 }, total = 0;
	int n, i;

	sched_getaffinity(0, sizeof(set), &set);
	n = CPU_COUNT(&set);
	if (n > 64)
		n = 64;
	pb_iter = iter;
	pb_end = now() + secs;
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, pb_thread, &counts[i]);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		total += counts[i];
	}
	printf("pbkdf2_rate=%.0f threads=%d iterations=%u\n",
	    (double)total / secs, n, iter);
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned i;

	bench_prog = "authbench";
	if (argc >= 4 && strcmp(argv[1], "pbkdf2") == 0)
		return run_pbkdf2((unsigned)atoi(argv[2]), atof(argv[3]));
	if (argc == 7 && strcmp(argv[1], "auth") == 0) {
		mech = argv[3];
		nusers = (unsigned)atoi(argv[6]);
	} else if (argc == 7 && strcmp(argv[1], "mux") == 0) {
		mux_realm = argv[3];
		nusers = (unsigned)atoi(argv[6]);
	}
	else {
		fprintf(stderr, "usage: authbench auth SOCKET MECH C SECONDS "
		    "NUSERS\n       authbench mux SOCKET REALM C SECONDS NUSERS\n"
		    "       authbench pbkdf2 ITERATIONS SECONDS\n");
		return 2;
	}
	if (nusers == 0 || (users = calloc(nusers, sizeof(*users))) == NULL ||
	    (samples = malloc(MAX_SAMPLES * sizeof(*samples))) == NULL)
		die("bad user count, or out of memory");
	for (i = 0; i < nusers; i++) {
		snprintf(users[i].name, sizeof(users[i].name), "bench%04u", i);
		snprintf(users[i].pass, sizeof(users[i].pass), "pw-%u", i);
	}
	if (argv[1][0] == 'a') {
		int c = atoi(argv[4]);

		if (c < 1 || c > MAX_CLIENTS)
			die("C: 1 to 256");
		return run_auth(argv[2], c, atof(argv[5]));
	}
	{
		int c = atoi(argv[4]);

		if (c < 1 || c > MAX_CLIENTS)
			die("C: 1 to 256");
		return run_mux(argv[2], c, atof(argv[5]));
	}
}
