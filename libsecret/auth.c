/*
 * auth.c: libsecret's client of authd's auth socket, Dovecot's auth-client
 * protocol (common/auth_proto.h), without blocking. One connection
 * carries many exchanges, each by id; the caller's event loop watches the
 * descriptor and calls sksecret_auth_step.
 * Responses and channel-binding data live in wiping buffers. Must never
 * log, exit or raise SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth_proto.h"
#include "b64.h"
#include "err.h"
#include "internal.h"
#include "line.h"
#include "monotime.h"

#define SKS_OUT_MAX	(16u << 20)	/* queued requests, bytes */
#define SKS_MECHS_MAX	64
#define SKS_BUCKETS	256
#define SKS_CBIND_MAX	AUTH_PROTO_CBIND_MAX	/* what authd takes */

struct sksecret_req {
	struct sksecret_req *next, *prev;	/* the connection's list */
	struct sksecret_req *hnext;		/* its bucket by id */
	struct sksecret_auth *a;
	unsigned long id;
	sksecret_auth_fn *fn;
	void *arg;
	sksecret_cbind_fn *cbind;
	void *cbind_arg;
	int want_answer;		/* a CONTINUE was delivered */
	int in_cb, gone;		/* in its callback; cancelled meanwhile */
	struct sbuf cb;			/* channel-binding data to send */
	int has_cb;
};

struct sksecret_auth {
	int fd;
	int dead;			/* the error that ended the connection */
	int in_step, close_pending;
	struct sbuf in, out;
	size_t in_start, out_sent;
	int ready;
	struct {
		char name[64];
		int flags;
	} mech[SKS_MECHS_MAX];
	size_t nmech;
	char mechs[SKS_MECHS_MAX * 65];
	unsigned long next_id;
	struct sksecret_req *reqs;
	size_t nreqs;
	struct sksecret_req *bucket[SKS_BUCKETS];
};

