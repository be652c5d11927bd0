/*
 * input.c: what a client sends, read in order until a command has to
 * wait: command lines to dispatch.c, AUTH responses to smtp_auth.c, message
 * bytes to msg.c; an over-long line is refused and skipped.
 *
 * Lines may hold secrets (AUTH's initial response, its responses), and
 * reach us through libevent's input buffer. What is wiped, and what not:
 * - every line is copied out of libevent's buffer into a wiping buffer
 *   (sbuf), and its bytes in libevent's chains are wiped before they
 *   are drained, so the chains that libevent frees (or reuses) hold no
 *   line; so are skipped lines, the plaintext pipelined before STARTTLS
 *   and whatever is left unread when the session ends;
 * - libevent fills its input by readv (a socket) or SSL_read into space
 *   it reserves (TLS): neither moves bytes already read, so no copy of
 *   a line stays behind in its chains;
 * - TLS: the plaintext also passes through OpenSSL's record buffer,
 *   which tls.c's contexts cleanse (SSL_OP_CLEANSE_PLAINTEXT); the
 *   underlying buffer of a STARTTLS session holds only ciphertext;
 * - the parsed command, with AUTH's initial response, is wiped after
 *   each line (smtp_cmd_clear), a decoded response when it is sent on
 *   (smtp_auth.c);
 * - not wiped: message bytes after DATA or BDAT (mail, not a secret);
 *   the kernel's socket buffers, out of a process's reach; and the
 *   copies libsecret and authd make of a response (theirs to wipe).
 */
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "err.h"
#include "sbuf.h"
#include "session.h"

#define INPUT_LINE_MAX	SMTP_AUTH_LINE_MAX	/* no end by then: too long */
#define INPUT_AUTH_HEAD	"AUTH "		/* a line of AUTH: its 5.5.6 */

int
input_take(struct evbuffer *in, size_t n, struct sbuf *out)
{
	struct evbuffer_iovec v;
	size_t k;
	int r = SK_OK;

	while (n > 0 && evbuffer_peek(in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		k = v.iov_len < n ? v.iov_len : n;
		if (out != NULL && r == SK_OK)
			r = sbuf_put(out, v.iov_base, k);
		explicit_bzero(v.iov_base, k);
		evbuffer_drain(in, k);
		n -= k;
	}
	return r;
}

int
input_line(struct evbuffer *in, struct sbuf *line)
{
	struct evbuffer_ptr eol;
	size_t eol_len = 0;
	int r;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0)
		return 0;
	if ((size_t)eol.pos > line->max - line->len)
		return -1;
	r = input_take(in, (size_t)eol.pos, line);
	input_take(in, eol_len, NULL);
	if (r != SK_OK || sbuf_terminate(line) != SK_OK) {
		sbuf_reset(line);
		return -2;
	}
	return 1;
}

void
input_drop(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	input_take(in, evbuffer_get_length(in), NULL);
}

/* Whether input may be read now: no command is waiting for its end. */
static int
input_ready(const struct session *s)
{
	return s->state != S_WAIT && s->state != S_QUIT &&
	    s->state != S_STARTTLS && !(s->state == S_AUTH && s->auth_wait);
}

/* A line past every limit: refused, then skipped up to its end. */
static void
input_too_long(struct session *s, struct evbuffer *in)
{
	char head[sizeof(INPUT_AUTH_HEAD) - 1];
	int auth = s->state == S_AUTH;

	if (auth)
		smtp_auth_abort(s);
	else
		auth = evbuffer_copyout(in, head, sizeof(head)) ==
		    (ev_ssize_t)sizeof(head) && strncasecmp(head,
		    INPUT_AUTH_HEAD, sizeof(head)) == 0;
	sess_reply(s, "%s", auth ? REPLY_AUTH_TOO_LONG : REPLY_LINE_TOO_LONG);
	s->state = S_SKIP;
}

/* Drops, wiped, what is left of an over-long line: 1 once its end is. */
static int
input_skip(struct session *s, struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);

	if (p.pos < 0) {
		input_take(in, evbuffer_get_length(in), NULL);
		return 0;
	}
	input_take(in, (size_t)p.pos + 1, NULL);
	s->state = S_CMD;
	return 1;
}

/* No memory for a line, which is lost: the session ends. */
static void
input_no_memory(struct session *s)
{
	if (s->state == S_AUTH)
		smtp_auth_abort(s);
	sess_reply(s, "421 4.3.0 %s Error: out of memory",
	    s->d->conf.host_name);
	s->state = S_QUIT;
}

/*
 * The next line to dispatch.c, or during AUTH to smtp_auth.c: 0 if none is in
 * yet. The parser and smtp_auth.c judge its length: the line may be as long
 * as the buffer, which the read watermark bounds (by one TLS record more
 * on TLS, which reads whole records).
 */
static int
input_next(struct session *s, struct evbuffer *in)
{
	struct sbuf line;
	int r;

	sbuf_init(&line, evbuffer_get_length(in));
	if ((r = input_line(in, &line)) == 1) {
		if (s->state == S_AUTH)
			smtp_auth_line(s, (const char *)line.data, line.len);
		else
			dispatch_line(s, (const char *)line.data, line.len);
	}
	sbuf_free(&line);
	if (r == 1)
		return 1;
	if (r == -2)
		input_no_memory(s);
	else if (r == -1 || evbuffer_get_length(in) >= INPUT_LINE_MAX)
		input_too_long(s, in);	/* no end in sight */
	else
		return 0;	/* no end yet, and the line may be fine */
	return 1;
}

void
input_run(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);

	while (input_ready(s)) {
		if (s->state == S_CMD && s->d->stopping) {
			/* between commands, and smtpd stops: RFC 5321 §3.8 */
			sess_reply(s, "421 4.3.2 %s Service shutting down",
			    s->d->conf.host_name);
			s->state = S_QUIT;
		} else if (s->state == S_DATA || s->state == S_BDAT) {
			msg_body(s, in);
			if (s->state == S_DATA || s->state == S_BDAT)
				return;		/* more to come */
		} else if (s->state == S_SKIP) {
			if (!input_skip(s, in))
				return;
		} else if (!input_next(s, in))
			return;
	}
	if (s->state == S_QUIT)
		bufferevent_disable(s->bev, EV_READ);
}
