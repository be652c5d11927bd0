/*
 * auth.c: the auth listener: Dovecot's auth-client protocol, version 1,
 * server side (auth_proto.h). Clients: Postfix (smtpd_sasl_type = dovecot),
 * doveadm auth test, Exim. One connection carries many exchanges by id;
 * every libsasl2 step runs on a worker thread, so a slow check never
 * stalls another client. Responses are decoded into wiping buffers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth_proto.h"
#include "authsasl.h"
#include "b64.h"
#include "err.h"
#include "lconn.h"
#include "line.h"
#include "log.h"

#define AUTH_REQS_MAX 1024	/* exchanges open on one connection */
#define AUTH_HIST_MAX 4		/* client messages kept for a replay */
#define AUTH_CBIND_NAME_MAX 32	/* a channel-binding type: tls-unique... */
#define AUTH_CBIND_DATA_MAX AUTH_PROTO_CBIND_MAX	/* 12 to 64 in practice */

struct auth_req;

struct auth_conn {
	struct lconn *c;
	int versioned;
	unsigned long minor;
	int handshaken;			/* MECH...DONE sent */
	int cbind;			/* -PLUS forms were offered */
	struct event *hs_wait;		/* for a client that reads first */
	struct auth_req *reqs;
	unsigned nreqs;
};

struct auth_req {
	struct auth_req *next;
	struct auth_conn *ac;
	unsigned long id;
	char mech[64];
	char service[64];
	char rip[64];
	int started, busy;
	int cancelled;			/* by CANCEL while a worker has it */
	int want_cont;			/* we sent CONT: the client may answer */
	struct event *delay;		/* a penalty holds the exchange back */
	struct event *expire;		/* the client's answer is overdue */
	struct authsasl_req sasl;
	struct sbuf in;			/* the client's response: wiping */
	int has_in;
	struct sbuf out;		/* the server's challenge */
	int result;
	/*
	 * The client's messages so far, for a step that was tried inline and
	 * deferred: a worker replays them on a fresh libsasl2 connection.
	 */
	struct sbuf hist[AUTH_HIST_MAX];	/* wiping */
	int hist_has[AUTH_HIST_MAX];
	unsigned nhist;
	int replay;
	/* -PLUS: the type named in the client's GS2 header, then its data */
	int plus, cb_asked, cb_given;
	char cb_name[AUTH_CBIND_NAME_MAX + 1];
	unsigned char cb_data[AUTH_CBIND_DATA_MAX];
	sasl_channel_binding_t cb;
};

static unsigned long auth_cuid;

/*
 * Debug: the exchange's step result, with libsasl2's code and detail;
 * never the data itself, only its length.
 */
static void
auth_step_debug(struct auth_req *r)
{
	char detail[256];
	const char *what;

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (r->result == SASL_CONTINUE) {
		log_debug("auth: pid %ld: id=%lu mech=%s step: CONTINUE (%s), "
		    "challenge of %zu bytes", (long)r->ac->c->peer.pid, r->id,
		    r->mech, authsasl_code_name(r->result), r->out.len);
		return;
	}
	if (r->result == SASL_OK) {
		log_debug("auth: pid %ld: id=%lu mech=%s step: OK (%s), final "
		    "data of %zu bytes", (long)r->ac->c->peer.pid, r->id,
		    r->mech, authsasl_code_name(r->result), r->out.len);
		return;
	}
	what = r->result == SASL_FAIL || r->result == SASL_TRYAGAIN ||
	    r->result == SASL_NOMEM || r->result == SASL_UNAVAIL ?
	    "FAIL code=temp_fail" : "FAIL";
	authsasl_errdetail(&r->sasl, detail, sizeof(detail));
	log_debug("auth: pid %ld: id=%lu mech=%s step: %s (%s): %s",
	    (long)r->ac->c->peer.pid, r->id, r->mech, what,
	    authsasl_code_name(r->result), detail);
}