static struct sksecret_req *
req_find(struct sksecret_auth *a, unsigned long id)
{
	struct sksecret_req *r;

	for (r = a->bucket[id % SKS_BUCKETS]; r != NULL; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

/* Takes the request off the connection: no answer reaches it any more. */
static void
req_unlink(struct sksecret_req *r)
{
	struct sksecret_auth *a = r->a;
	struct sksecret_req **p;

	if (r->gone)
		return;
	r->gone = 1;
	for (p = &a->bucket[r->id % SKS_BUCKETS]; *p != NULL; p = &(*p)->hnext)
		if (*p == r) {
			*p = r->hnext;
			break;
		}
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		a->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	a->nreqs--;
}

static void
req_free(struct sksecret_req *r)
{
	req_unlink(r);
	sbuf_free(&r->cb);
	free(r);
}

static int
queue(struct sksecret_auth *a, struct sbuf *line)
{
	int r = sbuf_put(&a->out, line->data, line->len);

	return r == SK_OK ? SKSECRET_OK : r == SK_ERR_NOMEM ?
	    SKSECRET_ERR_NOMEM : SKSECRET_ERR_LIMIT;
}

/* Writes what the socket takes now. */
static int
flush(struct sksecret_auth *a)
{
	ssize_t n;

	while (a->out_sent < a->out.len) {
		n = send(a->fd, a->out.data + a->out_sent,
		    a->out.len - a->out_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SKSECRET_OK;
		if (n <= 0)
			return SKSECRET_ERR_CLOSED;
		a->out_sent += (size_t)n;
	}
	sbuf_reset(&a->out);
	a->out_sent = 0;
	return SKSECRET_OK;
}

/* Calls a request's callback; frees it after a final answer. */
static void
deliver(struct sksecret_req *r, const struct sksecret_result *res)
{
	int final = res->status != SKSECRET_CONTINUE;

	if (final)
		req_unlink(r);
	r->want_answer = !final;
	r->in_cb = 1;
	r->fn(r, res, r->arg);
	r->in_cb = 0;
	if (final || r->gone)
		req_free(r);
}

/* The connection is lost: every open exchange hears it, once. */
static void
lose(struct sksecret_auth *a, int err)
{
	struct sksecret_result res;

	if (a->dead)
		return;
	a->dead = err;
	memset(&res, 0, sizeof(res));
	res.status = SKSECRET_ERROR;
	res.error = err;
	res.temporary = 1;
	res.reason = sksecret_strerror(err);
	while (a->reqs != NULL && !a->close_pending)
		deliver(a->reqs, &res);
}

int
sks_auth_from_fd(int fd, struct sksecret_auth **out)
{
	struct sksecret_auth *a;
	char hello[64];

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		close(fd);
		return SKSECRET_ERR_NOMEM;
	}
	a->fd = fd;
	a->next_id = 1;
	sbuf_init(&a->in, 2 * SKS_LINE_MAX);
	sbuf_init(&a->out, SKS_OUT_MAX);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		sksecret_auth_close(a);
		return SKSECRET_ERR_CLOSED;
	}
	snprintf(hello, sizeof(hello), "VERSION\t%d\t%d\nCPID\t%ld\n",
	    AUTH_PROTO_MAJOR, AUTH_PROTO_MINOR, (long)getpid());
	if (sbuf_put_str(&a->out, hello) != SK_OK || flush(a) != SKSECRET_OK) {
		sksecret_auth_close(a);
		return SKSECRET_ERR_CLOSED;
	}
	*out = a;
	return SKSECRET_OK;
}

SKS_API int
sksecret_auth_open(const char *path, struct sksecret_auth **out)
{
	int fd;

	if (out == NULL)
		return SKSECRET_ERR_INVAL;
	*out = NULL;
	if ((fd = sks_connect(path != NULL ? path : SKSECRET_AUTH_SOCKET)) < 0)
		return fd;
	return sks_auth_from_fd(fd, out);
}

SKS_API void
sksecret_auth_close(struct sksecret_auth *a)
{
	if (a == NULL)
		return;
	if (a->in_step) {
		a->close_pending = 1;
		return;
	}
	while (a->reqs != NULL)
		req_free(a->reqs);
	close(a->fd);
	sbuf_free(&a->in);
	sbuf_free(&a->out);
	free(a);
}

SKS_API int
sksecret_auth_fd(const struct sksecret_auth *a)
{
	return a != NULL ? a->fd : -1;
}

SKS_API int
sksecret_auth_want_write(const struct sksecret_auth *a)
{
	return a != NULL && !a->dead && a->out_sent < a->out.len;
}

SKS_API int
sksecret_auth_ready(const struct sksecret_auth *a)
{
	return a != NULL && a->ready && !a->dead;
}

SKS_API const char *
sksecret_auth_mechs(const struct sksecret_auth *a)
{
	return a != NULL ? a->mechs : "";
}

SKS_API int
sksecret_auth_mech_flags(const struct sksecret_auth *a, const char *mech)
{
	size_t i;

	if (a == NULL || mech == NULL)
		return -1;
	for (i = 0; i < a->nmech; i++)
		if (strcasecmp(a->mech[i].name, mech) == 0)
			return a->mech[i].flags;
	return -1;
}

SKS_API size_t
sksecret_auth_pending(const struct sksecret_auth *a)
{
	return a != NULL ? a->nreqs : 0;
}

/* MECH name flag...: remembered for sksecret_auth_mech_flags. */
static void
on_mech(struct sksecret_auth *a, const struct line_fields *lf)
{
	static const struct {
		const char *name;
		int flag;
	} flags[] = {
		{ AUTH_MECH_PLAINTEXT, SKSECRET_MECH_PLAINTEXT },
		{ AUTH_MECH_DICTIONARY, SKSECRET_MECH_DICTIONARY },
		{ AUTH_MECH_ACTIVE, SKSECRET_MECH_ACTIVE },
		{ AUTH_MECH_ANONYMOUS, SKSECRET_MECH_ANONYMOUS },
		{ AUTH_MECH_MUTUAL, SKSECRET_MECH_MUTUAL_AUTH },
		{ AUTH_MECH_CBIND, SKSECRET_MECH_CHANNEL_BINDING },
		{ AUTH_MECH_FORWARD, SKSECRET_MECH_FORWARD_SECRECY },
	};
	const char *name = line_str(lf, 1);
	size_t i, k, n;

	if (name == NULL || (n = strlen(name)) == 0 || n >= 64 ||
	    a->nmech == SKS_MECHS_MAX || strpbrk(name, " ") != NULL)
		return;
	memcpy(a->mech[a->nmech].name, name, n + 1);
	a->mech[a->nmech].flags = 0;
	for (i = 2; i < lf->n; i++)
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(lf->f[i], flags[k].name) == 0)
				a->mech[a->nmech].flags |= flags[k].flag;
	if (a->nmech > 0)
		strcat(a->mechs, " ");
	strcat(a->mechs, name);
	a->nmech++;
}

