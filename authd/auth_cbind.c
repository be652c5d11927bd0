/*
 * auth_cbind.c: channel binding of a -PLUS exchange on the auth socket,
 * as Dovecot's protocol has it from minor 3: the client's GS2 header
 * names the type, authd asks for it with its next CONT, and the client's
 * answer carries the data, which libsasl2 checks at the last step. The
 * data is wiped with the exchange. A -PLUS exchange that cannot bind
 * fails like a wrong password: never silently without the binding.
 */
#include <ctype.h>
#include <string.h>

#include "auth_conn.h"
#include "b64.h"
#include "err.h"

#define AUTH_GS2_CBIND	"p="	/* a GS2 header that names a type */

/* Whether c may appear in a channel-binding type's name (RFC 5056). */
static int
auth_cbind_name_char(unsigned char c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '-');
}

/*
 * A -PLUS exchange: the client's first message must open with the GS2
 * header "p=<type>," (RFC 5802 §7). The type is asked back with the next
 * CONT, as Dovecot does; the data comes with the client's answer. 0 when
 * the header is fine or the message has not come yet.
 */
int
auth_cbind_begin(struct auth_req *r)
{
	const unsigned char *p = r->in.data;
	size_t i, n = r->in.len, k = strlen(AUTH_GS2_CBIND);

	if (!r->plus || r->cb_name[0] != '\0' || !r->has_in || n == 0)
		return 0;
	/* "p=", a name of at least a byte, then "," */
	if (n < k + 2 || memcmp(p, AUTH_GS2_CBIND, k) != 0)
		return -1;
	for (i = k; i < n && p[i] != ','; i++)
		if (i - k >= AUTH_PROTO_CBIND_NAME_MAX ||
		    !auth_cbind_name_char(p[i]))
			return -1;
	if (i == n || i == k)
		return -1;
	memcpy(r->cb_name, p + k, i - k);
	r->cb_name[i - k] = '\0';
	r->cb.name = r->cb_name;
	r->cb.critical = 1;
	r->cb.len = 0;
	r->cb.data = r->cb_data;
	authsasl_cbind(&r->sasl, &r->cb);
	return 0;
}

/* Takes channel_binding=<b64> from the client's answer to our ask. */
int
auth_cbind_data(struct auth_req *r, const struct line_fields *lf)
{
	const char *v;
	size_t vlen, n;

	if (!r->cb_asked || r->cb_given)
		return 0;
	if (!line_param(lf, 3, AUTH_KEY_CBIND, &v, &vlen) ||
	    vlen > b64_encoded_len(AUTH_PROTO_CBIND_MAX) ||
	    b64_decode(v, vlen, r->cb_data, sizeof(r->cb_data), &n) != SK_OK ||
	    n == 0)
		return -1;
	r->cb.len = (unsigned)n;
	r->cb_given = 1;
	return 0;
}

/*
 * A -PLUS exchange without a usable binding: a failed attempt, logged and
 * penalised like a wrong password, since the client may be a downgrade.
 */
int
auth_cbind_fail(struct auth_req *r)
{
	struct lconn *c = r->ac->c;
	struct authd *a = c->a;

	a->stats.auth_fail++;
	stats_mech(a, r->mech, 0);
	penalty_fail(a->penalty, r->rip);
	auth_log(r, SK_ERR_MISMATCH);
	auth_reply(c, AUTH_CMD_FAIL, r->id, AUTH_KEY_REASON,
	    "channel binding failed", NULL, NULL);
	auth_req_free(r);
	return 0;
}
