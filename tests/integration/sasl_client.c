/*
 * sasl_client.c: a client of authd's auth socket (Dovecot's auth-client
 * protocol, version 1) that runs Cyrus libsasl2's client side of a
 * mechanism, for the integration tests.
 *
 *   sasl_client [-m MINOR] [-s SERVICE] [-r RIP] [-z AUTHZID]
 *               [-c CBTYPE:HEXDATA] [-n] SOCKET MECH USER PASS
 *
 * Standard output gets one result line:
 *   OK user=<user> steps=<CONT lines received>          exit 0
 *   FAIL steps=<CONT lines received> <the reply's fields> exit 1
 *   CBIND-MISMATCH <type>                               exit 3
 * Anything else (connection closed, timeout, protocol trouble, a libsasl2
 * client error, a server that fails mutual authentication) is reported on
 * standard error, exit 2. The mechanisms the server offers are printed on
 * standard error as "MECHS <names>", and each channel binding sent as
 * "CBIND sent <type>". The password is never printed.
 *
 * -c sets SASL_CHANNEL_BINDING, critical, before sasl_client_start. With a
 * single mechanism named, libsasl2 2.1.28 then uses the binding with any
 * mechanism that can (SCRAM and SCRAM-PLUS send "p=<type>") and refuses
 * to start the others (PLAIN: "no mechanism available").
 * -n holds the initial response back until the server's first (empty)
 * CONT asks for it. The password is copied, then overwritten in argv.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sasl/sasl.h>

#include "sasl_client_cb.h"

#ifndef SASL_PLUGIN_DIR
#define SASL_PLUGIN_DIR "/usr/lib/x86_64-linux-gnu/sasl2"
#endif

#define PROTO_LINE_MAX	16384		/* the protocol's limit, LF included */
#define RBUF_SIZE	(PROTO_LINE_MAX + 4096)	/* with some slack */
#define FIELDS_MAX	64
#define IO_TIMEOUT_MS	20000
#define MECHS_MAX	4096
#define REQ_ID		"1"

#define EXIT_AUTH_OK	0
#define EXIT_AUTH_FAIL	1
#define EXIT_TROUBLE	2
#define EXIT_CBIND	3

struct field {
	char *s;	/* unescaped, NUL-terminated (may hold inner NULs) */
	size_t len;
};

static int sock = -1;
static char rbuf[RBUF_SIZE];
static size_t rlen;
static char line[RBUF_SIZE];


static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void usage(void) __attribute__((noreturn));
static void sasl_die(sasl_conn_t *, const char *, int)
    __attribute__((noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sasl_client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_TROUBLE);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the socket; dies after IO_TIMEOUT_MS from start. */
static void
wait_sock(short events, long start)
{
	struct pollfd p;
	long left;
	int r;

	for (;;) {
		left = start + IO_TIMEOUT_MS - now_ms();
		if (left <= 0)
			die("timed out after %d s", IO_TIMEOUT_MS / 1000);
		p.fd = sock;
		p.events = events;
		p.revents = 0;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return;
		if (r == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

static void
write_all(const char *buf, size_t len)
{
	long start = now_ms();
	ssize_t n;

	while (len > 0) {
		wait_sock(POLLOUT, start);
		n = send(sock, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("send: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * The next line, without its LF, into line[]; *len gets its length.
 * Dies when the server closes, times out or sends a line too long.
 */
static void
read_line(size_t *len)
{
	long start = now_ms();
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(rbuf, '\n', rlen);
		if (nl != NULL) {
			*len = (size_t)(nl - rbuf);
			memcpy(line, rbuf, *len);
			line[*len] = '\0';
			rlen -= *len + 1;
			memmove(rbuf, nl + 1, rlen);
			return;
		}
		if (rlen >= sizeof(rbuf))
			die("the server sent a line longer than %zu bytes",
			    sizeof(rbuf));
		wait_sock(POLLIN, start);
		n = read(sock, rbuf + rlen, sizeof(rbuf) - rlen);
		if (n == 0)
			die("the server closed the connection");
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("read: %s", strerror(errno));
		}
		rlen += (size_t)n;
	}
}

/* Dovecot's tab-unescaping, in place; returns the new length. */
static size_t
unescape(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] != '\001' || i + 1 == len) {
			s[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case '0': s[o++] = '\0'; break;
		case '1': s[o++] = '\001'; break;
		case 't': s[o++] = '\t'; break;
		case 'r': s[o++] = '\r'; break;
		case 'n': s[o++] = '\n'; break;
		default: s[o++] = s[i]; break;	/* unknown: the char itself */
		}
	}
	s[o] = '\0';
	return o;
}

/* Splits line[] at TABs into unescaped fields; returns their count. */
static size_t
split_line(size_t len, struct field *f)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (n == FIELDS_MAX)
			die("the server sent a line with more than %d fields",
			    FIELDS_MAX);
		line[i] = '\0';
		f[n].s = line + start;
		f[n].len = unescape(line + start, i - start);
		n++;
		start = i + 1;
	}
	return n;
}

static int
field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->s, s, f->len) == 0;
}

