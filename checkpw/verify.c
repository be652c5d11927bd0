/*
 * verify.c: one PLAIN exchange with authd on its auth socket, through
 * libsecret's non-blocking side, waited on for a bounded time. authd
 * sees the client's service, addresses and TLS state, so that its log,
 * its penalties and its policies work for Dovecot's clients as for any.
 * The PLAIN response lives in a wiping buffer; nothing here logs.
 */
#include <stdio.h>
#include <string.h>

#include <saslkit/secret.h>

#include "checkpw.h"
#include "err.h"
#include "sbuf.h"

/* An exchange's answer, and whether it came. */
struct verify_ctx {
	struct checkpw_answer *ans;
	int done;
};

static void
verify_temp(struct checkpw_answer *ans, const char *what, const char *detail)
{
	ans->verdict = CHECKPW_TEMP;
	snprintf(ans->why, sizeof(ans->why), "%s%s%s", what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

/* The user authd authenticated: printable, no TAB, and it fits. */
static int
verify_user_ok(const char *u)
{
	size_t i, n = u != NULL ? strlen(u) : 0;

	if (n == 0 || n > CHECKPW_USER_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x21 || u[i] == 0x7f)
			return 0;
	return 1;
}

/* authd's answer to the exchange: once, as it ends. */
static void
verify_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct verify_ctx *v = arg;
	struct checkpw_answer *ans = v->ans;

	v->done = 1;
	switch (res->status) {
	case SKSECRET_CONTINUE:		/* PLAIN has no challenge */
		sksecret_req_cancel(req);
		verify_temp(ans, "authd sent a challenge to PLAIN", NULL);
		break;
	case SKSECRET_SUCCESS:
		if (!verify_user_ok(res->user)) {
			verify_temp(ans, "authd returned an unusable user name",
			    NULL);
			break;
		}
		memcpy(ans->user, res->user, strlen(res->user) + 1);
		ans->verdict = CHECKPW_OK;
		break;
	case SKSECRET_FAILURE:
		if (res->temporary)
			verify_temp(ans, "authd: temporary failure",
			    res->reason);
		else
			ans->verdict = CHECKPW_FAIL;
		break;
	case SKSECRET_ERROR:
		verify_temp(ans, "authd", sksecret_strerror(res->error));
		break;
	}
}

/* PLAIN's response: "" authzid, NUL, user, NUL, password. */
static int
verify_plain(const struct checkpw_input *in, struct sbuf *b)
{
	sbuf_init(b, CHECKPW_INPUT_MAX + 2);
	return sbuf_put_u8(b, 0) == SK_OK &&
	    sbuf_put(b, in->user, in->userlen) == SK_OK &&
	    sbuf_put_u8(b, 0) == SK_OK &&
	    sbuf_put(b, in->pass, in->passlen) == SK_OK ? SK_OK : SK_ERR_LIMIT;
}

/* Runs the exchange on a; its answer goes to v. */
static void
verify_run(struct sksecret_auth *a, const struct sksecret_auth_params *ap,
    const struct checkpw_input *in, int timeout_ms, struct verify_ctx *v)
{
	struct sksecret_auth_params p = *ap;
	struct sbuf resp;
	int r;

	if (verify_plain(in, &resp) != SK_OK) {
		sbuf_free(&resp);
		verify_temp(v->ans, "the PLAIN response is too long", NULL);
		return;
	}
	p.initial = resp.data;
	p.initial_len = resp.len;
	r = sksecret_req_start(a, &p, verify_cb, v, NULL);
	sbuf_free(&resp);		/* libsecret has its own copy */
	if (r == SKSECRET_OK)
		r = sksecret_auth_wait(a, 1, timeout_ms);
	/* an answer that came stands, whatever happened after it */
	if (v->done)
		return;
	verify_temp(v->ans, r == SKSECRET_ERR_TIMEOUT ?
	    "no answer from authd in time" : "authd",
	    r == SKSECRET_ERR_TIMEOUT ? NULL : sksecret_strerror(r));
}

void
checkpw_verify(const char *socket, int timeout_ms,
    const struct checkpw_input *in, const struct checkpw_peer *p,
    struct checkpw_answer *ans)
{
	struct sksecret_auth_params ap;
	struct sksecret_auth *a;
	struct verify_ctx v = { ans, 0 };
	int r;

	memset(ans, 0, sizeof(*ans));
	ans->verdict = CHECKPW_TEMP;		/* until authd says otherwise */
	if ((r = sksecret_auth_open(socket, &a)) != SKSECRET_OK) {
		verify_temp(ans, "cannot reach authd", sksecret_strerror(r));
		return;
	}
	memset(&ap, 0, sizeof(ap));
	ap.mech = "PLAIN";
	ap.service = p->service;
	ap.local_ip = p->lip[0] != '\0' ? p->lip : NULL;
	ap.remote_ip = p->rip[0] != '\0' ? p->rip : NULL;
	ap.local_port = p->lport;
	ap.remote_port = p->rport;
	ap.secured = p->secured;
	verify_run(a, &ap, in, timeout_ms, &v);
	sksecret_auth_close(a);
}
