/*
 * auth_proto.h: the contract of authd's auth socket, Dovecot's
 * auth-client protocol version 1 (DESIGN §4), for both sides: authd
 * (authd/auth*.c) and libsecret (libsecret/auth*.c). Lines use the codec
 * of line.h. This header is the only place that spells the protocol's
 * command names, parameter names, version and limits.
 *
 *   S: VERSION 1 <minor>                      (on connect)
 *   C: VERSION 1 <minor>  CPID <pid>
 *   S: MECH <name> [flags]...  SPID  CUID  COOKIE  DONE
 *      (-PLUS forms with the channel-binding flag only from minor 3)
 *   C: AUTH <id> <mech> service=<s> [lip= rip= secured nologin ...] [resp=<b64>]
 *   C: CONT <id> <b64> [channel_binding=<b64>]
 *   C: CANCEL <id>                            S: CANCELLED <id> (minor 4)
 *   S: CONT <id> <b64> [channel_binding=<type>]
 *   S: OK <id> user=<user> [resp=<b64>] | FAIL <id> [user=] [reason=] [code=]
 *
 *
 * saslkit's own, for the secret store (secrets.h, agent.h), after the
 * handshake, each with its own ids:
 *   C: SECRET-LOOKUP <id> <name>               (a read grant)
 *   S: OK <id> name=<n> [U= I= R= M=] P=<password> | FAIL <id> code=
 *   C: AGENT-START <id> <name> <mech> [service=<s>] [host=<server name>]
 *        [cbind_type=<tls-unique|...> cbind=<b64>]   (a use grant; PLAIN and
 *        LOGIN, which carry the password, need read)
 *   S: AGENT <id> [resp=<b64>] [done]          (no resp=: no initial one)
 *   C: AGENT-STEP <id> <b64 challenge>
 *   S: AGENT <id> resp=<b64> [done] | FAIL <id> [reason=] code=
 *   C: CANCEL <id>                             ends an agent exchange too
 * An entry the caller may not have, or that does not exist, is the same
 * FAIL code=notfound; a store failure is code=temp_fail.
 *
 * The client's order: VERSION first, at most one CPID, and only before
 * its first AUTH; then AUTH, CONT and CANCEL. authd disconnects a client
 * that breaks it. The server's order: VERSION, then MECH lines, SPID,
 * CUID and COOKIE once each, and DONE; then CONT, OK, FAIL and CANCELLED.
 */
#ifndef SK_AUTH_PROTO_H
#define SK_AUTH_PROTO_H

#include "mech.h"

#define AUTH_PROTO_MAJOR	1
#define AUTH_PROTO_MINOR	4	/* Dovecot's current minor */
#define AUTH_PROTO_MINOR_EMPTY_RESP 2	/* an empty resp= is a response */
#define AUTH_PROTO_MINOR_CBIND	3	/* channel binding from this minor */
#define AUTH_PROTO_MINOR_CANCELLED 4	/* CANCEL is confirmed */

#define AUTH_PROTO_LINE_MAX	16384	/* bytes in a line, LF included */
#define AUTH_PROTO_ID_MAX	4294967295UL	/* ids are 32-bit */
#define AUTH_PROTO_CBIND_MAX	128	/* channel-binding data, bytes */
#define AUTH_PROTO_CBIND_NAME_MAX 32	/* a channel-binding type: tls-unique */
#define AUTH_PROTO_MECH_MAX	MECH_NAME_MAX	/* a mechanism name, bytes */
/* A service name, bytes: a longer one breaks the protocol. */
#define AUTH_PROTO_SERVICE_MAX	63
/* lip= and rip=, bytes: authd ignores a longer one. */
#define AUTH_PROTO_IP_MAX	63
/* Any other string a client puts in a field, bytes. */
#define AUTH_PROTO_FIELD_MAX	255
#define AUTH_PROTO_PORT_MAX	65535	/* lport= and rport= */
#define AUTH_PROTO_COOKIE_LEN	16	/* COOKIE's bytes, sent in hex */
/*
 * The server sends VERSION on connect and the rest of its handshake after
 * the client's VERSION, or after this wait for a client that reads first.
 */
