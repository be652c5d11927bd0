/*
 * smtpbench.c: load for a submission server. C concurrent sessions, each
 * doing what a mail client does to send one message:
 *
 *   connect, 220, EHLO, STARTTLS, TLS handshake, EHLO, AUTH PLAIN (with an
 *   initial response), MAIL, RCPT, DATA, the message, QUIT
 *
 * one command at a time (no pipelining), for a fixed time, a new session as
 * soon as one ends. Prints sessions/s and the p50/p99 time of a whole
 * session. bench/smtpbench.sh runs it against our smtpd with authd and
 * against a throwaway Postfix with Dovecot's auth, in one run.
 *
 *   smtpbench [-q] [-s MSGSIZE] HOST PORT C SECONDS NUSERS
 *
 * Users are bench0000.. bench<NUSERS-1> with password "pw-<n>", taken in
 * turn; each sends from bench<n>@bench.test to rcpt@bench.test. MSGSIZE
 * (default 2048) is the size of the message body in bytes. -q makes the
 * client ACK every segment at once (see ack_now()). Every session
 * comes from its own loopback source address (127.1.0.0/16 in turn), so a
 * per-IP limit of either server never applies and no address runs out of
 * ports. Any reply other than the expected one is an error: the first few
 * are printed, and the exit status is 1.
 *
 * Output, one line: sessions= secs= rate= p50_ms= p99_ms= errors= acked=
 * tls=. sessions and rate count the sessions that started and ended in the
 * window; acked counts every message the server took (250 after DATA),
 * those of sessions still running at the end included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "bench.h"

#define MAX_SESSIONS	4096
#define MAX_SAMPLES	(4u << 20)
#define MAX_REPLY_LINE	4096	/* a longer reply line is an error */
#define SHOW_ERRORS	5
#define MAX_ERRORS	100	/* then no new session starts */

enum state {
	S_GREETING, S_EHLO1, S_STARTTLS, S_HANDSHAKE, S_EHLO2, S_AUTH,
	S_MAIL, S_RCPT, S_DATA, S_BODY, S_QUIT, S_DONE
};

static const char *state_name[] = {
	"greeting", "EHLO", "STARTTLS", "TLS handshake", "EHLO after TLS",
	"AUTH", "MAIL", "RCPT", "DATA", "end of data", "QUIT", "done"
};

/* the reply each state waits for */
static const int expect[] = {
	220, 250, 220, 0, 250, 235, 250, 250, 354, 250, 221, 0
};

struct sess {
	struct bufferevent *bev;
	enum state st;
	double started;
	unsigned user;
	unsigned gen;		/* which session this slot now runs */
	int fd;
	int busy;
};

static struct event_base *base;
static SSL_CTX *ctx;
static struct sockaddr_in server;
static struct sess sessions[MAX_SESSIONS];
static unsigned nusers, next_user, next_src;
static char *body;
static size_t bodylen;
static double t_start, t_end;
static int stopping;
static double *samples;
static size_t nsamples;
static unsigned long nok, nerr, nshown;
static unsigned long nacked;	/* 250 to the end of DATA, in or out of the window */
static char tls_version[32];
static const struct timeval session_timeout = { 30, 0 };
static int quick_ack;

/*
 * -q: ACK the server's next segment at once. Linux delays an ACK by up to
 * 40 ms; a server that writes a reply in two pieces without TCP_NODELAY
 * (Postfix after a TLS 1.3 handshake: the session tickets, then the reply
 * to EHLO) waits that long for it (Nagle). Quick ACKs take that stall out
 * and leave the server's own work; the stall stays in without -q.
 */
static void
ack_now(struct sess *s)
{
	int one = 1;

	if (quick_ack)
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}



static void start_session(struct sess *s);

static void
end_session(struct sess *s, int ok, const char *why, const char *line)
{
	double t = now();

	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->busy = 0;
	if (!ok) {
		if (++nerr >= MAX_ERRORS)
			stopping = 1;	/* the run is void anyway */
		if (nshown++ < SHOW_ERRORS)
			fprintf(stderr, "smtpbench: session of bench%04u, at %s: "
			    "%s%s%s\n", s->user, state_name[s->st], why,
			    line != NULL ? ": " : "", line != NULL ? line : "");
	} else if (s->started >= t_start && t <= t_end) {
		nok++;
		if (nsamples < MAX_SAMPLES)
			samples[nsamples++] = t - s->started;
	}
	if (t < t_end && !stopping)
		start_session(s);
	else {
		/* past the end: stop once every session has ended */
		for (size_t i = 0; i < MAX_SESSIONS; i++)
			if (sessions[i].busy)
				return;
		event_base_loopbreak(base);
	}
}

