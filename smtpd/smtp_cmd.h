/*
 * smtp_cmd.h: parsing one SMTP command line (RFC 5321 §4.1, with SIZE,
 * 8BITMIME, SMTPUTF8, CHUNKING, AUTH and STARTTLS: RFC 1869, 1870, 6152,
 * 6531, 3030, 4954, 3207) into a struct smtp_cmd. The parser classifies
 * and checks syntax only: the session decides every reply, and each
 * result below says which reply it calls for. smtp_cmd.c parses the
 * verbs and their arguments; paths and domains are smtp_addr.c's, the
 * cursor and byte classes smtp_lex.c's.
 */
#ifndef SMTPD_SMTP_CMD_H
#define SMTPD_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "mech.h"

/*
 * Limits. A line reaches the parser without its CRLF, so its len is at
 * most a LINE_MAX less 2. The session reads lines of up to
 * SMTP_AUTH_LINE_MAX octets; the parser applies the limit of the verb.
 */
/* a command line but AUTH, CRLF included (RFC 5321 §4.5.3.1.4: >= 512) */
#define SMTP_CMD_LINE_MAX	2048
/*
 * an AUTH line, CRLF included: RFC 4954 §4 deems 12,288 octets enough
 * for the base64 responses of deployed mechanisms
 */
#define SMTP_AUTH_LINE_MAX	12300
/* a local part as written, quotes included (RFC 5321 §4.5.3.1.1) */
#define SMTP_LOCAL_MAX		64
/* a domain or address literal (RFC 5321 §4.5.3.1.2) */
#define SMTP_DOMAIN_MAX		255
/*
 * a path as written, "<" and ">" and any source route included (RFC 5321
 * §4.5.3.1.3): so a mailbox has 254 octets at most
 */
#define SMTP_PATH_MAX		256
/* ESMTP parameters on one MAIL or RCPT */
#define SMTP_PARAMS_MAX		16
/* a SASL mechanism name (RFC 4422 §3.1) */
#define SMTP_MECH_MAX		MECH_NAME_MAX
/*
 * the largest BDAT chunk size taken, 2^53: any real message size limit
 * is far lower, and every size up to it is exact as a double
 */
#define SMTP_BDAT_SIZE_MAX	((uint64_t)1 << 53)

/* The verbs, matched without regard to case. */
enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_AUTH,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_BDAT,
	SMTP_VERB_COUNT		/* not a verb: the number of values above */
};

/*
 * What smtp_cmd_parse returns, and the reply each calls for. Whether a
 * valid command is allowed now, and whether its ESMTP parameters are
 * known (555 5.5.4 when not), is for the session to decide.
 */
enum smtp_cmd_result {
	SMTP_CMD_OK = 0,
	SMTP_CMD_UNKNOWN = -1,		/* 500 5.5.1 command unrecognized */
	SMTP_CMD_SYNTAX = -2,		/* 501 5.5.4 syntax error in parameters
					   or arguments */
	SMTP_CMD_BAD_SENDER = -3,	/* MAIL: the reverse-path is no valid
					   path: 501 5.1.7 (RFC 3463 X.1.7) */
	SMTP_CMD_BAD_RCPT = -4,		/* RCPT: the forward-path is no valid
					   path: 501 5.1.3 (RFC 3463 X.1.3) */
	SMTP_CMD_BAD_BYTE = -5,		/* a NUL, or a CR or LF inside the line:
					   500 5.5.2 */
	SMTP_CMD_TOO_LONG = -6,		/* past the verb's line limit:
					   500 5.5.6 for AUTH (RFC 4954 §4),
					   500 5.5.2 otherwise (RFC 5321
					   §4.5.3.1.4, "Line too long") */
};

/* What a HELO/EHLO argument or the domain of a path is. */
enum smtp_host_kind {
	SMTP_HOST_NONE = 0,	/* none, or not a valid domain or literal */
	SMTP_HOST_DOMAIN,	/* labels of 1-63 letters, digits, hyphens (or,
				   in a path, UTF-8) joined by dots, <= 255 */
	SMTP_HOST_IPV4,		/* [192.0.2.1] */
	SMTP_HOST_IPV6		/* [IPv6:2001:db8::1] */
};

