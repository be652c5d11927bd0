/*
 * agent_req.c: the auth socket's commands on the secret store
 * (auth_proto.h): SECRET-LOOKUP, under a read grant, and the agent
 * exchange (AGENT-START, AGENT-STEP, CANCEL), under a use grant, whose
 * SASL client runs in agent.c. Grants are checked against the caller's
 * kernel credentials; an entry it may not have is answered as one that
 * does not exist. Store work and libsasl2 run on workers. A password
 * leaves only in SECRET-LOOKUP's reply; no password or response is
 * logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agent_req.h"
#include "b64.h"
#include "err.h"
#include "log.h"
#include "mech.h"

struct agent_req *
agent_find(struct agent_set *set, unsigned long id)
{
	struct agent_req *q;

	for (q = set->head; q != NULL; q = q->next)
		if (q->id == id)
			return q;
	return NULL;
}

void
agent_req_free(struct agent_req *q)
{
	struct agent_req **p;

	for (p = &q->set->head; *p != NULL; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	q->set->n--;
	if (q->started)
		lconn_keep(q->set->c, 0);
	if (q->expire != NULL)
		event_free(q->expire);
	agent_free(&q->ag);
	secrets_entry_clear(&q->e);
	sbuf_free(&q->in);
	sbuf_free(&q->out);
	explicit_bzero(q, sizeof(*q));
	free(q);
}

void
agent_close_all(struct agent_set *set)
{
	while (set->head != NULL)
		agent_req_free(set->head);
}

/* The caller's right on e: use, or read for a mechanism that needs it. */
static int
agent_allowed(struct agent_req *q, const struct secrets_entry *e,
    enum secrets_right need)
{
	const struct peercred *pc = &q->set->c->peer;
	struct secrets_peer p;

	if (q->set->admin) {
		snprintf(q->user, sizeof(q->user), "admin");
		return need == SECRETS_USE || pc->uid == 0;
	}
	secrets_peer_resolve(pc->uid, pc->gid, pc->groups,
	    (size_t)pc->ngroups, &p);
	snprintf(q->user, sizeof(q->user), "%s", p.user[0] ? p.user : "-");
	return secrets_right_of(e, &p) >= need;
}

/*
 * The right a mechanism needs: use for those whose responses do not hold
 * the password, read for PLAIN and LOGIN, which hand it to the server;
 * SECRETS_NONE for any other (ANONYMOUS, GSSAPI with authd's own
 * credentials, ...): never run.
 */
static enum secrets_right
agent_need(const char *mech)
{
	static const char *const use[] = {
		"CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS",
		"SCRAM-SHA-256", "SCRAM-SHA-256-PLUS",
	};
	size_t i;

	if (strcmp(mech, "PLAIN") == 0 || strcmp(mech, "LOGIN") == 0)
		return SECRETS_READ;
	for (i = 0; i < sizeof(use) / sizeof(use[0]); i++)
		if (strcmp(mech, use[i]) == 0)
			return SECRETS_USE;
	return SECRETS_NONE;
}

struct agent_need {
	struct agent_req *q;
	enum secrets_right need;
};

/* secrets_get_if's test: the caller's right on e. */
static int
agent_allow(const struct secrets_entry *e, void *arg)
{
	struct agent_need *an = arg;

	if (agent_allowed(an->q, e, an->need))
		return 1;
	snprintf(an->q->err, sizeof(an->q->err), "no %s grant",
	    secrets_right_name(an->need));
	return 0;
}

/* Worker: the entry, if the caller may have it, with its password. */
static int
agent_entry(struct agent_req *q, enum secrets_right need)
{
	struct agent_need an = { q, need };

	if (q->set->c->a->secrets == NULL)
		return SK_ERR_NOTFOUND;
	return secrets_get_if(q->set->c->a->secrets, q->name, agent_allow, &an,
	    &q->e);
}