/* Decodes base64 data into a wiping buffer. */
static int
decode(const char *b64, size_t len, struct sbuf *out)
{
	unsigned char *tmp;
	size_t n = len / 4 * 3 + 3;
	int r;

	if ((tmp = malloc(n)) == NULL)
		return SKSECRET_ERR_NOMEM;
	r = b64_decode(b64, len, tmp, n, &n) == SK_OK &&
	    sbuf_put(out, tmp, n) == SK_OK ? SKSECRET_OK : SKSECRET_ERR_PROTO;
	explicit_bzero(tmp, len / 4 * 3 + 3);
	free(tmp);
	return r;
}

/* Sends CANCEL id: authd drops the exchange wherever it is. */
static void
send_cancel(struct sksecret_auth *a, unsigned long id)
{
	struct sbuf b;
	char num[24];

	if (a->dead)
		return;
	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, 64);
	if (line_put_cmd(&b, "CANCEL") == SK_OK &&
	    line_put_str(&b, num) == SK_OK && line_end(&b) == SK_OK)
		(void)queue(a, &b);
	sbuf_free(&b);
}

/* CONT id data [channel_binding=type] */
static int
on_cont(struct sksecret_auth *a, struct sksecret_req *r,
    const struct line_fields *lf)
{
	struct sksecret_result res;
	struct sbuf data;
	const char *type;
	const unsigned char *cb;
	size_t tlen, cblen;
	int e;

	if (lf->n < 3 || r->want_answer)
		return SKSECRET_ERR_PROTO;
	sbuf_init(&data, SKS_LINE_MAX);
	if ((e = decode(lf->f[2], lf->len[2], &data)) != SKSECRET_OK) {
		sbuf_free(&data);
		return e;
	}
	memset(&res, 0, sizeof(res));
	if (line_param(lf, 3, "channel_binding", &type, &tlen)) {
		sbuf_reset(&r->cb);
		r->has_cb = r->cbind != NULL &&
		    r->cbind(type, &cb, &cblen, r->cbind_arg) == 0 &&
		    cblen > 0 && cblen <= SKS_CBIND_MAX &&
		    sbuf_put(&r->cb, cb, cblen) == SK_OK;
		if (!r->has_cb) {
			/* we cannot bind: the exchange ends here */
			sbuf_free(&data);
			send_cancel(a, r->id);
			res.status = SKSECRET_ERROR;
			res.error = SKSECRET_ERR_STATE;
			res.reason = "no channel-binding data of the type asked";
			deliver(r, &res);
			return SKSECRET_OK;
		}
	}
	res.status = SKSECRET_CONTINUE;
	res.data = data.data;
	res.len = data.len;
	deliver(r, &res);
	sbuf_free(&data);
	return SKSECRET_OK;
}