/* The value of "key=value" among fields [from, n), or NULL. */
static const struct field *
find_param(const struct field *f, size_t n, size_t from, const char *key,
    struct field *out)
{
	size_t i, kl = strlen(key);

	for (i = from; i < n; i++)
		if (f[i].len > kl && memcmp(f[i].s, key, kl) == 0 &&
		    f[i].s[kl] == '=') {
			out->s = f[i].s + kl + 1;
			out->len = f[i].len - kl - 1;
			return out;
		}
	return NULL;
}

/* Prints s, with control bytes as '?' so one line stays one line. */
static void
print_safe(FILE *fp, const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		fputc(c < 0x20 || c == 0x7f ? '?' : c, fp);
	}
}

/* An output line under construction, on the heap. */
struct obuf {
	char *p;
	size_t len, cap;
};

/* What exit() wipes and frees, so that sanitizers see no leak. */
static struct obuf b;
static sasl_conn_t *conn;
static int sasl_started;
static char *held;
static unsigned heldlen;
static unsigned char *cbdata;

static void
cleanup(void)
{
	if (conn != NULL)
		sasl_dispose(&conn);
	if (sasl_started)
		sasl_client_done();
	sasl_started = 0;
	if (b.p != NULL) {
		explicit_bzero(b.p, b.cap);
		free(b.p);
		b.p = NULL;
	}
	if (held != NULL) {
		explicit_bzero(held, heldlen);
		free(held);
		held = NULL;
	}
	if (cb_secret != NULL) {
		explicit_bzero(cb_secret->data, cb_secret->len);
		free(cb_secret);
		cb_secret = NULL;
	}
	free(cbdata);
	cbdata = NULL;
}

static void
ob_put(struct obuf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
ob_str(struct obuf *b, const char *s)
{
	ob_put(b, s, strlen(s));
}

/* Appends s with Dovecot's tab-escaping. */
static void
ob_escaped(struct obuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\001': ob_put(b, "\0011", 2); break;
		case '\t': ob_put(b, "\001t", 2); break;
		case '\r': ob_put(b, "\001r", 2); break;
		case '\n': ob_put(b, "\001n", 2); break;
		default: ob_put(b, s, 1); break;
		}
	}
}

/* Sends the line and wipes it: it may carry a password. */
static void
ob_send(struct obuf *b)
{
	ob_put(b, "\n", 1);
	write_all(b->p, b->len);
	explicit_bzero(b->p, b->cap);
	b->len = 0;
}

/* Appends the base64 of data. */
static void
ob_b64(struct obuf *b, const unsigned char *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3) + 1;
	unsigned char *tmp;
	int w;

	if (len > (size_t)PROTO_LINE_MAX * 4 || (tmp = malloc(n)) == NULL)
		die("response too long");
	w = EVP_EncodeBlock(tmp, data, (int)len);
	ob_put(b, (const char *)tmp, (size_t)w);
	explicit_bzero(tmp, n);
	free(tmp);
}

