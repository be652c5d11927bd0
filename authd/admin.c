/*
 * admin.c: the admin listener (admin_proto.h): user management for root
 * and the admin group. This file holds the connection, the table of the
 * commands with the states each is allowed in, the replies, and the two
 * commands that need no store work, STATS and RELOAD; the others are
 * admin_job.c's, answered in the order each finishes, each naming its
 * request's id. A password never reaches a reply or a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_job.h"
#include "auth_conn.h"
#include "err.h"
#include "log.h"
#include "verb.h"

/* The states of a connection */
#define ADMIN_ST_NEW	0x1u	/* before the client's VERSION */
#define ADMIN_ST_READY	0x2u	/* after it */

#define ADMIN_OK_MAX	256	/* an OK line with its counts */

struct admin_conn {
	unsigned state;
	unsigned seen;			/* once-only commands given */
	struct agent_set agents;	/* agent exchanges (agent_req.c) */
};

static int admin_cmd_version(struct lconn *, const struct line_fields *,
    unsigned long, enum admin_op);
static int admin_cmd_job(struct lconn *, const struct line_fields *,
    unsigned long, enum admin_op);
static int admin_cmd_stats(struct lconn *, const struct line_fields *,
    unsigned long, enum admin_op);
static int admin_cmd_reload(struct lconn *, const struct line_fields *,
    unsigned long, enum admin_op);
static int admin_cmd_agent(struct lconn *, const struct line_fields *,
    unsigned long, enum admin_op);

/*
 * The commands: where each is allowed, whether only once, its least
 * number of fields after the name (the id is one, but VERSION's first
 * is the major), its handler and its store job. In ADMIN_ST_NEW a refusal
 * breaks the protocol; after VERSION it is a FAIL for that id.
 */
static const struct admin_cmd {
	struct verb_rule rule;
	int (*fn)(struct lconn *, const struct line_fields *, unsigned long,
	    enum admin_op);
	enum admin_op op;
} admin_cmds[] = {
	{ { ADMIN_CMD_VERSION, ADMIN_ST_NEW, 1, 1 }, admin_cmd_version, 0 },
	{ { ADMIN_CMD_SETPASS, ADMIN_ST_READY, 0, 3 }, admin_cmd_job,
	    OP_SETPASS },
	{ { ADMIN_CMD_DELETE, ADMIN_ST_READY, 0, 2 }, admin_cmd_job,
	    OP_DELETE },
	{ { ADMIN_CMD_DISABLE, ADMIN_ST_READY, 0, 2 }, admin_cmd_job,
	    OP_DISABLE },
	{ { ADMIN_CMD_ENABLE, ADMIN_ST_READY, 0, 2 }, admin_cmd_job,
	    OP_ENABLE },
	{ { ADMIN_CMD_SHOW, ADMIN_ST_READY, 0, 2 }, admin_cmd_job, OP_SHOW },
	{ { ADMIN_CMD_LIST, ADMIN_ST_READY, 0, 1 }, admin_cmd_job, OP_LIST },
	{ { ADMIN_CMD_IMPORT, ADMIN_ST_READY, 0, 2 }, admin_cmd_job,
	    OP_IMPORT },
	{ { ADMIN_CMD_UPGRADE, ADMIN_ST_READY, 0, 3 }, admin_cmd_job,
	    OP_UPGRADE },
	{ { ADMIN_CMD_REWRITE, ADMIN_ST_READY, 0, 1 }, admin_cmd_job,
	    OP_REWRITE },
	{ { ADMIN_CMD_SECRET_ADD, ADMIN_ST_READY, 0, 2 }, admin_cmd_secret,
	    OP_SECRET_ADD },
	{ { ADMIN_CMD_SECRET_CHANGE, ADMIN_ST_READY, 0, 2 }, admin_cmd_secret,
	    OP_SECRET_CHANGE },
	{ { ADMIN_CMD_SECRET_SET, ADMIN_ST_READY, 0, 2 }, admin_cmd_secret,
	    OP_SECRET_SET },
	{ { ADMIN_CMD_SECRET_DELETE, ADMIN_ST_READY, 0, 2 }, admin_cmd_secret,
	    OP_SECRET_DELETE },
	{ { ADMIN_CMD_SECRET_GRANT, ADMIN_ST_READY, 0, 5 }, admin_cmd_secret,
	    OP_SECRET_GRANT },
	{ { ADMIN_CMD_SECRET_LIST, ADMIN_ST_READY, 0, 1 }, admin_cmd_secret,
	    OP_SECRET_LIST },
	{ { ADMIN_CMD_SECRET_EXPORT, ADMIN_ST_READY, 0, 1 }, admin_cmd_secret,
	    OP_SECRET_EXPORT },
	{ { ADMIN_CMD_SECRET_REKEY, ADMIN_ST_READY, 0, 1 }, admin_cmd_secret,
	    OP_SECRET_REKEY },
	{ { ADMIN_CMD_AGENT_START, ADMIN_ST_READY, 0, 3 }, admin_cmd_agent,
	    OP_AGENT_START },
	{ { ADMIN_CMD_AGENT_STEP, ADMIN_ST_READY, 0, 2 }, admin_cmd_agent,
	    OP_AGENT_STEP },
	{ { ADMIN_CMD_CANCEL, ADMIN_ST_READY, 0, 1 }, admin_cmd_agent,
	    OP_AGENT_CANCEL },
	{ { ADMIN_CMD_STATS, ADMIN_ST_READY, 0, 1 }, admin_cmd_stats, 0 },
	{ { ADMIN_CMD_RELOAD, ADMIN_ST_READY, 0, 1 }, admin_cmd_reload, 0 },
};
#define ADMIN_NCMDS	(sizeof(admin_cmds) / sizeof(admin_cmds[0]))

