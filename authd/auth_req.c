/*
 * auth_req.c: the commands on one exchange of the auth protocol (AUTH,
 * CONT and CANCEL) and an exchange's life, from its AUTH to its free.
 * One connection carries many exchanges by id. A client's response is
 * decoded into a wiping buffer; the line it came in is the caller's to
 * wipe. Never logs a response, only its length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_conn.h"
#include "b64.h"
#include "err.h"
#include "log.h"

/* Debug: an AUTH request as the client sent it, resp= hidden. */
static void
auth_req_debug(struct auth_conn *ac, struct line_fields *lf, unsigned long id,
    const char *mech, const char *service)
{
	char m[LOG_SAFE_MAX], sv[LOG_SAFE_MAX], rip[LOG_SAFE_MAX];
	char lip[LOG_SAFE_MAX], resp[sizeof("resp=<hidden> ( base64 bytes)") +
	    LINE_NUM_MAX];
	const char *v;
	size_t vlen;

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_sanitize(mech, strlen(mech), m, sizeof(m));
	log_sanitize(service, strlen(service), sv, sizeof(sv));
	if (line_param(lf, 3, AUTH_KEY_RIP, &v, &vlen))
		log_sanitize(v, vlen, rip, sizeof(rip));
	else
		strcpy(rip, "-");
	if (line_param(lf, 3, AUTH_KEY_LIP, &v, &vlen))
		log_sanitize(v, vlen, lip, sizeof(lip));
	else
		strcpy(lip, "-");
	if (line_param(lf, 3, AUTH_KEY_RESP, &v, &vlen))
		snprintf(resp, sizeof(resp), "resp=<hidden> (%zu base64 bytes)",
		    vlen);
	else
		snprintf(resp, sizeof(resp), "no initial response");
	log_debug("auth: pid %ld: AUTH id=%lu mech=%s service=%s rip=%s lip=%s "
	    "secured=%s %s", (long)ac->c->peer.pid, id, m, sv, rip, lip,
	    line_param(lf, 3, AUTH_KEY_SECURED, &v, NULL) ? "yes" : "no", resp);
}

static struct auth_req *
auth_find(struct auth_conn *ac, unsigned long id)
{
	struct auth_req *r;

	for (r = ac->reqs; r != NULL; r = r->next)
		if (r->id == id && !r->cancelled)
			return r;
	return NULL;
}