/* OK id user=... [resp=...] | FAIL id [reason=] [code=] */
static int
on_end(struct sksecret_req *r, const struct line_fields *lf, int ok)
{
	struct sksecret_result res;
	struct sbuf data;
	const char *v, *user = NULL, *reason = NULL;
	size_t vlen;
	int e;

	memset(&res, 0, sizeof(res));
	sbuf_init(&data, SKS_LINE_MAX);
	if (ok) {
		if (!line_param(lf, 2, "user", &user, &vlen) ||
		    memchr(user, '\0', vlen) != NULL) {
			sbuf_free(&data);
			return SKSECRET_ERR_PROTO;
		}
		if (line_param(lf, 2, "resp", &v, &vlen) &&
		    (e = decode(v, vlen, &data)) != SKSECRET_OK) {
			sbuf_free(&data);
			return e;
		}
		res.status = SKSECRET_SUCCESS;
		res.user = user;
		res.data = data.data;
		res.len = data.len;
	} else {
		if (line_param(lf, 2, "reason", &reason, &vlen) &&
		    memchr(reason, '\0', vlen) != NULL)
			reason = NULL;
		res.status = SKSECRET_FAILURE;
		res.reason = reason;
		res.temporary = line_param(lf, 2, "code", &v, &vlen) &&
		    strcmp(v, AUTH_FAIL_TEMP) == 0;
	}
	deliver(r, &res);
	sbuf_free(&data);
	return SKSECRET_OK;
}

/* One line from authd. */
static int
on_line(struct sksecret_auth *a, char *line, size_t len)
{
	struct line_fields lf;
	struct sksecret_req *r;
	const char *cmd;
	unsigned long id;

	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		return SKSECRET_ERR_PROTO;
	if (strcmp(cmd, "VERSION") == 0) {
		const char *major = line_str(&lf, 1);

		return major != NULL && strcmp(major, "1") == 0 ? SKSECRET_OK :
		    SKSECRET_ERR_PROTO;
	}
	if (strcmp(cmd, "MECH") == 0) {
		on_mech(a, &lf);
		return SKSECRET_OK;
	}
	if (strcmp(cmd, "DONE") == 0) {
		a->ready = 1;
		return SKSECRET_OK;
	}
	if (strcmp(cmd, "CONT") != 0 && strcmp(cmd, "OK") != 0 &&
	    strcmp(cmd, "FAIL") != 0)
		return SKSECRET_OK;	/* SPID, CUID, COOKIE, CANCELLED... */
	if (line_id(line_str(&lf, 1), &id) == -1)
		return SKSECRET_ERR_PROTO;
	if ((r = req_find(a, id)) == NULL)
		return SKSECRET_OK;	/* one we cancelled */
	if (strcmp(cmd, "CONT") == 0)
		return on_cont(a, r, &lf);
	return on_end(r, &lf, strcmp(cmd, "OK") == 0);
}

/* Reads what is there and handles every complete line. */
static int
input(struct sksecret_auth *a)
{
	char *line;
	size_t len;
	ssize_t n;
	int r;

	for (;;) {
		unsigned char buf[8192];
		size_t room = a->in.max - a->in.len;

		/* a line never fills the buffer: sks_take_line says so first */
		n = recv(a->fd, buf, room < sizeof(buf) ? room : sizeof(buf),
		    MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return SKSECRET_OK;
		if (n <= 0)
			return SKSECRET_ERR_CLOSED;
		if (sbuf_put(&a->in, buf, (size_t)n) != SK_OK)
			return SKSECRET_ERR_NOMEM;
		explicit_bzero(buf, (size_t)n);
		while ((r = sks_take_line(&a->in, &a->in_start, &line, &len)) ==
		    1) {
			r = on_line(a, line, len);
			explicit_bzero(line, len);
			if (r != SKSECRET_OK)
				return r;
			if (a->close_pending)
				return SKSECRET_OK;
		}
		if (r < 0)
			return r;
		sks_compact(&a->in, &a->in_start);
	}
}

SKS_API int
sksecret_auth_step(struct sksecret_auth *a)
{
	int r;

	if (a == NULL)
		return SKSECRET_ERR_INVAL;
	if (a->dead)
		return a->dead;
	a->in_step = 1;
	if ((r = flush(a)) == SKSECRET_OK)
		r = input(a);
	if (r == SKSECRET_OK && !a->close_pending)
		r = flush(a);
	if (r != SKSECRET_OK)
		lose(a, r);
	a->in_step = 0;
	if (a->close_pending) {
		sksecret_auth_close(a);
		return SKSECRET_ERR_STATE;
	}
	return r;
}

SKS_API int
sksecret_auth_wait(struct sksecret_auth *a, int all, int timeout_ms)
{
	struct pollfd pfd;
	long long t0;
	int r, left = timeout_ms;

	if (a == NULL)
		return SKSECRET_ERR_INVAL;
	t0 = sk_clock_ms(CLOCK_MONOTONIC);
	for (;;) {
		if (a->dead)
			return a->dead;
		if (all ? a->nreqs == 0 : a->ready)
			return SKSECRET_OK;
		pfd.fd = a->fd;
		pfd.events = POLLIN | (sksecret_auth_want_write(a) ? POLLOUT : 0);
		if (timeout_ms >= 0) {
			left = timeout_ms -
			    (int)(sk_clock_ms(CLOCK_MONOTONIC) - t0);
			if (left <= 0)
				return SKSECRET_ERR_TIMEOUT;
		}
		if ((r = poll(&pfd, 1, left)) < 0 && errno != EINTR)
			return SKSECRET_ERR_CLOSED;
		if (r > 0 && (r = sksecret_auth_step(a)) != SKSECRET_OK)
			return r;
	}
}

/* A value we put on the wire must not be empty or hold a NUL. */
static int
ok_str(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) < 256;
}

