/*
 * auth_answer.c: what an auth exchange's step earns: CONT with the next
 * challenge, or a final OK or FAIL, with its log line, its counters and
 * its penalty. Our own failures (the store, memory) are temp_fail and
 * cost the client nothing. Never logs the data exchanged, only lengths.
 */
#include <stdlib.h>
#include <string.h>

#include "auth_conn.h"
#include "b64.h"
#include "err.h"
#include "log.h"

/* Whether a step's result is our fault, not the client's. */
static int
auth_result_temp(int result)
{
	return result == SASL_FAIL || result == SASL_TRYAGAIN ||
	    result == SASL_NOMEM || result == SASL_UNAVAIL;
}

/*
 * Debug: the exchange's step result, with libsasl2's code and detail;
 * never the data itself, only its length.
 */
static void
auth_step_debug(struct auth_req *r)
{
	char detail[LOG_SAFE_MAX * 2];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (r->result == SASL_CONTINUE || r->result == SASL_OK) {
		log_debug("auth: pid %ld: id=%lu mech=%s step: %s (%s), %s of "
		    "%zu bytes", (long)r->ac->c->peer.pid, r->id, r->mech,
		    r->result == SASL_OK ? AUTH_CMD_OK : "CONTINUE",
		    authsasl_code_name(r->result), r->result == SASL_OK ?
		    "final data" : "challenge", r->out.len);
		return;
	}
	authsasl_errdetail(&r->sasl, detail, sizeof(detail));
	log_debug("auth: pid %ld: id=%lu mech=%s step: %s (%s): %s",
	    (long)r->ac->c->peer.pid, r->id, r->mech,
	    auth_result_temp(r->result) ? AUTH_CMD_FAIL " " AUTH_KEY_CODE "="
	    AUTH_FAIL_TEMP : AUTH_CMD_FAIL,
	    authsasl_code_name(r->result), detail);
}

void
auth_reply(struct lconn *c, const char *cmd, unsigned long id,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct sbuf b;

	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if (line_put_cmd(&b, cmd) == SK_OK && line_put_id(&b, id) == SK_OK &&
	    (k1 == NULL || line_put_kv_str(&b, k1, v1) == SK_OK) &&
	    (k2 == NULL || line_put_kv_str(&b, k2, v2) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

void
auth_log(struct auth_req *r, int result)
{
	char authid[SASLDB_AUTHID_MAX + 1] = "?", realm[SASLDB_REALM_MAX + 1] = "?";
	const char *user = authsasl_user(&r->sasl);

	/* "user@realm" split for the log line */
	if (user != NULL)
		sasldb_split_user(user, r->ac->c->a->conf.default_realm, authid,
		    sizeof(authid), realm, sizeof(realm));
	verify_log("auth", authid, realm, r->mech, r->service,
	    r->rip[0] ? r->rip : NULL, result);
}

/*
 * CONT id <b64> [channel_binding=<type>]: the server-first message of a
 * -PLUS exchange asks for the binding data.
 */
static void
auth_answer_cont(struct auth_req *r)
{
	struct lconn *c = r->ac->c;
	struct timeval tv = { (time_t)c->a->conf.exchange_timeout, 0 };
	struct sbuf b, enc;
	int ok;

	r->want_cont = 1;
	if (r->expire != NULL)
		evtimer_add(r->expire, &tv);
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
	ok = b64_encode_sbuf(r->out.data, r->out.len, &enc) == SK_OK &&
	    line_put_cmd(&b, AUTH_CMD_CONT) == SK_OK &&
	    line_put_id(&b, r->id) == SK_OK &&
	    line_put(&b, enc.data, enc.len) == SK_OK;
	if (ok && r->cb_name[0] != '\0' && !r->cb_asked) {
		r->cb_asked = 1;
		ok = line_put_kv_str(&b, AUTH_KEY_CBIND, r->cb_name) == SK_OK;
	}
	if (ok && line_end(&b) == SK_OK)
		lconn_send(c, &b);
	else
		auth_reply(c, AUTH_CMD_FAIL, r->id, AUTH_KEY_CODE,
		    AUTH_FAIL_TEMP, NULL, NULL);
	sbuf_free(&enc);
	sbuf_free(&b);
}

/*
 * OK id user=<user> [auth_user=<authcid>] [resp=<b64>]: auth_user only
 * when the authentication id is not user; the final server data goes
 * with it. The login is kept for the master socket's REQUEST.
 */
static void
auth_answer_ok(struct auth_req *r)
{
	const char *user = authsasl_user(&r->sasl);
	const char *authcid = authsasl_authuser(&r->sasl);
	struct sbuf b, fin;
	int ok;

	if (user == NULL)
		user = "";
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	sbuf_init(&fin, AUTH_PROTO_LINE_MAX);
	ok = line_put_cmd(&b, AUTH_CMD_OK) == SK_OK &&
	    line_put_id(&b, r->id) == SK_OK &&
	    line_put_kv_str(&b, AUTH_KEY_USER, user) == SK_OK;
	if (ok && authcid != NULL && strcmp(authcid, user) != 0)
		ok = line_put_kv_str(&b, AUTH_KEY_AUTH_USER, authcid) == SK_OK;
	if (ok && r->out.len > 0)
		ok = b64_encode_sbuf(r->out.data, r->out.len, &fin) == SK_OK &&
		    line_put_kv_str(&b, AUTH_KEY_RESP,
		    (const char *)fin.data) == SK_OK;
	if (ok && line_end(&b) == SK_OK) {
		lconn_send(r->ac->c, &b);
		master_login_keep(r, user, authcid);
	} else
		auth_reply(r->ac->c, AUTH_CMD_FAIL, r->id, AUTH_KEY_CODE,
		    AUTH_FAIL_TEMP, NULL, NULL);
	sbuf_free(&fin);
	sbuf_free(&b);
}

void
auth_finish(struct auth_req *r)
{
	struct authd *a = r->ac->c->a;
	int why;

	auth_step_debug(r);
	/* answered even when closing: a peer that left just loses it */
	if (r->result == SASL_CONTINUE) {
		auth_answer_cont(r);
		return;
	}
	if (r->result == SASL_OK) {
		a->stats.auth_ok++;
		stats_mech(a, r->mech, 1);
		penalty_ok(a->penalty, r->rip);
		auth_log(r, SK_OK);
		auth_answer_ok(r);
	} else if (auth_result_temp(r->result)) {
		a->stats.auth_error++;
		auth_log(r, SK_ERR_DB);
		auth_reply(r->ac->c, AUTH_CMD_FAIL, r->id, AUTH_KEY_CODE,
		    AUTH_FAIL_TEMP, NULL, NULL);
	} else {
		why = r->sasl.verify_result == SK_ERR_DISABLED ?
		    SK_ERR_DISABLED : r->result == SASL_NOUSER ?
		    SK_ERR_NOTFOUND : SK_ERR_MISMATCH;
		a->stats.auth_fail++;
		stats_mech(a, r->mech, 0);
		penalty_fail(a->penalty, r->rip);
		auth_log(r, why);
		auth_reply(r->ac->c, AUTH_CMD_FAIL, r->id, NULL, NULL, NULL,
		    NULL);
	}
	auth_req_free(r);
}