/* Debug: an AUTH request as the client sent it, resp= hidden. */
static void
auth_req_debug(struct auth_conn *ac, struct line_fields *lf, unsigned long id,
    const char *mech, const char *service)
{
	char m[64], sv[LOG_SAFE_MAX], rip[64], lip[64], resp[48];
	const char *v;
	size_t vlen;

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_sanitize(mech, strlen(mech), m, sizeof(m));
	log_sanitize(service, strlen(service), sv, sizeof(sv));
	if (line_param(lf, 3, "rip", &v, &vlen))
		log_sanitize(v, vlen, rip, sizeof(rip));
	else
		strcpy(rip, "-");
	if (line_param(lf, 3, "lip", &v, &vlen))
		log_sanitize(v, vlen, lip, sizeof(lip));
	else
		strcpy(lip, "-");
	if (line_param(lf, 3, "resp", &v, &vlen))
		snprintf(resp, sizeof(resp), "resp=<hidden> (%zu base64 bytes)",
		    vlen);
	else
		snprintf(resp, sizeof(resp), "no initial response");
	log_debug("auth: pid %ld: AUTH id=%lu mech=%s service=%s rip=%s lip=%s "
	    "secured=%s %s", (long)ac->c->peer.pid, id, m, sv, rip, lip,
	    line_param(lf, 3, "secured", &v, NULL) ? "yes" : "no", resp);
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

static void
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
	free(r);
}

