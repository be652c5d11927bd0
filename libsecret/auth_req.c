/*
 * auth_req.c: the exchanges of libsecret's auth client, one per request
 * id on a connection: AUTH to start one, CONT to answer authd's
 * challenge, CANCEL to give it up, and the caller's callback for each
 * answer. Responses and channel-binding data are encoded in wiping
 * buffers. Must never log, exit or raise SIGPIPE.
 */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "sks_auth.h"

struct sksecret_req *
sks_req_find(struct sksecret_auth *a, unsigned long id)
{
	struct sksecret_req *r;

	for (r = a->bucket[id % SKS_BUCKETS]; r != NULL; r = r->hnext)
		if (r->id == id)
			return r;
	return NULL;
}

void
sks_req_unlink(struct sksecret_req *r)
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

void
sks_req_free(struct sksecret_req *r)
{
	sks_req_unlink(r);
	sbuf_free(&r->cb);
	free(r);
}

void
sks_req_deliver(struct sksecret_req *r, const struct sksecret_result *res)
{
	int final = res->status != SKSECRET_CONTINUE;

	if (final)
		sks_req_unlink(r);
	r->want_answer = !final;
	r->in_cb = 1;
	r->fn(r, res, r->arg);
	r->in_cb = 0;
	if (final || r->gone)
		sks_req_free(r);
}

void
sks_req_send_cancel(struct sksecret_auth *a, unsigned long id)
{
	struct sbuf b;

	if (a->dead)
		return;
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if (line_put_cmd(&b, AUTH_CMD_CANCEL) == SK_OK &&
	    line_put_id(&b, id) == SK_OK && line_end(&b) == SK_OK)
		(void)sks_auth_queue(a, &b);
	sbuf_free(&b);
}

/* A string we put in a field: not empty, no NUL, at most max bytes. */
static int
sks_req_str_ok(const char *s, size_t max)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= max;
}

/* Whether the parameters fit the protocol's limits (auth_proto.h). */
static int
sks_req_params_ok(const struct sksecret_auth_params *p)
{
	return sks_req_str_ok(p->mech, AUTH_PROTO_FIELD_MAX) &&
	    strpbrk(p->mech, " \t") == NULL &&
	    sks_req_str_ok(p->service, AUTH_PROTO_SERVICE_MAX) &&
	    (p->local_ip == NULL ||
	    sks_req_str_ok(p->local_ip, AUTH_PROTO_FIELD_MAX)) &&
	    (p->remote_ip == NULL ||
	    sks_req_str_ok(p->remote_ip, AUTH_PROTO_FIELD_MAX)) &&
	    p->local_port <= AUTH_PROTO_PORT_MAX &&
	    p->remote_port <= AUTH_PROTO_PORT_MAX;
}

/* The AUTH line of request r, its initial response encoded in b (wiping). */
static int
sks_req_auth_line(const struct sksecret_req *r,
    const struct sksecret_auth_params *p, struct sbuf *b)
{
	struct sbuf enc;
	int ok, e;

	ok = line_put_cmd(b, AUTH_CMD_AUTH) == SK_OK &&
	    line_put_id(b, r->id) == SK_OK &&
	    line_put_str(b, p->mech) == SK_OK &&
	    line_put_kv_str(b, AUTH_KEY_SERVICE, p->service) == SK_OK &&
	    (p->local_ip == NULL ||
	    line_put_kv_str(b, AUTH_KEY_LIP, p->local_ip) == SK_OK) &&
	    (p->remote_ip == NULL ||
	    line_put_kv_str(b, AUTH_KEY_RIP, p->remote_ip) == SK_OK) &&
	    (p->local_port == 0 ||
	    line_put_kv_uint(b, AUTH_KEY_LPORT, p->local_port) == SK_OK) &&
	    (p->remote_port == 0 ||
	    line_put_kv_uint(b, AUTH_KEY_RPORT, p->remote_port) == SK_OK) &&
	    (!p->secured || line_put_str(b, AUTH_KEY_SECURED) == SK_OK);
	if (ok && p->initial != NULL) {
		sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
		if ((e = b64_encode_sbuf(p->initial, p->initial_len, &enc)) ==
		    SK_OK)
			ok = line_put_kv(b, AUTH_KEY_RESP, enc.data, enc.len) ==
			    SK_OK;
		sbuf_free(&enc);
		if (e == SK_ERR_NOMEM)
			return SKSECRET_ERR_NOMEM;
		ok = ok && e == SK_OK;
	}
	return ok && line_end(b) == SK_OK && b->len <= AUTH_PROTO_LINE_MAX ?
	    SKSECRET_OK : SKSECRET_ERR_LIMIT;
}

