/*
 * admin_proto.h: the contract of authd's admin socket, in the line syntax
 * of the auth protocol (line.h). Every request carries an id that its
 * replies name. Only root and members of admin_socket_group may connect.
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
 *   C: RELOAD  <id>                (as SIGHUP)
 *   C: STATS   <id>                S: OK <id> <name>=<value>...
 *   S: OK <id> [...] | FAIL <id> code=<code> reason=<text>
 *
 * A user is name or name@realm, split at the first '@'. A password never
 * appears in a reply or a log.
 */
#ifndef SK_ADMIN_PROTO_H
#define SK_ADMIN_PROTO_H

#define ADMIN_PROTO_MAJOR	1
#define ADMIN_PROTO_MINOR	0
#define ADMIN_PROTO_LINE_MAX	16384
#define ADMIN_PROTO_INFLIGHT	64	/* requests of one client at once */

/* FAIL codes */
#define ADMIN_FAIL_NOTFOUND	"notfound"	/* no such user */
#define ADMIN_FAIL_INVALID	"invalid"	/* bad request or argument */
#define ADMIN_FAIL_TEMP		"temp"		/* store error: retry later */
#define ADMIN_FAIL_PROTO	"protocol"	/* then disconnected */

#endif