static void
send_str(struct sess *s, const char *str)
{
	bufferevent_write(s->bev, str, strlen(str));
}

static void
send_fmt(struct sess *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_fmt(struct sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
}

static void read_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void
start_tls(struct sess *s)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *tls;

	if (ssl == NULL)
		die("SSL_new failed");
	s->st = S_HANDSHAKE;
	tls = bufferevent_openssl_filter_new(base, s->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tls == NULL)	/* libevent may have freed ssl: no way back */
		die("cannot start TLS (out of memory)");
	s->bev = tls;
	bufferevent_setcb(tls, read_cb, NULL, event_cb, s);
	bufferevent_set_timeouts(tls, &session_timeout, &session_timeout);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
}

/* a whole reply with this code came in: the next step of the session */
static void
step(struct sess *s, int code, const char *line)
{
	ack_now(s);
	if (code != expect[s->st]) {
		end_session(s, 0, "unexpected reply", line);
		return;
	}
	switch (s->st) {
	case S_GREETING:
		send_str(s, "EHLO client.bench.test\r\n");
		s->st = S_EHLO1;
		break;
	case S_EHLO1:
		send_str(s, "STARTTLS\r\n");
		s->st = S_STARTTLS;
		break;
	case S_STARTTLS:
		if (evbuffer_get_length(bufferevent_get_input(s->bev)) != 0) {
			end_session(s, 0, "data after 220 to STARTTLS", NULL);
			return;
		}
		start_tls(s);
		break;
	case S_EHLO2: {
		char plain[96], b64[132];
		int n;

		n = snprintf(plain, sizeof(plain), "%cbench%04u%cpw-%u", 0,
		    s->user, 0, s->user);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, n);
		send_fmt(s, "AUTH PLAIN %s\r\n", b64);
		s->st = S_AUTH;
		break;
	}
	case S_AUTH:
		send_fmt(s, "MAIL FROM:<bench%04u@bench.test>\r\n", s->user);
		s->st = S_MAIL;
		break;
	case S_MAIL:
		send_str(s, "RCPT TO:<rcpt@bench.test>\r\n");
		s->st = S_RCPT;
		break;
	case S_RCPT:
		send_str(s, "DATA\r\n");
		s->st = S_DATA;
		break;
	case S_DATA:
		send_fmt(s, "From: <bench%04u@bench.test>\r\n"
		    "To: <rcpt@bench.test>\r\nSubject: smtpbench\r\n\r\n",
		    s->user);
		bufferevent_write(s->bev, body, bodylen);
		s->st = S_BODY;
		break;
	case S_BODY:
		nacked++;
		send_str(s, "QUIT\r\n");
		s->st = S_QUIT;
		break;
	case S_QUIT:
		s->st = S_DONE;
		end_session(s, 1, NULL, NULL);
		break;
	default:
		end_session(s, 0, "reply out of turn", line);
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct sess *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned gen = s->gen;
	char *line;
	size_t len;

	/* step() may end this session (freeing bev) and start the next */
	while (s->gen == gen && s->bev == bev &&
	    (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		int code;

		if (len < 3 || len > MAX_REPLY_LINE ||
		    line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-')) {
			end_session(s, 0, "malformed reply", line);
			free(line);
			return;
		}
		code = atoi(line);
		if (len > 3 && line[3] == '-') {
			free(line);
			continue;	/* a continuation line */
		}
		step(s, code, line);
		free(line);
		if (s->st == S_HANDSHAKE)
			return;		/* the filter reads from now on */
	}
	if (s->gen == gen && s->bev == bev &&
	    evbuffer_get_length(in) > MAX_REPLY_LINE)
		end_session(s, 0, "reply line too long", NULL);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sess *s = arg;

	if (what & BEV_EVENT_CONNECTED) {
		if (s->st != S_HANDSHAKE)
			return;		/* the TCP connect */
		if (tls_version[0] == '\0') {
			SSL *ssl = bufferevent_openssl_get_ssl(bev);

			snprintf(tls_version, sizeof(tls_version), "%s",
			    SSL_get_version(ssl));
		}
		ack_now(s);
		send_str(s, "EHLO client.bench.test\r\n");
		s->st = S_EHLO2;
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		end_session(s, 0, "timeout", NULL);
	else if (what & BEV_EVENT_EOF)
		end_session(s, 0, "connection closed by the server", NULL);
	else {
		char why[160];
		unsigned long e = bufferevent_get_openssl_error(bev);

		if (e != 0)
			ERR_error_string_n(e, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s",
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		end_session(s, 0, "connection error", why);
	}
}

static void
start_session(struct sess *s)
{
	struct sockaddr_in src;
	int fd, one = 1;

	s->busy = 1;
	s->gen++;
	s->st = S_GREETING;
	s->user = next_user++ % nusers;
	s->started = now();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		die("socket failed");
	s->fd = fd;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	/* each command goes out at once, as one write (no Nagle delay) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	/* 127.1.0.1 .. 127.1.255.254 in turn */
	next_src = next_src % 65534 + 1;
	src.sin_addr.s_addr = htonl(0x7f010000u | next_src);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
		die("cannot bind a 127.1.0.0/16 source address");
	s->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL)
		die("bufferevent_socket_new failed");
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_set_timeouts(s->bev, &session_timeout, &session_timeout);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&server,
	    sizeof(server)) == -1)
		end_session(s, 0, "connect failed",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}


static void
on_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	stopping = 1;
	for (size_t i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].busy)
			return;
	event_base_loopbreak(base);
}