/*
 * Strict base64 decoding into a new buffer with a NUL sentinel (libsasl2
 * wants one after server data). Returns NULL on bad input.
 */
static unsigned char *
b64_decode(const char *s, size_t len, unsigned *outlen)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char *out;
	size_t i, pad = 0;
	int n;

	if (len % 4 != 0)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i < len - 2)
				return NULL;
			pad++;
			continue;
		}
		if (pad > 0 || s[i] == '\0' || strchr(alpha, s[i]) == NULL)
			return NULL;
	}
	if ((out = calloc(1, len / 4 * 3 + 1)) == NULL)
		die("out of memory");
	if (len == 0) {
		*outlen = 0;
		return out;
	}
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	*outlen = (unsigned)((size_t)n - pad);
	out[*outlen] = '\0';
	return out;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sasl_client [-m MINOR] [-s SERVICE] [-r RIP] "
	    "[-z AUTHZID] [-c CBTYPE:HEXDATA] [-n]\n"
	    "                   SOCKET MECH USER PASS\n");
	exit(EXIT_TROUBLE);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "name:hex" into the channel binding; dies on a malformed argument. */
static void
parse_cbind(char *arg, sasl_channel_binding_t *cb, unsigned char **data)
{
	char *colon = strchr(arg, ':');
	size_t hl, i;
	int hi, lo;

	if (colon == NULL || colon == arg)
		die("-c wants CBTYPE:HEXDATA");
	*colon = '\0';
	hl = strlen(colon + 1);
	if (hl % 2 != 0 || hl / 2 > PROTO_LINE_MAX)
		die("-c: bad hex data");
	if ((*data = malloc(hl / 2 + 1)) == NULL)
		die("out of memory");
	for (i = 0; i < hl / 2; i++) {
		hi = hexval(colon[1 + 2 * i]);
		lo = hexval(colon[2 + 2 * i]);
		if (hi < 0 || lo < 0)
			die("-c: bad hex data");
		(*data)[i] = (unsigned char)(hi << 4 | lo);
	}
	cb->name = arg;
	cb->critical = 1;
	cb->len = hl / 2;
	cb->data = *data;
}

static void
sasl_die(sasl_conn_t *conn, const char *what, int r)
{
	die("%s: %s (%s)", what, sasl_errstring(r, NULL, NULL),
	    conn != NULL ? sasl_errdetail(conn) : "-");
}

