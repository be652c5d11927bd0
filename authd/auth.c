/*
 * auth.c: the auth listener: Dovecot's auth-client protocol, version 1,
 * server side (auth_proto.h). Clients: Postfix (smtpd_sasl_type = dovecot),
 * doveadm auth test, Exim. This file holds the connection, the table of
 * the client's commands with the states each is allowed in, and the
 * server's handshake; the exchanges are auth_req.c's. A command out of
 * its state, or a second one of a once-only command, ends the connection.
 * Never logs a line as the client sent it: it may hold a password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth_conn.h"
#include "err.h"
#include "log.h"
#include "pwscheme.h"
#include "verb.h"

/* The states of a connection, as the client's commands move it */
#define AUTH_ST_NEW	0x1u	/* before the client's VERSION */
#define AUTH_ST_READY	0x2u	/* after it, before the first AUTH */
#define AUTH_ST_SERVING	0x4u	/* after the first AUTH */

static unsigned long auth_cuid;

static int auth_cmd_version(struct auth_conn *ac, struct line_fields *lf);
static int auth_cmd_cpid(struct auth_conn *ac, struct line_fields *lf);
static int auth_cmd_cancel_login(struct auth_conn *ac, struct line_fields *lf);
static int auth_cmd_lookup(struct auth_conn *ac, struct line_fields *lf);
static int auth_cmd_agent_start(struct auth_conn *ac, struct line_fields *lf);
static int auth_cmd_agent_step(struct auth_conn *ac, struct line_fields *lf);

/*
 * The client's commands: where each is allowed, whether only once, its
 * least number of fields after the name, and the state it leads to (0:
 * the same). CPID is Dovecot's: once, after VERSION and before any AUTH.
 */
static const struct auth_cmd {
	struct verb_rule rule;
	int (*fn)(struct auth_conn *, struct line_fields *);
	unsigned next;
} auth_cmds[] = {
	{ { AUTH_CMD_VERSION, AUTH_ST_NEW, 1, 2 }, auth_cmd_version,
	    AUTH_ST_READY },
	{ { AUTH_CMD_CPID, AUTH_ST_READY, 1, 1 }, auth_cmd_cpid, 0 },
	{ { AUTH_CMD_AUTH, AUTH_ST_READY | AUTH_ST_SERVING, 0, 2 },
	    auth_cmd_auth, AUTH_ST_SERVING },
	{ { AUTH_CMD_CONT, AUTH_ST_SERVING, 0, 2 }, auth_cmd_cont, 0 },
	{ { AUTH_CMD_CANCEL, AUTH_ST_READY | AUTH_ST_SERVING, 0, 1 },
	    auth_cmd_cancel_login, 0 },
	{ { AUTH_CMD_LOOKUP, AUTH_ST_READY | AUTH_ST_SERVING, 0, 2 },
	    auth_cmd_lookup, 0 },
	{ { AUTH_CMD_AGENT_START, AUTH_ST_READY | AUTH_ST_SERVING, 0, 3 },
	    auth_cmd_agent_start, 0 },
	{ { AUTH_CMD_AGENT_STEP, AUTH_ST_READY | AUTH_ST_SERVING, 0, 2 },
	    auth_cmd_agent_step, 0 },
};
#define AUTH_NCMDS	(sizeof(auth_cmds) / sizeof(auth_cmds[0]))

int
auth_mech_offered(const struct auth_conn *ac, const char *mech, size_t n,
    char *canon)
{
	if (!mech_list_has(ac->c->a->sasl_mechs, mech, n, canon))
		return 0;
	return !mech_is_plus(canon) || ac->cbind;
}

/* MECH flags as Dovecot gives them for the same mechanism. */
static void
auth_mech_flags(struct sbuf *b, const char *mech)
{
	static const struct {
		const char *mech;	/* a name, or a prefix ending in '-' */
		const char *flag;
	} flags[] = {
		{ "PLAIN", AUTH_MECH_PLAINTEXT },
		{ "LOGIN", AUTH_MECH_PLAINTEXT },
		{ "ANONYMOUS", AUTH_MECH_ANONYMOUS },
		{ "CRAM-MD5", AUTH_MECH_DICTIONARY },
		{ "CRAM-MD5", AUTH_MECH_ACTIVE },
		{ "DIGEST-MD5", AUTH_MECH_DICTIONARY },
		{ "DIGEST-MD5", AUTH_MECH_ACTIVE },
		{ "DIGEST-MD5", AUTH_MECH_MUTUAL },
		{ "SCRAM-", AUTH_MECH_MUTUAL },
	};
	size_t i, n;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		n = strlen(flags[i].mech);
		if (flags[i].mech[n - 1] == '-' ?
		    strncmp(mech, flags[i].mech, n) == 0 :
		    strcmp(mech, flags[i].mech) == 0)
			line_put_str(b, flags[i].flag);
	}
	if (mech_is_plus(mech))
		line_put_str(b, AUTH_MECH_CBIND);
}

