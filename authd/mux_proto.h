/*
 * mux_proto.h: the saslauthd "mux" protocol, as Cyrus's saslauthd speaks
 * it on its UNIX socket (saslauthd/ipc_unix.c):
 *
 *   request: login, password, service, realm, each a big-endian uint16
 *            length and that many bytes
 *   reply:   one such counted string, "OK" or "NO <reason>"
 *
 * Clients: Cyrus-linked programs with pwcheck_method: saslauthd, and
 * testsaslauthd -f SOCKET. The password is a secret: it lives only in the
 * request's wiping buffer. This header is the only place that spells the
 * protocol's replies and limits.
 */
#ifndef AUTHD_MUX_PROTO_H
#define AUTHD_MUX_PROTO_H

#include <stddef.h>

#include "sbuf.h"

#define MUX_FIELD_MAX	256	/* as saslauthd's MAX_REQ_LEN for each string */
#define MUX_REQUEST_MAX	(4 * (2 + MUX_FIELD_MAX))
#define MUX_REPLY_MAX	(2 + 256)

#define MUX_REPLY_OK	"OK"
#define MUX_REPLY_NO	"NO"	/* then a space and the reason */

struct mux_request {
	char login[MUX_FIELD_MAX + 1];
	char service[MUX_FIELD_MAX + 1];
	char realm[MUX_FIELD_MAX + 1];
	struct sbuf password;	/* wiping, NUL-terminated */
};

void mux_request_init(struct mux_request *req);
void mux_request_clear(struct mux_request *req);
/*
 * Parses one request from the first len bytes of buf. SK_ERR_SHORT when
 * more bytes are needed; SK_ERR_LIMIT for a string over MUX_FIELD_MAX;
 * SK_ERR_FORMAT for a NUL inside a string or an empty login. On SK_OK,
 * *used is the request's size.
 */
int mux_parse_request(const void *buf, size_t len, struct mux_request *req,
    size_t *used);
/* Builds a request (the client side, for tests and tools). */
int mux_build_request(struct sbuf *out, const char *login, const char *password,
    const char *service, const char *realm);
/* Builds the reply: "OK", or "NO " and a reason (cut to fit). */
int mux_build_reply(struct sbuf *out, int ok, const char *reason);

#endif
