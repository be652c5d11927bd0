/*
 * admin_cmds.c: the requests of libsecret's admin client, one function
 * each (SETPASS, DELETE, DISABLE, ENABLE, SHOW, LIST, IMPORT, REWRITE,
 * RELOAD, STATS), on admin.c's request. A password is put only into
 * wiping buffers. Must never log, exit or raise SIGPIPE.
 */
#include <string.h>

#include "admin_proto.h"
#include "err.h"
#include "internal.h"
#include "line.h"
#include "sks_admin.h"

/* Room in a line for the command, the id and the LF around IMPORT's records */
#define SKS_ADMIN_HEAD	(sizeof(ADMIN_CMD_IMPORT) + LINE_NUM_MAX + 2)

/* A request with one user argument. */
static int
sks_admin_user_req(struct sksecret_admin *ad, const char *cmd, const char *user,
    struct sks_admin_ctx *x)
{
	struct sbuf a;
	int r;

	if (user == NULL || user[0] == '\0')
		return SKSECRET_ERR_INVAL;
	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);
	r = line_put_str(&a, user) == SK_OK ? sks_admin_request(ad, cmd, &a, x) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&a);
	return r;
}

SKS_API int
sksecret_admin_setpass(struct sksecret_admin *ad, const char *user,
    const char *password, int plaintext)
{
	struct sbuf a;
	int r;

	if (user == NULL || user[0] == '\0' || password == NULL ||
	    password[0] == '\0' || plaintext < SKSECRET_PLAINTEXT_KEEP ||
	    plaintext > SKSECRET_PLAINTEXT_NO)
		return SKSECRET_ERR_INVAL;
	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);	/* wiped when freed */
	r = line_put_str(&a, user) == SK_OK &&
	    line_put_str(&a, password) == SK_OK &&
	    (plaintext == SKSECRET_PLAINTEXT_KEEP || line_put_str(&a,
	    plaintext == SKSECRET_PLAINTEXT_YES ? ADMIN_OPT_PLAINTEXT :
	    ADMIN_OPT_NOPLAINTEXT) == SK_OK) ?
	    sks_admin_request(ad, ADMIN_CMD_SETPASS, &a, NULL) :
	    SKSECRET_ERR_LIMIT;
	sbuf_free(&a);
	return r;
}

SKS_API int
sksecret_admin_delete(struct sksecret_admin *ad, const char *user)
{
	return sks_admin_user_req(ad, ADMIN_CMD_DELETE, user, NULL);
}

SKS_API int
sksecret_admin_disable(struct sksecret_admin *ad, const char *user)
{
	return sks_admin_user_req(ad, ADMIN_CMD_DISABLE, user, NULL);
}

SKS_API int
sksecret_admin_enable(struct sksecret_admin *ad, const char *user)
{
	return sks_admin_user_req(ad, ADMIN_CMD_ENABLE, user, NULL);
}

SKS_API int
sksecret_admin_show(struct sksecret_admin *ad, const char *user,
    sksecret_user_fn *fn, void *arg)
{
	struct sks_admin_ctx x = { .user_fn = fn, .arg = arg };

	return sks_admin_user_req(ad, ADMIN_CMD_SHOW, user, &x);
}

SKS_API int
sksecret_admin_list(struct sksecret_admin *ad, int with_props,
    sksecret_user_fn *fn, void *arg, unsigned long *count)
{
	struct sks_admin_ctx x = { .user_fn = fn, .arg = arg };
	struct sbuf a;
	int r;

	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);
	r = !with_props || line_put_str(&a, ADMIN_KEY_PROPS) == SK_OK ?
	    sks_admin_request(ad, ADMIN_CMD_LIST, &a, &x) : SKSECRET_ERR_NOMEM;
	sbuf_free(&a);
	if (r == SKSECRET_OK && count != NULL)
		*count = x.count;
	return r;
}

/* Puts as many records from *i on as fit one line on a, moving *i on. */
static int
sks_admin_batch(const char *const *records, size_t n, size_t *i,
    struct sbuf *a)
{
	size_t fields, before;

	sbuf_reset(a);
	for (fields = 0; *i < n && fields < LINE_FIELDS_MAX - 2;
	    fields++, (*i)++) {
		if (records[*i] == NULL)
			return SKSECRET_ERR_INVAL;
		before = a->len;
		if (line_put_str(a, records[*i]) != SK_OK) {
			a->len = before;
			return fields == 0 ? SKSECRET_ERR_LIMIT : SKSECRET_OK;
		}
	}
	return SKSECRET_OK;
}

SKS_API int
sksecret_admin_import(struct sksecret_admin *ad, const char *const *records,
    size_t n, unsigned long *done, unsigned long *missing)
{
	struct sks_admin_ctx x;
	struct sbuf a;
	size_t i = 0;
	unsigned long d = 0, m = 0;
	int r = SKSECRET_OK;

	if (ad == NULL || (records == NULL && n > 0))
		return SKSECRET_ERR_INVAL;
	/* wiped: passwords */
	sbuf_init(&a, ADMIN_PROTO_LINE_MAX - SKS_ADMIN_HEAD);
	while (r == SKSECRET_OK && i < n) {
		if ((r = sks_admin_batch(records, n, &i, &a)) != SKSECRET_OK)
			break;
		memset(&x, 0, sizeof(x));
		if ((r = sks_admin_request(ad, ADMIN_CMD_IMPORT, &a, &x)) ==
		    SKSECRET_OK) {
			d += x.count;
			m += x.missing;
		}
	}
	sbuf_free(&a);
	if (done != NULL)
		*done = d;
	if (missing != NULL)
		*missing = m;
	return r;
}

SKS_API int
sksecret_admin_rewrite(struct sksecret_admin *ad)
{
	return sks_admin_request(ad, ADMIN_CMD_REWRITE, NULL, NULL);
}

SKS_API int
sksecret_admin_reload(struct sksecret_admin *ad)
{
	return sks_admin_request(ad, ADMIN_CMD_RELOAD, NULL, NULL);
}

SKS_API int
sksecret_admin_stats(struct sksecret_admin *ad, sksecret_stat_fn *fn,
    void *arg)
{
	struct sks_admin_ctx x = { .stat_fn = fn, .arg = arg };

	if (fn == NULL)
		return SKSECRET_ERR_INVAL;
	return sks_admin_request(ad, ADMIN_CMD_STATS, NULL, &x);
}
