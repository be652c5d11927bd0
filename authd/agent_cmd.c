/*
 * agent_cmd.c: the auth socket's commands on the secret store, parsed
 * (auth_proto.h): SECRET-LOOKUP and AGENT-START make a request,
 * AGENT-STEP moves one on, CANCEL ends one. Requests run in
 * agent_req.c. A challenge is decoded into a wiping buffer; the line it
 * came in is the caller's to wipe.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "agent_req.h"
#include "b64.h"
#include "err.h"
#include "log.h"
#include "mech.h"

#define AGENT_DEFAULT_SERVICE	"smtp"

/* A new request on set for id and the entry named name; NULL: answered. */
static struct agent_req *
agent_new(struct agent_set *set, unsigned long id, const char *name,
    enum agent_op op)
{
	struct agent_req *q;

	if (agent_find(set, id) != NULL || set->n >= AUTH_REQS_MAX) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON,
		    agent_find(set, id) ? "id in use" : "too many requests",
		    NULL, NULL);
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_CODE,
		    AUTH_FAIL_TEMP, NULL, NULL);
		return NULL;
	}
	q->set = set;
	q->id = id;
	q->op = op;
	secrets_entry_init(&q->e);
	sbuf_init(&q->in, AUTH_PROTO_LINE_MAX);
	sbuf_init(&q->out, AUTH_PROTO_LINE_MAX);
	if (name == NULL || secret_name_norm(name, q->name,
	    sizeof(q->name)) != SK_OK) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_CODE,
		    AUTH_FAIL_NOTFOUND, AUTH_KEY_REASON, "not an entry name");
		agent_free(&q->ag);
		sbuf_free(&q->in);
		sbuf_free(&q->out);
		free(q);
		return NULL;
	}
	q->next = set->head;
	set->head = q;
	set->n++;
	return q;
}

/* SECRET-LOOKUP <id> <name> */
int
agent_cmd_lookup(struct agent_set *set, const struct line_fields *lf)
{
	struct agent_req *q;
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1)
		return -1;
	if ((q = agent_new(set, id, line_str(lf, 2), AG_LOOKUP)) == NULL)
		return 0;
	return agent_submit(q);
}

/* The host a name stands for, for DIGEST-MD5's digest-uri. */
static void
agent_host_of(const char *name, char *host, size_t hostsz)
{
	const char *p = name, *end;

	if (*p == '[')
		p++;
	end = *name == '[' ? strchr(p, ']') : strchr(p, ':');
	if (end == NULL)
		end = p + strlen(p);
	snprintf(host, hostsz, "%.*s", (int)(end - p), p);
}

/* AGENT-START's optional parameters, from field 4 on. */
static const char *
agent_params(struct agent_req *q, const struct line_fields *lf)
{
	const char *v;
	size_t n;

	snprintf(q->service, sizeof(q->service), "%s", AGENT_DEFAULT_SERVICE);
	if (line_param(lf, 4, AUTH_KEY_SERVICE, &v, &n) &&
	    (n == 0 || n >= sizeof(q->service) || memchr(v, '\0', n)))
		return "bad service";
	if (line_param(lf, 4, AUTH_KEY_SERVICE, &v, &n))
		memcpy(q->service, v, n + 1);
	agent_host_of(q->name, q->host, sizeof(q->host));
	if (line_param(lf, 4, AUTH_KEY_HOST, &v, &n)) {
		if (n == 0 || n >= sizeof(q->host) || memchr(v, '\0', n))
			return "bad host";
		memcpy(q->host, v, n + 1);
	}
	if (!line_param(lf, 4, AUTH_KEY_CBIND_TYPE, &v, &n))
		return NULL;
	if (n == 0 || n >= sizeof(q->cb_type) || memchr(v, '\0', n))
		return "bad channel-binding type";
	memcpy(q->cb_type, v, n + 1);
	if (!line_param(lf, 4, AUTH_KEY_CBIND_DATA, &v, &n) ||
	    b64_decode(v, n, q->cb_data, sizeof(q->cb_data), &q->cb_len) !=
	    SK_OK || q->cb_len == 0)
		return "channel-binding data missing or bad";
	return NULL;
}

/* AGENT-START <id> <name> <mech> [service=] [host=] [cbind_type= cbind=] */
int
agent_cmd_start(struct agent_set *set, const struct line_fields *lf)
{
	const char *mech = line_str(lf, 3), *why;
	struct agent_req *q;
	unsigned long id;
	size_t i, n;

	if (line_id(line_str(lf, 1), &id) == -1 || mech == NULL)
		return -1;
	n = strlen(mech);
	if (!mech_name_ok(mech, n) || n >= sizeof(q->mech)) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON,
		    "not a mechanism name", NULL, NULL);
		return 0;
	}
	if ((q = agent_new(set, id, line_str(lf, 2), AG_START)) == NULL)
		return 0;
	for (i = 0; i <= n; i++)
		q->mech[i] = (char)toupper((unsigned char)mech[i]);
	if ((why = agent_params(q, lf)) != NULL) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON, why, NULL,
		    NULL);
		agent_req_free(q);
		return 0;
	}
	log_debug("auth: pid %ld: AGENT-START id=%lu entry=%s mech=%s "
	    "service=%s host=%s%s", (long)set->c->peer.pid, id, q->name,
	    q->mech, q->service, q->host, q->cb_type[0] ? " channel-binding" :
	    "");
	return agent_submit(q);
}

/* AGENT-STEP <id> <b64 challenge> */
int
agent_cmd_step(struct agent_set *set, const struct line_fields *lf)
{
	struct agent_req *q;
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1 || lf->n < 3)
		return -1;
	if ((q = agent_find(set, id)) == NULL || !q->started || q->busy) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_REASON, q == NULL ?
		    "no such agent exchange" : "not waiting for a step", NULL,
		    NULL);
		return 0;
	}
	if (b64_decode_sbuf(lf->f[2], lf->len[2], &q->in) != SK_OK) {
		auth_reply(set->c, AUTH_CMD_FAIL, id, AUTH_KEY_CODE,
		    AUTH_FAIL_BASE64, NULL, NULL);
		agent_req_free(q);
		return 0;
	}
	q->op = AG_STEP;
	return agent_submit(q);
}

int
agent_cancel(struct agent_set *set, unsigned long id)
{
	struct agent_req *q = agent_find(set, id);

	if (q == NULL)
		return 0;
	if (q->busy)
		q->cancelled = 1;	/* freed when the worker is done */
	else
		agent_req_free(q);
	return 1;
}
