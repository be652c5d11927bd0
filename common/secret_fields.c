/*
 * secret_fields.c: the fields of a secret-store entry (secret_text.h) as
 * the admin protocol and the CLI carry them: each checked on its own, and
 * a whole set filled from strings. Never logs; a password is copied only
 * into the fields' wiping buffer.
 */
#include <string.h>

#include "err.h"
#include "secret_fields.h"

/* No control character, and within max bytes. */
static int
field_text_ok(const char *v, size_t max)
{
	size_t i, n = strlen(v);

	if (n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return 1;
}

int
secret_field_check(unsigned flag, const char *v)
{
	char mechs[SECRET_MECHS_MAX + 1];

	switch (flag) {
	case SECRET_F_U:
	case SECRET_F_I:
	case SECRET_F_R:
		return field_text_ok(v, SECRET_ID_MAX) ? SK_OK : SK_ERR_INVAL;
	case SECRET_F_L:
		return field_text_ok(v, SECRET_LABEL_MAX) ? SK_OK : SK_ERR_INVAL;
	case SECRET_F_M:
		return *v == '\0' || secret_mechs_norm(v, strlen(v), mechs,
		    sizeof(mechs)) == SK_OK ? SK_OK : SK_ERR_INVAL;
	}
	return SK_ERR_INVAL;
}

/* Copies v into dst (dstsz) and marks flag, after the field's check. */
static int
field_put(struct secret_fields *f, unsigned flag, const char *v, char *dst,
    size_t dstsz)
{
	if (v == NULL)
		return SK_OK;
	if (secret_field_check(flag, v) != SK_OK || strlen(v) >= dstsz)
		return SK_ERR_INVAL;
	if (flag == SECRET_F_M && *v != '\0')
		return secret_mechs_norm(v, strlen(v), dst, dstsz) == SK_OK ?
		    (f->set |= flag, SK_OK) : SK_ERR_INVAL;
	strcpy(dst, v);
	f->set |= flag;
	return SK_OK;
}

int
secret_fields_from(struct secret_fields *f, const char *name,
    const char *authzid, const char *authid, const char *pass,
    const char *realm, const char *mechs, const char *label)
{
	if (secret_name_norm(name, f->name, sizeof(f->name)) != SK_OK ||
	    field_put(f, SECRET_F_U, authzid, f->authzid,
	    sizeof(f->authzid)) != SK_OK ||
	    field_put(f, SECRET_F_I, authid, f->authid, sizeof(f->authid)) !=
	    SK_OK ||
	    field_put(f, SECRET_F_R, realm, f->realm, sizeof(f->realm)) !=
	    SK_OK ||
	    field_put(f, SECRET_F_M, mechs, f->mechs, sizeof(f->mechs)) !=
	    SK_OK ||
	    field_put(f, SECRET_F_L, label, f->label, sizeof(f->label)) != SK_OK)
		return SK_ERR_INVAL;
	if (pass == NULL)
		return SK_OK;
	if (strlen(pass) > SECRET_PASS_MAX)
		return SK_ERR_LIMIT;
	sbuf_reset(&f->pass);
	if (sbuf_put(&f->pass, pass, strlen(pass)) != SK_OK ||
	    sbuf_terminate(&f->pass) != SK_OK)
		return SK_ERR_NOMEM;
	f->set |= SECRET_F_P;
	return SK_OK;
}
