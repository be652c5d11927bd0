/*
 * mux_proto.c: the saslauthd request and reply (see mux_proto.h).
 * Reads only within the given length; the password goes straight into
 * the request's wiping buffer.
 */
#include <string.h>

#include "err.h"
#include "mux_proto.h"

void
mux_request_init(struct mux_request *req)
{
	memset(req, 0, sizeof(*req));
	sbuf_init(&req->password, MUX_FIELD_MAX + 1);
}

void
mux_request_clear(struct mux_request *req)
{
	sbuf_free(&req->password);
	explicit_bzero(req, sizeof(*req));
	sbuf_init(&req->password, MUX_FIELD_MAX + 1);
}

/* Reads one counted string; out (size MUX_FIELD_MAX + 1) or pw gets it. */
static int
mux_get(struct sbuf *in, char *out, struct sbuf *pw)
{
	uint16_t n;
	int r;

	if ((r = sbuf_get_u16be(in, &n)) != SK_OK)
		return r;
	if (n > MUX_FIELD_MAX)
		return SK_ERR_LIMIT;
	if (sbuf_avail(in) < n)
		return SK_ERR_SHORT;
	if (memchr(sbuf_ptr(in), '\0', n) != NULL)
		return SK_ERR_FORMAT;
	if (pw != NULL) {
		if ((r = sbuf_put(pw, sbuf_ptr(in), n)) != SK_OK ||
		    (r = sbuf_terminate(pw)) != SK_OK)
			return r;
	} else {
		memcpy(out, sbuf_ptr(in), n);
		out[n] = '\0';
	}
	return sbuf_skip(in, n);
}

int
mux_parse_request(const void *buf, size_t len, struct mux_request *req,
    size_t *used)
{
	struct sbuf in;
	int r;

	mux_request_clear(req);
	sbuf_view(&in, buf, len);
	if ((r = mux_get(&in, req->login, NULL)) != SK_OK ||
	    (r = mux_get(&in, NULL, &req->password)) != SK_OK ||
	    (r = mux_get(&in, req->service, NULL)) != SK_OK ||
	    (r = mux_get(&in, req->realm, NULL)) != SK_OK) {
		mux_request_clear(req);
		return r;
	}
	if (req->login[0] == '\0') {
		mux_request_clear(req);
		return SK_ERR_FORMAT;
	}
	*used = in.off;
	return SK_OK;
}

/* Appends one counted string. */
static int
mux_put(struct sbuf *out, const void *p, size_t n)
{
	int r;

	if (n > MUX_FIELD_MAX)
		return SK_ERR_LIMIT;
	if ((r = sbuf_put_u16be(out, (uint16_t)n)) != SK_OK)
		return r;
	return sbuf_put(out, p, n);
}

int
mux_build_request(struct sbuf *out, const char *login, const char *password,
    const char *service, const char *realm)
{
	int r;

	if ((r = mux_put(out, login, strlen(login))) != SK_OK ||
	    (r = mux_put(out, password, strlen(password))) != SK_OK ||
	    (r = mux_put(out, service, strlen(service))) != SK_OK)
		return r;
	return mux_put(out, realm, strlen(realm));
}

int
mux_build_reply(struct sbuf *out, int ok, const char *reason)
{
	char msg[MUX_REPLY_MAX];
	size_t n, k = strlen(MUX_REPLY_NO) + 1;

	if (ok)
		return mux_put(out, MUX_REPLY_OK, strlen(MUX_REPLY_OK));
	/* the reason, cut to fit: as saslauthd, no more than 256 bytes */
	n = strlen(reason);
	if (n > sizeof(msg) - 2 - k)
		n = sizeof(msg) - 2 - k;
	memcpy(msg, MUX_REPLY_NO, k - 1);
	msg[k - 1] = ' ';
	memcpy(msg + k, reason, n);
	return mux_put(out, msg, n + k);
}
