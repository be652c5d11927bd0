/*
 * session.h: one SMTP session (RFC 5321) per client, on a bufferevent,
 * and what the files of a session share:
 *  - session.c: the connection from accept to end, its TLS, replies;
 *  - input.c: what the client sends, in order, lines into wiping buffers;
 *  - dispatch.c: a command line: the table of verbs and the state each
 *    needs, one reply per refusal;
 *  - smtp_auth.c: AUTH (RFC 4954), every exchange answered by authd;
 *  - tx.c: the mail transaction's envelope, MAIL and RCPT;
 *  - msg.c: the message after DATA or BDAT, and its handoff.
 * All of it runs on the event loop's thread, but the handoff's wait
 * (msg.c), which reads only its session's transaction and the two
 * restart-only keys maildir and sendmail_command.
 */
#ifndef SMTPD_SESSION_H
#define SMTPD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "handoff.h"
#include "iptable.h"
#include "smtp_cmd.h"
#include "smtpd.h"
#include "tls.h"

#define SESS_ID_MAX	24	/* "%08lX%04X": 16 + 4 hex digits at most */
#define SESS_USER_MAX	512	/* the user authd named, NUL included */

/* Replies given by more than one file, in one wording. */
#define REPLY_LINE_TOO_LONG	"500 5.5.2 Error: line too long"
#define REPLY_AUTH_TOO_LONG	"500 5.5.6 Authentication exchange line " \
	"is too long"			/* RFC 4954 §4 */

struct bufferevent;
struct evbuffer;
struct event;
struct sbuf;
struct sksecret_req;
struct smtp_data;

enum sess_state {
	S_CMD,		/* reading commands */
	S_DATA,		/* reading the message after DATA */
	S_BDAT,		/* reading a BDAT chunk */
	S_WAIT,		/* the pool has the handoff: input waits */
	S_SKIP,		/* dropping an over-long line up to its LF */
	S_STARTTLS,	/* 220 sent: TLS starts once it is written */
	S_AUTH,		/* an AUTH exchange: lines are responses */
	S_QUIT,		/* closing once the output is written */
};

struct session {
	struct session *next, *prev;	/* the server's open sessions */
	struct smtpd *d;
	const struct listener_conf *l;
	struct bufferevent *bev;
	enum sess_state state;
	char id[SESS_ID_MAX];
	char rip[IPTABLE_ADDR_MAX], helo[SMTP_DOMAIN_MAX + 1];
	int greeted, esmtp;
	int tls;			/* the session runs over TLS */
	/* AUTH (RFC 4954), answered by authd: smtp_auth.c */
	int authed;
	char auth_user[SESS_USER_MAX], auth_mech[SMTP_MECH_MAX + 1];
	unsigned auth_failures;
	struct sksecret_req *areq;	/* the exchange in progress */
	int auth_wait;			/* a step is with authd: input waits */
	int auth_lost;			/* the exchange ended (authd went away)
					   while the client owed a line: 454
					   answers that line */
	int auth_tempfail;		/* AUTH failed only for want of authd:
					   MAIL and relaying get 4xx, not 5xx */
	unsigned char cbdata[TLS_CBIND_MAX];	/* channel binding, handed
					   to libsecret; wiped once taken */
	/* the mail transaction: tx.c, msg.c */
	int in_mail, smtputf8;
	char from[SMTP_PATH_MAX + 1];
	char **rcpts;
	size_t nrcpts;
	struct smtp_data *rd;		/* during a message only */
	struct handoff ho;
	int ho_open;
	uint64_t bdat_left, bdat_size;
	int bdat_last, bdat_failed;
	int gone;			/* the client left while the pool had us */
	struct event *closer;		/* waits for TLS output to reach the wire */
	int close_waits;
	/* the handoff on the pool */
	int ho_result;
	unsigned ho_timeout;		/* read on the loop: SIGHUP may change it */
	char ho_err[HANDOFF_ERR_MAX];
	struct smtp_cmd *cmd;		/* the one of the event loop */
};

/* session.c */
void sess_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the session: the client is gone, or its goodbye is written. */
void sess_free(struct session *s);
/* Starts accepting on every bound listener. 0 or -1. */
int sess_listen(struct smtpd *d);
/* Stops accepting; sessions go on until they end. */
void sess_stop_listening(struct smtpd *d);

/* input.c */
/* Everything the input holds, until a command has to wait. */
void input_run(struct session *s);
/* Wipes and drops what the client sent and no one read yet. */
void input_drop(struct session *s);
/*
 * Moves the first n bytes of in into out (NULL: drops them), wiping each
 * piece in libevent's buffer before it is drained. SK_OK, or out's error
 * (the n bytes are drained and wiped all the same).
 */
int input_take(struct evbuffer *in, size_t n, struct sbuf *out);
/*
 * The next line of in, its CRLF or LF removed, into line (a wiping
 * buffer; NUL-terminated, the NUL not counted): 1; 0 when no whole line
 * is in yet; -1, nothing taken, when it is longer than line's bound;
 * -2 when no memory was left for it (the line is gone, wiped).
 */
int input_line(struct evbuffer *in, struct sbuf *line);

/* dispatch.c */
/* One command line, CRLF removed: parsed, checked, then carried out. */
void dispatch_line(struct session *s, const char *line, size_t len);
/* The reply that refuses verb in s's state now, or NULL. */
const char *dispatch_refusal(const struct session *s, enum smtp_verb verb);

/* smtp_auth.c */
/* The mechanisms configured for s's listener ("": no AUTH). */
const char *smtp_auth_conf_mechs(const struct session *s);
/* EHLO's AUTH line (and AUTH= for broken clients), if any. */
void smtp_auth_ehlo(struct session *s);
/* The AUTH command, its preconditions met (dispatch.c). */
void smtp_auth_start(struct session *s);
/* A line of the client during AUTH: its response, or "*". */
void smtp_auth_line(struct session *s, const char *line, size_t len);
/* Ends the exchange in progress, if any, without a reply. */
void smtp_auth_abort(struct session *s);
/* Forgets the session's AUTH (RFC 3207 §4.2, after STARTTLS). */
void smtp_auth_reset(struct session *s);
/* At the session's end: the exchange and its binding data go. */
void smtp_auth_end(struct session *s);
/* tx.c */
/* Ends the transaction: its envelope, and any message begun. */
void tx_reset(struct session *s);
void tx_mail(struct session *s);
void tx_rcpt(struct session *s);

/* msg.c */
void msg_data(struct session *s);
void msg_bdat(struct session *s);
/* A refused BDAT: its chunk is read and dropped, for it is no command. */
void msg_bdat_skip(struct session *s);
/* Message bytes from in, as far as they go (S_DATA, S_BDAT). */
void msg_body(struct session *s, struct evbuffer *in);

#endif
