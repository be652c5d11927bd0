/*
 * secretbench.c: the load generator of bench/secretbench.sh: the secret
 * store's socketmap lookups (as Postfix makes them: one connection per
 * client, lookups back to back) and agent exchanges (libsecret), from C
 * threads at once. Prints one line: count, seconds, rate, p50 and p99
 * latency in ms.
 *
 *   secretbench smap SOCKET MAP KEYFILE C N   N lookups per client, the
 *                                             keys of KEYFILE in turn;
 *                                             every answer must be OK
 *   secretbench agent SOCKET ENTRY C N        N CRAM-MD5 agent exchanges
 *                                             per client (start, then the
 *                                             response to a challenge)
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "bench.h"

#define KEYS_MAX	100000
#define KEY_MAX		300

static const char *sock_path, *map, *entry;
static char (*keys)[KEY_MAX];
static size_t nkeys;
static unsigned per_client;

struct worker {
	pthread_t t;
	unsigned id;
	double *lat;			/* per operation, seconds */
	unsigned done, bad;
};

static int
connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		die("cannot connect to the socketmap socket");
	return fd;
}

/* One netstring reply into buf (its payload, NUL-terminated). */
static int
read_reply(int fd, char *buf, size_t bufsz)
{
	char head[16];
	size_t n = 0, len, got = 0;
	ssize_t r;

	while (n < sizeof(head) - 1 && read(fd, head + n, 1) == 1 &&
	    head[n] != ':')
		n++;
	head[n] = '\0';
	len = strtoul(head, NULL, 10);
	if (len + 1 > bufsz)
		return -1;
	while (got < len + 1) {
		if ((r = read(fd, buf + got, len + 1 - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	buf[len] = '\0';
	return 0;
}

static void *
smap_worker(void *arg)
{
	struct worker *w = arg;
	char req[KEY_MAX + 100], rep[4096];
	int fd = connect_unix(sock_path), n;
	unsigned i;
	double t;

	for (i = 0; i < per_client; i++) {
		const char *k = keys[(w->id * 7919u + i) % nkeys];

		n = snprintf(req, sizeof(req), "%zu:%s %s,", strlen(map) + 1 +
		    strlen(k), map, k);
		t = now();
		if (write(fd, req, (size_t)n) != n ||
		    read_reply(fd, rep, sizeof(rep)) == -1)
			die("the socketmap connection broke");
		w->lat[w->done++] = now() - t;
		if (strncmp(rep, "OK ", 3) != 0)
			w->bad++;
	}
	close(fd);
	return NULL;
}

static void *
agent_worker(void *arg)
{
	static const char challenge[] = "<1896.697170952@postoffice.example.net>";
	struct worker *w = arg;
	struct sksecret_agent *ag;
	const unsigned char *resp;
	size_t len;
	unsigned i;
	int flags;
	double t;

	if (sksecret_agent_open(sock_path, 10000, &ag) != SKSECRET_OK)
		die("cannot open an agent connection");
	for (i = 0; i < per_client; i++) {
		t = now();
		if (sksecret_agent_start(ag, entry, "CRAM-MD5", NULL, &resp, &len,
		    &flags) != SKSECRET_OK ||
		    sksecret_agent_step(ag, challenge, sizeof(challenge) - 1,
		    &resp, &len, &flags) != SKSECRET_OK ||
		    !(flags & SKSECRET_AGENT_DONE) || len == 0)
			w->bad++;
		w->lat[w->done++] = now() - t;
	}
	sksecret_agent_close(ag);
	return NULL;
}

static void
load_keys(const char *file)
{
	FILE *fp = fopen(file, "r");

	if (fp == NULL || (keys = calloc(KEYS_MAX, KEY_MAX)) == NULL)
		die("cannot read the key file");
	while (nkeys < KEYS_MAX && fgets(keys[nkeys], KEY_MAX, fp) != NULL) {
		keys[nkeys][strcspn(keys[nkeys], "\n")] = '\0';
		if (keys[nkeys][0] != '\0')
			nkeys++;
	}
	fclose(fp);
	if (nkeys == 0)
		die("no key in the key file");
}

/* Runs c workers of fn, then prints the totals. */
static int
run(unsigned c, void *(*fn)(void *))
{
	struct worker *w = calloc(c, sizeof(*w));
	double t0, secs, p50, p99, *all;
	unsigned i, bad = 0;
	size_t n = 0;

	if (w == NULL || (all = calloc((size_t)c * per_client,
	    sizeof(double))) == NULL)
		die("out of memory");
	t0 = now();
	for (i = 0; i < c; i++) {
		w[i].id = i;
		if ((w[i].lat = calloc(per_client, sizeof(double))) == NULL ||
		    pthread_create(&w[i].t, NULL, fn, &w[i]) != 0)
			die("cannot start a worker");
	}
	for (i = 0; i < c; i++) {
		pthread_join(w[i].t, NULL);
		memcpy(all + n, w[i].lat, w[i].done * sizeof(double));
		n += w[i].done;
		bad += w[i].bad;
	}
	secs = now() - t0;
	percentiles(all, n, &p50, &p99);
	printf("count=%zu bad=%u secs=%.3f rate=%.0f p50_ms=%.3f p99_ms=%.3f\n",
	    n, bad, secs, (double)n / secs, p50 * 1e3, p99 * 1e3);
	return bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	bench_prog = "secretbench";
	if (argc == 7 && strcmp(argv[1], "smap") == 0) {
		sock_path = argv[2];
		map = argv[3];
		load_keys(argv[4]);
		per_client = (unsigned)strtoul(argv[6], NULL, 10);
		return run((unsigned)strtoul(argv[5], NULL, 10), smap_worker);
	}
	if (argc == 6 && strcmp(argv[1], "agent") == 0) {
		sock_path = argv[2];
		entry = argv[3];
		per_client = (unsigned)strtoul(argv[5], NULL, 10);
		return run((unsigned)strtoul(argv[4], NULL, 10), agent_worker);
	}
	fprintf(stderr, "usage: secretbench smap SOCKET MAP KEYFILE C N | "
	    "agent SOCKET ENTRY C N\n");
	return 2;
}