void
admin_fail(struct lconn *c, unsigned long id, const char *code,
    const char *reason)
{
	struct sbuf b;

	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	if (line_put_cmd(&b, ADMIN_CMD_FAIL) == SK_OK &&
	    line_put_id(&b, id) == SK_OK &&
	    line_put_kv_str(&b, ADMIN_KEY_CODE, code) == SK_OK &&
	    line_put_kv_str(&b, ADMIN_KEY_REASON, reason) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* Also counts the request as done. */
void
admin_ok(struct lconn *c, unsigned long id, const char *k1, unsigned long v1,
    const char *k2, unsigned long v2)
{
	struct sbuf b;

	c->a->stats.admin_ok++;
	sbuf_init(&b, ADMIN_OK_MAX);
	if (line_put_cmd(&b, ADMIN_CMD_OK) == SK_OK &&
	    line_put_id(&b, id) == SK_OK &&
	    (k1 == NULL || line_put_kv_uint(&b, k1, v1) == SK_OK) &&
	    (k2 == NULL || line_put_kv_uint(&b, k2, v2) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* VERSION <major> [<minor>]: the major must be ours; ours goes back. */
static int
admin_cmd_version(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	struct admin_conn *ac = c->ctx;
	unsigned long major;
	struct sbuf b;

	(void)id;
	(void)op;
	if (line_id(line_str(lf, 1), &major) == -1 ||
	    major != ADMIN_PROTO_MAJOR)
		return -1;
	ac->state = ADMIN_ST_READY;
	sbuf_init(&b, ADMIN_OK_MAX);
	if (line_put_cmd(&b, ADMIN_CMD_VERSION) == SK_OK &&
	    line_put_id(&b, ADMIN_PROTO_MAJOR) == SK_OK &&
	    line_put_id(&b, ADMIN_PROTO_MINOR) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
	return 0;
}

/* Appends mech.<NAME>.ok=<n> and mech.<NAME>.fail=<n> for each mechanism. */
static int
admin_stats_mechs(struct sbuf *b, const struct authd_stats *s)
{
	char key[sizeof(s->mech[0].name) + sizeof(ADMIN_STAT_MECH_FAIL)];
	size_t i;
	int r = SK_OK;

	for (i = 0; i < STATS_MECHS && s->mech[i].name[0] && r == SK_OK; i++) {
		snprintf(key, sizeof(key), ADMIN_STAT_MECH_OK, s->mech[i].name);
		if ((r = line_put_kv_uint(b, key, s->mech[i].ok)) == SK_OK) {
			snprintf(key, sizeof(key), ADMIN_STAT_MECH_FAIL,
			    s->mech[i].name);
			r = line_put_kv_uint(b, key, s->mech[i].fail);
		}
	}
	return r;
}

/* Debug: a request that is not a store job (those log in admin_job.c). */
static void
admin_debug_request(const struct lconn *c, unsigned long id, const char *cmd)
{
	log_debug("admin: pid %ld uid %u: request id=%lu %s",
	    (long)c->peer.pid, (unsigned)c->peer.uid, id, cmd);
}

/* STATS needs no store work: answered at once. */
static int
admin_cmd_stats(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	const struct authd_stats *s = &c->a->stats;
	const struct {
		const char *name;
		unsigned long v;
	} *p, counts[] = {
		{ ADMIN_STAT_AUTH_OK, s->auth_ok },
		{ ADMIN_STAT_AUTH_FAIL, s->auth_fail },
		{ ADMIN_STAT_AUTH_ERROR, s->auth_error },
		{ ADMIN_STAT_ADMIN_OK, s->admin_ok },
		{ ADMIN_STAT_ADMIN_FAIL, s->admin_fail },
		{ ADMIN_STAT_REFUSED_PEERS, s->refused_peers },
		{ ADMIN_STAT_PROTOCOL_ERRORS, s->protocol_errors },
		{ ADMIN_STAT_PENALISED, s->penalised },
		{ ADMIN_STAT_CONNECTIONS, c->a->nconns },
	};
	unsigned long cache[3];
	const char *cache_names[3] = { ADMIN_STAT_CACHE_HITS,
	    ADMIN_STAT_CACHE_MISSES, ADMIN_STAT_CACHE_FLUSHES };
	struct sbuf b;
	size_t i;
	int r;

	(void)lf;
	(void)op;
	admin_debug_request(c, id, ADMIN_CMD_STATS);
	vcache_stats(c->a->cache, &cache[0], &cache[1], &cache[2]);
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	r = line_put_cmd(&b, ADMIN_CMD_OK) == SK_OK &&
	    line_put_id(&b, id) == SK_OK ? SK_OK : SK_ERR_LIMIT;
	for (p = counts; r == SK_OK && p < counts + sizeof(counts) /
	    sizeof(counts[0]); p++)
		r = line_put_kv_uint(&b, p->name, p->v);
	for (i = 0; r == SK_OK && i < sizeof(cache) / sizeof(cache[0]); i++)
		r = line_put_kv_uint(&b, cache_names[i], cache[i]);
	if (r == SK_OK && admin_stats_mechs(&b, s) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
	return 0;
}

struct admin_reload {
	struct lconn *c;
	unsigned long id;
};

/* The store is reopened: the reply, and the slot back. */
static void
admin_reloaded(void *arg, int r)
{
	struct admin_reload *rl = arg;
	struct lconn *c = rl->c;

	log_info("admin: pid %ld uid %u: reload: %s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, r == SK_OK ? "ok" : sk_strerror(r));
	if (r != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, rl->id, ADMIN_FAIL_TEMP, "the store was not "
		    "reopened: see the log");
	} else
		admin_ok(c, rl->id, NULL, 0, NULL, 0);
	free(rl);
	lconn_release(c);
}

/* RELOAD: as SIGHUP, answered once the store is reopened. */
static int
admin_cmd_reload(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	struct admin_reload *rl;
	int r;

	(void)lf;
	(void)op;
	admin_debug_request(c, id, ADMIN_CMD_RELOAD);
	if ((rl = malloc(sizeof(*rl))) == NULL) {
		admin_fail(c, id, ADMIN_FAIL_TEMP, sk_strerror(SK_ERR_NOMEM));
		return 0;
	}
	rl->c = c;
	rl->id = id;
	lconn_hold(c);
	if ((r = authd_reload(admin_reloaded, rl)) == SK_OK)
		return 0;
	lconn_unhold(c);
	free(rl);
	log_info("admin: pid %ld uid %u: reload: %s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, sk_strerror(r));
	c->a->stats.admin_fail++;
	admin_fail(c, id, r == SK_ERR_NOMEM ? ADMIN_FAIL_TEMP :
	    ADMIN_FAIL_INVALID, "the configuration was not reloaded: see the "
	    "log");
	return 0;
}

/* An agent exchange, with an admin's rights (agent_req.c). */
static int
admin_cmd_agent(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	struct admin_conn *ac = c->ctx;

	if (op == OP_AGENT_CANCEL) {
		(void)agent_cancel(&ac->agents, id);
		admin_ok(c, id, NULL, 0, NULL, 0);
		return 0;
	}
	return op == OP_AGENT_START ? agent_cmd_start(&ac->agents, lf) :
	    agent_cmd_step(&ac->agents, lf);
}

/* A request with store work: built, then handed to the worker pool. */
static int
admin_cmd_job(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	struct admin_job *j = NULL;
	const char *why = "";
	int r;

	r = admin_job_make(c, lf, op, id, &j, &why);
	admin_job_debug(c, id, line_str(lf, 0), r == SK_OK ? j : NULL,
	    r == SK_ERR_INVAL || r == SK_ERR_DENIED ? why : sk_strerror(r));
	if (r == SK_OK) {
		lconn_hold(c);
		if (pool_submit(c->a->pool, admin_work, admin_done, j) == SK_OK)
			return 0;
		lconn_unhold(c);
		r = SK_ERR_NOMEM;
	}
	c->a->stats.admin_fail++;
	admin_fail(c, id, r == SK_ERR_DENIED ? ADMIN_FAIL_DENIED :
	    ADMIN_FAIL_INVALID, r == SK_ERR_INVAL || r == SK_ERR_DENIED ? why :
	    sk_strerror(r));
	if (j != NULL)
		admin_job_free(j);
	return 0;
}

/*
 * A request the table refuses after VERSION: FAIL for its id, and the
 * connection goes on; the log names the command, if the table knows it,
 * and the rule.
 */
static int
admin_refuse(struct lconn *c, unsigned long id, const char *cmd,
    const char *why)
{
	char safe[LOG_SAFE_MAX];

	log_debug("admin: pid %ld uid %u: request id=%lu %s refused: %s",
	    (long)c->peer.pid, (unsigned)c->peer.uid, id, cmd == NULL ?
	    "(unknown)" : log_sanitize(cmd, strlen(cmd), safe, sizeof(safe)),
	    why);
	c->a->stats.admin_fail++;
	admin_fail(c, id, ADMIN_FAIL_INVALID, why);
	return 0;
}

/* A broken protocol: FAIL 0, and the connection ends. */
static int
admin_proto_error(struct lconn *c, const char *cmd, const char *why)
{
	admin_fail(c, 0, ADMIN_FAIL_PROTO, "protocol error");
	return lconn_proto_error(c, cmd, why);
}

/*
 * One request line, through the table; the line is wiped after. Before
 * VERSION every refusal breaks the protocol; after it, only a line
 * without a name or an id does.
 */
static int
admin_line(struct lconn *c, char *line, size_t len)
{
	struct admin_conn *ac = c->ctx;
	struct line_fields lf;
	const char *cmd = NULL, *why;
	unsigned long id = 0;
	size_t k = ADMIN_NCMDS;
	int r, fatal = ac->state == ADMIN_ST_NEW;

	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		why = VERB_MALFORMED, fatal = 1;
	else if (!fatal && line_id(line_str(&lf, 1), &id) == -1)
		why = "missing request id", fatal = 1;
	else if ((k = verb_find(admin_cmds, ADMIN_NCMDS, sizeof(admin_cmds[0]),
	    cmd)) == ADMIN_NCMDS)
		why = VERB_UNKNOWN;
	else
		why = verb_check(&admin_cmds[k].rule, k, ac->state, &ac->seen,
		    lf.n - 1);
	/* a name not in the table may be a stray piece of a password */
	if (k == ADMIN_NCMDS)
		cmd = NULL;
	if (why == NULL)
		r = admin_cmds[k].fn(c, &lf, id, admin_cmds[k].op);
	else if (!fatal)
		r = admin_refuse(c, id, cmd, why);
	else
		r = -1;
	if (r == -1)
		r = admin_proto_error(c, cmd, why != NULL ? why :
		    VERB_BAD_ARGS);
	explicit_bzero(line, len);
	return r;
}

static void
admin_opened(struct lconn *c)
{
	struct admin_conn *ac = c->ctx;

	ac->state = ADMIN_ST_NEW;
	ac->agents.c = c;
	ac->agents.admin = 1;
}

static void
admin_closed(struct lconn *c)
{
	struct admin_conn *ac = c->ctx;

	agent_close_all(&ac->agents);
	free(c->ctx);
}

struct llistener *
admin_listener_new(struct authd *a, int fd)
{
	return llistener_new(a, fd, "admin", a->conf.admin_gid,
	    ADMIN_PROTO_LINE_MAX, ADMIN_PROTO_INFLIGHT, admin_opened,
	    admin_line, admin_closed, sizeof(struct admin_conn));
}