/* Worker: the first step, from the entry to the initial response. */
static int
agent_start_work(struct agent_req *q)
{
	char canon[AUTH_PROTO_MECH_MAX + 1];
	enum secrets_right need = agent_need(q->mech);
	int r;

	if (need == SECRETS_NONE) {
		snprintf(q->err, sizeof(q->err), "the agent does not run %s",
		    q->mech);
		return SK_ERR_DENIED;
	}
	if ((r = agent_entry(q, need)) != SK_OK)
		return r;
	if ((q->e.f.set & SECRET_F_M) && !mech_list_has(q->e.f.mechs, q->mech,
	    strlen(q->mech), canon)) {
		snprintf(q->err, sizeof(q->err), "the entry allows only %s",
		    q->e.f.mechs);
		return SK_ERR_DENIED;
	}
	agent_init_entry(&q->ag, &q->e);
	r = agent_start(&q->ag, q->service, q->host, q->mech,
	    q->cb_type[0] ? q->cb_type : NULL, q->cb_data, q->cb_len, &q->out,
	    &q->has_out, q->err, sizeof(q->err));
	return r == SASL_OK || r == SASL_CONTINUE ? SK_OK : SK_ERR_CRYPTO;
}

static void
agent_work(void *arg)
{
	struct agent_req *q = arg;
	int r;

	switch (q->op) {
	case AG_LOOKUP:
		q->r = agent_entry(q, SECRETS_READ);
		break;
	case AG_START:
		q->r = agent_start_work(q);
		break;
	case AG_STEP:
		r = agent_step(&q->ag, q->in.data, q->in.len, &q->out, q->err,
		    sizeof(q->err));
		sbuf_reset(&q->in);
		q->r = r == SASL_OK || r == SASL_CONTINUE ? SK_OK : SK_ERR_CRYPTO;
		q->has_out = 1;
		break;
	}
}

/* OK id name= U= I= R= M= P=: the entry, for SECRET-LOOKUP. */
static void
agent_lookup_reply(struct agent_req *q)
{
	const struct secret_fields *f = &q->e.f;
	struct sbuf b;

	sbuf_init(&b, AUTH_PROTO_LINE_MAX);	/* wiped: the password */
	if (line_put_cmd(&b, AUTH_CMD_OK) == SK_OK &&
	    line_put_id(&b, q->id) == SK_OK &&
	    line_put_kv_str(&b, AUTH_KEY_NAME, f->name) == SK_OK &&
	    (!(f->set & SECRET_F_U) || line_put_kv_str(&b, AUTH_SECRET_U, f->authzid) ==
	    SK_OK) &&
	    (!(f->set & SECRET_F_I) || line_put_kv_str(&b, AUTH_SECRET_I, f->authid) ==
	    SK_OK) &&
	    (!(f->set & SECRET_F_R) || line_put_kv_str(&b, AUTH_SECRET_R, f->realm) ==
	    SK_OK) &&
	    (!(f->set & SECRET_F_M) || line_put_kv_str(&b, AUTH_SECRET_M, f->mechs) ==
	    SK_OK) &&
	    (!(f->set & SECRET_F_P) || line_put_kv(&b, AUTH_SECRET_P, f->pass.data,
	    f->pass.len) == SK_OK) && line_end(&b) == SK_OK)
		lconn_send(q->set->c, &b);
	sbuf_free(&b);
}

