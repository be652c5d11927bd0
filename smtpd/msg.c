/*
 * msg.c: a session's message (RFC 5321 §4.1.1.4, RFC 3030): read after
 * DATA (only CRLF.CRLF ends it: smtp_data.c) or in BDAT chunks, into
 * the handoff behind a Received header, then made durable on the pool
 * while the session's input waits, and answered.
 * Never logs a message body. The pool's thread reads only this session's
 * transaction and the keys a reload leaves alone (maildir,
 * sendmail_command).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "pool.h"
#include "session.h"
#include "smtp_data.h"

#define MSG_QUEUE_ERROR	"451 4.3.0 Error: queue file write error"
#define MSG_NO_MEMORY	"451 4.3.0 Error: out of memory"
#define MSG_DATE_MAX	64	/* an RFC 5322 date-time */

/* The command's timeouts on s again (RFC 5321 §4.5.3.2). */
static void
msg_command_timeout(struct session *s)
{
	struct timeval tv = { (time_t)s->d->conf.timeout_command, 0 };

	bufferevent_set_timeouts(s->bev, &tv, NULL);
}

/*
 * The Received header (RFC 5321 §4.4, RFC 3848's protocol types; the
 * user only when asked for), as a string to free: NULL when out of
 * memory.
 */
static char *
msg_received(const struct session *s)
{
	const struct smtpd_conf *c = &s->d->conf;
	int user = c->received_auth_user && s->authed;
	char date[MSG_DATE_MAX], *hdr;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (asprintf(&hdr, "Received: from %s ([%s])%s%s%s\n\tby %s "
	    "(saslkit) with %s id %s\n\tfor <%s>; %s\n", s->helo, s->rip,
	    user ? "\n\t(Authenticated sender: " : "", user ? s->auth_user :
	    "", user ? ")" : "", c->host_name, !s->esmtp ? "SMTP" : s->tls ?
	    (s->authed ? "ESMTPSA" : "ESMTPS") : s->authed ? "ESMTPA" : "ESMTP",
	    s->id, s->nrcpts == 1 ? s->rcpts[0] : "multiple recipients",
	    date) == -1)
		return NULL;
	return hdr;
}

/* Opens the handoff, writes the Received header, and readies the reader. */
static int
msg_begin(struct session *s, int mode)
{
	const struct smtpd_conf *c = &s->d->conf;
	char *hdr;
	int r;

	if (c->maildir != NULL)
		r = handoff_begin_maildir(&s->ho, c->maildir, s->ho_err,
		    sizeof(s->ho_err));
	else
		r = handoff_begin_spool(&s->ho, c->spool_dir, s->ho_err,
		    sizeof(s->ho_err));
	if (r != 0) {
		log_error("%s: %s", s->id, s->ho_err);
		sess_reply(s, MSG_QUEUE_ERROR);
		return -1;
	}
	s->ho_open = 1;
	hdr = msg_received(s);
	r = hdr == NULL || handoff_write(&s->ho, (unsigned char *)hdr,
	    strlen(hdr)) != 0 ? -1 : 0;
	free(hdr);
	if (r != 0 || (s->rd = calloc(1, sizeof(*s->rd))) == NULL) {
		sess_reply(s, r != 0 ? MSG_QUEUE_ERROR : MSG_NO_MEMORY);
		tx_reset(s);
		return -1;
	}
	smtp_data_init(s->rd, mode, c->max_message_size, SMTP_DATA_LINE_MAX,
	    c->reject_bare_lf ? SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR |
	    SMTP_DATA_NUL : SMTP_DATA_NUL, handoff_write, &s->ho);
	return 0;
}

void
msg_data(struct session *s)
{
	struct timeval tv = { (time_t)s->d->conf.timeout_data_init, 0 };

	if (msg_begin(s, SMTP_DATA_DOT) != 0)
		return;
	sess_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	s->state = S_DATA;
}

/* The chunk of the BDAT command is read next. */
static void
msg_chunk(struct session *s)
{
	s->bdat_left = s->bdat_size = s->cmd->chunk_size;
	s->bdat_last = s->cmd->last;
	s->state = S_BDAT;
}

void
msg_bdat(struct session *s)
{
	if (!s->ho_open && msg_begin(s, SMTP_DATA_RAW) != 0)
		s->bdat_failed = 1;
	msg_chunk(s);
}

void
msg_bdat_skip(struct session *s)
{
	s->bdat_failed = 1;
	msg_chunk(s);
}

/* Worker: the handoff's waits. */
static void
msg_handoff_work(void *arg)
{
	struct session *s = arg;
	const struct smtpd_conf *c = &s->d->conf;

	/* fsync or the command: waiting, not computing, so other handoffs
	   go on meanwhile, on spare threads */
	pool_blocking_begin();
	s->ho_result = handoff_commit(&s->ho, c->maildir, c->sendmail_command,
	    s->from, (const char *const *)s->rcpts, s->nrcpts,
	    s->ho_timeout, s->ho_err, sizeof(s->ho_err));
	pool_blocking_end();
}