static void
make_body(size_t size)
{
	/* no '.': a line may start anywhere in it, and none may need
	   dot-stuffing or end DATA early */
	static const char text[] = "The quick brown fox jumps over the lazy "
	    "dog and smtpbench counts every byte of it ";
	size_t n = 0;

	body = malloc(size + 128);
	if (body == NULL)
		die("out of memory");
	while (n < size) {
		size_t linelen = 0;

		while (linelen < 72 && n < size) {
			body[n] = text[n % (sizeof(text) - 1)];
			n++;
			linelen++;
		}
		body[n++] = '\r';
		body[n++] = '\n';
	}
	memcpy(body + n, ".\r\n", 3);
	bodylen = n + 3;
}

int
main(int argc, char **argv)
{
	struct event *end_ev;
	struct timeval tv;
	struct rlimit rl;
	double secs, elapsed, p50, p99;
	long nc, msgsize = 2048;
	char *ep;
	int ch;

	bench_prog = "smtpbench";

	while ((ch = getopt(argc, argv, "qs:")) != -1) {
		switch (ch) {
		case 'q':
			quick_ack = 1;
			break;
		case 's':
			msgsize = strtol(optarg, &ep, 10);
			if (*ep != '\0' || msgsize < 1 || msgsize > 50000000)
				die("bad MSGSIZE");
			break;
		default:
			goto usage;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 6) {
usage:
		fprintf(stderr, "usage: smtpbench [-q] [-s MSGSIZE] HOST PORT C "
		    "SECONDS NUSERS\n");
		return 2;
	}
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1)
		die("HOST must be an IPv4 address");
	server.sin_port = htons((unsigned short)strtol(argv[2], &ep, 10));
	if (*ep != '\0' || server.sin_port == 0)
		die("bad PORT");
	nc = strtol(argv[3], &ep, 10);
	if (*ep != '\0' || nc < 1 || nc > MAX_SESSIONS)
		die("C must be 1..4096");
	secs = strtod(argv[4], &ep);
	if (*ep != '\0' || secs <= 0 || secs > 3600)
		die("bad SECONDS");
	nusers = (unsigned)strtoul(argv[5], &ep, 10);
	if (*ep != '\0' || nusers < 1 || nusers > 10000)
		die("NUSERS must be 1..10000");
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	make_body((size_t)msgsize);
	if ((samples = malloc(MAX_SAMPLES * sizeof(*samples))) == NULL)
		die("out of memory");
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);	/* self-signed */
	/* every session is a new client: no resumption */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if ((base = event_base_new()) == NULL)
		die("event_base_new failed");

	t_start = now();
	t_end = t_start + secs;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	end_ev = evtimer_new(base, on_end, NULL);
	evtimer_add(end_ev, &tv);
	for (long i = 0; i < nc; i++)
		start_session(&sessions[i]);
	event_base_dispatch(base);
	elapsed = t_end - t_start;

	percentiles(samples, nsamples, &p50, &p99);
	printf("sessions=%lu secs=%.2f rate=%.1f p50_ms=%.3f p99_ms=%.3f "
	    "errors=%lu acked=%lu tls=%s\n", nok, elapsed, (double)nok / elapsed,
	    p50 * 1e3, p99 * 1e3, nerr, nacked,
	    tls_version[0] ? tls_version : "none");
	event_free(end_ev);
	event_base_free(base);
	SSL_CTX_free(ctx);
	return nerr == 0 && nok > 0 ? 0 : 1;
}