/* AGENT id [resp=<b64>] [done]. */
static void
agent_step_reply(struct agent_req *q)
{
	struct sbuf b, enc;

	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	sbuf_init(&enc, AUTH_PROTO_LINE_MAX);
	if (line_put_cmd(&b, AUTH_CMD_AGENT) == SK_OK &&
	    line_put_id(&b, q->id) == SK_OK &&
	    (!q->has_out || (b64_encode_sbuf(q->out.data, q->out.len, &enc) ==
	    SK_OK && line_put_kv(&b, AUTH_KEY_RESP, enc.data, enc.len) ==
	    SK_OK)) &&
	    (!q->ag.done || line_put_str(&b, AUTH_KEY_DONE) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(q->set->c, &b);
	sbuf_free(&enc);
	sbuf_free(&b);
}

/* The log line of a step that ended something: looked up, done, failed. */
static void
agent_log(const struct agent_req *q)
{
	const char *what = q->op == AG_LOOKUP ? "lookup" : "agent";

	if (q->r == SK_OK && q->op != AG_LOOKUP && !q->ag.done)
		return;
	if (q->r == SK_OK)
		log_info("auth: pid %ld uid %u (%s): %s entry %s%s%s: ok",
		    (long)q->set->c->peer.pid, (unsigned)q->set->c->peer.uid,
		    q->user, what, q->name, q->op != AG_LOOKUP ? " " : "",
		    q->op != AG_LOOKUP ? q->mech : "");
	else
		log_info("auth: pid %ld uid %u (%s): %s entry %s%s%s: %s%s%s",
		    (long)q->set->c->peer.pid, (unsigned)q->set->c->peer.uid,
		    q->user[0] ? q->user : "-", what, q->name,
		    q->op != AG_LOOKUP ? " " : "", q->op != AG_LOOKUP ? q->mech :
		    "", sk_strerror(q->r), q->err[0] ? ": " : "", q->err);
}

/* The caller took too long over its next step. */
static void
agent_expired(evutil_socket_t fd, short what, void *arg)
{
	struct agent_req *q = arg;

	(void)fd;
	(void)what;
	log_info("auth: pid %ld: agent entry %s %s: timed out",
	    (long)q->set->c->peer.pid, q->name, q->mech);
	auth_reply(q->set->c, AUTH_CMD_FAIL, q->id, AUTH_KEY_REASON, "timed out",
	    NULL, NULL);
	agent_req_free(q);
}

/* Loop thread: the answer to a step, and the slot back. */
static void
agent_done_cb(void *arg)
{
	struct agent_req *q = arg;
	struct lconn *c = q->set->c;
	struct timeval tv = { (time_t)c->a->conf.exchange_timeout, 0 };

	q->busy = 0;
	if (q->cancelled) {
		agent_req_free(q);
		lconn_release(c);
		return;
	}
	agent_log(q);
	if (q->r != SK_OK)
		auth_reply(c, AUTH_CMD_FAIL, q->id, AUTH_KEY_CODE,
		    q->r == SK_ERR_NOTFOUND || q->r == SK_ERR_DENIED ?
		    AUTH_FAIL_NOTFOUND : q->r == SK_ERR_CRYPTO ? AUTH_FAIL_AUTHZ :
		    AUTH_FAIL_TEMP, NULL, NULL);
	else if (q->op == AG_LOOKUP)
		agent_lookup_reply(q);
	else
		agent_step_reply(q);
	if (q->r != SK_OK || q->op == AG_LOOKUP || q->ag.done)
		agent_req_free(q);
	else {
		if (!q->started) {
			q->started = 1;
			lconn_keep(c, 1);
		}
		sbuf_reset(&q->out);
		if (q->expire == NULL)
			q->expire = evtimer_new(c->a->base, agent_expired, q);
		if (q->expire != NULL)
			evtimer_add(q->expire, &tv);
	}
	lconn_release(c);
}

int
agent_submit(struct agent_req *q)
{
	struct lconn *c = q->set->c;

	if (q->expire != NULL)
		evtimer_del(q->expire);
	q->busy = 1;
	lconn_hold(c);
	if (pool_submit(c->a->pool, agent_work, agent_done_cb, q) == SK_OK)
		return 0;
	lconn_unhold(c);
	auth_reply(c, AUTH_CMD_FAIL, q->id, AUTH_KEY_CODE, AUTH_FAIL_TEMP, NULL,
	    NULL);
	agent_req_free(q);
	return 0;
}