SKS_API int
sksecret_req_start(struct sksecret_auth *a,
    const struct sksecret_auth_params *p, sksecret_auth_fn *fn, void *arg,
    struct sksecret_req **out)
{
	struct sksecret_req *r;
	struct sbuf b;
	char num[24], *b64 = NULL;
	size_t n;
	int e = SKSECRET_OK;

	if (out != NULL)
		*out = NULL;
	if (a == NULL || p == NULL || fn == NULL || !ok_str(p->mech) ||
	    !ok_str(p->service) || (p->local_ip != NULL && !ok_str(p->local_ip)) ||
	    (p->remote_ip != NULL && !ok_str(p->remote_ip)) ||
	    p->local_port > 65535 || p->remote_port > 65535 ||
	    strpbrk(p->mech, " \t") != NULL)
		return SKSECRET_ERR_INVAL;
	if (a->dead)
		return a->dead;
	if (a->close_pending)
		return SKSECRET_ERR_STATE;
	if (p->initial != NULL &&
	    b64_encoded_len(p->initial_len) + 1 > SKS_LINE_MAX)
		return SKSECRET_ERR_LIMIT;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return SKSECRET_ERR_NOMEM;
	/* an id no open exchange has */
	do {
		r->id = a->next_id;
		a->next_id = a->next_id == AUTH_PROTO_ID_MAX ? 1 :
		    a->next_id + 1;
	} while (req_find(a, r->id) != NULL);
	r->a = a;
	r->fn = fn;
	r->arg = arg;
	r->cbind = p->cbind;
	r->cbind_arg = p->cbind_arg;
	sbuf_init(&r->cb, SKS_CBIND_MAX);
	snprintf(num, sizeof(num), "%lu", r->id);
	sbuf_init(&b, SKS_LINE_MAX);
	if (line_put_cmd(&b, "AUTH") != SK_OK || line_put_str(&b, num) != SK_OK ||
	    line_put_str(&b, p->mech) != SK_OK ||
	    line_put_kv_str(&b, "service", p->service) != SK_OK ||
	    (p->local_ip != NULL &&
	    line_put_kv_str(&b, "lip", p->local_ip) != SK_OK) ||
	    (p->remote_ip != NULL &&
	    line_put_kv_str(&b, "rip", p->remote_ip) != SK_OK) ||
	    (p->local_port != 0 &&
	    line_put_kv_uint(&b, "lport", p->local_port) != SK_OK) ||
	    (p->remote_port != 0 &&
	    line_put_kv_uint(&b, "rport", p->remote_port) != SK_OK) ||
	    (p->secured && line_put_str(&b, "secured") != SK_OK))
		e = SKSECRET_ERR_LIMIT;
	if (e == SKSECRET_OK && p->initial != NULL) {
		n = b64_encoded_len(p->initial_len) + 1;
		if ((b64 = malloc(n)) == NULL)
			e = SKSECRET_ERR_NOMEM;
		else if (b64_encode(p->initial, p->initial_len, b64, n) != SK_OK ||
		    line_put_kv_str(&b, "resp", b64) != SK_OK)
			e = SKSECRET_ERR_LIMIT;
	}
	if (e == SKSECRET_OK && (line_end(&b) != SK_OK || b.len > SKS_LINE_MAX))
		e = SKSECRET_ERR_LIMIT;
	if (e == SKSECRET_OK)
		e = queue(a, &b);
	if (b64 != NULL) {
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	sbuf_free(&b);
	if (e != SKSECRET_OK) {
		sbuf_free(&r->cb);
		free(r);
		return e;
	}
	r->next = a->reqs;
	if (a->reqs != NULL)
		a->reqs->prev = r;
	a->reqs = r;
	r->hnext = a->bucket[r->id % SKS_BUCKETS];
	a->bucket[r->id % SKS_BUCKETS] = r;
	a->nreqs++;
	/* a failed write shows at the next step, which tells every exchange */
	if (!a->in_step)
		(void)flush(a);
	if (out != NULL)
		*out = r;
	return SKSECRET_OK;
}

SKS_API int
sksecret_req_continue(struct sksecret_req *r, const void *resp, size_t len)
{
	struct sksecret_auth *a;
	struct sbuf b;
	char num[24], *b64, *cb64 = NULL;
	size_t n;
	int e = SKSECRET_OK;

	if (r == NULL || (resp == NULL && len > 0))
		return SKSECRET_ERR_INVAL;
	a = r->a;
	if (r->gone || !r->want_answer)
		return SKSECRET_ERR_STATE;
	if (a->dead)
		return a->dead;
	n = b64_encoded_len(len) + 1;
	if (n > SKS_LINE_MAX)
		return SKSECRET_ERR_LIMIT;
	if ((b64 = malloc(n)) == NULL)
		return SKSECRET_ERR_NOMEM;
	snprintf(num, sizeof(num), "%lu", r->id);
	sbuf_init(&b, SKS_LINE_MAX);
	if (b64_encode(resp, len, b64, n) != SK_OK ||
	    line_put_cmd(&b, "CONT") != SK_OK || line_put_str(&b, num) != SK_OK ||
	    line_put_str(&b, b64) != SK_OK)
		e = SKSECRET_ERR_LIMIT;
	if (e == SKSECRET_OK && r->has_cb) {
		n = b64_encoded_len(r->cb.len) + 1;
		if ((cb64 = malloc(n)) == NULL)
			e = SKSECRET_ERR_NOMEM;
		else if (b64_encode(r->cb.data, r->cb.len, cb64, n) != SK_OK ||
		    line_put_kv_str(&b, "channel_binding", cb64) != SK_OK)
			e = SKSECRET_ERR_LIMIT;
	}
	if (e == SKSECRET_OK && line_end(&b) != SK_OK)
		e = SKSECRET_ERR_LIMIT;
	if (e == SKSECRET_OK && (e = queue(a, &b)) == SKSECRET_OK) {
		r->want_answer = 0;
		r->has_cb = 0;
		sbuf_reset(&r->cb);
	}
	explicit_bzero(b64, strlen(b64));
	free(b64);
	if (cb64 != NULL) {
		explicit_bzero(cb64, strlen(cb64));
		free(cb64);
	}
	sbuf_free(&b);
	if (e == SKSECRET_OK && !a->in_step)
		(void)flush(a);
	return e;
}

SKS_API void
sksecret_req_cancel(struct sksecret_req *r)
{
	if (r == NULL || r->gone)
		return;
	send_cancel(r->a, r->id);
	if (r->in_cb)
		req_unlink(r);		/* freed once its callback returns */
	else
		req_free(r);
	/* flushed by the next step or request */
}