/* A reverse- or forward-path. */
struct smtp_path {
	char addr[SMTP_PATH_MAX + 1];	/* the mailbox as written, without <>
					   and source route; "" for <> */
	/* the local part as written: a quoted one keeps quotes, backslashes */
	char local[SMTP_LOCAL_MAX + 1];
	/* the domain or address literal; "" for <> and <Postmaster> */
	char domain[SMTP_DOMAIN_MAX + 1];
	enum smtp_host_kind domain_kind;
	int null;		/* MAIL FROM:<> */
	int postmaster;		/* RCPT TO:<Postmaster>, without a domain */
	int quoted;		/* the local part is a quoted-string */
	int route;		/* a source route was given, and dropped */
};

/* An ESMTP parameter of MAIL or RCPT: KEY or KEY=VALUE. */
struct smtp_param {
	const char *key;	/* upper-cased */
	const char *value;	/* as given; NULL when there was no "=" */
};

/*
 * A parsed command. Every string is NUL-terminated and lives inside the
 * struct, so the line may be reused at once; the const char * fields
 * point into pool: pass the struct by pointer, never copy it by value.
 * smtp_cmd_parse clears it first: fields a verb does not use are zero.
 * After AUTH, pool holds the initial response: smtp_cmd_clear it.
 */
struct smtp_cmd {
	enum smtp_verb verb;	/* set whenever the verb was recognized,
				   even when the parse then failed */
	const char *why;	/* on failure: a short static reason, free of
				   client bytes, for the reply text or a log */
	int utf8;		/* MAIL, RCPT: the mailbox holds non-ASCII
				   bytes (well-formed UTF-8), so the session
				   must require SMTPUTF8; VRFY, EXPN, HELP:
				   the argument does */

	/* HELO, EHLO: any printable ASCII word, checked for what it is */
	char host[SMTP_DOMAIN_MAX + 1];
	enum smtp_host_kind host_kind;	/* SMTP_HOST_NONE: neither domain
					   nor address literal */

	/* MAIL FROM:<path>, RCPT TO:<path> */
	struct smtp_path path;
	size_t nparams;
	struct smtp_param params[SMTP_PARAMS_MAX];

	/* VRFY, EXPN (required), HELP (optional): the argument or NULL */
	const char *arg;

	/* AUTH mechanism [initial-response] */
	char mech[SMTP_MECH_MAX + 1];	/* upper-cased */
	const char *initial;	/* base64 as sent, "=" for an empty one,
				   NULL when absent; a secret: not decoded */

	/* BDAT chunk-size [LAST] */
	uint64_t chunk_size;
	int last;

	size_t pool_used;
	char pool[SMTP_AUTH_LINE_MAX];
};

/*
 * Parses one command line of len bytes, CRLF removed, into cmd; line
 * need not be NUL-terminated and is never written. Returns SMTP_CMD_OK
 * or a negative smtp_cmd_result, and sets cmd->why on failure.
 *
 * Choices where RFC 5321 leaves room or clients stray:
 * - one space after "FROM:" or "TO:" is tolerated, none before the colon;
 * - the angle brackets are required;
 * - arguments are separated by single spaces; a trailing space is an
 *   error, and so is any argument to DATA, RSET, QUIT and STARTTLS;
 * - a NOOP argument is ignored, whatever it holds;
 * - a parameter given twice is a syntax error, and a value is printable
 *   ASCII but "=" (RFC 5321 esmtp-value; no UTF-8 values);
 * - HELO/EHLO take one word of printable ASCII, up to SMTP_DOMAIN_MAX
 *   octets; host_kind says whether it is a valid domain or literal;
 * - address literals are IPv4 or IPv6, checked with inet_pton (so an
 *   IPv4 part with a leading zero is refused); general literals with
 *   another tag are refused, no other tag being registered;
 * - VRFY and EXPN need an argument (RFC 5321 §4.1.1.6-7), HELP not;
 * - a source route is checked (ASCII domains only), then dropped.
 */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);
/* Wipes the struct, with any initial response in it. */
void smtp_cmd_clear(struct smtp_cmd *cmd);
/* Names a result for logs: "ok", "unknown command", ... */
const char *smtp_cmd_result_name(int result);
/* Names a verb in upper case; "UNKNOWN" for anything else. */
const char *smtp_verb_name(enum smtp_verb verb);

#endif