int
main(int argc, char **argv)
{
	const char *service = "smtp", *rip = "192.0.2.10", *path, *mech;
	const char *pass, *out = NULL, *chosen = NULL;
	unsigned long minor = 4;
	unsigned outlen = 0, inlen;
	unsigned char *in;
	char *end, mechs[MECHS_MAX];
	int opt, no_ir = 0, have_cb = 0, holding = 0, r, client_done, cbtype;
	size_t len, nf, plen, i, ml = 0;
	unsigned steps = 0;
	struct field f[FIELDS_MAX], v;
	struct sockaddr_un addr;
	sasl_channel_binding_t cb;
	sasl_security_properties_t sec;

	memset(&cb, 0, sizeof(cb));
	atexit(cleanup);
	while ((opt = getopt(argc, argv, "m:s:r:z:c:n")) != -1) {
		switch (opt) {
		case 'm':
			errno = 0;
			minor = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    optarg[0] == '-')
				usage();
			break;
		case 's':
			if (optarg[0] == '\0')
				usage();
			service = optarg;
			break;
		case 'r':
			rip = optarg;
			break;
		case 'z':
			cb_authzid = optarg;
			break;
		case 'c':
			parse_cbind(optarg, &cb, &cbdata);
			have_cb = 1;
			break;
		case 'n':
			no_ir = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 4)
		usage();
	path = argv[optind];
	mech = argv[optind + 1];
	cb_authname = argv[optind + 2];
	pass = argv[optind + 3];

	plen = strlen(pass);
	if ((cb_secret = cb_make_secret(pass, plen)) == NULL)
		die("out of memory");
	memset(argv[optind + 3], 'x', plen);	/* out of ps's sight */
	signal(SIGPIPE, SIG_IGN);

	/*
	 * The client side of the mechanism, set up before we connect, as a
	 * real client is: loading libsasl2's plugins can take seconds on a
	 * cold machine, and authd lets a connection that sends nothing go
	 * after io_timeout.
	 */
	if ((r = sasl_client_init(cb_global)) != SASL_OK)
		sasl_die(NULL, "sasl_client_init", r);
	sasl_started = 1;
	if ((r = sasl_client_new(service, "localhost", NULL, NULL, cb_client, 0,
	    &conn)) != SASL_OK)
		sasl_die(NULL, "sasl_client_new", r);
	memset(&sec, 0, sizeof(sec));
	sec.min_ssf = 0;
	sec.max_ssf = 0;
	sec.maxbufsize = 0;
	sec.security_flags = 0;
	if ((r = sasl_setprop(conn, SASL_SEC_PROPS, &sec)) != SASL_OK)
		sasl_die(conn, "sasl_setprop SEC_PROPS", r);
	if (have_cb &&
	    (r = sasl_setprop(conn, SASL_CHANNEL_BINDING, &cb)) != SASL_OK)
		sasl_die(conn, "sasl_setprop CHANNEL_BINDING", r);
	r = sasl_client_start(conn, mech, NULL, &out, &outlen, &chosen);
	if (r != SASL_OK && r != SASL_CONTINUE)
		sasl_die(conn, "sasl_client_start", r);
	client_done = r == SASL_OK;

	/* connect; our VERSION and CPID go first, then the server's list */
	if (strlen(path) >= sizeof(addr.sun_path))
		die("socket path too long");
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path));
	if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) == -1)
		die("connect %s: %s", path, strerror(errno));
	{
		char hello[96];

		snprintf(hello, sizeof(hello), "VERSION\t1\t%lu\nCPID\t%ld\n",
		    minor, (long)getpid());
		write_all(hello, strlen(hello));
	}
	mechs[0] = '\0';
	for (;;) {
		read_line(&len);
		nf = split_line(len, f);
		if (field_is(&f[0], "VERSION")) {
			if (nf < 2 || !field_is(&f[1], "1"))
				die("the server speaks another major version");
		} else if (field_is(&f[0], "MECH") && nf >= 2) {
			if (ml + f[1].len + 2 < sizeof(mechs)) {
				if (ml > 0)
					mechs[ml++] = ' ';
				for (i = 0; i < f[1].len; i++) {
					unsigned char c = (unsigned char)f[1].s[i];

					mechs[ml++] = c <= 0x20 || c == 0x7f ?
					    '?' : (char)c;
				}
				mechs[ml] = '\0';
			}
		} else if (field_is(&f[0], "DONE")) {
			break;
		}
	}
	fprintf(stderr, "MECHS %s\n", mechs);

	if (chosen != NULL)
		fprintf(stderr, "MECH %s\n", chosen);

	/*
	 * AUTH, with the initial response unless -n holds it back. Before
	 * minor 2 an empty resp= means none: an empty initial response waits
	 * for the server's empty CONT, as with -n.
	 */
	ob_str(&b, "AUTH\t" REQ_ID "\t");
	ob_escaped(&b, mech);
	ob_str(&b, "\tservice=");
	ob_escaped(&b, service);
	ob_str(&b, "\trip=");
	ob_escaped(&b, rip);
	if (out != NULL && (no_ir || (outlen == 0 && minor < 2))) {
		if ((held = malloc(outlen + 1)) == NULL)
			die("out of memory");
		memcpy(held, out, outlen);
		heldlen = outlen;
		holding = 1;
	} else if (out != NULL) {
		ob_str(&b, "\tresp=");
		ob_b64(&b, (const unsigned char *)out, outlen);
	}
	ob_send(&b);

	for (;;) {
		read_line(&len);
		nf = split_line(len, f);
		if (!field_is(&f[0], "CONT") && !field_is(&f[0], "OK") &&
		    !field_is(&f[0], "FAIL")) {
			fprintf(stderr, "sasl_client: ignoring a server line "
			    "\"");
			print_safe(stderr, f[0].s, f[0].len);
			fprintf(stderr, "\"\n");
			continue;
		}
		if (nf < 2 || !field_is(&f[1], REQ_ID))
			die("a reply for an id we never sent");

		if (field_is(&f[0], "FAIL")) {
			printf("FAIL steps=%u", steps);
			for (i = 2; i < nf; i++) {
				putchar(' ');
				print_safe(stdout, f[i].s, f[i].len);
			}
			putchar('\n');
			fflush(stdout);
			return EXIT_AUTH_FAIL;
		}

		if (field_is(&f[0], "OK")) {
			if (find_param(f, nf, 2, "resp", &v) != NULL) {
				/* final server data: SCRAM's signature, rspauth */
				if (holding)
					die("OK with final data before our "
					    "first response");
				if ((in = b64_decode(v.s, v.len, &inlen)) == NULL)
					die("bad base64 in OK's resp=");
				out = NULL;
				r = sasl_client_step(conn, (const char *)in, inlen,
				    NULL, &out, &outlen);
				free(in);
				if (r != SASL_OK)
					sasl_die(conn, "the server's final data "
					    "was refused", r);
				client_done = 1;
			}
			if (!client_done)
				die("OK before the mechanism completed on our "
				    "side (no mutual authentication)");
			printf("OK user=");
			if (find_param(f, nf, 2, "user", &v) != NULL)
				print_safe(stdout, v.s, v.len);
			printf(" steps=%u\n", steps);
			fflush(stdout);
			return EXIT_AUTH_OK;
		}

		/* CONT id b64 [channel_binding=type] */
		steps++;
		if (steps > 32)
			die("too many round trips");
		/* a binding we cannot give ends it before any step */
		cbtype = find_param(f, nf, 3, "channel_binding", &v) != NULL;
		if (cbtype && (!have_cb || strlen(cb.name) != v.len ||
		    memcmp(cb.name, v.s, v.len) != 0)) {
			printf("CBIND-MISMATCH ");
			print_safe(stdout, v.s, v.len);
			putchar('\n');
			fflush(stdout);
			return EXIT_CBIND;
		}
		if ((in = b64_decode(nf >= 3 ? f[2].s : "", nf >= 3 ? f[2].len :
		    0, &inlen)) == NULL)
			die("bad base64 in CONT");
		if (holding) {
			/* -n: the server asks for what we held back */
			if (inlen != 0)
				die("a non-empty first challenge for a mechanism "
				    "with an initial response");
			out = held;
			outlen = heldlen;
			holding = 0;
		} else {
			out = NULL;
			outlen = 0;
			r = sasl_client_step(conn, (const char *)in, inlen, NULL,
			    &out, &outlen);
			if (r != SASL_OK && r != SASL_CONTINUE) {
				free(in);
				sasl_die(conn, "sasl_client_step", r);
			}
			client_done = r == SASL_OK;
		}
		free(in);
		ob_str(&b, "CONT\t" REQ_ID "\t");
		if (out != NULL)
			ob_b64(&b, (const unsigned char *)out, outlen);
		if (cbtype) {
			ob_str(&b, "\tchannel_binding=");
			ob_b64(&b, cb.data, cb.len);
			fprintf(stderr, "CBIND sent %s\n", cb.name);
		}
		ob_send(&b);
		if (held != NULL && out == held) {
			explicit_bzero(held, heldlen);
			free(held);
			held = NULL;
		}
	}
}
