/*
 * master.c: the master listener (master_proto.h), where Dovecot's imap
 * and pop3, still root, finish a login that imap-login or pop3-login
 * made on the auth listener: REQUEST names it by the login process's
 * CPID, its AUTH id and the connection's COOKIE, and gets the user once.
 * Root or master_socket_group only, by peer credentials. Userdb lookups
 * (USER, PASS, LIST) and CACHE-FLUSH are Dovecot's own auth's: they get
 * FAIL. Loop thread only, as the auth connections whose logins it takes.
 * Never logs a cookie.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_conn.h"
#include "err.h"
#include "log.h"
#include "master_proto.h"
#include "verb.h"

#define MASTER_ST_NEW	0x1u	/* before the client's VERSION */
#define MASTER_ST_READY	0x2u	/* after it */

struct master_conn {
	struct lconn *c;
	unsigned state;
	unsigned seen;		/* once-only commands given */
};

static int master_cmd_version(struct master_conn *mc, struct line_fields *lf);
static int master_cmd_request(struct master_conn *mc, struct line_fields *lf);
static int master_cmd_userdb(struct master_conn *mc, struct line_fields *lf);

/* The client's commands, their states, and the state each leads to. */
static const struct master_cmd {
	struct verb_rule rule;
	int (*fn)(struct master_conn *, struct line_fields *);
	unsigned next;
} master_cmds[] = {
	{ { MASTER_CMD_VERSION, MASTER_ST_NEW, 1, 2 }, master_cmd_version,
	    MASTER_ST_READY },
	{ { MASTER_CMD_REQUEST, MASTER_ST_READY, 0, 4 }, master_cmd_request,
	    0 },
	{ { MASTER_CMD_USER, MASTER_ST_READY, 0, 1 }, master_cmd_userdb, 0 },
	{ { MASTER_CMD_PASS, MASTER_ST_READY, 0, 1 }, master_cmd_userdb, 0 },
	{ { MASTER_CMD_LIST, MASTER_ST_READY, 0, 1 }, master_cmd_userdb, 0 },
	{ { MASTER_CMD_CACHE_FLUSH, MASTER_ST_READY, 0, 1 }, master_cmd_userdb,
	    0 },
};
#define MASTER_NCMDS	(sizeof(master_cmds) / sizeof(master_cmds[0]))

