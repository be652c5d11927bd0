/*
 * netstring.h: the socketmap wire format that sendmail 8.13+ (K name
 * socket unix:PATH) and Postfix (socketmap:unix:PATH:name) speak.
 *
 * A message is a netstring, "<decimal length>:<bytes>,". A request's bytes
 * are "name SP key"; a reply's are "OK SP value", "NOTFOUND SP",
 * "TEMP SP reason", "PERM SP reason" or "TIMEOUT SP reason". Postfix sends
 * several requests on one connection, sendmail one per connection, so the
 * decoder works on whatever a read(2) gave and says when it needs more.
 *
 * Pure byte work: never allocates but through struct sbuf, never logs.
 */
#ifndef SK_NETSTRING_H
#define SK_NETSTRING_H

#include <stddef.h>

#include "sbuf.h"

/*
 * A request is a map name, a space and a key (a host name, or a sender
 * address for Postfix's sender-dependent maps): 1024 bytes is plenty.
 */
#define SOCKETMAP_REQUEST_MAX	1024
/* Postfix's socketmap client refuses replies longer than this. */
#define SOCKETMAP_REPLY_MAX	100000
/* A map name: [A-Za-z0-9_-], 1 to 64 of them. */
#define SOCKETMAP_MAPNAME_MAX	64
/* A netstring's overhead: the length's digits (SIZE_MAX's 20), ':' and ','. */
#define NETSTRING_OVERHEAD	22

/* The five reply statuses, in the words the protocol spells. */
enum socketmap_status {
	SOCKETMAP_OK,
	SOCKETMAP_NOTFOUND,
	SOCKETMAP_TEMP,
	SOCKETMAP_PERM,
	SOCKETMAP_TIMEOUT,
};

/*
 * Decodes the netstring at the start of the len bytes at buf, declared
 * length at most max. SK_OK: *payload and *plen give its bytes (inside
 * buf, which may hold a NUL), *used the bytes it took, ',' included, so
 * the next one starts at buf + *used. SK_ERR_SHORT: read more and call
 * again with the longer buffer. SK_ERR_LIMIT: the length's digits exceed
 * max (known before the data arrives). SK_ERR_FORMAT: a non-digit, a
 * leading zero other than "0:", no ':' after the digits or no ',' after
 * the data. The out parameters are set only on SK_OK.
 */
int netstring_decode(const void *buf, size_t len, size_t max,
    const unsigned char **payload, size_t *plen, size_t *used);
/*
 * Appends the n bytes at p to out as one netstring. SK_ERR_LIMIT (out
 * unchanged) when out's bound would be passed.
 */
int netstring_encode(struct sbuf *out, const void *p, size_t n);

/*
 * Splits a request's payload at its first space: the map name is copied,
 * NUL-terminated, to name (SOCKETMAP_MAPNAME_MAX + 1 bytes); *key and
 * *keylen point at the rest of the payload, which may be empty.
 * SK_ERR_FORMAT for no space, a map name that is not [A-Za-z0-9_-]{1,64},
 * or a NUL anywhere; then nothing is written.
 */
int socketmap_request_split(const unsigned char *payload, size_t len,
    char *name, const unsigned char **key, size_t *keylen);
/* The protocol's word for a status ("OK", "NOTFOUND", ...). */
const char *socketmap_status_word(enum socketmap_status st);
/*
 * Appends one reply netstring, "WORD SP" then the n bytes at p (NULL
 * when n is 0), to out. A value goes into a wiping sbuf when it is a
 * secret. SK_ERR_LIMIT (out unchanged) past out's bound or
 * SOCKETMAP_REPLY_MAX; SK_ERR_INVAL for an unknown status.
 */
int socketmap_reply_put(struct sbuf *out, enum socketmap_status st,
    const void *p, size_t n);
/*
 * Parses a reply's payload: *st gets the status, *value and *vlen the
 * bytes after the first space (empty for a bare "NOTFOUND").
 * SK_ERR_FORMAT for an unknown status word or one with no space after it
 * (but "NOTFOUND", which sendmail accepts bare).
 */
int socketmap_reply_parse(const unsigned char *payload, size_t len,
    enum socketmap_status *st, const unsigned char **value, size_t *vlen);

#endif
