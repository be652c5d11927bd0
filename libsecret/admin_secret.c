/*
 * admin_secret.c: libsecret's requests for authd's secret store over the
 * admin socket (SECRET-* in admin_proto.h), and the SECRET lines of their
 * replies. A password is put only into wiping buffers; an exported one is
 * handed to the caller's function from the line buffer, which is wiped
 * after. Must never log, exit or raise SIGPIPE.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_proto.h"
#include "err.h"
#include "internal.h"
#include "line.h"
#include "sks_admin.h"

/* The fields of an entry, by their parameter names. */
static const struct {
	const char *key;
	size_t off;
} sks_secret_fields[] = {
	{ ADMIN_SECRET_U, offsetof(struct sksecret_entry, authzid) },
	{ ADMIN_SECRET_I, offsetof(struct sksecret_entry, authid) },
	{ ADMIN_SECRET_P, offsetof(struct sksecret_entry, password) },
	{ ADMIN_SECRET_R, offsetof(struct sksecret_entry, realm) },
	{ ADMIN_SECRET_M, offsetof(struct sksecret_entry, mechs) },
	{ ADMIN_SECRET_L, offsetof(struct sksecret_entry, label) },
};
#define SKS_NFIELDS	(sizeof(sks_secret_fields) / sizeof(sks_secret_fields[0]))

/* The string field at off in e. */
static const char **
sks_field(struct sksecret_entry *e, size_t off)
{
	return (const char **)(void *)((char *)e + off);
}

void
sks_admin_secret_line(struct sks_admin_ctx *x, const struct line_fields *lf)
{
	struct sksecret_entry e;
	const char *v;
	size_t i;

	memset(&e, 0, sizeof(e));
	e.name = lf->f[2];
	for (i = 0; i < SKS_NFIELDS; i++)
		if (line_param(lf, 3, sks_secret_fields[i].key, &v, NULL))
			*sks_field(&e, sks_secret_fields[i].off) = v;
	e.grants = line_param(lf, 3, ADMIN_KEY_GRANTS, &v, NULL) ? v : "";
	e.has_password = line_param(lf, 3, ADMIN_KEY_PASSWORD, &v, NULL) &&
	    strcmp(v, "yes") == 0;
	if (line_param(lf, 3, ADMIN_KEY_KEY, &v, NULL))
		e.key_id = (unsigned)strtoul(v, NULL, 10);
	if (x->entry_fn(&e, x->arg) != 0)
		x->stopped = 1;
}

SKS_API int
sksecret_admin_secret_set(struct sksecret_admin *ad,
    const struct sksecret_entry *e, int mode)
{
	static const char *const cmds[] = { ADMIN_CMD_SECRET_ADD,
	    ADMIN_CMD_SECRET_CHANGE, ADMIN_CMD_SECRET_SET };
	struct sksecret_entry c;
	struct sbuf a;
	size_t i;
	int r;

	if (e == NULL || e->name == NULL || e->name[0] == '\0' || mode < 0 ||
	    mode > SKSECRET_SET_REPLACE)
		return SKSECRET_ERR_INVAL;
	c = *e;
	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);	/* wiped when freed */
	r = line_put_str(&a, c.name) == SK_OK ? SKSECRET_OK :
	    SKSECRET_ERR_LIMIT;
	for (i = 0; i < SKS_NFIELDS && r == SKSECRET_OK; i++) {
		const char *v = *sks_field(&c, sks_secret_fields[i].off);

		if (v != NULL && line_put_kv_str(&a, sks_secret_fields[i].key,
		    v) != SK_OK)
			r = SKSECRET_ERR_LIMIT;
	}
	if (r == SKSECRET_OK)
		r = sks_admin_request(ad, cmds[mode], &a, NULL);
	sbuf_free(&a);
	return r;
}

/* A request whose fields are a few strings, the first one required. */
static int
sks_secret_req(struct sksecret_admin *ad, const char *cmd,
    const char *const *args, size_t n, struct sks_admin_ctx *x)
{
	struct sbuf a;
	size_t i;
	int r = SKSECRET_OK;

	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);
	for (i = 0; i < n && r == SKSECRET_OK; i++)
		if (args[i] == NULL || args[i][0] == '\0')
			r = SKSECRET_ERR_INVAL;
		else if (line_put_str(&a, args[i]) != SK_OK)
			r = SKSECRET_ERR_LIMIT;
	if (r == SKSECRET_OK)
		r = sks_admin_request(ad, cmd, &a, x);
	sbuf_free(&a);
	return r;
}

SKS_API int
sksecret_admin_secret_delete(struct sksecret_admin *ad, const char *name)
{
	return sks_secret_req(ad, ADMIN_CMD_SECRET_DELETE, &name, 1, NULL);
}

SKS_API int
sksecret_admin_secret_grant(struct sksecret_admin *ad, const char *name,
    int group, const char *who, const char *right)
{
	const char *args[4] = { name, group ? ADMIN_GRANTEE_GROUP :
	    ADMIN_GRANTEE_USER, who, right };

	return sks_secret_req(ad, ADMIN_CMD_SECRET_GRANT, args, 4, NULL);
}

SKS_API int
sksecret_admin_secret_list(struct sksecret_admin *ad, const char *name,
    sksecret_entry_fn *fn, void *arg, unsigned long *count)
{
	struct sks_admin_ctx x = { .entry_fn = fn, .arg = arg };
	int r;

	if (fn == NULL)
		return SKSECRET_ERR_INVAL;
	r = sks_secret_req(ad, ADMIN_CMD_SECRET_LIST, &name, name != NULL,
	    &x);
	if (r == SKSECRET_OK && count != NULL)
		*count = x.count;
	return r;
}

SKS_API int
sksecret_admin_secret_export(struct sksecret_admin *ad,
    sksecret_entry_fn *fn, void *arg, unsigned long *count)
{
	struct sks_admin_ctx x = { .entry_fn = fn, .arg = arg };
	int r;

	if (fn == NULL)
		return SKSECRET_ERR_INVAL;
	r = sks_admin_request(ad, ADMIN_CMD_SECRET_EXPORT, NULL, &x);
	if (r == SKSECRET_OK && count != NULL)
		*count = x.count;
	return r;
}

SKS_API int
sksecret_admin_secret_rekey(struct sksecret_admin *ad, unsigned long *count,
    unsigned *key_id)
{
	struct sks_admin_ctx x = { .arg = NULL };
	int r;

	r = sks_admin_request(ad, ADMIN_CMD_SECRET_REKEY, NULL, &x);
	if (r == SKSECRET_OK && count != NULL)
		*count = x.count;
	if (r == SKSECRET_OK && key_id != NULL)
		*key_id = (unsigned)x.key;
	return r;
}