/* Puts r on its connection's list and in its bucket by id. */
static void
sks_req_link(struct sksecret_auth *a, struct sksecret_req *r)
{
	r->next = a->reqs;
	if (a->reqs != NULL)
		a->reqs->prev = r;
	a->reqs = r;
	r->hnext = a->bucket[r->id % SKS_BUCKETS];
	a->bucket[r->id % SKS_BUCKETS] = r;
	a->nreqs++;
}

/* A request with an id that no open exchange has; not linked yet. */
static struct sksecret_req *
sks_req_new(struct sksecret_auth *a, const struct sksecret_auth_params *p,
    sksecret_auth_fn *fn, void *arg)
{
	struct sksecret_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	do {
		r->id = a->next_id;
		a->next_id = a->next_id == AUTH_PROTO_ID_MAX ? 1 :
		    a->next_id + 1;
	} while (sks_req_find(a, r->id) != NULL);
	r->a = a;
	r->fn = fn;
	r->arg = arg;
	r->cbind = p->cbind;
	r->cbind_arg = p->cbind_arg;
	sbuf_init(&r->cb, AUTH_PROTO_CBIND_MAX);
	return r;
}

SKS_API int
sksecret_req_start(struct sksecret_auth *a,
    const struct sksecret_auth_params *p, sksecret_auth_fn *fn, void *arg,
    struct sksecret_req **out)
{
	struct sksecret_req *r;
	struct sbuf b;
	int e;

	if (out != NULL)
		*out = NULL;
	if (a == NULL || p == NULL || fn == NULL || !sks_req_params_ok(p))
		return SKSECRET_ERR_INVAL;
	if (a->dead)
		return a->dead;
	if (a->close_pending)
		return SKSECRET_ERR_STATE;
	if (p->initial != NULL &&
	    b64_encoded_len(p->initial_len) + 1 > AUTH_PROTO_LINE_MAX)
		return SKSECRET_ERR_LIMIT;
	if ((r = sks_req_new(a, p, fn, arg)) == NULL)
		return SKSECRET_ERR_NOMEM;
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if ((e = sks_req_auth_line(r, p, &b)) == SKSECRET_OK)
		e = sks_auth_queue(a, &b);
	sbuf_free(&b);
	if (e != SKSECRET_OK) {
		sbuf_free(&r->cb);
		free(r);
		return e;
	}
	sks_req_link(a, r);
	/* a failed write shows at the next step, which tells every exchange */
	if (!a->in_step)
		(void)sks_auth_flush(a);
	if (out != NULL)
		*out = r;
	return SKSECRET_OK;
}

/* The CONT line of r: the response, and the binding data it was asked. */
static int
sks_req_cont_line(const struct sksecret_req *r, const void *resp, size_t len,
    struct sbuf *b)
{
	struct sbuf enc;
	int ok;

	sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
	ok = b64_encode_sbuf(resp, len, &enc) == SK_OK &&
	    line_put_cmd(b, AUTH_CMD_CONT) == SK_OK &&
	    line_put_id(b, r->id) == SK_OK &&
	    line_put(b, enc.data, enc.len) == SK_OK;
	if (ok && r->has_cb) {
		sbuf_reset(&enc);
		ok = b64_encode_sbuf(r->cb.data, r->cb.len, &enc) == SK_OK &&
		    line_put_kv(b, AUTH_KEY_CBIND, enc.data, enc.len) == SK_OK;
	}
	sbuf_free(&enc);
	return ok && line_end(b) == SK_OK ? SKSECRET_OK : SKSECRET_ERR_LIMIT;
}

SKS_API int
sksecret_req_continue(struct sksecret_req *r, const void *resp, size_t len)
{
	struct sksecret_auth *a;
	struct sbuf b;
	int e;

	if (r == NULL || (resp == NULL && len > 0))
		return SKSECRET_ERR_INVAL;
	a = r->a;
	if (r->gone || !r->want_answer)
		return SKSECRET_ERR_STATE;
	if (a->dead)
		return a->dead;
	if (b64_encoded_len(len) + 1 > AUTH_PROTO_LINE_MAX)
		return SKSECRET_ERR_LIMIT;
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if ((e = sks_req_cont_line(r, resp, len, &b)) == SKSECRET_OK &&
	    (e = sks_auth_queue(a, &b)) == SKSECRET_OK) {
		r->want_answer = 0;
		r->has_cb = 0;
		sbuf_reset(&r->cb);
	}
	sbuf_free(&b);
	if (e == SKSECRET_OK && !a->in_step)
		(void)sks_auth_flush(a);
	return e;
}

SKS_API void
sksecret_req_cancel(struct sksecret_req *r)
{
	if (r == NULL || r->gone)
		return;
	sks_req_send_cancel(r->a, r->id);
	if (r->in_cb)
		sks_req_unlink(r);	/* freed once its callback returns */
	else
		sks_req_free(r);
	/* flushed by the next step or request */
}
