/*
 * admin_proto.h: the contract of authd's admin socket, in the line syntax
 * of the auth protocol (line.h), for both sides: authd (authd/admin*.c)
 * and libsecret (libsecret/admin.c). This header is the only place that
 * spells the protocol's command names, parameter names, STATS names,
 * version and limits. Every request carries an id that its replies name.
 * Only root and members of admin_socket_group may connect.
 *
 *   C: VERSION 1 0                 S: VERSION 1 0
 *   C: SETPASS <id> <user> <password> [plaintext|noplaintext]
 *   C: DELETE  <id> <user>
 *   C: DISABLE <id> <user>         C: ENABLE <id> <user>
 *   C: SHOW    <id> <user>         S: USER <id> <u@r> props=<a,b,...>
 *                                  S: OK <id>
 *   C: LIST    <id> [props]        S: USER <id> <u@r> [props=<a,b,...>]...
 *                                  S: OK <id> count=<n>
 *   C: IMPORT  <id> <record>...    S: OK <id> count=<n> missing=<m>
 *      (each field one record of import.h's grammar; one transaction)
 *   C: UPGRADE <id> keep|drop <user>...
 *                                  S: OK <id> upgraded=<n> hashed=<n>
 *                                     noplain=<n> dropped=<n> missing=<n>
 *                                     changed=<n>
 *      (SCRAM verifiers made from each user's stored plaintext, which
 *      drop then removes; up to ADMIN_UPGRADE_USERS users, in one
 *      transaction; upgrade.h)
 *   C: REWRITE <id>                S: OK <id>
 *      (root only: the store written anew, so that no byte of a deleted
 *      value survives in it or in its log; every reader and writer waits
 *      meanwhile; sasldb.h's sasldb_rewrite)
 *   C: RELOAD  <id>                (as SIGHUP)
 *   C: STATS   <id>                S: OK <id> <name>=<value>...
 *   S: OK <id> [...] | FAIL <id> code=<code> reason=<text>
 *
 * The secret store (secrets.h), when authd has one (else FAIL code=invalid):
 *   C: SECRET-ADD <id> <name> [U= I= P= R= M= L=]    a new entry
 *   C: SECRET-CHANGE <id> <name> [U= ...]  an existing one, fields not
 *                                  given kept; an empty value clears one
 *   C: SECRET-SET <id> <name> [U= ...]     made or replaced whole, its
 *                                  grants kept (imports)
 *   C: SECRET-DELETE <id> <name>
 *   C: SECRET-GRANT <id> <name> user|group <who> use|read|none
 *   C: SECRET-LIST <id> [<name>]   S: SECRET <id> <name> [U= I= R= M= L=]
 *                                     grants=<k:who:right,...> password=yes|no
 *                                     key=<key id>
 *                                  S: OK <id> count=<n>
 *   C: SECRET-EXPORT <id>          as SECRET-LIST, each line with P=; root only
 *   C: SECRET-REKEY <id>           S: OK <id> count=<n> key=<new key id>
 *   C: AGENT-START, AGENT-STEP     an agent exchange, as on the auth socket
 *   C: CANCEL <id>                 ends one; S: OK <id>
 *                                  (auth_proto.h): "use" on every entry,
 *                                  PLAIN and LOGIN for root only
 *
 * VERSION comes first, once; anything else first, or a request without
 * an id, breaks the protocol (FAIL 0 code=protocol, then disconnected).
 * A request authd cannot serve gets FAIL <id>, and the connection goes
 * on. A user is name or name@realm, split at the first '@', within
 * sasldb.h's limits. A password never appears in a reply or a log.
 */
#ifndef SK_ADMIN_PROTO_H
#define SK_ADMIN_PROTO_H

#include "auth_proto.h"

#define ADMIN_PROTO_MAJOR	1
#define ADMIN_PROTO_MINOR	0
#define ADMIN_PROTO_LINE_MAX	16384
#define ADMIN_PROTO_INFLIGHT	64	/* requests of one client at once */
#define ADMIN_UPGRADE_USERS	256	/* users in one UPGRADE at most */

