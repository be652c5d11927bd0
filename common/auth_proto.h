/*
 * auth_proto.h: the contract of authd's auth socket, Dovecot's
 * auth-client protocol version 1, server side (DESIGN §4). Lines use the
 * codec of line.h.
 *
 *   S: VERSION 1 <minor>                      (on connect)
 *   C: VERSION 1 <minor>  CPID <pid>
 *   S: MECH <name> [flags]...  SPID  CUID  COOKIE  DONE
 *      (-PLUS forms with the channel-binding flag only from minor 3)
 *   C: AUTH <id> <mech> service=<s> [lip= rip= secured nologin ...] [resp=<b64>]
 *   C: CONT <id> <b64> [channel_binding=<b64>]
 *   C: CANCEL <id>                            S: CANCELLED <id> (minor 4)
 *   S: CONT <id> <b64> [channel_binding=<type>]
 *   S: OK <id> user=<user> | FAIL <id> [user=] [reason=] [code=]
 */
#ifndef SK_AUTH_PROTO_H
#define SK_AUTH_PROTO_H

#define AUTH_PROTO_MAJOR	1
#define AUTH_PROTO_MINOR	4	/* Dovecot's current minor */
#define AUTH_PROTO_MINOR_CBIND	3	/* channel binding from this minor */
#define AUTH_PROTO_LINE_MAX	16384	/* bytes in a line, LF included */
#define AUTH_PROTO_ID_MAX	4294967295UL	/* ids are 32-bit */
#define AUTH_PROTO_CBIND_MAX	128	/* channel-binding data, bytes */
/*
 * The server sends VERSION on connect and the rest of its handshake after
 * the client's VERSION, or after this wait for a client that reads first.
 */
#define AUTH_PROTO_HANDSHAKE_WAIT_MS	100

/* MECH flags */
#define AUTH_MECH_ANONYMOUS	"anonymous"
#define AUTH_MECH_PLAINTEXT	"plaintext"
#define AUTH_MECH_DICTIONARY	"dictionary"
#define AUTH_MECH_ACTIVE	"active"
#define AUTH_MECH_FORWARD	"forward-secrecy"
#define AUTH_MECH_MUTUAL	"mutual-auth"
#define AUTH_MECH_CBIND		"channel-binding"

/* FAIL codes */
#define AUTH_FAIL_TEMP		"temp_fail"
#define AUTH_FAIL_AUTHZ		"authz_fail"
#define AUTH_FAIL_DISABLED	"user_disabled"
#define AUTH_FAIL_BASE64	"invalid_base64"

#endif
