/*
 * internal.h: what libsecret's files share. Nothing here is exported: the
 * library is built with hidden visibility and a version script, so only
 * the sksecret_* names of <saslkit/secret.h> leave it.
 */
#ifndef LIBSECRET_INTERNAL_H
#define LIBSECRET_INTERNAL_H

#include <stddef.h>

#include <saslkit/secret.h>
#include "sbuf.h"

#define SKS_API __attribute__((visibility("default")))

/* An auth connection on a connected socket (sksecret_auth_open, fuzzing). */
struct sksecret_auth;
int sks_auth_from_fd(int fd, struct sksecret_auth **out);
/* An admin connection on a connected socket, after the VERSION exchange. */
struct sksecret_admin;
int sks_admin_from_fd(int fd, int timeout_ms, struct sksecret_admin **out);
/* Connects a blocking UNIX stream socket; an SKSECRET_ERR_* code or fd. */
int sks_connect(const char *path);
/* Maps errno after a failed connect or I/O. */
int sks_errno_err(int e);
/*
 * Takes one complete line out of in: *line points into in's data (LF
 * replaced by NUL, one byte past the line stays writable), *len its
 * length. 1 when a line was taken, 0 when none is complete yet,
 * SKSECRET_ERR_PROTO when a line, LF included, is longer than max (the
 * protocol's line limit), or an incomplete one already is.
 */
int sks_take_line(struct sbuf *in, size_t *start, size_t max, char **line,
    size_t *len);
/* Drops the consumed bytes [0, start) of in. */
void sks_compact(struct sbuf *in, size_t *start);

/* A blocking stream of lines (stream.c), for the admin and agent clients. */
struct sks_stream {
	int fd;
	int timeout_ms;		/* per line; < 0: no limit */
	size_t max_line;	/* the protocol's limit, LF included */
	struct sbuf in;		/* wiping */
	size_t in_start;
};
void sks_stream_init(struct sks_stream *s, int fd, int timeout_ms,
    size_t max_line);
/* Closes the socket and wipes the input. */
void sks_stream_close(struct sks_stream *s);
/* Sends whole lines; SKSECRET_ERR_CLOSED when the peer went. */
int sks_stream_send(struct sks_stream *s, const struct sbuf *b);
/*
 * The next line (as sks_take_line gives it), waiting at most the
 * timeout: SKSECRET_ERR_TIMEOUT, _CLOSED or _PROTO otherwise.
 */
int sks_stream_read_line(struct sks_stream *s, char **line, size_t *len);

/*
 * An agent exchange on a blocking stream (agent.c), for the auth socket's
 * handle and the admin socket's: the handle lends its stream, its dead
 * flag, its request ids and its reason buffer.
 */
struct sks_agent_core {
	struct sks_stream *st;
	int *dead;
	unsigned long *next_id;
	char *reason;
	size_t reasonsz;
	unsigned long cur;	/* the open exchange's id, or 0 */
	struct sbuf resp;	/* the last response: wiping */
};
void sks_agent_core_init(struct sks_agent_core *k, struct sks_stream *st,
    int *dead, unsigned long *next_id, char *reason, size_t reasonsz);
void sks_agent_core_free(struct sks_agent_core *k);
int sks_agent_core_start(struct sks_agent_core *k, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags);
int sks_agent_core_step(struct sks_agent_core *k, const void *challenge,
    size_t len, const unsigned char **resp, size_t *resplen, int *flags);
/* Ends the open exchange, if any, and reads authd's answer to that. */
int sks_agent_core_cancel(struct sks_agent_core *k);

#endif
