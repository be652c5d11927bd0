/*
 * master_proto.h: the contract of authd's master socket: the part of
 * Dovecot's auth-master protocol, version 1, that finishes a login
 * (dovecot/core src/lib-master/master-login-auth.c is its client,
 * src/auth/auth-master-connection.c its server). After imap-login or
 * pop3-login authenticated a client on the auth socket (auth_proto.h),
 * it hands the client to imap or pop3, which asks here, as root, who
 * logged in, naming the login by the login process's CPID, the AUTH id,
 * and the COOKIE that the auth socket sent that process. Lines use the
 * codec of line.h. This header is the only place that spells the
 * protocol's command names, parameter names, version and limits.
 *
 *   S: VERSION 1 1  SPID <authd's pid>        (on connect)
 *   C: VERSION 1 <minor>
 *   C: REQUEST <id> <client-pid> <client-id> <cookie: 32 hex digits>
 *        [session_pid=<pid>] [request_auth_token] [other=...]
 *   S: USER <id> <user> auth_mech=<mech> [auth_user=<authcid>]
 *    | FAIL <id> [reason=<text>]
 *   C: USER | PASS | LIST | CACHE-FLUSH <id> ...     S: FAIL <id> reason=
 *        (userdb lookups stay on Dovecot's own auth: LDA, LMTP, doveadm)
 *
 * A login can be asked for once, for MASTER_LOGIN_TTL_S seconds, and only
 * while the login process's auth connection is open. session_pid, when
 * given, must be the master client's own pid. Anything else ends the
 * connection.
 */
#ifndef AUTHD_MASTER_PROTO_H
#define AUTHD_MASTER_PROTO_H

#include <stddef.h>

#include "auth_proto.h"
#include "line.h"
#include "sbuf.h"

#define MASTER_PROTO_MAJOR	1
#define MASTER_PROTO_MINOR	1
/* bytes in a line, LF included: Dovecot's server reads up to 1024 */
#define MASTER_PROTO_LINE_MAX	1024
#define MASTER_PROTO_COOKIE_LEN	AUTH_PROTO_COOKIE_LEN
/* seconds a login waits for its REQUEST: MASTER_AUTH_SERVER_TIMEOUT_SECS */
#define MASTER_LOGIN_TTL_S	150
/* logins one auth connection keeps at once; the oldest goes first */
#define MASTER_LOGINS_MAX	64

/* The client's commands */
#define MASTER_CMD_VERSION	"VERSION"	/* the server's too */
#define MASTER_CMD_REQUEST	"REQUEST"
#define MASTER_CMD_USER		"USER"		/* the server's too */
#define MASTER_CMD_PASS		"PASS"
#define MASTER_CMD_LIST		"LIST"
#define MASTER_CMD_CACHE_FLUSH	"CACHE-FLUSH"
/* The server's */
#define MASTER_CMD_SPID		"SPID"
#define MASTER_CMD_FAIL		"FAIL"

/* Parameters of REQUEST */
#define MASTER_KEY_SESSION_PID	"session_pid"
#define MASTER_KEY_AUTH_TOKEN	"request_auth_token"	/* bare */
/* Of USER and FAIL */
#define MASTER_KEY_AUTH_MECH	"auth_mech"
#define MASTER_KEY_AUTH_USER	"auth_user"
#define MASTER_KEY_REASON	"reason"

struct master_request {
	unsigned long id;
	unsigned long client_pid;	/* the login process's CPID */
	unsigned long client_id;	/* its AUTH id */
	unsigned char cookie[MASTER_PROTO_COOKIE_LEN];
	unsigned long session_pid;	/* 0: not given */
	int auth_token;			/* request_auth_token given */
};

/*
 * A REQUEST line split by line_split (field 0 the command): SK_OK, or
 * SK_ERR_FORMAT for a missing field, a number that is not a 32-bit id
 * (0 is none for the pids), or a cookie that is not 32 hex digits.
 * Unknown parameters are ignored, as Dovecot does.
 */
int master_parse_request(const struct line_fields *lf,
    struct master_request *out);
/* The REQUEST line of q, LF included, as Dovecot's imap writes it. */
int master_build_request(struct sbuf *out, const struct master_request *q);

#endif