#define AUTH_PROTO_HANDSHAKE_WAIT_MS	100

/* The client's commands */
#define AUTH_CMD_VERSION	"VERSION"	/* the server's too */
#define AUTH_CMD_CPID		"CPID"
#define AUTH_CMD_AUTH		"AUTH"
#define AUTH_CMD_CONT		"CONT"		/* the server's too */
#define AUTH_CMD_CANCEL		"CANCEL"
#define AUTH_CMD_LOOKUP		"SECRET-LOOKUP"
#define AUTH_CMD_AGENT_START	"AGENT-START"
#define AUTH_CMD_AGENT_STEP	"AGENT-STEP"
/* The server's */
#define AUTH_CMD_AGENT		"AGENT"
#define AUTH_CMD_MECH		"MECH"
#define AUTH_CMD_SPID		"SPID"
#define AUTH_CMD_CUID		"CUID"
#define AUTH_CMD_COOKIE		"COOKIE"
#define AUTH_CMD_DONE		"DONE"
#define AUTH_CMD_OK		"OK"
#define AUTH_CMD_FAIL		"FAIL"
#define AUTH_CMD_CANCELLED	"CANCELLED"

/* Parameters of AUTH */
#define AUTH_KEY_SERVICE	"service"
#define AUTH_KEY_LIP		"lip"
#define AUTH_KEY_RIP		"rip"
#define AUTH_KEY_LPORT		"lport"
#define AUTH_KEY_RPORT		"rport"
#define AUTH_KEY_SECURED	"secured"	/* bare */
#define AUTH_KEY_RESP		"resp"		/* also OK's final data */
/* Of CONT, both ways: the type asked, then the client's data */
#define AUTH_KEY_CBIND		"channel_binding"
/* Of AGENT-START and AGENT */
#define AUTH_KEY_HOST		"host"
#define AUTH_KEY_CBIND_TYPE	"cbind_type"
#define AUTH_KEY_CBIND_DATA	"cbind"
#define AUTH_KEY_DONE		"done"		/* bare */
#define AUTH_KEY_NAME		"name"		/* SECRET-LOOKUP's OK */
/* An entry's fields, as sendmail names them (the admin socket's too) */
#define AUTH_SECRET_U		"U"		/* authorization id */
#define AUTH_SECRET_I		"I"		/* authentication id */
#define AUTH_SECRET_P		"P"		/* password */
#define AUTH_SECRET_R		"R"		/* realm */
#define AUTH_SECRET_M		"M"		/* mechanisms allowed */
/* Of OK and FAIL */
#define AUTH_KEY_USER		"user"
/* Of OK, when the authentication id differs from user (a proxy login
 * that the policy allowed): saslkit's, ignored by Dovecot's clients */
#define AUTH_KEY_AUTH_USER	"auth_user"
#define AUTH_KEY_REASON		"reason"
#define AUTH_KEY_CODE		"code"

/* MECH flags */
#define AUTH_MECH_ANONYMOUS	"anonymous"
#define AUTH_MECH_PLAINTEXT	"plaintext"
#define AUTH_MECH_DICTIONARY	"dictionary"
#define AUTH_MECH_ACTIVE	"active"
#define AUTH_MECH_FORWARD	"forward-secrecy"
#define AUTH_MECH_MUTUAL	"mutual-auth"
#define AUTH_MECH_CBIND		"channel-binding"

/*
 * FAIL codes. authd sends temp_fail and invalid_base64; authz_fail and
 * user_disabled are Dovecot's, which a client of Dovecot's server may
 * get: authd does not send user_disabled, which would tell the client
 * that a user exists.
 */
#define AUTH_FAIL_TEMP		"temp_fail"
#define AUTH_FAIL_AUTHZ		"authz_fail"
#define AUTH_FAIL_DISABLED	"user_disabled"
#define AUTH_FAIL_BASE64	"invalid_base64"
#define AUTH_FAIL_NOTFOUND	"notfound"	/* SECRET-LOOKUP, AGENT-START */

#endif