/* Commands of the client */
#define ADMIN_CMD_VERSION	"VERSION"	/* the server's answer too */
#define ADMIN_CMD_SETPASS	"SETPASS"
#define ADMIN_CMD_DELETE	"DELETE"
#define ADMIN_CMD_DISABLE	"DISABLE"
#define ADMIN_CMD_ENABLE	"ENABLE"
#define ADMIN_CMD_SHOW		"SHOW"
#define ADMIN_CMD_LIST		"LIST"
#define ADMIN_CMD_IMPORT	"IMPORT"
#define ADMIN_CMD_UPGRADE	"UPGRADE"
#define ADMIN_CMD_REWRITE	"REWRITE"
#define ADMIN_CMD_RELOAD	"RELOAD"
#define ADMIN_CMD_STATS		"STATS"
#define ADMIN_CMD_SECRET_ADD	"SECRET-ADD"
#define ADMIN_CMD_SECRET_CHANGE	"SECRET-CHANGE"
#define ADMIN_CMD_SECRET_SET	"SECRET-SET"
#define ADMIN_CMD_SECRET_DELETE	"SECRET-DELETE"
#define ADMIN_CMD_SECRET_GRANT	"SECRET-GRANT"
#define ADMIN_CMD_SECRET_LIST	"SECRET-LIST"
#define ADMIN_CMD_SECRET_EXPORT	"SECRET-EXPORT"
#define ADMIN_CMD_SECRET_REKEY	"SECRET-REKEY"
#define ADMIN_CMD_AGENT_START	AUTH_CMD_AGENT_START	/* auth_proto.h's */
#define ADMIN_CMD_AGENT_STEP	AUTH_CMD_AGENT_STEP
#define ADMIN_CMD_CANCEL	AUTH_CMD_CANCEL	/* ends an agent exchange: OK */
/* Of the server */
#define ADMIN_CMD_SECRET	"SECRET"	/* an entry of SECRET-LIST */
#define ADMIN_CMD_USER		"USER"
#define ADMIN_CMD_OK		"OK"
#define ADMIN_CMD_FAIL		"FAIL"

/* Options (bare words) and parameters */
#define ADMIN_OPT_PLAINTEXT	"plaintext"	/* SETPASS */
#define ADMIN_OPT_NOPLAINTEXT	"noplaintext"	/* SETPASS */
#define ADMIN_OPT_KEEP		"keep"		/* UPGRADE: plaintext stays */
#define ADMIN_OPT_DROP		"drop"		/* UPGRADE: plaintext goes */
#define ADMIN_KEY_PROPS		"props"		/* LIST's option, USER's key */
#define ADMIN_KEY_COUNT		"count"
#define ADMIN_KEY_MISSING	"missing"
#define ADMIN_KEY_UPGRADED	"upgraded"	/* UPGRADE's OK */
#define ADMIN_KEY_HASHED	"hashed"
#define ADMIN_KEY_NOPLAIN	"noplain"
#define ADMIN_KEY_DROPPED	"dropped"
#define ADMIN_KEY_CHANGED	"changed"
#define ADMIN_KEY_CODE		"code"
#define ADMIN_KEY_REASON	"reason"
#define ADMIN_KEY_GRANTS	"grants"	/* SECRET lines */
#define ADMIN_KEY_PASSWORD	"password"	/* SECRET: yes or no */
#define ADMIN_KEY_KEY		"key"		/* SECRET, REKEY's OK */
#define ADMIN_GRANTEE_USER	"user"		/* SECRET-GRANT */
#define ADMIN_GRANTEE_GROUP	"group"
/* The fields of an entry, as sendmail names them, and its label */
#define ADMIN_SECRET_U		AUTH_SECRET_U	/* auth_proto.h's */
#define ADMIN_SECRET_I		AUTH_SECRET_I
#define ADMIN_SECRET_P		AUTH_SECRET_P
#define ADMIN_SECRET_R		AUTH_SECRET_R
#define ADMIN_SECRET_M		AUTH_SECRET_M
#define ADMIN_SECRET_L		"L"		/* the label */

/* STATS: the counters, then mech.<NAME>.ok and .fail per mechanism */
#define ADMIN_STAT_AUTH_OK		"auth_ok"
#define ADMIN_STAT_AUTH_FAIL		"auth_fail"
#define ADMIN_STAT_AUTH_ERROR		"auth_error"
#define ADMIN_STAT_ADMIN_OK		"admin_ok"
#define ADMIN_STAT_ADMIN_FAIL		"admin_fail"
#define ADMIN_STAT_REFUSED_PEERS	"refused_peers"
#define ADMIN_STAT_PROTOCOL_ERRORS	"protocol_errors"
#define ADMIN_STAT_PENALISED		"penalised"
#define ADMIN_STAT_CONNECTIONS		"connections"
#define ADMIN_STAT_CACHE_HITS		"cache_hits"
#define ADMIN_STAT_CACHE_MISSES		"cache_misses"
#define ADMIN_STAT_CACHE_FLUSHES	"cache_flushes"
#define ADMIN_STAT_MECH_OK		"mech.%s.ok"	/* a format */
#define ADMIN_STAT_MECH_FAIL		"mech.%s.fail"

/* FAIL codes */
#define ADMIN_FAIL_NOTFOUND	"notfound"	/* no such user */
#define ADMIN_FAIL_INVALID	"invalid"	/* bad request or argument */
#define ADMIN_FAIL_EXISTS	"exists"	/* SECRET-ADD */
#define ADMIN_FAIL_DENIED	"denied"	/* root only */
#define ADMIN_FAIL_TEMP		"temp"		/* store error: retry later */
#define ADMIN_FAIL_PROTO	"protocol"	/* then disconnected */

#endif
