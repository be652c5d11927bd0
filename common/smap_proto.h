/*
 * smap_proto.h: the contract of authd's socketmap socket (secrets_socket)
 * for both sides: authd (authd/smap*.c) and saslpasswd, whose import and
 * export formats carry the maps' names. The wire format (netstrings,
 * "MAP KEY" requests, "OK value", "NOTFOUND ", "TEMP reason", "PERM
 * reason" replies) is netstring.h's; this header is the only place that
 * spells the maps and the words inside their keys and values.
 *
 *   authinfo     sendmail's FEATURE(authinfo): keys "AuthInfo:HOST" in any
 *                case ("AuthInfo:" alone: the default entry); values in
 *                sendmail's syntax, "U=b64" "I=b64" "P=b64" "R=b64" "M:..."
 *   sasl_passwd  Postfix's smtp_sasl_password_maps: keys entry names;
 *                values "authid:password"
 *
 * A failure of the store is answered so that each MTA defers: TEMP for
 * Postfix, and the value "temp" (OK temp) for sendmail, which goes on
 * without AUTH after a TEMP.
 */
#ifndef SK_SMAP_PROTO_H
#define SK_SMAP_PROTO_H

#define SMAP_MAP_AUTHINFO	"authinfo"
#define SMAP_MAP_SASL_PASSWD	"sasl_passwd"
#define SMAP_AUTHINFO_TEMP	"temp"		/* the value that makes it defer */
#define SMAP_REASON_NOMAP	"no such map"	/* PERM */
#define SMAP_REASON_FAILED	"secret store unavailable"	/* TEMP */

#endif