void
auth_req_free(struct auth_req *r)
{
	struct auth_req **p;
	unsigned i;

	for (p = &r->ac->reqs; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->ac->nreqs--;
	lconn_keep(r->ac->c, 0);
	if (r->delay != NULL)
		event_free(r->delay);
	if (r->expire != NULL)
		event_free(r->expire);
	authsasl_free(&r->sasl);
	sbuf_free(&r->in);
	sbuf_free(&r->out);
	for (i = 0; i < AUTH_HIST_MAX; i++)
		sbuf_free(&r->hist[i]);
	explicit_bzero(r->cb_data, sizeof(r->cb_data));
	free(r);
}

/*
 * Decodes a base64 client response into the request's wiping buffer; an
 * empty one is still a response: the buffer is there, empty, not NULL.
 */
static int
auth_decode(struct auth_req *r, const char *b64, size_t len)
{
	sbuf_reset(&r->in);
	r->has_in = b64_decode_sbuf(b64, len, &r->in) == SK_OK &&
	    sbuf_terminate(&r->in) == SK_OK;
	if (!r->has_in)
		sbuf_reset(&r->in);
	return r->has_in ? SK_OK : SK_ERR_FORMAT;
}

/*
 * The client never answered our CONT: the exchange ends, so that a stalled
 * SMTP session behind a shared connection (Postfix) does not hold a slot
 * for ever.
 */
static void
auth_expired(evutil_socket_t fd, short what, void *arg)
{
	struct auth_req *r = arg;
	struct lconn *c = r->ac->c;

	(void)fd;
	(void)what;
	log_info("auth: pid %ld: exchange %lu (%s) timed out waiting for the "
	    "client", (long)c->peer.pid, r->id, r->mech);
	auth_reply(c, AUTH_CMD_FAIL, r->id, AUTH_KEY_REASON, "timed out", NULL,
	    NULL);
	auth_req_free(r);
}

/* A new exchange on ac, in its list; NULL when out of memory. */
static struct auth_req *
auth_req_new(struct auth_conn *ac, unsigned long id, const char *mech,
    const char *service, size_t slen, const struct line_fields *lf)
{
	struct auth_req *r;
	const char *v;
	size_t vlen, i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->ac = ac;
	r->id = id;
	snprintf(r->mech, sizeof(r->mech), "%s", mech);
	r->plus = mech_is_plus(mech);
	memcpy(r->service, service, slen);
	if (line_param(lf, 3, AUTH_KEY_RIP, &v, &vlen) && vlen < sizeof(r->rip))
		memcpy(r->rip, v, vlen);
	sbuf_init(&r->in, AUTH_PROTO_LINE_MAX);
	sbuf_init(&r->out, AUTH_PROTO_LINE_MAX);
	for (i = 0; i < AUTH_HIST_MAX; i++)
		sbuf_init(&r->hist[i], AUTH_PROTO_LINE_MAX);
	r->next = ac->reqs;
	ac->reqs = r;
	ac->nreqs++;
	lconn_keep(ac->c, 1);
	if ((r->expire = evtimer_new(ac->c->a->base, auth_expired, r)) ==
	    NULL) {
		auth_req_free(r);
		return NULL;
	}
	return r;
}

/* Ends an exchange that cannot start: FAIL with a reason and a code. */
static int
auth_req_refuse(struct auth_req *r, const char *reason, const char *code)
{
	auth_reply(r->ac->c, AUTH_CMD_FAIL, r->id, reason != NULL ?
	    AUTH_KEY_REASON : AUTH_KEY_CODE, reason != NULL ? reason : code,
	    reason != NULL && code != NULL ? AUTH_KEY_CODE : NULL, code);
	auth_req_free(r);
	return 0;
}

/* resp= ends AUTH's parameters: nothing after it is read. */
static void
auth_params_end(struct line_fields *lf)
{
	size_t i, k = strlen(AUTH_KEY_RESP);

	for (i = 3; i < lf->n; i++)
		if (lf->len[i] > k && memcmp(lf->f[i], AUTH_KEY_RESP, k) == 0 &&
		    lf->f[i][k] == '=') {
			lf->n = i + 1;
			return;
		}
}

/* AUTH id mech service=... [params] [resp=b64] */
int
auth_cmd_auth(struct auth_conn *ac, struct line_fields *lf)
{
	const char *mech = line_str(lf, 2), *service, *v;
	char canon[AUTH_PROTO_MECH_MAX + 1];
	struct auth_req *r;
	unsigned long id;
	size_t vlen, slen;

	if (line_id(line_str(lf, 1), &id) == -1 || mech == NULL)
		return -1;
	auth_params_end(lf);
	if (!line_param(lf, 3, AUTH_KEY_SERVICE, &service, &slen) ||
	    slen == 0 || slen > AUTH_PROTO_SERVICE_MAX ||
	    auth_find(ac, id) != NULL)
		return -1;
	auth_req_debug(ac, lf, id, mech, service);
	if (ac->nreqs >= AUTH_REQS_MAX) {
		auth_reply(ac->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON, "too many "
		    "exchanges on this connection", AUTH_KEY_CODE,
		    AUTH_FAIL_TEMP);
		return 0;
	}
	if (!auth_mech_offered(ac, mech, strlen(mech), canon)) {
		log_debug("auth: pid %ld: id=%lu: mechanism not offered to "
		    "this client", (long)ac->c->peer.pid, id);
		auth_reply(ac->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON,
		    "unsupported mechanism", NULL, NULL);
		return 0;
	}
	if ((r = auth_req_new(ac, id, canon, service, slen, lf)) == NULL)
		return -1;
	if (authsasl_new(&r->sasl, r->service, NULL, r->rip) != SK_OK)
		return auth_req_refuse(r, NULL, AUTH_FAIL_TEMP);
	/* before minor 2, an empty resp= means no initial response (Exim) */
	if (line_param(lf, 3, AUTH_KEY_RESP, &v, &vlen) &&
	    (vlen > 0 || ac->minor >= AUTH_PROTO_MINOR_EMPTY_RESP) &&
	    auth_decode(r, v, vlen) != SK_OK)
		return auth_req_refuse(r, "invalid base64 data",
		    AUTH_FAIL_BASE64);
	if (auth_cbind_begin(r) == -1)
		return auth_cbind_fail(r);
	return auth_start(r) == SK_OK ? 0 : -1;
}

/* CONT id b64 [channel_binding=b64]: only an answer to our CONT. */
int
auth_cmd_cont(struct auth_conn *ac, struct line_fields *lf)
{
	const char *cbv;
	struct auth_req *r;
	unsigned long id;

	/* not while a step or penalty runs */
	if (line_id(line_str(lf, 1), &id) == -1 ||
	    (r = auth_find(ac, id)) == NULL || r->busy || !r->want_cont)
		return -1;
	log_debug("auth: pid %ld: CONT id=%lu resp=<hidden> (%zu base64 "
	    "bytes)%s", (long)ac->c->peer.pid, id, lf->len[2],
	    line_param(lf, 3, AUTH_KEY_CBIND, &cbv, NULL) ?
	    ", with channel-binding data" : "");
	r->want_cont = 0;
	evtimer_del(r->expire);
	if (auth_decode(r, lf->f[2], lf->len[2]) != SK_OK)
		return auth_req_refuse(r, "invalid base64 data",
		    AUTH_FAIL_BASE64);
	if (auth_cbind_begin(r) == -1 || auth_cbind_data(r, lf) == -1)
		return auth_cbind_fail(r);
	return auth_run(r) == SK_OK ? 0 : -1;
}

/*
 * CANCEL id: the client gives up an exchange (Dovecot's lib-auth-client
 * does, when its own client leaves). From minor 4 it is confirmed with
 * CANCELLED id, as Dovecot does, even for an id we do not know.
 */
int
auth_cmd_cancel(struct auth_conn *ac, struct line_fields *lf)
{
	struct auth_req *r;
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1)
		return -1;
	log_debug("auth: pid %ld: CANCEL id=%lu", (long)ac->c->peer.pid, id);
	if (agent_cancel(&ac->agents, id))
		;	/* an agent exchange (agent_cmd.c) */
	else if ((r = auth_find(ac, id)) != NULL) {
		if (r->delay != NULL) {		/* held by its penalty */
			event_free(r->delay);
			r->delay = NULL;
			auth_req_free(r);
			lconn_unhold(ac->c);
		} else if (r->busy)		/* a worker has it: dropped after */
			r->cancelled = 1;
		else
			auth_req_free(r);
	}
	if (ac->minor >= AUTH_PROTO_MINOR_CANCELLED)
		auth_reply(ac->c, AUTH_CMD_CANCELLED, id, NULL, NULL, NULL,
		    NULL);
	return 0;
}