/* Loop: the handoff is done; the commands after it go on. */
static void
msg_handoff_done(void *arg)
{
	struct session *s = arg;

	s->ho_open = 0;
	if (s->gone) {		/* no one to answer: the handoff stands */
		log_info("%s: from=<%s> nrcpt=%zu: %s, client gone", s->id,
		    s->from, s->nrcpts, s->ho_result == 0 ? "queued" : "failed");
		sess_free(s);
		return;
	}
	if (s->ho_result == 0) {
		log_info("%s: from=<%s> nrcpt=%zu size=%llu: queued", s->id,
		    s->from, s->nrcpts, (unsigned long long)s->rd->size);
		sess_reply(s, "250 2.0.0 Ok: queued as %s", s->id);
	} else {
		log_error("%s: handoff failed: %s", s->id, s->ho_err);
		sess_reply(s, "451 4.3.0 Error: local delivery failed; try "
		    "again later");
	}
	tx_reset(s);
	s->state = S_CMD;
	msg_command_timeout(s);
	bufferevent_enable(s->bev, EV_READ);
	input_run(s);
}

/* The reply that refuses a message whose end was read, by its flags. */
static const char *
msg_refusal(const struct smtp_data *rd)
{
	unsigned f = rd->flags;

	if (f & SMTP_DATA_TOO_BIG)
		return "552 5.3.4 Error: message too large";
	if (f & rd->reject & SMTP_DATA_BARE_LF)
		return "554 5.6.0 Error: bare <LF> in message";
	if (f & rd->reject & SMTP_DATA_BARE_CR)
		return "554 5.6.0 Error: bare <CR> in message";
	if (f & SMTP_DATA_NUL)
		return "554 5.6.0 Error: NUL byte in message";
	if (f & SMTP_DATA_LONG_LINE)
		return "500 5.5.2 Error: message line too long";
	return NULL;
}

/* The message's end was read: refuse it, or hand it off. */
static void
msg_end(struct session *s)
{
	unsigned f = s->rd->flags;
	const char *no;

	msg_command_timeout(s);
	if (smtp_data_finish(s->rd) != 0) {
		log_error("%s: queue file write error", s->id);
		sess_reply(s, MSG_QUEUE_ERROR);
	} else if ((no = msg_refusal(s->rd)) != NULL)
		sess_reply(s, "%s", no);
	else {
		s->state = S_WAIT;
		bufferevent_disable(s->bev, EV_READ);
		s->ho_timeout = s->d->conf.handoff_timeout;
		if (pool_submit(s->d->pool, msg_handoff_work, msg_handoff_done,
		    s) == 0)
			return;
		sess_reply(s, MSG_NO_MEMORY);
	}
	if (f != 0 && f != SMTP_DATA_TOO_BIG)
		log_info("%s: message refused, flags 0x%x", s->id, f);
	tx_reset(s);
	s->state = S_CMD;
}

/* The input's bytes to the message: 1 once its end (or the chunk's) is. */
static int
msg_feed(struct session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	size_t used, n;
	int done = s->state == S_BDAT && s->bdat_left == 0;	/* BDAT 0 */

	while (evbuffer_get_length(in) > 0 && !done) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = v.iov_len;
		if (s->state == S_BDAT && n > s->bdat_left)
			n = (size_t)s->bdat_left;
		if (s->state == S_BDAT && s->bdat_failed)
			used = n;	/* a refused chunk: read and dropped */
		else if (smtp_data_feed(s->rd, v.iov_base, n, &used,
		    &done) != 0)
			s->bdat_failed = 1;
		evbuffer_drain(in, used);
		if (s->state == S_BDAT) {
			s->bdat_left -= used;
			done = s->bdat_left == 0;
		}
	}
	return done;
}

void
msg_body(struct session *s, struct evbuffer *in)
{
	if (s->state == S_DATA && evbuffer_get_length(in) > 0) {
		/* the message has started: the block timeout from now on */
		struct timeval tv = { (time_t)s->d->conf.timeout_data_block, 0 };

		bufferevent_set_timeouts(s->bev, &tv, NULL);
	}
	if (!msg_feed(s, in))
		return;
	if (s->state == S_DATA) {
		s->state = S_CMD;
		msg_end(s);
		return;
	}
	/* a BDAT chunk is in */
	s->state = S_CMD;
	if (s->bdat_failed)
		tx_reset(s);	/* its reply was given */
	else if (s->bdat_last)
		msg_end(s);
	else
		sess_reply(s, "250 2.0.0 Ok: %llu octets",
		    (unsigned long long)s->bdat_size);
}