/* Sends "FAIL id [reason=...]". */
static void
master_fail(struct lconn *c, unsigned long id, const char *reason)
{
	struct sbuf b;

	sbuf_init(&b, MASTER_PROTO_LINE_MAX);
	if (line_put_cmd(&b, MASTER_CMD_FAIL) == SK_OK &&
	    line_put_id(&b, id) == SK_OK && (reason == NULL ||
	    line_put_kv_str(&b, MASTER_KEY_REASON, reason) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* VERSION 1 <minor>: the major must be ours. */
static int
master_cmd_version(struct master_conn *mc, struct line_fields *lf)
{
	unsigned long major, minor;

	if (line_id(line_str(lf, 1), &major) == -1 ||
	    major != MASTER_PROTO_MAJOR ||
	    line_id(line_str(lf, 2), &minor) == -1)
		return -1;
	log_debug("master: pid %ld: client VERSION %lu.%lu",
	    (long)mc->c->peer.pid, major, minor);
	return 0;
}

/* USER id user auth_mech=M [auth_user=A]: the login, handed over. */
static void
master_user(struct lconn *c, unsigned long id, const struct master_login *l)
{
	struct sbuf b;

	sbuf_init(&b, MASTER_PROTO_LINE_MAX);
	if (line_put_cmd(&b, MASTER_CMD_USER) == SK_OK &&
	    line_put_id(&b, id) == SK_OK && line_put_str(&b, l->user) == SK_OK &&
	    line_put_kv_str(&b, MASTER_KEY_AUTH_MECH, l->mech) == SK_OK &&
	    (l->authcid[0] == '\0' || line_put_kv_str(&b, MASTER_KEY_AUTH_USER,
	    l->authcid) == SK_OK) && line_end(&b) == SK_OK)
		lconn_send(c, &b);
	else
		master_fail(c, id, NULL);
	sbuf_free(&b);
}

/*
 * REQUEST id client-pid client-id cookie [session_pid=] ...: the login is
 * taken whatever follows, so a forged or repeated REQUEST never gets it.
 */
static int
master_cmd_request(struct master_conn *mc, struct line_fields *lf)
{
	struct master_request q;
	struct master_login l;
	char safe[LOG_SAFE_MAX];
	const char *why = NULL;

	if (master_parse_request(lf, &q) != SK_OK)
		return -1;
	if (master_login_take(&q, &l, &why) != SK_OK)
		;
	else if (q.session_pid != 0 &&
	    q.session_pid != (unsigned long)mc->c->peer.pid)
		why = "session_pid is not the asking process";
	if (why != NULL) {
		log_warn("master: pid %ld: REQUEST %lu for login %lu.%lu "
		    "refused: %s", (long)mc->c->peer.pid, q.id, q.client_pid,
		    q.client_id, why);
		master_fail(mc->c, q.id, NULL);
	} else {
		log_info("master: pid %ld: login %lu.%lu handed over: user=%s "
		    "mech=%s service=%s rip=%s", (long)mc->c->peer.pid,
		    q.client_pid, q.client_id, log_sanitize(l.user,
		    strlen(l.user), safe, sizeof(safe)), l.mech, l.service,
		    l.rip[0] ? l.rip : "-");
		master_user(mc->c, q.id, &l);
	}
	explicit_bzero(&q, sizeof(q));
	explicit_bzero(&l, sizeof(l));
	return 0;
}

/* Userdb lookups and cache flushes are not authd's: FAIL, with why. */
static int
master_cmd_userdb(struct master_conn *mc, struct line_fields *lf)
{
	unsigned long id;

	if (line_id(line_str(lf, 1), &id) == -1)
		return -1;
	log_warn("master: pid %ld: %s is Dovecot's own auth's (auth-userdb), "
	    "not authd's: FAIL", (long)mc->c->peer.pid, line_str(lf, 0));
	master_fail(mc->c, id, "authd answers REQUEST only; use Dovecot's "
	    "auth-userdb socket");
	return 0;
}

/* One line from the client, through the table. */
static int
master_line(struct lconn *c, char *line, size_t len)
{
	struct master_conn *mc = c->ctx;
	struct line_fields lf;
	const char *cmd = NULL, *why;
	size_t k = MASTER_NCMDS;
	int r = -1;

	if (line_split(line, len, &lf) != SK_OK ||
	    (cmd = line_str(&lf, 0)) == NULL)
		why = VERB_MALFORMED;
	else if ((k = verb_find(master_cmds, MASTER_NCMDS,
	    sizeof(master_cmds[0]), cmd)) == MASTER_NCMDS)
		why = VERB_UNKNOWN;
	else if ((why = verb_check(&master_cmds[k].rule, k, mc->state,
	    &mc->seen, lf.n - 1)) == NULL &&
	    (r = master_cmds[k].fn(mc, &lf)) == -1)
		why = VERB_BAD_ARGS;
	if (r == 0 && master_cmds[k].next != 0)
		mc->state = master_cmds[k].next;
	if (r == -1)
		r = lconn_proto_error(c, k < MASTER_NCMDS ? cmd : NULL, why);
	explicit_bzero(line, len);
	return r;
}

/* VERSION and SPID go out on connect, as Dovecot's auth server sends. */
static void
master_opened(struct lconn *c)
{
	struct master_conn *mc = c->ctx;
	struct sbuf b;

	mc->c = c;
	mc->state = MASTER_ST_NEW;
	log_debug("master: pid %ld uid %u: connection opened",
	    (long)c->peer.pid, (unsigned)c->peer.uid);
	sbuf_init(&b, MASTER_PROTO_LINE_MAX);
	if (line_put_cmd(&b, MASTER_CMD_VERSION) == SK_OK &&
	    line_put_id(&b, MASTER_PROTO_MAJOR) == SK_OK &&
	    line_put_id(&b, MASTER_PROTO_MINOR) == SK_OK &&
	    line_end(&b) == SK_OK &&
	    line_put_cmd(&b, MASTER_CMD_SPID) == SK_OK &&
	    line_put_id(&b, (unsigned long)getpid()) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

static void
master_closed(struct lconn *c)
{
	log_debug("master: pid %ld: connection closed", (long)c->peer.pid);
	free(c->ctx);
}

struct llistener *
master_listener_new(struct authd *a, int fd)
{
	return llistener_new(a, fd, "master", a->conf.master_gid,
	    MASTER_PROTO_LINE_MAX, 1, master_opened, master_line,
	    master_closed, sizeof(struct master_conn));
}
