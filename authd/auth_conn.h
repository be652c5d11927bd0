/*
 * auth_conn.h: what the auth listener's files share. auth.c: the
 * connection, its command table and the server's handshake; auth_req.c:
 * the AUTH, CONT and CANCEL commands and an exchange's life; auth_step.c:
 * libsasl2 steps, inline or on a worker; auth_answer.c: CONT, OK and FAIL
 * back to the client; auth_cbind.c: channel binding. All on the loop
 * thread unless a comment says otherwise.
 */
#ifndef AUTHD_AUTH_CONN_H
#define AUTHD_AUTH_CONN_H

#include <sasl/sasl.h>

#include "auth_proto.h"
#include "authsasl.h"
#include "lconn.h"
#include "line.h"

#define AUTH_REQS_MAX 1024	/* exchanges open on one connection */
#define AUTH_HIST_MAX 4		/* client messages kept for a replay */
#define AUTH_MS_PER_S	1000	/* for struct timeval */
#define AUTH_US_PER_MS	1000

struct auth_req;
struct agent_req;
struct master_login;

/*
 * The agent exchanges and lookups of one connection (agent_req.c): on the
 * auth socket under grants; on the admin socket (admin set) "use" on
 * every entry, and "read" for root only, as export.
 */
struct agent_set {
	struct agent_req *head;
	unsigned n;
	struct lconn *c;
	int admin;
};

struct auth_conn {
	struct lconn *c;
	unsigned state;			/* an AUTH_ST_ of auth.c */
	unsigned seen;			/* once-only commands given */
	unsigned long minor;
	int handshaken;			/* MECH...DONE sent */
	int cbind;			/* -PLUS forms were offered */
	struct event *hs_wait;		/* for a client that reads first */
	struct auth_req *reqs;
	unsigned nreqs;
	struct agent_set agents;	/* agent exchanges, lookups */
	/* Dovecot's post-login step, for the master socket (master_login.c) */
	unsigned long cpid;		/* CPID, kept when it is the peer's pid */
	unsigned char cookie[AUTH_PROTO_COOKIE_LEN];	/* sent as COOKIE */
	int has_cookie;
	struct master_login *logins;	/* newest first */
	unsigned nlogins;
	struct auth_conn *lnext, *lprev;	/* connections that keep logins */
	int listed;
};

struct auth_req {
	struct auth_req *next;
	struct auth_conn *ac;
	unsigned long id;
	char mech[AUTH_PROTO_MECH_MAX + 1];
	char service[AUTH_PROTO_SERVICE_MAX + 1];
	char rip[AUTH_PROTO_IP_MAX + 1];
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
	char cb_name[AUTH_PROTO_CBIND_NAME_MAX + 1];
	unsigned char cb_data[AUTH_PROTO_CBIND_MAX];	/* wiped */
	sasl_channel_binding_t cb;
};

/*
 * The commands on exchanges (auth_req.c): 0, or -1 for a protocol error,
 * which ends the connection.
 */
int auth_cmd_auth(struct auth_conn *ac, struct line_fields *lf);
int auth_cmd_cont(struct auth_conn *ac, struct line_fields *lf);
int auth_cmd_cancel(struct auth_conn *ac, struct line_fields *lf);
/*
 * The secret store's commands (agent_cmd.c), for the auth and admin
 * listeners: 0, or -1 for a protocol error. agent_cancel: 1 when id named
 * an agent exchange (then ended).
 */
int agent_cmd_lookup(struct agent_set *set, const struct line_fields *lf);
int agent_cmd_start(struct agent_set *set, const struct line_fields *lf);
int agent_cmd_step(struct agent_set *set, const struct line_fields *lf);
int agent_cancel(struct agent_set *set, unsigned long id);
/* The connection ends: its agent exchanges go (no worker has one). */
void agent_close_all(struct agent_set *set);
/* Ends an exchange: off its connection, its timers and buffers wiped. */
void auth_req_free(struct auth_req *r);
/*
 * Whether mech (n bytes) is offered to this client, in any case; canon
 * (AUTH_PROTO_MECH_MAX + 1 bytes) gets it as authd spells it.
 */
int auth_mech_offered(const struct auth_conn *ac, const char *mech, size_t n,
    char *canon);

/*
 * Starts an exchange after the penalty its client IP has earned, or runs
 * its next step (auth_step.c). Never frees the connection.
 */
int auth_start(struct auth_req *r);
int auth_run(struct auth_req *r);

/*
 * The answer to a step: CONT, or a final OK or FAIL, after which r is
 * freed (auth_answer.c). Never releases the connection.
 */
void auth_finish(struct auth_req *r);
/* Sends "CMD id" and up to two key=value pairs (k2 may be NULL). */
void auth_reply(struct lconn *c, const char *cmd, unsigned long id,
    const char *k1, const char *v1, const char *k2, const char *v2);
/* Logs the attempt's result in the form of verify_log. */
void auth_log(struct auth_req *r, int result);

/*
 * The logins kept for the master socket (master_login.c): a successful
 * exchange's user, for one REQUEST within MASTER_LOGIN_TTL_S, on a
 * connection whose CPID is its peer's pid. Loop thread.
 */
struct master_login {
	struct master_login *next;
	unsigned long id;		/* the AUTH id */
	long long at_ms;		/* when OK was sent, monotonic */
	char user[AUTH_PROTO_FIELD_MAX + 1];
	char authcid[AUTH_PROTO_FIELD_MAX + 1];	/* "": the same as user */
	char mech[AUTH_PROTO_MECH_MAX + 1];
	char service[AUTH_PROTO_SERVICE_MAX + 1];
	char rip[AUTH_PROTO_IP_MAX + 1];
};
/* After CPID: the connection keeps logins if cpid is its peer's pid. */
void master_login_listen(struct auth_conn *ac, unsigned long cpid);
/* After OK: r's login is kept (when the master socket is on). */
void master_login_keep(struct auth_req *r, const char *user,
    const char *authcid);
/* CANCEL id, or the connection's end: the login(s) go. */
void master_login_drop(struct auth_conn *ac, unsigned long id);
void master_login_forget(struct auth_conn *ac);
/*
 * The master socket's REQUEST: the login that q names, taken (it cannot
 * be asked for again) into *out: SK_OK; else SK_ERR_NOTFOUND, and *why
 * says which of client, cookie or login was not found, for the log.
 */
struct master_request;
int master_login_take(const struct master_request *q,
    struct master_login *out, const char **why);

/*
 * Channel binding (auth_cbind.c): -1 when a -PLUS exchange cannot bind,
 * and then auth_cbind_fail ends it.
 */
int auth_cbind_begin(struct auth_req *r);
int auth_cbind_data(struct auth_req *r, const struct line_fields *lf);
int auth_cbind_fail(struct auth_req *r);

#endif
