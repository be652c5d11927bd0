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

#endif
