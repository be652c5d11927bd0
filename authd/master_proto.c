/*
 * master_proto.c: the codec of the master socket's REQUEST line
 * (master_proto.h). Reads only through line.h's bounded fields; never
 * logs, never allocates.
 */
#include <string.h>

#include "err.h"
#include "master_proto.h"
#include "pwscheme.h"

/* A pid or id field: a 32-bit decimal; a pid (nonzero) must not be 0. */
static int
master_num(const char *s, int nonzero, unsigned long *out)
{
	if (line_id(s, out) == -1 || (nonzero && *out == 0))
		return SK_ERR_FORMAT;
	return SK_OK;
}

int
master_parse_request(const struct line_fields *lf, struct master_request *out)
{
	const char *cookie = line_str(lf, 4), *v;
	size_t vlen;

	memset(out, 0, sizeof(*out));
	if (lf->n < 5 || master_num(line_str(lf, 1), 0, &out->id) != SK_OK ||
	    master_num(line_str(lf, 2), 1, &out->client_pid) != SK_OK ||
	    master_num(line_str(lf, 3), 0, &out->client_id) != SK_OK ||
	    cookie == NULL || pwscheme_unhex(cookie, lf->len[4], out->cookie,
	    sizeof(out->cookie)) != SK_OK)
		goto bad;
	if (line_param(lf, 5, MASTER_KEY_SESSION_PID, &v, &vlen) &&
	    (strlen(v) != vlen || master_num(v, 1, &out->session_pid) != SK_OK))
		goto bad;
	out->auth_token = line_param(lf, 5, MASTER_KEY_AUTH_TOKEN, &v, NULL);
	return SK_OK;
bad:
	explicit_bzero(out, sizeof(*out));
	return SK_ERR_FORMAT;
}

int
master_build_request(struct sbuf *out, const struct master_request *q)
{
	char hex[2 * MASTER_PROTO_COOKIE_LEN + 1];
	int r;

	pwscheme_hex(q->cookie, sizeof(q->cookie), hex);
	if ((r = line_put_cmd(out, MASTER_CMD_REQUEST)) != SK_OK ||
	    (r = line_put_id(out, q->id)) != SK_OK ||
	    (r = line_put_id(out, q->client_pid)) != SK_OK ||
	    (r = line_put_id(out, q->client_id)) != SK_OK ||
	    (r = line_put_str(out, hex)) != SK_OK ||
	    (q->session_pid != 0 && (r = line_put_kv_uint(out,
	    MASTER_KEY_SESSION_PID, q->session_pid)) != SK_OK) ||
	    (q->auth_token && (r = line_put_str(out,
	    MASTER_KEY_AUTH_TOKEN)) != SK_OK))
		return r;
	return line_end(out);
}