/* Appends "CMD <decimal>" as one line. */
static void
auth_put_num(struct sbuf *b, const char *cmd, unsigned long n)
{
	line_put_cmd(b, cmd);
	line_put_id(b, n);
	line_end(b);
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
	const char *p = ac->c->a->sasl_mechs, *name;
	char hex[2 * AUTH_PROTO_COOKIE_LEN + 1], canon[AUTH_PROTO_MECH_MAX + 1];
	struct sbuf b;
	size_t n;

	if (ac->handshaken)
		return;
	ac->handshaken = 1;
	if (ac->hs_wait != NULL)
		evtimer_del(ac->hs_wait);
	ac->cbind = ac->state != AUTH_ST_NEW &&
	    ac->minor >= AUTH_PROTO_MINOR_CBIND;
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	while ((n = mech_list_next(&p, &name)) > 0) {
		if (!auth_mech_offered(ac, name, n, canon))
			continue;
		line_put_cmd(&b, AUTH_CMD_MECH);
		line_put_str(&b, canon);
		auth_mech_flags(&b, canon);
		line_end(&b);
	}
	auth_put_num(&b, AUTH_CMD_SPID, (unsigned long)getpid());
	auth_put_num(&b, AUTH_CMD_CUID, ++auth_cuid);
	/* kept: the master socket's REQUEST names this connection by it */
	ac->has_cookie = RAND_bytes(ac->cookie, sizeof(ac->cookie)) == 1;
	pwscheme_hex(ac->cookie, sizeof(ac->cookie), hex);
	line_put_cmd(&b, AUTH_CMD_COOKIE);
	line_put_str(&b, hex);
	line_end(&b);
	line_put_cmd(&b, AUTH_CMD_DONE);
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

/* VERSION <major> <minor>: the major must be ours. */
static int
auth_cmd_version(struct auth_conn *ac, struct line_fields *lf)
{
	unsigned long major;

	if (line_id(line_str(lf, 1), &major) == -1 ||
	    major != AUTH_PROTO_MAJOR ||
	    line_id(line_str(lf, 2), &ac->minor) == -1)
		return -1;
	log_debug("auth: pid %ld: client VERSION %lu.%lu",
	    (long)ac->c->peer.pid, major, ac->minor);
	ac->state = AUTH_ST_READY;	/* the handshake reads it */
	auth_handshake(ac);
	return 0;
}

/*
 * CPID <pid>: the client's process, a number; Dovecot's login processes
 * name their connection by it on the master socket.
 */
static int
auth_cmd_cpid(struct auth_conn *ac, struct line_fields *lf)
{
	unsigned long pid;

	if (line_id(line_str(lf, 1), &pid) == -1 || pid == 0)
		return -1;
	log_debug("auth: pid %ld: client CPID %lu", (long)ac->c->peer.pid,
	    pid);
	master_login_listen(ac, pid);
	return 0;
}

/* CANCEL ends a kept login too, as in Dovecot (master_login.c). */
static int
auth_cmd_cancel_login(struct auth_conn *ac, struct line_fields *lf)
{
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == 0)
		master_login_drop(ac, id);
	return auth_cmd_cancel(ac, lf);
}

/* The secret store's commands: agent_cmd.c's, on this connection's set. */
static int
auth_cmd_lookup(struct auth_conn *ac, struct line_fields *lf)
{
	return agent_cmd_lookup(&ac->agents, lf);
}

static int
auth_cmd_agent_start(struct auth_conn *ac, struct line_fields *lf)
{
	return agent_cmd_start(&ac->agents, lf);
}

static int
auth_cmd_agent_step(struct auth_conn *ac, struct line_fields *lf)
{
	return agent_cmd_step(&ac->agents, lf);
}

/* One line from the client, through the table. */
static int
auth_line(struct lconn *c, char *line, size_t len)
{
	struct auth_conn *ac = c->ctx;
	struct line_fields lf;
	const char *cmd = NULL, *why;
	size_t k = AUTH_NCMDS;
	int r = -1;

	ac->c = c;
	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		why = VERB_MALFORMED;
	else if ((k = verb_find(auth_cmds, AUTH_NCMDS, sizeof(auth_cmds[0]),
	    cmd)) == AUTH_NCMDS)
		why = VERB_UNKNOWN;
	else if ((why = verb_check(&auth_cmds[k].rule, k, ac->state,
	    &ac->seen, lf.n - 1)) == NULL &&
	    (r = auth_cmds[k].fn(ac, &lf)) == -1)
		why = VERB_BAD_ARGS;
	if (r == 0 && auth_cmds[k].next != 0)
		ac->state = auth_cmds[k].next;
	/* a name not in the table may be a stray piece of a secret */
	if (r == -1)
		r = lconn_proto_error(c, k < AUTH_NCMDS ? cmd : NULL, why);
	explicit_bzero(line, len);
	return r;
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
	struct timeval tv = { 0,
	    AUTH_PROTO_HANDSHAKE_WAIT_MS * AUTH_US_PER_MS };
	struct sbuf b;

	ac->c = c;
	ac->agents.c = c;
	ac->state = AUTH_ST_NEW;
	log_debug("auth: pid %ld uid %u: connection opened", (long)c->peer.pid,
	    (unsigned)c->peer.uid);
	sbuf_init(&b, AUTH_PROTO_LINE_MAX);
	line_put_cmd(&b, AUTH_CMD_VERSION);
	line_put_id(&b, AUTH_PROTO_MAJOR);
	line_put_id(&b, AUTH_PROTO_MINOR);
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
	agent_close_all(&ac->agents);
	master_login_forget(ac);
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