/* Sends "CMD id" and optional key=value pairs, ending the line. */
static void
auth_reply(struct lconn *c, const char *cmd, unsigned long id,
    const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct sbuf b;
	char num[24];

	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if (line_put_cmd(&b, cmd) == SK_OK && line_put_str(&b, num) == SK_OK &&
	    (k1 == NULL || line_put_kv_str(&b, k1, v1) == SK_OK) &&
	    (k2 == NULL || line_put_kv_str(&b, k2, v2) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* Sends "CONT id <b64> [channel_binding=<type>]". */
static void
auth_cont(struct lconn *c, unsigned long id, const char *b64,
    const char *cbind)
{
	struct sbuf b;
	char num[24];

	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	if (line_put_cmd(&b, "CONT") == SK_OK && line_put_str(&b, num) == SK_OK &&
	    line_put_str(&b, b64) == SK_OK && (cbind == NULL ||
	    line_put_kv_str(&b, "channel_binding", cbind) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* Keeps the step's output, if the step went on. */
static void
auth_keep_out(struct auth_req *r, const char *out, unsigned outlen)
{
	sbuf_reset(&r->out);
	/*
	 * Only a step that went on has output: after a failure libsasl2 may
	 * already have freed what out points to (an authzid refused after
	 * SCRAM's or DIGEST-MD5's last step).
	 */
	if ((r->result == SASL_OK || r->result == SASL_CONTINUE) &&
	    out != NULL && outlen > 0 && sbuf_put(&r->out, out, outlen) != SK_OK)
		r->result = SASL_FAIL;
}

/* One libsasl2 step (inline or on a worker), the input kept for a replay. */
static void
auth_step(struct auth_req *r)
{
	const char *out = NULL;
	unsigned outlen = 0;

	if (r->nhist < AUTH_HIST_MAX) {
		sbuf_reset(&r->hist[r->nhist]);
		r->hist_has[r->nhist] = r->has_in &&
		    sbuf_put(&r->hist[r->nhist], r->in.data, r->in.len) == SK_OK;
	}
	r->nhist++;
	r->result = authsasl_step(&r->sasl, r->mech, r->has_in ?
	    (const char *)r->in.data : NULL, (unsigned)r->in.len, !r->started,
	    &out, &outlen);
	r->started = 1;
	sbuf_reset(&r->in);
	auth_keep_out(r, out, outlen);
}

/*
 * Worker: a deferred step, from the start on a fresh libsasl2 connection,
 * with the client's messages kept so far. Only for exchanges whose server
 * side gives the same answers again: PLAIN and LOGIN, or a first step.
 */
static void
auth_replay(struct auth_req *r)
{
	const char *out = NULL;
	unsigned outlen = 0, i;

	authsasl_free(&r->sasl);
	if (authsasl_new(&r->sasl, r->service, NULL, r->rip) != SK_OK) {
		r->result = SASL_FAIL;
		return;
	}
	if (r->cb_name[0] != '\0')
		authsasl_cbind(&r->sasl, &r->cb);
	for (i = 0; i < r->nhist; i++) {
		r->result = authsasl_step(&r->sasl, r->mech, r->hist_has[i] ?
		    (const char *)r->hist[i].data : NULL,
		    (unsigned)r->hist[i].len, i == 0, &out, &outlen);
		if (i + 1 < r->nhist && r->result != SASL_CONTINUE) {
			r->result = SASL_FAIL;	/* not the same answers */
			return;
		}
	}
	auth_keep_out(r, out, outlen);
}

/* Worker thread: a step, or the replay of a deferred one. */
static void
auth_work(void *arg)
{
	struct auth_req *r = arg;

	sasldb_snapshot_memo(1);	/* for this step only */
	if (r->replay) {
		r->replay = 0;
		auth_replay(r);
	} else
		auth_step(r);
	sasldb_snapshot_memo(0);
}

/* Splits "user@realm" for the log line. */
static void
auth_log(struct auth_req *r, int result)
{
	char authid[SASLDB_AUTHID_MAX + 1] = "?", realm[SASLDB_REALM_MAX + 1] = "?";
	const char *user = authsasl_user(&r->sasl);

	if (user != NULL)
		sasldb_split_user(user, r->ac->c->a->conf.default_realm, authid,
		    sizeof(authid), realm, sizeof(realm));
	verify_log("auth", authid, realm, r->mech, r->service,
	    r->rip[0] ? r->rip : NULL, result);
}

/*
 * Loop thread: CONT, OK or FAIL back to the client; r is freed after a
 * final answer. Never releases the connection: callers do.
 */
static void
auth_finish(struct auth_req *r)
{
	struct lconn *c = r->ac->c;
	struct authd *a = c->a;
	char *b64;
	size_t n;

	auth_step_debug(r);
	/* answered even when closing: a peer that left just loses it */
	if (r->result == SASL_CONTINUE) {
		struct timeval tv = { (time_t)a->conf.exchange_timeout, 0 };

		r->want_cont = 1;
		if (r->expire != NULL)
			evtimer_add(r->expire, &tv);
		n = b64_encoded_len(r->out.len) + 1;
		if ((b64 = malloc(n)) == NULL ||
		    b64_encode(r->out.data, r->out.len, b64, n) != SK_OK)
			auth_reply(c, "FAIL", r->id, "code", AUTH_FAIL_TEMP, NULL,
			    NULL);
		else {
			/* the server-first message asks for the binding data */
			const char *cb = NULL;

			if (r->cb_name[0] != '\0' && !r->cb_asked) {
				cb = r->cb_name;
				r->cb_asked = 1;
			}
			auth_cont(c, r->id, b64, cb);
		}
		free(b64);
		return;
	} else if (r->result == SASL_OK) {
		const char *user = authsasl_user(&r->sasl);

		char *fin = NULL;
		size_t fn = b64_encoded_len(r->out.len) + 1;

		a->stats.auth_ok++;
		stats_mech(a, r->mech, 1);
		penalty_ok(a->penalty, r->rip);
		auth_log(r, SK_OK);
		/* final server data, if the mechanism has any, goes with OK */
		if (r->out.len > 0 && (fin = malloc(fn)) != NULL &&
		    b64_encode(r->out.data, r->out.len, fin, fn) == SK_OK)
			auth_reply(c, "OK", r->id, "user", user ? user : "",
			    "resp", fin);
		else
			auth_reply(c, "OK", r->id, "user", user ? user : "", NULL,
			    NULL);
		free(fin);
	} else if (r->result == SASL_FAIL || r->result == SASL_TRYAGAIN ||
	    r->result == SASL_NOMEM || r->result == SASL_UNAVAIL) {
		/* our fault, not the client's: no penalty, code=temp_fail */
		a->stats.auth_error++;
		auth_log(r, SK_ERR_DB);
		auth_reply(c, "FAIL", r->id, "code", AUTH_FAIL_TEMP, NULL, NULL);
	} else {
		int why = r->sasl.verify_result == SK_ERR_DISABLED ?
		    SK_ERR_DISABLED : r->result == SASL_NOUSER ?
		    SK_ERR_NOTFOUND : SK_ERR_MISMATCH;

		a->stats.auth_fail++;
		stats_mech(a, r->mech, 0);
		penalty_fail(a->penalty, r->rip);
		auth_log(r, why);
		auth_reply(c, "FAIL", r->id, NULL, NULL, NULL, NULL);
	}
	auth_req_free(r);
}

/* Loop thread: a worker's step is done. */
static void
auth_done(void *arg)
{
	struct auth_req *r = arg;
	struct lconn *c = r->ac->c;

	r->busy = 0;
	if (r->cancelled)		/* the client no longer wants it */
		auth_req_free(r);
	else
		auth_finish(r);
	lconn_release(c);
}

/* Decodes a base64 client response into the request's wiping buffer. */
static int
auth_decode(struct auth_req *r, const char *b64, size_t len)
{
	unsigned char *tmp;
	size_t n;
	int ok;

	sbuf_reset(&r->in);
	if ((tmp = malloc(len / 4 * 3 + 1)) == NULL)
		return SK_ERR_NOMEM;
	ok = b64_decode(b64, len, tmp, len / 4 * 3 + 1, &n) == SK_OK &&
	    sbuf_put(&r->in, tmp, n) == SK_OK;
	explicit_bzero(tmp, len / 4 * 3 + 1);
	free(tmp);
	r->has_in = ok;
	return ok ? SK_OK : SK_ERR_FORMAT;
}

/*
 * A -PLUS exchange: the client's first message must open with the GS2
 * header "p=<type>," (RFC 5802 §7). The type is asked back with the next
 * CONT, as Dovecot does; the data comes with the client's answer. 0 when
 * the header is fine or the message has not come yet.
 */
static int
auth_cbind_begin(struct auth_req *r)
{
	const unsigned char *p = r->in.data;
	size_t i, n = r->in.len;

	if (!r->plus || r->cb_name[0] != '\0' || !r->has_in || n == 0)
		return 0;
	if (n < 4 || p[0] != 'p' || p[1] != '=')
		return -1;
	for (i = 2; i < n && p[i] != ','; i++)
		if (i - 2 >= AUTH_CBIND_NAME_MAX || !(isalnum(p[i]) ||
		    p[i] == '.' || p[i] == '-'))
			return -1;
	if (i == n || i == 2)
		return -1;
	memcpy(r->cb_name, p + 2, i - 2);
	r->cb_name[i - 2] = '\0';
	r->cb.name = r->cb_name;
	r->cb.critical = 1;
	r->cb.len = 0;
	r->cb.data = r->cb_data;
	authsasl_cbind(&r->sasl, &r->cb);
	return 0;
}

/* Takes channel_binding=<b64> from the client's answer to our ask. */
static int
auth_cbind_data(struct auth_req *r, struct line_fields *lf)
{
	const char *v;
	size_t vlen, n;

	if (!r->cb_asked || r->cb_given)
		return 0;
	if (!line_param(lf, 3, "channel_binding", &v, &vlen) ||
	    vlen > b64_encoded_len(AUTH_CBIND_DATA_MAX) ||
	    b64_decode(v, vlen, r->cb_data, sizeof(r->cb_data), &n) != SK_OK ||
	    n == 0)
		return -1;
	r->cb.len = (unsigned)n;
	r->cb_given = 1;
	return 0;
}

static int
auth_submit(struct auth_req *r)
{
	r->busy = 1;
	lconn_hold(r->ac->c);
	if (pool_submit(r->ac->c->a->pool, auth_work, auth_done, r) != SK_OK) {
		r->busy = 0;
		lconn_unhold(r->ac->c);
		return SK_ERR_NOMEM;
	}
	return SK_OK;
}

/*
 * Runs a step: inline on the loop thread when it is cheap, which is most
 * of them (a plaintext or cached PLAIN, SCRAM and CRAM steps); when it
 * would wait or burn a core (PBKDF2, PAM, a busy store), it is deferred
 * and replayed on a worker. Never frees the connection.
 */
static int
auth_run(struct auth_req *r)
{
	int deferred;

	verify_inline_begin();
	auth_step(r);
	deferred = verify_inline_end();
	if (!deferred) {
		auth_finish(r);
		return SK_OK;
	}
	if (r->nhist > AUTH_HIST_MAX || (r->nhist > 1 &&
	    strcmp(r->mech, "PLAIN") != 0 && strcmp(r->mech, "LOGIN") != 0)) {
		/* a later step of a mechanism with random challenges: rare */
		log_debug("auth: pid %ld: id=%lu needs a worker at step %u, "
		    "which cannot be replayed", (long)r->ac->c->peer.pid, r->id,
		    r->nhist);
		r->result = SASL_TRYAGAIN;
		auth_finish(r);
		return SK_OK;
	}
	log_debug("auth: pid %ld: id=%lu step deferred to a worker",
	    (long)r->ac->c->peer.pid, r->id);
	r->replay = 1;
	return auth_submit(r);
}

/* The penalty is served: the exchange starts now. */
static void
auth_delayed(evutil_socket_t fd, short what, void *arg)
{
	struct auth_req *r = arg;
	struct lconn *c = r->ac->c;

	(void)fd;
	(void)what;
	event_free(r->delay);
	r->delay = NULL;
	r->busy = 0;
	/* even when closing: a request waiting on its penalty is in flight */
	(void)auth_run(r);	/* a worker may hold the connection now */
	lconn_release(c);	/* may free the connection (and r, on error) */
}

/*
 * Starts an exchange, after the penalty its client IP has earned: a timer,
 * so that nothing else waits.
 */
static int
auth_start(struct auth_req *r)
{
	struct authd *a = r->ac->c->a;
	unsigned ms = penalty_delay_ms(a->penalty, r->rip);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (ms == 0)
		return auth_run(r);
	if (log_enabled(LOG_LVL_DEBUG)) {
		char ip[sizeof(r->rip) * 4];

		log_debug("auth: pid %ld: id=%lu held back %u ms by the penalty "
		    "of rip=%s", (long)r->ac->c->peer.pid, r->id, ms,
		    log_sanitize(r->rip[0] ? r->rip : "-", r->rip[0] ?
		    strlen(r->rip) : 1, ip, sizeof(ip)));
	}
	a->stats.penalised++;
	if ((r->delay = evtimer_new(a->base, auth_delayed, r)) == NULL ||
	    evtimer_add(r->delay, &tv) == -1)
		return SK_ERR_NOMEM;
	r->busy = 1;	/* held by the timer: no CONT, no other step */
	lconn_hold(r->ac->c);
	return SK_OK;
}

/*
 * Finds mech among those we offer this client, ignoring case as Dovecot
 * and libsasl2 do; canon (64 bytes) gets the name as we spell it.
 */
static int
auth_mech_offered(struct auth_conn *ac, const char *mech, char *canon)
{
	const char *p = ac->c->a->sasl_mechs;
	size_t n = strlen(mech), len;

	if (n == 0 || n >= 64)
		return 0;
	while (*p != '\0') {
		len = strcspn(p, " ");
		if (len == n && strncasecmp(p, mech, n) == 0) {
			memcpy(canon, p, n);
			canon[n] = '\0';
			return strstr(canon, "-PLUS") == NULL || ac->cbind;
		}
		p += len + (p[len] == ' ');
	}
	return 0;
}

/*
 * A -PLUS exchange without a usable binding: a failed attempt, logged and
 * penalised like a wrong password, since the client may be a downgrade.
 */
static int
auth_cbind_fail(struct auth_req *r)
{
	struct lconn *c = r->ac->c;
	struct authd *a = c->a;

	a->stats.auth_fail++;
	stats_mech(a, r->mech, 0);
	penalty_fail(a->penalty, r->rip);
	auth_log(r, SK_ERR_MISMATCH);
	auth_reply(c, "FAIL", r->id, "reason", "channel binding failed", NULL,
	    NULL);
	auth_req_free(r);
	return 0;
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
	auth_reply(c, "FAIL", r->id, "reason", "timed out", NULL, NULL);
	auth_req_free(r);
}

/* AUTH id mech service=... [params] [resp=b64] */
static int
auth_cmd_auth(struct auth_conn *ac, struct line_fields *lf)
{
	const char *mech = line_str(lf, 2), *service, *v;
	char canon[64];
	struct auth_req *r;
	unsigned long id;
	size_t vlen, i, n, end = lf->n;

	if (line_id(line_str(lf, 1), &id) == -1 || mech == NULL)
		return -1;
	/* resp= ends the parameters: nothing after it is read */
	for (i = 3; i < lf->n; i++)
		if (lf->len[i] >= 5 && memcmp(lf->f[i], "resp=", 5) == 0) {
			end = i + 1;
			break;
		}
	lf->n = end;
	if (!line_param(lf, 3, "service", &service, &vlen) || vlen == 0 ||
	    vlen >= 64 || auth_find(ac, id) != NULL)
		return -1;
	auth_req_debug(ac, lf, id, mech, service);
	if (ac->nreqs >= AUTH_REQS_MAX) {
		auth_reply(ac->c, "FAIL", id, "reason", "too many exchanges on "
		    "this connection", "code", AUTH_FAIL_TEMP);
		return 0;
	}
	if (!auth_mech_offered(ac, mech, canon)) {
		log_debug("auth: pid %ld: id=%lu: mechanism not offered to "
		    "this client", (long)ac->c->peer.pid, id);
		auth_reply(ac->c, "FAIL", id, "reason", "unsupported mechanism",
		    NULL, NULL);
		return 0;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	r->ac = ac;
	r->id = id;
	snprintf(r->mech, sizeof(r->mech), "%s", canon);
	n = strlen(canon);
	r->plus = n > 5 && strcmp(canon + n - 5, "-PLUS") == 0;
	snprintf(r->service, sizeof(r->service), "%s", service);
	if (line_param(lf, 3, "rip", &v, &vlen) && vlen < sizeof(r->rip))
		snprintf(r->rip, sizeof(r->rip), "%s", v);
	sbuf_init(&r->in, AUTH_PROTO_LINE_MAX);
	sbuf_init(&r->out, AUTH_PROTO_LINE_MAX);
	for (i = 0; i < AUTH_HIST_MAX; i++)
		sbuf_init(&r->hist[i], AUTH_PROTO_LINE_MAX);
	r->next = ac->reqs;
	ac->reqs = r;
	ac->nreqs++;
	lconn_keep(ac->c, 1);
	if ((r->expire = evtimer_new(ac->c->a->base, auth_expired, r)) == NULL) {
		auth_req_free(r);
		return -1;
	}
	if (authsasl_new(&r->sasl, r->service, NULL, r->rip) != SK_OK) {
		auth_reply(ac->c, "FAIL", id, "code", AUTH_FAIL_TEMP, NULL, NULL);
		auth_req_free(r);
		return 0;
	}
	/* before minor 2, an empty resp= means no initial response (Exim) */
	if (line_param(lf, 3, "resp", &v, &vlen) &&
	    (vlen > 0 || ac->minor >= 2) && auth_decode(r, v, vlen) != SK_OK) {
		auth_reply(ac->c, "FAIL", id, "reason", "invalid base64 data",
		    "code", AUTH_FAIL_BASE64);
		auth_req_free(r);
		return 0;
	}
	if (auth_cbind_begin(r) == -1)
		return auth_cbind_fail(r);
	return auth_start(r) == SK_OK ? 0 : -1;
}

/* CONT id b64 */
static int
auth_cmd_cont(struct auth_conn *ac, struct line_fields *lf)
{
	const char *cbv;
	struct auth_req *r;
	unsigned long id;

	/* only an answer to our CONT: not while a step or penalty runs */
	if (line_id(line_str(lf, 1), &id) == -1 || lf->n < 3 ||
	    (r = auth_find(ac, id)) == NULL || r->busy || !r->want_cont)
		return -1;
	log_debug("auth: pid %ld: CONT id=%lu resp=<hidden> (%zu base64 "
	    "bytes)%s", (long)ac->c->peer.pid, id, lf->len[2],
	    line_param(lf, 3, "channel_binding", &cbv, NULL) ?
	    ", with channel-binding data" : "");
	r->want_cont = 0;
	evtimer_del(r->expire);
	if (auth_decode(r, lf->f[2], lf->len[2]) != SK_OK) {
		auth_reply(ac->c, "FAIL", id, "reason", "invalid base64 data",
		    "code", AUTH_FAIL_BASE64);
		auth_req_free(r);
		return 0;
	}
	if (auth_cbind_begin(r) == -1 || auth_cbind_data(r, lf) == -1)
		return auth_cbind_fail(r);
	return auth_run(r) == SK_OK ? 0 : -1;
}

/*
 * CANCEL id: the client gives up an exchange (Dovecot's lib-auth-client
 * does, when its own client leaves). From minor 4 it is confirmed with
 * CANCELLED id, as Dovecot does, even for an id we do not know.
 */
static int
auth_cmd_cancel(struct auth_conn *ac, struct line_fields *lf)
{
	struct auth_req *r;
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1)
		return -1;
	log_debug("auth: pid %ld: CANCEL id=%lu", (long)ac->c->peer.pid, id);
	if ((r = auth_find(ac, id)) != NULL) {
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
	if (ac->minor >= 4)
		auth_reply(ac->c, "CANCELLED", id, NULL, NULL, NULL, NULL);
	return 0;
}

/* MECH flags as Dovecot gives them for the same mechanism. */
static void
auth_mech_flags(struct sbuf *b, const char *mech)
{
	if (strcmp(mech, "PLAIN") == 0 || strcmp(mech, "LOGIN") == 0)
		line_put_str(b, AUTH_MECH_PLAINTEXT);
	if (strcmp(mech, "ANONYMOUS") == 0)
		line_put_str(b, AUTH_MECH_ANONYMOUS);
	if (strcmp(mech, "CRAM-MD5") == 0 || strcmp(mech, "DIGEST-MD5") == 0) {
		line_put_str(b, AUTH_MECH_DICTIONARY);
		line_put_str(b, AUTH_MECH_ACTIVE);
	}
	if (strcmp(mech, "DIGEST-MD5") == 0 || strncmp(mech, "SCRAM-", 6) == 0)
		line_put_str(b, AUTH_MECH_MUTUAL);
	if (strstr(mech, "-PLUS") != NULL)
		line_put_str(b, AUTH_MECH_CBIND);
}

/*
 * The rest of the server's handshake: MECH lines, SPID, CUID, COOKIE and
 * DONE. -PLUS forms go only to a client that announced minor 3 or later,
 * as in Dovecot: an older client would not know the channel-binding
 * exchange.
 */
static void
auth_handshake(struct auth_conn *ac)
{
	const char *p = ac->c->a->sasl_mechs;
	unsigned char cookie[16];
	char hex[33], num[24], mech[64], canon[64];
	struct sbuf b;
	size_t i, n;

	if (ac->handshaken)
		return;
	ac->handshaken = 1;
	if (ac->hs_wait != NULL)
		evtimer_del(ac->hs_wait);
	ac->cbind = ac->versioned && ac->minor >= AUTH_PROTO_MINOR_CBIND;
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	while (*p != '\0') {
		n = strcspn(p, " ");
		snprintf(mech, sizeof(mech), "%.*s", (int)n, p);
		p += n + (p[n] == ' ');
		if (!auth_mech_offered(ac, mech, canon))
			continue;
		line_put_cmd(&b, "MECH");
		line_put_str(&b, mech);
		auth_mech_flags(&b, mech);
		line_end(&b);
	}
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	line_put_cmd(&b, "SPID");
	line_put_str(&b, num);
	line_end(&b);
	snprintf(num, sizeof(num), "%lu", ++auth_cuid);
	line_put_cmd(&b, "CUID");
	line_put_str(&b, num);
	line_end(&b);
	RAND_bytes(cookie, sizeof(cookie));
	for (i = 0; i < sizeof(cookie); i++)
		snprintf(hex + 2 * i, 3, "%02x", cookie[i]);
	line_put_cmd(&b, "COOKIE");
	line_put_str(&b, hex);
	line_end(&b);
	line_put_cmd(&b, "DONE");
	line_end(&b);
	lconn_send(ac->c, &b);
	sbuf_free(&b);
}

/* A client that reads before it writes (Exim) gets the handshake now. */
static void
auth_hs_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct auth_conn *ac = arg;

	(void)fd;
	(void)what;
	auth_handshake(ac);
}

static int
auth_line(struct lconn *c, char *line, size_t len)
{
	struct auth_conn *ac = c->ctx;
	struct line_fields lf;
	const char *cmd;
	int r = -1;

	ac->c = c;

	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		goto proto;
	if (strcmp(cmd, "VERSION") == 0 && !ac->versioned) {
		if (line_str(&lf, 1) == NULL || strcmp(lf.f[1], "1") != 0 ||
		    line_id(line_str(&lf, 2), &ac->minor) == -1)
			goto proto;
		ac->versioned = 1;
		log_debug("auth: pid %ld: client VERSION 1.%lu",
		    (long)c->peer.pid, ac->minor);
		auth_handshake(ac);
		r = 0;
	} else if (strcmp(cmd, "CPID") == 0) {
		r = 0;
	} else if (ac->versioned && strcmp(cmd, "AUTH") == 0) {
		r = auth_cmd_auth(ac, &lf);
	} else if (ac->versioned && strcmp(cmd, "CANCEL") == 0) {
		r = auth_cmd_cancel(ac, &lf);
	} else if (ac->versioned && strcmp(cmd, "CONT") == 0) {
		r = auth_cmd_cont(ac, &lf);
	}
	explicit_bzero(line, len);
	if (r == 0)
		return 0;
proto:
	explicit_bzero(line, len);
	c->a->stats.protocol_errors++;
	log_warn("auth: pid %ld: protocol error; disconnected",
	    (long)c->peer.pid);
	return -1;
}

/*
 * VERSION goes out on connect. The rest waits for the client's VERSION,
 * which tells whether it knows channel binding (Postfix and doveadm write
 * first), or for AUTH_PROTO_HANDSHAKE_WAIT_MS, for a client that reads
 * the whole handshake before it writes (Exim), as Dovecot's auth-legacy
 * socket serves it.
 */
static void
auth_opened(struct lconn *c)
{
	struct auth_conn *ac = c->ctx;
	struct timeval tv = { 0, AUTH_PROTO_HANDSHAKE_WAIT_MS * 1000 };
	struct sbuf b;
	char num[24];

	ac->c = c;
	log_debug("auth: pid %ld uid %u: connection opened", (long)c->peer.pid,
	    (unsigned)c->peer.uid);
	sbuf_init(&b, 64);
	snprintf(num, sizeof(num), "%d", AUTH_PROTO_MINOR);
	line_put_cmd(&b, "VERSION");
	line_put_str(&b, "1");
	line_put_str(&b, num);
	line_end(&b);
	lconn_send(c, &b);
	sbuf_free(&b);
	if ((ac->hs_wait = evtimer_new(c->a->base, auth_hs_timeout, ac)) ==
	    NULL || evtimer_add(ac->hs_wait, &tv) == -1)
		auth_handshake(ac);
}

static void
auth_closed(struct lconn *c)
{
	struct auth_conn *ac = c->ctx;

	log_debug("auth: pid %ld uid %u: connection closed, %u exchanges open",
	    (long)c->peer.pid, (unsigned)c->peer.uid, ac->nreqs);
	while (ac->reqs != NULL)
		auth_req_free(ac->reqs);
	if (ac->hs_wait != NULL)
		event_free(ac->hs_wait);
	free(ac);
}

struct llistener *
auth_listener_new(struct authd *a, int fd)
{
	return llistener_new(a, fd, "auth", a->conf.auth_gid, AUTH_PROTO_LINE_MAX,
	    AUTH_REQS_MAX, auth_opened, auth_line, auth_closed,
	    sizeof(struct auth_conn));
}
