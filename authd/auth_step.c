/*
 * auth_step.c: the libsasl2 steps of an auth exchange. A step runs inline
 * on the loop thread when it is cheap, and is replayed on a worker when
 * it would wait or burn a core, so that a slow check never stalls another
 * client; a penalty holds an exchange back on a timer, never a thread.
 * The client's messages are kept for a replay in wiping buffers only.
 */
#include <string.h>

#include "auth_conn.h"
#include "err.h"
#include "log.h"

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

/* Whether a step after the first may be replayed: the same answers. */
static int
auth_replayable(const struct auth_req *r)
{
	return r->nhist <= AUTH_HIST_MAX && (r->nhist == 1 ||
	    strcmp(r->mech, "PLAIN") == 0 || strcmp(r->mech, "LOGIN") == 0);
}

/*
 * Runs a step: inline on the loop thread when it is cheap, which is most
 * of them (a plaintext or cached PLAIN, SCRAM and CRAM steps); when it
 * would wait or burn a core (PBKDF2, PAM, a busy store), it is deferred
 * and replayed on a worker. Never frees the connection.
 */
int
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
	if (!auth_replayable(r)) {
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

/* Debug: the penalty that holds an exchange back. */
static void
auth_delay_debug(const struct auth_req *r, unsigned ms)
{
	char ip[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_debug("auth: pid %ld: id=%lu held back %u ms by the penalty of "
	    "rip=%s", (long)r->ac->c->peer.pid, r->id, ms,
	    log_sanitize(r->rip[0] ? r->rip : "-", r->rip[0] ? strlen(r->rip) :
	    1, ip, sizeof(ip)));
}

/*
 * Starts an exchange, after the penalty its client IP has earned: a timer,
 * so that nothing else waits.
 */
int
auth_start(struct auth_req *r)
{
	struct authd *a = r->ac->c->a;
	unsigned ms = penalty_delay_ms(a->penalty, r->rip);
	struct timeval tv = { (time_t)(ms / AUTH_MS_PER_S),
	    (suseconds_t)(ms % AUTH_MS_PER_S) * AUTH_US_PER_MS };

	if (ms == 0)
		return auth_run(r);
	auth_delay_debug(r, ms);
	a->stats.penalised++;
	if ((r->delay = evtimer_new(a->base, auth_delayed, r)) == NULL ||
	    evtimer_add(r->delay, &tv) == -1)
		return SK_ERR_NOMEM;
	r->busy = 1;	/* held by the timer: no CONT, no other step */
	lconn_hold(r->ac->c);
	return SK_OK;
}
